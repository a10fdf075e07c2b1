//! A worker thread of the multi-thread scheduler: its run loop, how it finds
//! work, and how it goes to sleep. The algorithm is described in `mod.rs`;
//! this file is the code of one worker.
//!
//! The worker's [`Core`] is moved into a thread-local `RefCell` while the
//! worker runs a task or sleeps in the driver, so that a wake-up happening on
//! this thread (a task waking another, or the driver dispatching I/O) can
//! push straight into the LIFO slot or local queue without any atomics
//! beyond the queue's own.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use crate::coop;
use crate::loom::Arc;
use crate::runtime::watchdog::WorkerWatch;
use crate::runtime::{context, Handle};
use crate::scheduler;
use crate::scheduler::multi_thread::{queue, Shared};
use crate::scheduler::spin::{Pause, Spinner};
use crate::task::harness::Runnable;
use crate::task::stats;

/// How many times in a row the LIFO slot may bypass the queue.
const MAX_LIFO_POLLS_PER_TICK: usize = 3;

pub(crate) struct Core {
    index: usize,
    lifo: Option<Runnable>,
    local: queue::Local<Runnable>,
    /// Countdowns to the next driver poll and the next injection-queue-first
    /// pick. Countdowns, not `tick % interval`: no division per task.
    until_maintenance: u32,
    until_global: u32,
    is_searching: bool,
    rand: FastRand,
    /// Reused buffer for refills from the injection queue: the batch is
    /// taken under the queue's lock and pushed locally after releasing it
    /// (a push may overflow back into that same queue).
    refill: Vec<Runnable>,
    /// Whether and how long to look for work before parking (`spin.rs`).
    /// In the core, not the context: arming it after each task is then one
    /// store rather than a copy out of and back into a `Cell`.
    spinner: Spinner,
}

impl Core {
    pub(crate) fn new(index: usize, local: queue::Local<Runnable>, spin: Duration) -> Core {
        Core {
            index,
            lifo: None,
            local,
            until_maintenance: 0,
            until_global: 0,
            is_searching: false,
            rand: FastRand::new(index as u64 + 1),
            refill: Vec::new(),
            spinner: Spinner::new(spin, Pause::HintsThenYield),
        }
    }

    fn has_tasks(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }
}

/// The worker this thread runs, for `schedule_local`.
struct Context {
    shared: Arc<Shared>,
    /// The runtime, for the blocking pool's state when deciding idleness.
    handle: Handle,
    /// This worker's slot of the blocking watchdog, if there is one.
    watch: Option<WorkerWatch>,
    /// The worker's index, also in `Core`, here so that it can be read
    /// while the core is borrowed.
    index: usize,
    /// `Some` while a task runs or the worker sleeps in the driver.
    core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    static CURRENT: Cell<*const Context> = const { Cell::new(std::ptr::null()) };
}

/// Schedules `task` on the current thread's worker if it belongs to
/// `shared`; hands it back otherwise (the caller uses the injection queue).
pub(super) fn schedule_local(
    shared: *const Shared,
    task: Runnable,
    is_yield: bool,
) -> Result<(), Runnable> {
    // `get` rather than `with`: a plain thread-local read the compiler
    // inlines (the hot path of every wake-up on a worker).
    let cx = CURRENT.get();
    if cx.is_null() {
        return Err(task);
    }
    // SAFETY: `CURRENT` is non-null only while `run` is on this thread's
    // stack, and `run` owns the `Context`.
    let cx = unsafe { &*cx };
    if !std::ptr::eq(Arc::as_ptr(&cx.shared), shared) {
        return Err(task);
    }
    // From here on use the worker's own `Arc`: the `Arc` that `shared`
    // came from lives in the task's header, which the task may take with
    // it once queued.
    let shared = &*cx.shared;
    let Ok(mut slot) = cx.core.try_borrow_mut() else {
        return Err(task);
    };
    let Some(core) = slot.as_mut() else {
        return Err(task);
    };
    let notify = if is_yield {
        core.local.push_back_or_overflow(task, &shared.inject);
        true
    } else {
        match core.lifo.replace(task) {
            Some(previous) => {
                core.local.push_back_or_overflow(previous, &shared.inject);
                true
            }
            None => false,
        }
    };
    drop(slot);
    // Work another worker could steal appeared: maybe wake one.
    if notify {
        shared.notify_parked_local();
    }
    Ok(())
}

