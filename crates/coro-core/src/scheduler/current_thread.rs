//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`.
//!
//! # Algorithm
//!
//! The runtime's state is split in two:
//!
//! * [`Shared`] (behind an `Arc`, reachable from every waker): the injection
//!   queue for tasks scheduled from *other* threads, the parker, the task
//!   registry and the shutdown flag.
//! * [`Core`]: the local run queue, a plain `VecDeque` with no atomics. Only
//!   the thread inside `block_on` owns it; while it does, a pointer to it
//!   sits in a thread-local, so a wake-up *on that thread* (the common case:
//!   a task waking another) is a push onto a `VecDeque`.
//!
//! `block_on` alternates between polling its own future (when its waker
//! fired) and running up to `EVENT_INTERVAL` tasks. Every
//! `GLOBAL_QUEUE_INTERVAL` ticks it takes from the injection queue first, so
//! remote wake-ups are not starved by a busy local queue. After a full batch
//! it polls the [`Park`](crate::park::Park) driver without blocking (I/O
//! events keep flowing while busy); when there is nothing to run it parks.
//!
//! # Invariants
//!
//! * The `Core` is owned by at most one thread at a time (taken out of
//!   `Shared::core` by `block_on`, put back when it returns). A second
//!   thread calling `block_on` concurrently waits for the core while
//!   polling its own future.
//! * After shutdown starts, `schedule` drops every task it is given, which
//!   cancels it: nothing can be queued on a dead runtime.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use crate::coop;
use crate::loom::{lock, Arc};
use crate::runtime::watchdog::WorkerWatch;
use crate::runtime::{context, Handle, MetricsStore};
use crate::scheduler::inject::{release_spare, Inject};
use crate::scheduler::parker::{Driver, Parker};
use crate::scheduler::spin::{Pause, Spinner};
use crate::scheduler::{self, spawn_on, TaskOwner};
use crate::task::harness::{cancel, Locality, Runnable};
use crate::task::id::Site;
use crate::task::registry::OwnedTasks;
use crate::task::stats;
use crate::task::JoinHandle;

pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) global_queue_interval: u32,
    /// The runtime-wide worker number of the thread running this scheduler:
    /// its blocking-watchdog slot and the "running on worker N" of a task
    /// dump. 0 for a current-thread runtime; the shard's index for a shard
    /// of the thread-per-core runtime (`scheduler/thread_per_core.rs`).
    /// The scheduler's own `MetricsStore` always has one worker, index 0.
    pub(crate) worker_index: usize,
    /// How long the thread looks for work before it parks (`spin.rs`).
    pub(crate) spin_before_park: Duration,
    /// For a shard of a thread-per-core runtime: how many of its shards
    /// are awake (not parked), shared by all of them. A shard spins only
    /// while it is the last one awake, as a multi-thread worker does
    /// (`spin.rs`, "Who spins"). `None` for a current-thread runtime.
    pub(crate) shards_awake: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
}

pub(crate) struct Shared {
    inject: Inject<Runnable>,
    pub(crate) owned: OwnedTasks,
    parker: Parker,
    core: Mutex<Option<Box<Core>>>,
    /// Local tasks that became runnable while a thread other than their
    /// owner drove the runtime; their owner picks them up in `block_on`.
    stranded: Mutex<Vec<Runnable>>,
    /// Threads waiting in `block_on` for the core to come back.
    core_waiters: Mutex<Vec<Thread>>,
    shutdown: AtomicBool,
    config: Config,
    /// Counters; "worker 0" is whichever thread runs the core.
    /// Boxed, like the multi-thread scheduler's (its alignment).
    pub(crate) metrics: Box<MetricsStore>,
}

struct Core {
    queue: VecDeque<Runnable>,
    /// Tasks left before the injection queue gets first pick (a countdown
    /// rather than `tick % interval`: no division on the hot path).
    until_global: u32,
}

/// The core of the scheduler this thread is running, if any.
struct Running {
    shared: Arc<Shared>,
    core: RefCell<Box<Core>>,
    /// The blocking watchdog's slot, if the runtime has one.
    watch: Option<WorkerWatch>,
}

