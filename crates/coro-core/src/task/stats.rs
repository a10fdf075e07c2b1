//! Per-task statistics for the task dump: how often a task was polled,
//! when last, whether it is scheduled, and which task each worker is
//! polling right now.
//!
//! # One header word per task
//!
//! [`TaskStats`] is one `u64` in the task's header: the poll count (low
//! 32 bits, wrapping), the coarse clock at the last poll's start (31 bits
//! of milliseconds) and a `SCHEDULED` bit. One word, not two, because the
//! header's size decides the task's allocation size class: 8 more bytes
//! moved a trivial task from glibc's fast bins to its slower ones and cost
//! ~60 instructions per spawn (see "What a task costs" in
//! `docs/architecture.md`).
//!
//! It is written only at points that async-task's own state machine
//! already orders one after another: the schedule function (called by one
//! waker at a time, and never during a poll: a wake during a poll is
//! deferred by async-task until the poll returns, then made by the polling
//! thread) and the start of each poll (one thread at a time). Consecutive
//! writers are linked by happens-before through async-task's state word
//! and the run queues, so each update is a relaxed load and a relaxed
//! store, with no locked instruction. The dump reads it with relaxed loads
//! from another thread; a reading may be a moment old, never torn.
//!
//! # Which task is running where
//!
//! "Running" is not in the task's header: each worker has a slot
//! ([`WorkerMetrics::running`](crate::runtime::WorkerMetrics), on the
//! worker's own cache lines) holding the task it is polling, null between
//! polls. [`Polling`] writes it at the start and end of every poll; the
//! dump reads every worker's slot and matches the pointers against the
//! tasks it lists (it compares addresses, never dereferences them). The
//! same slot answers `task::id()` on that thread. A thread that is not a
//! worker (the blocking pool) uses a slot of its own in a thread-local.
//!
//! The thread-local that finds the worker's slot also finds its counters,
//! so a task completing inside its poll is counted as exited there
//! ([`count_exit_here`]) without looking up its runtime.
//!
//! # The clock
//!
//! "When last polled" must not read a clock per poll (that would cost more
//! than a `yield_now`). Each thread that polls tasks keeps a coarse clock
//! in a thread-local: milliseconds since a process-wide epoch, refreshed
//! by the worker loop every few dozen polls and after every sleep
//! ([`refresh_clock`]). A poll stamps the task with that value, so a
//! reading is late by at most one maintenance interval. It wraps after
//! 24.8 days: a task idle longer than that shows a shorter idle time.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::runtime::WorkerMetrics;
use crate::task::harness::TaskMeta;

const SCHEDULED: u64 = 1 << 63;
const CLOCK_SHIFT: u32 = 32;
/// The clock's 31 bits, in place.
const CLOCK_MASK: u64 = ((1 << 31) - 1) << CLOCK_SHIFT;
const POLLS_MASK: u64 = (1 << 32) - 1;

/// A task's counters, in its header.
pub(crate) struct TaskStats {
    /// `SCHEDULED | clock at the last poll << 32 | polls`.
    word: AtomicU64,
}

thread_local! {
    /// This thread's coarse clock (see the module docs).
    static CLOCK: Cell<u32> = const { Cell::new(0) };
    /// The counters of the worker this thread is (null: not a worker).
    static WORKER: Cell<*const WorkerMetrics> = const { Cell::new(std::ptr::null()) };
    /// The running-task slot of a thread that is not a worker.
    static OWN_SLOT: AtomicPtr<TaskMeta> = const { AtomicPtr::new(std::ptr::null_mut()) };
}

/// This thread's running-task slot: its worker's, or its own.
#[inline]
fn slot() -> *const AtomicPtr<TaskMeta> {
    let worker = WORKER.get();
    if worker.is_null() {
        OWN_SLOT.with(|own| own as *const AtomicPtr<TaskMeta>)
    } else {
        // SAFETY: see `enter_worker`.
        &unsafe { &*worker }.running
    }
}

/// Counts a task that just completed inside its poll on this thread (the
/// common way a task ends) on this worker's counters: no lookup of the
/// task's runtime, which is this worker's (workers poll only their own
/// runtime's tasks). Does nothing on a thread that is not a worker: those
/// poll only blocking-pool closures, which are not counted.
#[inline]
pub(crate) fn count_exit_here() {
    let worker = WORKER.get();
    if !worker.is_null() {
        // SAFETY: see `enter_worker`.
        unsafe { &*worker }.exited.incr();
    }
}

/// The task being polled on this thread, or null.
#[inline]
pub(crate) fn current_task() -> *const TaskMeta {
    // SAFETY: `slot()` is this thread's own slot or its worker's, which
    // outlives the `WorkerGuard` that installed it (see `enter_worker`).
    unsafe { &*slot() }.load(Ordering::Relaxed)
}

