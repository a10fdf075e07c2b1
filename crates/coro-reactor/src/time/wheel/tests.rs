//! Unit tests of the timer wheel (also run under Miri by `.ci/run`).

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// Counts its wakes.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

fn wakes(counter: &Counter) -> usize {
    counter.0.load(Ordering::SeqCst)
}

/// Appends its id to a shared log when woken.
struct Tagged {
    id: usize,
    log: Arc<Mutex<Vec<usize>>>,
}

impl Wake for Tagged {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

/// A waker that logs `id` when woken (also used by `model_tests.rs`).
pub(super) fn tagged(id: usize, log: &Arc<Mutex<Vec<usize>>>) -> Waker {
    Waker::from(Arc::new(Tagged {
        id,
        log: log.clone(),
    }))
}

fn noop() -> Waker {
    counter().1
}

/// Advances and wakes every fired waker; returns how many fired.
fn advance(wheel: &mut Wheel, now: u64) -> usize {
    let mut fired = 0;
    wheel.advance(now, &mut |w| {
        fired += 1;
        w.wake();
    });
    fired
}

fn take_log(log: &Mutex<Vec<usize>>) -> Vec<usize> {
    mem::take(&mut *log.lock().unwrap())
}

#[test]
fn entry_size() {
    let size = mem::size_of::<Entry>();
    println!("size_of::<Entry>() = {size}");
    assert!(size <= 48, "Entry is {size} bytes");
}

#[test]
fn empty_wheel() {
    let mut wheel = Wheel::new();
    assert_eq!(wheel.elapsed(), 0);
    assert_eq!(wheel.next_expiration(), None);
    assert_eq!(advance(&mut wheel, 1 << 40), 0);
    assert_eq!(wheel.elapsed(), 1 << 40);
    advance(&mut wheel, 5); // backwards: no-op
    assert_eq!(wheel.elapsed(), 1 << 40);
    assert_eq!((wheel.len(), wheel.pending()), (0, 0));
}

#[test]
fn fires_at_exact_tick_in_deadline_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut wheel = Wheel::new();
    for (id, when) in [(0, 5), (1, 3), (2, 10), (3, 7), (4, 5), (5, 200), (6, 70)] {
        wheel.insert(when, tagged(id, &log));
    }
    assert_eq!(wheel.next_expiration(), Some(3));
    advance(&mut wheel, 2);
    assert!(take_log(&log).is_empty());
    advance(&mut wheel, 3);
    assert_eq!(take_log(&log), [1]);
    advance(&mut wheel, 4);
    assert!(take_log(&log).is_empty());
    assert_eq!(wheel.next_expiration(), Some(5));
    advance(&mut wheel, 5);
    let mut at5 = take_log(&log);
    at5.sort();
    assert_eq!(at5, [0, 4]);
    // One big jump still fires in deadline order.
    advance(&mut wheel, 1000);
    assert_eq!(take_log(&log), [3, 2, 6, 5]);
    assert_eq!(wheel.pending(), 0);
    assert_eq!(wheel.len(), 7);
}

#[test]
fn timer_for_tick_five_fires_at_five_not_four() {
    let (count, waker) = counter();
    let mut wheel = Wheel::new();
    let key = wheel.insert(5, waker);
    assert_eq!(advance(&mut wheel, 4), 0);
    assert!(!wheel.is_fired(key));
    assert_eq!(wheel.poll(key, &noop()), Poll::Pending);
    assert_eq!(advance(&mut wheel, 5), 1);
    assert!(wheel.is_fired(key));
    assert_eq!(wheel.poll(key, &noop()), Poll::Ready(()));
    // The entry stays until removed.
    assert_eq!(wheel.len(), 1);
    wheel.remove(key);
    assert_eq!(wheel.len(), 0);
    // poll replaced the waker with the no-op one before the timer fired.
    assert_eq!(wakes(&count), 0);
}

#[test]
fn past_deadline_insert_is_fired_without_waking() {
    let (count, waker) = counter();
    let mut wheel = Wheel::new();
    advance(&mut wheel, 10);
    let past = wheel.insert(5, waker.clone());
    let now = wheel.insert(10, waker.clone());
    let future = wheel.insert(11, waker);
    assert!(wheel.is_fired(past) && wheel.is_fired(now));
    assert!(!wheel.is_fired(future));
    assert_eq!(wheel.poll(past, &noop()), Poll::Ready(()));
    assert_eq!((wheel.len(), wheel.pending()), (3, 1));
    assert_eq!(wheel.next_expiration(), Some(11));
    assert_eq!(advance(&mut wheel, 11), 1);
    assert_eq!(wakes(&count), 1);
}

