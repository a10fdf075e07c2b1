//! Memory scenarios, each measurement in a fresh process.
//!
//! Peak RSS (`VmHWM` in `/proc/self/status`) cannot be reset, so the report
//! re-executes itself (`std::env::current_exe()`) as
//! `--child SCENARIO RUNTIME [--quick]` for every measurement; the child
//! builds one runtime, runs the scenario, prints one line of numbers on
//! stdout and exits with `std::process::exit` (no teardown of a million
//! tasks). The parent runs the children one at a time, runtimes interleaved
//! within each repetition.
//!
//! | scenario      | what the child does (full size)                                | rows |
//! |---------------|----------------------------------------------------------------|------|
//! | `timers_1m`   | spawns 1_000_000 tasks, each sleeping a pseudo-random 0..1000 ms (the same xorshift sequence for every runtime, its timer created when the task is spawned), waits until all finished | `timers_1m overshoot`: wall time − the longest sleep, ms; `timers_1m peak RSS`: `VmHWM`, MiB |
//! | `idle_memory` | `VmRSS` before, then spawns 1_000_000 tasks parked forever on `std::future::pending()`, waits (yielding) until every one has been polled once, `VmRSS` after | `idle_memory`: (after − before) / tasks, bytes/task |
//!
//! Baselines (the physical limit), in fresh processes too:
//!
//! | baseline        | scenario      | what the child does |
//! |-----------------|---------------|---------------------|
//! | `heap_sleep`    | `timers_1m`   | the same 1_000_000 deadlines in a `BinaryHeap`; one thread sleeps until each in turn: no tasks, no wakers |
//! | `boxed_pending` | `idle_memory` | the same 1_000_000 futures boxed, polled once with a no-op waker and kept in a `Vec`: no task, no scheduler |
//!
//! Tasks are detached and count down (or up) a static counter instead of
//! being awaited through a million join handles, so the numbers are the
//! runtime's cost per task and timer, not a `Vec` of handles.
//! `--quick`: 100_000 tasks, and timers of 0..200 ms.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use crate::compute::{repeat, Sheet};
use crate::table::{Class, Row};
use crate::{progress, with_runtime, Opts, Runner, Spawner, Visit, RUNTIMES};

const TIMERS: &str = "timers_1m";
const IDLE: &str = "idle_memory";
/// The baseline of each scenario (see the module docs).
const TIMERS_BASELINE: &str = "heap_sleep";
const IDLE_BASELINE: &str = "boxed_pending";

/// A child that has not answered after this long is killed.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// The sizes of one child's run.
#[derive(Clone, Copy)]
struct Sizes {
    tasks: u64,
    max_sleep_us: u64,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                tasks: 100_000,
                max_sleep_us: 200_000,
            }
        } else {
            Sizes {
                tasks: 1_000_000,
                max_sleep_us: 1_000_000,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Parent: one child per measurement.
// ---------------------------------------------------------------------------

fn class_of(runtime: &str) -> Class {
    if runtime == TIMERS_BASELINE || runtime == IDLE_BASELINE {
        Class::Baseline
    } else if runtime.ends_with("_mt") {
        Class::MultiThread
    } else {
        Class::CurrentThread
    }
}

/// Runs `--child scenario runtime` and parses its line of numbers.
fn run_child(scenario: &str, runtime: &str, quick: bool) -> Result<Vec<f64>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(["--child", scenario, runtime]);
    if quick {
        cmd.arg("--quick");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(|e| format!("wait: {e}"))? {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                // Our own child, by its id.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer after {CHILD_TIMEOUT:?}; killed"));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(|e| format!("read: {e}"))?;
    }
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let line = stdout.lines().last().unwrap_or_default();
    line.split_whitespace()
        .map(|v| v.parse::<f64>().map_err(|e| format!("{line:?}: {e}")))
        .collect()
}

/// Every memory scenario selected by `--only`, `opts.mem_reps` fresh
/// processes per runtime.
pub fn rows(opts: &Opts) -> Vec<Row> {
    let mut rows = Vec::new();
    for scenario in [TIMERS, IDLE] {
        if !opts.selects(scenario) {
            continue;
        }
        let (mut sheets, baseline) = if scenario == TIMERS {
            let sheets = vec![
                Sheet::new(&format!("{TIMERS} overshoot"), "ms", false),
                Sheet::new(&format!("{TIMERS} peak RSS"), "MiB", false),
            ];
            (sheets, TIMERS_BASELINE)
        } else {
            (vec![Sheet::new(IDLE, "bytes/task", false)], IDLE_BASELINE)
        };
        repeat(scenario, opts.mem_reps, false, &mut sheets, |sheets| {
            for runtime in RUNTIMES.into_iter().chain([baseline]) {
                match run_child(scenario, runtime, opts.quick) {
                    Ok(values) if values.len() == sheets.len() => {
                        for (sheet, value) in sheets.iter_mut().zip(values) {
                            sheet.record(runtime, class_of(runtime), value);
                        }
                    }
                    Ok(values) => progress(&format!(
                        "WARNING: {scenario} {runtime}: expected {} numbers, got {values:?}",
                        sheets.len()
                    )),
                    Err(e) => progress(&format!("WARNING: {scenario} {runtime}: {e}")),
                }
            }
        });
        rows.extend(sheets.into_iter().flat_map(|s| s.rows));
    }
    rows
}

// ---------------------------------------------------------------------------
// Child: one scenario on one runtime, then exit.
// ---------------------------------------------------------------------------

/// A field of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
fn status_bytes(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    kib * 1024.0
}

/// One step of a deterministic xorshift64 generator.
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// `timers_1m`: tasks still sleeping.
static LEFT: AtomicU64 = AtomicU64::new(0);
/// `timers_1m`: the last task to wake signals here.
static DONE: OnceLock<async_channel::Sender<()>> = OnceLock::new();
/// `idle_memory`: tasks polled at least once.
static STARTED: AtomicU64 = AtomicU64::new(0);

/// `timers_1m`: the wall time, and the longest sleep drawn.
async fn timers<S: Spawner>(s: S, z: Sizes) -> (Duration, Duration) {
    let (done_tx, done_rx) = async_channel::bounded(1);
    DONE.set(done_tx).expect("timers runs once per process");
    LEFT.store(z.tasks, Ordering::SeqCst);
    let mut rng = 0x9E37_79B9_7F4A_7C15;
    let mut longest = 0;
    let start = Instant::now();
    for _ in 0..z.tasks {
        let micros = xorshift(&mut rng) % z.max_sleep_us;
        longest = longest.max(micros);
        let sleep = S::sleep(Duration::from_micros(micros));
        s.spawn_detached(async move {
            sleep.await;
            if LEFT.fetch_sub(1, Ordering::AcqRel) == 1 {
                DONE.get()
                    .expect("set above")
                    .try_send(())
                    .expect("main gone");
            }
        });
    }
    done_rx.recv().await.expect("timer tasks gone");
    (start.elapsed(), Duration::from_micros(longest))
}

/// `idle_memory`: bytes of RSS per parked task.
async fn idle<S: Spawner>(s: S, z: Sizes) -> f64 {
    let before = status_bytes("VmRSS");
    for _ in 0..z.tasks {
        s.spawn_detached(async {
            STARTED.fetch_add(1, Ordering::Relaxed);
            std::future::pending::<()>().await
        });
    }
    while STARTED.load(Ordering::Relaxed) < z.tasks {
        S::yield_now().await;
    }
    let after = status_bytes("VmRSS");
    (after - before) / z.tasks as f64
}

struct Child<'a> {
    scenario: &'a str,
    z: Sizes,
}

impl Visit for Child<'_> {
    fn visit<R: Runner>(&mut self, rt: &R)
    where
        R::Spawner: Spawner,
    {
        let line = match self.scenario {
            TIMERS => {
                let (wall, longest) = rt.run(timers(rt.spawner(), self.z));
                timers_line(wall, longest)
            }
            IDLE => format!("{:.1}", rt.run(idle(rt.spawner(), self.z))),
            other => {
                eprintln!("unknown memory scenario {other:?}");
                std::process::exit(2)
            }
        };
        answer(&line)
    }
}

