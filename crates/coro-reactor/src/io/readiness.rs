//! The readiness state of one registered I/O source, and the wakers of the
//! tasks waiting on it.
//!
//! # Why edge-triggered, and what that asks of this file
//!
//! Every source is registered once, for both directions, in edge-triggered
//! mode (`EPOLLET`, kqueue's `EV_CLEAR`). The OS reports a direction when it
//! *becomes* ready and then stays silent; we remember that it is ready here.
//! A read that returns `WouldBlock` clears the remembered bit and nothing
//! else: no `epoll_ctl` to re-arm, unlike oneshot mode (one syscall per
//! wait) or level mode (the poller returns the same fd again and again while
//! its buffer is non-empty). The cost is that a lost edge is lost for good,
//! so the two races below must be closed exactly.
//!
//! # State
//!
//! One `AtomicUsize`: the low bits are the readiness set (readable,
//! writable, read-closed, write-closed, error) and a `SHUTDOWN` bit; the
//! bits above `TICK_SHIFT` are a tick that the reactor bumps on every event
//! it delivers. Wakers live behind a small mutex, one slot per direction.
//!
//! # The two races
//!
//! 1. *Event vs. a task going to sleep.* The reactor sets the bits and then
//!    takes the waiter lock to wake; a task stores its waker under the same
//!    lock and then re-reads the bits. Whichever takes the lock second sees
//!    what the other did first: either the reactor finds the waker, or the
//!    task finds the bits. (`poll_ready` below.)
//! 2. *Event vs. clearing after `WouldBlock`.* A task observed "readable" at
//!    tick `t`, read until `WouldBlock`, and now clears the bit. If an edge
//!    arrived in between, the bit must stay. Clearing is a CAS that only
//!    succeeds if the tick is still `t`. (`clear_readiness` below.)
//!
//! The loom models at the bottom check both.

use std::task::{Context, Poll, Waker};

use crate::loom::{lock, AtomicUsize, Mutex, Ordering};

/// Readable: a read will not block (data, a pending accept, or EOF).
pub(crate) const READABLE: usize = 1 << 0;
/// Writable: a write will not block (or a connect finished).
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its writing half (EOF): sticky, reads never block again.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// The socket can no longer be written (reset or shut down): sticky.
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The reactor that owns this source shut down: sticky, every wait fails.
pub(crate) const SHUTDOWN: usize = 1 << 4;
const READY_MASK: usize = (1 << 5) - 1;
const TICK_SHIFT: u32 = 5;

/// Which half of a source a task waits on.
///
/// # Examples
///
/// ```
/// use coro_reactor::io::Direction;
///
/// let direction = Direction::Read;
/// assert_eq!(direction, Direction::Read);
/// assert_ne!(direction, Direction::Write);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Waiting until a read (or accept) can make progress.
    Read,
    /// Waiting until a write (or connect) can make progress.
    Write,
}

impl Direction {
    /// The bits that make this direction ready: its own bit, its closed
    /// bit (a closed socket never blocks, the syscall reports the state),
    /// and shutdown (the wait must end with an error).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | SHUTDOWN,
        }
    }

    /// The bits a `WouldBlock` may clear: never the sticky ones.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    fn slot(self) -> usize {
        match self {
            Direction::Read => 0,
            Direction::Write => 1,
        }
    }
}

/// What a task saw when its direction was ready: pass it back to
/// [`ScheduledIo::clear_readiness`] after a `WouldBlock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    pub(crate) tick: usize,
    pub(crate) ready: usize,
    pub(crate) direction: Direction,
}

impl ReadyEvent {
    pub(crate) fn is_shutdown(&self) -> bool {
        self.ready & SHUTDOWN != 0
    }
}

/// Readiness and waiters of one source. Shared by the reactor (which sets
/// readiness) and the socket (which waits and clears).
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    state: AtomicUsize,
    /// `[reader, writer]`: one waiting task per direction, like a socket's
    /// `poll_read`/`poll_write` contract. A second task polling the same
    /// direction replaces the first one's waker.
    waiters: Mutex<[Option<Waker>; 2]>,
}

impl Default for ScheduledIo {
    fn default() -> Self {
        ScheduledIo {
            state: AtomicUsize::new(0),
            waiters: Mutex::new([None, None]),
        }
    }
}

