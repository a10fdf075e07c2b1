//! The lock around each sync primitive's state.
//!
//! The primitives hold their lock for a handful of instructions (push or pop
//! a waiter, move one value) and never while user code runs: wakers are
//! woken and values dropped after the guard is gone. For critical sections
//! that short, what costs is the lock's own atomics, not waiting: a message
//! through a channel takes the lock two or three times. `std::sync::Mutex`
//! spends two atomic read-modify-writes per use (a CAS to lock and a swap to
//! unlock, the swap because unlocking must learn whether a thread sleeps on
//! the futex). This lock spends one: it never puts a thread to sleep, so
//! unlocking is a plain release store.
//!
//! # Algorithm
//!
//! `locked` is `false` or `true`. `lock` moves it `false -> true` with an
//! acquire CAS; on failure it spins on a relaxed load until the lock looks
//! free, then retries the CAS. After `SPINS_BEFORE_YIELD` failed rounds it
//! yields the thread to the OS between rounds, so a holder that was
//! preempted (possible on any machine with more threads than cores) gets
//! the CPU back instead of being starved by spinners. The guard's drop
//! stores `false` with release ordering.
//!
//! # Invariants
//!
//! * At most one guard exists at a time: only a successful `false -> true`
//!   CAS creates one, and only its drop stores `false`.
//! * Everything written under a guard happens-before everything read under
//!   the next one (release store, acquire CAS). The loom model below checks
//!   both with a tracked cell incremented by racing threads.

use std::ops::{Deref, DerefMut};

use crate::loom::{const_unless_loom, spin_loop, yield_now, AtomicBool, Ordering, UnsafeCell};

/// Failed lock rounds spent spinning before each round also yields.
const SPINS_BEFORE_YIELD: u32 = 64;

/// A spin lock for state that is held only briefly and never across user
/// code (see the module docs).
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one guard at a time (see
// the invariants above), so sharing the lock between threads shares `T`
// only by moving exclusive access, which `T: Send` allows.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: the lock owns its `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    const_unless_loom! {
        /// `const` so that primitives with `const fn new` (`Event`,
        /// `Semaphore`) can live in statics.
        pub(crate) fn new(value: T) -> SpinLock<T> {
            SpinLock {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }
    }

    /// Waits until the lock is free and takes it.
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut rounds = 0u32;
        loop {
            // Spin on a load, not the CAS: a load keeps the cache line
            // shared, so waiting does not slow the holder down.
            while self.locked.load(Ordering::Relaxed) {
                spin_loop();
            }
            if self
                .locked
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            rounds += 1;
            if rounds >= SPINS_BEFORE_YIELD {
                yield_now();
            }
        }
    }
}

/// Exclusive access to a [`SpinLock`]'s value; unlocks when dropped.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (invariant 1), so no `&mut T`
        // exists elsewhere while it lives.
        self.lock.value.with(|value| unsafe { &*value })
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this reference unique
        // among those handed out by this guard.
        self.lock.value.with_mut(|value| unsafe { &mut *value })
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Many threads, many increments of a plain integer: any overlap of two
    /// critical sections would lose an increment.
    #[test]
    fn excludes_and_publishes() {
        let threads = if cfg!(miri) { 3 } else { 8 };
        let rounds = if cfg!(miri) { 50 } else { 20_000 };
        let lock = Arc::new(SpinLock::new(0u64));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..rounds {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(*lock.lock(), threads * rounds);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A thread and the main one each update a loom-tracked cell under the
    /// lock: loom reports a data race if two critical sections can overlap
    /// or if one does not see the previous one's write.
    #[test]
    fn excludes_and_publishes() {
        loom::model(|| {
            let lock = Arc::new(SpinLock::new(loom::cell::UnsafeCell::new(0u32)));
            let spawn = |lock: Arc<SpinLock<loom::cell::UnsafeCell<u32>>>| {
                thread::spawn(move || {
                    let guard = lock.lock();
                    // SAFETY: the guard is held: access is exclusive.
                    guard.with_mut(|n| unsafe { *n += 1 });
                })
            };
            let a = spawn(lock.clone());
            {
                let guard = lock.lock();
                // SAFETY: as above.
                guard.with_mut(|n| unsafe { *n += 1 });
            }
            a.join().unwrap();
            let guard = lock.lock();
            // SAFETY: as above.
            assert_eq!(guard.with(|n| unsafe { *n }), 2);
        });
    }
}
