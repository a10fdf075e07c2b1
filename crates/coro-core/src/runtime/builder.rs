use std::fmt;
use std::io;
use std::time::Duration;

use crate::park::{Park, ThreadPark};
use crate::runtime::blocking::BlockingPool;
use crate::runtime::watchdog::{self, BlockingReport, Watchdog};
use crate::runtime::{Handle, HandleInner, Runtime, Scheduler};
use crate::scheduler::parker::Driver;
use crate::scheduler::{current_thread, multi_thread, thread_per_core};
use std::any::Any;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// A driver, and the same object as `Any` (for `Handle::park_as`).
type ParkPair = (Arc<dyn Park>, Arc<dyn Any + Send + Sync>);

/// Where the runtime's driver(s) come from.
#[derive(Clone)]
enum ParkSource {
    /// One object for the runtime ([`Builder::park`]).
    One(ParkPair),
    /// A new object per shard, or one for other flavors
    /// ([`Builder::park_factory`]).
    Factory(Arc<dyn Fn() -> io::Result<ParkPair> + Send + Sync>),
}

/// [`Builder::spin_before_park`]'s default.
const DEFAULT_SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// Configures and builds a [`Runtime`].
///
/// Methods take and return `&mut Builder`, so both a chain and step-by-step
/// configuration work.
///
/// # Examples
///
/// ```
/// use coro_core::runtime::Builder;
///
/// let rt = Builder::new()
///     .worker_threads(2)
///     .thread_name("my-app")
///     .build()
///     .unwrap();
/// let name = rt.block_on(async {
///     coro_core::spawn(async { std::thread::current().name().unwrap().to_owned() })
///         .await
///         .unwrap()
/// });
/// assert!(name.starts_with("my-app-"), "{name}");
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
    blocking_keep_alive: Duration,
    event_interval: u32,
    global_queue_interval: u32,
    spin_before_park: Duration,
    park: Option<ParkSource>,
    blocking_threshold: Option<Duration>,
    on_blocking: Option<watchdog::Hook>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flavor {
    CurrentThread,
    MultiThread,
    ThreadPerCore,
}

