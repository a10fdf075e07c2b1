//! Where the runtime's diagnostics go: the one file that knows whether the
//! `tracing` cargo feature is on.
//!
//! The rest of the runtime calls these functions and uses [`TaskSpan`]
//! unconditionally. Without the feature every function is an empty inline
//! function and `TaskSpan` is a zero-sized type, so a build without
//! `tracing` compiles to exactly what it was before (watchdog reports
//! then go to stderr); no `cfg` is needed anywhere else.
//!
//! With the feature:
//!
//! * every task gets a `task` span (DEBUG) with its id, name and spawn
//!   site, created at spawn and entered for each poll, so events a task
//!   logs carry its identity;
//! * `spawn`, `complete` and `cancel` are DEBUG events, `panic` and
//!   watchdog reports WARN events, all with target `coro::task` or
//!   `coro::watchdog`.

use crate::runtime::BlockingReport;
use crate::task::harness::TaskMeta;

#[cfg(feature = "tracing")]
mod on {
    use super::*;

    /// A task's span.
    pub(crate) type TaskSpan = tracing::Span;

    /// Entered while a task is polled.
    pub(crate) type Entered<'a> = tracing::span::Entered<'a>;

    pub(crate) fn task_span(meta: &TaskMeta) -> TaskSpan {
        let site = meta.site();
        tracing::debug_span!(
            target: "coro::task",
            "task",
            task.id = meta.id().as_u64(),
            task.name = site.name().map(|name| &**name),
            task.spawned_at = %site.location(),
        )
    }

    #[inline]
    pub(crate) fn enter(span: &TaskSpan) -> Entered<'_> {
        span.enter()
    }

    pub(crate) fn spawned(span: &TaskSpan) {
        tracing::debug!(target: "coro::task", parent: span, "spawn");
    }

    pub(crate) fn completed() {
        tracing::debug!(target: "coro::task", "complete");
    }

    pub(crate) fn panicked() {
        tracing::warn!(target: "coro::task", "panic");
    }

    pub(crate) fn cancelled(span: &TaskSpan) {
        tracing::debug!(target: "coro::task", parent: span, "cancel");
    }

    pub(crate) fn blocking(report: &BlockingReport) {
        let blocked_ms = u64::try_from(report.blocked_for().as_millis()).unwrap_or(u64::MAX);
        tracing::event!(
            target: "coro::watchdog",
            tracing::Level::WARN,
            task_id = report.task_id().as_u64(),
            task_name = report.task_name(),
            spawned_at = %report.spawned_at(),
            worker = report.worker(),
            blocked_ms,
            finished = report.is_finished(),
            "{}",
            report
        );
    }
}

#[cfg(not(feature = "tracing"))]
mod on {
    use super::*;

    /// Nothing: without the feature a task has no span.
    #[derive(Debug)]
    pub(crate) struct TaskSpan;

    pub(crate) struct Entered<'a>(std::marker::PhantomData<&'a ()>);

    #[inline(always)]
    pub(crate) fn task_span(_: &TaskMeta) -> TaskSpan {
        TaskSpan
    }

    #[inline(always)]
    pub(crate) fn enter(_: &TaskSpan) -> Entered<'_> {
        Entered(std::marker::PhantomData)
    }

    #[inline(always)]
    pub(crate) fn spawned(_: &TaskSpan) {}

    #[inline(always)]
    pub(crate) fn completed() {}

    #[inline(always)]
    pub(crate) fn panicked() {}

    #[inline(always)]
    pub(crate) fn cancelled(_: &TaskSpan) {}

    pub(crate) fn blocking(report: &BlockingReport) {
        eprintln!("{report}");
    }
}

pub(crate) use on::*;
