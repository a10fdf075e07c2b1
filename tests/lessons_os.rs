//! The gevent lessons about the operating system as example binaries:
//! `subprocess` (gevent.subprocess), `signal_handler`
//! (gevent.signal_handler) and `files` (gevent's threadpool for files),
//! run and checked on what they print.

mod common;
use common::run_example;

use std::process::Stdio;
use std::time::Duration;

use coro::io::{AsyncBufReadExt, BufReader};
use coro::process::Command;
use coro::time::timeout;
use futures::StreamExt;

#[test]
fn subprocess_cron_ticks_while_the_child_runs_then_pipes_and_kill_on_drop() {
    let out = run_example("subprocess", &["--sleep-ms", "500", "--tick-ms", "100"]);
    let lines: Vec<_> = out.lines().collect();
    let crons = lines.iter().take_while(|l| **l == "cron").count();
    // The first tick is immediate, the next ones every 100 ms while the
    // child sleeps 500 ms: at least two prove the task ran meanwhile.
    assert!(crons >= 2, "{out}");
    let uname = std::process::Command::new("uname").output().unwrap().stdout;
    let rest = &lines[crons..];
    assert_eq!(
        rest,
        [
            String::from_utf8(uname).unwrap().trim_end(),
            "PIPED THROUGH TR",
            "tr exited with exit status: 0",
            "sleep 1000 timed out and was killed",
        ],
        "{out}"
    );
}

#[test]
fn files_writes_counts_lists_and_finds_the_largest() {
    let out = run_example("files", &["--files", "3", "--lines", "10"]);
    let bytes: usize = (0..3)
        .flat_map(|n| (0..10 * (n + 1)).map(move |i| format!("file-{n}.txt line {i}\n").len()))
        .sum();
    let expected = format!(
        "file-0.txt: 10 lines\nfile-1.txt: 20 lines\nfile-2.txt: 30 lines\n\
         3 files, {bytes} bytes\nlargest: file-2.txt\n"
    );
    assert_eq!(out, expected);
}

#[test]
fn signal_handler_counts_sigusr1_and_stops_on_sigquit() {
    let rt = coro::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let mut child = Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--example", "signal_handler"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next_line = async || {
            // Generous: the first `cargo run` may have to build the example.
            timeout(Duration::from_secs(600), lines.next())
                .await
                .expect("signal_handler printed nothing")
                .expect("signal_handler's stdout ended")
                .unwrap()
        };
        let send = |signal| {
            // SAFETY: `pid` is our child, not yet reaped (we wait below),
            // so it names the example and no other process.
            assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
        };
        assert_eq!(
            next_line().await,
            format!("pid {pid}: running forever; send SIGUSR1 to count, SIGQUIT to stop")
        );
        send(libc::SIGUSR1);
        assert_eq!(next_line().await, "got SIGUSR1 (1)");
        send(libc::SIGUSR1);
        assert_eq!(next_line().await, "got SIGUSR1 (2)");
        send(libc::SIGQUIT);
        assert_eq!(
            next_line().await,
            "got SIGQUIT: run_forever killed (cancelled: true) after 2 SIGUSR1"
        );
        let status = timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("signal_handler did not exit")
            .unwrap();
        assert!(status.success(), "{status}");
    });
}
