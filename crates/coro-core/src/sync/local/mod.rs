//! Channels for tasks of one thread: bounded ([`channel`], including the
//! capacity-0 rendezvous) and [`unbounded`], without atomics or locks.
//!
//! The same surface as [`mpsc`](super::mpsc) (and its error types), for
//! `!Send` tasks ([`spawn_local`](crate::spawn_local), a current-thread
//! runtime, each thread of a thread-per-core runtime): the halves are
//! `!Send` and `!Sync`, so the compiler keeps them on the thread that made
//! them, and in exchange a message costs no atomic operation and no lock.
//! Ping-pong between two tasks on coro's current-thread runtime runs twice
//! as fast as over `mpsc`, within a few percent of the task switches alone
//! (`docs/benchmarks.md`).
//!
//! Two differences from `mpsc`, both for that speed: there is **one
//! [`Receiver`]** (not `Clone`), and [`recv`](Receiver::recv) takes
//! `&mut self`, so one receive waits at a time and the channel keeps its
//! waker from one wait to the next instead of queueing it. Any number of
//! [`Sender`] clones may send.
//!
//! | capacity | `send` completes when | Python / Go analogue |
//! |---|---|---|
//! | `channel(0)` | the receiver has **taken** the value (rendezvous) | generator `send`, greenlet `switch` |
//! | `channel(n)` | the value is in the queue (waits while `n` are queued) | `queue.Queue(maxsize=n)` |
//! | [`unbounded`] | at once | `queue.Queue()` |
//!
//! The channel closes when every [`Sender`] is dropped, when the
//! [`Receiver`] is dropped, or on [`close`](Sender::close) from either side.
//! Once closed, sends fail and give the message back ([`SendError`]); the
//! receiver still gets the messages already queued, then `None`.
//!
//! # Which channel
//!
//! Use `local` between tasks that run on one thread: `spawn_local` tasks,
//! everything on a current-thread runtime (`#[coro::main(flavor =
//! "current_thread")]`, [`block_on`](crate::block_on)), and the tasks of one
//! shard of a thread-per-core runtime. Use [`mpsc`](super::mpsc) when the
//! tasks may run on different threads ([`spawn`](crate::spawn) on a
//! multi-thread runtime) or you need several receivers; use
//! [`oneshot`](super::oneshot) for a single answer.
//!
//! # Examples
//!
//! The producer/consumer lesson on one thread: every `send` on the
//! rendezvous channel waits for the consumer to take the value, so the two
//! tasks alternate strictly, like a generator driven by `send`.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use coro_core::sync::local;
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! coro_core::block_on({
//!     let log = log.clone();
//!     async move {
//!         let (tx, mut rx) = local::channel::<u32>(0);
//!         let consumer = coro_core::spawn_local({
//!             let log = log.clone();
//!             async move {
//!                 while let Some(n) = rx.recv().await {
//!                     log.borrow_mut().push(format!("[CONSUMER] Consuming {n}..."));
//!                 }
//!             }
//!         });
//!         for n in 1..=3 {
//!             log.borrow_mut().push(format!("[PRODUCER] Producing {n}..."));
//!             tx.send(n).await.unwrap(); // returns once the consumer has it
//!         }
//!         drop(tx); // closes the channel: the consumer's loop ends
//!         consumer.await.unwrap();
//!     }
//! });
//! let log = log.borrow();
//! assert_eq!(log[..2], ["[PRODUCER] Producing 1...", "[CONSUMER] Consuming 1..."]);
//! assert_eq!(log.len(), 6);
//! ```
//!
//! The halves cannot leave their thread:
//!
//! ```compile_fail
//! let (tx, _rx) = coro_core::sync::local::unbounded::<u8>();
//! std::thread::spawn(move || tx.try_send(1)); // error: `Rc` is not `Send`
//! ```
//!
//! # Cancellation
//!
//! Both futures are cancel-safe. Dropping a pending [`send`](Sender::send)
//! either leaves the message delivered (the receiver already took it) or
//! drops it unsent; it is never delivered twice. Dropping a pending
//! [`recv`](Receiver::recv) never loses a message: one that was already
//! handed to it stays at the front of the queue for the next receive.
//!
//! # Performance
//!
//! The state is a `RefCell` in an `Rc`; the queue is a ring buffer
//! allocated once; blocked senders wait in a slab that is reused, so steady
//! traffic allocates nothing. The receiver's waker is kept across waits and
//! woken by reference, and a task is woken only if it waits.

mod chan;
#[cfg(all(test, not(loom)))]
mod model_tests;
#[cfg(all(test, not(loom)))]
mod tests;

pub use super::mpsc::{SendError, TryRecvError, TrySendError};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::stream::{FusedStream, Stream};

use chan::Chan;

/// Creates a bounded channel holding at most `capacity` messages.
///
/// With `capacity == 0` the channel is a *rendezvous*: it stores nothing,
/// and a [`send`](Sender::send) completes only once the receiver has taken
/// the value.
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
///
/// coro_core::block_on(async {
///     let (tx, mut rx) = local::channel(2);
///     tx.send("a").await.unwrap();
///     tx.send("b").await.unwrap(); // two fit without a receiver
///     assert!(tx.try_send("c").unwrap_err().is_full());
///     assert_eq!(rx.recv().await, Some("a"));
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    pair(Chan::new(Some(capacity)))
}

/// Creates a channel with no bound: [`send`](Sender::send) never waits.
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
///
/// let (tx, rx) = local::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap(); // never `Full`
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.capacity(), None);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Chan::new(None))
}

