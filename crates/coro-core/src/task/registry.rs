//! The registry of live tasks, so that a runtime can cancel all of them.
//!
//! async-task frees a task when the last reference goes away, but a task
//! that is pending forever (say, on a channel whose sender it holds itself,
//! or on `pending()` while its `JoinHandle` is kept) is never scheduled
//! again, so dropping the run queues would not drop its future. Shutdown
//! must reach every such task. This registry keeps one [`Waker`] per task
//! that has ever returned `Pending`; at shutdown the runtime first refuses
//! new work, then wakes every registered task. Waking schedules it, and the
//! scheduler, seeing it is shut down, drops the `Runnable`, which drops the
//! future and runs its destructors.
//!
//! Tasks that finish on their first poll (the common case for small spawned
//! tasks) never touch the registry: a task is registered the first time it
//! returns `Pending`, and deregistered when its future is dropped. Until its
//! first poll a task is always in a run queue, which shutdown drains anyway.
//!
//! The same entry lets [`JoinHandle::abort`](crate::task::JoinHandle::abort)
//! wake an idle task so that it observes the abort.
//!
//! # Contention
//!
//! Registrations are spread over shards by the registering thread, so
//! workers rarely contend on a lock. The shard and slot are packed into the
//! task's metadata (`TaskMeta::slot`), written only while the shard's lock is
//! held.

use std::ptr::NonNull;
use std::task::Waker;

use slab::Slab;

use crate::loom::{lock, Mutex};
use crate::task::harness::{TaskMeta, NOT_REGISTERED};

const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

#[derive(Default)]
struct Shard {
    wakers: Slab<Entry>,
    closed: bool,
}

/// A registered task: its waker, and its header for the task dump.
struct Entry {
    waker: Waker,
    /// Points into the task allocation, which `waker` keeps alive.
    meta: NonNull<TaskMeta>,
}

// SAFETY: `meta` is only read through `&TaskMeta` (which is `Sync`) while
// the entry's waker keeps the allocation alive; `Waker` is `Send + Sync`.
unsafe impl Send for Entry {}

/// Keeps each shard's lock on its own cache line.
#[repr(align(128))]
struct CachePadded<T>(T);

fn shard_of(slot: u64) -> usize {
    (slot as usize) & (SHARDS - 1)
}

fn index_of(slot: u64) -> usize {
    (slot >> SHARD_BITS) as usize
}

/// A shard index for the calling thread, fixed for its lifetime.
fn thread_shard() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|shard| {
        if shard.get() == usize::MAX {
            shard.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        shard.get()
    })
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| CachePadded(Mutex::new(Shard::default())))
                .collect(),
        }
    }

    /// Registers the task described by `meta` with `waker`. Returns `None`
    /// if the registry is closed (the runtime is shutting down), else
    /// whether the task was aborted before it got registered.
    pub(crate) fn register(&self, meta: &TaskMeta, waker: &Waker) -> Option<bool> {
        let shard_index = thread_shard();
        let mut shard = lock(&self.shards[shard_index].0);
        if shard.closed {
            return None;
        }
        let slot = ((shard.wakers.vacant_key() as u64) << SHARD_BITS) | shard_index as u64;
        assert!(
            slot < NOT_REGISTERED,
            "coro: more than 2^36 idle tasks registered from one thread"
        );
        shard.wakers.insert(Entry {
            waker: waker.clone(),
            meta: NonNull::from(meta),
        });
        Some(meta.set_slot(slot))
    }

    /// Removes the task's entry, if any.
    pub(crate) fn deregister(&self, meta: &TaskMeta) {
        let slot = meta.slot();
        if slot == NOT_REGISTERED {
            return;
        }
        let waker = {
            let mut shard = lock(&self.shards[shard_of(slot)].0);
            meta.clear_slot();
            shard.wakers.try_remove(index_of(slot))
        };
        // Dropped outside the lock: dropping a waker may free the task.
        drop(waker);
    }

    /// Wakes the task if it is registered (used by abort).
    pub(crate) fn wake(&self, meta: &TaskMeta) {
        let slot = meta.slot();
        if slot == NOT_REGISTERED {
            return;
        }
        let waker = {
            let shard = lock(&self.shards[shard_of(slot)].0);
            // The slot may have been freed and reused by another task since
            // we read it; `meta.slot` only changes under this lock.
            if meta.slot() != slot {
                return;
            }
            shard
                .wakers
                .get(index_of(slot))
                .map(|entry| entry.waker.clone())
        };
        // Woken outside the lock: scheduling may drop the task, whose
        // harness then deregisters, taking this same lock.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Refuses new registrations and wakes every registered task. Called at
    /// shutdown, after the scheduler stopped accepting work, so each wake
    /// drops its task.
    pub(crate) fn close_and_wake_all(&self) {
        for shard in self.shards.iter() {
            let wakers: Vec<Waker> = {
                let mut shard = lock(&shard.0);
                shard.closed = true;
                shard.wakers.drain().map(|entry| entry.waker).collect()
            };
            for waker in wakers {
                waker.wake();
            }
        }
    }

    /// Calls `f` with every registered task, one shard at a time under
    /// that shard's lock: other shards stay usable meanwhile, and no
    /// worker is stopped. `f` must not touch the registry.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&TaskMeta)) {
        for shard in self.shards.iter() {
            let shard = lock(&shard.0);
            for (_, entry) in shard.wakers.iter() {
                // SAFETY: the entry's waker keeps the task allocation, and
                // so its header, alive while the entry is in the slab, and
                // we hold the shard's lock.
                f(unsafe { entry.meta.as_ref() });
            }
        }
    }

    /// Number of registered tasks (for tests and debugging).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).wakers.len()).sum()
    }
}
