//! The airlock between a generator and its body: [`Co`], its `yield_`
//! future, and [`Body`], the boxed body future both generator types drive.
//!
//! The generator and the body share one slot, allocated once:
//!
//! ```text
//!   resume(r) ──► Slot::Resume(r) ──► yield_(..).await returns r
//!   resume() returns Yielded(y) ◄── Slot::Yield(y) ◄── co.yield_(y) polled
//! ```
//!
//! The slot also records whether its generator is polling the body right
//! now (`active`), which lets a misused [`Co`] (kept after its generator is
//! gone, or awaited from another task) panic instead of hanging.
//!
//! The slot is an `Arc<SpinLock<_>>` rather than an `Rc<Cell<_>>` so that
//! a generator whose body is `Send` can itself be `Send`
//! ([`Gen::new_send`]). The lock is never contended (only the thread
//! resuming the generator touches it), so each step costs a few
//! uncontended atomic operations, one per lock (`sync/spin.rs`), and no
//! allocation.
//!
//! [`Gen::new_send`]: super::Gen::new_send

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::sync::spin::SpinLock;

/// What is in transit between the generator and its body.
enum Next<Y, R> {
    Empty,
    /// Sent by `resume`, to be returned by the pending `yield_`.
    Resume(R),
    /// Yielded by the body, to be returned by `resume`.
    Yield(Y),
}

pub(super) struct Slot<Y, R> {
    next: Next<Y, R>,
    /// `true` while the generator is polling its body.
    active: bool,
}

pub(super) type Shared<Y, R> = Arc<SpinLock<Slot<Y, R>>>;

/// The body's handle on its generator: [`yield_`](Co::yield_) hands a value
/// out and waits for the next resume.
///
/// A `Co` is given to the closure passed to [`Gen::new`](super::Gen::new)
/// or [`AsyncGen::new`](super::AsyncGen::new), and must only be used inside
/// the body it was given to: awaiting its `yield_` anywhere else (after the
/// generator is gone, or from another task) panics.
///
/// `Y` is the type of the values yielded, `R` the type `yield_` returns
/// (the value passed to [`Gen::resume`](super::Gen::resume); `()` for
/// iterators and async generators).
///
/// # Examples
///
/// A `Co` can be lent to helper `async fn`s, which yield through it
/// (Python's `yield from`):
///
/// ```
/// use coro_core::gen::{Co, Gen};
///
/// async fn yield_range(co: &Co<u32>, range: std::ops::Range<u32>) {
///     for i in range {
///         co.yield_(i).await;
///     }
/// }
///
/// let gen = Gen::new(|co: Co<u32>| async move {
///     yield_range(&co, 0..2).await;
///     yield_range(&co, 10..12).await;
/// });
/// assert_eq!(gen.collect::<Vec<_>>(), [0, 1, 10, 11]);
/// ```
pub struct Co<Y, R = ()> {
    shared: Shared<Y, R>,
}

impl<Y, R> Co<Y, R> {
    /// Yields `value` to the caller of `resume` (Python's `yield value`),
    /// and returns the value passed to the next `resume` (what Python's
    /// `yield` expression evaluates to after `send`).
    ///
    /// # Panics
    ///
    /// The future panics if it is polled outside its generator's `resume`
    /// (the `Co` escaped its body), or while another `yield_` of the same
    /// body is still in progress (two `yield_` futures polled together):
    /// await each one before calling the next.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{Co, Gen, GenState};
    ///
    /// // A running total: each `send(n)` adds `n`, and the total comes back.
    /// let mut total = Gen::new(|co: Co<u32, u32>| async move {
    ///     let mut sum = 0;
    ///     loop {
    ///         sum += co.yield_(sum).await;
    ///     }
    /// });
    /// assert_eq!(total.resume(0), GenState::Yielded(0)); // start: runs to the first yield
    /// assert_eq!(total.resume(5), GenState::Yielded(5));
    /// assert_eq!(total.resume(2), GenState::Yielded(7));
    /// ```
    pub fn yield_(&self, value: Y) -> YieldFuture<'_, Y, R> {
        YieldFuture {
            co: self,
            stage: Stage::Unpolled(value),
        }
    }
}