thread_local! {
    static RUNNING: Cell<*const Running> = const { Cell::new(std::ptr::null()) };
}

impl Shared {
    pub(crate) fn new(driver: Arc<Driver>, config: Config) -> Arc<Shared> {
        Arc::new(Shared {
            inject: Inject::new(),
            owned: OwnedTasks::new(),
            parker: Parker::new(driver),
            core: Mutex::new(Some(Box::new(Core {
                queue: VecDeque::with_capacity(64),
                until_global: 0,
            }))),
            stranded: Mutex::new(Vec::new()),
            core_waiters: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            config,
            metrics: Box::new(MetricsStore::new(1)),
        })
    }

    /// `Some(0)` if this thread runs this scheduler's core, else `None`.
    #[inline]
    pub(crate) fn current_worker(&self) -> Option<usize> {
        let running = RUNNING.get();
        // SAFETY: see `push_local`.
        (!running.is_null() && std::ptr::eq(Arc::as_ptr(&unsafe { &*running }.shared), self))
            .then_some(0)
    }

    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.inject.len()
    }

    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, site: Site) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.metrics.task_spawned(self.current_worker());
        let owner = TaskOwner::new(self.clone());
        // SAFETY: the bounds above make the future and output `Send`.
        unsafe { spawn_on(owner, future, Locality::Sendable, site) }
    }

    /// Pushes `task` onto this thread's local queue if this thread is
    /// running the scheduler at `shared` (only compared, never
    /// dereferenced); hands it back otherwise.
    fn push_local(shared: *const Shared, task: Runnable) -> Result<(), Runnable> {
        // `get` rather than `with`: a plain thread-local read the compiler
        // inlines (the hot path of every wake-up on this thread).
        let running = RUNNING.get();
        if running.is_null() {
            return Err(task);
        }
        // SAFETY: `RUNNING` is only non-null while `run_with_core` is on the
        // stack of this thread, which owns the pointee.
        let running = unsafe { &*running };
        if !std::ptr::eq(Arc::as_ptr(&running.shared), shared) {
            return Err(task);
        }
        // `try_borrow_mut` fails only when a task is scheduled from inside
        // code that already holds the core (dropping a task's future at
        // shutdown); the injection queue takes it then.
        match running.core.try_borrow_mut() {
            Ok(mut core) => {
                core.queue.push_back(task);
                Ok(())
            }
            Err(_) => Err(task),
        }
    }

    /// Stops the scheduler: refuses new work, cancels every task.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // The core is here unless a `block_on` is still running (the
        // runtime was dropped from inside one of its own tasks); that
        // `block_on` then cancels the core's tasks when it returns.
        let core = lock(&self.core).take();
        if let Some(core) = core {
            core.queue.into_iter().for_each(cancel);
        }
        self.inject.close().into_iter().for_each(cancel);
        std::mem::take(&mut *lock(&self.stranded))
            .into_iter()
            .for_each(cancel);
        self.owned.close_and_wake_all();
    }

    /// Moves local tasks owned by this thread from `stranded` into `core`.
    fn adopt_stranded(&self, core: &mut Core) {
        let mut stranded = lock(&self.stranded);
        if stranded.is_empty() {
            return;
        }
        let (mine, others): (Vec<_>, Vec<_>) = stranded
            .drain(..)
            .partition(|task| task.metadata().is_runnable_here());
        *stranded = others;
        core.queue.extend(mine);
    }
}

/// The owner of a task of this scheduler.
fn owner_of(task: &Runnable) -> &Shared {
    task.metadata()
        .owner()
        .downcast()
        .expect("scheduled on a current-thread runtime it does not belong to")
}

/// Queues `task` (see [`scheduler::schedule`]):
/// on this thread's local queue when this thread runs the scheduler, else
/// on the injection queue with a wake-up.
pub(crate) fn schedule(task: Runnable) {
    if owner_of(&task).shutdown.load(Ordering::Acquire) {
        cancel(task);
        return;
    }
    let owner: *const Shared = owner_of(&task);
    let Err(task) = Shared::push_local(owner, task) else {
        return;
    };
    // The thread running the scheduler may run and free the task once it is
    // queued, so take our own reference to the scheduler first.
    let shared: Arc<Shared> = task.metadata().owner().to_arc().expect("checked above");
    match shared.inject.push(task) {
        Ok(()) => shared.parker.unpark(),
        Err(task) => cancel(task),
    }
}

