//! Timers: a hierarchical wheel per shard (`wheel`), the sharded store a
//! reactor turns (`store`), and the [`Timer`] primitive on top.

pub(crate) mod clock;
pub(crate) mod store;
mod timer;
#[allow(dead_code)] // parts of the wheel API serve its tests only
pub(crate) mod wheel;

pub use timer::Timer;

/// The current instant of the current runtime's clock (see
/// [`Reactor::now`](crate::Reactor::now)); `Instant::now()` outside a
/// runtime and in any process that never paused a clock.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
///
/// let before = Instant::now();
/// assert!(coro_reactor::time::now() >= before);
/// ```
#[inline]
pub fn now() -> std::time::Instant {
    if !clock::any_paused() {
        return std::time::Instant::now();
    }
    crate::Reactor::current().now()
}
