//! The shared injection queue: where tasks go that are spawned or woken from
//! outside a worker, and where a full local queue overflows.
//!
//! A mutex around a `VecDeque` is enough here: the hot paths (a worker
//! waking a task it owns, spawning from inside a task) never touch it, and
//! workers look at it only every `GLOBAL_QUEUE_INTERVAL` ticks or when their
//! own queue is empty. `len` is mirrored in an atomic so that "is there
//! anything?" costs a load, not a lock.

use std::collections::VecDeque;

use crate::loom::{lock, AtomicBool, AtomicUsize, Mutex, Ordering};

pub(crate) struct Inject<T> {
    queue: Mutex<VecDeque<T>>,
    len: AtomicUsize,
    closed: AtomicBool,
}

/// Queue capacity kept after a queue drains; anything above is freed.
const SPARE: usize = 1024;

/// Frees the room a burst left in a queue that has just drained (a spawn
/// of a million tasks grows it to 8 MiB, which would otherwise stay
/// allocated for the runtime's lifetime). Cheap: an empty queue has nothing
/// to move, and it happens once per burst.
pub(crate) fn release_spare<T>(queue: &mut VecDeque<T>) {
    if queue.is_empty() && queue.capacity() > SPARE {
        queue.shrink_to(SPARE);
    }
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Self {
        Inject {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// Number of queued tasks; a snapshot, possibly stale by the time it is
    /// read, which is fine for sizing batches.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Pushes a task; if the queue was closed by shutdown, hands it back so
    /// the caller can drop it outside the lock.
    pub(crate) fn push(&self, task: T) -> Result<(), T> {
        let mut queue = lock(&self.queue);
        if self.closed.load(Ordering::Relaxed) {
            return Err(task);
        }
        queue.push_back(task);
        self.len.store(queue.len(), Ordering::Release);
        Ok(())
    }

    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut queue = lock(&self.queue);
        if self.closed.load(Ordering::Relaxed) {
            drop(queue);
            // Dropped outside the lock: dropping a task runs user code.
            tasks.for_each(drop);
            return;
        }
        queue.extend(tasks);
        self.len.store(queue.len(), Ordering::Release);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut queue = lock(&self.queue);
        let task = queue.pop_front();
        self.len.store(queue.len(), Ordering::Release);
        release_spare(&mut queue);
        task
    }

    /// Moves up to `max` tasks into `out` in one lock acquisition. The
    /// caller handles them after the lock is released: it may need to push
    /// some back (a full local queue overflows here).
    pub(crate) fn pop_batch(&self, max: usize, out: &mut Vec<T>) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut queue = lock(&self.queue);
        let n = max.min(queue.len());
        out.extend(queue.drain(..n));
        self.len.store(queue.len(), Ordering::Release);
        release_spare(&mut queue);
        n
    }

    /// Refuses further pushes and returns everything queued, to be dropped
    /// by the caller (outside the lock: dropping a task runs user code).
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut queue = lock(&self.queue);
        self.closed.store(true, Ordering::Relaxed);
        self.len.store(0, Ordering::Release);
        std::mem::take(&mut *queue)
    }
}
