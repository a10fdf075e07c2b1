//! In-process scenarios, measured by wall time (`std::time::Instant`).
//!
//! | scenario        | one run (full size)                                           | reported      |
//! |-----------------|---------------------------------------------------------------|---------------|
//! | `spawn_many`    | 100_000 trivial tasks spawned from inside the runtime, all awaited | ns/task  |
//! | `yield_many`    | 1_000 tasks × 1_000 `yield_now`                                | ns/yield      |
//! | `ping_pong`     | 1_000_000 messages (500_000 round trips) between two tasks over capacity-1 channels, each runtime's own channel | M switches/s |
//! | `gen_resume`    | 1_000_000 `Gen::resume` of the producer/consumer lesson       | ns/resume     |
//! | `chained_spawn` | each task spawns the next, 100_000 deep                       | ns/link       |
//!
//! Baselines (the physical limit): `box_pin_poll` for `spawn_many` (box a
//! trivial future, poll it once with a no-op waker, drop it),
//! `async_task_floor` for `yield_many`, `ping_pong` and `chained_spawn`
//! (the smallest executor on async-task: one thread-local FIFO; for
//! `ping_pong` over a channel without atomics, see
//! `benches/common/floor.rs`) and `plain_loop` for `gen_resume` (the
//! consumer's arithmetic in a loop).
//!
//! Each scenario builds all runtimes once, runs one untimed warm-up
//! repetition, then `reps` interleaved repetitions. One measurement repeats
//! the scenario's run until it has taken at least [`TARGET`] (one run in
//! `--quick`) and reports the mean per element, so a 10 ms scenario is not
//! at the mercy of one scheduler hiccup.

use std::future::Future;
use std::hint::black_box;
use std::marker::PhantomData;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use coro::gen::{Co, Gen, GenState};

use crate::table::{Class, Row};
use crate::{floor, progress, workloads, Chan, Opts, Runner, Runtimes, SendFut, Spawner, Visit};

/// The baseline row of the task-switch scenarios: the smallest executor on
/// async-task (`benches/common/floor.rs`).
const FLOOR: &str = "async_task_floor";

/// Minimum duration of one measurement (full size).
const TARGET: Duration = Duration::from_millis(200);

/// The sizes of one run of each scenario.
#[derive(Clone, Copy)]
struct Sizes {
    spawn_many_tasks: u64,
    yield_many_tasks: u64,
    yield_many_yields: u64,
    ping_pong_messages: u64,
    gen_resumes: u64,
    chained_spawn_depth: u64,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                spawn_many_tasks: 10_000,
                yield_many_tasks: 100,
                yield_many_yields: 100,
                ping_pong_messages: 20_000,
                gen_resumes: 100_000,
                chained_spawn_depth: 10_000,
            }
        } else {
            Sizes {
                spawn_many_tasks: 100_000,
                yield_many_tasks: 1_000,
                yield_many_yields: 1_000,
                ping_pong_messages: 1_000_000,
                gen_resumes: 1_000_000,
                chained_spawn_depth: 100_000,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Rows, repetitions, measurements (shared with memory.rs).
// ---------------------------------------------------------------------------

/// The rows of one scenario being filled, one value per repetition.
pub struct Sheet {
    scenario: String,
    unit: &'static str,
    higher_is_better: bool,
    pub rows: Vec<Row>,
}

impl Sheet {
    pub fn new(scenario: &str, unit: &'static str, higher_is_better: bool) -> Sheet {
        Sheet {
            scenario: scenario.to_owned(),
            unit,
            higher_is_better,
            rows: Vec::new(),
        }
    }

    /// Adds one repetition's `value` to `runtime`'s row (created on first use,
    /// so rows keep the order runtimes are first measured in).
    pub fn record(&mut self, runtime: &str, class: Class, value: f64) {
        let index = match self.rows.iter().position(|r| r.runtime == runtime) {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    scenario: self.scenario.clone(),
                    runtime: runtime.to_owned(),
                    class,
                    values: Vec::new(),
                    unit: self.unit.to_owned(),
                    higher_is_better: self.higher_is_better,
                });
                self.rows.len() - 1
            }
        };
        self.rows[index].values.push(value);
    }
}

