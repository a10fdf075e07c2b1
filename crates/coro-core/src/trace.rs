//! Where the runtime's diagnostics go: the one file that knows whether the
//! `tracing` feature is on.
//!
//! Without the feature, watchdog reports are printed to stderr and
//! nothing else is emitted. The rest of the runtime calls these functions
//! unconditionally; each compiles to nothing (or to `eprintln!`) when the
//! feature is off, so no `cfg` is needed anywhere else.

use crate::runtime::BlockingReport;

/// A blocking-watchdog report.
pub(crate) fn blocking(report: &BlockingReport) {
    eprintln!("{report}");
}