/// The index of the calling thread if it is one of `shared`'s workers.
#[inline]
pub(super) fn current_index(shared: &Shared) -> Option<usize> {
    let cx = CURRENT.get();
    // SAFETY: see `schedule_local`.
    (!cx.is_null() && std::ptr::eq(Arc::as_ptr(&unsafe { &*cx }.shared), shared))
        .then(|| unsafe { &*cx }.index)
}

/// Whether the calling thread is one of `shared`'s workers.
pub(super) fn is_worker_of(shared: &Shared) -> bool {
    CURRENT.with(|current| {
        let cx = current.get();
        // SAFETY: see `schedule_local`.
        !cx.is_null() && std::ptr::eq(Arc::as_ptr(&unsafe { &*cx }.shared), shared)
    })
}

/// Body of a worker thread.
pub(super) fn run(shared: Arc<Shared>, core: Box<Core>, handle: Handle) {
    let _runtime = context::enter_runtime(&handle);
    let handle = handle.clone();
    let watch = handle.inner.watchdog.as_ref().map(|w| w.worker(core.index));
    let cx = Context {
        shared,
        handle,
        watch,
        index: core.index,
        core: RefCell::new(None),
    };
    let previous = CURRENT.with(|c| c.replace(&cx));
    let worker = stats::enter_worker(cx.shared.metrics.worker(cx.index));
    // The loop resets the budget before each task (`coop::reset_budget`);
    // this scope restores the thread's budget when the worker exits.
    let core = coop::with_budget(|| cx.run(core));
    drop(worker);
    CURRENT.with(|c| c.set(previous));
    // Dropping queued tasks runs their destructors, which may schedule other
    // tasks; `CURRENT` is cleared and the runtime is shut down, so those are
    // dropped too rather than queued.
    drop(core);
    cx.shared.worker_exited();
}

impl Context {
    fn run(&self, mut core: Box<Core>) -> Box<Core> {
        let shared = &*self.shared;
        while !shared.is_shutdown() {
            if core.until_maintenance == 0 {
                core.until_maintenance = shared.config.event_interval;
                core = self.maintenance(core);
            }
            core.until_maintenance -= 1;
            // One call site of `run_task`, and the search for work out of
            // line: the compiler then inlines the whole hot path (next task,
            // poll, LIFO follow-ups) into this loop. With three call sites
            // it did not: 488 instead of 420 instructions per `yield_now`
            // (callgrind, 2 workers, 1,000 tasks).
            let task = match self.next_task(&mut core) {
                Some(task) => Some(task),
                None => {
                    let (searched, found) = self.search(core);
                    core = searched;
                    found
                }
            };
            core = match task {
                Some(task) => self.run_task(core, task),
                None => self.park(core),
            };
        }
        core
    }

    /// Out of local work: steal, then spin (`spin`). `None`: time to park.
    #[inline(never)]
    fn search(&self, mut core: Box<Core>) -> (Box<Core>, Option<Runnable>) {
        if let Some(task) = self.steal_work(&mut core) {
            return (core, Some(task));
        }
        self.spin(core)
    }

    #[inline(always)]
    fn next_task(&self, core: &mut Core) -> Option<Runnable> {
        if core.until_global == 0 {
            core.until_global = self.shared.config.global_queue_interval;
            // Fairness: the injection queue gets a turn even if the local
            // queue never runs dry.
            return self
                .shared
                .inject
                .pop()
                .or_else(|| core.lifo.take())
                .or_else(|| core.local.pop());
        }
        core.until_global -= 1;
        // The LIFO slot is normally emptied right after the task that
        // filled it (`run_task`), but the driver fills it too when it wakes
        // a task during a park or a maintenance poll.
        if let Some(task) = core.lifo.take().or_else(|| core.local.pop()) {
            return Some(task);
        }
        self.refill_from_inject(core)
    }

