//! [`TaskOwner`]: which scheduler a task belongs to, in one word.
//!
//! Every task carries its owner in its header (`TaskMeta`), because the
//! schedule function is a plain `fn` that must find the scheduler from the
//! `Runnable` alone (see `task/harness.rs` for why). An enum of three
//! `Arc`s would take two words: its variants are all non-null pointers, so
//! there is no spare value for the tag. The tag goes into the pointer's low
//! bits instead, which are always zero because each scheduler's state is
//! at least 8-byte aligned. A word saved per task: with it `TaskMeta` is
//! 16 bytes and an idle task fits an 80-byte malloc chunk instead of 96
//! (`docs/architecture.md`, "What a task costs").
//!
//! # Invariants
//!
//! * `ptr` (tag masked off) came from `Arc::into_raw` of the scheduler type
//!   that `tag` names, and the `TaskOwner` owns that strong reference: it
//!   releases it exactly once, in `drop`.
//! * So while a `TaskOwner` lives, the scheduler it names is alive, and a
//!   reference handed out by [`TaskOwner::get`] may be turned into a new
//!   `Arc` by [`TaskOwner::to_arc`].

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::runtime::{blocking, MetricsStore};
use crate::scheduler::{current_thread, multi_thread};
use crate::task::registry::OwnedTasks;

/// A scheduler a task can belong to.
pub(crate) trait SchedulerKind: Send + Sync + Sized + 'static {
    /// Its tag in [`TaskOwner`]'s low bits.
    const TAG: usize;
}

impl SchedulerKind for current_thread::Shared {
    const TAG: usize = 0;
}

impl SchedulerKind for multi_thread::Shared {
    const TAG: usize = 1;
}

impl SchedulerKind for blocking::Shared {
    const TAG: usize = 2;
}

const TAG_MASK: usize = 0b11;

// Each `Shared` holds atomics and pointers, so its `Arc` data pointer is at
// least 8-aligned and the two tag bits are free.
const _: () = assert!(std::mem::align_of::<current_thread::Shared>() > TAG_MASK);
const _: () = assert!(std::mem::align_of::<multi_thread::Shared>() > TAG_MASK);
const _: () = assert!(std::mem::align_of::<blocking::Shared>() > TAG_MASK);

/// The scheduler a task belongs to, kept in the task's header. It is where
/// every wake-up sends the task, and it keeps that scheduler alive as long
/// as the task allocation exists (a waker can outlive the runtime).
pub(crate) struct TaskOwner {
    tagged: NonNull<()>,
    /// Owns an `Arc` of one of the three schedulers, all `Send + Sync`.
    _owns: PhantomData<Arc<dyn Send + Sync>>,
}

// SAFETY: a `TaskOwner` is a strong reference to a `Send + Sync` scheduler
// (the `SchedulerKind` bound), exactly like the `Arc` it was made from.
unsafe impl Send for TaskOwner {}
// SAFETY: as above; `&TaskOwner` only hands out `&S` and new `Arc<S>`.
unsafe impl Sync for TaskOwner {}

/// A borrowed view of a [`TaskOwner`], to match on.
pub(crate) enum Owner<'a> {
    CurrentThread(&'a current_thread::Shared),
    MultiThread(&'a multi_thread::Shared),
    /// The blocking pool (whose tasks never wait, so nothing needs more).
    Blocking,
}

impl TaskOwner {
    pub(crate) fn new<S: SchedulerKind>(shared: Arc<S>) -> TaskOwner {
        let raw = Arc::into_raw(shared).cast_mut().cast::<()>();
        let tagged = raw.map_addr(|addr| addr | S::TAG);
        TaskOwner {
            // SAFETY: `Arc::into_raw` is never null, nor is it with bits set.
            tagged: unsafe { NonNull::new_unchecked(tagged) },
            _owns: PhantomData,
        }
    }

    fn tag(&self) -> usize {
        self.tagged.as_ptr().addr() & TAG_MASK
    }

    fn untagged<S: SchedulerKind>(&self) -> *const S {
        debug_assert_eq!(self.tag(), S::TAG);
        self.tagged
            .as_ptr()
            .map_addr(|addr| addr & !TAG_MASK)
            .cast::<S>()
            .cast_const()
    }

    /// The scheduler, if it is an `S`.
    pub(crate) fn downcast<S: SchedulerKind>(&self) -> Option<&S> {
        // SAFETY: the tag says the pointer came from an `Arc<S>`, which we
        // own (invariant 1), so it points to a live `S`.
        (self.tag() == S::TAG).then(|| unsafe { &*self.untagged::<S>() })
    }

    /// A new strong reference to the scheduler, if it is an `S`.
    pub(crate) fn to_arc<S: SchedulerKind>(&self) -> Option<Arc<S>> {
        (self.tag() == S::TAG).then(|| {
            let ptr = self.untagged::<S>();
            // SAFETY: `ptr` came from `Arc::into_raw::<S>` and our strong
            // reference keeps the count above zero while we add one; the new
            // count is owned by the `Arc` built here.
            unsafe {
                Arc::increment_strong_count(ptr);
                Arc::from_raw(ptr)
            }
        })
    }

    /// The scheduler, to match on.
    pub(crate) fn get(&self) -> Owner<'_> {
        if let Some(shared) = self.downcast() {
            Owner::CurrentThread(shared)
        } else if let Some(shared) = self.downcast() {
            Owner::MultiThread(shared)
        } else if self.tag() == blocking::Shared::TAG {
            Owner::Blocking
        } else {
            unreachable!("TaskOwner tag {} names no scheduler", self.tag())
        }
    }

    /// The scheduler's counters and, if this thread is one of its workers,
    /// its index; `None` for the blocking pool (whose closures are not
    /// counted as tasks).
    #[inline]
    pub(crate) fn metrics(&self) -> Option<(&MetricsStore, Option<usize>)> {
        match self.get() {
            Owner::CurrentThread(shared) => Some((&shared.metrics, shared.current_worker())),
            Owner::MultiThread(shared) => Some((&shared.metrics, shared.current_worker())),
            Owner::Blocking => None,
        }
    }

    /// The registry of idle tasks, for schedulers whose tasks can be idle.
    pub(crate) fn owned(&self) -> Option<&OwnedTasks> {
        match self.get() {
            Owner::CurrentThread(shared) => Some(&shared.owned),
            Owner::MultiThread(shared) => Some(&shared.owned),
            Owner::Blocking => None,
        }
    }
}

impl Drop for TaskOwner {
    fn drop(&mut self) {
        /// Releases the strong reference `owner` holds to an `S`.
        fn release<S: SchedulerKind>(owner: &TaskOwner) {
            // SAFETY: invariant 1: the pointer came from `Arc::into_raw::<S>`
            // and this drop releases that reference, once.
            drop(unsafe { Arc::from_raw(owner.untagged::<S>()) });
        }
        match self.tag() {
            current_thread::Shared::TAG => release::<current_thread::Shared>(self),
            multi_thread::Shared::TAG => release::<multi_thread::Shared>(self),
            blocking::Shared::TAG => release::<blocking::Shared>(self),
            tag => unreachable!("TaskOwner tag {tag} names no scheduler"),
        }
    }
}
