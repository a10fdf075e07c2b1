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

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use async_task::{Builder, WithInfo};
use pin_project_lite::pin_project;

use crate::loom::{AtomicU64, Ordering};
use crate::scheduler::{schedule, TaskOwner};
use crate::task::id::{Id, LazyId, Site};
use crate::task::registry::OwnedTasks;
use crate::task::stats::{self, Polling, TaskStats};
use crate::task::{JoinError, JoinHandle};
use crate::trace::{self, TaskSpan};

/// A task as the schedulers see it.
pub(crate) type Runnable = async_task::Runnable<TaskMeta>;

/// The header async-task stores beside each task: 40 bytes.
///
/// It is also what makes the schedule function zero-sized. async-task keeps
/// the schedule function inside the task allocation, and when that function
/// captures anything (an `Arc` of the scheduler, say) it must clone and drop
/// a waker around every call, two atomic read-modify-writes per wake-up, to
/// keep the captured state alive. Storing the scheduler here instead lets
/// [`schedule`] be a plain `fn` that reads it
/// from the `Runnable`.
pub(crate) struct TaskMeta {
    /// The scheduler that runs the task; also keeps it alive.
    owner: TaskOwner,
    /// The task's id, assigned when first asked for (`task/id.rs`).
    id: LazyId,
    /// Where the task was spawned, and its name if it has one.
    site: Site,
    /// Polls, last poll, scheduled/running: for the task dump.
    stats: TaskStats,
    /// `ABORTED`, the owning thread of a local task, and the registry slot,
    /// packed in one word (see the constants below). One word means abort
    /// and registration see each other without any fence argument: whoever
    /// changes it second learns what the other did.
    state: AtomicU64,
}

/// Set by `JoinHandle::abort`.
const ABORTED: u64 = 1 << 63;
/// For a `spawn_local` task, the number (see [`thread_number`]) of the only
/// thread allowed to poll or drop it; 0 for every other task.
const OWNER_SHIFT: u32 = 40;
const OWNER_MASK: u64 = ((1 << 23) - 1) << OWNER_SHIFT;
/// Registry slot (shard and index), or all ones: `NOT_REGISTERED`.
const SLOT_MASK: u64 = (1 << OWNER_SHIFT) - 1;

/// `TaskMeta`'s slot value of a task that is not in the registry; every
/// real slot is smaller.
pub(crate) const NOT_REGISTERED: u64 = SLOT_MASK;

/// A small number naming the calling thread, unique for the process's
/// lifetime (unlike `ThreadId`, it fits in [`OWNER_MASK`]). `None` if the
/// thread never asked for one with `assign`.
fn thread_number(assign: bool) -> Option<u64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static NUMBER: Cell<u64> = const { Cell::new(0) };
    }
    NUMBER.with(|number| {
        if number.get() == 0 && assign {
            let next = NEXT.fetch_add(1, Ordering::Relaxed);
            assert!(
                next <= OWNER_MASK >> OWNER_SHIFT,
                "coro: more than {} threads have spawned local tasks in this process; \
                 spawn_local from a long-lived thread instead of one thread per task",
                OWNER_MASK >> OWNER_SHIFT
            );
            number.set(next);
        }
        Some(number.get()).filter(|&n| n != 0)
    })
}

impl TaskMeta {
    fn new(owner: TaskOwner, locality: &Locality, site: Site) -> TaskMeta {
        let thread = match locality {
            Locality::Sendable => 0,
            Locality::ThreadLocal => thread_number(true).expect("assigned"),
        };
        TaskMeta {
            owner,
            id: LazyId::new(),
            site,
            stats: TaskStats::new(),
            state: AtomicU64::new((thread << OWNER_SHIFT) | NOT_REGISTERED),
        }
    }

    /// The task's id (assigned on first use).
    pub(crate) fn id(&self) -> Id {
        self.id.get()
    }

    /// Where the task was spawned, and its name.
    pub(crate) fn site(&self) -> &Site {
        &self.site
    }

    /// The task's statistics (`task/stats.rs`).
    pub(crate) fn stats(&self) -> &TaskStats {
        &self.stats
    }

    /// The scheduler the task belongs to.
    pub(crate) fn owner(&self) -> &TaskOwner {
        &self.owner
    }

