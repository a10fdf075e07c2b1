//! [`Gen`]: a generator driven by hand with [`resume`](Gen::resume).

use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;
use std::pin::Pin;
use std::task::{Context, Waker};

use super::co::{airlock, Body, Co, Step};
use super::GenState;

/// A generator: a body written as an `async` closure that hands values out
/// with [`co.yield_(value).await`](Co::yield_), driven by hand with
/// [`resume`](Gen::resume) like a Python generator with `next`/`send`.
///
/// * `Y`: the type of the values yielded;
/// * `R`: the type sent in by `resume` and returned by `yield_` (`()` for a
///   plain iterator);
/// * `C`: the type the body returns when it completes;
/// * `F`: how the body is stored; leave it at its default
///   (`dyn Future<Output = C>`) and use [`SendGen`] for a `Send` generator.
///
/// The body only runs inside `resume`, on the caller's thread, and must
/// await nothing but `co.yield_()` (a `Gen` has no task to wake when a
/// socket becomes ready); use [`AsyncGen`](super::AsyncGen) for a body that
/// awaits I/O, timers or channels.
///
/// The body is boxed once when the generator is made; resuming it allocates
/// nothing.
///
/// # Examples
///
/// Python's
///
/// ```python
/// def countdown(n):
///     while n > 0:
///         yield n
///         n -= 1
///     return "liftoff"
/// ```
///
/// ```
/// use coro_core::gen::{Co, Gen, GenState};
///
/// let mut countdown = Gen::new(|co: Co<u32>| async move {
///     let mut n = 3;
///     while n > 0 {
///         co.yield_(n).await;
///         n -= 1;
///     }
///     "liftoff"
/// });
/// assert_eq!(countdown.resume(()), GenState::Yielded(3));
/// assert_eq!(countdown.resume(()), GenState::Yielded(2));
/// assert_eq!(countdown.resume(()), GenState::Yielded(1));
/// assert_eq!(countdown.resume(()), GenState::Complete("liftoff"));
/// assert!(countdown.is_complete());
/// ```
pub struct Gen<Y, R = (), C = (), F: ?Sized = dyn Future<Output = C>> {
    body: Body<Y, R, C, F>,
    /// `false` until the first `resume`, whose value is dropped.
    started: bool,
}

/// A [`Gen`] that is `Send` (when `Y`, `R` and `C` are), made by
/// [`Gen::new_send`]. Its body must be `Send`.
///
/// # Examples
///
/// ```
/// use coro_core::gen::{Co, Gen, SendGen};
///
/// fn naturals() -> SendGen<u64> {
///     Gen::new_send(|co: Co<u64>| async move {
///         for n in 0.. {
///             co.yield_(n).await;
///         }
///     })
/// }
///
/// let first = std::thread::spawn(|| naturals().take(4).collect::<Vec<_>>());
/// assert_eq!(first.join().unwrap(), [0, 1, 2, 3]);
/// ```
pub type SendGen<Y, R = (), C = ()> = Gen<Y, R, C, dyn Future<Output = C> + Send>;

impl<Y, R, C> Gen<Y, R, C> {
    /// Makes a generator from `producer`, a closure that receives the
    /// generator's [`Co`] and returns the body (usually `async move { .. }`).
    /// Nothing of the body runs until the first [`resume`](Self::resume).
    ///
    /// The generator is not `Send`, so its body may hold `Rc`s and other
    /// thread-bound values; see [`new_send`](Self::new_send) for one that
    /// can move between threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{Co, Gen};
    ///
    /// let squares = Gen::new(|co: Co<u64>| async move {
    ///     for i in 1..=4 {
    ///         co.yield_(i * i).await;
    ///     }
    /// });
    /// assert_eq!(squares.collect::<Vec<_>>(), [1, 4, 9, 16]);
    /// ```
    pub fn new<P, Fut>(producer: P) -> Self
    where
        P: FnOnce(Co<Y, R>) -> Fut,
        Fut: Future<Output = C> + 'static,
    {
        let (co, shared) = airlock();
        let future: Pin<Box<dyn Future<Output = C>>> = Box::pin(producer(co));
        Gen {
            body: Body::new(shared, future),
            started: false,
        }
    }
}

impl<Y, R, C> SendGen<Y, R, C> {
    /// Like [`new`](Gen::new), for a body that is `Send`: the generator is
    /// then `Send` too (if `Y`, `R` and `C` are) and can move into a
    /// spawned task or another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{Co, Gen, SendGen};
    ///
    /// let evens: SendGen<u32> = Gen::new_send(|co: Co<u32>| async move {
    ///     for i in 0..3 {
    ///         co.yield_(2 * i).await;
    ///     }
    /// });
    /// let sum = std::thread::spawn(move || evens.sum::<u32>()).join().unwrap();
    /// assert_eq!(sum, 6);
    /// ```
    pub fn new_send<P, Fut>(producer: P) -> Self
    where
        P: FnOnce(Co<Y, R>) -> Fut,
        Fut: Future<Output = C> + Send + 'static,
    {
        let (co, shared) = airlock();
        let future: Pin<Box<dyn Future<Output = C> + Send>> = Box::pin(producer(co));
        Gen {
            body: Body::new(shared, future),
            started: false,
        }
    }
}

