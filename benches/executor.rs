//! Executor micro-benchmarks: coro side by side with tokio and smol's
//! `async-executor`, in the same run.
//!
//! Run with:
//!
//! ```text
//! cargo bench -p coro-benches --bench executor
//! cargo bench -p coro-benches --bench executor -- spawn_many     # one scenario
//! cargo bench -p coro-benches --bench executor -- coro_          # only the coro variants
//! ```
//!
//! Every scenario is a criterion group with six variants and, where it
//! measures task switches, a baseline:
//!
//! | variant      | runtime                                                          |
//! |--------------|------------------------------------------------------------------|
//! | `coro_mt`    | coro multi-thread scheduler, 2 workers                           |
//! | `coro_ct`    | coro current-thread scheduler                                    |
//! | `tokio_mt`   | tokio multi-thread scheduler, 2 workers                          |
//! | `tokio_ct`   | tokio current-thread scheduler                                   |
//! | `smol_mt`    | `async_executor::Executor` run by 2 dedicated std threads        |
//! | `smol_local` | `async_executor::LocalExecutor` run on the bench thread          |
//! | `async_task_floor` | baseline: the smallest executor on async-task, one thread-local FIFO (`common/floor.rs`); not for `spawn_many` |
//!
//! Each runtime is built once per group, outside the measured loop. On the
//! multi-thread variants the scenario body runs as a *task* on a worker (the
//! bench thread only spawns that root task and blocks until it finishes), so
//! the work is done by exactly 2 worker threads in every `*_mt` variant and
//! every spawn happens "from inside the runtime". On the single-thread
//! variants the body is the future passed to `block_on` / `LocalExecutor::run`.
//!
//! Scenarios (sizes are the constants below):
//!
//! 1. `spawn_many`: spawn [`SPAWN_MANY_TASKS`] trivial tasks, keep their join
//!    handles in a `Vec`, then await them all. Measures task allocation,
//!    scheduling and join cost. One element = one task.
//! 2. `yield_many`: spawn [`YIELD_MANY_TASKS`] tasks that each yield
//!    [`YIELD_MANY_YIELDS`] times, await them all. Measures the cost of a
//!    task re-scheduling itself (wake + requeue + poll). One element = one
//!    `yield_now`.
//! 3. `ping_pong`: two tasks bounce [`PING_PONG_ROUND_TRIPS`] values over a
//!    pair of `async_channel::bounded(1)` channels (the same channel type for
//!    every runtime); task A sends `i` and waits for the echo, task B echoes.
//!    Measures cross-task wake-up latency. One element = one message (one
//!    task switch), so a round trip counts as 2 elements. The
//!    `async_task_floor` variant uses the floor's own atomic-free channel
//!    instead: it is the cost of the switches alone.
//! 4. `chained_spawn`: each task spawns the next one, [`CHAINED_SPAWN_DEPTH`]
//!    deep; the last one signals completion over an `async_channel`. Measures
//!    spawn-from-a-task plus the latency of getting a freshly spawned task
//!    running. One element = one spawned task.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

/// The smallest executor on async-task: the `async_task_floor` variant.
#[path = "common/floor.rs"]
mod floor;
/// The runtimes, their task operations, and how a future is run on each
/// (shared with `benches/net.rs` and `bin/bench_report`).
#[path = "common/runtimes.rs"]
mod runtimes;
#[path = "common/workloads.rs"]
mod workloads;
use runtimes::{CoroRt, Runner, SendFut, SmolLocal, SmolMt, Spawner, TokioRt};

/// `spawn_many`: number of trivial tasks spawned per iteration.
const SPAWN_MANY_TASKS: u64 = 100_000;
/// `yield_many`: number of tasks per iteration.
const YIELD_MANY_TASKS: u64 = 1_000;
/// `yield_many`: number of `yield_now` calls per task.
const YIELD_MANY_YIELDS: u64 = 1_000;
/// `ping_pong`: number of request/reply round trips per iteration.
const PING_PONG_ROUND_TRIPS: usize = 100_000;
/// `chained_spawn`: length of the chain of tasks spawning each other.
const CHAINED_SPAWN_DEPTH: u64 = 10_000;

// ---------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------

