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

use std::io;
use std::sync::OnceLock;

use coro_core::runtime::Handle;
use coro_core::JoinHandle;

/// The handle whose blocking pool runs file work started here.
pub(crate) fn pool() -> Handle {
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

/// Runs `f` on `pool`'s blocking threads.
pub(crate) fn spawn<F, R>(pool: &Handle, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    pool.spawn_blocking(f)
}

/// Runs the blocking `f` on the blocking pool and awaits its result.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn(&pool(), f).await?
}
