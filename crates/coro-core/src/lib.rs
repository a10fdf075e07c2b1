//! The executor of the [coro] runtime: tasks, schedulers and the blocking
//! pool. No I/O lives here; `coro-reactor` plugs the OS poller in through
//! [`park::Park`], and most users depend on the `coro` facade crate instead.
//!
//! # Map of the crate
//!
//! | module | what it holds |
//! |---|---|
//! | [`task`] | `spawn`, `spawn_local`, `spawn_blocking`, [`JoinHandle`], [`JoinError`](task::JoinError), [`JoinSet`](task::JoinSet), `join_all`, `yield_now`; the harness that wraps every future (panics, abort) and the registry that lets shutdown reach idle tasks |
//! | [`runtime`] | [`Runtime`], [`Builder`](runtime::Builder), [`Handle`](runtime::Handle); thread-local context; the blocking pool; [`RuntimeMetrics`](runtime::RuntimeMetrics), the task [`Dump`](runtime::Dump) and the blocking watchdog ([`BlockingReport`](runtime::BlockingReport)) |
//! | `scheduler` (internal) | `current_thread` (one thread, a `VecDeque`) and `multi_thread` (`worker`, `queue` the lock-free local queue, `idle` who sleeps and who to wake), `inject` (the shared queue), `parker` (how a worker sleeps on the shared driver) |
//! | [`park`] | the [`Park`](park::Park) trait an idle thread sleeps through, and [`ThreadPark`](park::ThreadPark) |
//! | [`coop`] | the cooperative budget that stops one task hogging a worker |
//! | [`gen`] | generators written as `async` closures: [`Gen`](gen::Gen) driven by `resume` like Python's `send`/`next`, [`AsyncGen`](gen::AsyncGen) a `Stream` whose body may await |
//! | [`sync`] | channels and primitives: [`mpsc`](sync::mpsc) (bounded, rendezvous, unbounded), [`oneshot`](sync::oneshot), [`Event`](sync::Event), [`Semaphore`](sync::Semaphore) |
//!
//! `docs/architecture.md` in the repository follows a task from `spawn` to
//! completion through these modules.
//!
//! # Example
//!
//! ```
//! let total = coro_core::block_on(async {
//!     let tasks: Vec<_> = (1..=10).map(|i| coro_core::spawn(async move { i * i })).collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 385);
//! ```
//!
//! # Correctness
//!
//! The lock-free pieces (the local run queue, the idle/wake protocol, the
//! parker) have loom models, run with
//! `RUSTFLAGS="--cfg loom" cargo test -p coro-core --release --lib`; the unit
//! tests also run under Miri.
//!
//! [coro]: https://docs.rs/coro

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
// Under loom only the modelled modules are built, and only their tests use them.
#![cfg_attr(loom, allow(dead_code))]

mod loom;

pub mod park;

// Under loom only the lock-free structures and their models are built; the
// rest of the runtime uses real threads and thread-locals loom cannot model.
#[cfg(loom)]
mod scheduler {
    pub(crate) mod parker;
    pub(crate) mod multi_thread {
        pub(crate) mod idle;
        pub(crate) mod queue;
    }
}

pub mod coop;
#[cfg(not(loom))]
pub mod gen;
#[cfg(not(loom))]
pub mod runtime;
#[cfg(not(loom))]
mod scheduler;
pub mod sync;
#[cfg(not(loom))]
pub mod task;
#[cfg(not(loom))]
mod trace;

#[cfg(not(loom))]
pub use runtime::Runtime;
#[cfg(not(loom))]
pub use task::{spawn, spawn_blocking, spawn_local, yield_now, JoinHandle};

/// Runs a future to completion on the current thread, with a fresh
/// current-thread runtime, and returns its output. Tasks it spawns run on
/// this thread too; when it returns, the runtime is dropped and any task
/// still pending is cancelled.
///
/// # Panics
///
/// Panics if called from inside a runtime (a task, or another `block_on`):
/// blocking there would stall the tasks of that thread. Use `.await`.
///
/// # Examples
///
/// ```
/// let v = coro_core::block_on(async { vec![1, 2, 3] });
/// assert_eq!(v, [1, 2, 3]);
/// ```
#[cfg(not(loom))]
#[track_caller]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = runtime::Builder::new()
        .current_thread()
        .build()
        .expect("coro: failed to build a current-thread runtime");
    runtime.block_on(future)
}
