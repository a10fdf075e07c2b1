//! Cooperative scheduling budget.
//!
//! A stackless task only gives its thread back when it returns `Pending`.
//! A task whose resources are always ready (a socket with data always
//! buffered, a channel that always has a message, a loop joining finished
//! tasks) would never return `Pending` and would starve every other task on
//! its worker. So each time a worker polls a task it grants a budget of
//! [`BUDGET`] operations; every resource that can make a task wait calls
//! [`poll_proceed`] first, and once the budget is spent it returns
//! `Pending` (after waking the task, which goes to the back of the queue).
//!
//! Outside a runtime-polled task (a future driven by some other executor)
//! the budget is unlimited.
//!
//! # Examples
//!
//! A resource that respects the budget:
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::task::{ready, Context, Poll};
//!
//! /// A "socket" that always has data.
//! struct AlwaysReady;
//!
//! impl Future for AlwaysReady {
//!     type Output = u8;
//!     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
//!         let proceed = ready!(coro_core::coop::poll_proceed(cx));
//!         proceed.made_progress();
//!         Poll::Ready(1)
//!     }
//! }
//!
//! coro_core::block_on(async {
//!     let mut total = 0u32;
//!     for _ in 0..1000 {
//!         total += u32::from(AlwaysReady.await); // yields every 128 reads
//!     }
//!     assert_eq!(total, 1000);
//! });
//! ```

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may perform per poll before it is made to yield.
pub const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained. `Some(n)`: `n` operations left.
    static REMAINING: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` (one task poll) with a fresh budget, restoring the previous
/// budget afterwards (tasks can be polled from inside other polls, e.g. a
/// `block_on` main future running spawned tasks).
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            REMAINING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(REMAINING.replace(Some(BUDGET)));
    f()
}

/// Gives the task about to be polled a fresh budget. Cheaper than
/// [`with_budget`] (one thread-local write, no restore); for scheduler loops
/// that already run inside [`with_budget`], which restores the outer value
/// when the loop exits.
pub(crate) fn reset_budget() {
    REMAINING.with(|r| r.set(Some(BUDGET)));
}

/// Returns `true` unless the current task has spent its budget.
pub(crate) fn has_budget_remaining() -> bool {
    REMAINING.get() != Some(0)
}

/// Permission to perform one operation, returned by [`poll_proceed`].
///
/// If the operation turns out not to be ready after all, drop the
/// `Proceed` without calling [`made_progress`](Proceed::made_progress): the
/// unit of budget is given back, so waiting is free and only work counts.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use coro_core::coop::{poll_proceed, BUDGET};
///
/// coro_core::block_on(async {
///     let task = coro_core::spawn(poll_fn(|cx| {
///         for _ in 0..4 * u32::from(BUDGET) {
///             // Not ready after all: dropping the `Proceed` refunds the unit.
///             let proceed = poll_proceed(cx);
///             assert!(proceed.is_ready());
///         }
///         Poll::Ready(())
///     }));
///     task.await.unwrap();
/// });
/// ```
#[derive(Debug)]
#[must_use = "call `made_progress()` once the operation completed"]
pub struct Proceed {
    refund: bool,
}

impl Proceed {
    /// Confirms that the operation completed, keeping the unit spent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::task::Poll;
    /// use coro_core::coop::{poll_proceed, BUDGET};
    ///
    /// coro_core::block_on(async {
    ///     let task = coro_core::spawn(poll_fn(|cx| {
    ///         for _ in 0..BUDGET {
    ///             let Poll::Ready(proceed) = poll_proceed(cx) else { unreachable!() };
    ///             proceed.made_progress();
    ///         }
    ///         // Every unit is spent: the task must yield to its worker now.
    ///         assert!(poll_proceed(cx).is_pending());
    ///         Poll::Ready(())
    ///     }));
    ///     task.await.unwrap();
    /// });
    /// ```
    pub fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Proceed {
    fn drop(&mut self) {
        if self.refund {
            REMAINING.with(|r| {
                if let Some(n) = r.get() {
                    r.set(Some(n.saturating_add(1)));
                }
            });
        }
    }
}

/// Spends one unit of the current task's budget, or, if it is exhausted,
/// wakes the task and returns `Pending` so it yields to its worker.
///
/// Call it at the top of every `poll` of a resource that may be ready
/// repeatedly (see the [module docs](self) for an example).
///
/// # Examples
///
/// Outside a task polled by a coro runtime the budget is unlimited:
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use coro_core::coop::{poll_proceed, BUDGET};
///
/// let mut cx = Context::from_waker(Waker::noop());
/// for _ in 0..4 * u32::from(BUDGET) {
///     let Poll::Ready(proceed) = poll_proceed(&mut cx) else {
///         panic!("no budget outside a runtime")
///     };
///     proceed.made_progress();
/// }
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Proceed> {
    REMAINING.with(|r| match r.get() {
        None => Poll::Ready(Proceed { refund: false }),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            r.set(Some(n - 1));
            Poll::Ready(Proceed { refund: true })
        }
    })
}

/// Spends one unit of budget, yielding to the scheduler if it is exhausted.
///
/// Put it in a loop that does CPU work and never awaits anything that could
/// be pending, so that the loop still lets other tasks run.
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let mut sum = 0u64;
///     for i in 0..10_000u64 {
///         sum += i;
///         coro_core::coop::consume_budget().await;
///     }
///     assert_eq!(sum, 49_995_000);
/// });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(|cx| poll_proceed(cx).map(Proceed::made_progress)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_and_refunds() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                let Poll::Ready(p) = poll_proceed(&mut cx) else {
                    panic!("budget ran out early")
                };
                p.made_progress();
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert!(!has_budget_remaining());
        });
        // Outside `with_budget`: unconstrained again.
        assert!(poll_proceed(&mut cx).is_ready());
        with_budget(|| {
            for _ in 0..1000 {
                // Dropped without progress: refunded, never runs out.
                let Poll::Ready(_p) = poll_proceed(&mut cx) else {
                    panic!("refund failed")
                };
            }
        });
    }
}
