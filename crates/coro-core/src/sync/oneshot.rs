//! A channel for one value: a task's answer to a single question.
//!
//! [`Sender::send`] never waits; the [`Receiver`] is itself the future of
//! the value, and fails with [`RecvError`] if the sender is dropped
//! without sending (a greenlet that died before setting its result).
//!
//! # Examples
//!
//! ```
//! use coro_core::sync::oneshot;
//!
//! coro_core::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     coro_core::spawn(async move {
//!         tx.send(6 * 7).unwrap();
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

use crate::coop;
use crate::sync::spin::SpinLock;

/// Creates a one-value channel.
///
/// # Examples
///
/// ```
/// use coro_core::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel::<u8>();
/// drop(tx); // never sent
/// assert_eq!(coro_core::block_on(rx), Err(oneshot::RecvError));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(SpinLock::new(Shared {
        value: None,
        waker: None,
        sender_done: false,
        receiver_gone: false,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Shared<T> {
    value: Option<T>,
    /// The receiver's waker while it waits.
    waker: Option<Waker>,
    /// The sender sent, or was dropped.
    sender_done: bool,
    receiver_gone: bool,
}

/// Sends the value; made by [`channel`].
///
/// # Examples
///
/// ```
/// use coro_core::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel();
/// tx.send(String::from("hi")).unwrap(); // never waits, even before a receiver does
/// assert_eq!(coro_core::block_on(rx).unwrap(), "hi");
/// ```
pub struct Sender<T> {
    shared: Arc<SpinLock<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value, waking the receiver. Gives it back if the receiver
    /// was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("unread"), Err("unread"));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut shared = self.shared.lock();
            if shared.receiver_gone {
                return Err(value);
            }
            shared.value = Some(value);
            shared.sender_done = true;
            shared.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
        // `Drop` sees `sender_done` and does nothing more.
    }

    /// `true` if the receiver was dropped: a value sent now would be
    /// returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = coro_core::sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut shared = self.shared.lock();
            if shared.sender_done {
                return;
            }
            shared.sender_done = true;
            shared.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// The future of the value; made by [`channel`].
///
/// It resolves to `Ok(value)`, or to `Err(RecvError)` if the sender was
/// dropped without sending (or the value was already taken).
///
/// # Examples
///
/// ```
/// use coro_core::sync::oneshot;
///
/// coro_core::block_on(async {
///     let (tx, mut rx) = oneshot::channel();
///     coro_core::spawn(async move { tx.send(5).unwrap() });
///     assert_eq!((&mut rx).await, Ok(5)); // waits for the task to send
///     assert_eq!(rx.await, Err(oneshot::RecvError)); // already taken
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<SpinLock<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut shared = self.shared.lock();
        match shared.value.take() {
            Some(value) => Ok(value),
            None if shared.sender_done => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let proceed = ready!(coop::poll_proceed(cx));
        let mut shared = self.shared.lock();
        let result = match shared.value.take() {
            Some(value) => Ok(value),
            None if shared.sender_done => Err(RecvError),
            None => {
                match &mut shared.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        };
        drop(shared);
        proceed.made_progress();
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (unread, waker) = {
            let mut shared = self.shared.lock();
            shared.receiver_gone = true;
            (shared.value.take(), shared.waker.take())
        };
        drop((unread, waker)); // outside the lock
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

/// The sender was dropped without sending.
///
/// # Examples
///
/// ```
/// use coro_core::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// let err = coro_core::block_on(rx).unwrap_err();
/// assert_eq!(err, oneshot::RecvError);
/// assert_eq!(err.to_string(), "the oneshot sender was dropped without sending");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use coro_core::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u32>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// let err = rx.try_recv().unwrap_err();
/// assert_eq!(err, TryRecvError::Closed);
/// assert_eq!(err.to_string(), "the oneshot channel is closed");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Not sent yet.
    Empty,
    /// The sender was dropped without sending, or the value was taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the oneshot value is not sent yet"),
            TryRecvError::Closed => f.write_str("the oneshot channel is closed"),
        }
    }
}

impl Error for TryRecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll_once, poll_with, CountWaker, Drops};

    #[test]
    fn send_then_receive_and_receive_then_send() {
        let (tx, mut rx) = channel();
        tx.send(1).unwrap();
        assert_eq!(poll_once(&mut rx), Poll::Ready(Ok(1)));

        let (tx, mut rx) = channel();
        let (wakes, waker) = CountWaker::new();
        assert!(poll_with(&mut rx, &waker).is_pending());
        assert!(poll_with(&mut rx, &waker).is_pending());
        tx.send("late").unwrap();
        assert_eq!(wakes.count(), 1);
        assert_eq!(poll_once(&mut rx), Poll::Ready(Ok("late")));
    }

    #[test]
    fn dropped_sender_is_an_error_and_wakes_the_receiver() {
        let (tx, mut rx) = channel::<u8>();
        let (wakes, waker) = CountWaker::new();
        assert!(poll_with(&mut rx, &waker).is_pending());
        drop(tx);
        assert_eq!(wakes.count(), 1);
        assert_eq!(poll_once(&mut rx), Poll::Ready(Err(RecvError)));
    }

    #[test]
    fn dropped_receiver_returns_the_value_or_frees_it() {
        let drops = Drops::default();
        let (tx, rx) = channel();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(drops.track(1)).unwrap_err().value, 1);

        let (tx, rx) = channel();
        tx.send(drops.track(2)).unwrap();
        assert_eq!(drops.count(), 1);
        drop(rx);
        assert_eq!(drops.count(), 2, "the unread value is freed");
    }

    #[test]
    fn across_tasks() {
        let answer = crate::block_on(async {
            let (tx, rx) = channel();
            let (done_tx, done_rx) = channel();
            crate::spawn(async move {
                let question: &str = rx.await.unwrap();
                done_tx.send(question.len()).unwrap();
            });
            crate::task::yield_now().await; // the task waits first
            tx.send("six").unwrap();
            done_rx.await
        });
        assert_eq!(answer, Ok(3));
    }
}
