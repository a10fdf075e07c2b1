//! A hierarchical timer wheel: the reactor's store of pending timers.
//!
//! # Why a wheel and not a heap
//!
//! Most timers in an async runtime never fire: `timeout(io)` arms one around an
//! operation that usually completes first, and the timer is then dropped. A
//! binary heap makes cancellation O(log n) with an index map, or "lazy" (leave
//! a tombstone, skip it when it surfaces), and lazy cancellation lets a heap of
//! dead timers grow without bound under exactly this workload. The wheel gives
//! O(1) insert and O(1) cancel with no tombstones, and time only needs to be
//! ordered at the coarse granularity of a slot until a timer gets close.
//!
//! # Layout
//!
//! Time is an integer tick count (`u64`, 1 ms per tick, counted from the
//! wheel's creation; the caller converts `Instant`s). There are 6 levels of 64
//! slots; a slot of level `L` covers `64^L` ticks, so level `L` as a whole
//! covers `64^(L+1)` ticks and the wheel covers `64^6` ticks (~2.2 years). An
//! entry keeps its real deadline, but one further than `64^6 - 1` ticks ahead
//! is *placed* as if its deadline were that horizon. When time reaches its
//! slot it is re-filed against the new `elapsed` (clamped again if it is still
//! too far), exactly like a cascade; it fires only when `elapsed` reaches its
//! real deadline. (Until issue 16 the clamped tick was stored as the deadline,
//! so `sleep(Duration::MAX)` completed after ~795 days.)
//!
//! Entries live in a `Slab<Entry>`; a slot is a `Vec<u32>` of slab indices,
//! and each entry records `(level, slot, pos)`, its position in that vector.
//! Cancelling is therefore `swap_remove(pos)` plus fixing the `pos` of the one
//! entry that moved: O(1), no scanning, no intrusive pointers, no `unsafe`.
//! Keys carry a per-wheel generation so a key outliving its entry (removed,
//! then the slab index reused) is recognised as stale and never touches the
//! new occupant.
//!
//! # Where an entry goes
//!
//! The level of a pending entry is chosen from the highest bit in which its
//! deadline differs from `elapsed` (the tick the wheel has advanced to):
//! `level = msb((elapsed ^ deadline) | 63) / 6`, capped at 5; the slot is
//! `(deadline >> 6*level) % 64`. So a level-`L` entry agrees with `elapsed` on
//! every bit above the level's 6-bit digit, and its digit is strictly greater
//! than `elapsed`'s (it lies in the future). Slots are thus aligned to absolute
//! time and their start tick is computable from `elapsed` alone, which is what
//! lets `advance` jump over empty time. Level 5 is the exception: with the
//! horizon clamp a deadline may be in the next `64^6` "epoch", where its digit
//! is `<=` `elapsed`'s; level 5 is therefore treated as a ring, the slot
//! holding `elapsed` being the *last* one ahead rather than the current one.
//!
//! Invariant (holds whenever no method is running): every `Pending` entry has
//! `deadline > elapsed` and sits exactly in the slot computed above from
//! `(elapsed, min(deadline, elapsed_at_link + MAX_AHEAD))`, where
//! `elapsed_at_link` is the value of `elapsed` when it was last linked (a
//! clamped entry therefore always sits on level 5); the occupancy bitmask of
//! each level has bit `s` set iff slot `s` is non-empty. Consequences:
//!
//! * All entries of a lower level come before all entries of a higher level,
//!   and within a level slots are in (ring) order from `elapsed`'s digit. The
//!   first occupied slot of the lowest occupied level (found with one
//!   `rotate_right` + `trailing_zeros`) holds the earliest deadlines; a
//!   level-0 slot holds a single deadline, a higher slot must be scanned for
//!   its minimum (`next_expiration`; a clamped entry counts as the end of its
//!   slot, where it will be re-filed).
//! * Moving `elapsed` forward to any tick *before* the start of that first
//!   occupied slot leaves every entry where the formula puts it, so empty
//!   stretches of time are skipped without touching anything.
//! * When `elapsed` reaches the start of an occupied slot of level `L > 0`, the
//!   slot's deadlines now share all bits down to digit `L` with `elapsed`, so
//!   each entry is re-inserted ("cascaded") into a strictly lower level, or
//!   fired if its deadline is that very tick; a clamped entry, whose real
//!   deadline lies beyond the slot, is re-filed on level 5 (or lower, once
//!   within the horizon). Each entry cascades at most 5 times in its life,
//!   plus once per ~780 days it spends beyond the horizon.
//! * A jump of more than the horizon (`advance(u64::MAX)` at shutdown, or a
//!   test) would otherwise walk every level-5 slot in between, re-filing far
//!   entries each time; instead `advance` takes every entry out, fires the
//!   due ones in deadline order and re-links the rest (`refile_all`).
//!
//! Firing never happens early: an entry is fired only when `elapsed` has been
//! set to a tick `>= deadline`, and `elapsed` only ever stops at slot starts,
//! which are `<=` every deadline in that slot, or at `now`, and only after
//! every slot starting at or before `now` has been processed. Slots are
//! processed in time order, so timers fire in deadline order.

