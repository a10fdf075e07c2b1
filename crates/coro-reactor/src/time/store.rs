//! The timer store: one timer wheel per shard, one lock per shard.
//!
//! # Why shards
//!
//! A single wheel behind a single mutex makes every `sleep` and every
//! dropped `timeout` on every worker contend for one lock (tokio#6504). Here
//! a thread inserts into "its" shard (picked once per thread), so workers
//! mostly take uncontended locks. The thread taking a reactor turn visits
//! every shard: it fires what is due and takes the minimum of their next
//! deadlines as its sleep timeout. Shards are few (one per CPU), so that
//! scan is cheap next to the `epoll_wait` it precedes.
//!
//! # Waking a sleeping turn for an earlier timer
//!
//! The turning thread sleeps until the earliest deadline *it saw*. A timer
//! inserted afterwards with an earlier deadline must interrupt it. The
//! protocol, with `parked_until` = the tick the sleeper will wake at (0 when
//! nobody sleeps):
//!
//! * sleeper: scan shards → `d`; store `parked_until = d`; scan again
//!   (`prepare_to_sleep`); sleep until the second scan's minimum;
//! * inserter: insert under the shard lock; then read `parked_until`; if
//!   the new deadline is earlier, notify the poller.
//!
//! If the inserter's lock comes after the sleeper's second scan of that
//! shard, the mutex orders the sleeper's store before the inserter's read,
//! so the inserter sees `d` and notifies. Otherwise the second scan sees
//! the new timer. Either way nobody oversleeps. The first scan alone would
//! not do: an insert between it and the store would be missed by both.
//!
//! Ticks are milliseconds since the store was created. A deadline rounds
//! *up* to its tick and "now" rounds *down*, so a timer never fires early.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::wheel::{TimerKey, Wheel};
use crate::loom::{lock, Mutex};

/// Where a timer lives: its shard and its key in that shard's wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerHandle {
    shard: u32,
    key: TimerKey,
}

/// What [`TimerStore::insert`] did.
pub(crate) struct Inserted {
    pub(crate) handle: TimerHandle,
    /// The deadline had already passed for the wheel: the timer is done.
    pub(crate) fired: bool,
    /// The turning thread sleeps past the new deadline: notify the poller.
    pub(crate) notify: bool,
}

/// One shard on its own cache lines, so that two workers' locks do not
/// share one.
#[repr(align(128))]
struct Shard(Mutex<Wheel>);

pub(crate) struct TimerStore {
    start: Instant,
    shards: Box<[Shard]>,
    /// The tick the turning thread sleeps until; 0: nobody is asleep;
    /// `u64::MAX`: asleep with no timer pending.
    parked_until: AtomicU64,
    /// Timers in the wheels (pending or fired, not yet removed). When it is
    /// zero a non-blocking turn skips the shard locks altogether, so a
    /// runtime that uses no timers pays nothing for them.
    entries: AtomicUsize,
}

/// Not asleep: inserts never notify.
const AWAKE: u64 = 0;

impl TimerStore {
    /// A store whose tick 0 is `start` (the reactor clock's origin).
    pub(crate) fn new(start: Instant) -> TimerStore {
        let shards = std::thread::available_parallelism().map_or(1, usize::from);
        TimerStore {
            start,
            shards: (0..shards)
                .map(|_| Shard(Mutex::new(Wheel::new())))
                .collect(),
            parked_until: AtomicU64::new(AWAKE),
            entries: AtomicUsize::new(0),
        }
    }

    /// The tick at or after `deadline` (a timer never fires early).
    fn tick_ceil(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let ms = since.as_millis() + u128::from(since.subsec_nanos() % 1_000_000 != 0);
        u64::try_from(ms).unwrap_or(u64::MAX - 1)
    }

