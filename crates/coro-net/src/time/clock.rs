//! Pausing, resuming and advancing the runtime's clock: virtual time for
//! tests.
//!
//! The clock belongs to the runtime's reactor (coro-reactor's
//! `time/clock.rs` holds the design); these functions find it through the
//! current runtime. With the clock paused, a runtime that has nothing to do
//! (no task ready, no I/O ready in a non-blocking poll of the OS, no
//! blocking closure running, and on the multi-thread runtime every worker
//! asleep) jumps the clock to the next timer's deadline instead of waiting
//! for it, so a test of an hour-long `sleep` finishes at once, with timers
//! firing in deadline order.

use std::sync::Arc;
use std::time::Duration;

use coro_core::runtime::Handle;
use coro_reactor::Reactor;

/// The current runtime's reactor; panics outside a runtime (the fallback
/// reactor's clock is shared by every foreign executor and never pauses).
#[track_caller]
fn runtime_reactor(what: &str) -> Arc<Reactor> {
    Handle::try_current()
        .and_then(|handle| handle.park_as::<Reactor>())
        .unwrap_or_else(|| {
            panic!(
                "`coro::time::{what}` called outside a coro runtime: the clock it controls \
                 belongs to a runtime. Call it from inside `#[coro::test]`, `coro::block_on` \
                 or a task, or build the runtime with `start_paused(true)`."
            )
        })
}

/// Stops the current runtime's clock: [`Instant::now`](crate::time::Instant::now)
/// stands still, and timers fire only when [`advance`] moves the clock or
/// when the runtime is idle and the clock jumps to the next deadline.
/// The paused instant is rounded up to the next millisecond (the timer
/// wheel's tick), so that whole-millisecond sleeps end exactly on time.
/// Pausing a paused clock does nothing.
///
/// # Panics
///
/// Outside a coro runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{pause, sleep, Instant};
///
/// coro::block_on(async {
///     pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(60)).await; // at once: the runtime is idle
///     assert_eq!(Instant::now() - start, Duration::from_secs(60));
/// });
/// ```
#[track_caller]
pub fn pause() {
    runtime_reactor("pause").pause();
}

/// Lets the current runtime's clock run at real speed again, from the
/// instant it stands at. Resuming a running clock does nothing.
///
/// # Panics
///
/// Outside a coro runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{pause, resume, Instant};
///
/// coro::block_on(async {
///     pause();
///     let paused = Instant::now();
///     resume();
///     std::thread::sleep(Duration::from_millis(2));
///     assert!(Instant::now() > paused);
/// });
/// ```
#[track_caller]
pub fn resume() {
    runtime_reactor("resume").resume();
}

/// Moves the paused clock forward by `duration`, firing the timers it
/// passes in deadline order, then yields so that their tasks run before
/// the caller continues.
///
/// # Panics
///
/// Outside a coro runtime, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use coro::time::{advance, sleep, Instant};
///
/// coro::block_on(async {
///     coro::time::pause();
///     let start = Instant::now();
///     let nap = coro::spawn(sleep(Duration::from_secs(5)));
///     coro::yield_now().await; // the nap registers its timer
///     advance(Duration::from_secs(5)).await;
///     assert!(nap.is_finished());
///     assert_eq!(start.elapsed(), Duration::from_secs(5));
/// });
/// ```
pub async fn advance(duration: Duration) {
    runtime_reactor("advance").advance(duration);
    coro_core::yield_now().await;
}
