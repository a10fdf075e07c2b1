//! The runtime: schedulers, their threads and the blocking pool, as one
//! value you can build, use and drop.
//!
//! * [`Runtime`]: owns everything; `block_on`, `spawn`, `shutdown_timeout`;
//! * [`Builder`]: picks the scheduler flavor and sizes;
//! * [`Handle`]: a clonable reference for spawning from anywhere.
//!
//! Internals: `context` (thread-locals: the current runtime, and whether this
//! thread drives one), `blocking` (the `spawn_blocking` pool),
//! `park_thread` (`block_on` for a thread that is not a worker).

pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
mod dump;
#[cfg(test)]
mod dump_tests;
mod handle;
pub(crate) mod metrics;
#[cfg(test)]
mod metrics_tests;
mod park_thread;
mod shard;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod thread_per_core_tests;
pub(crate) mod watchdog;
#[cfg(test)]
mod watchdog_tests;

pub use builder::Builder;
pub use dump::{Dump, TaskInfo, TaskState};
pub use handle::{EnterGuard, Handle};
pub use metrics::RuntimeMetrics;
pub(crate) use metrics::{MetricsStore, WorkerMetrics};
pub use shard::{current_shard, ShardHandle};
pub use watchdog::BlockingReport;

use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use crate::loom::Arc;
use crate::scheduler::{current_thread, multi_thread, thread_per_core};
use crate::task::JoinHandle;

pub(crate) enum Scheduler {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
    ThreadPerCore(Arc<thread_per_core::Shared>),
}

pub(crate) struct HandleInner {
    pub(crate) scheduler: Scheduler,
    pub(crate) blocking: blocking::BlockingPool,
    /// The runtime's [`Park`](crate::park::Park), kept as `Any` so that
    /// [`Handle::park_as`] can hand it back with its concrete type. On a
    /// thread-per-core runtime, shard 0's (each shard keeps its own in
    /// `thread_per_core::Shard`; `park_as` picks the caller's).
    pub(crate) park: std::sync::Arc<dyn std::any::Any + Send + Sync>,
    /// The same object as a `Park`, told when the runtime shuts down.
    pub(crate) park_hook: std::sync::Arc<dyn crate::park::Park>,
    /// The blocking watchdog, if a threshold was set.
    pub(crate) watchdog: Option<std::sync::Arc<watchdog::Watchdog>>,
}

/// A coro runtime: a scheduler, its worker threads and a blocking pool.
///
/// Most programs never build one by hand: `#[coro::main]` does it. Dropping
/// a `Runtime` cancels every task still alive (each future's destructor
/// runs), waits for its threads, and returns. `Runtime` is `Send + Sync`.
///
/// # Examples
///
/// ```
/// use coro_core::Runtime;
///
/// let rt = Runtime::new()?;
/// let answer = rt.block_on(async {
///     let a = coro_core::spawn(async { 20 });
///     let b = coro_core::spawn(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU core.
    ///
    /// # Errors
    ///
    /// Returns the OS error if a worker thread cannot be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::builder().current_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs a future to completion on the calling thread, and returns its
    /// output. On a current-thread runtime the calling thread also runs
    /// every spawned task while it waits; on a multi-thread runtime the
    /// workers do.
    ///
    /// On a thread-per-core runtime the calling thread is not a shard: the
    /// future runs here, tasks it spawns go to the shards in turn, and
    /// sockets and timers it creates itself are driven by shard 0.
    /// [`spawn_local`](crate::spawn_local) is not available in it; to run
    /// code *on* the shards use [`block_on_each`](Runtime::block_on_each)
    /// or [`Handle::shard`].
    ///
    /// # Panics
    ///
    /// Panics if called from a thread that already runs tasks of a runtime
    /// (inside a task, or inside another `block_on`): blocking there would
    /// stall those tasks. Use `.await` instead, or `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 7 * 6 }), 42);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.handle.inner.scheduler {
            Scheduler::CurrentThread(shared) => {
                current_thread::block_on(shared, &self.handle, future)
            }
            Scheduler::MultiThread(shared) => {
                self.block_on_off_workers(future, &shared.block_on_busy)
            }
            Scheduler::ThreadPerCore(shared) => {
                self.block_on_off_workers(future, &shared.block_on_busy)
            }
        }
    }

    /// `block_on` on a thread that is not one of the runtime's workers.
    #[track_caller]
    fn block_on_off_workers<F: Future>(
        &self,
        future: F,
        busy: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> F::Output {
        let _driving = context::enter_runtime(&self.handle);
        let park = &self.handle.inner.park_hook;
        park_thread::block_on(future, busy, || {
            // A paused clock may jump now: wake the driver to look.
            if park.wants_idle() {
                park.unpark();
            }
        })
    }

    /// Spawns a future onto the runtime; see [`Handle::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// The runtime's [`Handle`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// # drop(handle);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts the runtime down, waiting at most `timeout` for worker and
    /// blocking threads to finish what they are running. Threads still busy
    /// after that (a blocking closure that never returns, a task that never
    /// yields) are left running detached; every idle task is cancelled.
    ///
    /// `timeout` is one deadline for everything: workers and the blocking
    /// pool share it, so the call returns after at most `timeout` (plus the
    /// time to cancel idle tasks), not once per kind of thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro_core::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(Duration::from_secs(60)));
    /// let start = std::time::Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// assert!(start.elapsed() < Duration::from_secs(30));
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts the runtime down without waiting for any thread: idle tasks
    /// are cancelled, and threads busy in a task that does not yield or in
    /// a blocking closure are left to finish detached. The same as
    /// `shutdown_timeout(Duration::ZERO)`; use it to leave at once, for
    /// instance from a signal handler's task, when a blocking closure may
    /// never return.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro_core::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(Duration::from_secs(60)));
    /// let start = std::time::Instant::now();
    /// rt.shutdown_background();
    /// assert!(start.elapsed() < Duration::from_secs(30));
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown(Some(Duration::ZERO));
    }

    /// Runs a blocking closure on the blocking pool; see
    /// [`spawn_blocking`](crate::spawn_blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = rt.spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(task).unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    fn shutdown(&self, timeout: Option<Duration>) {
        // One deadline for both stages (issue 16: each used to wait the
        // whole timeout). A timeout too long to add to the clock means no
        // deadline at all.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        match &self.handle.inner.scheduler {
            Scheduler::CurrentThread(shared) => shared.shutdown(),
            Scheduler::MultiThread(shared) => shared.shutdown(deadline),
            Scheduler::ThreadPerCore(shared) => shared.shutdown(deadline),
        }
        self.handle.inner.blocking.shutdown(deadline);
        if let Some(watchdog) = &self.handle.inner.watchdog {
            watchdog.stop();
        }
        // Last: every task is gone, so the driver may release what they left.
        match &self.handle.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => shared.shutdown_drivers(),
            _ => self.handle.inner.park_hook.shutdown(),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}
