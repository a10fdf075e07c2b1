//! The clock of one reactor: real time, or virtual time while paused.
//!
//! Every timer of a reactor lives on its clock's timeline. Until someone
//! pauses it the clock *is* `std::time::Instant::now()`. Paused, it stands
//! still: `now()` returns the same instant until [`Clock::advance_to`] moves
//! it forward or the reactor, finding its whole runtime idle, jumps it to
//! the next timer's deadline (`Reactor::park_idle`). Resumed, it runs at
//! real speed again from where it stood, so virtual time never goes back.
//!
//! Represented as "`base_virtual` at real instant `base_real`": running,
//! now = `base_virtual + (real_now - base_real)`; paused, now =
//! `base_virtual`. A clock that was never paused skips all of that: one
//! relaxed load of `ever_paused`, then `Instant::now()`. The process-wide
//! [`ANY_PAUSED`] does the same for [`now`](super::now), which must first find the
//! current runtime's reactor: programs that never pause pay nothing.
//!
//! Pausing rounds the virtual instant *up* to the timer wheel's next
//! millisecond tick (the wheel counts whole milliseconds from `origin`), so
//! that a paused `sleep(d)` of whole milliseconds ends exactly `d` later:
//! deadlines are then tick-aligned and a jump lands on them, not past them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::loom::{lock, Mutex};

/// Set once any clock in the process has been paused.
static ANY_PAUSED: AtomicBool = AtomicBool::new(false);

pub(crate) struct Clock {
    /// The timer wheel's tick 0.
    origin: Instant,
    ever_paused: AtomicBool,
    state: Mutex<State>,
}

struct State {
    paused: bool,
    base_virtual: Instant,
    base_real: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        let origin = Instant::now();
        Clock {
            origin,
            ever_paused: AtomicBool::new(false),
            state: Mutex::new(State {
                paused: false,
                base_virtual: origin,
                base_real: origin,
            }),
        }
    }

    /// The instant tick 0 of the timer wheel stands for.
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// The current instant on this clock's timeline.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        if !self.ever_paused.load(Ordering::Relaxed) {
            return Instant::now();
        }
        lock(&self.state).now()
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.ever_paused.load(Ordering::Relaxed) && lock(&self.state).paused
    }

    /// Stops the clock (no-op if it is stopped already).
    pub(crate) fn pause(&self) {
        let mut state = lock(&self.state);
        if state.paused {
            return;
        }
        let now = state.now();
        let since = now.saturating_duration_since(self.origin);
        let sub_ms = since.subsec_nanos() % 1_000_000;
        let aligned = if sub_ms == 0 {
            now
        } else {
            now + Duration::from_nanos(u64::from(1_000_000 - sub_ms))
        };
        state.paused = true;
        state.base_virtual = aligned;
        ANY_PAUSED.store(true, Ordering::Relaxed);
        self.ever_paused.store(true, Ordering::Relaxed);
    }

    /// Lets the clock run again from where it stands (no-op if running).
    pub(crate) fn resume(&self) {
        let mut state = lock(&self.state);
        if state.paused {
            state.paused = false;
            state.base_real = Instant::now();
        }
    }

    /// Moves a paused clock forward to `to` if that is later than now.
    pub(crate) fn advance_to(&self, to: Instant) {
        let mut state = lock(&self.state);
        if state.paused && to > state.base_virtual {
            state.base_virtual = to;
        }
    }
}

impl State {
    fn now(&self) -> Instant {
        if self.paused {
            self.base_virtual
        } else {
            self.base_virtual + self.base_real.elapsed()
        }
    }
}

/// Whether any clock was ever paused in this process: until one is,
/// `coro::time::Instant::now()` is `std::time::Instant::now()`.
#[inline]
pub(crate) fn any_paused() -> bool {
    ANY_PAUSED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_clock_stands_still_and_moves_only_forward() {
        let clock = Clock::new();
        clock.pause();
        let t0 = clock.now();
        assert_eq!(
            t0.duration_since(clock.origin()).subsec_nanos() % 1_000_000,
            0
        );
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        clock.advance_to(t0 + Duration::from_secs(3600));
        assert_eq!(clock.now() - t0, Duration::from_secs(3600));
        clock.advance_to(t0); // earlier: ignored
        assert_eq!(clock.now() - t0, Duration::from_secs(3600));
        clock.resume();
        clock.advance_to(t0 + Duration::from_secs(7200)); // running: ignored
        let now = clock.now() - t0;
        assert!(now >= Duration::from_secs(3600) && now < Duration::from_secs(7200));
    }

    #[test]
    fn an_unpaused_clock_is_real_time() {
        let clock = Clock::new();
        let before = Instant::now();
        let now = clock.now();
        assert!(now >= before && now <= Instant::now());
        assert!(!clock.is_paused());
    }
}