    /// Whether this thread may poll or drop the task: always, unless it is
    /// a local task spawned by another thread.
    pub(crate) fn is_runnable_here(&self) -> bool {
        // The owner bits never change: `Relaxed` is enough.
        let owner = (self.state.load(Ordering::Relaxed) & OWNER_MASK) >> OWNER_SHIFT;
        owner == 0 || Some(owner) == thread_number(false)
    }

    /// The registry slot, or `NOT_REGISTERED`.
    pub(crate) fn slot(&self) -> u64 {
        self.state.load(Ordering::SeqCst) & SLOT_MASK
    }

    /// Records the registry slot (called under the registry shard's lock).
    /// Returns whether the task had been aborted before.
    pub(crate) fn set_slot(&self, slot: u64) -> bool {
        debug_assert!(slot < NOT_REGISTERED);
        // The slot bits are all ones while unregistered: `and` writes `slot`.
        let previous = self.state.fetch_and(!SLOT_MASK | slot, Ordering::SeqCst);
        debug_assert_eq!(previous & SLOT_MASK, NOT_REGISTERED);
        previous & ABORTED != 0
    }

    /// Forgets the registry slot (called under the registry shard's lock).
    pub(crate) fn clear_slot(&self) {
        self.state.fetch_or(SLOT_MASK, Ordering::SeqCst);
    }

    fn owned(&self) -> Option<&OwnedTasks> {
        self.owner.owned()
    }

    /// Marks the task aborted and wakes it if it is idle.
    ///
    /// The flag and the registry slot share one atomic word, so exactly one
    /// of two things happens: the flag lands first and the harness, when it
    /// registers, sees it and wakes itself (`set_slot` returns it); or the
    /// registration lands first and we see the slot here and wake the task
    /// through the registry. An unregistered task has not yet returned
    /// `Pending` and so is queued or running; its next poll sees the flag.
    pub(crate) fn abort(&self) {
        let previous = self.state.fetch_or(ABORTED, Ordering::SeqCst);
        if previous & SLOT_MASK != NOT_REGISTERED {
            if let Some(owned) = self.owned() {
                owned.wake(self);
            }
        }
    }

    // Inlined into `Harness::poll`, which is compiled in the spawning crate:
    // without it every poll makes a call across crates for one load.
    #[inline]
    fn is_aborted(&self) -> bool {
        self.state.load(Ordering::SeqCst) & ABORTED != 0
    }
}

pin_project! {
    /// The future async-task actually runs.
    pub(crate) struct Harness<F> {
        // `None` once the user's future has been dropped (completed,
        // panicked or aborted). We drop it ourselves, inside
        // `catch_unwind`, so that a destructor that panics becomes a
        // `JoinError` instead of unwinding into async-task (which would
        // abort the process).
        #[pin]
        future: Option<F>,
        meta: NonNull<TaskMeta>,
        registered: bool,
        // The task's `tracing` span; zero-sized without the feature.
        span: TaskSpan,
    }

    impl<F> PinnedDrop for Harness<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // SAFETY: see the `Send` impl.
            let meta = unsafe { this.meta.as_ref() };
            if this.future.is_some() {
                // Cancelled without a last poll (aborted while queued,
                // dropped at shutdown, never polled): counted here; a task
                // that ended in a poll was counted there.
                trace::cancelled(this.span);
                if let Some((metrics, worker)) = meta.owner.metrics() {
                    metrics.task_exited(worker);
                }
            }
            // Cancelled by the scheduler (shutdown): nobody can receive a
            // panic from the destructor, and letting it unwind into
            // async-task would abort the process, so it is swallowed.
            let _ = drop_future(this.future);
            if *this.registered {
                if let Some(owned) = meta.owned() {
                    owned.deregister(meta);
                }
            }
        }
    }
}

// SAFETY: `meta` points into the task's own allocation, which outlives the
// harness (the future is dropped before the header), and `TaskMeta` is
// `Sync`. The harness is `Send` exactly when the user's future is.
unsafe impl<F: Send> Send for Harness<F> {}

impl<F: Future> Future for Harness<F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let poll = self.poll_user_future(cx);
        if poll.is_ready() {
            // The user's future is gone (completed, panicked, aborted):
            // the task has ended, on this worker.
            stats::count_exit_here();
        }
        poll
    }
}

