//! [`Semaphore`]: a counter of permits, to bound how many tasks do something
//! at once (gevent's `Pool(size)`, `threading.Semaphore`).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::waiters::{WaitList, WakeList};
use crate::coop;
use crate::loom::const_unless_loom;
use crate::sync::spin::{SpinGuard, SpinLock};

/// A counter of permits: [`acquire`](Semaphore::acquire) takes one (waiting
/// while none is left) and the returned permit gives it back when dropped.
///
/// **Fair (FIFO).** Permits go to waiting tasks in arrival order, and a
/// task asking for several ([`acquire_many`](Semaphore::acquire_many)) holds
/// its place: tasks that arrive later wait behind it even when they need
/// fewer permits than are free, so a big request is never starved. Neither
/// `acquire` nor `try_acquire` jumps the queue.
///
/// [`close`](Semaphore::close) makes every pending and future acquire fail
/// with [`AcquireError`]; permits already held stay valid.
///
/// # Examples
///
/// At most two tasks in the critical section at once:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
/// use coro_core::sync::Semaphore;
///
/// coro_core::block_on(async {
///     let pool = Arc::new(Semaphore::new(2));
///     let inside = Arc::new(AtomicUsize::new(0));
///     let tasks: Vec<_> = (0..6)
///         .map(|_| {
///             let (pool, inside) = (pool.clone(), inside.clone());
///             coro_core::spawn(async move {
///                 let _permit = pool.acquire().await.unwrap();
///                 assert!(inside.fetch_add(1, SeqCst) < 2);
///                 coro_core::task::yield_now().await;
///                 inside.fetch_sub(1, SeqCst);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(pool.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    state: SpinLock<State>,
}

struct State {
    permits: usize,
    closed: bool,
    waiters: WaitList<Request>,
}

/// What a waiting acquire asked for, and whether it got it.
struct Request {
    permits: usize,
    granted: bool,
}

impl State {
    /// Grants permits to the waiters at the front, in order, while they fit.
    fn grant(&mut self, wakers: &mut WakeList) {
        while let Some(front) = self.waiters.front_mut() {
            if front.permits > self.permits {
                break;
            }
            self.permits -= front.permits;
            front.granted = true;
            let (_, waker) = self.waiters.pop_front().expect("front exists");
            wakers.extend(waker);
        }
    }
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    const_unless_loom! {
        /// Creates a semaphore with `permits` permits. `const`, so it can be a
        /// `static`.
        ///
        /// # Panics
        ///
        /// Panics if `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
        ///
        /// # Examples
        ///
        /// ```
        /// static LIMIT: coro_core::sync::Semaphore = coro_core::sync::Semaphore::new(5);
        /// assert_eq!(LIMIT.available_permits(), 5);
        /// ```
        pub fn new(permits: usize) -> Self {
            assert!(
                permits <= Self::MAX_PERMITS,
                "a semaphore holds at most MAX_PERMITS permits"
            );
            Semaphore {
                state: SpinLock::new(State {
                    permits,
                    closed: false,
                    waiters: WaitList::new(),
                }),
            }
        }
    }