/// One benchmark scenario, written once for every runtime.
trait Scenario {
    /// The criterion group name.
    const NAME: &'static str;
    /// Elements per iteration, for `Throughput::Elements`.
    const ELEMENTS: u64;
    /// The work of one iteration, run on the runtime behind `s`.
    fn run<S: Spawner>(s: S) -> impl SendFut<()>;
    /// The same work on the smallest executor on async-task
    /// (`common/floor.rs`), measured as the `async_task_floor` variant.
    const FLOOR: Option<fn() -> u64> = None;
}

struct SpawnMany;

impl Scenario for SpawnMany {
    const NAME: &'static str = "spawn_many";
    const ELEMENTS: u64 = SPAWN_MANY_TASKS;

    async fn run<S: Spawner>(s: S) {
        workloads::spawn_many(s, SPAWN_MANY_TASKS).await;
    }
}

struct YieldMany;

impl Scenario for YieldMany {
    const NAME: &'static str = "yield_many";
    const ELEMENTS: u64 = YIELD_MANY_TASKS * YIELD_MANY_YIELDS;

    async fn run<S: Spawner>(s: S) {
        workloads::yield_many(s, YIELD_MANY_TASKS, YIELD_MANY_YIELDS).await;
    }
    const FLOOR: Option<fn() -> u64> =
        Some(|| floor::yield_many(YIELD_MANY_TASKS, YIELD_MANY_YIELDS));
}

struct PingPong;

impl Scenario for PingPong {
    const NAME: &'static str = "ping_pong";
    const ELEMENTS: u64 = 2 * PING_PONG_ROUND_TRIPS as u64;
    const FLOOR: Option<fn() -> u64> = Some(|| floor::ping_pong(PING_PONG_ROUND_TRIPS as u64));

    async fn run<S: Spawner>(s: S) {
        let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
        let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);

        let echo = s.spawn(async move {
            while let Ok(i) = ping_rx.recv().await {
                pong_tx.send(i).await.expect("pinger gone");
            }
        });
        let pinger = s.spawn(async move {
            for i in 0..PING_PONG_ROUND_TRIPS {
                ping_tx.send(i).await.expect("echo gone");
                let reply = pong_rx.recv().await.expect("echo gone");
                debug_assert_eq!(reply, i);
            }
            // Dropping `ping_tx` here ends the echo task's loop.
        });
        pinger.await;
        echo.await;
    }
}

struct ChainedSpawn;

impl Scenario for ChainedSpawn {
    const NAME: &'static str = "chained_spawn";
    const ELEMENTS: u64 = CHAINED_SPAWN_DEPTH;

    async fn run<S: Spawner>(s: S) {
        workloads::chained_spawn(s, CHAINED_SPAWN_DEPTH).await;
    }
    const FLOOR: Option<fn() -> u64> = Some(|| floor::chained_spawn(CHAINED_SPAWN_DEPTH));
}

// ---------------------------------------------------------------------------
// Groups.
// ---------------------------------------------------------------------------

/// One variant of `Sc`: build the runtime (outside the measured loop), run
/// one scenario body per iteration on it, then drop it before the next
/// variant starts.
fn variant<Sc: Scenario, R: Runner>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    g.bench_function(R::NAME, |b| b.iter(|| rt.run(Sc::run(rt.spawner()))));
    drop(rt);
}

fn scenario<Sc: Scenario>(c: &mut Criterion) {
    let mut g = c.benchmark_group(Sc::NAME);
    g.throughput(Throughput::Elements(Sc::ELEMENTS));
    variant::<Sc, CoroRt<true>>(&mut g);
    variant::<Sc, CoroRt<false>>(&mut g);
    variant::<Sc, TokioRt<true>>(&mut g);
    variant::<Sc, TokioRt<false>>(&mut g);
    variant::<Sc, SmolMt>(&mut g);
    variant::<Sc, SmolLocal>(&mut g);
    if let Some(floor) = Sc::FLOOR {
        g.bench_function("async_task_floor", |b| b.iter(floor));
    }
    g.finish();
}

fn spawn_many(c: &mut Criterion) {
    scenario::<SpawnMany>(c);
}

fn yield_many(c: &mut Criterion) {
    scenario::<YieldMany>(c);
}

fn ping_pong(c: &mut Criterion) {
    scenario::<PingPong>(c);
}

fn chained_spawn(c: &mut Criterion) {
    scenario::<ChainedSpawn>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = spawn_many, yield_many, ping_pong, chained_spawn
}
criterion_main!(benches);