impl<Y, R> fmt::Debug for Co<Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

/// The future of [`Co::yield_`]: hands the value out on its first poll, and
/// completes with the resume value on the next.
///
/// # Cancellation
///
/// Dropping a `YieldFuture` that was polled but has not completed (it lost
/// a `select`, or a `timeout` ran out) cancels the yield cleanly, and the
/// body may go on yielding:
///
/// * if the generator had not taken the value yet (the body did not
///   suspend since), the value is withdrawn: it is never yielded, and it is
///   dropped;
/// * if the value was already yielded, the value passed to the `resume`
///   that followed is dropped (nobody is left to return it to).
///
/// # Examples
///
/// ```
/// use coro_core::gen::{Co, Gen, GenState, YieldFuture};
///
/// let mut gen = Gen::new(|co: Co<&str, u32>| async move {
///     let first: YieldFuture<'_, &str, u32> = co.yield_("first"); // nothing yielded yet
///     let resumed = first.await; // yields "first", then returns the resume value
///     resumed * 2
/// });
/// assert_eq!(gen.resume(0), GenState::Yielded("first"));
/// assert_eq!(gen.resume(21), GenState::Complete(42));
/// ```
///
/// A yield that loses a `select` is withdrawn:
///
/// ```
/// use std::pin::pin;
/// use coro_core::gen::{Co, Gen};
/// use futures_util::future::{select, Either};
///
/// let gen = Gen::new(|co: Co<&str>| async move {
///     {
///         let lost = pin!(co.yield_("never seen"));
///         if let Either::Left(_) = select(lost, std::future::ready(())).await {
///             unreachable!("the ready future wins");
///         }
///     } // the losing `yield_` is dropped: cancelled
///     co.yield_("seen").await;
/// });
/// assert_eq!(gen.collect::<Vec<_>>(), ["seen"]);
/// ```
#[must_use = "a value is yielded only when the future is awaited"]
pub struct YieldFuture<'a, Y, R> {
    co: &'a Co<Y, R>,
    stage: Stage<Y>,
}

/// Where a [`YieldFuture`] is in its two polls.
enum Stage<Y> {
    /// Not polled yet: holds the value.
    Unpolled(Y),
    /// The value is in the slot or was taken by the generator; the resume
    /// value is awaited. Only one future of a body can be here at a time
    /// (a second one panics on its first poll), so what the slot holds then
    /// is ours: our value, or the resume value meant for us.
    HandedOut,
    /// Returned the resume value.
    Done,
}

// The value is moved, never pinned.
impl<Y, R> Unpin for YieldFuture<'_, Y, R> {}

impl<Y, R> Future for YieldFuture<'_, Y, R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let this = self.get_mut();
        let mut slot = this.co.shared.lock();
        if !slot.active {
            drop(slot);
            panic!(
                "`Co::yield_` was awaited outside its generator: a `Co` must only be used inside \
                 the body it was given to (not after its generator is gone, nor from another task)"
            );
        }
        match mem::replace(&mut this.stage, Stage::HandedOut) {
            Stage::Unpolled(value) => match slot.next {
                Next::Empty => {
                    slot.next = Next::Yield(value);
                    Poll::Pending
                }
                _ => {
                    // Not ours to hand out: this future never touched the slot.
                    this.stage = Stage::Done;
                    drop(slot);
                    panic!(
                        "`Co::yield_` was polled while another `yield_` of the same generator \
                         was in progress: await each `yield_` before calling the next"
                    )
                }
            },
            Stage::HandedOut => match mem::replace(&mut slot.next, Next::Empty) {
                Next::Resume(resumed) => {
                    this.stage = Stage::Done;
                    Poll::Ready(resumed)
                }
                other => {
                    // Polled again before the generator was resumed.
                    slot.next = other;
                    Poll::Pending
                }
            },
            Stage::Done => panic!("`Co::yield_` future polled after it completed"),
        }
    }
}

