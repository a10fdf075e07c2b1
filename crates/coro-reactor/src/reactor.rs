//! The reactor: one OS poller, the sources registered with it, the timer
//! store, and the [`Park`] implementation that puts an idle worker to sleep
//! inside `epoll_wait`.
//!
//! # One turn
//!
//! A thread that has nothing to run calls [`Park::park`], which is a *turn*:
//!
//! 1. fire the timers that are due and compute the next deadline;
//! 2. wait in the poller until an event, that deadline, the caller's timeout,
//!    or a [`Poller::notify`] from a thread that has work for us;
//! 3. record each event's readiness in its source and collect the wakers;
//! 4. fire the timers again (time passed while we slept);
//! 5. wake the collected tasks, after every lock is released.
//!
//! The coro-core scheduler lets only one worker at a time in here (the
//! others sleep on their own condition variables and are woken one at a
//! time), and busy workers take non-blocking turns (`park(Some(ZERO))`) so
//! that a runtime full of runnable tasks still notices I/O and timers.
//! There is no reactor thread inside a runtime: the worker that waits for
//! the OS is the one that runs the woken tasks, with their data still in
//! its cache. The one exception is the fallback reactor for futures polled
//! outside any coro runtime (see [`crate::fallback`]).
//!
//! # Sources
//!
//! A source is registered once, for both directions, edge-triggered (see
//! [`crate::io::readiness`] for why). The poller's key is the source's
//! slab index with a generation in the high bits: an event still in flight
//! for a source that was deregistered, whose slot was reused, is dropped
//! instead of waking a stranger. Dispatching a batch of events takes the
//! source lock once; registration and deregistration take it once each.

use std::fmt;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use coro_core::park::{DriverMetrics, Park};
use polling::Poller;
use slab::Slab;

use crate::io::readiness::{ScheduledIo, READABLE, READ_CLOSED, SHUTDOWN, WRITABLE, WRITE_CLOSED};
use crate::loom::{lock, Mutex};
use crate::sys::{self, Notifier, OsEvent};
use crate::time::clock::Clock;
use crate::time::store::TimerStore;

/// The I/O and timer driver of one coro runtime (or of the fallback thread).
///
/// Applications do not use it directly: `coro::Runtime` installs one as its
/// [`Park`], and coro-net's sockets and timers find it through
/// [`Reactor::current`].
///
/// # Examples
///
/// ```
/// use coro_reactor::Reactor;
///
/// let reactor = Reactor::new().unwrap();
/// let rt = coro_core::runtime::Builder::new()
///     .current_thread()
///     .park(reactor.clone())
///     .build()
///     .unwrap();
/// rt.block_on(async move {
///     assert!(std::sync::Arc::ptr_eq(&Reactor::current(), &reactor));
/// });
/// ```
pub struct Reactor {
    poller: Poller,
    /// Declared after `poller`: its fd is registered there and must not
    /// be closed first.
    notifier: Notifier,
    sources: Mutex<Sources>,
    /// Held by the thread taking a turn: the event buffer and the wakers
    /// collected during the turn (kept to reuse their allocations).
    turn: Mutex<TurnBuffers>,
    pub(crate) timers: TimerStore,
    /// The timeline of `timers`: real time, or virtual while paused.
    pub(crate) clock: Clock,
    /// How many sources are registered. A non-blocking turn with none
    /// skips the `epoll_wait` syscall: nothing could be ready.
    registered: AtomicUsize,
    shutdown: AtomicBool,
    /// I/O events dispatched so far (`Park::metrics`). Written only by the
    /// thread holding `turn`, read by anyone.
    io_events: AtomicU64,
}

struct Sources {
    slab: Slab<Source>,
    next_generation: u32,
}

struct Source {
    io: Arc<ScheduledIo>,
    generation: u32,
}

struct TurnBuffers {
    events: sys::Events,
    wakers: Vec<Waker>,
}

/// The poller key of a registered source: slab index and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SourceKey {
    index: u32,
    generation: u32,
}

impl SourceKey {
    /// Generations wrap at 31 bits, so every key is below `sys::WAKE_KEY`.
    const GENERATION_MASK: u32 = (1 << 31) - 1;

    fn encode(self) -> usize {
        ((self.generation as usize) << 32) | self.index as usize
    }

    fn decode(key: usize) -> SourceKey {
        SourceKey {
            index: key as u32,
            generation: (key >> 32) as u32,
        }
    }
}

