//! The thread-per-core scheduler: N shards, each a current-thread scheduler
//! on a thread of its own, with its own [`Park`] (its own epoll instance
//! once coro-reactor installs one per shard), and no work stealing.
//!
//! # Design
//!
//! A shard is a [`current_thread::Shared`] driven by one thread that does
//! nothing but `current_thread::block_on(shard, handle, stop.wait())`. So a
//! shard is exactly a current-thread runtime: its local queue is a
//! `VecDeque` no other thread touches, a wake-up on its own thread is a push
//! onto that queue, `spawn_local` works there, and an idle shard sleeps in
//! its own driver. Nothing is copied from the current-thread scheduler: this
//! file only starts the shard threads, routes spawns, and stops them.
//!
//! Every shard's `Shared` has its own [`Parker`](super::parker::Parker) and
//! [`Driver`](super::parker::Driver): no lock, queue, poller or timer store is shared between
//! shards. What shards do share is the runtime around them (one `Handle`,
//! one blocking pool, one watchdog with a slot per shard); the shard's
//! `Config::worker_index` is its slot.
//!
//! How a task finds its shard:
//!
//! * spawned on a shard thread (`coro::spawn`, `Handle::spawn`): that shard;
//! * spawned from any other thread (`Runtime::spawn`, a blocking closure, a
//!   thread with `Handle::enter`): the shards in turn (round-robin);
//! * `ShardHandle::spawn` (`runtime/shard.rs`): the shard it names.
//!
//! Once queued, a task stays on its shard for life: its header names the
//! shard's `current_thread::Shared` as owner, so every wake-up, from
//! whichever thread, goes back to that shard's queue (a remote wake-up goes
//! through the shard's injection queue and unparks it).
//!
//! # Shutdown
//!
//! `shutdown` sets every shard's `stop` event; each shard thread then
//! returns from `block_on` and cancels its own tasks *on its own thread*
//! (`current_thread::Shared::shutdown`), which is the only place a local
//! (`!Send`) task may be dropped. The caller waits for the threads until
//! its deadline, then shuts every shard's scheduler down itself as well
//! (idempotent): a shard still stuck in a task that never yields refuses new
//! work from then on and cancels its tasks once that task returns.
//!
//! # Invariants
//!
//! * Only shard `i`'s thread ever runs `block_on` on `shards[i].scheduler`,
//!   so the core never moves between threads.
//! * `SHARD` is non-null exactly while a shard thread runs `run_shard`; it
//!   points at the `Shared` that thread's own `Arc` keeps alive.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle as ThreadHandle;
use std::time::{Duration, Instant};

use crate::loom::{lock, Arc, Condvar, Mutex};
use crate::park::{DriverMetrics, Park};
use crate::runtime::Handle;
use crate::scheduler::{current_thread, wait_for_threads};
use crate::sync::Event;
use crate::task::id::Site;
use crate::task::JoinHandle;

/// One shard: a current-thread scheduler, its park, and its stop signal.
pub(crate) struct Shard {
    pub(crate) scheduler: Arc<current_thread::Shared>,
    /// The shard's driver, the same object as the one inside the
    /// scheduler's parker: for metrics and the final `Park::shutdown`.
    pub(crate) park: std::sync::Arc<dyn Park>,
    /// The same object again, as `Any`, for `Handle::park_as`.
    pub(crate) park_any: std::sync::Arc<dyn Any + Send + Sync>,
    /// Set once, at shutdown: ends the shard thread's `block_on`.
    stop: Event,
}

impl Shard {
    pub(crate) fn new(
        scheduler: Arc<current_thread::Shared>,
        park: std::sync::Arc<dyn Park>,
        park_any: std::sync::Arc<dyn Any + Send + Sync>,
    ) -> Shard {
        Shard {
            scheduler,
            park,
            park_any,
            stop: Event::new(),
        }
    }
}

pub(crate) struct Shared {
    shards: Box<[Shard]>,
    /// The next shard for a spawn from a thread that is not a shard.
    next: AtomicUsize,
    thread_name: String,
    threads: Mutex<Vec<ThreadHandle<()>>>,
    /// Shard threads still running, and the condvar `shutdown` waits on.
    running: Mutex<usize>,
    all_exited: Condvar,
    /// Threads inside `Runtime::block_on` (see `runtime/park_thread.rs`).
    pub(crate) block_on_busy: std::sync::Arc<AtomicUsize>,
    /// Set by the first `shutdown`: `shutdown_timeout` is followed by the
    /// `Runtime`'s drop, whose second `shutdown(None)` must not wait again
    /// for a shard that the first one gave up on.
    shutdown: AtomicBool,
}

