//! Runtime metrics: the counters the schedulers keep, and
//! [`RuntimeMetrics`], the view [`Handle::metrics`] gives users.
//!
//! # Where the counters live, and why they cost (almost) nothing
//!
//! Each worker (the one thread inside `block_on` for the current-thread
//! scheduler) owns one [`WorkerMetrics`], on cache lines of its own. Only
//! that worker writes it, so a count is a relaxed load and a relaxed store
//! (`Counter::incr`): a plain `inc` on memory the worker already has in
//! its cache, no locked instruction and no line shared with another core.
//! Readers on other threads use relaxed loads and may see a count a few
//! events old, which is all a metric needs.
//!
//! Spawns and task exits happen on any thread. On one of the runtime's
//! workers they go to that worker's counters; elsewhere (a plain thread
//! calling `Handle::spawn`, a blocking-pool closure, a waker dropping the
//! last reference at shutdown) to [`RemoteCounters`] with an atomic add:
//! those paths already take a lock or cross threads. Alive tasks are
//! spawned minus exited, summed over all of them.
//!
//! Queue depths are read from the queues themselves (the local ring's and
//! the injection queue's own counters); the current-thread scheduler's
//! queue is a `VecDeque` no other thread may touch, so it publishes its
//! length into `queue_depth` after each batch of tasks. I/O events and
//! pending timers come from the driver ([`Park::metrics`]), blocking
//! threads from the blocking pool.
//!
//! [`Park::metrics`]: crate::park::Park::metrics

use std::fmt;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::runtime::{Handle, Scheduler};
use crate::task::harness::TaskMeta;

/// A count written by one thread only.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Adds one. Not a read-modify-write: the owning worker is the only
    /// writer, so a load and a store cannot lose an increment.
    #[inline]
    pub(crate) fn incr(&self) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One worker's counters, on cache lines no other worker writes.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    /// Task polls (`Runnable::run` calls).
    pub(crate) polls: Counter,
    /// Successful steals from another worker's queue.
    pub(crate) steals: Counter,
    /// Times the worker went to sleep.
    pub(crate) parks: Counter,
    /// Tasks spawned, and tasks that ended (completed, panicked or were
    /// cancelled), on this worker.
    pub(crate) spawned: Counter,
    pub(crate) exited: Counter,
    /// Current-thread scheduler only: its queue's length after the last
    /// batch of tasks.
    pub(crate) queue_depth: AtomicUsize,
    /// The task the worker is polling, null between polls: written by
    /// `task/stats.rs`'s `Polling`, read by the task dump.
    pub(crate) running: AtomicPtr<TaskMeta>,
}

/// Spawns and exits seen on threads that are not workers.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct RemoteCounters {
    spawned: AtomicU64,
    exited: AtomicU64,
}

/// Every counter of one runtime.
pub(crate) struct MetricsStore {
    workers: Box<[WorkerMetrics]>,
    remote: RemoteCounters,
}

impl MetricsStore {
    pub(crate) fn new(workers: usize) -> MetricsStore {
        MetricsStore {
            workers: (0..workers).map(|_| WorkerMetrics::default()).collect(),
            remote: RemoteCounters::default(),
        }
    }

    pub(crate) fn worker(&self, index: usize) -> &WorkerMetrics {
        &self.workers[index]
    }

    /// The task each worker is polling (null: none), by worker index. Only
    /// compared with other addresses, never dereferenced: the task may end
    /// right after the load.
    pub(crate) fn running_tasks(&self) -> Vec<*const TaskMeta> {
        self.workers
            .iter()
            .map(|w| w.running.load(Ordering::Relaxed).cast_const())
            .collect()
    }

