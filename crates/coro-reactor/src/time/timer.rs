//! [`Timer`]: one deadline registered with a reactor's timer store.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::store::TimerHandle;
use crate::reactor::Reactor;

/// A deadline that wakes the task polling it once it has passed.
///
/// This is the primitive under `coro::time::{sleep, timeout, interval}`;
/// those are what applications use. A `Timer` registers with the timer store
/// of the current reactor on its first pending poll (a timer that is never
/// polled, or whose deadline already passed, costs no registration) and
/// deregisters when dropped. It is `Unpin`: the entry lives in the store, not
/// in the future.
///
/// If the runtime that owns the reactor shuts down while the timer is still
/// pending, the next poll moves it to the fallback reactor, so the deadline
/// is still honoured.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::time::{Duration, Instant};
/// use coro_reactor::Timer;
///
/// coro_core::block_on(async {
///     let start = Instant::now();
///     let mut timer = Timer::new(start + Duration::from_millis(5));
///     poll_fn(|cx| timer.poll_elapsed(cx)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub struct Timer {
    reactor: Arc<Reactor>,
    deadline: Instant,
    registered: Option<TimerHandle>,
}

impl Timer {
    /// A timer for `deadline` on the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::Timer;
    ///
    /// coro_core::block_on(async {
    ///     let deadline = Instant::now() + Duration::from_millis(2);
    ///     let mut timer = Timer::new(deadline);
    ///     poll_fn(|cx| timer.poll_elapsed(cx)).await;
    ///     assert!(Instant::now() >= deadline);
    /// });
    /// ```
    pub fn new(deadline: Instant) -> Timer {
        Timer {
            reactor: Reactor::current(),
            deadline,
            registered: None,
        }
    }

    /// When this timer fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::Timer;
    ///
    /// let deadline = Instant::now() + Duration::from_secs(60);
    /// assert_eq!(Timer::new(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Ready once the deadline has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::Timer;
    ///
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut due = Timer::new(Instant::now());
    /// assert!(due.poll_elapsed(&mut cx).is_ready());
    /// let mut later = Timer::new(Instant::now() + Duration::from_secs(60));
    /// assert!(later.poll_elapsed(&mut cx).is_pending());
    /// ```
    pub fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.reactor.is_shutdown() && !crate::fallback::is_fallback(&self.reactor) {
            self.move_to_fallback();
        }
        match self.registered {
            Some(handle) => self.reactor.timers.poll(handle, cx.waker()),
            None => {
                if self.deadline <= self.reactor.clock.now() {
                    return Poll::Ready(());
                }
                let timers = &self.reactor.timers;
                let inserted = timers.insert(self.deadline, cx.waker().clone());
                self.registered = Some(inserted.handle);
                if inserted.fired {
                    return Poll::Ready(());
                }
                if inserted.notify {
                    self.reactor.notify();
                }
                Poll::Pending
            }
        }
    }

    /// Moves the deadline. The timer is pending again until the new
    /// deadline passes, even if it had fired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::Timer;
    ///
    /// coro_core::block_on(async {
    ///     let mut timer = Timer::new(Instant::now() + Duration::from_secs(60));
    ///     let deadline = Instant::now() + Duration::from_millis(2);
    ///     timer.reset(deadline);
    ///     assert_eq!(timer.deadline(), deadline);
    ///     poll_fn(|cx| timer.poll_elapsed(cx)).await; // two milliseconds, not a minute
    ///     assert!(Instant::now() >= deadline);
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(handle) = self.registered.take() {
            // Re-registered on the next poll, with that poll's waker: a
            // reset never needs a waker of its own.
            self.reactor.timers.remove(handle);
        }
    }

    fn move_to_fallback(&mut self) {
        if let Some(handle) = self.registered.take() {
            self.reactor.timers.remove(handle);
        }
        self.reactor = crate::fallback::reactor().clone();
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(handle) = self.registered.take() {
            self.reactor.timers.remove(handle);
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("deadline", &self.deadline)
            .field("registered", &self.registered.is_some())
            .finish()
    }
}
