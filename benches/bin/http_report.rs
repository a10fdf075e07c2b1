//! The HTTP benchmark: the same hyper service (`http_bench_server`) on coro
//! multi-thread and current-thread, hyper on tokio (hyper-util's `TokioIo`)
//! multi-thread and current-thread, and hyper on smol (smol-hyper over
//! async-io), each server in its own process, loaded by real load
//! generators nobody here wrote: `wrk` for HTTP/1.1 and `h2load` for
//! HTTP/2 (Debian packages `wrk` and `nghttp2-client`, installed with
//! `apt-get` if missing). A sibling of `bench_report`, printed in the same
//! markdown table.
//!
//! ```text
//! cargo run --release -p coro-benches --bin http_report                              # ~6 min
//! cargo run --release -p coro-benches --bin http_report -- --reps 1 --seconds 1     # smoke run
//! cargo run --release -p coro-benches --bin http_report -- --markdown report.md
//! ```
//!
//! Loads, each for `--seconds` (5 by default):
//!
//! | scenario | load |
//! |---|---|
//! | `http1_hello_c50` | `wrk -t1 -c50 --latency`, `GET /` (`Hello, World!`) |
//! | `http1_hello_c500` | `wrk -t1 -c500 --latency`, `GET /` |
//! | `http1_echo4k_c50` | `wrk -t1 -c50 --latency`, `POST /echo` of 4 KiB (a wrk script) |
//! | `h2_hello_c50_m10` | `h2load -c50 -m10` (HTTP/2 prior knowledge, 10 streams per connection), `GET /` |
//!
//! Rows per scenario and server: requests/s, p50 and p99 latency (wrk's
//! `--latency` distribution; for h2load, computed from its per-request
//! `--log-file`), server CPU per request (utime + stime of the server
//! process over the load, from `/proc/PID/stat`, divided by the requests
//! the load generator completed), the load generator's own CPU per request
//! (shown, not ranked: it says when the client is the bottleneck) and errors (socket errors and non-2xx
//! answers; must be 0). Repetitions are interleaved as in `bench_report`:
//! each repetition visits every server once, in an order that rotates, so
//! a slow phase of the machine hits every server alike; the table shows
//! the median and coro's ratio to the best peer of its class.
//!
//! Multi-thread servers get 2 workers; the load generator gets one thread,
//! so on a 2-vCPU machine client and server share the CPUs as in the echo
//! benchmark.

#[path = "../../examples/common/args.rs"]
mod args;
#[path = "../../examples/common/debian.rs"]
mod debian;
#[path = "../common/proc.rs"]
mod proc;
#[path = "../common/table.rs"]
#[allow(dead_code)]
mod table;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use proc::{build_bins, Server};
use table::{Class, Metric, Row};

const USAGE: &str = "usage: http_report [--reps N (3)] [--seconds S (5)] [--markdown PATH]";

/// Server runtimes (`http_bench_server --runtime`) and their classes.
const SERVERS: [(&str, Class); 5] = [
    ("coro_mt", Class::MultiThread),
    ("tokio_mt", Class::MultiThread),
    ("smol_mt", Class::MultiThread),
    ("coro_ct", Class::CurrentThread),
    ("tokio_ct", Class::CurrentThread),
];

/// A load generator run.
#[derive(Clone, Copy)]
enum Load {
    /// wrk, HTTP/1.1: connections, and whether it POSTs 4 KiB to /echo.
    Wrk { connections: usize, echo: bool },
    /// h2load, HTTP/2 prior knowledge: connections and streams per connection.
    H2load { connections: usize, streams: usize },
}

const LOADS: [(&str, Load); 4] = [
    (
        "http1_hello_c50",
        Load::Wrk {
            connections: 50,
            echo: false,
        },
    ),
    (
        "http1_hello_c500",
        Load::Wrk {
            connections: 500,
            echo: false,
        },
    ),
    (
        "http1_echo4k_c50",
        Load::Wrk {
            connections: 50,
            echo: true,
        },
    ),
    (
        "h2_hello_c50_m10",
        Load::H2load {
            connections: 50,
            streams: 10,
        },
    ),
];

/// What one load on one server gave.
#[derive(Clone, Copy)]
struct Sample {
    requests_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_request: f64,
    /// The load generator's CPU per request: with one client thread, when
    /// `client_cpu_us_per_request × requests/s` reaches a full second per
    /// second, the client is the bottleneck and no server can go faster.
    client_cpu_us_per_request: f64,
    errors: f64,
}

