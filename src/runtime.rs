//! Runtimes: [`Runtime`], its [`Builder`] and [`Handle`].
//!
//! These are coro-core's runtime with one thing added: every runtime built
//! here gets its own [`Reactor`](coro_reactor::Reactor), so its idle workers
//! sleep in the OS poller and `coro::net` sockets and `coro::time` timers
//! work on it. (coro-core's own `Runtime` has no I/O driver; it is the
//! layer underneath, not a second way to do the same thing.)

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

pub use coro_core::park::{Park, ThreadPark};
pub use coro_core::runtime::{
    current_shard, BlockingReport, Dump, EnterGuard, Handle, RuntimeMetrics, ShardHandle, TaskInfo,
    TaskState,
};

use crate::task::JoinHandle;

/// A coro runtime: a scheduler with its worker threads, a blocking pool and
/// an I/O and timer reactor.
///
/// Most programs never build one by hand: `#[coro::main]` does it. Dropping
/// a `Runtime` cancels every task still alive (each future's destructor
/// runs, which closes its sockets and cancels its timers), waits for its
/// threads, and returns. `Runtime` is `Send + Sync`.
///
/// # Examples
///
/// ```
/// use coro::Runtime;
///
/// let rt = Runtime::new()?;
/// let answer = rt.block_on(async {
///     let a = coro::spawn(async { 20 });
///     let b = coro::spawn(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    inner: coro_core::Runtime,
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU core.
    ///
    /// # Errors
    ///
    /// The OS error if the poller or a worker thread cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to choose the flavor, thread count and names.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { "ran" }), "ran");
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on the current thread, with this runtime
    /// current (so `coro::spawn` and `coro::net` work inside it).
    ///
    /// On a [thread-per-core](Builder::thread_per_core) runtime this thread
    /// is not a shard: tasks spawned here go to the shards in turn, and
    /// sockets and timers created here are driven by shard 0's reactor.
    /// Use [`block_on_each`](Runtime::block_on_each) to run code on the
    /// shards themselves.
    ///
    /// # Panics
    ///
    /// Inside a runtime (nested `block_on` would deadlock): use `.await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::new().unwrap();
    /// let n = rt.block_on(async { coro::spawn(async { 7 }).await.unwrap() });
    /// assert_eq!(n, 7);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Spawns a task onto this runtime, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "done" });
    /// assert_eq!(rt.block_on(task).unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::new().unwrap();
    /// let task = rt.spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(task).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Runs `make(index)` on every shard of a thread-per-core runtime, each
    /// future as a local task of its shard (it need not be `Send`), blocks
    /// until all finish, and returns their outputs in shard order. A server
    /// opens one `SO_REUSEPORT` listener per shard this way; see
    /// [`coro_core::Runtime::block_on_each`].
    ///
    /// # Panics
    ///
    /// If the runtime is not thread-per-core, inside a runtime, and with
    /// its payload if one of the futures panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::sleep;
    ///
    /// let rt = coro::Runtime::builder().thread_per_core().worker_threads(2).build().unwrap();
    /// let shards = rt.block_on_each(|index| async move {
    ///     sleep(Duration::from_millis(1)).await; // each shard's own reactor
    ///     (index, coro::runtime::current_shard())
    /// });
    /// assert_eq!(shards, [(0, Some(0)), (1, Some(1))]);
    /// ```
    #[track_caller]
    pub fn block_on_each<M, Fut>(&self, make: M) -> Vec<Fut::Output>
    where
        M: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.inner.block_on_each(make)
    }

    /// A clonable handle to spawn onto this runtime from elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> &Handle {
        self.inner.handle()
    }

    /// Shuts down, waiting at most `timeout` for worker and blocking
    /// threads (a blocking closure that never returns is abandoned).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)));
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.inner.shutdown_timeout(timeout)
    }

    /// Shuts down without waiting for any thread: every idle task is
    /// cancelled, and a worker stuck in a task or a blocking closure that
    /// never returns is left running detached. tokio's
    /// `shutdown_background`; the same as `shutdown_timeout(Duration::ZERO)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(Duration::from_secs(60)));
    /// let start = std::time::Instant::now();
    /// rt.shutdown_background();
    /// assert!(start.elapsed() < Duration::from_secs(30), "did not wait for the sleeper");
    /// ```
    pub fn shutdown_background(self) {
        self.inner.shutdown_background()
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Configures and builds a [`Runtime`]. Methods take `&mut self` and return
/// `&mut Self`, so both a chain and step-by-step configuration work.
///
/// # Examples
///
/// ```
/// let rt = coro::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-app")
///     .build()
///     .unwrap();
/// let name = rt.block_on(async {
///     coro::spawn(async { std::thread::current().name().unwrap().to_owned() })
///         .await
///         .unwrap()
/// });
/// assert!(name.starts_with("my-app"), "{name}");
/// ```
pub struct Builder {
    inner: coro_core::runtime::Builder,
    start_paused: bool,
    /// Whether the last flavor chosen is thread-per-core: it gets a
    /// reactor per shard.
    thread_per_core: bool,
}

impl Builder {
    /// A builder for a multi-thread runtime with one worker per core.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::runtime::Builder;
    ///
    /// let rt = Builder::new().worker_threads(2).build().unwrap();
    /// let n = rt.block_on(async { coro::spawn(async { 21 * 2 }).await.unwrap() });
    /// assert_eq!(n, 42);
    /// ```
    pub fn new() -> Builder {
        Builder {
            inner: coro_core::runtime::Builder::new(),
            start_paused: false,
            thread_per_core: false,
        }
    }

    /// Selects the multi-thread scheduler (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().multi_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn multi_thread(&mut self) -> &mut Self {
        self.inner.multi_thread();
        self.thread_per_core = false;
        self
    }

    /// Selects the current-thread scheduler: every task runs on the thread
    /// that calls [`Runtime::block_on`], and
    /// [`spawn_local`](crate::spawn_local) is available.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// assert_eq!(rt.block_on(async { std::thread::current().id() }), here);
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.inner.current_thread();
        self.thread_per_core = false;
        self
    }

    /// Selects the thread-per-core flavor: one thread per shard
    /// ([`worker_threads`](Self::worker_threads), default one per core),
    /// each with its own current-thread scheduler and its own reactor (its
    /// own epoll instance), and no work stealing. A task stays on the shard
    /// it was spawned on, `spawn_local` works on every shard, and each
    /// shard can accept on its own `SO_REUSEPORT` listener
    /// ([`TcpSocket`](crate::net::TcpSocket)). See
    /// [`coro_core::runtime::Builder::thread_per_core`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().thread_per_core().worker_threads(2).build().unwrap();
    /// let on = rt.block_on(rt.handle().shard(1).spawn(async { coro::runtime::current_shard() }));
    /// assert_eq!(on.unwrap(), Some(1));
    /// ```
    pub fn thread_per_core(&mut self) -> &mut Self {
        self.inner.thread_per_core();
        self.thread_per_core = true;
        self
    }

    /// Sets the number of worker threads, or of shards of a thread-per-core
    /// runtime (default: the number of cores).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().worker_threads(3).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.inner.worker_threads(n);
        self
    }

    /// Names the threads: workers `"{name}-N"`, the blocking pool
    /// `"{name}-blocking"`. Default: `"coro"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().thread_name("svc").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.inner.thread_name(name);
        self
    }

    /// How long a worker that ran out of work keeps looking for more
    /// before it sleeps (default 50 µs; `Duration::ZERO`: sleep at once). A worker spins only right after running a task, so an idle
    /// program uses no CPU; see
    /// [`coro_core::runtime::Builder::spin_before_park`] for the trade-off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro::Runtime::builder()
    ///     .spin_before_park(Duration::from_micros(20))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn spin_before_park(&mut self, spin: Duration) -> &mut Self {
        self.inner.spin_before_park(spin);
        self
    }

    /// Caps how many `spawn_blocking` closures run at once (default 512).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().max_blocking_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.inner.max_blocking_threads(n);
        self
    }

    /// Starts the runtime with its clock paused (virtual time, for tests):
    /// see [`coro::time::pause`](crate::time::pause). Whenever the runtime
    /// is idle, the clock jumps to the next timer, so sleeps end at once
    /// and in deadline order. Works on the current-thread and multi-thread
    /// flavors: on the multi-thread runtime the clock jumps only when every
    /// worker is idle. A thread-per-core runtime refuses it (`build` fails
    /// with `InvalidInput`): each shard has its own clock, and no single
    /// "idle" moment would make them jump together.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{sleep, Instant};
    ///
    /// let rt = coro::Runtime::builder().worker_threads(2).start_paused(true).build().unwrap();
    /// let slept = rt.block_on(async {
    ///     let start = Instant::now();
    ///     let short = coro::spawn(sleep(Duration::from_secs(2)));
    ///     let long = coro::spawn(sleep(Duration::from_secs(5)));
    ///     short.await.unwrap();
    ///     long.await.unwrap();
    ///     start.elapsed()
    /// });
    /// assert_eq!(slept, Duration::from_secs(5));
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Turns the blocking watchdog on (see
    /// [`coro_core::runtime::Builder::blocking_threshold`]): a task inside
    /// one poll for longer than `threshold` is reported while it still
    /// blocks, and again when it returns. Also set by the environment
    /// variable `CORO_BLOCKING_THRESHOLD_MS`.
    ///
    /// # Panics
    ///
    /// If `threshold` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro::Runtime::builder()
    ///     .blocking_threshold(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn blocking_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.inner.blocking_threshold(threshold);
        self
    }

    /// Calls `hook` with every blocking-watchdog report
    /// ([`BlockingReport`]); turns the watchdog on with a 100 ms threshold
    /// unless one is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder()
    ///     .on_blocking(|report| eprintln!("{report}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_blocking<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&BlockingReport) + Send + Sync + 'static,
    {
        self.inner.on_blocking(hook);
        self
    }

    /// Creates the runtime with a fresh reactor (one per shard for a
    /// thread-per-core runtime), starting its threads.
    ///
    /// # Errors
    ///
    /// The OS error if a poller or a thread cannot be created;
    /// `InvalidInput` for `start_paused(true)` with `thread_per_core()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro::Runtime::builder().current_thread().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.thread_per_core {
            if self.start_paused {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "`start_paused(true)` is not supported on a thread-per-core runtime: each \
                     shard has its own clock; test virtual time on `current_thread()` or \
                     `multi_thread()`",
                ));
            }
            let inner = self
                .inner
                .park_factory(coro_reactor::Reactor::new)
                .build()?;
            return Ok(Runtime { inner });
        }
        let reactor = coro_reactor::Reactor::new()?;
        if self.start_paused {
            reactor.pause();
        }
        let inner = self.inner.park(reactor).build()?;
        Ok(Runtime { inner })
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Runs `future` to completion on the current thread, on a fresh
/// current-thread runtime with its own reactor.
///
/// # Panics
///
/// Inside a runtime (a task, or another `block_on`): use `.await` there.
///
/// # Examples
///
/// ```
/// let v = coro::block_on(async { vec![1, 2, 3] });
/// assert_eq!(v, [1, 2, 3]);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = Builder::new()
        .current_thread()
        .build()
        .unwrap_or_else(|error| panic!("coro::block_on: cannot create a runtime: {error}"));
    runtime.block_on(future)
}
