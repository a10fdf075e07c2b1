use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the scheduler: other ready tasks run before this one resumes.
///
/// The task goes to the *back* of its worker's run queue (not the LIFO slot
/// a freshly woken task gets), so a loop of `yield_now` shares the thread
/// fairly, like a bare `yield` in a Python generator driven round-robin.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let order = Arc::new(Mutex::new(Vec::new()));
/// coro_core::block_on({
///     let order = order.clone();
///     async move {
///         let other = coro_core::spawn({
///             let order = order.clone();
///             async move { order.lock().unwrap().push("other") }
///         });
///         coro_core::task::yield_now().await; // lets `other` run first
///         order.lock().unwrap().push("main");
///         other.await.unwrap();
///     }
/// });
/// assert_eq!(*order.lock().unwrap(), ["other", "main"]);
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    // Inlined into the caller's state machine (it is generic code's only
    // call on a yield, and otherwise a call across crates).
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waking ourselves while running makes async-task reschedule us with
        // `woken_while_running`, which the schedulers send to the back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
