//! No zombies: children that were waited for, dropped while running,
//! killed on drop, or dropped after exiting are all reaped. Counted from
//! `/proc`, in a test binary of its own so that no other test's children
//! are in flight.

use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use coro::process::Command;

/// The pids of this process's children that are zombies.
fn zombie_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // exited and reaped while we looked
        };
        // "pid (comm) state ppid ...": split after the command name,
        // which may itself contain spaces or parentheses.
        let fields: Vec<_> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        if fields[0] == "Z" && fields[1] == me {
            zombies.push(pid);
        }
    }
    zombies
}

#[test]
fn no_zombies_after_waits_drops_and_kills() {
    let rt = coro::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {
        // Waited for.
        for _ in 0..20 {
            Command::new("true").status().await.unwrap();
        }
        // Dropped while (probably) still running, exiting soon after.
        for _ in 0..40 {
            drop(Command::new("sh").args(["-c", "exit 0"]).spawn().unwrap());
        }
        // Dropped with piped output nobody reads.
        for _ in 0..20 {
            let child = Command::new("echo")
                .arg("unread")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child);
        }
        // Killed on drop.
        for _ in 0..20 {
            let child = Command::new("sleep")
                .arg("1000")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            drop(child);
        }
        // Exited before the drop: reaped by the drop itself.
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().await.unwrap();
        drop(child);
    });
    drop(rt);
    // The background reaper needs a moment; a minute means it never did.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let zombies = zombie_children();
        if zombies.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "zombie children left: {zombies:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
