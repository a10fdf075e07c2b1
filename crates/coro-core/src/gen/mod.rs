//! Generators: stackless coroutines written as `async` closures and driven
//! by hand, like Python's generators.
//!
//! | Python | coro |
//! |---|---|
//! | `def g(): ... yield x ...` | `Gen::new(\|co\| async move { ... co.yield_(x).await ... })` |
//! | `n = yield x` (a value comes back from `send`) | `let n = co.yield_(x).await;` |
//! | `next(g)`, `g.send(None)` (start it) | `g.resume(())`, or any first value: it is dropped |
//! | `g.send(v)` | `g.resume(v)` → [`GenState::Yielded`] |
//! | `return value` / `StopIteration(value)` | the body's return value → [`GenState::Complete`] |
//! | `g.close()` (`finally:` blocks run) | [`g.close()`](Gen::close) or drop (destructors run) |
//! | `for x in g:` | `for x in g` ([`Gen`] is an [`Iterator`] when the resume type is `()`) |
//! | `async def` with `yield`, `async for` | [`AsyncGen`], a `Stream` |
//!
//! A generator's body is the state machine the compiler makes of an
//! `async` block: there is no stack to switch, so making a generator costs
//! one allocation (the boxed body) and resuming it costs none. The values
//! travel through a slot shared by the generator and its [`Co`].
//!
//! A [`Gen`] is resumed synchronously: its body may await only
//! `co.yield_()` (resuming it panics with a clear message otherwise). An
//! [`AsyncGen`] is polled as a `Stream` by a task and its body may await
//! anything between yields.
//!
//! # The producer/consumer lesson
//!
//! Python's classic coroutine lesson: a consumer generator receives each
//! product through `send` and answers with a status.
//!
//! ```python
//! def consumer():
//!     r = ''
//!     while True:
//!         n = yield r
//!         if not n:
//!             return
//!         print('[CONSUMER] Consuming %s...' % n)
//!         r = '200 OK'
//!
//! def produce(c):
//!     c.send(None)
//!     n = 0
//!     while n < 5:
//!         n = n + 1
//!         print('[PRODUCER] Producing %s...' % n)
//!         r = c.send(n)
//!         print('[PRODUCER] Consumer return: %s' % r)
//!     c.close()
//!
//! produce(consumer())
//! ```
//!
//! The same in Rust. `Co<&str, Option<u32>>`: the consumer yields `&str`
//! replies and is sent `Option<u32>` products, so the first resume can be
//! `None` exactly as in Python:
//!
//! ```
//! use coro_core::gen::{Co, Gen, GenState};
//!
//! fn consumer() -> Gen<&'static str, Option<u32>> {
//!     Gen::new(|co: Co<&'static str, Option<u32>>| async move {
//!         let mut reply = "";
//!         loop {
//!             let Some(n) = co.yield_(reply).await else {
//!                 return;
//!             };
//!             println!("[CONSUMER] Consuming {n}...");
//!             reply = "200 OK";
//!         }
//!     })
//! }
//!
//! fn produce(mut c: Gen<&'static str, Option<u32>>) {
//!     c.resume(None); // start it: runs to the first `yield_`
//!     for n in 1..=5 {
//!         println!("[PRODUCER] Producing {n}...");
//!         let GenState::Yielded(r) = c.resume(Some(n)) else {
//!             unreachable!("the consumer only returns when sent `None`")
//!         };
//!         println!("[PRODUCER] Consumer return: {r}");
//!     }
//!     c.close();
//! }
//!
//! produce(consumer());
//! ```
//!
//! It prints
//!
//! ```text
//! [PRODUCER] Producing 1...
//! [CONSUMER] Consuming 1...
//! [PRODUCER] Consumer return: 200 OK
//! [PRODUCER] Producing 2...
//! [CONSUMER] Consuming 2...
//! [PRODUCER] Consumer return: 200 OK
//! ...
//! [PRODUCER] Producing 5...
//! [CONSUMER] Consuming 5...
//! [PRODUCER] Consumer return: 200 OK
//! ```
//!
//! Two tasks and a rendezvous channel ([`mpsc::channel(0)`](crate::sync::mpsc::channel))
//! give the same alternation between independent tasks.
//!
//! # Round robin
//!
//! Generators interleaved by `next()`, the seed of every scheduler:
//!
//! ```
//! use std::collections::VecDeque;
//! use coro_core::gen::{Co, Gen};
//!
//! fn worker(name: &'static str, steps: u32) -> Gen<String> {
//!     Gen::new(move |co: Co<String>| async move {
//!         for i in 1..=steps {
//!             co.yield_(format!("{name} step {i}")).await;
//!         }
//!     })
//! }
//!
//! let mut ready = VecDeque::from([worker("a", 2), worker("b", 3)]);
//! let mut log = Vec::new();
//! while let Some(mut gen) = ready.pop_front() {
//!     if let Some(line) = gen.next() {
//!         log.push(line);
//!         ready.push_back(gen); // back of the queue, like a yielded task
//!     }
//! }
//! assert_eq!(log, ["a step 1", "b step 1", "a step 2", "b step 2", "b step 3"]);
//! ```

mod async_gen;
mod co;
#[cfg(test)]
mod failure_tests;
mod sync_gen;
#[cfg(test)]
mod tests;

pub use async_gen::{AsyncGen, SendAsyncGen};
pub use co::{Co, YieldFuture};
pub use sync_gen::{Gen, SendGen};

/// What a generator did when resumed: yielded a value, or returned.
///
/// # Examples
///
/// ```
/// use coro_core::gen::{Co, Gen, GenState};
///
/// let mut once = Gen::new(|co: Co<char>| async move {
///     co.yield_('x').await;
///     "done"
/// });
/// assert_eq!(once.resume(()), GenState::Yielded('x'));
/// assert_eq!(once.resume(()), GenState::Complete("done"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenState<Y, C> {
    /// The body yielded this value and is suspended in `yield_`.
    Yielded(Y),
    /// The body returned this value; the generator is finished.
    Complete(C),
}
