//! `coro::process`: piped stdio round trips, many children at once,
//! `kill`, `kill_on_drop`, a missing program, on both runtime flavors.
//! (Zombie counting has its own test binary, `process_zombies.rs`: it
//! needs a process where no other test is starting children.)

mod common;
use common::*;

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::process::Command;

/// Fails the test instead of hanging it.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the test hung: a child's exit or output was never seen")
}

/// Whether `/proc/PID` names a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => !stat
            .rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits (up to a minute, checking every 10 ms) until `/proc/PID` is gone.
fn wait_until_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "process {pid} was never reaped");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn echo_output_on_both_flavors() {
    for (flavor, rt) in flavors() {
        let output = within_a_minute(move || {
            rt.block_on(Command::new("echo").args(["hello", "world"]).output())
        })
        .unwrap();
        assert!(output.status.success(), "{flavor}");
        assert_eq!(output.stdout, b"hello world\n", "{flavor}");
        assert!(output.stderr.is_empty(), "{flavor}");
    }
}

#[test]
fn cat_round_trips_a_megabyte_through_both_pipes() {
    // More than a pipe holds (64 KiB): writing all before reading would
    // deadlock, so this needs the writer and reader to take turns.
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    for (flavor, rt) in flavors() {
        let expected = data.clone();
        let echoed = within_a_minute(move || {
            rt.block_on(async move {
                let mut child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = child.stdout.take().unwrap();
                let writer = coro::spawn(async move {
                    stdin.write_all(&expected).await.unwrap();
                    stdin.close().await.unwrap();
                    assert_eq!(
                        stdin.write(b"x").await.unwrap_err().kind(),
                        io::ErrorKind::BrokenPipe
                    );
                });
                let mut echoed = Vec::new();
                stdout.read_to_end(&mut echoed).await.unwrap();
                writer.await.unwrap();
                assert!(child.wait().await.unwrap().success());
                echoed
            })
        });
        assert!(echoed == data, "{flavor}: cat echoed different bytes");
    }
}

#[test]
fn two_hundred_children_at_once_all_statuses_collected() {
    for (flavor, rt) in flavors() {
        let codes = within_a_minute(move || {
            rt.block_on(async {
                let mut children = Vec::new();
                for i in 0..200 {
                    let child = Command::new("sh")
                        .args(["-c", &format!("exit {}", i % 7)])
                        .spawn()
                        .unwrap();
                    children.push(child);
                }
                let waits = children.into_iter().map(|mut child| {
                    coro::spawn(async move { child.wait().await.unwrap().code() })
                });
                coro::task::join_all(waits).await
            })
        });
        let codes: Vec<_> = codes.into_iter().map(Result::unwrap).collect();
        let expected: Vec<_> = (0..200).map(|i| Some(i % 7)).collect();
        assert_eq!(codes, expected, "{flavor}");
    }
}

#[test]
fn kill_stops_a_sleeping_child() {
    for (flavor, rt) in flavors() {
        let (status, pid) = within_a_minute(move || {
            rt.block_on(async {
                let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
                let pid = child.id().unwrap();
                assert_eq!(child.try_wait().unwrap(), None);
                child.kill().await.unwrap();
                assert_eq!(child.id(), None);
                let err = child.start_kill().unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
                (child.wait().await.unwrap(), pid)
            })
        });
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{flavor}");
        assert!(!alive(pid), "{flavor}");
    }
}

#[test]
fn kill_on_drop_kills_and_reaps_the_child() {
    for (_, rt) in flavors() {
        let pid = rt.block_on(async {
            let child = Command::new("sleep")
                .arg("1000")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            child.id().unwrap()
        });
        // Killed and reaped in the background: `/proc/PID` disappears
        // only once the zombie is reaped.
        wait_until_gone(pid);
    }
}

#[test]
fn a_dropped_child_keeps_running_and_is_reaped_when_it_exits() {
    let rt = build("current_thread", |_| {});
    let pid = rt.block_on(async {
        let child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.id().unwrap()
    });
    drop(rt);
    assert!(alive(pid), "without kill_on_drop the child keeps running");
    // SAFETY: `pid` is our child and still unreaped (alive above), so it
    // cannot name another process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    wait_until_gone(pid);
}

#[test]
fn a_missing_program_is_not_found() {
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let err = Command::new("coro-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        let err = Command::new("/nonexistent/bin/x")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn environment_directory_and_status_reach_the_child() {
    let rt = build("multi_thread", |_| {});
    rt.block_on(async {
        let output = Command::new("sh")
            .args(["-c", "echo \"$A:$(pwd)\"; exit 4"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("A", "x")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(output.stdout, b"x:/\n");
        assert_eq!(output.status.code(), Some(4));
        let status = Command::new("false").status().await.unwrap();
        assert_eq!(status.code(), Some(1));
    });
}

#[test]
fn children_work_under_a_foreign_executor() {
    let output = within_a_minute(|| {
        futures::executor::block_on(async {
            let mut child = Command::new("sh")
                .args(["-c", "read line; echo got $line"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"ping\n")
                .await
                .unwrap();
            child.wait_with_output().await.unwrap()
        })
    });
    assert_eq!(output.stdout, b"got ping\n");
    assert!(output.status.success());
}