    /// Counts a spawn made on worker `on` (`None`: not on a worker).
    #[inline]
    pub(crate) fn task_spawned(&self, on: Option<usize>) {
        match on {
            Some(index) => self.workers[index].spawned.incr(),
            None => {
                self.remote.spawned.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a task that ended on worker `on`.
    #[inline]
    pub(crate) fn task_exited(&self, on: Option<usize>) {
        match on {
            Some(index) => self.workers[index].exited.incr(),
            None => {
                self.remote.exited.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn spawned(&self) -> u64 {
        let local: u64 = self.workers.iter().map(|w| w.spawned.get()).sum();
        local + self.remote.spawned.load(Ordering::Relaxed)
    }

    fn exited(&self) -> u64 {
        let local: u64 = self.workers.iter().map(|w| w.exited.get()).sum();
        local + self.remote.exited.load(Ordering::Relaxed)
    }
}

/// A live view of a runtime's counters, from [`Handle::metrics`].
///
/// Every method reads the current value (relaxed loads: a count may be a
/// few events behind on another thread). Counts are totals since the
/// runtime was built; take two readings and subtract for a rate. Tasks of
/// the blocking pool are not tasks here: they show as blocking threads.
///
/// `Display` prints a short summary, one line per worker.
///
/// # Examples
///
/// ```
/// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
/// let metrics = rt.handle().metrics();
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..10).map(|_| coro_core::spawn(async {})).collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// assert_eq!(metrics.num_workers(), 1);
/// assert_eq!(metrics.spawned_tasks_count(), 10);
/// assert_eq!(metrics.worker_poll_count(0), 10);
/// assert_eq!(metrics.num_alive_tasks(), 0);
/// println!("{metrics}");
/// ```
#[derive(Clone)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl Handle {
    /// The runtime's [`RuntimeMetrics`]: a live view, cheap to keep.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let workers = rt.handle().metrics().num_workers();
    /// assert!(workers >= 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            handle: self.clone(),
        }
    }
}

impl RuntimeMetrics {
    /// Every counter store of the runtime: one, or one per shard.
    fn stores(&self) -> Vec<&MetricsStore> {
        match &self.handle.inner.scheduler {
            Scheduler::CurrentThread(shared) => vec![&shared.metrics],
            Scheduler::MultiThread(shared) => vec![&shared.metrics],
            Scheduler::ThreadPerCore(shared) => shared
                .shards()
                .iter()
                .map(|shard| &*shard.scheduler.metrics)
                .collect(),
        }
    }

    /// The driver's counters (every shard's, summed).
    fn driver(&self) -> crate::park::DriverMetrics {
        match &self.handle.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => shared.driver_metrics(),
            _ => self.handle.inner.park_hook.metrics(),
        }
    }

    #[track_caller]
    fn worker(&self, index: usize) -> &WorkerMetrics {
        let workers = self.num_workers();
        assert!(
            index < workers,
            "worker index {index} out of range: this runtime has {workers} worker(s), \
             numbered from 0 (see `num_workers`)"
        );
        match &self.handle.inner.scheduler {
            // A shard's store has one worker: the shard's thread.
            Scheduler::ThreadPerCore(shared) => shared.shards()[index].scheduler.metrics.worker(0),
            _ => self.stores()[0].worker(index),
        }
    }

    /// Number of worker threads (1 for a current-thread runtime: the thread
    /// inside `block_on`; the number of shards for a thread-per-core one,
    /// whose worker `i` is shard `i`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().metrics().num_workers(), 3);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.stores().iter().map(|store| store.workers.len()).sum()
    }

    /// Tasks spawned so far (not counting `spawn_blocking`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert_eq!(rt.handle().metrics().spawned_tasks_count(), 1);
    /// ```
    pub fn spawned_tasks_count(&self) -> u64 {
        self.stores().iter().map(|store| store.spawned()).sum()
    }

