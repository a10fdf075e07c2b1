//! The TCP echo scenarios: every server runtime in its own process
//! (`echo_bench_server`), loaded by one separate client process
//! (`load_client`, plain threads + `polling`, the same for every server), on
//! loopback.
//!
//! For each repetition, each server runtime in turn (the order rotates by
//! one every repetition) is started once and then loaded with 1, 10, 500
//! and 10_000 connections, one after the other; each connection does closed-loop
//! round trips of 64 bytes for the window. The client opens its connections,
//! prints `ready` and waits; the server's CPU time (utime + stime of the whole
//! process from `/proc/<pid>/stat`, clock ticks divided by
//! `sysconf(_SC_CLK_TCK)`) is read, the window runs, the client prints `end`
//! and waits again, and the CPU time is read a second time. So the server's
//! CPU covers the window only: not its start-up, the connects nor the
//! closes. Resolution: a tick (10 ms at 100 Hz) per reading, under 1% of
//! a 2 s window at 500 connections.
//!
//! Reading `tcp_echo_1`: one connection is one chain of wake-ups. When the
//! client and the server's thread run on different (virtual) CPUs, every
//! hop wakes an idle CPU; on the 2-vCPU VM this was written on that costs
//! ~40 µs each way, so the round trip is ~80 µs whatever the server, and
//! results jump between ~5 µs and ~80 µs with the OS's placement.
//!
//! Budget: 9 servers × 4 loads × `WINDOW` 2 s × at most `MAX_REPS` 3
//! repetitions = 216 s of windows; with the connects (~0.5 s for 10_000),
//! process starts and the build check, one repetition takes ~85 s, so
//! ~4.5 min by default. Three, not two: the
//! p99 rows move by ±15 % between repetitions for every server, and a
//! median of three is one repetition, not the mean of two. `--quick`: 1 s
//! windows, ~25 s per repetition.
//!
//! Rows (class by server runtime; `raw_polling`, a single-threaded server
//! written on `polling` with no futures, is the baseline, and `raw_busy`,
//! the same server never sleeping in `epoll_wait`, the latency floor: no
//! server answers one connection of this client faster than a thread that
//! is always awake):
//! `tcp_echo_{n} round trips/s`, `tcp_echo_{n} p50 µs`, `tcp_echo_{n} p99 µs`,
//! `tcp_echo_{n} server CPU µs/round trip`, `tcp_echo_{n} client CPU µs/round
//! trip` (the load client's, not ranked: with the server's it is what the
//! machine's two cores spend per round trip, so `2 s / (client + server)`
//! bounds round trips/s for any server), `tcp_echo_{n} errors` (must be 0).
//!
//! Without `--quick` it also draws `docs/echo_latency.svg`: the CDF of every
//! round trip's latency at 500 connections (first repetition) for coro_mt,
//! tokio_mt, smol_mt and raw_polling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::proc::{build_bins, Proc, Server};
use crate::table::{self, Class, Metric, Row};

/// Server runtimes (`echo_bench_server --runtime`) and their classes.
const SERVERS: [(&str, Class); 9] = [
    ("coro_mt", Class::MultiThread),
    ("coro_tpc", Class::MultiThread),
    ("tokio_mt", Class::MultiThread),
    ("smol_mt", Class::MultiThread),
    ("coro_ct", Class::CurrentThread),
    ("tokio_ct", Class::CurrentThread),
    ("smol_local", Class::CurrentThread),
    ("raw_polling", Class::Baseline),
    ("raw_busy", Class::Baseline),
];
/// Concurrent connections of each load.
const CONNECTIONS: [usize; 4] = [1, 10, 500, 10_000];
/// The load window, and in `--quick` mode.
const WINDOW: f64 = 2.0;
const QUICK_WINDOW: f64 = 1.0;
/// Echo repetitions are capped to stay inside the report's time budget.
const MAX_REPS: usize = 3;
/// Bytes per message.
const SIZE: usize = 64;
/// File descriptors a process needs beyond one per connection.
const FD_SPARE: usize = 100;
/// The plot: these runtimes, at this load.
const PLOTTED: [&str; 4] = ["coro_mt", "tokio_mt", "smol_mt", "raw_polling"];
const PLOT_CONNECTIONS: usize = 500;

/// One load on one server.
struct Sample {
    round_trips_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_round_trip: f64,
    /// The load client's CPU over the same window: with the server's, what
    /// the two cores of the machine spend per round trip, and so the
    /// ceiling on round trips/s that no server can lift above.
    client_cpu_us_per_round_trip: f64,
    errors: f64,
}