/// Wakes `block_on`'s own future: sets a flag and unparks the thread.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.shared.parker.unpark();
    }
}

/// Runs `future` to completion on this thread, running the runtime's tasks
/// while it waits.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, handle: &Handle, future: F) -> F::Output {
    let _driving = context::enter_runtime(handle);
    let mut future = pin!(future);
    loop {
        let core = lock(&shared.core).take();
        if let Some(core) = core {
            return run_with_core(shared, handle, core, future);
        }
        // Another thread is running the scheduler. Poll our future with a
        // thread waker until it finishes or the core comes back.
        let thread_waker = Waker::from(std::sync::Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&thread_waker);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        lock(&shared.core_waiters).push(std::thread::current());
        if lock(&shared.core).is_none() {
            std::thread::park();
        }
    }
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

fn run_with_core<F: Future>(
    shared: &Arc<Shared>,
    handle: &Handle,
    core: Box<Core>,
    mut future: std::pin::Pin<&mut F>,
) -> F::Output {
    let running = Running {
        shared: shared.clone(),
        core: RefCell::new(core),
        watch: handle
            .inner
            .watchdog
            .as_ref()
            .map(|w| w.worker(shared.config.worker_index)),
    };
    // Puts the core back and clears the thread-local, even on panic.
    struct Release<'a> {
        shared: &'a Shared,
        running: &'a Running,
        previous: *const Running,
    }
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(self.previous));
            let core = std::mem::replace(
                &mut *self.running.core.borrow_mut(),
                Box::new(Core {
                    queue: VecDeque::new(),
                    until_global: 0,
                }),
            );
            if self.shared.shutdown.load(Ordering::SeqCst) {
                // Shut down while we ran: cancel instead of putting back.
                core.queue.into_iter().for_each(cancel);
            } else {
                *lock(&self.shared.core) = Some(core);
            }
            for thread in lock(&self.shared.core_waiters).drain(..) {
                thread.unpark();
            }
        }
    }
    let previous = RUNNING.with(|r| r.replace(&running));
    let _worker = stats::enter_worker(shared.metrics.worker(0));
    let _release = Release {
        shared,
        running: &running,
        previous,
    };

    shared.adopt_stranded(&mut running.core.borrow_mut());

    let main_waker = std::sync::Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        shared: shared.clone(),
    });
    let waker = Waker::from(main_waker.clone());
    let mut cx = Context::from_waker(&waker);
    let config = &shared.config;
    // Each poll below gets a fresh budget (`coop::reset_budget`); this scope
    // restores the thread's previous budget when `block_on` returns.
    // Polls of the main future and task runs both count down to the next
    // non-blocking driver poll, so that neither a self-waking main future
    // nor a stream of tasks can keep I/O and timers from being dispatched.
    let mut until_driver = config.event_interval;
    let shards_awake = config.shards_awake.as_deref();
    // A shard yields between looks like the multi-thread spinner; the
    // thread of a current-thread runtime does not (`spin.rs`).
    let pause = match shards_awake {
        Some(_) => Pause::HintsThenYield,
        None => Pause::Hints,
    };
    let mut spinner = Spinner::new(config.spin_before_park, pause);
    coop::with_budget(|| loop {
        if main_waker.woken.swap(false, Ordering::AcqRel) {
            coop::reset_budget();
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            until_driver = until_driver.saturating_sub(1);
            spinner.arm();
        }
        let budget = until_driver;
        until_driver = running.run_tasks(until_driver);
        if until_driver < budget {
            spinner.arm();
        }
        if until_driver == 0 {
            // Busy: let the driver dispatch I/O and timers without blocking.
            stats::refresh_clock();
            shared.parker.driver().poll_now();
            until_driver = config.event_interval;
        } else if main_waker.woken.load(Ordering::Acquire) {
            // Our future is ready to make progress; poll it before parking.
        } else if running.core.borrow().queue.is_empty() && shared.inject.is_empty() {
            let has_work = || {
                !running.core.borrow().queue.is_empty()
                    || !shared.inject.is_empty()
                    || main_waker.woken.load(Ordering::Acquire)
            };
            // Before sleeping, look again for a short while: the driver
            // without blocking, then the queues (`spin.rs`); a shard only
            // if every other shard sleeps.
            let last_awake = shards_awake.is_none_or(|awake| awake.load(Ordering::SeqCst) <= 1);
            let found = if last_awake {
                spinner.spin(shared.parker.driver(), || {
                    shared.parker.driver().poll_now();
                    Ok(has_work().then_some(()))
                })
            } else {
                None
            };
            if found.is_some() {
                until_driver = config.event_interval;
                continue;
            }
            shared.metrics.worker(0).parks.incr();
            let idle = || {
                shared.inject.is_empty()
                    && !main_waker.woken.load(Ordering::Acquire)
                    && !handle.inner.blocking.is_busy()
            };
            if let Some(awake) = shards_awake {
                awake.fetch_sub(1, Ordering::SeqCst);
            }
            if shared.parker.driver().wants_idle() && idle() {
                shared.parker.park_idle(&idle);
            } else {
                shared.parker.park(None);
            }
            if let Some(awake) = shards_awake {
                awake.fetch_add(1, Ordering::SeqCst);
            }
            stats::refresh_clock();
            until_driver = config.event_interval;
        }
    })
}

