//! Smoke runs of the benchmark report: `cargo run --release -p coro-benches
//! --bin bench_report -- --quick --reps 1 [--no-echo]` must print a markdown table
//! with a row for every scenario and every runtime (the numbers are not
//! checked: a quick run on a busy machine measures nothing).
//!
//! Without `--no-echo` the quick run takes about a minute more (one process
//! per echo server, 1 s load windows), so that test is `#[ignore]`d:
//! `cargo test -p coro-benches --test bench_report -- --include-ignored`.

use std::process::Command;

const MT: [&str; 3] = ["coro_mt", "tokio_mt", "smol_mt"];
const CT: [&str; 3] = ["coro_ct", "tokio_ct", "smol_local"];

/// Runs `cargo run --release -p coro-benches --bin REPORT -- ARGS` and
/// returns its stdout, failing the test if the report failed. (Not the
/// debug binary cargo builds for this test: the report's scenarios are sized
/// for an optimized build.)
fn run_report(report: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "-p", env!("CARGO_PKG_NAME")])
        .args(["--bin", report, "--"])
        .args(args)
        .output()
        .expect("failed to run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the report with `args` and returns its stdout (which must hold the
/// header and the table header).
fn bench_report(args: &[&str]) -> String {
    let stdout = run_report("bench_report", args);
    assert!(
        stdout.starts_with("machine: nproc "),
        "no header:\n{stdout}"
    );
    assert!(
        stdout.contains("| scenario | runtime | median | min–max | unit | coro ÷ best peer |"),
        "no table header:\n{stdout}"
    );
    stdout
}

#[test]
fn bench_report_quick_prints_every_row() {
    let stdout = bench_report(&["--quick", "--reps", "1", "--no-echo"]);
    assert!(
        !stdout.contains("| tcp_echo"),
        "--no-echo ran echo:\n{stdout}"
    );

    let all_runtimes: Vec<&str> = MT.iter().chain(&CT).copied().collect();
    let mut expected: Vec<(&str, Vec<&str>)> = [
        "spawn_many",
        "yield_many",
        "ping_pong",
        "chained_spawn",
        "timers_1m overshoot",
        "timers_1m peak RSS",
        "idle_memory",
    ]
    .into_iter()
    .map(|scenario| (scenario, all_runtimes.clone()))
    .collect();
    // The physical-limit baselines beside each scenario.
    let baselines = [
        "box_pin_poll",
        "async_task_floor",
        "async_task_floor",
        "async_task_floor",
        "heap_sleep",
        "heap_sleep",
        "boxed_pending",
    ];
    for ((_, runtimes), baseline) in expected.iter_mut().zip(baselines) {
        runtimes.push(baseline);
    }
    expected[2]
        .1
        .extend(["coro_ct_local", "coro_ct_slot", "coro_ct_slot_send_bound"]);
    expected.push(("gen_resume", vec!["coro_gen", "plain_loop"]));

    for (scenario, runtimes) in &expected {
        for runtime in runtimes {
            let prefix = format!("| {scenario} | {runtime} | ");
            let row = stdout
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no row {prefix:?} in:\n{stdout}"));
            // Six cells; the median is a finite number.
            let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 6, "{row}");
            let median: f64 = cells[2]
                .parse()
                .unwrap_or_else(|_| panic!("median not a number: {row}"));
            assert!(median.is_finite(), "{row}");
            // coro's multi-thread and current-thread rows are compared with a peer.
            if MT.contains(runtime) && runtime.starts_with("coro") {
                assert!(cells[5].contains("(vs tokio_mt)") || cells[5].contains("(vs smol_mt)"));
            }
            if (CT.contains(runtime) || *runtime == "coro_ct_local") && runtime.starts_with("coro")
            {
                assert!(cells[5].contains("(vs tokio_ct)") || cells[5].contains("(vs smol_local)"));
            }
        }
    }
}

#[test]
#[ignore = "about a minute: starts one echo server process per runtime"]
fn bench_report_quick_with_echo_has_echo_rows() {
    let stdout = bench_report(&["--quick", "--reps", "1", "--only", "echo"]);
    // The thread-per-core server is an echo-only variant.
    for runtime in MT.iter().chain(&CT).chain(&["coro_tpc"]) {
        let row = format!(" | {runtime} | ");
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("| tcp_echo") && l.contains(&row)),
            "no tcp_echo row for {runtime}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("| spawn_many |"),
        "--only echo ran spawn_many"
    );
    // The load client's CPU is shown beside every server but never ranked;
    // the server's own CPU is ranked for coro.
    for line in stdout
        .lines()
        .filter(|l| l.contains(" client CPU µs/round trip | "))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 6, "{line}");
        assert!(cells[5].is_empty(), "client CPU ranked: {line}");
    }
    for runtime in ["coro_mt", "coro_ct"] {
        let ranked = stdout.lines().any(|l| {
            l.contains(" server CPU µs/round trip | ")
                && l.contains(&format!(" | {runtime} | "))
                && l.contains("(vs ")
        });
        assert!(
            ranked,
            "no ranked server CPU row for {runtime}:
{stdout}"
        );
        let client = stdout.lines().any(|l| {
            l.contains(" client CPU µs/round trip | ") && l.contains(&format!(" | {runtime} | "))
        });
        assert!(
            client,
            "no client CPU row for {runtime}:
{stdout}"
        );
    }
}

/// `http_report -- --reps 1 --seconds 1`: every HTTP scenario has its rows
/// for every server, and no request failed. It installs `wrk` and `h2load`
/// with `apt-get` if they are missing. About half a minute.
#[test]
fn http_report_smoke_run_has_every_row_and_no_errors() {
    let stdout = run_report("http_report", &["--reps", "1", "--seconds", "1"]);
    let servers = ["coro_mt", "tokio_mt", "smol_mt", "coro_ct", "tokio_ct"];
    let scenarios = [
        "http1_hello_c50",
        "http1_hello_c500",
        "http1_echo4k_c50",
        "h2_hello_c50_m10",
    ];
    let metrics = [
        "requests/s",
        "p50 µs",
        "p99 µs",
        "server CPU µs/request",
        "client CPU µs/request",
        "errors",
    ];
    for scenario in scenarios {
        for metric in metrics {
            for server in servers {
                let row = format!("| {scenario} {metric} | {server} | ");
                let line = stdout
                    .lines()
                    .find(|line| line.starts_with(&row))
                    .unwrap_or_else(|| panic!("no row {row:?}:\n{stdout}"));
                let median = line.split('|').nth(3).unwrap().trim();
                if metric == "errors" {
                    assert_eq!(median, "0.00", "{line}");
                } else {
                    let value: f64 = median.parse().unwrap_or_else(|_| panic!("{line}"));
                    assert!(value.is_finite() && value > 0.0, "{line}");
                }
            }
        }
    }
}
