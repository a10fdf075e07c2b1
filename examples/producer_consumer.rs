//! The generator producer/consumer: `send` a product in, get a reply back,
//! `close` at the end.
//!
//! The Python lesson:
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
//! c = consumer()
//! produce(c)
//! ```
//!
//! The consumer is a `coro::gen::Gen`: its body is an `async` block and
//! `co.yield_(r).await` is Python's `n = yield r`. `resume(value)` is
//! `send(value)`, and `close()` drops the body where it is suspended (the
//! same as letting it go out of scope). No task and no runtime are
//! involved: like a Python generator, the body runs only inside `resume`,
//! on the caller's thread, and every switch is one of the two explicit
//! points (`resume` and `.await` on `yield_`).
//!
//! The consumer is sent `Option<u32>`, so the first resume can be `None`,
//! exactly like `c.send(None)` (its value is dropped: the body is not yet
//! suspended in a `yield_` that could receive it). `None` later plays
//! `if not n: return`.
//!
//! ```text
//! cargo run --example producer_consumer
//! cargo run --example producer_consumer -- --count 3
//! ```
//!
//! `producer_consumer_tasks` has the same conversation between two tasks.

#[path = "common/args.rs"]
mod args;

use coro::gen::{Co, Gen, GenState};

const USAGE: &str = "usage: producer_consumer [--count N (5)]";

/// `def consumer()`: yields its replies (`&str`), is sent products
/// (`Option<u32>`), returns nothing.
fn consumer() -> Gen<&'static str, Option<u32>> {
    Gen::new(|co: Co<&'static str, Option<u32>>| async move {
        let mut r = "";
        loop {
            // n = yield r
            let n = co.yield_(r).await;
            // if not n: return
            let Some(n) = n else { return };
            println!("[CONSUMER] Consuming {n}...");
            r = "200 OK";
        }
    })
}

/// `def produce(c)`.
fn produce(mut c: Gen<&'static str, Option<u32>>, count: u32) {
    c.resume(None); // c.send(None): runs the body to its first `yield_`
    let mut n = 0;
    while n < count {
        n += 1;
        println!("[PRODUCER] Producing {n}...");
        let r = match c.resume(Some(n)) {
            GenState::Yielded(r) => r,
            GenState::Complete(()) => unreachable!("the consumer returns only when sent None"),
        };
        println!("[PRODUCER] Consumer return: {r}");
    }
    c.close();
}

fn main() {
    let args = args::Args::parse(USAGE);
    let count: u32 = args.get("count", 5);

    let c = consumer();
    produce(c, count);
}