/// Runs `one_rep` once as an untimed warm-up (if `warm_up`; what it records
/// is dropped), then `reps` times into `sheets`, with progress lines.
pub fn repeat(
    name: &str,
    reps: usize,
    warm_up: bool,
    sheets: &mut [Sheet],
    mut one_rep: impl FnMut(&mut [Sheet]),
) {
    if warm_up {
        progress(&format!("{name} warm-up"));
        let mut scratch: Vec<Sheet> = sheets
            .iter()
            .map(|s| Sheet::new(&s.scenario, s.unit, s.higher_is_better))
            .collect();
        one_rep(&mut scratch);
    }
    for rep in 1..=reps {
        progress(&format!("{name} rep {rep}/{reps}"));
        one_rep(sheets);
    }
}

/// Runs `run` (which returns how many elements it did) until `target` has
/// passed, at least once; returns the time taken and the elements done.
fn timed_sync(target: Duration, mut run: impl FnMut() -> u64) -> (Duration, u64) {
    let start = Instant::now();
    let mut elements = 0;
    loop {
        elements += run();
        let elapsed = start.elapsed();
        if elapsed >= target {
            return (elapsed, elements);
        }
    }
}

/// [`timed_sync`] for a scenario run on a runtime (inside its root task).
async fn timed<Sc: Scenario, S: Spawner>(s: S, z: Sizes, target: Duration) -> (Duration, u64) {
    let start = Instant::now();
    let mut elements = 0;
    loop {
        Sc::run(s.clone(), z).await;
        elements += Sc::elements(&z);
        let elapsed = start.elapsed();
        if elapsed >= target {
            return (elapsed, elements);
        }
    }
}

/// Something measured outside any runtime: its name, its class, and one run
/// (returning how many elements it did).
type Contender = (&'static str, Class, fn(&Sizes) -> u64);

fn ns_per(elapsed: Duration, elements: u64) -> f64 {
    elapsed.as_nanos() as f64 / elements as f64
}

// ---------------------------------------------------------------------------
// Scenarios on runtimes.
// ---------------------------------------------------------------------------

/// One scenario, written once for every runtime.
trait Scenario: 'static {
    const NAME: &'static str;
    const UNIT: &'static str;
    const HIGHER_IS_BETTER: bool = false;
    /// Elements (tasks, yields, messages, links) in one run.
    fn elements(z: &Sizes) -> u64;
    /// One run, on the runtime behind `s`.
    fn run<S: Spawner>(s: S, z: Sizes) -> impl SendFut<()>;
    /// The reported value of a measurement.
    fn value(elapsed: Duration, elements: u64) -> f64 {
        ns_per(elapsed, elements)
    }
    /// Baselines measured beside the runtimes.
    fn baselines() -> Vec<Contender> {
        Vec::new()
    }
}

struct SpawnMany;

impl Scenario for SpawnMany {
    const NAME: &'static str = "spawn_many";
    const UNIT: &'static str = "ns/task";
    fn elements(z: &Sizes) -> u64 {
        z.spawn_many_tasks
    }
    async fn run<S: Spawner>(s: S, z: Sizes) {
        workloads::spawn_many(s, z.spawn_many_tasks).await;
    }
    fn baselines() -> Vec<Contender> {
        vec![("box_pin_poll", Class::Baseline, box_pin_poll)]
    }
}

/// The physical limit of spawning: allocate a trivial future, poll it once,
/// free it.
fn box_pin_poll(z: &Sizes) -> u64 {
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..z.spawn_many_tasks {
        let mut future = black_box(Box::pin(async move { i }));
        let _ = black_box(future.as_mut().poll(&mut cx));
    }
    z.spawn_many_tasks
}

struct YieldMany;

impl Scenario for YieldMany {
    const NAME: &'static str = "yield_many";
    const UNIT: &'static str = "ns/yield";
    fn elements(z: &Sizes) -> u64 {
        z.yield_many_tasks * z.yield_many_yields
    }
    async fn run<S: Spawner>(s: S, z: Sizes) {
        workloads::yield_many(s, z.yield_many_tasks, z.yield_many_yields).await;
    }
    fn baselines() -> Vec<Contender> {
        vec![(FLOOR, Class::Baseline, |z| {
            floor::yield_many(z.yield_many_tasks, z.yield_many_yields)
        })]
    }
}

