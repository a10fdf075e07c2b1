//! The generator producer/consumer again, as two tasks that talk over
//! channels instead of one generator driven by `send`.
//!
//! The Python lesson (the same as `producer_consumer`):
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
//! ```
//!
//! A generator's `n = yield r` does two things: it hands `r` out and waits
//! for `n` to come in. With two independent tasks those are two channels,
//! both rendezvous (`mpsc::channel(0)`: a `send` completes only once the
//! other side has taken the value):
//!
//! * `replies.send(r).await` then `products.recv().await` is `n = yield r`;
//! * `products.send(n).await` then `replies.recv().await` is `r = c.send(n)`;
//! * the producer's first `replies.recv()` is `c.send(None)` (it takes the
//!   consumer's initial `''`), and dropping the products sender is
//!   `c.close()`: the consumer's `recv` returns `None` and it returns.
//!
//! Each side waits for the other at every step, so the lines come out in
//! exactly the generator's order, even though the two tasks run on a
//! multi-thread runtime and may sit on different cores.
//!
//! ```text
//! cargo run --example producer_consumer_tasks
//! cargo run --example producer_consumer_tasks -- --count 3
//! ```

#[path = "common/args.rs"]
mod args;

use coro::sync::mpsc::{self, Receiver, Sender};

const USAGE: &str = "usage: producer_consumer_tasks [--count N (5)]";

/// `def consumer()`, as a task: products come in on one channel, replies go
/// out on the other.
async fn consumer(products: Receiver<u32>, replies: Sender<&'static str>) {
    let mut r = "";
    loop {
        // n = yield r
        if replies.send(r).await.is_err() {
            return; // the producer is gone
        }
        // if not n: return (the producer closed the channel)
        let Some(n) = products.recv().await else {
            return;
        };
        println!("[CONSUMER] Consuming {n}...");
        r = "200 OK";
    }
}

/// `def produce(c)`, as a task holding the other ends.
async fn produce(products: Sender<u32>, replies: Receiver<&'static str>, count: u32) {
    // c.send(None): start the consumer, take its first (empty) reply.
    replies.recv().await.expect("the consumer ended early");
    let mut n = 0;
    while n < count {
        n += 1;
        println!("[PRODUCER] Producing {n}...");
        // r = c.send(n)
        products.send(n).await.expect("the consumer ended early");
        let r = replies.recv().await.expect("the consumer ended early");
        println!("[PRODUCER] Consumer return: {r}");
    }
    // c.close()
    drop(products);
}

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let count: u32 = args.get("count", 5);

    let (products_tx, products_rx) = mpsc::channel(0);
    let (replies_tx, replies_rx) = mpsc::channel(0);
    let consumer = coro::spawn(consumer(products_rx, replies_tx));
    let producer = coro::spawn(produce(products_tx, replies_rx, count));
    producer.await.expect("the producer panicked");
    consumer.await.expect("the consumer panicked");
}
