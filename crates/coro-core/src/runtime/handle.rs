use std::fmt;
use std::future::Future;

use crate::loom::Arc;
use crate::runtime::{context, HandleInner, Scheduler};
use crate::task::id::Site;
use crate::task::JoinHandle;

/// A cheap, clonable reference to a runtime, to spawn onto it from anywhere.
///
/// Get one from [`Runtime::handle`](crate::Runtime::handle) or, inside the
/// runtime, from [`Handle::current`]. A handle does not keep the runtime's
/// threads alive: once the `Runtime` is dropped, tasks spawned through a
/// handle are cancelled at once.
///
/// # Examples
///
/// ```
/// let rt = coro_core::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { 40 + 2 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(from_thread).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<HandleInner>,
}

impl Handle {
    /// Returns the handle of the runtime this code runs in.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime (see [`try_current`](Handle::try_current)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::runtime::Handle;
    ///
    /// coro_core::block_on(async {
    ///     let handle = Handle::current();
    ///     assert_eq!(handle.spawn(async { 1 }).await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        context::with_current(Handle::clone)
    }

    /// Returns the handle of the runtime this code runs in, or `None`
    /// outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::runtime::Handle;
    ///
    /// assert!(Handle::try_current().is_none());
    /// coro_core::block_on(async { assert!(Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::try_current()
    }

    /// Spawns a future onto this runtime. Works from any thread.
    ///
    /// On a thread-per-core runtime the task runs on the calling shard when
    /// called from one of its shards, else on the shards in turn; see
    /// [`shard`](Handle::shard) to choose.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { "spawned" });
    /// assert_eq!(rt.block_on(task).unwrap(), "spawned");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, Site::caller())
    }

    /// `spawn` with the task's site (location and name) given.
    pub(crate) fn spawn_at<F>(&self, future: F, site: Site) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.inner.scheduler {
            Scheduler::CurrentThread(shared) => shared.spawn(future, site),
            Scheduler::MultiThread(shared) => shared.spawn(future, site),
            Scheduler::ThreadPerCore(shared) => shared.spawn(future, site),
        }
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = rt.handle().spawn_blocking(|| std::thread::current().name().map(String::from));
    /// let name = rt.block_on(task).unwrap().unwrap();
    /// assert!(name.ends_with("-blocking"), "{name}");
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_at(f, Site::caller())
    }

    /// `spawn_blocking` with the task's site given.
    pub(crate) fn spawn_blocking_at<F, R>(&self, f: F, site: Site) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking.spawn(f, site)
    }

    /// Returns the runtime's [`Park`](crate::park::Park) if it is a `P`
    /// (see [`Builder::park`](crate::runtime::Builder::park)). This is how
    /// an I/O driver finds itself from inside a task: coro-reactor asks for
    /// its reactor here. On a thread-per-core runtime each shard has its
    /// own `Park` ([`Builder::park_factory`](crate::runtime::Builder::park_factory)):
    /// a shard's code gets its shard's, other threads shard 0's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::park::ThreadPark;
    /// use coro_core::runtime::{Builder, Handle};
    ///
    /// let rt = Builder::new().current_thread().park(Arc::new(ThreadPark::new())).build().unwrap();
    /// rt.block_on(async {
    ///     assert!(Handle::current().park_as::<ThreadPark>().is_some());
    /// });
    /// ```
    pub fn park_as<P: crate::park::Park>(&self) -> Option<std::sync::Arc<P>> {
        let park = match &self.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => &shared.home_shard().park_any,
            _ => &self.inner.park,
        };
        park.clone().downcast::<P>().ok()
    }

    /// Makes this runtime current on this thread until the guard is dropped,
    /// so that [`coro::spawn`](crate::spawn) works from plain threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = {
    ///     let _guard = rt.handle().enter();
    ///     coro_core::spawn(async { 3 })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), 3);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_current(self),
            _handle: std::marker::PhantomData,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.inner.scheduler {
            Scheduler::CurrentThread(_) => "current_thread",
            Scheduler::MultiThread(_) => "multi_thread",
            Scheduler::ThreadPerCore(_) => "thread_per_core",
        };
        f.debug_struct("Handle").field("flavor", &flavor).finish()
    }
}

/// Returned by [`Handle::enter`]; restores the previous runtime when dropped.
///
/// # Examples
///
/// ```
/// use coro_core::runtime::Handle;
///
/// let rt = coro_core::Runtime::new().unwrap();
/// assert!(Handle::try_current().is_none());
/// let guard = rt.handle().enter();
/// assert!(Handle::try_current().is_some());
/// drop(guard);
/// assert!(Handle::try_current().is_none());
/// ```
#[must_use = "the runtime is only current while the guard is alive"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _handle: std::marker::PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
