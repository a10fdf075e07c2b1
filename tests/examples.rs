//! Runs the example binaries and checks what they print.

use std::process::Command;

/// Runs `cargo run --example NAME -- ARGS` and returns its stdout.
fn run_example(name: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", name, "--"])
        .args(args)
        .output()
        .expect("failed to run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

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
