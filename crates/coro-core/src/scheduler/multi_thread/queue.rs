//! The per-worker run queue: a bounded ring buffer with one owner and many
//! thieves.
//!
//! # Algorithm
//!
//! Each worker owns a ring of `CAPACITY` slots. The owner pushes at `tail`
//! and pops at `head`, so the queue is FIFO for its owner (the LIFO slot in
//! `worker.rs` handles the "run the task I just woke" case). Idle workers
//! steal *half* of a victim's queue in one go, which amortises the cost of
//! finding work over many tasks.
//!
//! `head` is one `AtomicU64` holding two `u32` cursors:
//!
//! * `real`: the next slot the owner (or a thief) may claim;
//! * `steal`: the first slot of a batch a thief has claimed but not yet
//!   finished copying out. When no steal is in progress, `steal == real`.
//!
//! A thief claims a batch by moving `real` forward with a CAS, copies the
//! tasks into its own queue, then moves `steal` up to `real` with a second
//! CAS. Between those two steps the slots `[steal, real)` still belong to the
//! thief, so the owner must not overwrite them: it counts free space from
//! `steal`, not from `real`. Only one steal runs at a time per victim (a
//! thief that sees `steal != real` gives up), which keeps the protocol to
//! these two CASes.
//!
//! `tail` is written only by the owner. Cursors are `u32` and wrap; every
//! distance is computed with `wrapping_sub`, which is correct because the
//! ring is far smaller than `2^32`.
//!
//! # Invariants
//!
//! 1. `tail - steal <= CAPACITY`: the owner never writes into a slot a thief
//!    may still be reading.
//! 2. Slots in `[real, tail)` hold initialised tasks owned by the queue; slots
//!    in `[steal, real)` hold tasks owned by the thief copying them; all
//!    other slots are uninitialised.
//! 3. A task leaves the ring exactly once: by `pop`, by a steal, or by the
//!    owner moving half the ring to the overflow queue when full.
//!
//! The same algorithm is used by tokio's multi-thread scheduler; the loom
//! models in `tests` below check all three invariants under every
//! interleaving of one owner and two thieves.

use std::mem::MaybeUninit;

use crate::loom::{Arc, AtomicU32, AtomicU64, Ordering, UnsafeCell};

/// Number of slots. Small under loom so that models stay tractable.
///
/// Why 1024 and not tokio's 256: runnable tasks beyond the capacity spill
/// to the shared injection queue, and from there every worker takes them
/// back one at a time (its fairness pick). With more runnable tasks than
/// that, tasks keep travelling between workers, and each move costs cache
/// misses on the task's memory and, worse, false sharing: tasks are
/// allocated side by side (an 80-byte chunk, not cache-line aligned), so
/// two neighbours run by different workers fight over the line they share.
/// With 1,000 yielding tasks on 2 workers, 256 slots: 30-34 ns per yield,
/// 1024 slots: 22.6 ns (`bench_report --only yield_many`). The ring costs
/// 8 KiB per worker.
#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 1024;
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;

const MASK: u32 = CAPACITY as u32 - 1;

/// Where a full queue sends half of its tasks (the shared injection queue).
pub(crate) trait Overflow<T> {
    /// Takes ownership of a batch of tasks.
    fn push_batch(&self, tasks: impl Iterator<Item = T>);
}

struct Inner<T> {
    /// `(steal, real)` packed as `steal << 32 | real`.
    head: AtomicU64,
    /// Written only by the owner.
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the buffer's slots are handed between threads under the protocol
// described at the top of this file: a slot is accessed by exactly one
// thread at a time (the owner before publishing it with `tail`, then whoever
// wins the CAS on `head`). Tasks themselves must be `Send`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; shared access only goes through the atomics.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The owner's end: push and pop. Not `Clone`; exactly one per queue.
pub(crate) struct Local<T: 'static> {
    inner: Arc<Inner<T>>,
}

/// A thief's end: steal half. Cloned freely.
pub(crate) struct Steal<T: 'static>(Arc<Inner<T>>);

/// Creates a queue, returning the owner's end and a thief's end.
pub(crate) fn local<T: 'static>() -> (Steal<T>, Local<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (Steal(inner.clone()), Local { inner })
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

impl<T> Inner<T> {
    /// Moves the task out of slot `pos`.
    ///
    /// # Safety
    /// The caller must own slot `pos` under invariant 2 (it holds an
    /// initialised task that no other thread will read).
    unsafe fn take(&self, pos: u32) -> T {
        // SAFETY: guaranteed by the caller.
        self.buffer[(pos & MASK) as usize].with_mut(|slot| unsafe { (*slot).assume_init_read() })
    }