    /// Takes a batch from the injection queue: one lock for many tasks, and
    /// a fair share left for the other workers. Returns the first task and
    /// queues the rest locally; capped by the room left in the local queue,
    /// so the batch never overflows straight back.
    ///
    /// Only when the local queue is empty. The fairness turn in `next_task`
    /// takes one task: a batch there too was measured (it keeps a burst
    /// spawned from outside the runtime in long runs of memory neighbours,
    /// 35 -> 25 ns per yield), but under I/O overload, where every driver
    /// poll overflows the local queue, it moved tasks between the workers
    /// in bulk and cost 10 % of the round trips at 10,000 connections.
    fn refill_from_inject(&self, core: &mut Core) -> Option<Runnable> {
        let shared = &*self.shared;
        if shared.inject.is_empty() {
            return None;
        }
        let workers = shared.remotes.len();
        let room = queue::CAPACITY - core.local.len();
        let want = (shared.inject.len() / workers + 1).min(room.max(1));
        let mut batch = std::mem::take(&mut core.refill);
        shared.inject.pop_batch(want, &mut batch);
        let mut tasks = batch.drain(..);
        let first = tasks.next();
        for task in tasks {
            core.local.push_back_or_overflow(task, &shared.inject);
        }
        core.refill = batch;
        first
    }