#[test]
fn cancel_before_fire_never_fires() {
    let (count, waker) = counter();
    let mut wheel = Wheel::new();
    let keys: Vec<_> = [1, 64, 5000, 300_000, 1 << 33]
        .into_iter()
        .map(|when| wheel.insert(when, waker.clone()))
        .collect();
    let keep = wheel.insert(100, waker);
    for key in keys {
        wheel.remove(key);
        wheel.remove(key); // second remove is a no-op
    }
    assert_eq!((wheel.len(), wheel.pending()), (1, 1));
    assert_eq!(wheel.next_expiration(), Some(100));
    assert_eq!(advance(&mut wheel, 1 << 40), 1);
    assert_eq!(wakes(&count), 1);
    assert_eq!(wheel.next_expiration(), None);
    assert!(wheel.is_fired(keep));
}

#[test]
fn stale_key_after_reuse_is_noop() {
    let (old_count, old_waker) = counter();
    let (new_count, new_waker) = counter();
    let mut wheel = Wheel::new();
    let stale = wheel.insert(10, old_waker.clone());
    wheel.remove(stale);
    let fresh = wheel.insert(20, new_waker);
    assert_eq!(stale.index, fresh.index, "slab slot is reused");
    assert_ne!(stale, fresh);

    assert!(wheel.is_fired(stale));
    assert_eq!(wheel.poll(stale, &old_waker), Poll::Ready(()));
    assert!(!wheel.reset(stale, 5, &old_waker));
    wheel.remove(stale);
    // The new occupant is untouched: still pending, same deadline, own waker.
    assert_eq!((wheel.len(), wheel.pending()), (1, 1));
    assert!(!wheel.is_fired(fresh));
    assert_eq!(wheel.next_expiration(), Some(20));
    assert_eq!(advance(&mut wheel, 19), 0);
    assert_eq!(advance(&mut wheel, 20), 1);
    assert_eq!((wakes(&old_count), wakes(&new_count)), (0, 1));
    assert!(wheel.is_fired(fresh));
}

#[test]
fn poll_replaces_waker_only_if_needed() {
    let (first, first_waker) = counter();
    let (second, second_waker) = counter();
    let mut wheel = Wheel::new();
    let key = wheel.insert(10, first_waker.clone());
    let refs = Arc::strong_count(&first);
    assert_eq!(wheel.poll(key, &first_waker), Poll::Pending);
    assert_eq!(Arc::strong_count(&first), refs, "will_wake: no clone");
    assert_eq!(wheel.poll(key, &second_waker), Poll::Pending);
    assert_eq!(Arc::strong_count(&first), refs - 1, "old waker dropped");
    advance(&mut wheel, 10);
    assert_eq!((wakes(&first), wakes(&second)), (0, 1));
}

#[test]
fn reset_earlier_later_and_after_fire() {
    let (count, waker) = counter();
    let mut wheel = Wheel::new();
    let key = wheel.insert(1000, waker);
    // Earlier, across levels.
    assert!(wheel.reset(key, 10, &noop()));
    assert_eq!(wheel.next_expiration(), Some(10));
    assert_eq!(advance(&mut wheel, 9), 0);
    // Later: does not fire at the old deadline.
    assert!(wheel.reset(key, 5000, &noop()));
    assert_eq!(wheel.next_expiration(), Some(5000));
    assert_eq!(advance(&mut wheel, 4999), 0);
    assert_eq!(wheel.pending(), 1);
    assert_eq!(advance(&mut wheel, 5000), 1);
    assert_eq!(wakes(&count), 1, "kept its original waker");
    // Re-arming a fired timer uses the given waker.
    let (rearm, rearm_waker) = counter();
    assert!(wheel.reset(key, 6000, &rearm_waker));
    assert!(!wheel.is_fired(key));
    assert_eq!(wheel.poll(key, &rearm_waker), Poll::Pending);
    assert_eq!(advance(&mut wheel, 6000), 1);
    assert_eq!((wakes(&count), wakes(&rearm)), (1, 1));
    // Resetting into the past fires it immediately, without waking.
    assert!(wheel.reset(key, 7000, &rearm_waker));
    assert!(wheel.reset(key, 6000, &rearm_waker));
    assert!(wheel.is_fired(key));
    assert_eq!((wheel.len(), wheel.pending()), (1, 0));
    assert_eq!(wheel.next_expiration(), None);
    assert_eq!(wakes(&rearm), 1);
}