impl Reactor {
    /// Creates a reactor with its own OS poller.
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be created (for example `EMFILE`),
    /// or `Unsupported` if the platform's poller has no edge-triggered mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::{Reactor, Timer};
    ///
    /// let reactor = Reactor::new().unwrap();
    /// let rt = coro_core::runtime::Builder::new()
    ///     .current_thread()
    ///     .park(reactor)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // The runtime turns the new reactor, which fires this timer.
    ///     let deadline = Instant::now() + Duration::from_millis(2);
    ///     let mut timer = Timer::new(deadline);
    ///     poll_fn(|cx| timer.poll_elapsed(cx)).await;
    ///     assert!(Instant::now() >= deadline);
    /// });
    /// ```
    pub fn new() -> io::Result<Arc<Reactor>> {
        Reactor::with_waiter(sys::waiter)
    }

    /// A reactor that waits through `polling`'s portable `wait` and
    /// `notify` even on Linux: the path macOS and the BSDs take (with
    /// kqueue), so that the tests here run it on Linux too.
    #[cfg(test)]
    fn new_portable() -> io::Result<Arc<Reactor>> {
        Reactor::with_waiter(|_| sys::portable_waiter())
    }

    fn with_waiter(
        waiter: impl FnOnce(&Poller) -> (sys::Notifier, sys::Events),
    ) -> io::Result<Arc<Reactor>> {
        let poller = Poller::new()?;
        if !poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "coro-reactor needs an edge-triggered OS poller (epoll or kqueue)",
            ));
        }
        let (notifier, events) = waiter(&poller);
        let clock = Clock::new();
        Ok(Arc::new(Reactor {
            poller,
            notifier,
            sources: Mutex::new(Sources {
                slab: Slab::new(),
                next_generation: 0,
            }),
            turn: Mutex::new(TurnBuffers {
                events,
                wakers: Vec::new(),
            }),
            timers: TimerStore::new(clock.origin()),
            clock,
            registered: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            io_events: AtomicU64::new(0),
        }))
    }

    /// The reactor of the coro runtime this code runs on, or the process-wide
    /// fallback reactor (with its driver thread, started on first use) when
    /// there is none: outside any runtime, under another executor, or on a
    /// coro-core runtime built without a reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use coro_reactor::Reactor;
    ///
    /// // Outside any runtime: the fallback reactor, the same one every time.
    /// let fallback = Reactor::current();
    /// assert!(Arc::ptr_eq(&fallback, &Reactor::current()));
    ///
    /// let reactor = Reactor::new().unwrap();
    /// let rt = coro_core::runtime::Builder::new()
    ///     .current_thread()
    ///     .park(reactor.clone())
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async move {
    ///     assert!(Arc::ptr_eq(&Reactor::current(), &reactor));
    ///     assert!(!Arc::ptr_eq(&Reactor::current(), &fallback));
    /// });
    /// ```
    pub fn current() -> Arc<Reactor> {
        coro_core::runtime::Handle::try_current()
            .and_then(|handle| handle.park_as::<Reactor>())
            .unwrap_or_else(|| crate::fallback::reactor().clone())
    }

    /// The current instant on this reactor's clock: `Instant::now()`
    /// unless the clock was paused (see [`pause`](Self::pause)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use coro_reactor::Reactor;
    ///
    /// let reactor = Reactor::new().unwrap();
    /// let before = Instant::now();
    /// assert!(reactor.now() >= before);
    /// reactor.pause();
    /// let paused_at = reactor.now();
    /// std::thread::sleep(Duration::from_millis(1));
    /// assert_eq!(reactor.now(), paused_at);
    /// ```
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Stops this reactor's clock: [`now`](Self::now) stands still, and
    /// moves only by [`advance`](Self::advance) or, when the runtime is
    /// idle, by jumping to the next timer's deadline. The paused instant is
    /// rounded up to the timer wheel's next millisecond. No-op if paused.
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = coro_reactor::Reactor::new().unwrap();
    /// reactor.pause();
    /// assert!(reactor.is_paused());
    /// ```
    pub fn pause(&self) {
        self.clock.pause();
    }

    /// Lets a paused clock run at real speed again, from where it stands.
    /// No-op if it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = coro_reactor::Reactor::new().unwrap();
    /// reactor.pause();
    /// reactor.resume();
    /// assert!(!reactor.is_paused());
    /// ```
    pub fn resume(&self) {
        self.clock.resume();
        // A sleeping turn waits with no timeout while paused: give it one.
        self.notify();
    }

    /// Whether the clock is paused.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!coro_reactor::Reactor::new().unwrap().is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// Moves a paused clock forward by `by`, firing the timers it passes
    /// in deadline order (each one's task is woken with the clock at that
    /// timer's deadline, so tasks woken earlier are queued first), and
    /// leaves the clock at `now() + by`, which is what those tasks see when
    /// they run.
    ///
    /// # Panics
    ///
    /// If the clock is not paused: pause it first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let reactor = coro_reactor::Reactor::new().unwrap();
    /// reactor.pause();
    /// let start = reactor.now();
    /// reactor.advance(Duration::from_secs(5));
    /// assert_eq!(reactor.now() - start, Duration::from_secs(5));
    /// ```
    #[track_caller]
    pub fn advance(&self, by: Duration) {
        let target = self.clock.now().checked_add(by);
        assert!(
            self.clock.is_paused(),
            "`coro::time::advance` needs a paused clock: call `coro::time::pause()` first, \
             or build the runtime with `start_paused(true)` / `#[coro::test(start_paused = true)]`"
        );
        let target =
            target.expect("coro::time::advance: the clock would pass the end of `Instant`'s range");
        let mut wakers = Vec::new();
        while let Some(next) = self.timers.next_deadline().filter(|&next| next <= target) {
            self.clock.advance_to(next);
            self.timers.fire_due(next, &mut wakers);
            self.wake_all(&mut wakers);
        }
        self.clock.advance_to(target);
        self.timers.fire_due(target, &mut wakers);
        self.wake_all(&mut wakers);
    }

    /// Whether the runtime that owned this reactor has shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Registers `fd` for both directions, edge-triggered.
    ///
    /// The caller must keep `fd` open until [`deregister`](Self::deregister).
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<(SourceKey, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::default());
        let key = {
            let mut sources = lock(&self.sources);
            let generation = sources.next_generation;
            sources.next_generation = generation.wrapping_add(1) & SourceKey::GENERATION_MASK;
            let entry = sources.slab.vacant_entry();
            let index = u32::try_from(entry.key()).map_err(|_| {
                io::Error::new(io::ErrorKind::OutOfMemory, "more than 2^32 I/O sources")
            })?;
            entry.insert(Source {
                io: io.clone(),
                generation,
            });
            SourceKey { index, generation }
        };
        // SAFETY: the fd must stay open until it is deregistered. The callers
        // (`IoSource`) own the fd and call `deregister` in their destructor
        // before closing it.
        let added = unsafe { self.notifier.register(&self.poller, fd, key.encode()) };
        if let Err(error) = added {
            lock(&self.sources).slab.remove(key.index as usize);
            return Err(error);
        }
        self.registered.fetch_add(1, Ordering::Relaxed);
        if self.is_shutdown() {
            // Registered after (or while) the runtime shut down: nobody will
            // turn this reactor again, so make every wait fail at once.
            io.set_readiness(SHUTDOWN, &mut |waker| waker.wake());
        }
        Ok((key, io))
    }

    /// Removes `fd` from the poller and forgets its readiness.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>, key: SourceKey) {
        self.notifier.deregister(&self.poller, fd);
        let mut sources = lock(&self.sources);
        if let Some(source) = sources.slab.get(key.index as usize) {
            if source.generation == key.generation {
                let source = sources.slab.remove(key.index as usize);
                drop(sources);
                self.registered.fetch_sub(1, Ordering::Relaxed);
                source.io.clear_wakers();
            }
        }
    }

    /// Whether a source's `READ_CLOSED` state is reported by the OS (the
    /// peer's FIN as its own event), which makes forgetting read readiness
    /// after a short read safe.
    pub(crate) fn reports_read_closed(&self) -> bool {
        self.notifier.reports_read_closed()
    }

    /// Wakes the thread taking a turn, if any; otherwise the next turn
    /// returns at once.
    pub(crate) fn notify(&self) {
        self.notifier.notify(&self.poller);
    }

    /// One turn (see the module docs). Returns at once if another thread
    /// is taking a turn. Returns how many tasks it woke.
    fn turn(&self, timeout: Option<Duration>) -> usize {
        let Ok(mut buffers) = self.turn.try_lock() else {
            return 0;
        };
        let TurnBuffers { events, wakers } = &mut *buffers;

        let now = self.clock.now();
        let mut next_timer = self.timers.fire_due(now, wakers);
        let mut wait = timeout;
        let mut published = false;
        if !wakers.is_empty() {
            // Tasks are about to run: look at the OS, but do not sleep.
            wait = Some(Duration::ZERO);
        } else if wait != Some(Duration::ZERO) {
            // Going to sleep: publish until when, so that a timer inserted
            // meanwhile with an earlier deadline notifies us (time/store.rs).
            next_timer = self.timers.prepare_to_sleep(next_timer);
            published = true;
        }
        // A paused clock does not move while we sleep: its timers fire
        // when `park_idle` or `advance` moves it, not after a real wait.
        if let Some(deadline) = next_timer.filter(|_| !self.clock.is_paused()) {
            let until_timer = deadline.saturating_duration_since(now);
            wait = Some(wait.map_or(until_timer, |w| w.min(until_timer)));
        }

        if !published
            && wait == Some(Duration::ZERO)
            && self.registered.load(Ordering::Relaxed) == 0
        {
            // A poll with no sources: no syscall. (A source registered this
            // instant is polled by the next turn. A turn that published a
            // sleep deadline goes on, so that `woke_up` below clears it.)
            return self.wake_all(wakers);
        }

        // Readiness is recorded under the source lock, taken once for the
        // whole batch; the wakers are only collected here.
        let mut sources = None;
        let mut dispatched = 0;
        let waited = sys::wait(&self.poller, &self.notifier, events, wait, |event| {
            let sources = sources.get_or_insert_with(|| lock(&self.sources));
            dispatch(&sources.slab, event, wakers);
            dispatched += 1;
        });
        drop(sources);
        if dispatched > 0 {
            // Only the turn holder writes: a load and a store suffice.
            let total = self.io_events.load(Ordering::Relaxed) + dispatched;
            self.io_events.store(total, Ordering::Relaxed);
        }
        if published {
            self.timers.woke_up();
        }
        if let Err(error) = waited {
            // Interruptions are retried or reported as empty waits; anything
            // else is a broken poller that no caller could handle. Sleep a
            // little instead of spinning.
            debug_assert!(false, "waiting for OS events failed: {error}");
            std::thread::sleep(Duration::from_millis(1));
        }
        self.timers.fire_due(self.clock.now(), wakers);

        self.wake_all(wakers)
    }

    /// Wakes what a turn collected, and says how many. Waking schedules
    /// tasks, which may call back into this reactor (`notify`), so every
    /// lock but the turn buffer is released by now.
    fn wake_all(&self, wakers: &mut Vec<Waker>) -> usize {
        let woken = wakers.len();
        for waker in wakers.drain(..) {
            waker.wake();
        }
        woken
    }
}

