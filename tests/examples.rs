//! Runs the example binaries and checks what they print.

mod common;
use common::run_example;

#[test]
fn spawn_storm_joins_every_task() {
    let out = run_example("spawn_storm", &["20000"]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("spawned and joined 20000 tasks in "),
        "{out}"
    );
    assert!(lines[0].ends_with(" sum 199990000"), "{out}");
    assert!(
        lines[1].starts_with("1000 tasks switched 100000 times in "),
        "{out}"
    );
}

#[test]
fn echo_load_checks_every_reply_and_reports_latency() {
    let out = run_example(
        "echo_load",
        &["--clients", "50", "--seconds", "0.5", "--quiet", "1"],
    );
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("echo_load: 50 clients, 64-byte messages, "),
        "{out}"
    );
    let round_trips: u64 = lines[1]
        .strip_prefix("round trips: ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no round trip count in {out}"));
    assert!(
        round_trips >= 50,
        "every client completes at least one round trip: {out}"
    );
    assert!(lines[1].ends_with("every reply checked"), "{out}");
    assert!(lines[2].starts_with("latency: p50 "), "{out}");
    assert_eq!(lines[3], "errors: 0", "{out}");
}
