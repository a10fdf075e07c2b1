//! Per-thread parking on top of one shared [`Park`] driver.
//!
//! Every runtime thread that runs tasks owns a [`Parker`]. All parkers of a
//! runtime share a single [`Driver`]: the `Park` implementation (the OS
//! poller once coro-reactor is installed) behind a try-lock. A thread going
//! idle first tries to take the driver; if it gets it, it sleeps inside
//! `Park::park` and so also waits for I/O and timers on everyone's behalf.
//! If another thread already holds the driver, it sleeps on its own condvar.
//! Only one thread polls the OS at a time, and there is no dedicated reactor
//! thread.
//!
//! # State machine
//!
//! `state` is one of:
//!
//! * `EMPTY`: running, or about to park;
//! * `PARKED_CONDVAR`: asleep on the condvar;
//! * `PARKED_DRIVER`: asleep inside the driver;
//! * `NOTIFIED`: an `unpark` arrived; the next `park` returns at once.
//!
//! `unpark` swaps in `NOTIFIED` and then wakes the thread the way matching
//! the previous state. `park` moves `EMPTY -> PARKED_*` with a CAS, which
//! fails if `NOTIFIED` was stored first, so a wake that races with going to
//! sleep is never lost. For the condvar the CAS happens with the mutex held
//! and `unpark` takes the mutex before notifying, so the notification cannot
//! fall between the CAS and the wait. For the driver the `Park` token
//! discipline gives the same guarantee.
//!
//! The loom model in `tests` checks that an `unpark` from another thread
//! always ends a `park`.

use std::time::Duration;