    fn lock(&self) -> SpinGuard<'_, State> {
        self.state.lock()
    }

    /// The number of permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(3);
    /// let permit = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.lock().permits
    }

    /// Adds `n` permits, handing them to waiting tasks first.
    ///
    /// # Panics
    ///
    /// Panics if the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(0);
    /// assert!(sem.try_acquire().is_err());
    /// sem.add_permits(1);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn add_permits(&self, n: usize) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            state.permits = state
                .permits
                .checked_add(n)
                .filter(|&total| total <= Self::MAX_PERMITS)
                .expect("a semaphore holds at most MAX_PERMITS permits");
            state.grant(&mut wakers);
        }
        wakers.wake_all();
    }

    /// Closes the semaphore: pending and later acquires fail with
    /// [`AcquireError`]. Permits already held are unaffected and are still
    /// returned when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(coro_core::block_on(sem.acquire()).is_err());
    /// ```
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            state.closed = true;
            state.waiters.drain(&mut wakers);
        }
        wakers.wake_all();
    }

    /// `true` once [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Waits for a permit; dropping the permit gives it back.
    ///
    /// The future is cancel-safe: dropped while waiting, it leaves the
    /// queue (and returns a permit it had been granted meanwhile).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(1);
    /// coro_core::block_on(async {
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once (see the fairness note on
    /// [`Semaphore`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(3);
    /// let permit = coro_core::block_on(sem.acquire_many(3)).unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            permits: n as usize,
            key: None,
        }
    }

    /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`: the
    /// permit owns a clone of the `Arc`, so it can move into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::sync::Semaphore;
    ///
    /// coro_core::block_on(async {
    ///     let sem = Arc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     let task = coro_core::spawn(async move {
    ///         let _permit = permit; // released when the task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Self::acquire_many), returning an owned permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::sync::Semaphore;
    ///
    /// coro_core::block_on(async {
    ///     let sem = Arc::new(Semaphore::new(3));
    ///     let permit = sem.clone().acquire_many_owned(2).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 2);
    ///     assert_eq!(sem.available_permits(), 1);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 3);
    /// });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = self.acquire_many(n).await?.forget_count();
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Takes a permit if one is free and nobody is queued before us.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(permit);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued before us.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(3);
    /// let permit = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap_err(), TryAcquireError::NoPermits);
    /// assert!(sem.try_acquire_many(1).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let permits = n as usize;
        let mut state = self.lock();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if !state.waiters.is_empty() || state.permits < permits {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= permits;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Like [`try_acquire`](Self::try_acquire), returning an owned permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// let err = sem.clone().try_acquire_owned().unwrap_err();
    /// assert_eq!(err, TryAcquireError::NoPermits);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permits = self.try_acquire()?.forget_count();
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Returns permits without the upper-bound check (they were taken from
    /// this semaphore).
    fn release(&self, permits: usize) {
        if permits == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            state.permits += permits;
            state.grant(&mut wakers);
        }
        wakers.wake_all();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// # Examples
///
/// ```
/// use coro_core::sync::{Acquire, Semaphore};
///
/// let sem = Semaphore::new(2);
/// let acquire: Acquire<'_> = sem.acquire_many(2);
/// let permit = coro_core::block_on(acquire).unwrap();
/// assert_eq!(permit.num_permits(), 2);
/// assert_eq!(sem.available_permits(), 0);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let proceed = ready!(coop::poll_proceed(cx));
        let semaphore = self.semaphore;
        let permits = self.permits;
        let mut state = semaphore.lock();
        let granted = match self.key {
            None if state.closed => false,
            None if state.waiters.is_empty() && state.permits >= permits => {
                state.permits -= permits;
                true
            }
            None => {
                let request = Request {
                    permits,
                    granted: false,
                };
                self.key = Some(state.waiters.push_back(cx.waker(), request));
                return Poll::Pending;
            }
            Some(key) if state.waiters.is_linked(key) => {
                state.waiters.update_waker(key, cx.waker());
                return Poll::Pending;
            }
            // Unlinked: granted, or woken by `close`.
            Some(key) => {
                self.key = None;
                state.waiters.remove(key).granted
            }
        };
        drop(state);
        proceed.made_progress();
        Poll::Ready(if granted {
            Ok(SemaphorePermit { semaphore, permits })
        } else {
            Err(AcquireError(()))
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = WakeList::new();
        {
            let mut state = self.semaphore.lock();
            let request = state.waiters.remove(key);
            if request.granted {
                state.permits += request.permits;
            }
            // Either way the front may have changed: serve who fits now.
            state.grant(&mut wakers);
        }
        wakers.wake_all();
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
///
/// # Examples
///
/// ```
/// use coro_core::sync::{Semaphore, SemaphorePermit};
///
/// let sem = Semaphore::new(1);
/// {
///     let permit: SemaphorePermit<'_> = sem.try_acquire().unwrap();
///     assert_eq!(permit.num_permits(), 1);
///     assert_eq!(sem.available_permits(), 0);
/// } // `permit` is dropped here and its permit goes back
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released at once if not kept"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(5);
    /// let permit = sem.try_acquire_many(3).unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good (its capacity
    /// shrinks), instead of giving them back.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = coro_core::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(self) {
        self.forget_count();
    }

    fn forget_count(mut self) -> usize {
        std::mem::take(&mut self.permits)
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Permits of a `Semaphore` in an `Arc`, made by
/// [`acquire_owned`](Semaphore::acquire_owned); dropping it gives them back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use coro_core::sync::{OwnedSemaphorePermit, Semaphore};
///
/// coro_core::block_on(async {
///     let sem = Arc::new(Semaphore::new(1));
///     let permit: OwnedSemaphorePermit = sem.clone().acquire_owned().await.unwrap();
///     // It borrows nothing, so it can move into a spawned task.
///     let task = coro_core::spawn(async move { permit.num_permits() });
///     assert_eq!(task.await.unwrap(), 1);
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[must_use = "the permit is released at once if not kept"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(coro_core::sync::Semaphore::new(4));
    /// let permit = coro_core::block_on(sem.acquire_many_owned(3)).unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_core::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// assert_eq!(permit.semaphore().available_permits(), 1);
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(coro_core::sync::Semaphore::new(2));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// The semaphore was closed.
///
/// # Examples
///
/// ```
/// use coro_core::sync::Semaphore;
///
/// let sem = Semaphore::new(1);
/// sem.close();
/// let err = coro_core::block_on(sem.acquire()).unwrap_err();
/// assert_eq!(err.to_string(), "the semaphore is closed");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl Error for AcquireError {}

/// Why a `try_acquire` failed.
///
/// # Examples
///
/// ```
/// use coro_core::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(1);
/// let _permit = sem.try_acquire().unwrap();
/// let err = sem.try_acquire().unwrap_err();
/// assert_eq!(err, TryAcquireError::NoPermits);
/// assert_eq!(err.to_string(), "no permits available");
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are free (or other tasks are queued first).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl Error for TryAcquireError {}

#[cfg(all(test, not(loom)))]
#[path = "semaphore_model_tests.rs"]
mod model_tests;
#[cfg(all(test, not(loom)))]
#[path = "semaphore_tests.rs"]
mod tests;
