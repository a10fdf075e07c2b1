//! The two schedulers and what they share.
//!
//! * [`current_thread`]: one thread, the one inside `block_on`, runs every
//!   task. Cheapest wake-ups, no stealing, supports `spawn_local`.
//! * [`multi_thread`]: one worker per core with work stealing.
//! * [`thread_per_core`]: N current-thread schedulers, one per thread, each
//!   with its own driver; no stealing (a shard is a `current_thread`).
//!
//! Both (and the blocking pool) hand tasks to the same [`spawn_on`], so
//! there is one path from a future to a scheduled task. Each task names its
//! scheduler in its header ([`TaskOwner`], `owner.rs`), and the one schedule
//! function, [`schedule`], sends a woken task to that scheduler's
//! `schedule`; they differ only in what that does with the `Runnable`.

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;
mod owner;
pub(crate) mod parker;
mod spin;
pub(crate) mod thread_per_core;

pub(crate) use owner::{Owner, TaskOwner};

use std::future::Future;

use async_task::ScheduleInfo;

use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::watchdog::WorkerWatch;
use crate::task::harness::{self, Locality, Runnable};
use crate::task::id::Site;
use crate::task::JoinHandle;

/// The schedule function of every task: queues a task that became runnable
/// (spawned, or woken) on the scheduler that owns it.
/// `info.woken_while_running` is set for a task that woke itself, like
/// `yield_now`: it goes to the back of the queue.
///
/// The owner lives in the task's own header. Once the task is handed off
/// (queued where another thread can run it, or dropped) the header may be
/// freed, so no reference into it may live past that point, not even an
/// unused one held by a function argument. Each scheduler's `schedule`
/// therefore only compares the owner's address while on one of its own
/// threads (whose `Arc` keeps the scheduler alive), and clones the owner's
/// `Arc` before handing the task off from anywhere else.
pub(crate) fn schedule(task: Runnable, info: ScheduleInfo) {
    task.metadata().stats().scheduled();
    match task.metadata().owner().get() {
        Owner::CurrentThread(_) => current_thread::schedule(task),
        Owner::MultiThread(_) => multi_thread::schedule(task, info),
        Owner::Blocking => crate::runtime::blocking::schedule(task),
    }
}

/// Polls `task` once on a worker: counts the poll and, with a blocking
/// watchdog, publishes it in the worker's slot (`runtime/watchdog.rs`).
/// Every scheduler runs tasks through here.
#[inline]
pub(crate) fn run(task: Runnable, metrics: &WorkerMetrics, watch: Option<&WorkerWatch>) {
    metrics.polls.incr();
    match watch {
        None => {
            task.run();
        }
        Some(watch) => {
            watch.begin(task.metadata());
            task.run();
            watch.end();
        }
    }
}

/// Creates a task owned by `owner` and schedules its first poll.
///
/// # Safety
/// With `Locality::Sendable`, `F` and `F::Output` must be `Send`.
pub(crate) unsafe fn spawn_on<F>(
    owner: TaskOwner,
    future: F,
    locality: Locality,
    site: Site,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // SAFETY: forwarded from our caller.
    let (runnable, handle) = unsafe { harness::spawn(future, locality, owner, site) };
    runnable.schedule();
    handle
}
