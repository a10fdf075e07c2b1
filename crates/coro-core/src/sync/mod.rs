//! Channels and synchronisation primitives for tasks.
//!
//! | type | Python / gevent analogue | use it to |
//! |---|---|---|
//! | [`mpsc::channel`]`(0)` | generator `send` | hand values over one at a time, sender and receiver in step |
//! | [`mpsc::channel`]`(n)`, [`mpsc::unbounded`] | `queue.Queue`, gevent's `Queue` | pass work between tasks, many producers and consumers |
//! | [`local::channel`]`(0)`, [`local::channel`]`(n)`, [`local::unbounded`] | greenlet `switch`, a queue between greenlets of one hub | the same between tasks of one thread, with no atomics |
//! | [`oneshot`] | `AsyncResult`, a greenlet's `value` | send one answer back |
//! | [`Event`] | `gevent.event.Event` | let many tasks wait until something happened |
//! | [`Semaphore`] | `threading.Semaphore`, `gevent.pool.Pool(n)` | bound how many tasks do something at once |
//!
//! They work with any executor (they only use the task's waker) and across
//! threads: every type here is `Send + Sync` when the values it carries are
//! `Send`, except [`local`]'s channels, which stay on the thread that made
//! them (`spawn_local` tasks, a current-thread runtime) and need no lock. All futures are cancel-safe: dropping one while it waits leaves
//! the primitive as if it had never been called (a [`Semaphore`] permit or
//! an mpsc message already granted to it is passed on, not lost).
//!
//! # Design
//!
//! Each primitive is a lock around its state, plus one shared waiter queue
//! (a slab-backed FIFO list, so waiting allocates nothing once warmed up).
//! Locks are held for a few instructions and never while user code runs:
//! wakers are woken, and values dropped, after the lock is released. That
//! is why the lock is a spin lock (`spin.rs`) rather than
//! `std::sync::Mutex`: with sections this short, its single atomic per use
//! beats the mutex's two (a channel message through coro's `mpsc` went
//! from 97 to 76 ns on the ping-pong benchmark). Every wait point spends the task's cooperative budget
//! ([`coop`](crate::coop)), so a loop over an always-ready channel still
//! lets the other tasks of its worker run.
//!
//! # Examples
//!
//! A pool of three workers fed by a channel, each result sent back:
//!
//! ```
//! use coro_core::sync::{mpsc, oneshot};
//!
//! coro_core::block_on(async {
//!     let (jobs, queue) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(8);
//!     for _ in 0..3 {
//!         let queue = queue.clone();
//!         coro_core::spawn(async move {
//!             while let Some((n, reply)) = queue.recv().await {
//!                 let _ = reply.send(n * n);
//!             }
//!         });
//!     }
//!     let mut answers = Vec::new();
//!     for n in 1..=5 {
//!         let (tx, rx) = oneshot::channel();
//!         jobs.send((n, tx)).await.unwrap();
//!         answers.push(rx);
//!     }
//!     let mut squares = Vec::new();
//!     for answer in answers {
//!         squares.push(answer.await.unwrap());
//!     }
//!     assert_eq!(squares, [1, 4, 9, 16, 25]);
//! });
//! ```

mod event;
pub mod local;
#[cfg(all(test, loom))]
mod loom_tests;
pub mod mpsc;
pub mod oneshot;
mod semaphore;
pub(crate) mod spin;
#[cfg(test)]
pub(crate) mod test_util;
mod waiters;

pub use event::{Event, EventWait};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
