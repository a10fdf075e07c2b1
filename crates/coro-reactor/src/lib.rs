//! The reactor of the coro runtime: it turns "this socket would block" and
//! "wake me at 12:00:05" into task wake-ups.
//!
//! A coro runtime installs a [`Reactor`] as its
//! [`Park`](coro_core::park::Park): a worker with nothing to run sleeps
//! inside `epoll_wait` (kqueue on BSD and macOS) until a socket is ready, a
//! timer is due, or another thread has work for it. This is gevent's
//! "switch on I/O" without a hub thread: the task that would block yields,
//! the worker runs other tasks, and the OS says when to come back.
//!
//! # Map
//!
//! * [`reactor`](Reactor): the poller, the source registry, the timer
//!   store, and one *turn* of the event loop (`Park::park`).
//! * [`io`]: per-source readiness (`io::readiness`, edge-triggered, with its
//!   loom models) and [`IoSource`], the registered-fd wrapper that coro-net's
//!   sockets are made of.
//! * [`time`]: a hierarchical timer wheel per shard, the sharded store, and
//!   the [`Timer`] primitive under `coro::time`.
//! * `fallback`: a process-wide reactor with its own thread, used only by
//!   sockets and timers that live outside any coro runtime.
//!
//! Most programs use this crate through `coro::net` and `coro::time`.
#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(loom))]
mod fallback;
pub mod io;
mod loom;
#[cfg(not(loom))]
mod reactor;
#[cfg(not(loom))]
mod sys;
#[cfg(not(loom))]
pub mod time;

#[cfg(not(loom))]
pub use io::IoSource;
#[cfg(not(loom))]
pub use reactor::Reactor;
#[cfg(not(loom))]
pub use time::Timer;