impl ScheduledIo {
    /// Records readiness delivered by the OS (`bits` from `READABLE`..
    /// `SHUTDOWN`) and bumps the tick. Returns the wakers of the directions
    /// that became ready; the caller wakes them after releasing its locks.
    pub(crate) fn set_readiness(&self, bits: usize, wake: &mut impl FnMut(Waker)) {
        debug_assert_eq!(bits & !READY_MASK, 0);
        // `Release` publishes the bits to a task that reads them with
        // `Acquire`; `fetch_update` bumps the tick in the same step so a
        // concurrent `clear_readiness` for an older tick fails.
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                let tick = (current >> TICK_SHIFT).wrapping_add(1);
                Some((tick << TICK_SHIFT) | (current & READY_MASK) | bits)
            });
        let mut waiters = lock(&self.waiters);
        for direction in [Direction::Read, Direction::Write] {
            if bits & direction.mask() != 0 {
                if let Some(waker) = waiters[direction.slot()].take() {
                    wake(waker);
                }
            }
        }
    }

    /// Ready with the current event if `direction` is ready; otherwise
    /// stores the task's waker and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready_event(direction) {
            return Poll::Ready(event);
        }
        {
            let mut waiters = lock(&self.waiters);
            let slot = &mut waiters[direction.slot()];
            match slot {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Race 1: an event that landed before we stored the waker found no
        // waker to wake; its bits are visible now (the lock orders us after
        // the reactor's `set_readiness` if it took the lock first).
        match self.ready_event(direction) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    fn ready_event(&self, direction: Direction) -> Option<ReadyEvent> {
        let current = self.state.load(Ordering::Acquire);
        let ready = current & direction.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: current >> TICK_SHIFT,
            ready,
            direction,
        })
    }

    /// Forgets that `event.direction` was ready, unless a newer event
    /// arrived since `event` was observed (race 2).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.direction.clearable();
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current >> TICK_SHIFT == event.tick).then_some(current & !clear)
            });
    }

    /// Drops the stored wakers without waking them: the socket is going
    /// away and nobody will poll it again.
    pub(crate) fn clear_wakers(&self) {
        *lock(&self.waiters) = [None, None];
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use std::task::Wake;

    /// A waker that records that it was woken.
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// Race 1: an event and a task going to sleep. After both, the task
    /// either saw the event or its waker was woken.
    #[test]
    fn event_is_never_lost_while_going_to_sleep() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::default());
            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || io.set_readiness(READABLE, &mut |w| w.wake()))
            };
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            let polled = io.poll_ready(&mut cx, Direction::Read);
            reactor.join().unwrap();
            assert!(polled.is_ready() || flag.0.load(Ordering::SeqCst));
        });
    }

    /// Race 2: a task clears readiness after `WouldBlock` while a new edge
    /// arrives. The new edge must survive: the task's next poll is ready
    /// or its waker was woken.
    #[test]
    fn clearing_never_erases_a_newer_edge() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::default());
            io.set_readiness(READABLE, &mut |w| w.wake());
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
                panic!("readiness set before the poll must be seen");
            };
            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || io.set_readiness(READABLE, &mut |w| w.wake()))
            };
            // The read returned WouldBlock (for the edge at `seen.tick`).
            io.clear_readiness(seen);
            let again = io.poll_ready(&mut cx, Direction::Read);
            reactor.join().unwrap();
            assert!(again.is_ready() || flag.0.load(Ordering::SeqCst));
        });
    }

    /// Shutdown wakes both directions and is never cleared.
    #[test]
    fn shutdown_is_sticky() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::default());
            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || io.set_readiness(SHUTDOWN, &mut |w| w.wake()))
            };
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(event) = io.poll_ready(&mut cx, Direction::Write) {
                io.clear_readiness(event);
            }
            reactor.join().unwrap();
            match io.poll_ready(&mut cx, Direction::Write) {
                Poll::Ready(event) => assert!(event.is_shutdown()),
                Poll::Pending => panic!("shutdown must stay visible"),
            }
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(StdAtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(StdAtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        (count, waker)
    }

    #[test]
    fn directions_are_independent() {
        let io = ScheduledIo::default();
        let (reads, read_waker) = counter();
        let (writes, write_waker) = counter();
        assert!(io
            .poll_ready(&mut Context::from_waker(&read_waker), Direction::Read)
            .is_pending());
        assert!(io
            .poll_ready(&mut Context::from_waker(&write_waker), Direction::Write)
            .is_pending());
        io.set_readiness(WRITABLE, &mut |w| w.wake());
        assert_eq!(reads.0.load(Ordering::SeqCst), 0);
        assert_eq!(writes.0.load(Ordering::SeqCst), 1);
        assert!(io
            .poll_ready(&mut Context::from_waker(&write_waker), Direction::Write)
            .is_ready());
        assert!(io
            .poll_ready(&mut Context::from_waker(&read_waker), Direction::Read)
            .is_pending());
    }

    #[test]
    fn clear_with_stale_tick_keeps_the_bit() {
        let io = ScheduledIo::default();
        let (_, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        io.set_readiness(READABLE, &mut |w| w.wake());
        let Poll::Ready(old) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("not ready")
        };
        io.set_readiness(READABLE, &mut |w| w.wake());
        io.clear_readiness(old);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        let Poll::Ready(new) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("not ready")
        };
        io.clear_readiness(new);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
    }

    #[test]
    fn closed_bits_are_sticky() {
        let io = ScheduledIo::default();
        let (_, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        io.set_readiness(READABLE | READ_CLOSED, &mut |w| w.wake());
        let Poll::Ready(event) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("not ready")
        };
        io.clear_readiness(event);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
    }
}