pub fn rows(reps: usize, quick: bool) -> Vec<Row> {
    let Some((server_bin, client_bin)) = binaries() else {
        return Vec::new();
    };
    let reps = reps.clamp(1, MAX_REPS);
    let window = if quick { QUICK_WINDOW } else { WINDOW };
    let loads = loads();
    let plot_dir = std::env::temp_dir().join(format!("coro-echo-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&plot_dir);

    // samples[(server, load)]: one per repetition that ran.
    let mut samples: HashMap<(usize, usize), Vec<Sample>> = HashMap::new();
    let mut plot_files: Vec<(&str, PathBuf)> = Vec::new();
    for rep in 0..reps {
        for k in 0..SERVERS.len() {
            let s = (k + rep) % SERVERS.len();
            let runtime = SERVERS[s].0;
            eprintln!("  tcp echo: repetition {}/{reps}, {runtime}", rep + 1);
            let server = match Server::start(&server_bin, runtime) {
                Ok(server) => server,
                Err(e) => {
                    eprintln!("  tcp echo: {runtime} server: {e}");
                    for (l, &(n, _)) in loads.iter().enumerate() {
                        samples.entry((s, l)).or_default().push(failed(n));
                    }
                    continue;
                }
            };
            for (l, &(n, _)) in loads.iter().enumerate() {
                let plotted =
                    rep == 0 && !quick && n == PLOT_CONNECTIONS && PLOTTED.contains(&runtime);
                let latencies = plotted.then(|| plot_dir.join(format!("{runtime}.u32")));
                let sample = run_load(&server, &client_bin, n, window, latencies.as_deref())
                    .unwrap_or_else(|e| {
                        eprintln!("  tcp echo: {runtime}, {n} connections: {e}");
                        failed(n)
                    });
                if let Some(path) = latencies {
                    plot_files.push((runtime, path));
                }
                samples.entry((s, l)).or_default().push(sample);
            }
            server.stop();
        }
    }

    if !quick {
        let svg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/echo_latency.svg");
        match plot(&plot_files, &svg, window) {
            Ok(()) => eprintln!("  tcp echo: wrote {}", svg.display()),
            Err(e) => eprintln!("  tcp echo: cannot draw {}: {e}", svg.display()),
        }
    }
    let _ = std::fs::remove_dir_all(&plot_dir);
    to_rows(&samples, &loads)
}

/// A load that did not run: no performance values, every connection an error.
fn failed(connections: usize) -> Sample {
    Sample {
        round_trips_per_s: f64::NAN,
        p50_us: f64::NAN,
        p99_us: f64::NAN,
        cpu_us_per_round_trip: f64::NAN,
        client_cpu_us_per_round_trip: f64::NAN,
        errors: connections as f64,
    }
}

/// The rows, grouped by load and metric, runtimes in `SERVERS` order. NaN
/// values (a failed run) are left out; the errors row is always there.
fn to_rows(samples: &HashMap<(usize, usize), Vec<Sample>>, loads: &[(usize, String)]) -> Vec<Row> {
    let metrics: [Metric<Sample>; 6] = [
        ("round trips/s", "round trips/s", true, true, |s| {
            s.round_trips_per_s
        }),
        ("p50 µs", "µs", false, true, |s| s.p50_us),
        ("p99 µs", "µs", false, true, |s| s.p99_us),
        ("server CPU µs/round trip", "µs", false, true, |s| {
            s.cpu_us_per_round_trip
        }),
        // The client's cost, shown beside each server but not ranked.
        ("client CPU µs/round trip", "µs", false, false, |s| {
            s.client_cpu_us_per_round_trip
        }),
        ("errors", "count", false, true, |s| s.errors),
    ];
    let names: Vec<&str> = loads.iter().map(|(_, name)| name.as_str()).collect();
    table::load_rows(samples, &names, &SERVERS, &metrics)
}

/// The connection counts and their scenario names. A count that does not
/// fit in the open-files limit (one descriptor per connection in each
/// process) or in the ephemeral port range is lowered, and the name says so.
fn loads() -> Vec<(usize, String)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    let fds = match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } {
        0 => usize::try_from(lim.rlim_max).unwrap_or(usize::MAX),
        _ => 1024,
    };
    let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|n| n.parse::<usize>().ok());
            Some(it.next()??.abs_diff(it.next()??) + 1)
        })
        .unwrap_or(28_000);
    let max = fds
        .saturating_sub(FD_SPARE)
        .min(ports.saturating_sub(1_000));
    CONNECTIONS
        .iter()
        .map(|&n| {
            if n <= max {
                (n, format!("tcp_echo_{n}"))
            } else {
                let fit = (max / 1_000 * 1_000).max(max.min(1_000));
                let why = format!("{n} does not fit: {fds} fds / {ports} ports");
                (fit, format!("tcp_echo_{fit} ({why})"))
            }
        })
        .collect()
}

