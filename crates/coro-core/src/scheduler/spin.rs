//! Spinning before sleeping: a worker that has just run out of work looks
//! for more for a short while before it parks.
//!
//! # Why
//!
//! Parking and being woken costs two context switches, a futex call (or an
//! eventfd write) on the waking side and, on a virtual machine, a halted
//! vCPU to wake again: tens of microseconds. A worker that has just run out
//! of work is likely to get more soon: the next request on a connection
//! whose answer it just wrote, the next batch from a worker that spawns.
//! Looking again for [`Builder::spin_before_park`] (50 µs by default) turns
//! those wake-ups into a few non-blocking polls.
//!
//! # When
//!
//! Only right after the worker ran something (`arm`, called by the
//! schedulers after running a task). A spin that finds nothing disarms the
//! spinner, so the worker then sleeps until it is woken, and the next time
//! it runs out of work it spins only if it ran a task in between. An idle
//! runtime woken by a timer now and then spins once per wake-up at most;
//! a runtime with nothing to do does not spin at all.
//!
//! # What a look is
//!
//! The scheduler's: its own queues, the driver without blocking (I/O and
//! timers, when no other thread holds it), and for the multi-thread
//! scheduler the other workers' queues and the injection queue. Between
//! two looks the spinner pauses for about a microsecond (`spin_loop`
//! hints), so it does not keep pulling the cache lines it reads away from
//! the workers that write them.
//!
//! # Who spins, and giving the CPU away
//!
//! A spinning thread holds a CPU that another thread may want: on a
//! machine with more runnable threads than CPUs (a load generator beside
//! the server, or simply a busy host) a woken thread does not always
//! preempt the spinner, and waits up to a scheduler time slice. Two rules
//! keep the spin from costing more than it saves; both were measured with
//! `benches/scripts/echo_cpu.py` (`docs/benchmarks.md`, "Spinning before
//! parking"):
//!
//! * A multi-thread worker, or a thread-per-core shard, spins only while
//!   every other worker (shard) is parked:
//!   a worker that is still running tasks will poll the driver itself, so
//!   a second thread spinning beside it only takes CPU from the threads
//!   that feed it. (Ten echo connections on two vCPUs: p99 1.6 ms with
//!   both workers spinning, 0.2-0.4 ms with this rule, as without a spin;
//!   two shards: 1.5 ms → 0.5 ms, and 1.5× the round trips.)
//! * Its pause between looks ends with [`std::thread::yield_now`]
//!   ([`Pause::HintsThenYield`]): the spinner is the only runtime thread
//!   awake, so any other runnable thread on its CPU is someone else's
//!   (often the client it waits for), and yielding lets it run now rather
//!   than on another vCPU that must first be woken. (One connection: p50
//!   25 → 22 µs, server CPU per round trip 35 → 23 µs.) A shard yields
//!   too. A current-thread runtime keeps the hints only ([`Pause::Hints`]):
//!   its one thread yielding while it still had connections to serve gave
//!   them up to the clients' threads (ten connections: p50 26 → 95 µs).
//!
//! [`Builder::spin_before_park`]: crate::runtime::Builder::spin_before_park

use std::time::{Duration, Instant};

use crate::scheduler::parker::Driver;

/// `spin_loop` hints between two looks: ~1 µs.
const PAUSES_PER_LOOK: u32 = 64;

/// What a spinner does between two looks (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pause {
    /// `spin_loop` hints: the thread keeps its CPU.
    Hints,
    /// The hints, then `yield_now`: another runnable thread gets the CPU.
    HintsThenYield,
}

/// One worker's spin state.
#[derive(Clone, Copy)]
pub(crate) struct Spinner {
    limit: Duration,
    pause: Pause,
    armed: bool,
}

impl Spinner {
    /// A spinner that looks for at most `limit` (zero: never spins),
    /// pausing between looks as `pause` says.
    pub(crate) fn new(limit: Duration, pause: Pause) -> Spinner {
        Spinner {
            limit,
            pause,
            armed: false,
        }
    }

    /// The worker ran something: its next spin may happen.
    #[inline]
    pub(crate) fn arm(&mut self) {
        self.armed = true;
    }

    /// Calls `look` until it finds something, `limit` has passed, or it
    /// returns `Err` (give up: shutdown). Returns what it found. Meanwhile
    /// threads that park leave `driver` to this one (`parker.rs`), so that
    /// its looks can poll it.
    pub(crate) fn spin<T>(
        &mut self,
        driver: &Driver,
        mut look: impl FnMut() -> Result<Option<T>, ()>,
    ) -> Option<T> {
        if self.limit.is_zero() || !std::mem::take(&mut self.armed) {
            return None;
        }
        let _spinning = driver.spinning();
        let deadline = Instant::now() + self.limit;
        loop {
            for _ in 0..PAUSES_PER_LOOK {
                std::hint::spin_loop();
            }
            if self.pause == Pause::HintsThenYield {
                std::thread::yield_now();
            }
            match look() {
                Ok(Some(found)) => return Some(found),
                Err(()) => return None,
                Ok(None) if Instant::now() >= deadline => return None,
                Ok(None) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::park::ThreadPark;

    fn driver() -> std::sync::Arc<Driver> {
        Driver::new(std::sync::Arc::new(ThreadPark::new()))
    }

    #[test]
    fn spins_only_once_armed_and_once_per_arming() {
        let mut spinner = Spinner::new(Duration::from_secs(3600), Pause::Hints);
        let mut looks = 0;
        assert_eq!(
            spinner.spin(&driver(), || -> Result<Option<()>, ()> {
                panic!("not armed")
            }),
            None
        );
        spinner.arm();
        let found = spinner.spin(&driver(), || {
            looks += 1;
            Ok((looks == 3).then_some("work"))
        });
        assert_eq!((found, looks), (Some("work"), 3));
        // Found work but ran nothing since: disarmed.
        assert_eq!(
            spinner.spin(&driver(), || -> Result<Option<()>, ()> {
                panic!("disarmed")
            }),
            None
        );
    }

    #[test]
    fn gives_up_at_the_limit_or_when_told() {
        let mut spinner = Spinner::new(Duration::from_micros(1), Pause::HintsThenYield);
        spinner.arm();
        assert_eq!(spinner.spin(&driver(), || Ok(None::<()>)), None);
        let mut spinner = Spinner::new(Duration::from_secs(3600), Pause::Hints);
        spinner.arm();
        assert_eq!(spinner.spin(&driver(), || Err::<Option<()>, ()>(())), None);
    }

    #[test]
    fn zero_never_spins() {
        let mut spinner = Spinner::new(Duration::ZERO, Pause::Hints);
        spinner.arm();
        assert_eq!(
            spinner.spin(&driver(), || -> Result<Option<()>, ()> { panic!("off") }),
            None
        );
    }
}
