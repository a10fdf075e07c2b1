//! The benchmark report: coro against tokio and smol (async-executor +
//! async-io) on every scenario, in one run, printed as a markdown table.
//!
//! ```text
//! cargo run --release -p coro-benches --bin bench_report                    # everything, ≤ 5 min
//! cargo run --release -p coro-benches --bin bench_report -- --quick --reps 1 # smoke run, ~30 s
//! cargo run --release -p coro-benches --bin bench_report -- --only ping_pong --reps 9
//! cargo run --release -p coro-benches --bin bench_report -- --no-echo --markdown report.md
//! ```
//!
//! Runtimes, and the class each is ranked in (`table::Class`):
//!
//! | runtime      | class         | what                                                     |
//! |--------------|---------------|----------------------------------------------------------|
//! | `coro_mt`    | MultiThread   | coro multi-thread scheduler, 2 workers                   |
//! | `tokio_mt`   | MultiThread   | tokio multi-thread scheduler, 2 workers, `enable_all`    |
//! | `smol_mt`    | MultiThread   | `async_executor::Executor` run by 2 threads (`async_io::block_on`) |
//! | `coro_ct`    | CurrentThread | coro current-thread scheduler                            |
//! | `tokio_ct`   | CurrentThread | tokio current-thread scheduler, `enable_all`             |
//! | `smol_local` | CurrentThread | `async_executor::LocalExecutor` + `async_io::block_on`   |
//! | baselines    | Baseline      | the physical limit (`box_pin_poll`, `async_task_floor`, `plain_loop`, and the raw `polling` echo server) |
//!
//! As in `benches/`, every scenario is written once, generic over a
//! [`Spawner`] (what a task needs from its runtime), and driven by a
//! [`Runner`] (how to run a future on a runtime). On the multi-thread
//! runtimes the measured body runs as a *task* on a worker, so all work is
//! done by the 2 workers and every spawn happens from inside the runtime.
//!
//! Repetitions are interleaved: repetition 1 measures every runtime, then
//! repetition 2 measures every runtime, and so on, so a slow phase of the
//! machine (the other core busy) hits all runtimes alike. The table shows the
//! median, the min–max over the repetitions and, on coro's rows, coro's
//! median over the best peer of its class (below 1.0: coro wins).
//!
//! * `compute.rs`: in-process scenarios, wall time (`spawn_many`,
//!   `yield_many`, `ping_pong`, `gen_resume`, `chained_spawn`);
//! * `memory.rs`: one fresh process per measurement, peak/current RSS from
//!   `/proc/self/status` (`timers_1m`, `idle_memory`);
//! * `echo.rs`: the TCP echo scenarios.

mod compute;
mod echo;
mod memory;
#[path = "../../common/proc.rs"]
mod proc;
#[path = "../../common/table.rs"]
mod table;

use std::future::Future;
use std::sync::OnceLock;
use std::thread;
use std::time::Instant;

use table::Class;

const USAGE: &str = "usage: bench_report [--reps N (5)] [--mem-reps N (= reps)] [--quick] \
[--only SUBSTRING] [--markdown PATH] [--no-echo]";

// ---------------------------------------------------------------------------
// Options and progress.
// ---------------------------------------------------------------------------

/// The command line.
pub struct Opts {
    /// Repetitions of every in-process measurement (and of echo).
    pub reps: usize,
    /// Repetitions (fresh processes) of every memory measurement.
    pub mem_reps: usize,
    /// Smaller sizes, for a smoke run.
    pub quick: bool,
    /// Only scenarios whose name contains this.
    pub only: Option<String>,
    /// Also write the report here.
    pub markdown: Option<String>,
    /// Skip the TCP echo scenarios.
    pub no_echo: bool,
}

impl Opts {
    fn parse(args: &[String]) -> Opts {
        fn bad(msg: &str) -> ! {
            eprintln!("{msg}\n{USAGE}");
            std::process::exit(2)
        }
        let mut opts = Opts {
            reps: 5,
            mem_reps: 0,
            quick: false,
            only: None,
            markdown: None,
            no_echo: false,
        };
        let mut it = args.iter();
        let value = |name: &str, it: &mut std::slice::Iter<'_, String>| -> String {
            it.next()
                .cloned()
                .unwrap_or_else(|| bad(&format!("{name} needs a value")))
        };
        let number = |name: &str, v: String| -> usize {
            match v.parse() {
                Ok(n) if n > 0 => n,
                _ => bad(&format!("{name}: expected a positive number, got {v:?}")),
            }
        };
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--reps" => opts.reps = number(arg, value(arg, &mut it)),
                "--mem-reps" => opts.mem_reps = number(arg, value(arg, &mut it)),
                "--quick" => opts.quick = true,
                "--no-echo" => opts.no_echo = true,
                "--only" => opts.only = Some(value(arg, &mut it)),
                "--markdown" => opts.markdown = Some(value(arg, &mut it)),
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0)
                }
                other => bad(&format!("unknown argument {other:?}")),
            }
        }
        if opts.mem_reps == 0 {
            opts.mem_reps = opts.reps;
        }
        opts
    }

    /// Whether `--only` selects the scenario `name`.
    pub fn selects(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|only| name.contains(only))
    }
}