thread_local! {
    /// The runtime and shard index this thread runs, if it is a shard.
    static SHARD: Cell<(*const Shared, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

/// The index of the shard this thread runs, on any thread-per-core runtime.
pub(crate) fn current_index() -> Option<usize> {
    let (shared, index) = SHARD.get();
    (!shared.is_null()).then_some(index)
}

impl Shared {
    pub(crate) fn new(shards: Vec<Shard>, thread_name: String) -> Arc<Shared> {
        assert!(
            !shards.is_empty(),
            "a thread-per-core runtime needs a shard"
        );
        Arc::new(Shared {
            shards: shards.into_boxed_slice(),
            next: AtomicUsize::new(0),
            thread_name,
            threads: Mutex::new(Vec::new()),
            running: Mutex::new(0),
            all_exited: Condvar::new(),
            block_on_busy: std::sync::Arc::new(AtomicUsize::new(0)),
            shutdown: AtomicBool::new(false),
        })
    }

    pub(crate) fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// The index of the shard this thread runs, if it is one of ours.
    #[inline]
    pub(crate) fn current_shard(&self) -> Option<usize> {
        let (shared, index) = SHARD.get();
        std::ptr::eq(shared, self).then_some(index)
    }

    /// The shard whose driver serves this thread: its own on a shard
    /// thread, shard 0 elsewhere (`Runtime::block_on`'s thread, a blocking
    /// closure). Sockets and timers created off the shards register there.
    pub(crate) fn home_shard(&self) -> &Shard {
        &self.shards[self.current_shard().unwrap_or(0)]
    }

    /// Starts one thread per shard, named `"{thread_name}-{index}"`.
    pub(crate) fn launch(self: &Arc<Self>, handle: &Handle) -> io::Result<()> {
        for index in 0..self.shards.len() {
            let shared = self.clone();
            let handle = handle.clone();
            *lock(&self.running) += 1;
            let spawned = std::thread::Builder::new()
                .name(format!("{}-{index}", self.thread_name))
                .spawn(move || run_shard(&shared, index, &handle));
            match spawned {
                Ok(thread) => lock(&self.threads).push(thread),
                Err(err) => {
                    *lock(&self.running) -= 1;
                    self.shutdown(Some(Instant::now() + Duration::from_secs(1)));
                    return Err(io::Error::new(
                        err.kind(),
                        format!("coro: failed to spawn shard thread {index}: {err}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Spawns on this thread's shard, or on the next shard in turn.
    pub(crate) fn spawn<F>(&self, future: F, site: Site) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let index = self.current_shard().unwrap_or_else(|| {
            // Relaxed: any spread is correct, this only evens out the load.
            self.next.fetch_add(1, Ordering::Relaxed) % self.shards.len()
        });
        self.spawn_on_shard(index, future, site)
    }

    /// Spawns on shard `index` (checked by the caller).
    pub(crate) fn spawn_on_shard<F>(
        &self,
        index: usize,
        future: F,
        site: Site,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shards[index].scheduler.spawn(future, site)
    }

    /// Every shard's injection queue, summed.
    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.scheduler.injection_queue_depth())
            .sum()
    }

    /// Every shard's driver counters, summed.
    pub(crate) fn driver_metrics(&self) -> DriverMetrics {
        self.shards.iter().map(|shard| shard.park.metrics()).fold(
            DriverMetrics::default(),
            |sum, m| DriverMetrics {
                io_events: sum.io_events + m.io_events,
                timers_pending: sum.timers_pending + m.timers_pending,
            },
        )
    }

    /// Stops every shard; see the module docs. Waits for the shard threads
    /// until `deadline` (`None`: for as long as they take).
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        for shard in self.shards.iter() {
            shard.stop.set();
        }
        // Dropped from inside one of our own tasks: this shard cannot exit
        // until that task returns, so wait for the others only.
        let own = usize::from(self.current_shard().is_some());
        wait_for_threads(
            &self.running,
            &self.all_exited,
            &self.threads,
            own,
            deadline,
        );
        // Shards that exited did this themselves; a stuck one stops taking
        // work now (its queued `Send` tasks are dropped here, its local ones
        // when its thread gets back to its loop).
        for shard in self.shards.iter() {
            shard.scheduler.shutdown();
        }
    }

    /// Tells every shard's driver that the runtime is gone (last step of
    /// `Runtime::shutdown`).
    pub(crate) fn shutdown_drivers(&self) {
        for shard in self.shards.iter() {
            shard.park.shutdown();
        }
    }
}

/// Body of shard thread `index`.
fn run_shard(shared: &Arc<Shared>, index: usize, handle: &Handle) {
    /// Clears `SHARD` and counts the thread out, even if it panicked.
    struct Exit<'a>(&'a Shared);
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            SHARD.set((std::ptr::null(), 0));
            *lock(&self.0.running) -= 1;
            self.0.all_exited.notify_all();
        }
    }
    SHARD.set((Arc::as_ptr(shared), index));
    let _exit = Exit(shared);
    let shard = &shared.shards[index];
    current_thread::block_on(&shard.scheduler, handle, shard.stop.wait());
    // On this thread, where the shard's local tasks may be dropped.
    shard.scheduler.shutdown();
}