impl<Y, R> Drop for YieldFuture<'_, Y, R> {
    fn drop(&mut self) {
        if let Stage::HandedOut = self.stage {
            // Cancelled mid-yield: withdraw our value, or drop the resume
            // value meant for us, so the next `yield_` finds the slot empty
            // (issue 16: it used to panic "another `yield_` in progress").
            // Taken out under the lock, dropped after it: a value's
            // destructor may itself use the generator.
            let withdrawn = mem::replace(&mut self.co.shared.lock().next, Next::Empty);
            drop(withdrawn);
        }
    }
}

impl<Y, R> fmt::Debug for YieldFuture<'_, Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YieldFuture").finish_non_exhaustive()
    }
}

/// One poll of a generator's body.
pub(super) enum Step<Y, C> {
    /// The body yielded a value (and waits in `yield_` for a resume).
    Yielded(Y),
    /// The body returned.
    Complete(C),
    /// The body is pending on something other than `yield_`.
    Pending,
}

/// The body of a generator: its boxed future and the shared slot.
pub(super) struct Body<Y, R, C, F: ?Sized> {
    shared: Shared<Y, R>,
    /// `None` once the body has returned (its future is dropped then).
    future: Option<Pin<Box<F>>>,
    _output: PhantomData<fn() -> C>,
}

/// Makes the `Co` for a new generator and the slot it shares with it.
pub(super) fn airlock<Y, R>() -> (Co<Y, R>, Shared<Y, R>) {
    let shared = Arc::new(SpinLock::new(Slot {
        next: Next::Empty,
        active: false,
    }));
    (
        Co {
            shared: shared.clone(),
        },
        shared,
    )
}

/// Marks the slot active while the body is polled; resets it even if the
/// body panics.
struct Activation<'a, Y, R> {
    shared: &'a SpinLock<Slot<Y, R>>,
}

impl<'a, Y, R> Activation<'a, Y, R> {
    fn start(shared: &'a SpinLock<Slot<Y, R>>, resume: Option<R>) -> Self {
        let mut slot = shared.lock();
        if let Some(resume) = resume {
            slot.next = Next::Resume(resume);
        }
        slot.active = true;
        Activation { shared }
    }

    /// Ends the activation and takes what the body left in the slot.
    fn finish(self) -> Next<Y, R> {
        let next = Self::deactivate(self.shared);
        mem::forget(self);
        next
    }

    fn deactivate(shared: &SpinLock<Slot<Y, R>>) -> Next<Y, R> {
        let mut slot = shared.lock();
        slot.active = false;
        mem::replace(&mut slot.next, Next::Empty)
    }
}

impl<Y, R> Drop for Activation<'_, Y, R> {
    fn drop(&mut self) {
        // Only reached when the body panicked: drop whatever was in transit.
        drop(Self::deactivate(self.shared));
    }
}

impl<Y, R, C, F> Body<Y, R, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    pub(super) fn new(shared: Shared<Y, R>, future: Pin<Box<F>>) -> Self {
        Body {
            shared,
            future: Some(future),
            _output: PhantomData,
        }
    }

    pub(super) fn is_complete(&self) -> bool {
        self.future.is_none()
    }

    /// Polls the body once, after handing `resume` (if any) to the `yield_`
    /// it is suspended in.
    ///
    /// # Panics
    ///
    /// Panics if the body already completed.
    pub(super) fn step(&mut self, resume: Option<R>, cx: &mut Context<'_>) -> Step<Y, C> {
        // Taken out while it runs: if the body panics, the unwind drops it
        // and the generator stays complete, like a Python generator that
        // raised (issue 16: it used to stay "not complete" and the next
        // resume hit "`async fn` resumed after panicking"). `activation` is
        // declared after `future`, so on unwind the slot is deactivated
        // before the body's destructors run.
        let mut future = self
            .future
            .take()
            .expect("resumed a generator that already completed");
        let activation = Activation::start(&self.shared, resume);
        let poll = future.as_mut().poll(cx);
        let next = activation.finish();
        match (poll, next) {
            // Python frees a finished generator's frame: so do we (`future`
            // is dropped here).
            (Poll::Ready(output), _) => Step::Complete(output),
            (Poll::Pending, next) => {
                self.future = Some(future);
                match next {
                    Next::Yield(value) => Step::Yielded(value),
                    // Empty, or a resume value nobody took: not suspended
                    // in `yield_`.
                    _ => Step::Pending,
                }
            }
        }
    }
}
