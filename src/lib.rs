//! coro: a stackless async runtime.
//!
//! Placeholder facade, completed below.
pub use coro_core::*;