struct PingPong;

impl Scenario for PingPong {
    const NAME: &'static str = "ping_pong";
    const UNIT: &'static str = "M switches/s";
    const HIGHER_IS_BETTER: bool = true;
    fn elements(z: &Sizes) -> u64 {
        z.ping_pong_messages / 2 * 2
    }
    async fn run<S: Spawner>(s: S, z: Sizes) {
        type C<S> = <S as Spawner>::Chan;
        let round_trips = z.ping_pong_messages / 2;
        let (ping_tx, mut ping_rx) = C::<S>::bounded(1);
        let (pong_tx, mut pong_rx) = C::<S>::bounded(1);
        let echo = s.spawn(async move {
            while let Some(i) = C::<S>::recv(&mut ping_rx).await {
                C::<S>::send(&pong_tx, i).await;
            }
        });
        let pinger = s.spawn(async move {
            for i in 0..round_trips {
                C::<S>::send(&ping_tx, i).await;
                let reply = C::<S>::recv(&mut pong_rx).await.expect("echo gone");
                debug_assert_eq!(reply, i);
            }
            // Dropping `ping_tx` here ends the echo task's loop.
        });
        pinger.await;
        echo.await;
    }
    fn baselines() -> Vec<Contender> {
        vec![
            (FLOOR, Class::Baseline, |z| {
                floor::ping_pong(z.ping_pong_messages / 2)
            }),
            ("coro_ct_slot", Class::Baseline, coro_ct_slot),
            (
                "coro_ct_slot_send_bound",
                Class::Baseline,
                coro_ct_slot_send_bound,
            ),
        ]
    }
    /// Messages per second, in millions.
    fn value(elapsed: Duration, elements: u64) -> f64 {
        elements as f64 / elapsed.as_secs_f64() / 1e6
    }
}

/// The floor's `ping_pong` (its atomic-free channel) on coro's
/// current-thread scheduler: what the scheduler adds to a task switch.
fn coro_ct_slot(z: &Sizes) -> u64 {
    coro_ct_on_slots(z, floor::Fences::None)
}

/// The same with the two locked instructions per message that any `Send`
/// channel needs: the most a `Send` channel could reach on coro's
/// current-thread scheduler.
fn coro_ct_slot_send_bound(z: &Sizes) -> u64 {
    coro_ct_on_slots(z, floor::Fences::SendBound)
}

fn coro_ct_on_slots(z: &Sizes, fences: floor::Fences) -> u64 {
    let rt = coro::Runtime::builder()
        .current_thread()
        .build()
        .expect("cannot build a coro runtime");
    let (echo, pinger) = floor::slot_ping_pong(z.ping_pong_messages / 2, fences);
    rt.block_on(async {
        let echo = coro::spawn_local(echo);
        coro::spawn_local(pinger).await.expect("pinger panicked");
        echo.await.expect("echo panicked");
    });
    z.ping_pong_messages / 2 * 2
}

struct ChainedSpawn;

impl Scenario for ChainedSpawn {
    const NAME: &'static str = "chained_spawn";
    const UNIT: &'static str = "ns/link";
    fn elements(z: &Sizes) -> u64 {
        z.chained_spawn_depth
    }
    async fn run<S: Spawner>(s: S, z: Sizes) {
        workloads::chained_spawn(s, z.chained_spawn_depth).await;
    }
    fn baselines() -> Vec<Contender> {
        vec![(FLOOR, Class::Baseline, |z| {
            floor::chained_spawn(z.chained_spawn_depth)
        })]
    }
}

/// One measurement of `Sc` on each runtime it visits.
struct OnRuntimes<'a, Sc> {
    sheet: &'a mut Sheet,
    z: Sizes,
    target: Duration,
    scenario: PhantomData<Sc>,
}

