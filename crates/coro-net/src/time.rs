//! Time: [`sleep`], [`timeout`], [`interval`].
//!
//! gevent's `gevent.sleep(2)` hands the CPU to other greenlets for two
//! seconds; [`sleep`] does the same for a task. The deadline is kept in the
//! reactor's timer wheel, so a million sleeping tasks cost a million small
//! entries and no threads. Timers have millisecond resolution and never
//! fire early.
//!
//! Everything here also works outside a coro runtime (under another
//! executor, or `futures::executor::block_on`): the timer then lives on a
//! fallback reactor with its own thread.

use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

mod clock;
mod instant;

pub use clock::{advance, pause, resume};
pub use instant::Instant;

use coro_core::coop;
use coro_reactor::Timer;
use futures_core::Stream;
use pin_project_lite::pin_project;

/// Waits until `duration` has passed.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// coro::block_on(async {
///     let start = Instant::now();
///     coro::time::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_future_saturating(Instant::now(), duration))
}

/// Waits until `deadline`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::Instant;
///
/// coro::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     coro::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        timer: Timer::new(deadline.into_std()),
    }
}

/// `now + duration`, or a deadline ~30 years away if that overflows: "sleep
/// forever" must not panic.
fn far_future_saturating(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`]. Dropping it
/// cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{sleep, Instant, Sleep};
///
/// coro::block_on(async {
///     let nap: Sleep = sleep(Duration::from_millis(5));
///     let deadline = nap.deadline();
///     nap.await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    timer: Timer,
}

impl Sleep {
    /// When this sleep completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{sleep_until, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        Instant::from_std(self.timer.deadline())
    }

    /// Whether the deadline has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert!(coro::time::sleep(Duration::ZERO).is_elapsed());
    /// assert!(!coro::time::sleep(Duration::from_secs(60)).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.deadline() <= Instant::now()
    }

    /// Moves the deadline; the sleep is pending again until it passes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{sleep, Instant};
    ///
    /// coro::block_on(async {
    ///     let mut nap = sleep(Duration::from_secs(60));
    ///     nap.reset(Instant::now() + Duration::from_millis(1));
    ///     nap.await; // one millisecond, not a minute
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.timer.reset(deadline.into_std());
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A timer counts against the budget like any resource: a loop of
        // zero-length sleeps must still let other tasks run.
        let proceed = ready!(coop::poll_proceed(cx));
        ready!(self.timer.poll_elapsed(cx));
        proceed.made_progress();
        Poll::Ready(())
    }
}

/// Runs `future` with a time limit: its output, or [`Elapsed`] if
/// `duration` passes first (the future is then dropped, which cancels it).
///
/// The future is polled before the timer, so a future that is ready wins
/// even with a zero duration. This is gevent's `joinall(jobs, timeout=2)`
/// when wrapped around `JoinSet::join_next`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{sleep, timeout};
///
/// coro::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     let slow = sleep(Duration::from_secs(60));
///     assert!(timeout(Duration::from_millis(5), slow).await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(far_future_saturating(Instant::now(), duration), future)
}

/// Like [`timeout`], with a deadline instead of a duration.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{timeout_at, Instant};
///
/// coro::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     let never = std::future::pending::<()>();
///     assert!(timeout_at(deadline, never).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{timeout, Timeout};
    ///
    /// coro::block_on(async {
    ///     let limited: Timeout<_> = timeout(Duration::from_secs(1), async { "done" });
    ///     assert_eq!(limited.await, Ok("done"));
    /// });
    /// ```
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{sleep_until, timeout, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(60);
    /// let limited = timeout(Duration::from_secs(1), sleep_until(deadline));
    /// assert_eq!(limited.get_ref().deadline(), deadline);
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Gives the wrapped future back, dropping the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{sleep, timeout, Instant};
    ///
    /// coro::block_on(async {
    ///     let limited = timeout(Duration::ZERO, sleep(Duration::from_millis(5)));
    ///     let nap = limited.into_inner(); // the time limit is gone
    ///     let deadline = nap.deadline();
    ///     nap.await; // completes instead of timing out
    ///     assert!(Instant::now() >= deadline);
    /// });
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // The timer bypasses the budget: if the inner future used it all
        // up, the deadline must still be able to end it.
        match this.sleep.timer.poll_elapsed(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] whose time ran out.
///
/// Converts into an `io::Error` of kind `TimedOut`, so `?` works in I/O
/// code.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// coro::block_on(async {
///     let err = coro::time::timeout(Duration::ZERO, std::future::pending::<()>())
///         .await
///         .unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
///     assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}

/// Ticks every `period`; the first tick completes at once. A period too
/// long to add to the clock (`Duration::MAX`) means "never": one tick,
/// then none.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// coro::block_on(async {
///     let mut every = coro::time::interval(Duration::from_millis(2));
///     let first = every.tick().await; // immediately
///     let second = every.tick().await;
///     assert!(second - first >= Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks at `start`, then every `period`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{interval_at, Instant};
///
/// coro::block_on(async {
///     let start = Instant::now() + Duration::from_millis(3);
///     let mut ticks = interval_at(start, Duration::from_millis(3));
///     assert_eq!(ticks.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "`interval` needs a non-zero period; to loop without waiting, use `coro::yield_now()`"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does when ticks were missed because the task was
/// busy for longer than a period.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{interval, sleep, Instant, MissedTickBehavior};
///
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// coro::block_on(async {
///     let period = Duration::from_millis(2);
///     let mut every = interval(period);
///     every.set_missed_tick_behavior(MissedTickBehavior::Delay);
///     every.tick().await; // immediately
///     sleep(3 * period).await; // busy: ticks are missed
///     let busy_until = Instant::now();
///     every.tick().await; // the late tick, at once
///     assert!(every.tick().await >= busy_until + period);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the default).
    #[default]
    Burst,
    /// Start counting `period` again from the late tick.
    Delay,
    /// Drop the missed ticks and wait for the next one on the schedule.
    Skip,
}

/// A stream of ticks `period` apart, from [`interval`] or [`interval_at`].
///
/// Also a [`Stream`] of the scheduled tick instants.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_util::StreamExt;
///
/// coro::block_on(async {
///     let every = coro::time::interval(Duration::from_millis(2));
///     let ticks: Vec<_> = every.take(3).collect().await;
///     assert!(ticks[2] - ticks[0] >= Duration::from_millis(4));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns when it was scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// coro::block_on(async {
    ///     let mut every = coro::time::interval(Duration::from_millis(1));
    ///     for _ in 0..3 {
    ///         every.tick().await;
    ///     }
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    ///
    /// let mut every = coro::time::interval(Duration::from_secs(60));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(every.poll_tick(&mut cx).is_ready()); // the first tick is immediate
    /// assert!(every.poll_tick(&mut cx).is_pending()); // the next is a minute away
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        // Every sum saturates to "far future": `interval(Duration::MAX)`
        // ticks once and then never (issue 16).
        let after = |base: Instant, periods: u32| {
            let span = self.period.checked_mul(periods).unwrap_or(Duration::MAX);
            far_future_saturating(base, span)
        };
        let next = match self.missed {
            MissedTickBehavior::Burst => after(scheduled, 1),
            MissedTickBehavior::Delay if now > after(scheduled, 1) => after(now, 1),
            MissedTickBehavior::Delay => after(scheduled, 1),
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(scheduled).as_nanos();
                let periods = behind / self.period.as_nanos() + 1;
                after(scheduled, u32::try_from(periods).unwrap_or(u32::MAX))
            }
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Sets what happens to missed ticks (default: burst).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{interval, MissedTickBehavior};
    ///
    /// let mut every = interval(Duration::from_secs(1));
    /// every.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// What happens to missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{interval, MissedTickBehavior};
    ///
    /// let every = interval(Duration::from_secs(1));
    /// assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// The time between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let every = coro::time::interval(Duration::from_millis(250));
    /// assert_eq!(every.period(), Duration::from_millis(250));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro::time::{interval, Instant};
    ///
    /// coro::block_on(async {
    ///     let period = Duration::from_millis(5);
    ///     let mut every = interval(period);
    ///     let before = Instant::now();
    ///     every.reset(); // no immediate first tick any more
    ///     assert!(every.tick().await >= before + period);
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.sleep
            .reset(far_future_saturating(Instant::now(), self.period));
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