impl Running {
    /// Runs queued tasks until the queues are empty or `budget` tasks have
    /// run; returns the budget left. Not generic (unlike `run_with_core`,
    /// which is compiled once per `block_on` future type), so the helpers it
    /// calls on every task are compiled, and inlined, here.
    fn run_tasks(&self, mut budget: u32) -> u32 {
        let shared = &*self.shared;
        let global_queue_interval = shared.config.global_queue_interval;
        let metrics = shared.metrics.worker(0);
        while budget > 0 {
            let task = {
                let mut core = self.core.borrow_mut();
                if core.until_global == 0 {
                    core.until_global = global_queue_interval;
                    shared.inject.pop().or_else(|| core.queue.pop_front())
                } else {
                    core.until_global -= 1;
                    core.queue.pop_front().or_else(|| shared.inject.pop())
                }
            };
            let Some(task) = task else {
                release_spare(&mut self.core.borrow_mut().queue);
                break;
            };
            if !task.metadata().is_runnable_here() {
                // A local task of another thread: only its owner may poll it.
                lock(&shared.stranded).push(task);
                continue;
            }
            coop::reset_budget();
            scheduler::run(task, metrics, self.watch.as_ref());
            budget -= 1;
        }
        let depth = self.core.borrow().queue.len();
        metrics.queue_depth.store(depth, Ordering::Relaxed);
        budget
    }
}

/// `spawn_local` for the thread's current-thread runtime.
#[track_caller]
pub(crate) fn spawn_local<F>(future: F, site: Site) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let shared = RUNNING.with(|running| {
        let running = running.get();
        if running.is_null() {
            return None;
        }
        // SAFETY: see `Shared::push_local`.
        Some(unsafe { &*running }.shared.clone())
    });
    let Some(shared) = shared else {
        panic!(
            "`coro::spawn_local` called outside a current-thread runtime or a shard of a \
             thread-per-core one. Local (`!Send`) tasks run on the thread that drives \
             them: call it inside `coro::block_on`, `#[coro::main(flavor = \"current_thread\")]` \
             or `#[coro::test]`, from a task of such a runtime, or from a shard's task \
             (`Runtime::block_on_each`, `ShardHandle::spawn_local_with`)."
        )
    };
    // On the thread running the scheduler, by the check above.
    shared.metrics.task_spawned(Some(0));
    // SAFETY: `Locality::ThreadLocal` has no `Send` requirement.
    unsafe { spawn_on(TaskOwner::new(shared), future, Locality::ThreadLocal, site) }
}