use std::mem;
use std::task::{Poll, Waker};

use slab::Slab;

/// Number of levels.
const LEVELS: usize = 6;
/// log2 of the number of slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level (one bit each in a `u64` occupancy mask).
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// The furthest a deadline may be ahead of `elapsed`: `64^6 - 1` ticks.
const MAX_AHEAD: u64 = (1 << (SLOT_BITS as usize * LEVELS)) - 1;

/// Identifies a timer in a [`Wheel`]. Stale keys are detected by generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

enum State {
    Pending(Waker),
    Fired,
}

/// One timer. Kept small (a million of them must be cheap): 40 bytes on 64-bit.
struct Entry {
    /// Absolute tick of the real deadline (placement clamps it to the
    /// horizon, see the module docs).
    deadline: u64,
    state: State,
    generation: u32,
    /// Position in `slots[level][slot]`; meaningful only while `Pending`.
    pos: u32,
    level: u8,
    slot: u8,
}

/// A hierarchical timer wheel (see the module documentation).
pub(crate) struct Wheel {
    elapsed: u64,
    entries: Slab<Entry>,
    /// `LEVELS * SLOTS` lists of slab indices, level-major.
    slots: Box<[Vec<u32>]>,
    /// Per level, bit `s` set iff slot `s` is non-empty.
    occupied: [u64; LEVELS],
    /// Number of `Pending` entries.
    pending: usize,
    /// Generation given to the next inserted entry.
    next_generation: u32,
    /// Wakers of the slot being fired, kept to reuse its allocation. Wakers are
    /// handed out only after a slot is fully processed, so a panicking `fire`
    /// leaves the wheel consistent.
    scratch: Vec<Waker>,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            entries: Slab::new(),
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            occupied: [0; LEVELS],
            pending: 0,
            next_generation: 0,
            scratch: Vec::new(),
        }
    }

    /// The tick the wheel has advanced to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Stores a timer for tick `when`. Never wakes. If `when <= elapsed()` the
    /// entry is stored already `Fired` (and `waker` is dropped).
    pub(crate) fn insert(&mut self, when: u64, waker: Waker) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let vacant = self.entries.vacant_entry();
        let index = u32::try_from(vacant.key()).expect("timer wheel: too many timers");
        vacant.insert(Entry {
            deadline: 0,
            state: State::Fired,
            generation,
            pos: 0,
            level: 0,
            slot: 0,
        });
        self.schedule(index, when, waker);
        TimerKey { index, generation }
    }

    /// `Ready(())` if the timer fired (the entry stays until `remove`);
    /// otherwise remembers `waker` and returns `Pending`. A stale key is
    /// `Ready(())`: its timer is gone, so nothing will ever wake the caller.
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker) -> Poll<()> {
        match self.get_mut(key).map(|e| &mut e.state) {
            Some(State::Pending(stored)) => {
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                }
                Poll::Pending
            }
            Some(State::Fired) | None => Poll::Ready(()),
        }
    }

    /// Whether the timer fired; a stale key counts as fired.
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        !matches!(self.get(key).map(|e| &e.state), Some(State::Pending(_)))
    }

    /// Moves a timer (pending or fired) to deadline `when`, making it pending
    /// again, or fired if `when <= elapsed()` (without waking). A pending timer
    /// keeps its waker; a fired one takes a clone of `waker`. Returns false for
    /// a stale key.
    pub(crate) fn reset(&mut self, key: TimerKey, when: u64, waker: &Waker) -> bool {
        let Some(entry) = self.get_mut(key) else {
            return false;
        };
        let waker = match mem::replace(&mut entry.state, State::Fired) {
            State::Pending(stored) => {
                self.unlink(key.index);
                self.pending -= 1;
                stored
            }
            State::Fired => waker.clone(),
        };
        self.schedule(key.index, when, waker);
        true
    }

    /// Frees the timer's entry; a stale key is a no-op.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(entry) = self.get(key) else {
            return;
        };
        if matches!(entry.state, State::Pending(_)) {
            self.unlink(key.index);
            self.pending -= 1;
        }
        self.entries.remove(key.index as usize);
    }

    /// The exact earliest deadline among pending timers, or `None` if there are
    /// none. (Pending deadlines are always `> elapsed()`: anything due is fired
    /// by `insert`, `reset` or `advance` before they return.) A timer beyond
    /// the horizon counts as due at the last tick of its slot, where `advance`
    /// re-files it: the caller then wakes once for nothing, never late.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        let (level, slot, start) = self.next_occupied_slot()?;
        if level == 0 {
            // A level-0 slot covers exactly one tick.
            return Some(start);
        }
        // The earliest slot holds the earliest deadlines, but a higher-level
        // slot spans many ticks, so find its minimum.
        let slot_end = start.saturating_add((1 << (SLOT_BITS as usize * level)) - 1);
        self.slots[level * SLOTS + slot]
            .iter()
            .map(|&index| self.entries[index as usize].deadline.min(slot_end))
            .min()
    }

    /// Advances to `now` (no-op if `now <= elapsed()`), firing every pending
    /// timer with deadline `<= now`, in deadline order: it becomes `Fired` and
    /// its waker is passed to `fire`. Jumps from occupied slot to occupied
    /// slot, so the cost does not depend on how far time moves.
    pub(crate) fn advance(&mut self, now: u64, fire: &mut dyn FnMut(Waker)) {
        if now <= self.elapsed {
            return;
        }
        if now - self.elapsed > MAX_AHEAD {
            self.refile_all(now, fire);
            return;
        }
        let mut wakers = mem::take(&mut self.scratch);
        while let Some((level, slot, start)) = self.next_occupied_slot() {
            if start > now {
                break;
            }
            // Everything before `start` is empty, so stopping there keeps the
            // invariant; the slot's entries now agree with `elapsed` down to
            // digit `level`, so each one fires or moves to a lower level.
            self.elapsed = start;
            let mut list = mem::take(&mut self.slots[level * SLOTS + slot]);
            self.occupied[level] &= !(1 << slot);
            for &index in &list {
                let entry = &mut self.entries[index as usize];
                debug_assert!(entry.deadline >= start);
                // A clamped entry (real deadline beyond this slot) is simply
                // re-linked: it lands on level 5 again or, once within the
                // horizon, where its real deadline belongs.
                if entry.deadline == start {
                    if let State::Pending(waker) = mem::replace(&mut entry.state, State::Fired) {
                        wakers.push(waker);
                    }
                    self.pending -= 1;
                } else {
                    debug_assert!(level > 0);
                    self.link(index);
                }
            }
            // Give the (now empty) slot its allocation back; `link` above only
            // targeted lower levels, so the slot cannot have gained entries.
            list.clear();
            self.slots[level * SLOTS + slot] = list;
            for waker in wakers.drain(..) {
                fire(waker);
            }
        }
        self.elapsed = now;
        self.scratch = wakers;
    }

    /// `advance` for a jump longer than the horizon: takes every pending
    /// entry out, fires those due at `now` in deadline order, and links the
    /// rest against `elapsed = now`. O(n log n), but only for jumps of more
    /// than ~795 days, which real time does not make (shutdown's
    /// `advance(u64::MAX)` does).
    fn refile_all(&mut self, now: u64, fire: &mut dyn FnMut(Waker)) {
        let mut all: Vec<(u64, u32)> = Vec::with_capacity(self.pending);
        for (level, mask) in self.occupied.iter_mut().enumerate() {
            while *mask != 0 {
                let slot = mask.trailing_zeros() as usize;
                *mask &= *mask - 1;
                for index in self.slots[level * SLOTS + slot].drain(..) {
                    all.push((self.entries[index as usize].deadline, index));
                }
            }
        }
        all.sort_unstable();
        self.elapsed = now;
        let mut wakers = mem::take(&mut self.scratch);
        for (deadline, index) in all {
            if deadline <= now {
                let entry = &mut self.entries[index as usize];
                if let State::Pending(waker) = mem::replace(&mut entry.state, State::Fired) {
                    wakers.push(waker);
                }
                self.pending -= 1;
            } else {
                self.link(index);
            }
        }
        for waker in wakers.drain(..) {
            fire(waker);
        }
        self.scratch = wakers;
    }

    /// Number of pending (not yet fired) timers.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Number of stored entries: pending plus fired-but-not-removed.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&self, key: TimerKey) -> Option<&Entry> {
        self.entries
            .get(key.index as usize)
            .filter(|e| e.generation == key.generation)
    }

    fn get_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        self.entries
            .get_mut(key.index as usize)
            .filter(|e| e.generation == key.generation)
    }

    /// Gives the (unlinked, not counted as pending) entry at `index` the
    /// deadline `when`: links it into its slot, or marks it fired if due.
    fn schedule(&mut self, index: u32, when: u64, waker: Waker) {
        let entry = &mut self.entries[index as usize];
        entry.deadline = when;
        if when <= self.elapsed {
            entry.state = State::Fired;
        } else {
            entry.state = State::Pending(waker);
            self.pending += 1;
            self.link(index);
        }
    }

    /// Puts the pending entry at `index` into the slot for its deadline
    /// relative to the current `elapsed`, a deadline beyond the horizon
    /// being placed at the horizon.
    fn link(&mut self, index: u32) {
        let entry = &mut self.entries[index as usize];
        debug_assert!(entry.deadline > self.elapsed);
        let placed = entry.deadline.min(self.elapsed.saturating_add(MAX_AHEAD));
        let level = level_for(self.elapsed, placed);
        let slot = ((placed >> (SLOT_BITS as usize * level)) & SLOT_MASK) as usize;
        let list = &mut self.slots[level * SLOTS + slot];
        // Fits: a list holds distinct slab indices, which are `u32`s.
        entry.pos = list.len() as u32;
        entry.level = level as u8;
        entry.slot = slot as u8;
        list.push(index);
        self.occupied[level] |= 1 << slot;
    }

    /// Takes the pending entry at `index` out of its slot in O(1).
    fn unlink(&mut self, index: u32) {
        let entry = &self.entries[index as usize];
        let (level, slot, pos) = (
            entry.level as usize,
            entry.slot as usize,
            entry.pos as usize,
        );
        let list = &mut self.slots[level * SLOTS + slot];
        debug_assert_eq!(list[pos], index);
        list.swap_remove(pos);
        if let Some(&moved) = list.get(pos) {
            self.entries[moved as usize].pos = pos as u32;
        }
        if list.is_empty() {
            self.occupied[level] &= !(1 << slot);
        }
    }

    /// The earliest non-empty slot as `(level, slot, start tick)`: the first
    /// occupied slot after `elapsed`'s digit on the lowest occupied level.
    fn next_occupied_slot(&self) -> Option<(usize, usize, u64)> {
        let level = self.occupied.iter().position(|&mask| mask != 0)?;
        let shift = SLOT_BITS as usize * level;
        let current = (self.elapsed >> shift) & SLOT_MASK;
        // Ring distance (1..=64) from `elapsed`'s slot to the next occupied
        // one. Below level 5 occupied slots are all after `current`, so this
        // never wraps; at level 5 a wrap means "next epoch".
        let distance = u64::from(
            self.occupied[level]
                .rotate_right(((current + 1) & SLOT_MASK) as u32)
                .trailing_zeros(),
        ) + 1;
        let slot = ((current + distance) & SLOT_MASK) as usize;
        // Cannot overflow: the start is <= the deadlines stored in the slot.
        let start = ((self.elapsed >> shift) + distance) << shift;
        Some((level, slot, start))
    }
}

/// The level for a pending `deadline` given `elapsed`: the 6-bit digit holding
/// the highest bit in which they differ, capped at the top level.
fn level_for(elapsed: u64, deadline: u64) -> usize {
    let masked = ((elapsed ^ deadline) | SLOT_MASK).min(MAX_AHEAD);
    let significant = 63 - masked.leading_zeros() as usize;
    significant / SLOT_BITS as usize
}

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