static START: OnceLock<Instant> = OnceLock::new();

/// A progress line on stderr, stamped with the seconds since the start.
pub fn progress(msg: &str) {
    let secs = START.get_or_init(Instant::now).elapsed().as_secs();
    eprintln!("[{secs:>3} s] {msg}");
}

// ---------------------------------------------------------------------------
// Runtimes: what a scenario needs from one (`Spawner`), how to run a future
// on one (`Runner`), and the list of them (`Visit`, `for_each_runtime`).
// ---------------------------------------------------------------------------

/// The smallest executor on async-task: the baseline of task switches.
#[path = "../../common/floor.rs"]
mod floor;
/// The runtimes and what a scenario does on them (shared with
/// `benches/net.rs`).
#[path = "../../common/runtimes.rs"]
mod runtimes;
#[path = "../../common/workloads.rs"]
mod workloads;
pub use runtimes::{CoroRt, Runner, SendFut, SmolLocal, SmolMt, Task, TokioRt};

/// A runtime's own bounded channel of `u64`s (both ends of one direction).
pub trait Chan: Send + 'static {
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()> + Send;
    /// `None` once every sender is gone.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send;
}

macro_rules! chan {
    ($name:ident, $($ch:ident)::+, |$r:ident| $recv_ok:expr) => {
        pub struct $name;
        impl Chan for $name {
            type Tx = $($ch)::+::Sender<u64>;
            type Rx = $($ch)::+::Receiver<u64>;
            fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
                chan!(@new $($ch)::+, capacity)
            }
            async fn send(tx: &Self::Tx, value: u64) {
                tx.send(value).await.expect("channel receiver gone");
            }
            async fn recv(rx: &mut Self::Rx) -> Option<u64> {
                let $r = rx.recv().await;
                $recv_ok
            }
        }
    };
    (@new async_channel, $cap:expr) => { async_channel::bounded($cap) };
    (@new $($ch:ident)::+, $cap:expr) => { $($ch)::+::channel($cap) };
}

chan!(CoroChan, coro::sync::mpsc, |r| r);
chan!(TokioChan, tokio::sync::mpsc, |r| r);
chan!(SmolChan, async_channel, |r| r.ok());

/// What a scenario needs from a runtime here: the shared task and timer
/// operations, plus the runtime's native channel.
pub trait Spawner: runtimes::Spawner {
    type Chan: Chan;
}

impl Spawner for runtimes::Coro {
    type Chan = CoroChan;
}

impl Spawner for runtimes::Tokio {
    type Chan = TokioChan;
}

impl Spawner for runtimes::Smol {
    type Chan = SmolChan;
}

/// The table class a runtime is ranked in.
pub fn class_of<R: Runner>() -> Class {
    if R::MULTI_THREAD {
        Class::MultiThread
    } else {
        Class::CurrentThread
    }
}

/// Something to do with each runtime (a scenario's measurement).
pub trait Visit {
    fn visit<R: Runner>(&mut self, rt: &R)
    where
        R::Spawner: Spawner;
}

/// Every runtime, in table order: the multi-thread ones, then the
/// current-thread ones.
pub const RUNTIMES: [&str; 6] = [
    "coro_mt",
    "tokio_mt",
    "smol_mt",
    "coro_ct",
    "tokio_ct",
    "smol_local",
];

/// Builds the runtime called `name`, hands it to `v`, drops it. False if
/// there is no such runtime.
pub fn with_runtime(name: &str, v: &mut impl Visit) -> bool {
    match name {
        "coro_mt" => v.visit(&CoroRt::<true>::new()),
        "tokio_mt" => v.visit(&TokioRt::<true>::new()),
        "smol_mt" => v.visit(&SmolMt::new()),
        "coro_ct" => v.visit(&CoroRt::<false>::new()),
        "tokio_ct" => v.visit(&TokioRt::<false>::new()),
        "smol_local" => v.visit(&SmolLocal::new()),
        _ => return false,
    }
    true
}

