//! `gevent.spawn` + `gevent.joinall`: two sleepers finish in the longest
//! sleep, not in the sum of the sleeps.
//!
//! The Python lesson:
//!
//! ```python
//! import gevent
//!
//! def task(name, seconds):
//!     print(f"task {name}: sleeping {seconds} units")
//!     gevent.sleep(seconds)          # yields to the other greenlets
//!     print(f"task {name}: done")
//!
//! jobs = [gevent.spawn(task, "a", 2), gevent.spawn(task, "b", 5)]
//! gevent.joinall(jobs)               # ~5 seconds, not 7
//! ```
//!
//! Here `gevent.spawn` is `coro::spawn`, `gevent.sleep` is
//! `coro::time::sleep(..).await` and `joinall` is `coro::task::join_all`.
//! The runtime is the current-thread one, like gevent's single-threaded hub:
//! while one task sleeps, the other runs; nothing runs in parallel, and the
//! lines come out in the same order on every run. A "unit" is 100 ms by
//! default, so it takes half a second.
//!
//! ```text
//! cargo run --example spawn_join
//! cargo run --example spawn_join -- --unit-ms 1000           # the lesson's real seconds
//! cargo run --example spawn_join -- --sleeps 3,1,4,1,5 --unit-ms 50
//! ```

#[path = "common/args.rs"]
mod args;

use std::time::Duration;

use coro::time::{sleep, Instant};

const USAGE: &str = "usage: spawn_join [--unit-ms MS (100)] [--sleeps UNITS,UNITS,... (2,5)]";

/// One greenlet: announce, sleep (handing the thread to the others), finish.
async fn task(name: char, units: u32, unit: Duration) -> u32 {
    println!("task {name}: sleeping {units} units");
    sleep(unit * units).await;
    println!("task {name}: done");
    units
}

#[coro::main(flavor = "current_thread")]
async fn main() {
    let args = args::Args::parse(USAGE);
    let unit_ms: u64 = args.get("unit-ms", 100);
    let sleeps: String = args.get("sleeps", "2,5".to_owned());
    let sleeps: Vec<u32> = sleeps
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                eprintln!("--sleeps: cannot parse {s:?}\n{USAGE}");
                std::process::exit(2);
            })
        })
        .collect();
    if unit_ms == 0 || sleeps.len() > 26 {
        eprintln!("--unit-ms must be > 0 and there are at most 26 tasks\n{USAGE}");
        std::process::exit(2);
    }
    let unit = Duration::from_millis(unit_ms);

    let start = Instant::now();
    // jobs = [gevent.spawn(task, "a", 2), gevent.spawn(task, "b", 5)]
    let jobs: Vec<_> = sleeps
        .iter()
        .zip('a'..='z')
        .map(|(&units, name)| coro::spawn(task(name, units, unit)))
        .collect();
    // gevent.joinall(jobs): the outputs come back in the order of `jobs`.
    let slept: Vec<u32> = coro::task::join_all(jobs)
        .await
        .into_iter()
        .map(|result| result.expect("a task panicked"))
        .collect();
    let total = start.elapsed().as_secs_f64() / unit.as_secs_f64();

    let max = slept.iter().max().copied().unwrap_or(0);
    let sum: u32 = slept.iter().sum();
    println!("total: {total:.2} units (max {max}, not the sum {sum})");
}
