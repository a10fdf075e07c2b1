//! Model-based property test of the timer wheel: random sequences of
//! insert, remove, reset, poll, stale-key use and advance (short steps,
//! long jumps, jumps past the horizon, and backwards) run on a `Wheel` and
//! on a naive model (every live timer with its deadline, a `BTreeSet` of
//! the pending ones). After every step the counts and the next expiration
//! must agree, and every advance must fire exactly the due timers, in
//! deadline order. Deadlines reach 2^38 ticks ahead, four times the
//! horizon, so re-filing far timers is exercised. (Also run under Miri by
//! `.ci/run`, with few cases.)

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use proptest::prelude::*;
use proptest::sample::Index;

use super::tests::tagged;
use super::*;

/// A time relative to the model's `elapsed`: `bits` picks the scale (so
/// every level of the wheel is hit), `raw` the value within it.
#[derive(Clone, Copy, Debug)]
struct Offset {
    bits: u32,
    raw: u64,
}

impl Offset {
    fn ticks(self) -> u64 {
        match self.bits {
            0 => 0,
            bits => self.raw >> (64 - bits),
        }
    }
}

fn offset(max_bits: u32) -> impl Strategy<Value = Offset> {
    (0..=max_bits, any::<u64>()).prop_map(|(bits, raw)| Offset { bits, raw })
}

#[derive(Clone, Debug)]
enum Op {
    /// `past`: a deadline up to 2^10 ticks ago; otherwise up to 2^38 ahead.
    Insert {
        past: bool,
        at: Offset,
    },
    Remove(Index),
    Reset {
        which: Index,
        past: bool,
        at: Offset,
    },
    Poll(Index),
    Stale(Index),
    /// Advance by up to 2^24 (usually) or 2^37 ticks; `back` moves `now`
    /// backwards instead, which must do nothing.
    Advance {
        back: bool,
        by: Offset,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let deadline = || (prop::bool::weighted(0.1), offset(38));
    prop_oneof![
        8 => deadline().prop_map(|(past, at)| Op::Insert { past, at }),
        4 => any::<Index>().prop_map(Op::Remove),
        3 => (any::<Index>(), deadline())
            .prop_map(|(which, (past, at))| Op::Reset { which, past, at }),
        1 => any::<Index>().prop_map(Op::Poll),
        1 => any::<Index>().prop_map(Op::Stale),
        4 => (prop::bool::weighted(0.1), prop_oneof![4 => offset(24), 1 => offset(37)])
            .prop_map(|(back, by)| Op::Advance { back, by }),
    ]
}

struct ModelTimer {
    key: TimerKey,
    deadline: u64,
    fired: bool,
}

/// Naive reference: every live timer with its real deadline.
#[derive(Default)]
struct Model {
    elapsed: u64,
    timers: HashMap<usize, ModelTimer>,
    /// `(deadline, id)` of pending timers.
    pending: BTreeSet<(u64, usize)>,
}

impl Model {
    fn deadline(&self, past: bool, at: Offset) -> u64 {
        if past {
            self.elapsed.saturating_sub(at.ticks() >> 28)
        } else {
            self.elapsed.saturating_add(at.ticks())
        }
    }

    fn schedule(&mut self, id: usize, when: u64) {
        let timer = self.timers.get_mut(&id).unwrap();
        if !timer.fired {
            self.pending.remove(&(timer.deadline, id));
        }
        timer.deadline = when;
        timer.fired = when <= self.elapsed;
        if !timer.fired {
            self.pending.insert((when, id));
        }
    }