fn main() {
    let args = args::Args::parse(USAGE);
    let reps: usize = args.get("reps", 3);
    let seconds: u64 = args.get("seconds", 5);
    let markdown: String = args.get("markdown", String::new());

    for (tool, package) in [("wrk", "wrk"), ("h2load", "nghttp2-client")] {
        if let Err(error) = debian::ensure_tool(tool, package) {
            eprintln!("http_report: {error}");
            std::process::exit(1);
        }
    }
    let Some([server_bin]) = build_bins(["http_bench_server"], "http") else {
        std::process::exit(1);
    };
    let work = std::env::temp_dir().join(format!("coro-http-report-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("temp dir");
    let post_script = work.join("post4k.lua");
    std::fs::write(
        &post_script,
        "wrk.method = \"POST\"\nwrk.body = string.rep(\"x\", 4096)\n\
         wrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n",
    )
    .expect("write the wrk script");

    let mut samples: HashMap<(usize, usize), Vec<Sample>> = HashMap::new();
    for rep in 0..reps {
        for k in 0..SERVERS.len() {
            let s = (k + rep) % SERVERS.len();
            let runtime = SERVERS[s].0;
            eprintln!("http: repetition {}/{reps}, {runtime}", rep + 1);
            let server = match Server::start(&server_bin, runtime) {
                Ok(server) => server,
                Err(e) => {
                    eprintln!("http: {runtime}: {e}");
                    continue;
                }
            };
            for (l, &(name, load)) in LOADS.iter().enumerate() {
                match run(&server, load, seconds, &post_script, &work) {
                    Ok(sample) => samples.entry((s, l)).or_default().push(sample),
                    Err(e) => eprintln!("http: {runtime}, {name}: {e}"),
                }
            }
            server.stop();
        }
    }
    let _ = std::fs::remove_dir_all(&work);

    let rows = to_rows(&samples);
    let report = format!(
        "HTTP: `cargo run --release -p coro-benches --bin http_report -- --reps {reps} --seconds {seconds}` \
         ({} s per load, medians of {reps} interleaved repetitions)\n\n{}",
        seconds,
        table::markdown(&rows)
    );
    println!("{report}");
    if !markdown.is_empty() {
        let path = markdown;
        std::fs::write(&path, &report).unwrap_or_else(|e| panic!("{path}: {e}"));
        eprintln!("http: wrote {path}");
    }
}

/// Runs `load` against `server` for `seconds`, reading the server's CPU
/// time before and after.
fn run(
    server: &Server,
    load: Load,
    seconds: u64,
    post_script: &Path,
    work: &Path,
) -> Result<Sample, String> {
    let cpu_before = server.proc.cpu_ticks()?;
    let client_before = children_cpu_us();
    let (requests, secs, p50_us, p99_us, errors) = match load {
        Load::Wrk { connections, echo } => {
            let mut wrk = Command::new("wrk");
            wrk.args(["-t1", "--latency", "--timeout", "10s"])
                .arg(format!("-c{connections}"))
                .arg(format!("-d{seconds}s"));
            let url = if echo {
                wrk.arg("-s").arg(post_script);
                format!("http://{}/echo", server.addr)
            } else {
                format!("http://{}/", server.addr)
            };
            parse_wrk(&output(wrk.arg(url))?)?
        }
        Load::H2load {
            connections,
            streams,
        } => {
            let log = work.join("h2load.log");
            let mut h2load = Command::new("h2load");
            h2load
                .arg(format!("-c{connections}"))
                .arg(format!("-m{streams}"))
                .arg(format!("-D{seconds}"))
                .arg(format!("--log-file={}", log.display()))
                .arg(format!("http://{}/", server.addr));
            let out = output(&mut h2load)?;
            let result = parse_h2load(&out, &std::fs::read_to_string(&log).unwrap_or_default());
            let _ = std::fs::remove_file(&log);
            result?
        }
    };
    let cpu_ticks = server.proc.cpu_ticks()? - cpu_before;
    let client_us = children_cpu_us() - client_before;
    // SAFETY: `sysconf` has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    if requests == 0.0 {
        return Err("no request completed".to_owned());
    }
    Ok(Sample {
        requests_per_s: requests / secs,
        p50_us,
        p99_us,
        cpu_us_per_request: cpu_ticks as f64 / ticks_per_s * 1e6 / requests,
        client_cpu_us_per_request: client_us / requests,
        errors,
    })
}

/// CPU time (user + system, µs) of every child process this one has
/// reaped: read around a load generator's run, its CPU time (the servers
/// are reaped only when they stop).
fn children_cpu_us() -> f64 {
    // SAFETY: an all-zero `rusage` is a valid value to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0;
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    if ok {
        us(usage.ru_utime) + us(usage.ru_stime)
    } else {
        f64::NAN
    }
}

/// Runs `command`, returning its stdout; an error with its stderr if it
/// failed.
fn output(command: &mut Command) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed ({}): {}",
            command.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// wrk's report: requests and seconds (`N requests in 5.00s`), the 50 %
/// and 99 % latencies of `--latency`, and errors (socket errors plus
/// non-2xx/3xx answers).
fn parse_wrk(out: &str) -> Result<(f64, f64, f64, f64, f64), String> {
    let bad = || format!("unexpected wrk output:\n{out}");
    let mut requests_secs = None;
    let (mut p50, mut p99, mut errors) = (None, None, 0.0);
    for line in out.lines().map(str::trim) {
        if let Some((n, rest)) = line.split_once(" requests in ") {
            let secs = rest
                .split(',')
                .next()
                .and_then(duration_us)
                .ok_or_else(bad)?;
            requests_secs = Some((n.parse::<f64>().map_err(|_| bad())?, secs / 1e6));
        } else if let Some(v) = line.strip_prefix("50%") {
            p50 = duration_us(v.trim());
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = duration_us(v.trim());
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<f64>().map_err(|_| bad())?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in v.split(',') {
                let n = part.split_whitespace().nth(1).ok_or_else(bad)?;
                errors += n.parse::<f64>().map_err(|_| bad())?;
            }
        }
    }
    let (requests, secs) = requests_secs.ok_or_else(bad)?;
    Ok((
        requests,
        secs,
        p50.ok_or_else(bad)?,
        p99.ok_or_else(bad)?,
        errors,
    ))
}

/// wrk's durations (`438.00us`, `9.15ms`, `1.02s`, `5.00s`) in µs.
fn duration_us(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60e6)
    } else {
        (text.strip_suffix('s')?, 1e6)
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}