    /// Writes a task into slot `pos`.
    ///
    /// # Safety
    /// The caller must own slot `pos` and the slot must be uninitialised.
    unsafe fn put(&self, pos: u32, task: T) {
        // SAFETY: guaranteed by the caller.
        self.buffer[(pos & MASK) as usize].with_mut(|slot| unsafe { (*slot).write(task) });
    }
}

impl<T> Local<T> {
    /// Number of tasks the owner can still pop.
    pub(crate) fn len(&self) -> usize {
        let (_, real) = unpack(self.inner.head.load(Ordering::Acquire));
        // Only the owner writes `tail`, so a relaxed load sees our own writes.
        let tail = self.inner.tail.load(Ordering::Relaxed);
        tail.wrapping_sub(real) as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes a task at the back. When the ring is full, half of it plus
    /// `task` move to `overflow` in one batch, so the next pushes are cheap
    /// again and other workers can pick the batch up.
    pub(crate) fn push_back_or_overflow(&mut self, mut task: T, overflow: &impl Overflow<T>) {
        let tail = loop {
            let (steal, real) = unpack(self.inner.head.load(Ordering::Acquire));
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                break tail;
            }
            if steal != real {
                // A thief is mid-steal and will free slots shortly; rather
                // than wait, hand this one task to the shared queue.
                overflow.push_batch(std::iter::once(task));
                return;
            }
            match self.push_overflow(task, real, tail, overflow) {
                Ok(()) => return,
                // A thief made room while we were deciding; retry.
                Err(back) => task = back,
            }
        };
        // SAFETY: `tail - steal < CAPACITY`, so slot `tail` is outside every
        // claimed range and uninitialised (invariants 1 and 2); only the
        // owner writes at `tail`.
        unsafe { self.inner.put(tail, task) };
        // Release publishes the slot's contents to thieves that load `tail`.
        self.inner
            .tail
            .store(tail.wrapping_add(1), Ordering::Release);
    }

    fn push_overflow(
        &mut self,
        task: T,
        head: u32,
        tail: u32,
        overflow: &impl Overflow<T>,
    ) -> Result<(), T> {
        const HALF: u32 = (CAPACITY / 2) as u32;
        debug_assert_eq!(tail.wrapping_sub(head), CAPACITY as u32);
        let claimed = head.wrapping_add(HALF);
        // Claim the older half exactly like a thief would, but finish in one
        // step: no other thread can be copying it, so steal == real after.
        if self
            .inner
            .head
            .compare_exchange(
                pack(head, head),
                pack(claimed, claimed),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err(task);
        }
        let inner = &self.inner;
        // SAFETY: the CAS above moved slots [head, head + HALF) out of the
        // queue and into our hands; they were initialised (invariant 2).
        let batch = (0..HALF).map(|i| unsafe { inner.take(head.wrapping_add(i)) });
        overflow.push_batch(batch.chain(std::iter::once(task)));
        Ok(())
    }

    /// Pops the task at the front, if any.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Ordering::Acquire);
        let pos = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // Without a steal in progress both cursors advance together;
            // during one, only `real` moves and the thief finishes `steal`.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS moved slot `pos` out of `[real, tail)`; we won it.
        Some(unsafe { self.inner.take(pos) })
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        // Drop whatever is left so no task leaks. Thieves may still hold a
        // `Steal`, but they only ever take tasks, never add them.
        while self.pop().is_some() {}
    }
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Steal(self.0.clone())
    }
}

impl<T> Steal<T> {
    /// Tasks in the queue, as seen from another thread (for metrics).
    pub(crate) fn len(&self) -> usize {
        let (_, real) = unpack(self.0.head.load(Ordering::Acquire));
        let tail = self.0.tail.load(Ordering::Acquire);
        tail.wrapping_sub(real) as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        let (_, real) = unpack(self.0.head.load(Ordering::Acquire));
        let tail = self.0.tail.load(Ordering::Acquire);
        tail == real
    }

