//! What happens to a generator when its body panics, and when a `yield_`
//! future is cancelled (issue 16, defects 4 and 5).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use futures_util::future::{select, Either};
use futures_util::stream::FusedStream;

use super::*;
use crate::sync::test_util::{poll_once, Drops};

/// The message of a caught panic.
fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Like a Python generator that raised: finished, its frame freed, and a
/// later resume says "already completed" instead of "`async fn` resumed
/// after panicking".
#[test]
fn a_gen_whose_body_panicked_is_complete() {
    let drops = Drops::default();
    let mut gen = Gen::new({
        let drops = drops.clone();
        move |co: Co<u32>| async move {
            let _frame = drops.track(());
            co.yield_(1).await;
            panic!("boom");
        }
    });
    assert_eq!(gen.resume(()), GenState::Yielded(1));
    let boom = catch_unwind(AssertUnwindSafe(|| gen.resume(()))).unwrap_err();
    assert_eq!(message(boom), "boom");
    assert!(gen.is_complete());
    assert_eq!(drops.count(), 1, "the body's locals were dropped");
    let again = catch_unwind(AssertUnwindSafe(|| gen.resume(()))).unwrap_err();
    assert_eq!(message(again), "resumed a generator that already completed");
    assert_eq!(gen.next(), None, "as an iterator it has ended");
}

#[test]
fn an_async_gen_whose_body_panicked_is_complete() {
    let mut gen = AsyncGen::new(|co: Co<u32>| async move {
        co.yield_(1).await;
        panic!("boom");
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(gen.poll_resume(&mut cx), Poll::Ready(GenState::Yielded(1)));
    let boom = catch_unwind(AssertUnwindSafe(|| gen.poll_resume(&mut cx))).unwrap_err();
    assert_eq!(message(boom), "boom");
    assert!(gen.is_complete());
    assert!(gen.is_terminated());
    let again = catch_unwind(AssertUnwindSafe(|| gen.poll_resume(&mut cx))).unwrap_err();
    assert_eq!(message(again), "resumed a generator that already completed");
    assert_eq!(crate::block_on(gen.next()), None);
}

/// A `yield_` that lost a `select` before the generator took its value:
/// the value is withdrawn (never yielded) and the next `yield_` works.
#[test]
fn a_yield_cancelled_before_it_was_taken_is_withdrawn() {
    let drops = Drops::default();
    let mut gen = Gen::new({
        let drops = drops.clone();
        move |co: Co<Tracked, u32>| async move {
            {
                let lost = pin!(co.yield_(drops.track("lost")));
                if let Either::Left(_) = select(lost, std::future::ready(())).await {
                    unreachable!("the generator was not resumed");
                }
            } // `lost` is dropped here, cancelled
            co.yield_(drops.track("kept")).await
        }
    });
    let GenState::Yielded(kept) = gen.resume(0) else {
        panic!("expected a yield")
    };
    assert_eq!(kept.value, "kept");
    assert_eq!(drops.count(), 1, "the withdrawn value was dropped");
    assert!(matches!(gen.resume(7), GenState::Complete(7)));
}

/// A `yield_` whose value was already handed out, cancelled before it
/// returned its resume value: that resume value is discarded and the body
/// goes on.
#[test]
fn a_yield_cancelled_after_its_value_was_yielded_discards_the_resume_value() {
    let mut gen = AsyncGen::new(|co: Co<u32>| async move {
        {
            let mut first = co.yield_(1);
            assert!(poll_once(&mut first).is_pending()); // hands 1 out
            crate::task::yield_now().await; // the generator yields 1 here
        } // resumed, `first` is dropped without being polled again
        co.yield_(2).await;
        "end"
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(gen.poll_resume(&mut cx), Poll::Ready(GenState::Yielded(1)));
    assert_eq!(gen.poll_resume(&mut cx), Poll::Ready(GenState::Yielded(2)));
    assert_eq!(
        gen.poll_resume(&mut cx),
        Poll::Ready(GenState::Complete("end"))
    );
}

type Tracked = crate::sync::test_util::Tracked<&'static str>;
