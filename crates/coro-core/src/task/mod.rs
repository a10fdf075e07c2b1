//! Tasks: spawning, joining, cancelling.
//!
//! A task is a future handed to the runtime to be polled to completion
//! independently of its spawner, like a greenlet given to `gevent.spawn`.
//! Unlike a greenlet it has no stack of its own: the compiler turns the
//! `async fn` into a state machine, and "switching" is just returning
//! `Pending` from `poll` and being polled again after a wake-up.
//!
//! * [`spawn`]: run a `Send` future on the current runtime, on any worker;
//! * [`spawn_local`]: run a `!Send` future on the current thread;
//! * [`spawn_blocking`]: run blocking code on the runtime's thread pool;
//! * [`JoinHandle`]: await the output, [`abort`](JoinHandle::abort), or drop
//!   it to detach the task;
//! * [`JoinSet`] and [`join_all`]: many tasks at once;
//! * [`yield_now`](fn@yield_now): let the other tasks run;
//! * [`Builder`]: spawn a named task; [`Id`], [`id`](fn@id): who a task is.
//!
//! Internals: `harness` wraps every future (panics, abort, registration),
//! `registry` lets shutdown reach idle tasks.

mod builder;
pub(crate) mod harness;
pub(crate) mod id;
mod join_error;
mod join_handle;
mod join_set;
#[cfg(test)]
mod join_set_model_tests;
pub(crate) mod registry;
pub(crate) mod stats;
mod yield_now;

pub use crate::coop::consume_budget;
pub use builder::Builder;
pub use id::{id, try_id, Id};
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub use join_set::{join_all, JoinSet};
pub use yield_now::yield_now;

use std::future::Future;

use crate::runtime::context;
use id::Site;

/// Spawns a future onto the current runtime and returns a handle to its
/// output. The task starts running at once, on whichever worker is free; it
/// keeps running if the handle is dropped.
///
/// # Panics
///
/// Panics if called outside a coro runtime. Call it from inside
/// `#[coro::main]`, `Runtime::block_on`, another task, or use
/// `Runtime::spawn` / `Handle::spawn` from plain threads.
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let handle = coro_core::spawn(async { "hello from a task" });
///     assert_eq!(handle.await.unwrap(), "hello from a task");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let site = Site::caller();
    context::with_current(|handle| handle.spawn_at(future, site))
}

/// Spawns a `!Send` future on the current thread.
///
/// The task only ever runs on the thread that spawned it, so it may hold
/// `Rc`, `RefCell` and other thread-bound state across `.await`s.
///
/// # Panics
///
/// Panics unless called on a thread running a current-thread runtime (inside
/// `coro::block_on`, `#[coro::main(flavor = "current_thread")]`,
/// `#[coro::test]`, or a task of such a runtime).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// coro_core::block_on(async {
///     let shared = Rc::new(5);
///     let task = coro_core::spawn_local({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    crate::scheduler::current_thread::spawn_local(future, Site::caller())
}

/// Runs a blocking closure on the runtime's blocking thread pool and returns
/// a handle to its result. Use it for CPU-heavy work or blocking APIs (file
/// I/O, DNS, a C library) that would otherwise stall a worker, like Python's
/// `ThreadPoolExecutor.submit`.
///
/// The pool grows on demand up to `Builder::max_blocking_threads` threads;
/// idle threads exit after a while. The closure runs with the runtime's
/// context, so it may call [`spawn`] or `Handle::current()`.
///
/// # Panics
///
/// Panics if called outside a coro runtime (see [`spawn`]).
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let sum = coro_core::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let site = Site::caller();
    context::with_current(|handle| handle.spawn_blocking_at(f, site))
}
