//! The multi-thread, work-stealing scheduler.
//!
//! # How a task moves
//!
//! Each worker thread owns a [`Core`](worker::Core): a LIFO slot, a bounded
//! local queue ([`queue`]) and a tick counter. Tasks enter a worker in one of
//! three ways:
//!
//! 1. **Scheduled from its own worker** (spawned or woken by the running
//!    task): into the LIFO slot, displacing the previous occupant to the back
//!    of the local queue. The task just woken is usually the one that should
//!    run next (the receiver of a message just sent): running it at once
//!    keeps its data in cache and cuts message-passing latency.
//!    A task that woke *itself* (`yield_now`, an exhausted budget) goes to
//!    the back of the local queue instead, so it cannot monopolise the slot.
//! 2. **Scheduled from elsewhere** (a foreign thread, another runtime's
//!    worker, a waker fired after the worker moved on): into the shared
//!    injection queue ([`Inject`]).
//! 3. **Stolen**: an idle worker takes half of a random victim's local queue.
//!
//! Whenever a task lands somewhere another worker could take it, the
//! scheduler may wake one sleeping worker ([`idle`] decides whether that is
//! useful: only if nobody is already searching).
//!
//! A worker's loop (`worker.rs`): take the next task (the injection queue
//! first every `global_queue_interval` ticks, for fairness; otherwise the
//! local queue, refilled from the injection queue in batches), run it with a
//! fresh coop budget, then run the LIFO chain it produced (at most
//! `MAX_LIFO_POLLS_PER_TICK` in a row, so two tasks ping-ponging through the
//! slot cannot starve the queue). With nothing local, search: steal, then
//! the injection queue. With nothing anywhere, park (`parker`).
//!
//! # Invariants
//!
//! * A `Runnable` is in exactly one place: a LIFO slot, a local queue, the
//!   injection queue, or the stack of the worker running it.
//! * The LIFO slot and the local queue's push end are touched only by the
//!   owning worker thread; only `Steal` handles cross threads.
//! * After `shutdown` is set, `schedule` drops every task handed to it; each
//!   worker drops its own queue when it exits; the injection queue is closed
//!   and drained; the registry wakes (and so drops) every idle task.

mod idle;
pub(crate) mod queue;
mod worker;

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use async_task::ScheduleInfo;

use crate::loom::{lock, Arc, AtomicBool, Condvar, Mutex, Ordering};
use crate::runtime::{Handle, MetricsStore};
use crate::scheduler::inject::Inject;
use crate::scheduler::parker::{Driver, Parker};
use crate::scheduler::{spawn_on, wait_for_threads, TaskOwner};
use crate::task::harness::{Locality, Runnable};
use crate::task::id::Site;
use crate::task::registry::OwnedTasks;
use crate::task::JoinHandle;

use idle::Idle;

pub(crate) struct Config {
    pub(crate) worker_threads: usize,
    pub(crate) event_interval: u32,
    pub(crate) global_queue_interval: u32,
    pub(crate) thread_name: String,
    /// How long a worker that ran out of work keeps looking before it
    /// sleeps (`worker.rs`, `spin`); zero: it sleeps at once.
    pub(crate) spin_before_park: Duration,
}

/// What other threads may touch of a worker.
struct Remote {
    steal: queue::Steal<Runnable>,
    parker: Parker,
}