impl<Sc: Scenario> Visit for OnRuntimes<'_, Sc> {
    fn visit<R: Runner>(&mut self, rt: &R)
    where
        R::Spawner: Spawner,
    {
        let (elapsed, elements) = rt.run(timed::<Sc, _>(rt.spawner(), self.z, self.target));
        self.sheet.record(
            R::NAME,
            crate::class_of::<R>(),
            Sc::value(elapsed, elements),
        );
    }
}

/// `Sc` on every runtime (and its baselines), repetitions interleaved.
fn on_runtimes<Sc: Scenario>(opts: &Opts, z: Sizes, target: Duration) -> Vec<Row> {
    if !opts.selects(Sc::NAME) {
        return Vec::new();
    }
    let runtimes = Runtimes::start();
    let mut sheets = [Sheet::new(Sc::NAME, Sc::UNIT, Sc::HIGHER_IS_BETTER)];
    repeat(Sc::NAME, opts.reps, true, &mut sheets, |sheets| {
        let sheet = &mut sheets[0];
        runtimes.for_each(&mut OnRuntimes::<Sc> {
            sheet,
            z,
            target,
            scenario: PhantomData,
        });
        for (name, class, run) in Sc::baselines() {
            let (elapsed, elements) = timed_sync(target, || run(&z));
            sheet.record(name, class, Sc::value(elapsed, elements));
        }
    });
    let [sheet] = sheets;
    sheet.rows
}

// ---------------------------------------------------------------------------
// gen_resume: no runtime involved.
// ---------------------------------------------------------------------------

/// The producer/consumer lesson's consumer: sent a number, replies with its
/// double; `None` ends it.
fn doubler() -> Gen<u64, Option<u64>> {
    Gen::new(|co: Co<u64, Option<u64>>| async move {
        let mut r = 0;
        loop {
            let Some(n) = co.yield_(r).await else { return };
            r = n * 2;
        }
    })
}

/// The producer: `gen_resumes` resumes of a fresh consumer.
fn gen_resume(z: &Sizes) -> u64 {
    let mut consumer = doubler();
    consumer.resume(None);
    let mut sum = 0u64;
    for i in 0..z.gen_resumes {
        match consumer.resume(Some(i)) {
            GenState::Yielded(r) => sum = sum.wrapping_add(r),
            GenState::Complete(()) => unreachable!("the consumer ends only on None"),
        }
    }
    consumer.close();
    black_box(sum);
    z.gen_resumes
}

/// The same arithmetic without a generator.
fn plain_loop(z: &Sizes) -> u64 {
    let mut sum = 0u64;
    for i in 0..z.gen_resumes {
        sum = sum.wrapping_add(black_box(i) * 2);
    }
    black_box(sum);
    z.gen_resumes
}

fn gen_rows(opts: &Opts, z: Sizes, target: Duration) -> Vec<Row> {
    const NAME: &str = "gen_resume";
    if !opts.selects(NAME) {
        return Vec::new();
    }
    let mut sheets = [Sheet::new(NAME, "ns/resume", false)];
    let contenders: [Contender; 2] = [
        ("coro_gen", Class::CurrentThread, gen_resume),
        ("plain_loop", Class::Baseline, plain_loop),
    ];
    repeat(NAME, opts.reps, true, &mut sheets, |sheets| {
        for (name, class, run) in contenders {
            let (elapsed, elements) = timed_sync(target, || run(&z));
            sheets[0].record(name, class, ns_per(elapsed, elements));
        }
    });
    let [sheet] = sheets;
    sheet.rows
}

/// Every in-process scenario selected by `--only`.
pub fn rows(opts: &Opts) -> Vec<Row> {
    let z = Sizes::new(opts.quick);
    let target = if opts.quick { Duration::ZERO } else { TARGET };
    let mut rows = on_runtimes::<SpawnMany>(opts, z, target);
    rows.extend(on_runtimes::<YieldMany>(opts, z, target));
    rows.extend(on_runtimes::<PingPong>(opts, z, target));
    rows.extend(gen_rows(opts, z, target));
    rows.extend(on_runtimes::<ChainedSpawn>(opts, z, target));
    rows
}