    /// Steals from a random victim, then tries the injection queue.
    fn steal_work(&self, core: &mut Core) -> Option<Runnable> {
        let shared = &*self.shared;
        if !core.is_searching {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let n = shared.remotes.len();
        let start = core.rand.below(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == core.index {
                continue;
            }
            if let Some(task) = shared.remotes[victim].steal.steal_into(&mut core.local) {
                shared.metrics.worker(core.index).steals.incr();
                return Some(task);
            }
        }
        shared.inject.pop()
    }

    #[inline(always)]
    fn run_task(&self, mut core: Box<Core>, task: Runnable) -> Box<Core> {
        let shared = &*self.shared;
        // The worker ran a task: it may spin the next time it runs dry.
        core.spinner.arm();
        if core.is_searching {
            core.is_searching = false;
            // The last searcher found work: if more is visible, hand the
            // search on to a sleeping worker (`idle.rs`). Pushers skipped
            // waking anyone while we searched; the fence, after our counter
            // update, pairs with theirs so that we see what they pushed.
            if shared.idle.transition_worker_from_searching() {
                crate::loom::fence(crate::loom::Ordering::SeqCst);
                if shared.has_visible_work() {
                    shared.notify_parked();
                }
            }
        }
        let metrics = shared.metrics.worker(core.index);
        *self.core.borrow_mut() = Some(core);
        coop::reset_budget();
        {
            scheduler::run(task, metrics, self.watch.as_ref());
            let mut lifo_polls = 0;
            loop {
                let next = {
                    let mut slot = self.core.borrow_mut();
                    let core = slot.as_mut().expect("core is in the context");
                    let Some(next) = core.lifo.take() else { break };
                    if lifo_polls >= MAX_LIFO_POLLS_PER_TICK || !coop::has_budget_remaining() {
                        // Enough: queue it behind the others.
                        core.local.push_back_or_overflow(next, &shared.inject);
                        drop(slot);
                        shared.notify_parked_local();
                        break;
                    }
                    next
                };
                lifo_polls += 1;
                scheduler::run(next, metrics, self.watch.as_ref());
            }
        }
        self.core
            .borrow_mut()
            .take()
            .expect("core is in the context")
    }

    /// Every `event_interval` ticks: let the driver dispatch I/O without
    /// blocking, so a busy worker does not starve sockets and timers.
    fn maintenance(&self, core: Box<Core>) -> Box<Core> {
        let index = core.index;
        *self.core.borrow_mut() = Some(core);
        stats::refresh_clock();
        self.shared.remotes[index].parker.driver().poll_now();
        self.core
            .borrow_mut()
            .take()
            .expect("core is in the context")
    }

    /// Before parking, keeps looking for work for a short while
    /// (`scheduler/spin.rs`): its own queue, the driver without blocking
    /// (events it dispatches land in this worker's queue), the other
    /// workers' queues, the injection queue. While it spins the worker is
    /// unparked and usually searching, so a worker that pushes work wakes
    /// nobody: the spinner takes it.
    fn spin(&self, core: Box<Core>) -> (Box<Core>, Option<Runnable>) {
        let shared = &*self.shared;
        if !shared.idle.others_parked() {
            // Another worker is awake and will poll the driver: spinning
            // beside it would only take a CPU from the threads feeding us
            // (`spin.rs`, "Who spins").
            return (core, None);
        }
        let mut spinner = core.spinner;
        let mut slot = Some(core);
        let driver = shared.remotes[self.index].parker.driver();
        let found = spinner.spin(driver, || {
            if shared.is_shutdown() {
                return Err(());
            }
            let mut core = self.maintenance(slot.take().expect("the spinner holds the core"));
            let found = self
                .next_task(&mut core)
                .or_else(|| self.steal_work(&mut core));
            slot = Some(core);
            Ok(found)
        });
        let mut core = slot.expect("the spinner gives the core back");
        core.spinner = spinner;
        (core, found)
    }

    /// Sleeps until there may be work. See `idle.rs` for the protocol.
    fn park(&self, mut core: Box<Core>) -> Box<Core> {
        let shared = &*self.shared;
        if core.has_tasks() {
            return core;
        }
        let index = core.index;
        let was_last_searcher = shared
            .idle
            .transition_worker_to_parked(index, core.is_searching);
        core.is_searching = false;
        if was_last_searcher && shared.has_visible_work() {
            // Work arrived while we were the last one looking: make sure
            // someone (possibly us) wakes up for it.
            shared.notify_parked();
        }
        while !shared.is_shutdown() {
            // Park with the core in the context so that tasks woken by the
            // driver on this thread land in our own queue.
            *self.core.borrow_mut() = Some(core);
            shared.metrics.worker(index).parks.incr();
            self.sleep(index);
            stats::refresh_clock();
            core = self
                .core
                .borrow_mut()
                .take()
                .expect("core is in the context");

            if !shared.idle.is_parked(index) {
                // Notified: we were counted as unparked and searching.
                core.is_searching = true;
                return core;
            }
            if core.has_tasks() {
                // The driver woke tasks onto our queue.
                if !shared.idle.unpark_worker_by_id(index) {
                    // Someone notified us at the same moment.
                    core.is_searching = true;
                }
                if !core.local.is_empty() {
                    shared.notify_parked();
                }
                return core;
            }
            // Spurious or timer-only wake-up: sleep again.
        }
        // Shutdown: leave the sleepers list so counters stay consistent.
        shared.idle.unpark_worker_by_id(index);
        core
    }
}

impl Context {
    /// Sleeps in the parker; through `park_idle` if the driver wants to
    /// know (a paused clock) and the whole runtime is idle.
    fn sleep(&self, index: usize) {
        let shared = &*self.shared;
        let parker = &shared.remotes[index].parker;
        if !parker.driver().wants_idle() {
            parker.park(None);
            return;
        }
        let blocking = &self.handle.inner.blocking;
        let idle = || {
            shared.idle.all_parked()
                && shared
                    .block_on_busy
                    .load(std::sync::atomic::Ordering::SeqCst)
                    == 0
                && !shared.has_visible_work()
                && !blocking.is_busy()
        };
        if idle() {
            parker.park_idle(&idle);
        } else {
            parker.park(None);
        }
    }
}

/// xorshift64*: a tiny, fast, deterministic generator for picking victims.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize) % n
    }
}