impl<F: Future> Harness<F> {
    /// Polls the user's future, turning a panic or an abort into a
    /// `JoinError`; once it returns `Ready` the future has been dropped.
    #[inline]
    fn poll_user_future(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<F::Output, JoinError>> {
        let mut this = self.project();
        // SAFETY: see the `Send` impl.
        let meta = unsafe { this.meta.as_ref() };
        let _polling = Polling::start(meta);
        let _entered = trace::enter(this.span);
        if meta.is_aborted() {
            trace::cancelled(this.span);
            return Poll::Ready(drop_future(this.future).and(Err(JoinError::cancelled())));
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            // async-task never polls a task again after it returned `Ready`.
            unreachable!("task polled after completion");
        };
        // After a panic the future is dropped at once (below), so nobody
        // observes it in a broken state: asserting unwind safety is sound in
        // the sense `UnwindSafe` cares about.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => {
                trace::completed();
                Poll::Ready(drop_future(this.future).map(|()| output))
            }
            Ok(Poll::Pending) => {
                if !*this.registered {
                    if let Some(owned) = meta.owned() {
                        let Some(aborted) = owned.register(meta, cx.waker()) else {
                            // The runtime is shutting down: nothing would ever
                            // wake this task again, so cancel it now.
                            trace::cancelled(this.span);
                            return Poll::Ready(
                                drop_future(this.future).and(Err(JoinError::cancelled())),
                            );
                        };
                        *this.registered = true;
                        if aborted {
                            // Aborted between our check and the registration;
                            // make sure we are polled again to notice.
                            cx.waker().wake_by_ref();
                        }
                    }
                }
                Poll::Pending
            }
            Err(payload) => {
                trace::panicked();
                // A second panic from the destructor is dropped: the first
                // one is the interesting one.
                let _ = drop_future(this.future);
                Poll::Ready(Err(JoinError::panic(payload)))
            }
        }
    }
}

/// Drops the user's future in place, turning a panic in its destructor
/// into a `JoinError`.
fn drop_future<F>(mut future: Pin<&mut Option<F>>) -> Result<(), JoinError> {
    catch_unwind(AssertUnwindSafe(|| future.set(None))).map_err(JoinError::panic)
}

/// Whether the future must stay on the thread that spawned it.
pub(crate) enum Locality {
    /// `Send` future: may run on any thread of its runtime.
    Sendable,
    /// `!Send` future: async-task checks every poll and drop happen on the
    /// spawning thread and panics otherwise.
    ThreadLocal,
}

/// Creates a task owned by `owner`. The caller schedules the returned
/// `Runnable` (or drops it, which cancels the task), and counts the spawn
/// in its metrics (it knows its scheduler's type; looking it up from
/// `owner` here would cost a downcast per spawn).
///
/// # Safety
/// With `Locality::Sendable` the caller must ensure `F: Send` and
/// `F::Output: Send` (the public `spawn` functions bound on them). With
/// `ThreadLocal` there is no extra requirement: async-task enforces it.
pub(crate) unsafe fn spawn<F>(
    future: F,
    locality: Locality,
    owner: TaskOwner,
    site: Site,
) -> (Runnable, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let builder = Builder::new().metadata(TaskMeta::new(owner, &locality, site));
    let wrap = |meta: &TaskMeta| {
        let span = trace::task_span(meta);
        trace::spawned(&span);
        Harness {
            future: Some(future),
            meta: NonNull::from(meta),
            registered: false,
            span,
        }
    };
    let (runnable, task) = match locality {
        // SAFETY: the caller guarantees `Send`; the future is `'static`, and
        // the schedule function is a plain `fn`.
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

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::TaskMeta;
    use crate::task::JoinError;

    /// The per-task bytes `docs/architecture.md` accounts for ("What a task
    /// costs"): a field added here grows every task of every program.
    #[test]
    fn task_header_stays_small() {
        assert_eq!(size_of::<TaskMeta>(), 40);
        assert_eq!(size_of::<JoinError>(), 8);
        assert_eq!(size_of::<Result<(), JoinError>>(), 8);
        // async-task's output slot, with its own panic-propagation layer.
        type Slot = Result<Result<(), JoinError>, Box<dyn std::any::Any + Send>>;
        assert_eq!(size_of::<Slot>(), 16);
    }
}
