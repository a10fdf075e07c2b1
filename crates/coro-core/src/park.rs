//! How an idle worker sleeps: the [`Park`] trait.
//!
//! A worker with nothing to run must block until someone gives it work. What
//! it blocks *in* is pluggable: coro-core alone parks on a condition variable
//! ([`ThreadPark`]); coro-reactor implements [`Park`] on top of the OS poller
//! so that an idle worker sleeps inside `epoll_wait`/`kevent` and wakes for
//! I/O and timers as well as for new tasks, with no extra thread hop.
//!
//! The runtime creates one `Park` and shares it: at most one worker at a
//! time is inside [`Park::park`] (it holds the "driver"), the other idle
//! workers sleep on their own condition variables. A worker that needs to
//! wake the driver holder calls [`Park::unpark`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::loom::{lock, Condvar, Mutex};

/// Blocks an idle runtime thread until there is something to do.
///
/// Implementations must follow a *token* discipline, like
/// [`std::thread::park`]: an [`unpark`](Park::unpark) that happens while
/// nobody is parked makes the next [`park`](Park::park) return immediately.
/// Without that, a wake racing with a worker about to sleep would be lost.
///
/// The runtime guarantees that `park` is called by at most one thread at a
/// time, so an implementation may keep per-park state without locking it
/// against itself.
///
/// # Examples
///
/// A `Park` that counts how often the runtime went idle:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use coro_core::park::{Park, ThreadPark};
///
/// #[derive(Default)]
/// struct Counting { inner: ThreadPark, parks: AtomicUsize }
///
/// impl Park for Counting {
///     fn park(&self, timeout: Option<Duration>) {
///         self.parks.fetch_add(1, Ordering::Relaxed);
///         self.inner.park(timeout)
///     }
///     fn unpark(&self) { self.inner.unpark() }
/// }
///
/// let park = Arc::new(Counting::default());
/// let rt = coro_core::runtime::Builder::new()
///     .current_thread()
///     .park(park.clone())
///     .build()
///     .unwrap();
/// let answer = rt.block_on(async {
///     coro_core::spawn(async { 6 * 7 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub trait Park: Send + Sync + 'static {
    /// Blocks the calling thread until [`unpark`](Park::unpark) is called,
    /// `timeout` elapses, or the implementation has done work of its own
    /// (such as dispatching I/O readiness) that may have woken tasks.
    ///
    /// `Some(Duration::ZERO)` means "poll for events, do not block"; the
    /// runtime uses it to process I/O regularly while workers are busy.
    /// Spurious returns are allowed.
    fn park(&self, timeout: Option<Duration>);

    /// Wakes the thread blocked in [`park`](Park::park), or makes the next
    /// call return immediately if no thread is blocked. Callable from any
    /// thread, any number of times.
    fn unpark(&self);

    /// Called once when the runtime has shut down: its tasks are dropped
    /// and its threads have stopped (or been given up on after a timeout).
    /// A driver uses it to fail or release what is still registered with
    /// it. The default does nothing.
    fn shutdown(&self) {}

    /// What the driver has done so far, for
    /// [`RuntimeMetrics`](crate::runtime::RuntimeMetrics). The default
    /// reports nothing (a driver without I/O or timers).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::park::{Park, ThreadPark};
    ///
    /// assert_eq!(ThreadPark::new().metrics().io_events, 0);
    /// ```
    fn metrics(&self) -> DriverMetrics {
        DriverMetrics::default()
    }

    /// Whether the driver wants to hear, through
    /// [`park_idle`](Park::park_idle), when its whole runtime is idle.
    /// coro-reactor does while its clock is paused: that is when virtual
    /// time jumps to the next timer. The default is `false`, and the
    /// runtime then never computes idleness.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::park::{Park, ThreadPark};
    ///
    /// assert!(!ThreadPark::new().wants_idle());
    /// ```
    fn wants_idle(&self) -> bool {
        false
    }

    /// Called instead of `park(None)` when [`wants_idle`](Park::wants_idle)
    /// and no thread of the runtime has work: every worker is parked, no
    /// task is queued and no blocking closure runs. `still_idle` re-checks
    /// that (work may arrive from another thread at any moment); call it
    /// right before acting on idleness. The default parks.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::park::{Park, ThreadPark};
    ///
    /// let park = ThreadPark::new();
    /// park.unpark();
    /// park.park_idle(&|| true); // the default: `park(None)`, which takes the token
    /// ```
    fn park_idle(&self, still_idle: &dyn Fn() -> bool) {
        let _ = still_idle;
        self.park(None);
    }
}

/// A driver's counters, returned by [`Park::metrics`].
///
/// # Examples
///
/// ```
/// use coro_core::park::DriverMetrics;
///
/// let metrics = DriverMetrics { io_events: 3, timers_pending: 1 };
/// assert_eq!(metrics, DriverMetrics { io_events: 3, timers_pending: 1 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverMetrics {
    /// I/O readiness events dispatched to their sources so far.
    pub io_events: u64,
    /// Timers registered and not yet fired.
    pub timers_pending: usize,
}

/// The plain [`Park`]: a condition variable. Used when no reactor is
/// installed.
///
/// # Examples
///
/// ```
/// use coro_core::park::{Park, ThreadPark};
/// use std::time::Duration;
///
/// let park = ThreadPark::new();
/// park.unpark();
/// park.park(None); // returns at once: the token was already there
/// park.park(Some(Duration::from_millis(1))); // times out
/// ```
#[derive(Default)]
pub struct ThreadPark {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl ThreadPark {
    /// Creates a `ThreadPark` with no pending token.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use coro_core::park::{Park, ThreadPark};
    ///
    /// let park = Arc::new(ThreadPark::new());
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let (p, r) = (park.clone(), ready.clone());
    /// let waker = std::thread::spawn(move || {
    ///     r.store(true, Ordering::Release);
    ///     p.unpark(); // before or after `park` below: the token is not lost
    /// });
    /// park.park(None); // blocks until the token arrives
    /// assert!(ready.load(Ordering::Acquire));
    /// waker.join().unwrap();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for ThreadPark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPark").finish_non_exhaustive()
    }
}

impl Park for ThreadPark {
    fn park(&self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) {
            // A poll: a condvar has no events to dispatch. Returning at once
            // keeps busy workers off this shared lock; a pending token stays
            // for the next real park (a spurious wake-up, which is allowed).
            return;
        }
        let mut notified = lock(&self.notified);
        let deadline = timeout.map(|t| Instant::now() + t);
        while !*notified {
            match deadline {
                None => {
                    notified = self
                        .condvar
                        .wait(notified)
                        .unwrap_or_else(|e| e.into_inner());
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return;
                    }
                    notified = self
                        .condvar
                        .wait_timeout(notified, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        *notified = false;
    }

    fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}
