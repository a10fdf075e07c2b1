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

#[test]
fn observe_prints_metrics_dumps_and_a_watchdog_report() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    // Killed if the test fails before it exits.
    let mut child = common::KillOnDrop(
        common::example_command("observe")
            .args(["--clients", "3"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to run cargo"),
    );
    let mut err = child.0.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).unwrap();
        text
    });
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    let mut read_until = |wanted: &str| loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("observe exited before printing {wanted:?}:\n{stdout}"))
            .unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains(wanted) {
            return;
        }
    };
    // SAFETY (both `kill`s): `child` has not been waited for, so its pid
    // still names the example (`cargo run` execs it in place).
    let pid = child.0.id() as libc::pid_t;
    // After the first metrics, every task has run: SIGUSR1 asks for a dump.
    read_until("[  1 s]");
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    read_until("task(s) listed");
    // Ctrl-C: the final dump, then a clean exit.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    read_until("final dump:");
    for line in lines {
        stdout.push_str(&line.unwrap());
        stdout.push('\n');
    }
    let status = child.0.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("pid "), "{stdout}");
    // Metrics once a second.
    assert!(
        stdout.contains("[  1 s]") && stdout.contains("worker 1:"),
        "{stdout}"
    );
    // Two dumps: one for the Enter, one at the end.
    assert_eq!(stdout.matches("task(s) listed").count(), 2, "{stdout}");
    let final_dump = &stdout[stdout.find("final dump:").expect("no final dump")..];
    for name in [
        "acceptor",
        "client 0",
        "client 2",
        "conn 127.0.0.1:",
        "sloppy",
    ] {
        assert!(
            final_dump.contains(name),
            "{name} missing from the dump:\n{final_dump}"
        );
    }
    assert!(final_dump.contains("examples/observe.rs"), "{final_dump}");
    // The sloppy task blocked its worker: reported by name, twice.
    let reports: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("\"sloppy\"") && line.contains("worker"))
        .collect();
    assert!(reports.len() >= 2, "{stderr}");
    assert!(reports[0].contains("is blocking worker"), "{stderr}");
}