    /// Tasks spawned and not yet ended (completed, panicked or cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().metrics().num_alive_tasks(), 1);
    /// task.abort();
    /// let _ = rt.block_on(task);
    /// assert_eq!(rt.handle().metrics().num_alive_tasks(), 0);
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        let stores = self.stores();
        // Exits are read first: a task that ends between the two reads is
        // then counted alive rather than making the difference negative.
        let exited: u64 = stores.iter().map(|store| store.exited()).sum();
        let spawned: u64 = stores.iter().map(|store| store.spawned()).sum();
        spawned.saturating_sub(exited) as usize
    }

    /// Times worker `index` polled a task.
    ///
    /// # Panics
    ///
    /// If `index >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     coro_core::spawn(async { coro_core::yield_now().await }).await.unwrap();
    /// });
    /// assert_eq!(rt.handle().metrics().worker_poll_count(0), 2);
    /// ```
    #[track_caller]
    pub fn worker_poll_count(&self, index: usize) -> u64 {
        self.worker(index).polls.get()
    }

    /// Times worker `index` stole tasks from another worker (always 0 on a
    /// current-thread runtime).
    ///
    /// # Panics
    ///
    /// If `index >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().worker_steal_count(0), 0);
    /// ```
    #[track_caller]
    pub fn worker_steal_count(&self, index: usize) -> u64 {
        self.worker(index).steals.get()
    }

    /// Times worker `index` went to sleep for lack of work.
    ///
    /// # Panics
    ///
    /// If `index >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().worker_threads(1).build().unwrap();
    /// while rt.handle().metrics().worker_park_count(0) == 0 {
    ///     std::thread::yield_now(); // the idle worker parks soon after start
    /// }
    /// ```
    #[track_caller]
    pub fn worker_park_count(&self, index: usize) -> u64 {
        self.worker(index).parks.get()
    }

    /// Tasks waiting in worker `index`'s own run queue. On a current-thread
    /// runtime: the queue's length after the last batch of tasks it ran.
    ///
    /// # Panics
    ///
    /// If `index >= num_workers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// assert_eq!(rt.handle().metrics().worker_local_queue_depth(0), 0);
    /// ```
    #[track_caller]
    pub fn worker_local_queue_depth(&self, index: usize) -> usize {
        let worker = self.worker(index);
        match &self.handle.inner.scheduler {
            Scheduler::CurrentThread(_) | Scheduler::ThreadPerCore(_) => {
                worker.queue_depth.load(Ordering::Relaxed)
            }
            Scheduler::MultiThread(shared) => shared.local_queue_depth(index),
        }
    }

    /// Tasks in the shared injection queue (scheduled from outside the
    /// workers, or overflowed from a full local queue).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// let _task = rt.spawn(async {}); // from outside: waits in the injection queue
    /// assert_eq!(rt.handle().metrics().injection_queue_depth(), 1);
    /// ```
    pub fn injection_queue_depth(&self) -> usize {
        match &self.handle.inner.scheduler {
            Scheduler::CurrentThread(shared) => shared.injection_queue_depth(),
            Scheduler::MultiThread(shared) => shared.injection_queue_depth(),
            Scheduler::ThreadPerCore(shared) => shared.injection_queue_depth(),
        }
    }

    /// Threads of the blocking pool, busy or idle.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// rt.block_on(rt.spawn_blocking(|| {})).unwrap();
    /// assert_eq!(rt.handle().metrics().num_blocking_threads(), 1);
    /// ```
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.inner.blocking.thread_counts().0
    }

    /// Threads of the blocking pool waiting for a closure to run.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// rt.block_on(rt.spawn_blocking(|| {})).unwrap();
    /// let metrics = rt.handle().metrics();
    /// while metrics.num_idle_blocking_threads() == 0 {
    ///     std::thread::yield_now(); // the thread goes idle right after the closure
    /// }
    /// ```
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.inner.blocking.thread_counts().1
    }

    /// I/O readiness events the driver has dispatched (0 without an I/O
    /// driver: see [`Park::metrics`](crate::park::Park::metrics)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap(); // no I/O driver in coro-core alone
    /// assert_eq!(rt.handle().metrics().io_events_dispatched(), 0);
    /// ```
    pub fn io_events_dispatched(&self) -> u64 {
        self.driver().io_events
    }

    /// Timers waiting to fire (0 without a timer driver).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().metrics().timers_pending(), 0);
    /// ```
    pub fn timers_pending(&self) -> usize {
        self.driver().timers_pending
    }
}

impl fmt::Display for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tasks: {} alive, {} spawned; injection queue {}; blocking threads {} ({} idle); \
             io events {}; timers pending {}",
            self.num_alive_tasks(),
            self.spawned_tasks_count(),
            self.injection_queue_depth(),
            self.num_blocking_threads(),
            self.num_idle_blocking_threads(),
            self.io_events_dispatched(),
            self.timers_pending(),
        )?;
        for index in 0..self.num_workers() {
            writeln!(
                f,
                "worker {index}: {} polls, {} steals, {} parks, queue {}",
                self.worker_poll_count(index),
                self.worker_steal_count(index),
                self.worker_park_count(index),
                self.worker_local_queue_depth(index),
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .field("spawned_tasks_count", &self.spawned_tasks_count())
            .field("injection_queue_depth", &self.injection_queue_depth())
            .field("num_blocking_threads", &self.num_blocking_threads())
            .field("io_events_dispatched", &self.io_events_dispatched())
            .field("timers_pending", &self.timers_pending())
            .finish_non_exhaustive()
    }
}
