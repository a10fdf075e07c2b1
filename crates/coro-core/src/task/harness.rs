//! What wraps every spawned future: panic catching, abort, registration.
//!
//! A task is an async-task allocation holding a [`Harness`] around the
//! user's future, plus a [`TaskMeta`] header. The harness turns the future's
//! outcome into `Result<T, JoinError>`:
//!
//! * a panic inside `poll` is caught (`catch_unwind`) and becomes
//!   `Err(JoinError::panic)`, so it never unwinds through a worker;
//! * an abort (a flag in `TaskMeta`, set by `JoinHandle::abort`) is checked
//!   at the start of every poll and becomes `Err(JoinError::cancelled)`;
//!   returning `Ready` makes async-task drop the user's future right away;
//! * the first `Pending` registers the task in its runtime's
//!   [`OwnedTasks`], so shutdown and abort can reach it while idle.
//!
//! Every kind of task (`spawn`, `spawn_local`, `spawn_blocking`, on either
//! scheduler) is created by [`spawn`] below; they differ only in the
//! schedule function and in whether async-task checks the spawning thread.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::thread::ThreadId;

use async_task::{Builder, ScheduleInfo, WithInfo};

use crate::loom::{AtomicBool, AtomicUsize, Ordering};
use crate::task::registry::{OwnedTasks, NOT_REGISTERED};
use crate::task::{JoinError, JoinHandle};

/// A task as the schedulers see it.
pub(crate) type Runnable = async_task::Runnable<TaskMeta>;

/// The header async-task stores beside each task.
pub(crate) struct TaskMeta {
    aborted: AtomicBool,
    /// Registry slot (shard and index), or `NOT_REGISTERED`.
    slot: AtomicUsize,
    /// The registry of the runtime that owns this task, if it has one
    /// (blocking tasks never pend, so they have none).
    owned: Option<NonNull<OwnedTasks>>,
    /// For a `spawn_local` task, the only thread allowed to poll or drop it.
    owner: Option<ThreadId>,
}

// SAFETY: `owned` points into the scheduler that the task's schedule
// function keeps alive (an `Arc` stored in the same async-task allocation,
// dropped only when the allocation is freed, after the future and every
// handle are gone). `OwnedTasks` is `Sync`; the other fields are atomics.
unsafe impl Send for TaskMeta {}
// SAFETY: see above.
unsafe impl Sync for TaskMeta {}

impl TaskMeta {
    fn new(owned: Option<&OwnedTasks>, owner: Option<ThreadId>) -> TaskMeta {
        TaskMeta {
            aborted: AtomicBool::new(false),
            slot: AtomicUsize::new(NOT_REGISTERED),
            owned: owned.map(NonNull::from),
            owner,
        }
    }

    /// Whether this thread may poll or drop the task: always, unless it is
    /// a local task spawned by another thread.
    pub(crate) fn is_runnable_here(&self) -> bool {
        self.owner
            .is_none_or(|owner| owner == std::thread::current().id())
    }

    pub(crate) fn slot(&self) -> usize {
        self.slot.load(Ordering::SeqCst)
    }

    pub(crate) fn set_slot(&self, slot: usize) {
        self.slot.store(slot, Ordering::SeqCst);
    }

    fn owned(&self) -> Option<&OwnedTasks> {
        // SAFETY: see the `Send` impl: the registry outlives the task.
        self.owned.map(|p| unsafe { p.as_ref() })
    }

    /// Marks the task aborted and wakes it if it is idle.
    ///
    /// The harness stores `slot` then loads `aborted`; we store `aborted`
    /// then load `slot` (all `SeqCst`). So either we see the registration
    /// and wake the task, or the harness sees the flag right after
    /// registering. An unregistered task has not yet returned `Pending` and
    /// so is queued or running; its next poll sees the flag.
    pub(crate) fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        if let Some(owned) = self.owned() {
            owned.wake(self);
        }
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }
}

/// The future async-task actually runs.
pub(crate) struct Harness<F> {
    /// `None` once the user's future has been dropped (completed, panicked
    /// or aborted). We drop it ourselves, inside `catch_unwind`, so that a
    /// destructor that panics becomes a `JoinError` instead of unwinding
    /// into async-task (which would abort the process).
    future: Option<F>,
    meta: NonNull<TaskMeta>,
    registered: bool,
}

// SAFETY: `meta` points into the task's own allocation, which outlives the
// harness (the future is dropped before the header), and `TaskMeta` is
// `Sync`. The harness is `Send` exactly when the user's future is.
unsafe impl<F: Send> Send for Harness<F> {}

