//! Per-task statistics for the task dump: how often a task was polled,
//! when last, and whether it is scheduled or running (and where).
//!
//! # Who writes, and why plain stores are enough
//!
//! Two header words, [`TaskStats`]: `polls` (count and last-poll time) and
//! `flags` (scheduled, running, worker). They are written only at points
//! that async-task's own state machine already orders one after another:
//! the schedule function (called by one waker at a time, and never during
//! a poll: a wake during a poll is deferred by async-task until the poll
//! returns, then made by the polling thread), and the start and end of each
//! poll (one thread at a time). Consecutive writers are linked by
//! happens-before through async-task's state word and the run queues, so
//! each update is a relaxed load and a relaxed store, with no locked
//! instruction. The dump reads them with relaxed loads from another
//! thread; a reading may be a moment old, never torn.
//!
//! # The clock
//!
//! "When last polled" must not read a clock per poll (that would cost more
//! than a `yield_now`). Each thread that polls tasks keeps a coarse clock
//! in a thread-local: milliseconds since a process-wide epoch, refreshed
//! by the worker loop every few dozen polls and after every sleep
//! ([`refresh_clock`]). A poll stamps the task with that value, so a
//! reading is late by at most one maintenance interval.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::task::harness::TaskMeta;

const SCHEDULED: u32 = 1 << 31;
const RUNNING: u32 = 1 << 30;
/// Worker index + 1 while running on a worker (0: a thread that is not a
/// numbered worker, such as the blocking pool).
const WORKER_MASK: u32 = (1 << 16) - 1;

/// A task's counters, in its header.
pub(crate) struct TaskStats {
    /// Low half: polls so far (wrapping); high half: the coarse clock at
    /// the last poll's start.
    polls: AtomicU64,
    flags: AtomicU32,
}

/// What a task was doing when the dump looked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    Scheduled,
    Running(Option<usize>),
    Idle,
}

thread_local! {
    /// This thread's worker index + 1 (0: none) in the high half, its
    /// coarse clock in the low half.
    static WORKER_CLOCK: Cell<u64> = const { Cell::new(0) };
    /// The task being polled on this thread (for `task::id()`), or null.
    static CURRENT: Cell<*const TaskMeta> = const { Cell::new(std::ptr::null()) };
}

/// The task being polled on this thread, or null.
#[inline]
pub(crate) fn current_task() -> *const TaskMeta {
    CURRENT.get()
}

/// Marks `meta`'s task as polled on this thread until dropped: counts the
/// poll, and makes it `task::id()`'s current task.
pub(crate) struct Polling<'a> {
    stats: &'a TaskStats,
    previous: *const TaskMeta,
}

impl<'a> Polling<'a> {
    #[inline]
    pub(crate) fn start(meta: &'a TaskMeta) -> Polling<'a> {
        let worker_clock = WORKER_CLOCK.get();
        let stats = meta.stats();
        stats.poll_started((worker_clock >> 32) as u32, worker_clock as u32);
        Polling {
            stats,
            previous: CURRENT.replace(meta),
        }
    }
}

impl Drop for Polling<'_> {
    #[inline]
    fn drop(&mut self) {
        self.stats.poll_ended();
        CURRENT.set(self.previous);
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn coarse_now() -> u32 {
    // Wraps after 49 days; differences are taken wrapping too.
    epoch().elapsed().as_millis() as u32
}

/// Marks this thread as worker `index` (for "running on worker N").
pub(crate) fn set_worker(index: Option<usize>) {
    let worker = index.map_or(0, |i| (i as u32 + 1).min(WORKER_MASK));
    WORKER_CLOCK.set((u64::from(worker) << 32) | u64::from(coarse_now()));
}

/// Refreshes this thread's coarse clock (see the module docs).
pub(crate) fn refresh_clock() {
    let worker = WORKER_CLOCK.get() >> 32;
    WORKER_CLOCK.set((worker << 32) | u64::from(coarse_now()));
}

impl TaskStats {
    pub(crate) const fn new() -> TaskStats {
        TaskStats {
            polls: AtomicU64::new(0),
            flags: AtomicU32::new(SCHEDULED),
        }
    }

    /// The task was queued to run.
    #[inline]
    pub(crate) fn scheduled(&self) {
        let flags = self.flags.load(Ordering::Relaxed);
        self.flags.store(flags | SCHEDULED, Ordering::Relaxed);
    }

    /// A poll starts on worker `worker` (index + 1, or 0) at coarse `now`.
    #[inline]
    fn poll_started(&self, worker: u32, now: u32) {
        let polls = self.polls.load(Ordering::Relaxed) as u32;
        let stamped = (u64::from(now) << 32) | u64::from(polls.wrapping_add(1));
        self.polls.store(stamped, Ordering::Relaxed);
        self.flags.store(RUNNING | worker, Ordering::Relaxed);
    }

    /// The poll returned (or unwound).
    #[inline]
    fn poll_ended(&self) {
        self.flags.store(0, Ordering::Relaxed);
    }

    pub(crate) fn activity(&self) -> Activity {
        let flags = self.flags.load(Ordering::Relaxed);
        if flags & RUNNING != 0 {
            let worker = flags & WORKER_MASK;
            Activity::Running((worker != 0).then(|| worker as usize - 1))
        } else if flags & SCHEDULED != 0 {
            Activity::Scheduled
        } else {
            Activity::Idle
        }
    }

    /// Polls so far, and the time since the last one started (`None` if
    /// never polled).
    pub(crate) fn polls(&self) -> (u32, Option<Duration>) {
        let word = self.polls.load(Ordering::Relaxed);
        let polls = word as u32;
        let since = (polls != 0).then(|| {
            let last = (word >> 32) as u32;
            Duration::from_millis(u64::from(coarse_now().wrapping_sub(last)))
        });
        (polls, since)
    }
}