/// Marks `meta`'s task as polled on this thread until dropped: counts the
/// poll, and makes it the running task of this thread's slot.
pub(crate) struct Polling {
    slot: *const AtomicPtr<TaskMeta>,
    previous: *mut TaskMeta,
}

impl Polling {
    #[inline]
    pub(crate) fn start(meta: &TaskMeta) -> Polling {
        meta.stats().poll_started(CLOCK.get());
        let slot = slot();
        // SAFETY: see `current_task`; the guard lives on this thread's
        // stack, inside the poll, so the slot outlives it too.
        let running = unsafe { &*slot };
        // Not null only for a poll nested in another (a task polled from
        // inside another task's poll): restored at the end.
        let previous = running.load(Ordering::Relaxed);
        running.store(meta as *const TaskMeta as *mut TaskMeta, Ordering::Relaxed);
        Polling { slot, previous }
    }
}

impl Drop for Polling {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: see `start`.
        unsafe { &*self.slot }.store(self.previous, Ordering::Relaxed);
    }
}

/// Makes this thread the worker whose counters (and running-task slot)
/// are `metrics` until the guard drops.
///
/// The caller keeps `metrics` alive for as long as the guard lives (the
/// schedulers hold their `Shared`, which owns the metrics, across it).
pub(crate) fn enter_worker(metrics: &WorkerMetrics) -> WorkerGuard {
    refresh_clock();
    WorkerGuard {
        previous: WORKER.replace(metrics),
    }
}

/// Restores the thread's previous worker (see `enter_worker`).
pub(crate) struct WorkerGuard {
    previous: *const WorkerMetrics,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        WORKER.set(self.previous);
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn coarse_now() -> u32 {
    // 31 bits: wraps after 24.8 days; differences are taken wrapping too.
    (epoch().elapsed().as_millis() as u32) & (CLOCK_MASK >> CLOCK_SHIFT) as u32
}

/// Refreshes this thread's coarse clock (see the module docs).
pub(crate) fn refresh_clock() {
    CLOCK.set(coarse_now());
}

impl TaskStats {
    pub(crate) const fn new() -> TaskStats {
        TaskStats {
            word: AtomicU64::new(SCHEDULED),
        }
    }

    /// The task was queued to run.
    #[inline]
    pub(crate) fn scheduled(&self) {
        let word = self.word.load(Ordering::Relaxed);
        self.word.store(word | SCHEDULED, Ordering::Relaxed);
    }

    /// A poll starts at coarse time `now`: one more poll, not scheduled.
    #[inline]
    fn poll_started(&self, now: u32) {
        let polls = (self.word.load(Ordering::Relaxed) as u32).wrapping_add(1);
        self.word.store(
            (u64::from(now) << CLOCK_SHIFT) | u64::from(polls),
            Ordering::Relaxed,
        );
    }

    /// Whether the task waits in a run queue.
    pub(crate) fn is_scheduled(&self) -> bool {
        self.word.load(Ordering::Relaxed) & SCHEDULED != 0
    }

    /// Polls so far, and the time since the last one started (`None` if
    /// never polled).
    pub(crate) fn polls(&self) -> (u32, Option<Duration>) {
        let word = self.word.load(Ordering::Relaxed);
        let polls = (word & POLLS_MASK) as u32;
        let since = (polls != 0).then(|| {
            let last = ((word & CLOCK_MASK) >> CLOCK_SHIFT) as u32;
            let elapsed = coarse_now().wrapping_sub(last) & (CLOCK_MASK >> CLOCK_SHIFT) as u32;
            Duration::from_millis(u64::from(elapsed))
        });
        (polls, since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_counts_stamps_and_clears_scheduled() {
        let stats = TaskStats::new();
        assert!(stats.is_scheduled());
        assert_eq!(stats.polls(), (0, None));
        stats.poll_started(coarse_now());
        assert!(!stats.is_scheduled());
        let (polls, since) = stats.polls();
        assert_eq!(polls, 1);
        assert!(since.expect("polled once") < Duration::from_secs(3600));
        stats.scheduled();
        assert!(stats.is_scheduled());
        assert_eq!(stats.polls().0, 1, "scheduling does not count a poll");
    }

    #[test]
    fn the_clock_wraps_within_its_bits() {
        let stats = TaskStats::new();
        // A stamp just before the wrap, read just after it: a short time.
        let max = (CLOCK_MASK >> CLOCK_SHIFT) as u32;
        stats.poll_started(max);
        let word = stats.word.load(Ordering::Relaxed);
        assert_eq!(word & SCHEDULED, 0, "the clock never spills into SCHEDULED");
        assert_eq!(((word & CLOCK_MASK) >> CLOCK_SHIFT) as u32, max);
    }
}