pub(crate) struct Shared {
    remotes: Box<[Remote]>,
    inject: Inject<Runnable>,
    idle: Idle,
    pub(crate) owned: OwnedTasks,
    shutdown: AtomicBool,
    /// Cores waiting for their worker thread to start.
    cores: Mutex<Vec<worker::Core>>,
    /// Number of worker threads still running, and its condvar.
    running: Mutex<usize>,
    all_exited: Condvar,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    config: Config,
    /// Boxed: its 128-byte alignment must not reorder this struct's
    /// fields (which would put, say, `shutdown` beside `idle`'s hot word).
    pub(crate) metrics: Box<MetricsStore>,
    /// Threads inside `Runtime::block_on` that are polling their future or
    /// about to (`runtime/park_thread.rs`): the runtime is not idle then.
    pub(crate) block_on_busy: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Shared {
    pub(crate) fn new(driver: Arc<Driver>, config: Config) -> Arc<Shared> {
        let n = config.worker_threads;
        let mut remotes = Vec::with_capacity(n);
        let mut cores = Vec::with_capacity(n);
        for index in 0..n {
            let (steal, local) = queue::local();
            remotes.push(Remote {
                steal,
                parker: Parker::new(driver.clone()),
            });
            cores.push(worker::Core::new(index, local, config.spin_before_park));
        }
        // Workers take cores by popping; reverse so worker 0 gets core 0.
        cores.reverse();
        Arc::new(Shared {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(n),
            owned: OwnedTasks::new(),
            shutdown: AtomicBool::new(false),
            cores: Mutex::new(cores),
            running: Mutex::new(0),
            all_exited: Condvar::new(),
            threads: Mutex::new(Vec::with_capacity(n)),
            config,
            metrics: Box::new(MetricsStore::new(n)),
            block_on_busy: Default::default(),
        })
    }

    /// Starts the worker threads; `handle` becomes their current runtime.
    pub(crate) fn launch(self: &Arc<Self>, handle: &Handle) -> io::Result<()> {
        for index in 0..self.config.worker_threads {
            let shared = self.clone();
            let handle = handle.clone();
            let core = lock(&self.cores).pop().expect("one core per worker thread");
            let name = format!("{}-{index}", self.config.thread_name);
            *lock(&self.running) += 1;
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || worker::run(shared, Box::new(core), handle));
            match spawned {
                Ok(thread) => lock(&self.threads).push(thread),
                Err(err) => {
                    *lock(&self.running) -= 1;
                    self.shutdown(Some(Instant::now() + Duration::from_secs(1)));
                    return Err(io::Error::new(
                        err.kind(),
                        format!("coro: failed to spawn worker thread {index}: {err}"),
                    ));
                }
            }
        }
        Ok(())
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

    /// The index of the calling thread if it is one of our workers.
    #[inline]
    pub(crate) fn current_worker(&self) -> Option<usize> {
        worker::current_index(self)
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    pub(crate) fn local_queue_depth(&self, index: usize) -> usize {
        self.remotes[index].steal.len()
    }

    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.inject.len()
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Queues a task from outside any worker of this runtime.
    fn schedule_remote(&self, task: Runnable) {
        match self.inject.push(task) {
            Ok(()) => self.notify_parked(),
            Err(task) => drop(task),
        }
    }

    /// Wakes one sleeping worker, if that is useful (see `idle.rs`).
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].parker.unpark();
        }
    }

    /// `notify_parked` for a worker that pushed into its own queue.
    fn notify_parked_local(&self) {
        if let Some(index) = self.idle.worker_to_notify_local() {
            self.remotes[index].parker.unpark();
        }
    }

    /// Whether any queue other workers could take from holds a task.
    fn has_visible_work(&self) -> bool {
        !self.inject.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty())
    }

    /// Stops every worker, then cancels every task. With a deadline, gives up
    /// waiting for workers stuck in a task that never yields (their threads
    /// are left to finish on their own).
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        for remote in self.remotes.iter() {
            remote.parker.unpark();
        }
        // Dropped from inside one of our own tasks: this worker cannot exit
        // until that task returns, so wait for the others only. It exits on
        // its own right after, dropping its queue.
        let own = usize::from(worker::is_worker_of(self));
        wait_for_threads(
            &self.running,
            &self.all_exited,
            &self.threads,
            own,
            deadline,
        );
        // Cores of workers that never started.
        drop(std::mem::take(&mut *lock(&self.cores)));
        drop(self.inject.close());
        self.owned.close_and_wake_all();
    }

    fn worker_exited(&self) {
        *lock(&self.running) -= 1;
        // Every exit, not just the last: `shutdown` called from a worker
        // waits for the count to reach one, not zero.
        self.all_exited.notify_all();
    }
}

/// The owner of a task of this scheduler.
fn owner_of(task: &Runnable) -> &Shared {
    task.metadata()
        .owner()
        .downcast()
        .expect("scheduled on a multi-thread runtime it does not belong to")
}

/// Queues `task` (see [`scheduler::schedule`](crate::scheduler::schedule)):
/// on this worker's queue when called from one of the runtime's workers,
/// else on the injection queue.
pub(crate) fn schedule(task: Runnable, info: ScheduleInfo) {
    if owner_of(&task).is_shutdown() {
        drop(task);
        return;
    }
    // Only the address: on one of its workers, the worker's own `Arc` is
    // used from here on.
    let owner: *const Shared = owner_of(&task);
    let Err(task) = worker::schedule_local(owner, task, info.woken_while_running) else {
        return;
    };
    // Another worker may run and free the task once it is queued, so take
    // our own reference to the scheduler first.
    let shared: Arc<Shared> = task.metadata().owner().to_arc().expect("checked above");
    shared.schedule_remote(task);
}

impl queue::Overflow<Runnable> for Inject<Runnable> {
    fn push_batch(&self, tasks: impl Iterator<Item = Runnable>) {
        Inject::push_batch(self, tasks);
    }
}