/// Records one OS event in its source, if the source is still registered
/// under that key.
fn dispatch(slab: &Slab<Source>, event: OsEvent, wakers: &mut Vec<Waker>) {
    let key = SourceKey::decode(event.key);
    let Some(source) = slab.get(key.index as usize) else {
        return;
    };
    if source.generation != key.generation {
        return;
    }
    let mut bits = 0;
    if event.readable {
        bits |= READABLE;
    }
    if event.writable {
        bits |= WRITABLE;
    }
    if event.hangup {
        // Hang-up: both directions are closed for good.
        bits |= READ_CLOSED | WRITE_CLOSED;
    }
    if event.read_closed {
        // The peer's FIN: reads never block again (they return what is
        // left, then 0).
        bits |= READ_CLOSED;
    }
    if event.error {
        // A pending socket error (an ICMP refusal on UDP, a reset) is
        // consumed by the next syscall, after which the socket may block
        // again: ready, but not sticky.
        bits |= READABLE | WRITABLE;
    }
    if bits != 0 {
        source
            .io
            .set_readiness(bits, &mut |waker| wakers.push(waker));
    }
}

impl Park for Reactor {
    fn park(&self, timeout: Option<Duration>) {
        self.turn(timeout);
    }

    fn wants_idle(&self) -> bool {
        self.clock.is_paused()
    }