/// All six runtimes, alive at once (idle ones park their threads), so a
/// scenario builds each once and then interleaves them rep by rep.
pub struct Runtimes {
    coro_mt: CoroRt<true>,
    tokio_mt: TokioRt<true>,
    smol_mt: SmolMt,
    coro_ct: CoroRt<false>,
    tokio_ct: TokioRt<false>,
    smol_local: SmolLocal,
}

impl Runtimes {
    pub fn start() -> Runtimes {
        Runtimes {
            coro_mt: Runner::new(),
            tokio_mt: Runner::new(),
            smol_mt: Runner::new(),
            coro_ct: Runner::new(),
            tokio_ct: Runner::new(),
            smol_local: Runner::new(),
        }
    }

    /// Hands every runtime to `v`, in [`RUNTIMES`] order.
    pub fn for_each(&self, v: &mut impl Visit) {
        v.visit(&self.coro_mt);
        v.visit(&self.tokio_mt);
        v.visit(&self.smol_mt);
        v.visit(&self.coro_ct);
        v.visit(&self.tokio_ct);
        v.visit(&self.smol_local);
    }
}

// ---------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------

/// `nproc`, the CPU model, the date and the command, for the report's header.
fn header(opts: &Opts, args: &[String]) -> String {
    let nproc = thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|d| d.trim().to_owned())
        .unwrap_or_else(|| "unknown date".to_owned());
    // `cargo run` sets `CARGO` for the program it runs.
    let mut command = match std::env::var_os("CARGO") {
        Some(_) if cfg!(debug_assertions) => {
            "cargo run -p coro-benches --bin bench_report".to_owned()
        }
        Some(_) => "cargo run --release -p coro-benches --bin bench_report".to_owned(),
        None => std::env::args().next().unwrap_or_default(),
    };
    if !args.is_empty() {
        command.push_str(if command.starts_with("cargo") {
            " -- "
        } else {
            " "
        });
        command.push_str(&args.join(" "));
    }
    let mut out = format!(
        "machine: nproc {nproc}, {cpu} · date: {date} · command: `{command}`\n\n\
         reps: {} (interleaved: each repetition runs every runtime); memory scenarios: {} \
         fresh processes per runtime",
        opts.reps, opts.mem_reps
    );
    if opts.mem_reps < opts.reps {
        out.push_str(" (fewer reps, to stay within the time budget)");
    }
    if opts.quick {
        out.push_str(" · --quick: SMALLER SIZES than the scenario names say");
    }
    if cfg!(debug_assertions) {
        out.push_str(" · DEBUG BUILD: the numbers mean nothing");
    }
    out.push('\n');
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let (scenario, runtime) = match (args.get(1), args.get(2)) {
            (Some(s), Some(r)) => (s.as_str(), r.as_str()),
            _ => {
                eprintln!("--child needs SCENARIO RUNTIME");
                std::process::exit(2)
            }
        };
        memory::child(scenario, runtime, args.iter().any(|a| a == "--quick"));
    }
    START.get_or_init(Instant::now);
    let opts = Opts::parse(&args);

    let mut rows = compute::rows(&opts);
    rows.extend(memory::rows(&opts));
    let echo_selected = opts
        .only
        .as_deref()
        .is_none_or(|only| only.contains("echo") || "tcp_echo".contains(only));
    if !opts.no_echo && echo_selected {
        progress("tcp echo scenarios");
        rows.extend(
            echo::rows(opts.reps, opts.quick)
                .into_iter()
                .filter(|r| opts.selects(&r.scenario)),
        );
    }

    let report = format!("{}\n{}", header(&opts, &args), table::markdown(&rows));
    progress("done");
    print!("{report}");
    if let Some(path) = &opts.markdown {
        if let Err(e) = write_report(path, &report) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes the report to `path`. If the file already has a
/// `<!-- report:start -->` … `<!-- report:end -->` section (as
/// docs/benchmarks.md does), only that section is replaced, so the prose
/// around the table survives regeneration.
fn write_report(path: &str, report: &str) -> std::io::Result<()> {
    const START: &str = "<!-- report:start -->";
    const END: &str = "<!-- report:end -->";
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let text = match (existing.find(START), existing.find(END)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{START}\n{report}{}",
            &existing[..start],
            &existing[end..]
        ),
        _ => report.to_owned(),
    };
    std::fs::write(path, text)
}
