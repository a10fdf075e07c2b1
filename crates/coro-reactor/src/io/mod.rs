//! I/O sources: readiness state (`readiness`, private) and the [`IoSource`]
//! wrapper sockets are built on.

pub(crate) mod readiness;
#[cfg(not(loom))]
mod source;

pub use readiness::Direction;
#[cfg(not(loom))]
pub use source::IoSource;
