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
//! [`Builder::spin_before_park`]: crate::runtime::Builder::spin_before_park

use std::time::{Duration, Instant};

use crate::scheduler::parker::Driver;

/// `spin_loop` hints between two looks: ~1 µs.
const PAUSES_PER_LOOK: u32 = 64;

/// One worker's spin state.
#[derive(Clone, Copy)]
pub(crate) struct Spinner {
    limit: Duration,
    armed: bool,
}

impl Spinner {
    /// A spinner that looks for at most `limit` (zero: never spins).
    pub(crate) fn new(limit: Duration) -> Spinner {
        Spinner {
            limit,
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
        let mut spinner = Spinner::new(Duration::from_secs(3600));
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
        let mut spinner = Spinner::new(Duration::from_micros(1));
        spinner.arm();
        assert_eq!(spinner.spin(&driver(), || Ok(None::<()>)), None);
        let mut spinner = Spinner::new(Duration::from_secs(3600));
        spinner.arm();
        assert_eq!(spinner.spin(&driver(), || Err::<Option<()>, ()>(())), None);
    }

    #[test]
    fn zero_never_spins() {
        let mut spinner = Spinner::new(Duration::ZERO);
        spinner.arm();
        assert_eq!(
            spinner.spin(&driver(), || -> Result<Option<()>, ()> { panic!("off") }),
            None
        );
    }
}
