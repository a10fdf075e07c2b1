//! `block_on` for a thread that does not run the scheduler itself (the
//! caller of a multi-thread runtime's `block_on`): poll, then
//! `std::thread::park` until the future's waker unparks us.
//!
//! The thread also tells the runtime whether it is busy (running, or woken
//! and about to run) through a shared counter, so that a paused clock does
//! not jump while the future has work to do (`Park::park_idle`). The
//! waker and the thread agree through `state`: the thread moves
//! `RUNNING -> PARKED` before sleeping and leaves the count; a waker that
//! finds `PARKED` puts it back (`NOTIFIED`) before unparking, so between a
//! wake-up and the poll it leads to, the thread counts as busy.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::coop;

const RUNNING: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

struct Unpark {
    thread: Thread,
    state: AtomicU8,
    busy: Arc<AtomicUsize>,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.swap(NOTIFIED, Ordering::AcqRel) == PARKED {
            self.busy.fetch_add(1, Ordering::SeqCst);
            self.thread.unpark();
        }
    }
}

/// Runs `future` on this thread. `busy` counts this thread while it works;
/// `went_idle` is called each time it stops counting.
pub(crate) fn block_on<F: Future>(
    future: F,
    busy: &Arc<AtomicUsize>,
    went_idle: impl Fn(),
) -> F::Output {
    let mut future = pin!(future);
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        state: AtomicU8::new(RUNNING),
        busy: busy.clone(),
    });
    busy.fetch_add(1, Ordering::SeqCst);
    // Leaves the count however we return (a panicking future included).
    struct Leave<'a>(&'a Unpark);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            if self.0.state.swap(PARKED, Ordering::AcqRel) != PARKED {
                self.0.busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
    let _leave = Leave(&unpark);
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return output;
        }
        match unpark
            .state
            .compare_exchange(RUNNING, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                busy.fetch_sub(1, Ordering::SeqCst);
                went_idle();
            }
            // Woken during the poll: poll again, still counted.
            Err(_) => {
                unpark.state.store(RUNNING, Ordering::Release);
                continue;
            }
        }
        loop {
            std::thread::park();
            // The waker counted us again before unparking.
            if unpark
                .state
                .compare_exchange(NOTIFIED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break;
            }
            // Spurious: still parked, sleep again.
        }
    }
}
