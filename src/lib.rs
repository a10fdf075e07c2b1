//! # coro
//!
//! A stackless async runtime for Rust that teaches concurrency the way
//! Python's generators, greenlet and gevent do, with `async fn` in place of
//! `yield`.
//!
//! ```
//! #[coro::main(flavor = "current_thread")]
//! async fn main() {
//!     // gevent.spawn + joinall
//!     let jobs: Vec<_> = (1..=3).map(|i| coro::spawn(async move { i * 10 })).collect();
//!     let values: Vec<u32> = coro::task::join_all(jobs)
//!         .await
//!         .into_iter()
//!         .map(Result::unwrap)
//!         .collect();
//!     assert_eq!(values, [10, 20, 30]);
//! }
//! ```
//!
//! # Map of the crates
//!
//! This facade only re-exports; the code lives in:
//!
//! | crate | what it holds |
//! |---|---|
//! | `coro-core` | tasks, schedulers (current-thread and work-stealing multi-thread), `JoinHandle`/`JoinSet`, `block_on`, runtimes, the blocking pool |
//! | `coro-macros` | `#[coro::main]` and `#[coro::test]` |
//!
//! # Entry points
//!
//! * [`macro@main`] on `async fn main`, [`macro@test`] on async tests;
//! * [`block_on`] to run one future on the current thread;
//! * [`Runtime`] and [`runtime::Builder`] to build a runtime by hand.

#![warn(missing_docs, rust_2018_idioms)]

pub use coro_core::{block_on, spawn, spawn_blocking, spawn_local, yield_now, JoinHandle, Runtime};
pub use coro_macros::{main, test};

/// Tasks: spawning, joining, cancelling (`JoinHandle`, `JoinSet`, `join_all`).
pub mod task {
    pub use coro_core::task::*;
}

/// Runtimes: [`Builder`](runtime::Builder), [`Handle`](runtime::Handle),
/// and the [`Park`](runtime::Park) hook an idle worker sleeps through.
pub mod runtime {
    pub use coro_core::park::{Park, ThreadPark};
    pub use coro_core::runtime::*;
}

/// The cooperative scheduling budget, for authors of I/O resources.
pub mod coop {
    pub use coro_core::coop::*;
}
