//! Where file work runs: the blocking pool of the current coro runtime, or
//! of a process-wide fallback runtime outside one.
//!
//! Files have no readiness the reactor could wait for (epoll reports a
//! regular file as always ready), so, like tokio and gevent's threadpool,
//! coro runs each file syscall (or a chunk of them) on a blocking thread
//! and awaits its `JoinHandle`. Futures polled outside any coro runtime
//! (under another executor, on a plain thread) use the blocking pool of a
//! current-thread runtime that exists only for that: its scheduler never
//! runs, its pool threads start on demand and exit when idle.
//!
//! The pool is looked up at each operation, not when a file is opened (as
//! tokio does): a `File` that outlives the runtime it was opened on, or
//! moves to another executor, keeps working.

use std::io;
use std::sync::OnceLock;

use coro_core::runtime::Handle;
use coro_core::task::JoinError;
use coro_core::JoinHandle;

/// The handle whose blocking pool runs file work started here.
fn pool() -> Handle {
    Handle::try_current().unwrap_or_else(|| fallback().handle().clone())
}

fn fallback() -> &'static coro_core::Runtime {
    static FALLBACK: OnceLock<coro_core::Runtime> = OnceLock::new();
    FALLBACK.get_or_init(|| {
        coro_core::runtime::Builder::new()
            .current_thread()
            .thread_name("coro-fs")
            .build()
            .unwrap_or_else(|error| {
                panic!("coro::fs: cannot create the fallback blocking pool: {error}")
            })
    })
}

/// Runs `f` on the blocking pool (see [`pool`]).
pub(crate) fn spawn<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    pool().spawn_blocking(f)
}

/// The error for a blocking operation that did not complete: the pool shut
/// down (its runtime was dropped) before running it. A panic in the
/// closure is a bug in coro and is propagated as a panic.
pub(crate) fn not_run(error: JoinError) -> io::Error {
    match error.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(_) => io::Error::other(
            "coro::fs: the runtime's blocking pool shut down before the file operation ran",
        ),
    }
}

/// Runs the blocking `f` on the blocking pool and awaits its result.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn(f).await.map_err(not_run)?
}