    fn check(&self, wheel: &Wheel) {
        assert_eq!(wheel.elapsed(), self.elapsed);
        assert_eq!(wheel.len(), self.timers.len());
        assert_eq!(wheel.pending(), self.pending.len());
        let earliest = self.pending.first().map(|&(deadline, _)| deadline);
        let next = wheel.next_expiration();
        match (next, earliest) {
            // Within one top-level slot nothing can be placed before it: exact.
            (_, Some(earliest)) if earliest - self.elapsed <= 64u64.pow(5) => {
                assert_eq!(next, Some(earliest))
            }
            // Further, a timer beyond the horizon may ask for an early
            // wake-up where it is re-filed; never a late one.
            (Some(next), Some(earliest)) => assert!(next > self.elapsed && next <= earliest),
            _ => assert_eq!(next, earliest),
        }
    }
}

fn run(ops: Vec<Op>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let take_log = || std::mem::take(&mut *log.lock().unwrap());
    let mut wheel = Wheel::new();
    let mut model = Model::default();
    let mut live: Vec<usize> = Vec::new();
    let mut stale: Vec<TimerKey> = Vec::new();
    for (id, op) in ops.into_iter().enumerate() {
        match op {
            Op::Insert { past, at } => {
                let when = model.deadline(past, at);
                let key = wheel.insert(when, tagged(id, &log));
                let timer = ModelTimer {
                    key,
                    deadline: 0,
                    fired: true,
                };
                model.timers.insert(id, timer);
                model.schedule(id, when);
                live.push(id);
            }
            Op::Remove(index) if !live.is_empty() => {
                let id = live.swap_remove(index.index(live.len()));
                let timer = model.timers.remove(&id).unwrap();
                if !timer.fired {
                    model.pending.remove(&(timer.deadline, id));
                }
                wheel.remove(timer.key);
                stale.push(timer.key);
            }
            Op::Reset { which, past, at } if !live.is_empty() => {
                let id = live[which.index(live.len())];
                let when = model.deadline(past, at);
                let key = model.timers[&id].key;
                assert!(wheel.reset(key, when, &tagged(id, &log)));
                model.schedule(id, when);
            }
            Op::Poll(index) if !live.is_empty() => {
                let id = live[index.index(live.len())];
                let timer = &model.timers[&id];
                let expect = if timer.fired {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
                assert_eq!(wheel.poll(timer.key, &tagged(id, &log)), expect);
            }
            Op::Stale(index) if !stale.is_empty() => {
                // Stale keys never disturb whoever reuses their slot.
                let key = stale[index.index(stale.len())];
                assert!(wheel.is_fired(key));
                assert_eq!(wheel.poll(key, Waker::noop()), Poll::Ready(()));
                assert!(!wheel.reset(key, model.elapsed + 1, Waker::noop()));
                wheel.remove(key);
            }
            Op::Advance { back, by } => {
                let now = if back {
                    model.elapsed.saturating_sub(by.ticks() >> 14)
                } else {
                    model.elapsed.saturating_add(by.ticks())
                };
                let mut fired = 0;
                wheel.advance(now, &mut |w| {
                    fired += 1;
                    w.wake();
                });
                let woken = take_log();
                assert_eq!(fired, woken.len());
                // Exactly the due set, in deadline order.
                let due: Vec<(u64, usize)> =
                    model.pending.range(..(now, usize::MAX)).copied().collect();
                let mut got: Vec<(u64, usize)> = woken
                    .iter()
                    .map(|id| (model.timers[id].deadline, *id))
                    .collect();
                assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "fire order");
                got.sort();
                assert_eq!(got, due);
                for (_, id) in due {
                    model.pending.remove(&(model.timers[&id].deadline, id));
                    model.timers.get_mut(&id).unwrap().fired = true;
                }
                model.elapsed = model.elapsed.max(now);
                for timer in model.timers.values() {
                    assert_eq!(wheel.is_fired(timer.key), timer.fired);
                }
            }
            // An operation on an empty list: nothing to do.
            _ => continue,
        }
        model.check(&wheel);
    }
    // Drain: everything left fires, in order, and nothing else does.
    let pending = model.pending.len();
    let mut fired = 0;
    wheel.advance(u64::MAX, &mut |_| fired += 1);
    assert_eq!(fired, pending);
    assert_eq!(wheel.pending(), 0);
    assert_eq!(wheel.next_expiration(), None);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 1 } else { 256 },
        // Miri's isolation forbids the file that records failing cases.
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn wheel_matches_its_model(ops in proptest::collection::vec(op(), 1..400)) {
        run(ops);
    }
}