fn pair<T>(chan: Chan<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Rc::new(chan);
    let tx = Sender { chan: chan.clone() };
    (tx, Receiver { chan })
}

/// Methods both halves share.
macro_rules! common_methods {
    () => {
        /// Closes the channel: sends fail from now on (blocked ones get their
        /// message back), the receiver drains what is queued and then gets
        /// `None`. Returns `false` if it was already closed.
        ///
        /// # Examples
        ///
        /// ```
        /// use coro_core::sync::local::{self, TryRecvError};
        ///
        /// let (tx, rx) = local::channel(1);
        /// tx.try_send(1).unwrap();
        /// assert!(rx.close());
        /// assert!(!tx.close()); // already closed
        /// assert!(tx.try_send(2).unwrap_err().is_closed());
        /// assert_eq!(rx.try_recv(), Ok(1)); // what was queued is still delivered
        /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        /// ```
        pub fn close(&self) -> bool {
            self.chan.close()
        }

        /// `true` once the channel is closed: by [`close`](Self::close), or
        /// because every sender or the receiver was dropped.
        ///
        /// # Examples
        ///
        /// ```
        /// use coro_core::sync::local;
        ///
        /// let (tx, rx) = local::channel::<u8>(1);
        /// assert!(!tx.is_closed() && !rx.is_closed());
        /// drop(rx);
        /// assert!(tx.is_closed());
        /// ```
        pub fn is_closed(&self) -> bool {
            self.chan.is_closed()
        }

        /// The number of messages in the queue (blocked senders of a full
        /// or rendezvous channel are not counted).
        ///
        /// # Examples
        ///
        /// ```
        /// use coro_core::sync::local;
        ///
        /// let (tx, rx) = local::channel(4);
        /// tx.try_send('a').unwrap();
        /// tx.try_send('b').unwrap();
        /// assert_eq!(tx.len(), 2);
        /// rx.try_recv().unwrap();
        /// assert_eq!(rx.len(), 1);
        /// ```
        pub fn len(&self) -> usize {
            self.chan.len()
        }

        /// `true` if no message is queued.
        ///
        /// # Examples
        ///
        /// ```
        /// use coro_core::sync::local;
        ///
        /// let (tx, rx) = local::unbounded();
        /// assert!(rx.is_empty());
        /// tx.try_send(()).unwrap();
        /// assert!(!tx.is_empty());
        /// ```
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// The capacity the channel was created with; `None` if unbounded.
        ///
        /// # Examples
        ///
        /// ```
        /// use coro_core::sync::local;
        ///
        /// let (tx, _rx) = local::channel::<u8>(8);
        /// assert_eq!(tx.capacity(), Some(8));
        /// let (_tx, rx) = local::unbounded::<u8>();
        /// assert_eq!(rx.capacity(), None);
        /// ```
        pub fn capacity(&self) -> Option<usize> {
            self.chan.capacity()
        }
    };
}