/// Builds `echo_bench_server` and `load_client` and returns their paths.
fn binaries() -> Option<(PathBuf, PathBuf)> {
    let [server, client] = build_bins(["echo_bench_server", "load_client"], "tcp echo")?;
    Some((server, client))
}

/// Runs `load_client` with `connections` for `window` seconds against
/// `server`, measuring the server's CPU time over the window.
fn run_load(
    server: &Server,
    client_bin: &Path,
    connections: usize,
    window: f64,
    latencies: Option<&Path>,
) -> Result<Sample, String> {
    let mut command = Command::new(client_bin);
    command
        .args(["--addr", &server.addr, "--sync", "1"])
        .args(["--connections", &connections.to_string()])
        .args([
            "--seconds",
            &window.to_string(),
            "--size",
            &SIZE.to_string(),
        ]);
    if let Some(path) = latencies {
        command.arg("--latencies").arg(path);
    }
    let mut client = Proc::spawn(&mut command)?;
    // Connects are one at a time per client thread: generous, but bounded.
    client.expect("ready", Duration::from_secs(90))?;
    let cpu_before = server.proc.cpu_ticks()?;
    let client_cpu_before = client.cpu_ticks()?;
    client.send("go")?;
    client.expect("end", Duration::from_secs_f64(window + 30.0))?;
    let cpu_after = server.proc.cpu_ticks()?;
    let client_cpu_after = client.cpu_ticks()?;
    client.send("close")?;
    let result = client.expect("round_trips=", Duration::from_secs(60))?;
    client.wait(Duration::from_secs(10));

    let fields: HashMap<&str, f64> = result
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    let get = |k: &str| {
        fields
            .get(k)
            .copied()
            .ok_or(format!("no {k} in {result:?}"))
    };
    let round_trips = get("round_trips")?;
    // SAFETY: `sysconf` has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu_s = (cpu_after - cpu_before) as f64 / ticks_per_s;
    let client_cpu_s = (client_cpu_after - client_cpu_before) as f64 / ticks_per_s;
    let per_round_trip = |v: f64| if round_trips > 0.0 { v } else { f64::NAN };
    Ok(Sample {
        round_trips_per_s: round_trips / get("seconds")?,
        p50_us: per_round_trip(get("p50_us")?),
        p99_us: per_round_trip(get("p99_us")?),
        cpu_us_per_round_trip: per_round_trip(cpu_s * 1e6 / round_trips),
        client_cpu_us_per_round_trip: per_round_trip(client_cpu_s * 1e6 / round_trips),
        errors: get("errors")?,
    })
}

/// Draws the latency CDF of each plotted runtime (log-scale x axis).
fn plot(files: &[(&str, PathBuf)], svg: &Path, window: f64) -> Result<(), String> {
    use plotters::prelude::*;
    /// In `PLOTTED` order: coro red, tokio blue, smol orange, raw black.
    const COLORS: [RGBColor; 4] = [
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(230, 130, 0),
        RGBColor(0, 0, 0),
    ];

    let mut series = Vec::new();
    for (runtime, path) in files {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lat: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if lat.is_empty() {
            continue;
        }
        lat.sort_unstable();
        // ~1000 points of the CDF: (latency, fraction of round trips ≤ it).
        let n = lat.len();
        let points: Vec<(f64, f64)> = (0..=1000)
            .map(|i| i * (n - 1) / 1000)
            .map(|r| (f64::from(lat[r].max(1)), (r + 1) as f64 / n as f64))
            .collect();
        let label = format!(
            "{runtime}: p50 {} µs, p99 {} µs",
            lat[(n - 1) / 2],
            lat[(n * 99).div_ceil(100) - 1]
        );
        let color = COLORS[PLOTTED.iter().position(|p| p == runtime).unwrap_or(0) % 4];
        series.push((label, points, color));
    }
    if series.is_empty() {
        return Err("no latency data".into());
    }
    let lo = series
        .iter()
        .flat_map(|s| &s.1)
        .map(|p| p.0)
        .fold(f64::MAX, f64::min);
    let hi = series
        .iter()
        .flat_map(|s| &s.1)
        .map(|p| p.0)
        .fold(1.0, f64::max);

    let e = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::new(svg, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let caption = format!(
        "TCP echo, {PLOT_CONNECTIONS} connections, {SIZE}-byte round trips, {window} s: latency CDF"
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((lo * 0.8..hi * 1.25).log_scale(), 0.0..1.0)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("round-trip latency, µs (log scale)")
        .y_desc("fraction of round trips ≤ x")
        .draw()
        .map_err(|x| e(&x))?;
    for (label, points, color) in series {
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))
}