#[test]
fn deadlines_at_level_boundaries() {
    let deltas = [
        1,
        2,
        63,
        64,
        65,
        4095,
        4096,
        4097,
        64u64.pow(3) - 1,
        64u64.pow(3),
        64u64.pow(3) + 1,
        64u64.pow(4),
        64u64.pow(5) - 1,
        64u64.pow(5),
        64u64.pow(5) + 1,
        MAX_AHEAD - 1,
        MAX_AHEAD,
    ];
    // Start points that are aligned, unaligned, and just before boundaries.
    let starts = [
        0,
        1,
        37,
        63,
        4095,
        64u64.pow(3) - 2,
        64u64.pow(6) - 64u64.pow(5) + 3,
    ];
    for start in starts {
        for delta in deltas {
            let (count, waker) = counter();
            let mut wheel = Wheel::new();
            advance(&mut wheel, start);
            let when = start + delta;
            let key = wheel.insert(when, waker);
            assert_eq!(wheel.next_expiration(), Some(when), "{start} + {delta}");
            assert_eq!(advance(&mut wheel, when - 1), 0, "{start} + {delta}");
            assert!(!wheel.is_fired(key));
            assert_eq!(wheel.next_expiration(), Some(when), "{start} + {delta}");
            assert_eq!(advance(&mut wheel, when), 1, "{start} + {delta}");
            assert_eq!(wakes(&count), 1);
            assert!(wheel.is_fired(key));
        }
    }
}

/// Issue 16, defect 2: a deadline past the horizon used to be clamped and
/// fired at the horizon (`sleep(Duration::MAX)` ended after ~795 days). It
/// must be re-filed there and fire at its real deadline, crossing the
/// horizon several times by ordinary (sub-horizon) steps, as a reactor does.
#[test]
fn deadline_beyond_horizon_fires_at_its_real_deadline() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 12345);
    let horizon = 12345 + MAX_AHEAD;
    let log = Arc::new(Mutex::new(Vec::new()));
    let far = horizon + 1;
    let farther = 12345 + 3 * MAX_AHEAD + 777;
    let forever = wheel.insert(u64::MAX, tagged(2, &log));
    wheel.insert(farther, tagged(1, &log));
    wheel.insert(far, tagged(0, &log));
    assert_eq!(wheel.pending(), 3);
    // Step towards the far deadlines by at most a quarter of the horizon at
    // a time, following `next_expiration` like the reactor's sleep does.
    let mut fired_at = Vec::new();
    while wheel.elapsed() < farther {
        let next = wheel.next_expiration().expect("timers pending");
        assert!(
            next > wheel.elapsed(),
            "pending deadlines are in the future"
        );
        let step = (wheel.elapsed() + MAX_AHEAD / 4).min(next);
        let fired = advance(&mut wheel, step);
        let woken = take_log(&log);
        assert_eq!(fired, woken.len());
        fired_at.extend(woken.into_iter().map(|id| (id, step)));
    }
    assert_eq!(fired_at, [(0, far), (1, farther)]);
    assert!(!wheel.is_fired(forever), "u64::MAX is still pending");
    assert_eq!(wheel.pending(), 1);
    // The last tick of the horizon from here does not fire it either.
    let last = wheel.elapsed() + MAX_AHEAD;
    assert_eq!(advance(&mut wheel, last), 0);
    assert!(!wheel.is_fired(forever));
}

/// A jump longer than the horizon (shutdown's `advance(u64::MAX)`) fires
/// what is due in deadline order and keeps the rest at their real deadlines.
#[test]
fn jump_beyond_horizon_refiles_the_rest() {
    let mut wheel = Wheel::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let whens = [
        5 * MAX_AHEAD,
        7,
        MAX_AHEAD + 3,
        9 * MAX_AHEAD,
        64u64.pow(4) + 1,
    ];
    for (id, when) in whens.into_iter().enumerate() {
        wheel.insert(when, tagged(id, &log));
    }
    assert_eq!(advance(&mut wheel, 5 * MAX_AHEAD), 4);
    assert_eq!(take_log(&log), [1, 4, 2, 0]);
    assert_eq!(wheel.elapsed(), 5 * MAX_AHEAD);
    assert_eq!(wheel.pending(), 1);
    assert_eq!(advance(&mut wheel, 9 * MAX_AHEAD - 1), 0);
    assert_eq!(wheel.next_expiration(), Some(9 * MAX_AHEAD));
    assert_eq!(advance(&mut wheel, u64::MAX), 1);
    assert_eq!(take_log(&log), [3]);
}

