//! Timers: a hierarchical wheel per shard (`wheel`), the sharded store a
//! reactor turns (`store`), and the [`Timer`] primitive on top.

pub(crate) mod store;
mod timer;
#[allow(dead_code)] // parts of the wheel API serve its tests only
pub(crate) mod wheel;

pub use timer::Timer;
