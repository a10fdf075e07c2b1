//! Executor micro-benchmarks: coro side by side with tokio and smol's
//! `async-executor`, in the same run.
//!
//! Run with:
//!
//! ```text
//! cargo bench --bench executor
//! cargo bench --bench executor -- spawn_many     # one scenario
//! cargo bench --bench executor -- coro_          # only the coro variants
//! ```
//!
//! Every scenario is a criterion group with six variants:
//!
//! | variant      | runtime                                                          |
//! |--------------|------------------------------------------------------------------|
//! | `coro_mt`    | coro multi-thread scheduler, 2 workers                           |
//! | `coro_ct`    | coro current-thread scheduler                                    |
//! | `tokio_mt`   | tokio multi-thread scheduler, 2 workers                          |
//! | `tokio_ct`   | tokio current-thread scheduler                                   |
//! | `smol_mt`    | `async_executor::Executor` run by 2 dedicated std threads        |
//! | `smol_local` | `async_executor::LocalExecutor` run on the bench thread          |
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
//!    task switch), so a round trip counts as 2 elements.
//! 4. `chained_spawn`: each task spawns the next one, [`CHAINED_SPAWN_DEPTH`]
//!    deep; the last one signals completion over an `async_channel`. Measures
//!    spawn-from-a-task plus the latency of getting a freshly spawned task
//!    running. One element = one spawned task.

use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_executor::{Executor, LocalExecutor};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

/// `spawn_many`: number of trivial tasks spawned per iteration.
const SPAWN_MANY_TASKS: usize = 100_000;
/// `yield_many`: number of tasks per iteration.
const YIELD_MANY_TASKS: usize = 1_000;
/// `yield_many`: number of `yield_now` calls per task.
const YIELD_MANY_YIELDS: usize = 1_000;
/// `ping_pong`: number of request/reply round trips per iteration.
const PING_PONG_ROUND_TRIPS: usize = 100_000;
/// `chained_spawn`: length of the chain of tasks spawning each other.
const CHAINED_SPAWN_DEPTH: usize = 10_000;

/// Worker threads of every multi-thread variant.
const WORKERS: usize = 2;

// ---------------------------------------------------------------------------
// Runtime abstraction: what a scenario needs from a runtime.
// ---------------------------------------------------------------------------

/// The operations a scenario uses, implemented once per runtime. Spawned
/// tasks go to the runtime that runs the scenario.
trait Spawner: Clone + Send + Sync + 'static {
    /// Spawns `future`; the returned future resolves to its output.
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `future` and detaches it.
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The runtime's own `yield_now`.
    fn yield_now(&self) -> impl Future<Output = ()> + Send;
}

/// coro: spawns on the ambient runtime (`coro::spawn`).
#[derive(Clone, Copy)]
struct Coro;

impl Spawner for Coro {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = coro::spawn(future);
        async move { handle.await.expect("coro task failed") }
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(coro::spawn(future));
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        coro::yield_now()
    }
}

/// tokio: spawns on the ambient runtime (`tokio::spawn`).
#[derive(Clone, Copy)]
struct Tokio;

impl Spawner for Tokio {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        async move { handle.await.expect("tokio task failed") }
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(future));
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// smol, multi-thread: a shared `Executor` run by dedicated threads.
#[derive(Clone)]
struct Smol(Arc<Executor<'static>>);

impl Spawner for Smol {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future)
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future).detach();
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

thread_local! {
    /// The `LocalExecutor` of the `smol_local` variant (the bench thread's).
    static LOCAL_EX: LocalExecutor<'static> = const { LocalExecutor::new() };
}

/// smol, single-thread: the bench thread's `LocalExecutor`.
#[derive(Clone, Copy)]
struct SmolLocal;

impl Spawner for SmolLocal {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        LOCAL_EX.with(|ex| ex.spawn(future))
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        LOCAL_EX.with(|ex| ex.spawn(future).detach());
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

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
    fn run<S: Spawner>(s: S) -> impl Future<Output = ()> + Send + 'static;
}

struct SpawnMany;

impl Scenario for SpawnMany {
    const NAME: &'static str = "spawn_many";
    const ELEMENTS: u64 = SPAWN_MANY_TASKS as u64;

    async fn run<S: Spawner>(s: S) {
        let mut handles = Vec::with_capacity(SPAWN_MANY_TASKS);
        for i in 0..SPAWN_MANY_TASKS {
            handles.push(s.spawn(async move { i as u64 }));
        }
        let mut sum = 0u64;
        for handle in handles {
            sum += handle.await;
        }
        let n = SPAWN_MANY_TASKS as u64;
        assert_eq!(sum, n * (n - 1) / 2);
    }
}

