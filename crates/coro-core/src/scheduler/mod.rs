//! The two schedulers and what they share.
//!
//! * [`current_thread`]: one thread, the one inside `block_on`, runs every
//!   task. Cheapest wake-ups, no stealing, supports `spawn_local`.
//! * [`multi_thread`]: one worker per core with work stealing.
//!
//! Both hand tasks to the same generic [`spawn_on`], so there is one path
//! from a future to a scheduled task; they differ only in what their
//! [`Schedule::schedule`] does with a `Runnable`.

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;
pub(crate) mod parker;

use std::future::Future;

use async_task::ScheduleInfo;

use crate::loom::Arc;
use crate::task::harness::{self, Locality, Runnable};
use crate::task::registry::OwnedTasks;
use crate::task::JoinHandle;

/// What a scheduler provides to tasks.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a task that became runnable (spawned, or woken).
    /// `info.woken_while_running` is set for a task that woke itself, like
    /// `yield_now`: it should go to the back of the queue.
    fn schedule(self: &Arc<Self>, task: Runnable, info: ScheduleInfo);

    /// The registry shutdown uses to cancel idle tasks.
    fn owned(&self) -> &OwnedTasks;
}

/// Creates a task owned by `scheduler` and schedules its first poll.
///
/// # Safety
/// With `Locality::Sendable`, `F` and `F::Output` must be `Send`.
pub(crate) unsafe fn spawn_on<S, F>(
    scheduler: &Arc<S>,
    future: F,
    locality: Locality,
) -> JoinHandle<F::Output>
where
    S: Schedule,
    F: Future + 'static,
    F::Output: 'static,
{
    let schedule = {
        let scheduler = scheduler.clone();
        move |task, info| scheduler.schedule(task, info)
    };
    // SAFETY: forwarded from our caller.
    let (runnable, handle) =
        unsafe { harness::spawn(future, locality, Some(scheduler.owned()), schedule) };
    runnable.schedule();
    handle
}