impl<Y, R, C, F> Gen<Y, R, C, F>
where
    F: ?Sized + Future<Output = C>,
{
    /// Runs the body until it yields or returns (Python's `send(value)`;
    /// `next(gen)` when `R` is `()`).
    ///
    /// `value` becomes the result of the `yield_` the body is suspended in.
    /// The **first** `resume` starts the body, which is not suspended in any
    /// `yield_` yet, so its `value` is dropped: Python likewise requires
    /// the first `send` to be `send(None)`. Pass any placeholder (or make
    /// `R` an `Option` and pass `None`, as in the lesson in the
    /// [module docs](super)).
    ///
    /// # Panics
    ///
    /// * If the generator already completed: "resumed a generator that
    ///   already completed" (Python raises `StopIteration`; use
    ///   [`is_complete`](Self::is_complete) or the `Iterator` impl to stop).
    /// * If the body awaited something other than `co.yield_()` that is
    ///   not ready at once: a `Gen` cannot wait for it; use an
    ///   [`AsyncGen`](super::AsyncGen).
    /// * If the body panics (the panic propagates). The generator is then
    ///   complete, like a Python generator that raised: its body was
    ///   dropped, [`is_complete`](Self::is_complete) is true and the
    ///   iterator has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{Co, Gen, GenState};
    ///
    /// let mut echo = Gen::new(|co: Co<String, &'static str>| async move {
    ///     let mut heard = co.yield_(String::from("ready")).await;
    ///     loop {
    ///         heard = co.yield_(heard.to_uppercase()).await;
    ///     }
    /// });
    /// assert_eq!(echo.resume("dropped"), GenState::Yielded("ready".to_string()));
    /// assert_eq!(echo.resume("hi"), GenState::Yielded("HI".to_string()));
    /// ```
    #[track_caller]
    pub fn resume(&mut self, value: R) -> GenState<Y, C> {
        if self.body.is_complete() {
            panic!("resumed a generator that already completed");
        }
        let resume = if self.started {
            Some(value)
        } else {
            self.started = true;
            drop(value); // nothing is waiting for it yet
            None
        };
        match self
            .body
            .step(resume, &mut Context::from_waker(Waker::noop()))
        {
            Step::Yielded(value) => GenState::Yielded(value),
            Step::Complete(output) => GenState::Complete(output),
            Step::Pending => panic!(
                "a `Gen` body awaited something other than `co.yield_()`; a `Gen` is driven by \
                 `resume` and cannot wait for anything: use `AsyncGen` for bodies that await I/O, \
                 timers or channels"
            ),
        }
    }

    /// `true` once the body has returned ([`GenState::Complete`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::gen::{Co, Gen, GenState};
    ///
    /// let mut gen = Gen::new(|co: Co<u8>| async move {
    ///     co.yield_(1).await;
    /// });
    /// assert!(!gen.is_complete());
    /// assert_eq!(gen.resume(()), GenState::Yielded(1));
    /// assert!(!gen.is_complete()); // suspended in `yield_`
    /// assert_eq!(gen.resume(()), GenState::Complete(()));
    /// assert!(gen.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }

    /// Ends the generator (Python's `close()`): the body is dropped where
    /// it is suspended, running the destructors of everything it holds.
    /// Dropping the generator does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use coro_core::gen::{Co, Gen};
    ///
    /// struct Cleanup(Rc<Cell<bool>>);
    /// impl Drop for Cleanup {
    ///     fn drop(&mut self) {
    ///         self.0.set(true); // Python's `finally:`
    ///     }
    /// }
    ///
    /// let cleaned = Rc::new(Cell::new(false));
    /// let mut gen = Gen::new({
    ///     let cleaned = cleaned.clone();
    ///     |co: Co<u32>| async move {
    ///         let _cleanup = Cleanup(cleaned);
    ///         for i in 0.. {
    ///             co.yield_(i).await;
    ///         }
    ///     }
    /// });
    /// gen.resume(());
    /// assert!(!cleaned.get());
    /// gen.close();
    /// assert!(cleaned.get());
    /// ```
    pub fn close(self) {}
}

/// A generator whose resume type is `()` is an iterator of its yielded
/// values. The iterator ends when the body completes; the body's return
/// value is dropped (use [`resume`](Gen::resume) to get it).
impl<Y, C, F> Iterator for Gen<Y, (), C, F>
where
    F: ?Sized + Future<Output = C>,
{
    type Item = Y;

    fn next(&mut self) -> Option<Y> {
        if self.is_complete() {
            return None;
        }
        match self.resume(()) {
            GenState::Yielded(value) => Some(value),
            GenState::Complete(_) => None,
        }
    }
}

impl<Y, C, F> FusedIterator for Gen<Y, (), C, F> where F: ?Sized + Future<Output = C> {}

impl<Y, R, C, F: ?Sized> fmt::Debug for Gen<Y, R, C, F>
where
    F: Future<Output = C>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gen")
            .field("started", &self.started)
            .field("complete", &self.is_complete())
            .finish_non_exhaustive()
    }
}
