//! `block_on` for a thread that does not run the scheduler itself (the
//! caller of a multi-thread runtime's `block_on`): poll, then
//! `std::thread::park` until the future's waker unparks us.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::coop;

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return output;
        }
        // Spurious returns are fine: we just poll again.
        std::thread::park();
    }
}