#[test]
fn top_level_wraps_into_next_epoch() {
    let epoch = 64u64.pow(6);
    let top = 64u64.pow(5);
    let mut wheel = Wheel::new();
    // `elapsed` in the last level-5 slot of the epoch.
    let start = epoch - top + 5;
    advance(&mut wheel, start);
    let log = Arc::new(Mutex::new(Vec::new()));
    let whens = [
        start + MAX_AHEAD,
        epoch + top,
        epoch - 1,
        epoch + 7,
        start + top,
    ];
    for (id, when) in whens.into_iter().enumerate() {
        wheel.insert(when, tagged(id, &log));
    }
    let mut sorted = whens;
    sorted.sort();
    for when in sorted {
        assert_eq!(wheel.next_expiration(), Some(when));
        assert_eq!(advance(&mut wheel, when - 1), 0);
        assert_eq!(advance(&mut wheel, when), 1);
    }
    assert_eq!(take_log(&log), [2, 4, 3, 1, 0]);
}

#[test]
fn near_end_of_time() {
    let mut wheel = Wheel::new();
    let start = u64::MAX - (1 << 35);
    advance(&mut wheel, start);
    let (count, waker) = counter();
    wheel.insert(u64::MAX - 1, waker.clone());
    wheel.insert(u64::MAX, waker);
    assert_eq!(wheel.next_expiration(), Some(u64::MAX - 1));
    assert_eq!(advance(&mut wheel, u64::MAX - 1), 1);
    assert_eq!(wheel.next_expiration(), Some(u64::MAX));
    assert_eq!(advance(&mut wheel, u64::MAX), 1);
    assert_eq!(wakes(&count), 2);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn next_expiration_exact_across_levels() {
    let mut wheel = Wheel::new();
    let whens = [
        64u64.pow(3) + 1000, // level 3, same slot as the next one
        64u64.pow(3) + 5,
        64u64.pow(5) * 3 + 17, // level 5
        4096 * 9 + 4000,       // level 2, same slot as the next one
        4096 * 9 + 3,
        100, // level 1
        64 * 40 + 1,
    ];
    let keys: Vec<_> = whens.iter().map(|&w| wheel.insert(w, noop())).collect();
    let mut order: Vec<usize> = (0..whens.len()).collect();
    order.sort_by_key(|&i| whens[i]);
    // Removing the minimum each time exposes the next exact minimum.
    for &i in &order {
        assert_eq!(wheel.next_expiration(), Some(whens[i]));
        wheel.remove(keys[i]);
    }
    assert_eq!(wheel.next_expiration(), None);

    // Same, but reaching each one by advancing (cascading) instead.
    let keys: Vec<_> = whens.iter().map(|&w| wheel.insert(w, noop())).collect();
    for &i in &order {
        assert_eq!(wheel.next_expiration(), Some(whens[i]));
        advance(&mut wheel, whens[i] - 1);
        assert_eq!(wheel.next_expiration(), Some(whens[i]));
        assert_eq!(advance(&mut wheel, whens[i]), 1);
        assert!(wheel.is_fired(keys[i]));
    }
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn large_jump_fires_everything_due() {
    let n: u64 = if cfg!(miri) { 200 } else { 20_000 };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut wheel = Wheel::new();
    let (count, waker) = counter();
    let mut due = 0;
    let mut min_rest = u64::MAX;
    for _ in 0..n {
        let when = 1 + rng.log_uniform(32);
        wheel.insert(when, waker.clone());
        if when <= 1 << 30 {
            due += 1;
        } else {
            min_rest = min_rest.min(when);
        }
    }
    let fired = advance(&mut wheel, 1 << 30);
    assert_eq!(fired, due);
    assert_eq!(wakes(&count), due);
    assert_eq!(wheel.elapsed(), 1 << 30);
    assert_eq!(wheel.pending(), n as usize - due);
    assert_eq!(
        wheel.next_expiration(),
        (min_rest != u64::MAX).then_some(min_rest)
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn million_timers_insert_then_cancel() {
    const N: u64 = 1_000_000;
    let started = std::time::Instant::now();
    let mut wheel = Wheel::new();
    let (count, waker) = counter();
    let keys: Vec<_> = (0..N)
        // Deadlines spread over all levels.
        .map(|i| wheel.insert(1 + (i * 0x9E37_79B9) % (1 << 34), waker.clone()))
        .collect();
    assert_eq!((wheel.len(), wheel.pending()), (N as usize, N as usize));
    assert!(wheel.next_expiration().is_some());
    for key in keys {
        wheel.remove(key);
    }
    assert_eq!((wheel.len(), wheel.pending()), (0, 0));
    assert_eq!(wheel.next_expiration(), None);
    assert_eq!(advance(&mut wheel, u64::MAX), 0);
    assert_eq!(wakes(&count), 0);
    println!("1M insert + cancel: {:?}", started.elapsed());
}

/// xorshift64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Roughly log-uniform in `[0, 2^max_bits)`, so every level gets hit.
    fn log_uniform(&mut self, max_bits: u64) -> u64 {
        match self.below(max_bits + 1) {
            0 => 0,
            bits => self.next() >> (64 - bits),
        }
    }
}