/// The sending half of a local channel, made by [`channel`] or
/// [`unbounded`].
///
/// Clone it to send from several tasks of the same thread; the channel
/// closes when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
///
/// let (tx, rx) = local::unbounded();
/// let tx2 = tx.clone();
/// tx.try_send("from tx").unwrap();
/// drop(tx); // `tx2` keeps the channel open
/// tx2.try_send("from tx2").unwrap();
/// assert!(!rx.is_closed());
/// drop(tx2); // the last sender: the channel closes
/// assert!(rx.is_closed());
/// assert_eq!(rx.try_recv(), Ok("from tx"));
/// assert_eq!(rx.try_recv(), Ok("from tx2"));
/// ```
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends a message, waiting while the channel is full (for capacity 0:
    /// until the receiver takes it). Fails, giving the message back, if the
    /// channel is or becomes closed first.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::local;
    ///
    /// coro_core::block_on(async {
    ///     let (tx, mut rx) = local::channel(0);
    ///     let receiver = coro_core::spawn_local(async move { rx.recv().await });
    ///     tx.send(42).await.unwrap(); // completes once the task took 42
    ///     assert_eq!(receiver.await.unwrap(), Some(42));
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Sends a message if that needs no waiting: the queue has room or (any
    /// capacity) the receiver is waiting for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::local;
    ///
    /// let (tx, _rx) = local::channel(0);
    /// // Nobody is receiving: a rendezvous cannot take it now.
    /// assert!(tx.try_send(1).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    common_methods!();
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The receiving half of a local channel, made by [`channel`] or
/// [`unbounded`].
///
/// There is one per channel. It is also a [`Stream`] of the messages,
/// ending when the channel is closed and drained.
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
/// use futures_util::StreamExt;
///
/// coro_core::block_on(async {
///     let (tx, rx) = local::unbounded();
///     for i in 1..=3 {
///         tx.try_send(i).unwrap();
///     }
///     drop(tx);
///     assert_eq!(rx.collect::<Vec<_>>().await, [1, 2, 3]);
/// });
/// ```
pub struct Receiver<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting while the channel is empty.
    /// Returns `None` once the channel is closed and its queue drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::local;
    ///
    /// coro_core::block_on(async {
    ///     let (tx, mut rx) = local::channel(4);
    ///     coro_core::spawn_local(async move {
    ///         for i in 0..3 {
    ///             tx.send(i).await.unwrap();
    ///         }
    ///     }); // `tx` dropped at the end: the channel closes
    ///     let mut got = Vec::new();
    ///     while let Some(i) = rx.recv().await {
    ///         got.push(i);
    ///     }
    ///     assert_eq!(got, [0, 1, 2]);
    /// });
    /// ```
    pub fn recv(&mut self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            waiting: false,
        }
    }

    /// Takes a message if one is ready (for capacity 0: if a sender is
    /// blocked offering one).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::local::{self, TryRecvError};
    ///
    /// let (tx, rx) = local::channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send('x').unwrap();
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    common_methods!();
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The messages, until the channel is closed and drained.
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
/// use futures_util::StreamExt;
///
/// coro_core::block_on(async {
///     let (tx, mut rx) = local::channel(1);
///     coro_core::spawn_local(async move {
///         for word in ["switch", "back"] {
///             tx.send(word).await.unwrap();
///         }
///     });
///     assert_eq!(rx.next().await, Some("switch"));
///     assert_eq!(rx.next().await, Some("back"));
///     assert_eq!(rx.next().await, None); // the sender is gone
/// });
/// ```
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // A stream has no cancellation to withdraw a wait with: a pending
        // `poll_next` stays registered until the next poll or the drop of
        // the receiver, so where it waits need not be remembered.
        self.chan.poll_recv(cx, &mut false)
    }
}

impl<T> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.chan.is_closed() && self.chan.len() == 0
    }
}

/// The future of [`Sender::send`].
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
///
/// coro_core::block_on(async {
///     let (tx, rx) = local::channel(1);
///     let send: local::SendFuture<'_, i32> = tx.send(1);
///     send.await.unwrap();
///     assert_eq!(rx.try_recv(), Ok(1));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    /// The message until it is delivered or parked in the waiter slot.
    value: Option<T>,
    key: Option<usize>,
}

// The message is moved, never pinned.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan.poll_send(cx, &mut this.value, &mut this.key)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_send(key);
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
///
/// # Examples
///
/// ```
/// use coro_core::sync::local;
///
/// coro_core::block_on(async {
///     let (tx, mut rx) = local::unbounded();
///     tx.try_send("hi").unwrap();
///     let recv: local::RecvFuture<'_, &str> = rx.recv();
///     assert_eq!(recv.await, Some("hi"));
///     drop(tx);
///     assert_eq!(rx.recv().await, None); // closed and drained
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    /// This receive returned `Pending` and is the one the channel wakes.
    waiting: bool,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.chan.poll_recv(cx, &mut this.waiting)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if self.waiting {
            self.chan.cancel_recv();
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}