impl Builder {
    /// A builder for a multi-thread runtime with one worker per CPU core.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn new() -> Builder {
        Builder {
            flavor: Flavor::MultiThread,
            worker_threads: None,
            thread_name: "coro".to_owned(),
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
            event_interval: 61,
            global_queue_interval: 31,
            spin_before_park: DEFAULT_SPIN_BEFORE_PARK,
            park: None,
            blocking_threshold: None,
            on_blocking: None,
        }
    }

    /// Selects the multi-thread scheduler (the default): tasks run on a pool
    /// of worker threads and move between them by work stealing.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().multi_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn multi_thread(&mut self) -> &mut Self {
        self.flavor = Flavor::MultiThread;
        self
    }

    /// Selects the current-thread scheduler: every task runs on the thread
    /// that calls [`Runtime::block_on`]. No worker threads are started, and
    /// [`spawn_local`](crate::spawn_local) is available.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// let main = std::thread::current().id();
    /// let ran_on = rt.block_on(async {
    ///     coro_core::spawn(async { std::thread::current().id() }).await.unwrap()
    /// });
    /// assert_eq!(ran_on, main);
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.flavor = Flavor::CurrentThread;
        self
    }

    /// Selects the thread-per-core flavor: one thread per shard (see
    /// [`worker_threads`](Self::worker_threads)), each running its own
    /// current-thread scheduler with its own driver (its own epoll instance
    /// under `coro`), and no work stealing. A task stays on the shard it
    /// was spawned on: `spawn` from a shard's task queues on that shard,
    /// [`spawn_local`](crate::spawn_local) works on every shard, and a spawn
    /// from outside the shards goes to them in turn. Run code on every
    /// shard with [`Runtime::block_on_each`], on one with
    /// [`Handle::shard`](crate::runtime::Handle::shard); a task learns its
    /// shard from [`current_shard`](crate::runtime::current_shard).
    ///
    /// This is the shape of monoio and glommio, and of gevent's advice to
    /// pair coroutines with processes: each core runs its own event loop
    /// over its own connections (for example, each shard accepting on its
    /// own `SO_REUSEPORT` listener), so no queue, poller or wake-up is
    /// shared between cores. Work is not rebalanced: a shard with more
    /// connections than the others stays busier.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new()
    ///     .thread_per_core()
    ///     .worker_threads(2)
    ///     .build()
    ///     .unwrap();
    /// let shards = rt.block_on_each(|index| async move {
    ///     // A `!Send` value is fine: this future never leaves its shard.
    ///     let local = std::rc::Rc::new(index);
    ///     coro_core::spawn_local(async move { *local }).await.unwrap()
    /// });
    /// assert_eq!(shards, [0, 1]);
    /// ```
    pub fn thread_per_core(&mut self) -> &mut Self {
        self.flavor = Flavor::ThreadPerCore;
        self
    }

    /// Sets the number of worker threads of a multi-thread runtime, or of
    /// shards of a [thread-per-core](Self::thread_per_core) one. Defaults
    /// to the number of CPU cores.
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0: a runtime needs at least one worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().worker_threads(3).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "`worker_threads(0)`: a runtime needs at least one worker thread; \
             use `current_thread()` to run every task on the calling thread"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Names the runtime's threads: worker `N` is called `"{name}-N"`,
    /// blocking-pool threads `"{name}-blocking"`. Defaults to `"coro"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_name("svc").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Caps the number of threads of the blocking pool, and so the number of
    /// [`spawn_blocking`](crate::spawn_blocking) closures that run at once;
    /// more wait in a queue. Defaults to 512.
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0: blocking tasks would never run.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().max_blocking_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "`max_blocking_threads(0)`: spawn_blocking tasks would never run; use at least 1"
        );
        self.max_blocking_threads = n;
        self
    }

    /// How long a worker that has just run out of work keeps looking for
    /// more (its queue, ready I/O without blocking, and on the multi-thread
    /// runtime the other workers' queues) before it goes to sleep. Defaults
    /// to 50 µs.
    ///
    /// Sleeping and being woken again costs two context switches and, on a
    /// virtual machine, waking a halted vCPU: tens of microseconds that a
    /// request arriving right after the previous answer would otherwise
    /// wait. Spinning trades some CPU for that: a worker spins only right
    /// after it ran a task (never twice in a row without work in between),
    /// so an idle program still uses no CPU; on the multi-thread and
    /// thread-per-core runtimes only the last worker (shard) awake spins,
    /// and it yields its CPU between looks to any other thread that wants
    /// it. `Duration::ZERO` turns it off (every worker sleeps as soon as it
    /// finds nothing), which suits machines shared with other busy
    /// programs. Applies to every flavor: the current-thread runtime's
    /// thread is its one worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = coro_core::runtime::Builder::new()
    ///     .spin_before_park(Duration::ZERO)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn spin_before_park(&mut self, spin: Duration) -> &mut Self {
        self.spin_before_park = spin;
        self
    }

    /// Replaces how idle threads sleep (see [`Park`]). coro-reactor uses it to
    /// make idle workers wait in the OS poller; the default is a condition
    /// variable ([`ThreadPark`]). Code running on the runtime gets the same
    /// object back, with its type, from
    /// [`Handle::park_as`](crate::runtime::Handle::park_as).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::park::ThreadPark;
    ///
    /// let rt = coro_core::runtime::Builder::new()
    ///     .park(Arc::new(ThreadPark::new()))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn park<P: Park>(&mut self, park: Arc<P>) -> &mut Self {
        self.park = Some(ParkSource::One((park.clone(), park)));
        self
    }

    /// Like [`park`](Self::park), but `make` creates the driver: once per
    /// shard on a [thread-per-core](Self::thread_per_core) runtime (each
    /// shard sleeps in its own), once for the other flavors. coro's
    /// facade uses it to give each shard its own reactor. A shard's code
    /// gets its own shard's object from
    /// [`Handle::park_as`](crate::runtime::Handle::park_as).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::park::ThreadPark;
    /// use coro_core::runtime::Handle;
    ///
    /// let rt = coro_core::runtime::Builder::new()
    ///     .thread_per_core()
    ///     .worker_threads(2)
    ///     .park_factory(|| Ok(Arc::new(ThreadPark::new())))
    ///     .build()
    ///     .unwrap();
    /// let parks = rt.block_on_each(|_| async {
    ///     Arc::as_ptr(&Handle::current().park_as::<ThreadPark>().unwrap()) as usize
    /// });
    /// assert_ne!(parks[0], parks[1], "each shard has its own driver");
    /// ```
    pub fn park_factory<P, F>(&mut self, make: F) -> &mut Self
    where
        P: Park,
        F: Fn() -> io::Result<Arc<P>> + Send + Sync + 'static,
    {
        self.park = Some(ParkSource::Factory(Arc::new(move || {
            let park = make()?;
            Ok((
                park.clone() as Arc<dyn Park>,
                park as Arc<dyn Any + Send + Sync>,
            ))
        })));
        self
    }

    /// The configuration of one current-thread scheduler: the whole
    /// runtime (`shards_awake` `None`), or the shard `worker_index` of a
    /// thread-per-core one.
    fn current_thread_config(
        &self,
        worker_index: usize,
        shards_awake: Option<Arc<AtomicUsize>>,
    ) -> current_thread::Config {
        current_thread::Config {
            event_interval: self.event_interval,
            global_queue_interval: self.global_queue_interval,
            worker_index,
            spin_before_park: self.spin_before_park,
            shards_awake,
        }
    }

    /// A driver for the runtime, or for one shard.
    fn make_park(&self) -> io::Result<ParkPair> {
        match &self.park {
            None => {
                let park = Arc::new(ThreadPark::new());
                Ok((park.clone(), park))
            }
            Some(ParkSource::One(pair)) => Ok(pair.clone()),
            Some(ParkSource::Factory(make)) => make(),
        }
    }

    /// The shards of a thread-per-core runtime, each with its own driver.
    fn build_shards(&self, count: usize) -> io::Result<Arc<thread_per_core::Shared>> {
        if count > 1 && matches!(self.park, Some(ParkSource::One(_))) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a thread-per-core runtime with more than one shard needs one driver per \
                 shard (each shard sleeps in its own): use `Builder::park_factory` instead \
                 of `Builder::park`",
            ));
        }
        let mut shards = Vec::with_capacity(count);
        // Every shard starts awake; each counts itself out while it sleeps.
        let awake = Arc::new(AtomicUsize::new(count));
        for index in 0..count {
            let (park, park_any) = self.make_park()?;
            let scheduler = current_thread::Shared::new(
                Driver::new(park.clone()),
                self.current_thread_config(index, Some(awake.clone())),
            );
            shards.push(thread_per_core::Shard::new(scheduler, park, park_any));
        }
        Ok(thread_per_core::Shared::new(
            shards,
            self.thread_name.clone(),
        ))
    }

    /// Turns the blocking watchdog on: a task that stays inside one poll
    /// longer than `threshold` (a blocking call such as
    /// `std::thread::sleep`, a lock held across a slow operation, a long
    /// computation) is reported while it still blocks its worker, and again
    /// when it returns; see [`BlockingReport`]. Reports go to stderr (to
    /// `tracing` with that feature) and to [`on_blocking`](Self::on_blocking).
    ///
    /// Off by default. Without this call the environment variable
    /// `CORO_BLOCKING_THRESHOLD_MS` sets it (empty: 100 ms, gevent's
    /// default). It costs a monitor thread, and a few stores per poll.
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
    /// let rt = coro_core::runtime::Builder::new()
    ///     .blocking_threshold(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn blocking_threshold(&mut self, threshold: Duration) -> &mut Self {
        assert!(
            threshold > Duration::ZERO,
            "`blocking_threshold(0)` would report every poll; use a threshold such as \
             Duration::from_millis(100), or leave the watchdog off"
        );
        self.blocking_threshold = Some(threshold);
        self
    }

    /// Calls `hook` with every blocking-watchdog report, on the monitor
    /// thread (while blocked) or on the worker (when the poll returns).
    /// Turns the watchdog on with a 100 ms threshold unless
    /// [`blocking_threshold`](Self::blocking_threshold) or
    /// `CORO_BLOCKING_THRESHOLD_MS` sets one.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new()
    ///     .on_blocking(|report| eprintln!("stall: {report}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_blocking<F>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(&BlockingReport) + Send + Sync + 'static,
    {
        self.on_blocking = Some(Arc::new(hook));
        self
    }

    /// Creates the runtime, starting its worker threads.
    ///
    /// # Errors
    ///
    /// Returns the OS error if a worker thread cannot be spawned, and
    /// `InvalidInput` if `CORO_BLOCKING_THRESHOLD_MS` is not a number of
    /// milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let threshold = match self.blocking_threshold {
            Some(threshold) => Some(threshold),
            None => watchdog::threshold_from_env()?,
        };
        let threshold = threshold.or(self
            .on_blocking
            .as_ref()
            .map(|_| watchdog::DEFAULT_THRESHOLD));
        let workers = self
            .worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let (scheduler, (park, park_any)) = match self.flavor {
            Flavor::CurrentThread => {
                let (park, park_any) = self.make_park()?;
                let scheduler = Scheduler::CurrentThread(current_thread::Shared::new(
                    Driver::new(park.clone()),
                    self.current_thread_config(0, None),
                ));
                (scheduler, (park, park_any))
            }
            Flavor::MultiThread => {
                let (park, park_any) = self.make_park()?;
                let scheduler = Scheduler::MultiThread(multi_thread::Shared::new(
                    Driver::new(park.clone()),
                    multi_thread::Config {
                        worker_threads: workers,
                        event_interval: self.event_interval,
                        global_queue_interval: self.global_queue_interval,
                        thread_name: self.thread_name.clone(),
                        spin_before_park: self.spin_before_park,
                    },
                ));
                (scheduler, (park, park_any))
            }
            Flavor::ThreadPerCore => {
                let shared = self.build_shards(workers)?;
                let first = &shared.shards()[0];
                let pair = (first.park.clone(), first.park_any.clone());
                (Scheduler::ThreadPerCore(shared), pair)
            }
        };
        let workers = match &scheduler {
            Scheduler::CurrentThread(_) => 1,
            Scheduler::MultiThread(shared) => shared.num_workers(),
            Scheduler::ThreadPerCore(shared) => shared.shards().len(),
        };
        let watchdog = match threshold {
            Some(threshold) => Some(Watchdog::start(
                threshold,
                self.on_blocking.clone(),
                workers,
                &self.thread_name,
            )?),
            None => None,
        };
        let inner = Arc::new_cyclic(|weak| HandleInner {
            scheduler,
            blocking: BlockingPool::new(
                weak.clone(),
                self.max_blocking_threads,
                self.thread_name.clone(),
                self.blocking_keep_alive,
            ),
            park: park_any,
            park_hook: park,
            watchdog,
        });
        let handle = Handle { inner };
        match &handle.inner.scheduler {
            Scheduler::CurrentThread(_) => {}
            Scheduler::MultiThread(shared) => shared.launch(&handle)?,
            Scheduler::ThreadPerCore(shared) => shared.launch(&handle)?,
        }
        Ok(Runtime { handle })
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish_non_exhaustive()
    }
}