use crate::loom::{lock, Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::park::Park;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The runtime's one [`Park`], with the flag that lets one thread in.
pub(crate) struct Driver {
    // std's `Arc`, even under loom: loom's cannot hold a trait object, and
    // the `Park` itself is not what the models check.
    park: std::sync::Arc<dyn Park>,
    in_use: crate::loom::AtomicBool,
    /// Threads spinning before they park (`scheduler/spin.rs`), which poll
    /// the driver without blocking as they spin. While one does, a thread
    /// going to sleep leaves the driver to it and sleeps on its condvar:
    /// otherwise the sleeper would hold the driver, the spinner could not
    /// poll it, and each new event would wake the sleeper instead (the slow
    /// path the spin is there to avoid). No event is missed: the spinner
    /// polls the driver until it stops, and then parks in it (or runs
    /// tasks, and polls it again between them and when it next runs dry).
    spinners: std::sync::atomic::AtomicUsize,
}

impl Driver {
    pub(crate) fn new(park: std::sync::Arc<dyn Park>) -> Arc<Driver> {
        Arc::new(Driver {
            park,
            in_use: crate::loom::AtomicBool::new(false),
            spinners: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn try_acquire(&self) -> bool {
        self.in_use
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn release(&self) {
        self.in_use.store(false, Ordering::Release);
    }

    /// Counts the caller as spinning (see `spinners`) until the guard drops.
    pub(crate) fn spinning(&self) -> Spinning<'_> {
        self.spinners
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Spinning(self)
    }

    fn has_spinners(&self) -> bool {
        self.spinners.load(std::sync::atomic::Ordering::SeqCst) != 0
    }

    /// Whether the driver wants `park_idle` calls (see `Park::wants_idle`).
    pub(crate) fn wants_idle(&self) -> bool {
        self.park.wants_idle()
    }

    /// Polls the driver without blocking, if no other thread is in it.
    /// Workers call this regularly while busy so that I/O readiness is not
    /// starved by a long stream of runnable tasks.
    pub(crate) fn poll_now(&self) {
        if self.try_acquire() {
            self.park.park(Some(Duration::ZERO));
            self.release();
        }
    }
}

/// A spinning thread; see [`Driver::spinning`].
pub(crate) struct Spinning<'a>(&'a Driver);

impl Drop for Spinning<'_> {
    fn drop(&mut self) {
        self.0
            .spinners
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    driver: Arc<Driver>,
}

impl Parker {
    pub(crate) fn new(driver: Arc<Driver>) -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
            driver,
        }
    }

    pub(crate) fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Blocks until [`unpark`](Self::unpark) is called (or, with a timeout,
    /// until it elapses; or spuriously when the driver dispatched events).
    /// Must only be called by the thread that owns this parker.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        // Fast path: a token is already waiting.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        // Leave the driver to a spinner, if there is one (see `spinners`).
        if !self.driver.has_spinners() && self.driver.try_acquire() {
            self.park_driver(|park| park.park(timeout));
            self.driver.release();
        } else {
            self.park_condvar(timeout);
        }
    }

    /// `park(None)` for a thread that found its whole runtime idle (see
    /// `Park::park_idle`). If another thread holds the driver, it went to
    /// sleep there before the runtime was idle and so would not act on it:
    /// it is woken to look again, and we sleep on our condvar.
    pub(crate) fn park_idle(&self, still_idle: &dyn Fn() -> bool) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if self.driver.try_acquire() {
            self.park_driver(|park| park.park_idle(still_idle));
            self.driver.release();
        } else {
            self.driver.park.unpark();
            self.park_condvar(None);
        }
    }

    fn park_driver(&self, park: impl FnOnce(&dyn Park)) {
        match self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(actual) => unreachable!("park_driver: inconsistent state {actual}"),
        }
        park(&*self.driver.park);
        match self.state.swap(EMPTY, Ordering::SeqCst) {
            // A NOTIFIED here means `unpark` also called `Park::unpark`; the
            // driver may keep that token and return early once next time,
            // which is an allowed spurious wake-up.
            NOTIFIED | PARKED_DRIVER => {}
            actual => unreachable!("park_driver: inconsistent state {actual}"),
        }
    }

    fn park_condvar(&self, timeout: Option<Duration>) {
        let mut guard = lock(&self.mutex);
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(actual) => unreachable!("park_condvar: inconsistent state {actual}"),
        }
        match timeout {
            None => loop {
                guard = self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner());
                if self
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    return;
                }
                // Spurious wake-up: sleep again.
            },
            Some(timeout) => {
                let (_guard, _) = self
                    .condvar
                    .wait_timeout(guard, timeout)
                    .unwrap_or_else(|e| e.into_inner());
                // Timed out, notified or spurious: all mean "return".
                self.state.swap(EMPTY, Ordering::SeqCst);
            }
        }
    }

    /// Wakes the owner if it is parked, or makes its next `park` return.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the parked
                // thread's wait began (it CASed while holding the lock).
                drop(lock(&self.mutex));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => self.driver.park.unpark(),
            actual => unreachable!("unpark: inconsistent state {actual}"),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::park::ThreadPark;
    use loom::thread;

    /// Two parkers share one driver; each is woken by another thread. Every
    /// park must return, whichever of them holds the driver.
    #[test]
    fn unpark_always_ends_park() {
        loom::model(|| {
            let driver = Driver::new(std::sync::Arc::new(ThreadPark::new()));
            let a = Arc::new(Parker::new(driver.clone()));
            let b = Arc::new(Parker::new(driver));
            let (a2, b2) = (a.clone(), b.clone());
            let waker = thread::spawn(move || {
                a2.unpark();
                b2.unpark();
            });
            let other = thread::spawn(move || b.park(None));
            a.park(None);
            other.join().unwrap();
            waker.join().unwrap();
        });
    }

    /// An unpark that lands before park is kept as a token.
    #[test]
    fn token_survives() {
        loom::model(|| {
            let driver = Driver::new(std::sync::Arc::new(ThreadPark::new()));
            let p = Arc::new(Parker::new(driver));
            p.unpark();
            p.park(None);
            let p2 = p.clone();
            let t = thread::spawn(move || p2.unpark());
            p.park(None);
            t.join().unwrap();
        });
    }
}
