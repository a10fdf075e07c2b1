//! [`AsyncGen`]: a generator whose body may await anything; a `Stream`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FusedStream, Stream};

use super::co::{airlock, Body, Co, Step};
use super::GenState;

/// An async generator (Python's `async def` with `yield`): a body that
/// hands values out with [`co.yield_(value).await`](Co::yield_) and may
/// await I/O, timers, channels or tasks in between. It is a [`Stream`] of
/// the yielded values, polled with the real task context, so the body's
/// awaits wake the task that consumes the stream.
///
/// * `Y`: the type of the values yielded (the resume type is `()`);
/// * `C`: the type the body returns, available from [`resume`](Self::resume);
/// * `F`: how the body is stored; leave it at its default and use
///   [`SendAsyncGen`] for one that can be held across an `.await` in a
///   spawned task.
///
/// # Examples
///
/// ```
/// use coro_core::gen::{AsyncGen, Co};
///
/// coro_core::block_on(async {
///     let mut ticks = AsyncGen::new(|co: Co<u32>| async move {
///         for i in 0..3 {
///             coro_core::task::yield_now().await; // any await is fine here
///             co.yield_(i).await;
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(i) = ticks.next().await {
///         got.push(i);
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
pub struct AsyncGen<Y, C = (), F: ?Sized = dyn Future<Output = C>> {
    body: Body<Y, (), C, F>,
    /// The body is suspended in `yield_`, waiting to be resumed.
    parked: bool,
}

/// An [`AsyncGen`] that is `Send` (when `Y` and `C` are), made by
/// [`AsyncGen::new_send`]. Its body must be `Send`.
///
/// # Examples
///
/// ```
/// use coro_core::gen::{AsyncGen, Co, SendAsyncGen};
///
/// fn counter(n: u32) -> SendAsyncGen<u32> {
///     AsyncGen::new_send(move |co: Co<u32>| async move {
///         for i in 0..n {
///             co.yield_(i).await;
///         }
///     })
/// }
///
/// coro_core::block_on(async {
///     // Held across `.await` inside a task made by `spawn`: it must be `Send`.
///     let task = coro_core::spawn(async {
///         let mut numbers = counter(4);
///         let mut sum = 0;
///         while let Some(i) = numbers.next().await {
///             sum += i;
///         }
///         sum
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
pub type SendAsyncGen<Y, C = ()> = AsyncGen<Y, C, dyn Future<Output = C> + Send>;

impl<Y, C> AsyncGen<Y, C> {
    /// Makes an async generator from `producer`, a closure that receives
    /// the [`Co`] and returns the body. Nothing runs until the first poll.
    ///
    /// The generator is not `Send`; to hold one across an `.await` in a
    /// task made by `spawn`, use [`new_send`](Self::new_send) (or run the
    /// task with `spawn_local`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use coro_core::gen::{AsyncGen, Co};
    ///
    /// let started = Rc::new(Cell::new(false)); // not `Send`: fine for `new`
    /// let flag = started.clone();
    /// let mut gen = AsyncGen::new(|co: Co<u32>| async move {
    ///     flag.set(true);
    ///     co.yield_(1).await;
    /// });
    /// assert!(!started.get()); // nothing runs until the first poll
    /// coro_core::block_on(async { assert_eq!(gen.next().await, Some(1)) });
    /// assert!(started.get());
    /// ```
    pub fn new<P, Fut>(producer: P) -> Self
    where
        P: FnOnce(Co<Y>) -> Fut,
        Fut: Future<Output = C> + 'static,
    {
        let (co, shared) = airlock();
        let future: Pin<Box<dyn Future<Output = C>>> = Box::pin(producer(co));
        AsyncGen {
            body: Body::new(shared, future),
            parked: false,
        }
    }
}

impl<Y, C> SendAsyncGen<Y, C> {
    /// Like [`new`](AsyncGen::new), for a `Send` body: the generator is
    /// `Send` too (if `Y` and `C` are).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{AsyncGen, Co};
    /// use futures_util::StreamExt;
    ///
    /// coro_core::block_on(async {
    ///     let task = coro_core::spawn(async {
    ///         let numbers = AsyncGen::new_send(|co: Co<u32>| async move {
    ///             for i in 1..=3 {
    ///                 co.yield_(i).await;
    ///                 coro_core::task::yield_now().await;
    ///             }
    ///         });
    ///         numbers.fold(0, |sum, i| async move { sum + i }).await
    ///     });
    ///     assert_eq!(task.await.unwrap(), 6);
    /// });
    /// ```
    pub fn new_send<P, Fut>(producer: P) -> Self
    where
        P: FnOnce(Co<Y>) -> Fut,
        Fut: Future<Output = C> + Send + 'static,
    {
        let (co, shared) = airlock();
        let future: Pin<Box<dyn Future<Output = C> + Send>> = Box::pin(producer(co));
        AsyncGen {
            body: Body::new(shared, future),
            parked: false,
        }
    }
}

impl<Y, C, F> AsyncGen<Y, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    /// Polls the body until it yields or returns.
    ///
    /// # Panics
    ///
    /// Panics if the generator already completed. A panic of the body
    /// propagates, and the generator is then complete (its body was
    /// dropped; the stream has ended).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use coro_core::gen::{AsyncGen, Co, GenState};
    ///
    /// let mut gen = AsyncGen::new(|co: Co<u8>| async move {
    ///     coro_core::task::yield_now().await; // pending once
    ///     co.yield_(1).await;
    ///     "end"
    /// });
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(gen.poll_resume(&mut cx), Poll::Pending);
    /// assert_eq!(gen.poll_resume(&mut cx), Poll::Ready(GenState::Yielded(1)));
    /// assert_eq!(gen.poll_resume(&mut cx), Poll::Ready(GenState::Complete("end")));
    /// ```
    pub fn poll_resume(&mut self, cx: &mut Context<'_>) -> Poll<GenState<Y, C>> {
        if self.body.is_complete() {
            panic!("resumed a generator that already completed");
        }
        let resume = std::mem::take(&mut self.parked).then_some(());
        match self.body.step(resume, cx) {
            Step::Yielded(value) => {
                self.parked = true;
                Poll::Ready(GenState::Yielded(value))
            }
            Step::Complete(output) => Poll::Ready(GenState::Complete(output)),
            // The body awaits something that registered `cx`'s waker.
            Step::Pending => Poll::Pending,
        }
    }

    /// Runs the body until it yields a value or returns; unlike
    /// [`next`](Self::next), this also gives the body's return value.
    ///
    /// The future is cancel-safe: dropped before it completes, the body
    /// stays where it was and the next call continues from there.
    ///
    /// # Panics
    ///
    /// Panics if the generator already completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{AsyncGen, Co, GenState};
    ///
    /// coro_core::block_on(async {
    ///     let mut gen = AsyncGen::new(|co: Co<&str>| async move {
    ///         co.yield_("working").await;
    ///         42
    ///     });
    ///     assert_eq!(gen.resume().await, GenState::Yielded("working"));
    ///     assert_eq!(gen.resume().await, GenState::Complete(42));
    /// });
    /// ```
    pub async fn resume(&mut self) -> GenState<Y, C> {
        poll_fn(|cx| self.poll_resume(cx)).await
    }

    /// The next yielded value, or `None` once the body has returned (its
    /// return value is dropped). Cancel-safe, like [`resume`](Self::resume).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{AsyncGen, Co};
    ///
    /// coro_core::block_on(async {
    ///     let mut gen = AsyncGen::new(|co: Co<&str>| async move {
    ///         co.yield_("a").await;
    ///         co.yield_("b").await;
    ///         99 // dropped by `next`
    ///     });
    ///     assert_eq!(gen.next().await, Some("a"));
    ///     assert_eq!(gen.next().await, Some("b"));
    ///     assert_eq!(gen.next().await, None);
    ///     assert_eq!(gen.next().await, None); // and `None` from then on
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<Y> {
        poll_fn(|cx| self.poll_next_value(cx)).await
    }

    /// `true` once the body has returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{AsyncGen, Co};
    ///
    /// coro_core::block_on(async {
    ///     let mut gen = AsyncGen::new(|co: Co<u8>| async move {
    ///         co.yield_(1).await;
    ///     });
    ///     assert!(!gen.is_complete());
    ///     assert_eq!(gen.next().await, Some(1));
    ///     assert!(!gen.is_complete()); // suspended in `yield_`
    ///     assert_eq!(gen.next().await, None);
    ///     assert!(gen.is_complete());
    /// });
    /// ```
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }

    /// Ends the generator: the body is dropped where it is suspended,
    /// running its destructors. Dropping the generator does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use coro_core::gen::{AsyncGen, Co};
    ///
    /// let shared = Rc::new(());
    /// let held = shared.clone();
    /// let mut gen = AsyncGen::new(|co: Co<u32>| async move {
    ///     let _held = held; // owned by the body until it is dropped
    ///     for i in 0.. {
    ///         co.yield_(i).await;
    ///     }
    /// });
    /// coro_core::block_on(async { assert_eq!(gen.next().await, Some(0)) });
    /// assert_eq!(Rc::strong_count(&shared), 2);
    /// gen.close();
    /// assert_eq!(Rc::strong_count(&shared), 1); // the body's destructors ran
    /// ```
    pub fn close(self) {}

    fn poll_next_value(&mut self, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        if self.is_complete() {
            return Poll::Ready(None);
        }
        self.poll_resume(cx).map(|state| match state {
            GenState::Yielded(value) => Some(value),
            GenState::Complete(_) => None,
        })
    }
}

impl<Y, C, F> Stream for AsyncGen<Y, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    type Item = Y;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        self.get_mut().poll_next_value(cx)
    }
}

impl<Y, C, F> FusedStream for AsyncGen<Y, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    fn is_terminated(&self) -> bool {
        self.is_complete()
    }
}

impl<Y, C, F> fmt::Debug for AsyncGen<Y, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncGen")
            .field("complete", &self.is_complete())
            .finish_non_exhaustive()
    }
}
