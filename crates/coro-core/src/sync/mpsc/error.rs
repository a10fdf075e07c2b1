//! Errors of the mpsc channels.

use std::error::Error;
use std::fmt;

/// The channel is closed: the message could not be sent, and is given back.
///
/// Returned by [`Sender::send`](super::Sender::send) once every
/// [`Receiver`](super::Receiver) is gone or the channel was
/// [closed](super::Sender::close).
///
/// # Examples
///
/// ```
/// use coro_core::sync::mpsc;
///
/// coro_core::block_on(async {
///     let (tx, rx) = mpsc::channel::<String>(1);
///     drop(rx);
///     let err = tx.send("lost?".to_string()).await.unwrap_err();
///     assert_eq!(err.0, "lost?"); // not lost: handed back
/// });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(1);
    /// drop(rx);
    /// let err = coro_core::block_on(tx.send(vec![1, 2])).unwrap_err();
    /// assert_eq!(err.to_string(), "sending on a closed channel");
    /// assert_eq!(err.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`Sender::try_send`](super::Sender::try_send) failed; the message is
/// given back either way.
///
/// # Examples
///
/// ```
/// use coro_core::sync::mpsc::{self, TrySendError};
///
/// let (tx, rx) = mpsc::channel(1);
/// assert_eq!(tx.try_send(1), Ok(()));
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// rx.close();
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The queue is full (for a capacity-0 channel: no receiver is waiting).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(0);
    /// let err = tx.try_send("kept").unwrap_err(); // no receiver is waiting
    /// assert_eq!(err.into_inner(), "kept");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }

    /// `true` for [`TrySendError::Full`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// let err = tx.try_send(2).unwrap_err();
    /// assert!(err.is_full());
    /// assert_eq!(err.to_string(), "sending on a full channel");
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// `true` for [`TrySendError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(1);
    /// drop(rx);
    /// let err = tx.try_send(1).unwrap_err();
    /// assert!(err.is_closed() && !err.is_full());
    /// assert_eq!(err.to_string(), "sending on a closed channel");
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no message.
///
/// # Examples
///
/// ```
/// use coro_core::sync::mpsc::{self, TryRecvError};
///
/// let (tx, rx) = mpsc::unbounded();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.try_send(7).unwrap();
/// drop(tx);
/// assert_eq!(rx.try_recv(), Ok(7)); // queued messages outlive the senders
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No message is ready, but the channel is open.
    Empty,
    /// The channel is closed and its queue is drained.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl Error for TryRecvError {}
