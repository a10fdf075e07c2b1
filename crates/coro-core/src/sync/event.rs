//! [`Event`]: gevent's `Event`, a flag tasks can wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::waiters::{WaitList, WakeList};
use crate::coop;
use crate::loom::{const_unless_loom, AtomicBool, Ordering};
use crate::sync::spin::SpinLock;

/// A flag that tasks wait for: gevent's `Event`.
///
/// [`set`](Event::set) raises the flag and wakes *every* waiting task;
/// while it is raised [`wait`](Event::wait) returns at once;
/// [`clear`](Event::clear) lowers it again. An `Event` is `Sync`: share it
/// by reference, or in an `Arc` between spawned tasks.
///
/// A task woken by `set` returns from `wait` even if the flag was cleared
/// again before it ran (it was set while the task waited), as in gevent.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use coro_core::sync::Event;
///
/// coro_core::block_on(async {
///     let ready = Arc::new(Event::new());
///     let waiters: Vec<_> = (0..3)
///         .map(|i| {
///             let ready = ready.clone();
///             coro_core::spawn(async move {
///                 ready.wait().await; // all three wait here...
///                 i
///             })
///         })
///         .collect();
///     coro_core::task::yield_now().await;
///     ready.set(); // ...and all three wake
///     let mut done = Vec::new();
///     for waiter in waiters {
///         done.push(waiter.await.unwrap());
///     }
///     assert_eq!(done, [0, 1, 2]);
/// });
/// ```
pub struct Event {
    /// Mirrors the flag for lock-free reads; written under the lock.
    flag: AtomicBool,
    waiters: SpinLock<WaitList<()>>,
}

impl Event {
    const_unless_loom! {
        /// Creates an event whose flag is not set. `const`, so an `Event`
        /// can be a `static`.
        ///
        /// # Examples
        ///
        /// ```
        /// static SHUTDOWN: coro_core::sync::Event = coro_core::sync::Event::new();
        /// assert!(!SHUTDOWN.is_set());
        /// ```
        pub fn new() -> Self {
            Event {
                flag: AtomicBool::new(false),
                waiters: SpinLock::new(WaitList::new()),
            }
        }
    }

    /// Sets the flag and wakes every task waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = coro_core::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// coro_core::block_on(event.wait()); // returns at once
    /// ```
    pub fn set(&self) {
        if self.flag.load(Ordering::Acquire) {
            return; // waiters only queue while the flag is down
        }
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.flag.store(true, Ordering::Release);
            waiters.drain(&mut wakers);
        }
        wakers.wake_all();
    }

    /// Lowers the flag: later calls to [`wait`](Self::wait) wait again.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = coro_core::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        // Under the lock, so that a `wait` that saw the flag down queues
        // before a concurrent `set` drains the queue.
        let _waiters = self.waiters.lock();
        self.flag.store(false, Ordering::Release);
    }

    /// `true` while the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = coro_core::sync::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// The future is cancel-safe: dropping it just stops waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::sync::Event;
    ///
    /// coro_core::block_on(async {
    ///     let done = Arc::new(Event::new());
    ///     let worker = coro_core::spawn({
    ///         let done = done.clone();
    ///         async move { done.set() }
    ///     });
    ///     done.wait().await; // returns once the worker has set the flag
    ///     assert!(done.is_set());
    ///     worker.await.unwrap();
    /// });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
///
/// # Examples
///
/// ```
/// use coro_core::sync::{Event, EventWait};
///
/// let event = Event::new();
/// event.set();
/// let wait: EventWait<'_> = event.wait();
/// coro_core::block_on(wait); // the flag is set: ready at once
/// assert!(event.is_set());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let proceed = ready!(coop::poll_proceed(cx));
        let event = self.event;
        match self.key {
            None if event.is_set() => {}
            None => {
                let mut waiters = event.waiters.lock();
                if !event.is_set() {
                    self.key = Some(waiters.push_back(cx.waker(), ()));
                    return Poll::Pending;
                }
            }
            Some(key) => {
                let mut waiters = event.waiters.lock();
                if waiters.is_linked(key) {
                    waiters.update_waker(key, cx.waker());
                    return Poll::Pending;
                }
                // Unlinked: `set` woke us.
                waiters.remove(key);
                self.key = None;
            }
        }
        proceed.made_progress();
        Poll::Ready(())
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.waiters.lock().remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountWaker};
    use std::sync::Arc;

    #[test]
    fn set_wakes_every_waiter_and_wait_returns_at_once_while_set() {
        let event = Event::new();
        let (wakes, waker) = CountWaker::new();
        let mut waits: Vec<_> = (0..20).map(|_| event.wait()).collect();
        for wait in &mut waits {
            assert!(poll_with(wait, &waker).is_pending());
        }
        event.set();
        assert_eq!(wakes.count(), 20);
        event.set(); // idempotent
        assert_eq!(wakes.count(), 20);
        event.clear(); // woken waiters still return: the flag was set
        for wait in &mut waits {
            assert_eq!(poll_once(wait), Poll::Ready(()));
        }
        assert!(poll_once(&mut event.wait()).is_pending());
        event.set();
        assert_eq!(poll_once(&mut event.wait()), Poll::Ready(()));
    }

    #[test]
    fn clear_makes_later_waits_wait_and_dropped_waits_leave_the_queue() {
        let event = Event::default();
        event.set();
        event.clear();
        assert!(!event.is_set());
        let mut wait = event.wait();
        assert!(poll_once(&mut wait).is_pending());
        drop(wait);
        assert!(event.waiters.lock().is_empty());
        assert_eq!(format!("{event:?}"), "Event { set: false }");
    }

    #[test]
    fn across_tasks() {
        let order = crate::block_on(async {
            let event = Arc::new(Event::new());
            let (tx, rx) = crate::sync::mpsc::unbounded();
            let tasks: Vec<_> = (0..3)
                .map(|i| {
                    let (event, tx) = (event.clone(), tx.clone());
                    crate::spawn(async move {
                        event.wait().await;
                        tx.try_send(i).unwrap();
                    })
                })
                .collect();
            crate::task::yield_now().await;
            tx.try_send(-1).unwrap();
            event.set();
            for task in tasks {
                task.await.unwrap();
            }
            drop(tx);
            let mut order = Vec::new();
            while let Some(i) = rx.recv().await {
                order.push(i);
            }
            order
        });
        assert_eq!(order, [-1, 0, 1, 2]);
    }
}
