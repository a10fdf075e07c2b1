//! A storm of tasks: spawn many small tasks across every core, join them
//! all, then make a crowd of tasks take turns with `yield_now`, like
//! greenlets switching with `gevent.sleep(0)`.
//!
//! ```text
//! cargo run --release --example spawn_storm            # 1,000,000 tasks
//! cargo run --release --example spawn_storm -- 10000   # fewer
//! ```

use std::time::Instant;

use coro::task::JoinSet;

#[coro::main]
async fn main() {
    let tasks: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("usage: spawn_storm [TASKS]"))
        .unwrap_or(1_000_000);

    // 1. spawn + join: each task returns its index; the sum proves none was lost.
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|i| coro::spawn(async move { i as u64 }))
        .collect();
    let mut sum = 0u64;
    for handle in handles {
        sum += handle.await.expect("task failed");
    }
    let elapsed = start.elapsed();
    let expected = (tasks as u64) * (tasks as u64 - 1) / 2;
    assert_eq!(sum, expected, "a task was lost");
    println!(
        "spawned and joined {tasks} tasks in {elapsed:.2?} ({:.0} ns/task), sum {sum}",
        elapsed.as_nanos() as f64 / tasks as f64
    );

    // 2. cooperative switching: 1,000 tasks each yield 100 times.
    let crowd = 1_000.min(tasks);
    let turns = 100;
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..crowd {
        set.spawn(async move {
            for _ in 0..turns {
                coro::yield_now().await;
            }
            turns
        });
    }
    let mut switches = 0;
    while let Some(result) = set.join_next().await {
        switches += result.expect("task failed");
    }
    let elapsed = start.elapsed();
    println!(
        "{crowd} tasks switched {switches} times in {elapsed:.2?} ({:.0} ns/switch)",
        elapsed.as_nanos() as f64 / switches as f64
    );
}