    /// Steals half of this queue into `dst` and returns one stolen task to
    /// run right away. Returns `None` if there was nothing to steal, another
    /// steal was in progress, or `dst` lacks room for half a queue.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let dst_tail = dst.inner.tail.load(Ordering::Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Ordering::Acquire));
        if dst_tail.wrapping_sub(dst_steal) > (CAPACITY / 2) as u32 {
            return None;
        }
        let n = self.steal_half_into(dst, dst_tail);
        if n == 0 {
            return None;
        }
        // Keep the last stolen task for the caller; publish the rest.
        let last = dst_tail.wrapping_add(n - 1);
        // SAFETY: `steal_half_into` initialised slots [dst_tail, dst_tail + n)
        // of `dst`, which are not yet published (tail unchanged), so only we
        // can read them.
        let task = unsafe { dst.inner.take(last) };
        if n > 1 {
            dst.inner.tail.store(last, Ordering::Release);
        }
        Some(task)
    }

    /// Copies half of this queue into `dst` starting at `dst_tail` without
    /// publishing them; returns how many were copied.
    fn steal_half_into(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let mut prev = self.0.head.load(Ordering::Acquire);
        // Step 1: claim [real, real + n) by advancing `real` only.
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                // Another thief is at work on this queue.
                return 0;
            }
            // Acquire pairs with the owner's Release store of `tail`, so the
            // claimed slots' contents are visible.
            let tail = self.0.tail.load(Ordering::Acquire);
            let available = tail.wrapping_sub(real);
            let n = available - available / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .0
                .head
                .compare_exchange(prev, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        debug_assert!(n as usize <= CAPACITY / 2);

        // Step 2: move the claimed tasks.
        for i in 0..n {
            // SAFETY: slots [first, first + n) of the victim are ours since
            // the CAS (invariant 2); slots [dst_tail, dst_tail + n) of `dst`
            // are free because the caller checked `dst` has room for half a
            // queue, and `dst` is owned by the calling thread.
            unsafe {
                let task = self.0.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }

        // Step 3: release the slots by moving `steal` up to `real`. The owner
        // may have popped meanwhile (moving `real`), so loop on the CAS.
        let mut prev = pack(first, first.wrapping_add(n));
        loop {
            let (_, real) = unpack(prev);
            match self.0.head.compare_exchange(
                prev,
                pack(real, real),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return n,
                Err(actual) => {
                    debug_assert_ne!(unpack(actual).0, unpack(actual).1);
                    prev = actual;
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Sink(Mutex<Vec<usize>>);

    impl Overflow<usize> for Sink {
        fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    #[test]
    fn fifo_for_the_owner() {
        let (_steal, mut local) = local();
        let sink = Sink::default();
        for i in 0..10 {
            local.push_back_or_overflow(i, &sink);
        }
        assert_eq!(local.len(), 10);
        let popped: Vec<_> = std::iter::from_fn(|| local.pop()).collect();
        assert_eq!(popped, (0..10).collect::<Vec<_>>());
        assert!(sink.0.lock().unwrap().is_empty());
    }

    #[test]
    fn overflow_moves_half_plus_one() {
        let (_steal, mut local) = local();
        let sink = Sink::default();
        for i in 0..=CAPACITY {
            local.push_back_or_overflow(i, &sink);
        }
        let overflowed = sink.0.lock().unwrap().clone();
        let mut expected: Vec<_> = (0..CAPACITY / 2).collect();
        expected.push(CAPACITY);
        assert_eq!(overflowed, expected);
        assert_eq!(local.len(), CAPACITY / 2);
        assert_eq!(local.pop(), Some(CAPACITY / 2));
    }

    #[test]
    fn steal_takes_half_and_returns_one() {
        let (steal, mut victim) = local();
        let (_, mut thief) = local();
        let sink = Sink::default();
        for i in 0..9 {
            victim.push_back_or_overflow(i, &sink);
        }
        // 9 available -> steal 5: slots 0..5, the last one returned.
        assert_eq!(steal.steal_into(&mut thief), Some(4));
        assert_eq!(thief.len(), 4);
        assert_eq!(victim.len(), 4);
        let mut all: Vec<_> = std::iter::from_fn(|| thief.pop())
            .chain(std::iter::from_fn(|| victim.pop()))
            .collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 5, 6, 7, 8]);
        assert!(steal.is_empty());
        assert_eq!(steal.steal_into(&mut thief), None);
    }

    #[test]
    fn cursors_wrap_around_u32() {
        let (_steal, mut local) = local::<usize>();
        let start = u32::MAX - 3;
        local
            .inner
            .head
            .store(pack(start, start), Ordering::Relaxed);
        local.inner.tail.store(start, Ordering::Relaxed);
        let sink = Sink::default();
        for i in 0..8 {
            local.push_back_or_overflow(i, &sink);
        }
        assert_eq!(local.len(), 8);
        assert_eq!(
            std::iter::from_fn(|| local.pop()).collect::<Vec<_>>(),
            (0..8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn dropping_the_owner_drops_queued_tasks() {
        let counter = std::sync::Arc::new(());
        let (_steal, mut local) = local();
        let sink = Mutex::new(Vec::new());
        struct VecSink<'a>(&'a Mutex<Vec<std::sync::Arc<()>>>);
        impl Overflow<std::sync::Arc<()>> for VecSink<'_> {
            fn push_batch(&self, tasks: impl Iterator<Item = std::sync::Arc<()>>) {
                self.0.lock().unwrap().extend(tasks);
            }
        }
        for _ in 0..20 {
            local.push_back_or_overflow(counter.clone(), &VecSink(&sink));
        }
        assert_eq!(std::sync::Arc::strong_count(&counter), 21);
        drop(local);
        assert_eq!(std::sync::Arc::strong_count(&counter), 1);
    }

    /// Many thieves against one owner; every task is seen exactly once.
    #[test]
    fn concurrent_steal_loses_nothing() {
        const TASKS: usize = if cfg!(miri) { 200 } else { 100_000 };
        const THIEVES: usize = 3;
        let (steal, mut owner) = local::<usize>();
        let sink = Sink::default();
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handles: Vec<_> = (0..THIEVES)
            .map(|_| {
                let steal = steal.clone();
                let seen = seen.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let (_, mut mine) = local::<usize>();
                    let mut got = Vec::new();
                    loop {
                        let finished = done.load(std::sync::atomic::Ordering::Acquire);
                        if let Some(t) = steal.steal_into(&mut mine) {
                            got.push(t);
                        }
                        while let Some(t) = mine.pop() {
                            got.push(t);
                        }
                        if finished && steal.is_empty() {
                            break;
                        }
                        std::thread::yield_now();
                    }
                    seen.lock().unwrap().extend(got);
                })
            })
            .collect();
        let mut mine = Vec::new();
        for i in 0..TASKS {
            owner.push_back_or_overflow(i, &sink);
            if i % 3 == 0 {
                if let Some(t) = owner.pop() {
                    mine.push(t);
                }
            }
        }
        while let Some(t) = owner.pop() {
            mine.push(t);
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for h in handles {
            h.join().unwrap();
        }
        let mut all = seen.lock().unwrap().clone();
        all.extend(mine);
        all.extend(sink.0.lock().unwrap().iter().copied());
        all.sort_unstable();
        assert_eq!(all.len(), TASKS, "a task was lost or duplicated");
        assert!(all.iter().enumerate().all(|(i, &t)| i == t));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Mutex;
    use loom::thread;

    #[derive(Default)]
    struct Sink(Mutex<Vec<usize>>);

    impl Overflow<usize> for Sink {
        fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    fn drain(local: &mut Local<usize>) -> Vec<usize> {
        std::iter::from_fn(|| local.pop()).collect()
    }

    /// One thief against an owner that pushes and pops concurrently.
    #[test]
    fn steal_vs_pop() {
        loom::model(|| {
            let (steal, mut owner) = local::<usize>();
            let sink = Sink::default();
            owner.push_back_or_overflow(0, &sink);
            owner.push_back_or_overflow(1, &sink);

            let thief = thread::spawn(move || {
                let (_, mut mine) = local::<usize>();
                let mut got: Vec<_> = steal.steal_into(&mut mine).into_iter().collect();
                got.extend(drain(&mut mine));
                got
            });

            owner.push_back_or_overflow(2, &sink);
            let mut all = drain(&mut owner);
            all.extend(thief.join().unwrap());
            all.extend(sink.0.lock().unwrap().iter().copied());
            all.sort_unstable();
            assert_eq!(all, vec![0, 1, 2]);
        });
    }

    /// Two thieves race each other and the owner; the owner also overflows.
    #[test]
    fn two_thieves_and_overflow() {
        loom::model(|| {
            let (steal, mut owner) = local::<usize>();
            let sink = std::sync::Arc::new(Sink::default());
            for i in 0..CAPACITY {
                owner.push_back_or_overflow(i, &*sink);
            }
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let steal = steal.clone();
                    thread::spawn(move || {
                        let (_, mut mine) = local::<usize>();
                        let mut got: Vec<_> = steal.steal_into(&mut mine).into_iter().collect();
                        got.extend(drain(&mut mine));
                        got
                    })
                })
                .collect();
            // May overflow, or find room freed by a thief.
            owner.push_back_or_overflow(CAPACITY, &*sink);
            let mut all = drain(&mut owner);
            for t in thieves {
                all.extend(t.join().unwrap());
            }
            all.extend(sink.0.lock().unwrap().iter().copied());
            all.sort_unstable();
            assert_eq!(all, (0..=CAPACITY).collect::<Vec<_>>());
        });
    }
}