impl<F: Future> Future for Harness<F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // the harness (only dropped in place), and the harness is pinned in
        // its task allocation.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see the `Send` impl.
        let meta = unsafe { this.meta.as_ref() };
        if meta.is_aborted() {
            return Poll::Ready(this.drop_future().and(Err(JoinError::cancelled())));
        }
        let Some(future) = this.future.as_mut() else {
            // async-task never polls a task again after it returned `Ready`.
            unreachable!("task polled after completion");
        };
        // SAFETY: as above, the future is pinned.
        let future = unsafe { Pin::new_unchecked(future) };
        // After a panic the future is dropped at once (below), so nobody
        // observes it in a broken state: asserting unwind safety is sound in
        // the sense `UnwindSafe` cares about.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(this.drop_future().map(|()| output)),
            Ok(Poll::Pending) => {
                if !this.registered {
                    if let Some(owned) = meta.owned() {
                        this.registered = owned.register(meta, cx.waker());
                        if !this.registered {
                            // The runtime is shutting down: nothing would ever
                            // wake this task again, so cancel it now.
                            return Poll::Ready(
                                this.drop_future().and(Err(JoinError::cancelled())),
                            );
                        }
                        if meta.is_aborted() {
                            // Aborted between our check and the registration;
                            // make sure we are polled again to notice.
                            cx.waker().wake_by_ref();
                        }
                    }
                }
                Poll::Pending
            }
            Err(payload) => {
                // A second panic from the destructor is dropped: the first
                // one is the interesting one.
                let _ = this.drop_future();
                Poll::Ready(Err(JoinError::panic(payload)))
            }
        }
    }
}

impl<F> Harness<F> {
    /// Drops the user's future in place, turning a panic in its destructor
    /// into a `JoinError`.
    fn drop_future(&mut self) -> Result<(), JoinError> {
        catch_unwind(AssertUnwindSafe(|| self.future = None)).map_err(JoinError::panic)
    }
}

impl<F> Drop for Harness<F> {
    fn drop(&mut self) {
        // Cancelled by the scheduler (shutdown): nobody can receive a panic
        // from the destructor, and letting it unwind into async-task would
        // abort the process, so it is swallowed.
        let _ = self.drop_future();
        if self.registered {
            // SAFETY: see the `Send` impl.
            let meta = unsafe { self.meta.as_ref() };
            if let Some(owned) = meta.owned() {
                owned.deregister(meta);
            }
        }
    }
}

/// Whether the future must stay on the thread that spawned it.
pub(crate) enum Locality {
    /// `Send` future: may run on any thread of its runtime.
    Sendable,
    /// `!Send` future: async-task checks every poll and drop happen on the
    /// spawning thread and panics otherwise.
    ThreadLocal,
}

/// Creates a task. The caller schedules the returned `Runnable` (or drops
/// it, which cancels the task).
///
/// # Safety
/// With `Locality::Sendable` the caller must ensure `F: Send` and
/// `F::Output: Send` (the public `spawn` functions bound on them). With
/// `ThreadLocal` there is no extra requirement: async-task enforces it.
pub(crate) unsafe fn spawn<F, S>(
    future: F,
    locality: Locality,
    owned: Option<&OwnedTasks>,
    schedule: S,
) -> (Runnable, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Fn(Runnable, ScheduleInfo) + Send + Sync + 'static,
{
    let owner = match locality {
        Locality::Sendable => None,
        Locality::ThreadLocal => Some(std::thread::current().id()),
    };
    let builder = Builder::new().metadata(TaskMeta::new(owned, owner));
    let wrap = |meta: &TaskMeta| Harness {
        future: Some(future),
        meta: NonNull::from(meta),
        registered: false,
    };
    let (runnable, task) = match locality {
        // SAFETY: the caller guarantees `Send`; the future is `'static`, and
        // the schedule function is `Send + Sync + 'static`.
        Locality::Sendable => unsafe { builder.spawn_unchecked(wrap, WithInfo(schedule)) },
        Locality::ThreadLocal => builder.spawn_local(wrap, WithInfo(schedule)),
    };
    let handle = JoinHandle::new(task);
    (runnable, handle)
}

/// Cancels a task the scheduler will not run: drops its `Runnable`, which
/// drops the future and tells the `JoinHandle`.
///
/// A local task may only be dropped by the thread that spawned it (its
/// future may hold `Rc`s shared with that thread). When a runtime is torn
/// down from another thread, such a task is leaked instead: a leak is safe,
/// dropping it here would be a data race (async-task would abort).
pub(crate) fn cancel(task: Runnable) {
    if task.metadata().is_runnable_here() {
        drop(task);
    } else {
        std::mem::forget(task);
    }
}
