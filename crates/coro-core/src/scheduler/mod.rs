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
#[inline(always)]
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

/// Waits until at most `own` of a scheduler's threads still run (`running`,
/// signalled through `all_exited`; `own` is 1 when called from one of them,
/// which cannot exit before its caller returns), or until `deadline`. If
/// they all exited, joins them, except the calling thread. Shared by the
/// multi-thread and thread-per-core schedulers' `shutdown`.
pub(crate) fn wait_for_threads(
    running: &crate::loom::Mutex<usize>,
    all_exited: &crate::loom::Condvar,
    threads: &crate::loom::Mutex<Vec<std::thread::JoinHandle<()>>>,
    own: usize,
    deadline: Option<std::time::Instant>,
) {
    let mut count = crate::loom::lock(running);
    while *count > own {
        count = match deadline {
            None => all_exited.wait(count).unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = std::time::Instant::now();
                if now >= deadline {
                    break;
                }
                all_exited
                    .wait_timeout(count, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
    let all_exited = *count == own;
    drop(count);
    let handles = std::mem::take(&mut *crate::loom::lock(threads));
    if all_exited {
        let current = std::thread::current().id();
        for thread in handles {
            // A runtime dropped from inside one of its own tasks (via a
            // `spawn_blocking` closure, say) must not join itself.
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }
}
