//! Round robin: generators interleaved by `next()`, the seed of every
//! scheduler.
//!
//! The Python lesson:
//!
//! ```python
//! def gen(name, n):
//!     for i in range(n):
//!         yield f"{name} {i}"
//!
//! ready = [gen("A", 3), gen("B", 3)]
//! while ready:
//!     g = ready.pop(0)
//!     try:
//!         print(next(g))
//!         ready.append(g)        # back of the queue, like a task that yielded
//!     except StopIteration:
//!         pass                   # finished: drop it
//! ```
//!
//! Each generator is a `coro::gen::Gen` with resume type `()`, which makes it
//! an `Iterator`: `gen.next()` is Python's `next(g)` and `None` is
//! `StopIteration`. The loop is a scheduler in miniature: a run queue
//! (`VecDeque`), one step of each coroutine in turn, and a coroutine that
//! is done leaves the queue. coro's schedulers do the same with tasks; the
//! difference is that a task that is waiting (for a socket, a timer) is
//! parked off the queue until its waker puts it back.
//!
//! `--steps` gives the length of each generator, named A, B, C, ...; a
//! shorter one drops out and the others carry on.
//!
//! ```text
//! cargo run --example round_robin
//! cargo run --example round_robin -- --steps 3,1,5
//! ```

#[path = "common/args.rs"]
mod args;

use std::collections::VecDeque;

use coro::gen::{Co, Gen};

const USAGE: &str = "usage: round_robin [--steps N,N,... (3,3): one generator per number]";

/// `def gen(name, n)`.
fn gen(name: char, n: u32) -> Gen<String> {
    Gen::new(move |co: Co<String>| async move {
        for i in 0..n {
            co.yield_(format!("{name} {i}")).await;
        }
    })
}

fn main() {
    let args = args::Args::parse(USAGE);
    let steps: String = args.get("steps", "3,3".to_owned());
    let steps: Vec<u32> = steps
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                eprintln!("--steps: cannot parse {s:?}\n{USAGE}");
                std::process::exit(2);
            })
        })
        .collect();
    if steps.len() > 26 {
        eprintln!("at most 26 generators\n{USAGE}");
        std::process::exit(2);
    }

    let mut ready: VecDeque<Gen<String>> = steps
        .iter()
        .zip('A'..='Z')
        .map(|(&n, name)| gen(name, n))
        .collect();
    while let Some(mut g) = ready.pop_front() {
        if let Some(line) = g.next() {
            println!("{line}");
            ready.push_back(g);
        }
        // else: StopIteration; `g` is dropped here.
    }
}
