//! The task workloads that both executor comparisons run, written once:
//! `benches/executor.rs` (criterion) and `bin/bench_report` include
//! this file through `#[path]`, beside `runtimes.rs`, and differ only in
//! sizes and in how they time a run. (`ping_pong` is not here: the criterion
//! bench gives every runtime the same channel, the report each runtime its
//! own, on purpose.)
#![allow(dead_code)] // each includer uses a different part

use crate::runtimes::Spawner;

/// `spawn_many`: spawns `tasks` trivial tasks from inside the runtime, then
/// awaits every one and checks their outputs. One element = one task.
pub async fn spawn_many<S: Spawner>(s: S, tasks: u64) {
    let handles: Vec<_> = (0..tasks).map(|i| s.spawn(async move { i })).collect();
    let mut sum = 0u64;
    for handle in handles {
        sum += handle.await;
    }
    assert_eq!(sum, tasks * tasks.saturating_sub(1) / 2);
}

/// `yield_many`: `tasks` tasks that each call the runtime's `yield_now`
/// `yields` times, all awaited. One element = one yield.
pub async fn yield_many<S: Spawner>(s: S, tasks: u64, yields: u64) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            s.spawn(async move {
                for _ in 0..yields {
                    S::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}

/// `chained_spawn`: each task spawns the next, `depth` deep; the last one
/// signals the caller. One element = one link.
pub async fn chained_spawn<S: Spawner>(s: S, depth: u64) {
    let (done_tx, done_rx) = async_channel::bounded(1);
    chain_link(s, done_tx, depth);
    done_rx.recv().await.expect("chain dropped");
}

/// One link of the chain: spawns the next link, or signals `done` at the end.
fn chain_link<S: Spawner>(s: S, done: async_channel::Sender<()>, remaining: u64) {
    if remaining == 0 {
        done.try_send(()).expect("chain receiver gone");
    } else {
        let next = s.clone();
        s.spawn_detached(async move { chain_link(next, done, remaining - 1) });
    }
}