    /// The last tick that has fully passed at `now`.
    fn tick_floor(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn instant_of(&self, tick: u64) -> Instant {
        self.start + Duration::from_millis(tick)
    }

    fn shard_for_this_thread(&self) -> usize {
        // Threads are numbered once, in the order they first insert a
        // timer; a runtime's workers start together and so spread over the
        // shards.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static THREAD_NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        THREAD_NUMBER.with(|n| *n) % self.shards.len()
    }

    /// Adds a timer and tells what to do next.
    ///
    /// The caller checked that `deadline` was in the future, but a turn on
    /// another thread may have advanced this shard past it since (its clock
    /// read was later than ours); the wheel then stores the timer as
    /// already fired, and the caller must not wait for a wake-up.
    pub(crate) fn insert(&self, deadline: Instant, waker: Waker) -> Inserted {
        let when = self.tick_ceil(deadline);
        let shard = self.shard_for_this_thread();
        let (key, fired) = {
            let mut wheel = lock(&self.shards[shard].0);
            let key = wheel.insert(when, waker);
            (key, wheel.is_fired(key))
        };
        self.entries.fetch_add(1, Ordering::Relaxed);
        // After the lock, see the module docs: either we see the sleeper's
        // deadline or its second scan saw our timer.
        let notify = !fired && when < self.parked_until.load(Ordering::SeqCst);
        Inserted {
            handle: TimerHandle {
                shard: shard as u32,
                key,
            },
            fired,
            notify,
        }
    }

    /// Ready once the timer fired; otherwise remembers `waker`.
    pub(crate) fn poll(&self, handle: TimerHandle, waker: &Waker) -> Poll<()> {
        lock(&self.shards[handle.shard as usize].0).poll(handle.key, waker)
    }

    /// Removes a timer `insert` returned; each handle is removed once.
    pub(crate) fn remove(&self, handle: TimerHandle) {
        lock(&self.shards[handle.shard as usize].0).remove(handle.key);
        self.entries.fetch_sub(1, Ordering::Relaxed);
    }

    /// Fires every timer due at `now` into `wakers`; returns the earliest
    /// pending deadline.
    ///
    /// With no timers at all it returns at once. A timer being inserted
    /// meanwhile may be missed by this call; it is found by the next turn,
    /// and a turn that goes to sleep always re-scans (`prepare_to_sleep`).
    pub(crate) fn fire_due(&self, now: Instant, wakers: &mut Vec<Waker>) -> Option<Instant> {
        if self.entries.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = self.tick_floor(now);
        let mut next = None::<u64>;
        for shard in self.shards.iter() {
            let mut wheel = lock(&shard.0);
            wheel.advance(now, &mut |waker| wakers.push(waker));
            if let Some(tick) = wheel.next_expiration() {
                next = Some(next.map_or(tick, |n| n.min(tick)));
            }
        }
        next.map(|tick| self.instant_of(tick))
    }

    /// Publishes that the turning thread will sleep until `next` and
    /// re-scans (see the module docs); returns the deadline to sleep until.
    pub(crate) fn prepare_to_sleep(&self, next: Option<Instant>) -> Option<Instant> {
        let until = next.map_or(u64::MAX, |deadline| self.tick_ceil(deadline).max(1));
        self.parked_until.store(until, Ordering::SeqCst);
        let mut earliest = next;
        for shard in self.shards.iter() {
            if let Some(tick) = lock(&shard.0).next_expiration() {
                let deadline = self.instant_of(tick);
                earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
            }
        }
        earliest
    }

    /// The turning thread is awake again: inserts need not notify.
    pub(crate) fn woke_up(&self) {
        self.parked_until.store(AWAKE, Ordering::SeqCst);
    }

    /// Fires every pending timer (the runtime shut down).
    pub(crate) fn fire_all(&self, wakers: &mut Vec<Waker>) {
        for shard in self.shards.iter() {
            lock(&shard.0).advance(u64::MAX, &mut |waker| wakers.push(waker));
        }
    }

    /// The earliest pending deadline, without firing anything.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.entries.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let next = self
            .shards
            .iter()
            .filter_map(|shard| lock(&shard.0).next_expiration())
            .min()?;
        Some(self.instant_of(next))
    }

    /// Timers waiting to fire, over all shards.
    pub(crate) fn pending(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).pending()).sum()
    }
}