    /// The runtime is idle. With the clock paused: dispatch whatever I/O
    /// is ready (a ready socket is never pre-empted by a jump); if that
    /// woke nobody, jump the clock to the next timer and fire it. Repeats
    /// while a jump fires nothing (the wheel may only cascade a timer
    /// closer), and sleeps for real if no timer is pending.
    fn park_idle(&self, still_idle: &dyn Fn() -> bool) {
        if !self.clock.is_paused() {
            self.turn(None);
            return;
        }
        loop {
            if self.turn(Some(Duration::ZERO)) > 0 {
                return;
            }
            let Some(next) = self.timers.next_deadline() else {
                // Nothing to jump to: wait for I/O or a wake-up.
                self.turn(None);
                return;
            };
            if !still_idle() || !self.clock.is_paused() {
                return;
            }
            self.clock.advance_to(next);
        }
    }

    fn unpark(&self) {
        self.notify();
    }

    fn metrics(&self) -> DriverMetrics {
        DriverMetrics {
            io_events: self.io_events.load(Ordering::Relaxed),
            timers_pending: self.timers.pending(),
        }
    }

    /// Fails every registered source and fires every timer: their tasks
    /// are gone with the runtime, but a socket or timer moved out of it
    /// (or awaited by another executor) must not wait forever. Timers move
    /// to the fallback reactor when polled again; sockets report an error.
    fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        {
            let sources = lock(&self.sources);
            for (_, source) in sources.slab.iter() {
                source
                    .io
                    .set_readiness(SHUTDOWN, &mut |waker| wakers.push(waker));
            }
        }
        self.timers.fire_all(&mut wakers);
        for waker in wakers {
            waker.wake();
        }
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &lock(&self.sources).slab.len())
            .field("pending_timers", &self.timers.pending())
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