/// `timers_1m` without a runtime: the wall time and the longest sleep.
fn heap_sleep(z: Sizes) -> (Duration, Duration) {
    let mut rng = 0x9E37_79B9_7F4A_7C15;
    let mut longest = 0;
    let start = Instant::now();
    let mut deadlines = BinaryHeap::with_capacity(z.tasks as usize);
    for _ in 0..z.tasks {
        let micros = xorshift(&mut rng) % z.max_sleep_us;
        longest = longest.max(micros);
        deadlines.push(Reverse(Instant::now() + Duration::from_micros(micros)));
    }
    while let Some(Reverse(deadline)) = deadlines.pop() {
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
    (start.elapsed(), Duration::from_micros(longest))
}

/// `idle_memory` without a runtime: bytes of RSS per boxed, parked future.
fn boxed_pending(z: Sizes) -> f64 {
    let before = status_bytes("VmRSS");
    let mut cx = Context::from_waker(Waker::noop());
    let mut parked: Vec<Pin<Box<dyn Future<Output = ()>>>> = Vec::with_capacity(z.tasks as usize);
    for _ in 0..z.tasks {
        let mut future: Pin<Box<dyn Future<Output = ()>>> = Box::pin(async {
            STARTED.fetch_add(1, Ordering::Relaxed);
            std::future::pending::<()>().await
        });
        assert!(future.as_mut().poll(&mut cx).is_pending());
        parked.push(future);
    }
    assert_eq!(STARTED.load(Ordering::Relaxed), z.tasks);
    let after = status_bytes("VmRSS");
    std::hint::black_box(&parked);
    (after - before) / z.tasks as f64
}

/// Prints a child's line of numbers and exits without dropping anything.
fn answer(line: &str) -> ! {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .ok();
    // Skip dropping the runtime and its million tasks.
    std::process::exit(0)
}

/// The `timers_1m` line: overshoot in ms, then peak RSS in MiB.
fn timers_line(wall: Duration, longest: Duration) -> String {
    let overshoot_ms = (wall.as_secs_f64() - longest.as_secs_f64()) * 1e3;
    let peak_mib = status_bytes("VmHWM") / (1024.0 * 1024.0);
    format!("{overshoot_ms:.3} {peak_mib:.3}")
}

/// `--child SCENARIO RUNTIME [--quick]`: one measurement, one line on stdout.
pub fn child(scenario: &str, runtime: &str, quick: bool) -> ! {
    let z = Sizes::new(quick);
    match (scenario, runtime) {
        (TIMERS, TIMERS_BASELINE) => {
            let (wall, longest) = heap_sleep(z);
            answer(&timers_line(wall, longest))
        }
        (IDLE, IDLE_BASELINE) => answer(&format!("{:.1}", boxed_pending(z))),
        _ => {}
    }
    let mut child = Child { scenario, z };
    if !with_runtime(runtime, &mut child) {
        eprintln!("unknown runtime {runtime:?}; one of {RUNTIMES:?}");
    }
    std::process::exit(2)
}