struct YieldMany;

impl Scenario for YieldMany {
    const NAME: &'static str = "yield_many";
    const ELEMENTS: u64 = (YIELD_MANY_TASKS * YIELD_MANY_YIELDS) as u64;

    async fn run<S: Spawner>(s: S) {
        let handles: Vec<_> = (0..YIELD_MANY_TASKS)
            .map(|_| {
                let inner = s.clone();
                s.spawn(async move {
                    for _ in 0..YIELD_MANY_YIELDS {
                        inner.yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    }
}

struct PingPong;

impl Scenario for PingPong {
    const NAME: &'static str = "ping_pong";
    const ELEMENTS: u64 = 2 * PING_PONG_ROUND_TRIPS as u64;

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

/// One link of the `chained_spawn` chain: spawns the next link, or signals
/// `done` when the chain is complete.
fn chain_link<S: Spawner>(s: S, done: async_channel::Sender<()>, remaining: usize) {
    if remaining == 0 {
        done.try_send(()).expect("chain receiver gone");
    } else {
        let next = s.clone();
        s.spawn_detached(async move { chain_link(next, done, remaining - 1) });
    }
}

impl Scenario for ChainedSpawn {
    const NAME: &'static str = "chained_spawn";
    const ELEMENTS: u64 = CHAINED_SPAWN_DEPTH as u64;

    async fn run<S: Spawner>(s: S) {
        let (done_tx, done_rx) = async_channel::bounded(1);
        chain_link(s, done_tx, CHAINED_SPAWN_DEPTH);
        done_rx.recv().await.expect("chain dropped");
    }
}

// ---------------------------------------------------------------------------
// Variants: one runtime each, built once per group.
// ---------------------------------------------------------------------------

fn coro_mt<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = coro::Runtime::builder()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    g.bench_function("coro_mt", |b| {
        b.iter(|| rt.block_on(rt.spawn(Sc::run(Coro))).unwrap());
    });
    drop(rt);
}

fn coro_ct<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = coro::Runtime::builder().current_thread().build().unwrap();
    g.bench_function("coro_ct", |b| b.iter(|| rt.block_on(Sc::run(Coro))));
    drop(rt);
}

fn tokio_mt<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    g.bench_function("tokio_mt", |b| {
        b.iter(|| rt.block_on(rt.spawn(Sc::run(Tokio))).unwrap());
    });
    drop(rt);
}

fn tokio_ct<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    g.bench_function("tokio_ct", |b| b.iter(|| rt.block_on(Sc::run(Tokio))));
    drop(rt);
}

fn smol_mt<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let ex = Arc::new(Executor::new());
    // Closing this channel (dropping the sender) stops the worker threads.
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let ex = ex.clone();
            let stop_rx = stop_rx.clone();
            thread::Builder::new()
                .name(format!("smol-worker-{i}"))
                .spawn(move || futures_lite::future::block_on(ex.run(stop_rx.recv())))
                .expect("spawn smol worker")
        })
        .collect();

    let s = Smol(ex.clone());
    g.bench_function("smol_mt", |b| {
        // The bench thread only waits for the root task; it never runs
        // executor tasks itself (it does not call `ex.run`/`ex.tick`).
        b.iter(|| futures_lite::future::block_on(s.spawn(Sc::run(s.clone()))));
    });

    drop(stop_tx);
    for worker in workers {
        worker.join().expect("smol worker panicked").unwrap_err();
    }
}

fn smol_local<Sc: Scenario>(g: &mut BenchmarkGroup<'_, WallTime>) {
    g.bench_function("smol_local", |b| {
        b.iter(|| LOCAL_EX.with(|ex| futures_lite::future::block_on(ex.run(Sc::run(SmolLocal)))));
    });
}

fn scenario<Sc: Scenario>(c: &mut Criterion) {
    let mut g = c.benchmark_group(Sc::NAME);
    g.throughput(Throughput::Elements(Sc::ELEMENTS));
    coro_mt::<Sc>(&mut g);
    coro_ct::<Sc>(&mut g);
    tokio_mt::<Sc>(&mut g);
    tokio_ct::<Sc>(&mut g);
    smol_mt::<Sc>(&mut g);
    smol_local::<Sc>(&mut g);
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