/// h2load's summary (`finished in 5.00s, 19836.00 req/s, ...` and
/// `requests: ... N succeeded, N failed, N errored, N timeout`) and its
/// per-request log (start µs, status, duration µs, tab-separated).
fn parse_h2load(out: &str, log: &str) -> Result<(f64, f64, f64, f64, f64), String> {
    let bad = || format!("unexpected h2load output:\n{out}");
    let secs = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("finished in "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|d| duration_us(d.trim()))
        .ok_or_else(bad)?
        / 1e6;
    let counts = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("requests: "))
        .ok_or_else(bad)?;
    let count = |what: &str| -> Result<f64, String> {
        counts
            .split(',')
            .find_map(|part| part.trim().strip_suffix(what))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(bad)
    };
    let succeeded = count(" succeeded")?;
    let errors = count(" failed")? + count(" errored")? + count(" timeout")?;
    let mut durations: Vec<f64> = log
        .lines()
        .filter_map(|l| l.split('\t').nth(2)?.trim().parse().ok())
        .collect();
    if durations.is_empty() {
        return Err(format!("h2load wrote no per-request log\n{out}"));
    }
    durations.sort_by(f64::total_cmp);
    let quantile = |q: f64| durations[((durations.len() - 1) as f64 * q).round() as usize];
    Ok((succeeded, secs, quantile(0.50), quantile(0.99), errors))
}

/// The rows, grouped by load and metric, servers in `SERVERS` order.
fn to_rows(samples: &HashMap<(usize, usize), Vec<Sample>>) -> Vec<Row> {
    let metrics: [Metric<Sample>; 6] = [
        ("requests/s", "requests/s", true, true, |s| s.requests_per_s),
        ("p50 µs", "µs", false, true, |s| s.p50_us),
        ("p99 µs", "µs", false, true, |s| s.p99_us),
        ("server CPU µs/request", "µs", false, true, |s| {
            s.cpu_us_per_request
        }),
        // The load generator's cost, shown beside each server, not ranked.
        ("client CPU µs/request", "µs", false, false, |s| {
            s.client_cpu_us_per_request
        }),
        ("errors", "count", false, true, |s| s.errors),
    ];
    let names = LOADS.map(|(name, _)| name);
    table::load_rows(samples, &names, &SERVERS, &metrics)
}
