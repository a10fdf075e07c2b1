//! Helpers shared by the integration tests (`mod common;` in each file).
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::any::Any;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use coro::runtime::Builder;
use coro::Runtime;

pub const FLAVORS: [&str; 2] = ["current_thread", "multi_thread"];

/// The two schedulers: a current-thread runtime and a two-worker multi-thread runtime.
pub fn flavors() -> [(&'static str, Runtime); 2] {
    FLAVORS.map(|flavor| (flavor, build(flavor, |_| {})))
}

/// A runtime of the named flavor (two workers for the multi-thread one), with extra settings.
pub fn build(flavor: &str, configure: impl FnOnce(&mut Builder)) -> Runtime {
    let mut builder = Runtime::builder();
    match flavor {
        "current_thread" => builder.current_thread(),
        "multi_thread" => builder.multi_thread().worker_threads(2),
        _ => unreachable!("unknown flavor {flavor}"),
    };
    configure(&mut builder);
    builder.build().unwrap()
}

/// Counts the [`DropGuard`]s it created and how many of them were dropped.
#[derive(Clone, Default)]
pub struct Drops {
    created: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Drops {
    pub fn guard(&self) -> DropGuard {
        self.created.fetch_add(1, SeqCst);
        DropGuard(self.dropped.clone())
    }

    /// How many guards were created.
    pub fn created(&self) -> usize {
        self.created.load(SeqCst)
    }

    /// How many guards were dropped.
    pub fn count(&self) -> usize {
        self.dropped.load(SeqCst)
    }
}

/// Put in a task's future: it is dropped exactly when the future is.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Yields until `cond` holds. Never sleeps: progress comes from other tasks or threads.
pub async fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        coro::yield_now().await;
        // On a multi-thread runtime's `block_on` this loop spins on its own thread; let the
        // workers have the CPU.
        thread::yield_now();
    }
}

/// The text of a panic payload (`&str` or `String`).
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string payload>".to_owned())
}

/// A rendezvous of `n` threads, like `std::sync::Barrier`, but one that gives up after a
/// long while: a runtime that cannot run the parties at the same time then fails the test
/// instead of hanging it.
pub struct Rendezvous {
    arrived: Mutex<usize>,
    all_here: Condvar,
    parties: usize,
}

impl Rendezvous {
    pub fn new(parties: usize) -> Arc<Self> {
        Arc::new(Rendezvous {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
            parties,
        })
    }

    /// Blocks the calling thread until every party arrived; false if that took too long.
    pub fn wait(&self) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (_arrived, timeout) = self
            .all_here
            .wait_timeout_while(arrived, Duration::from_secs(30), |n| *n < self.parties)
            .unwrap();
        !timeout.timed_out()
    }
}

/// The arguments of `cargo run --quiet --example NAME --`, with the cargo
/// features this test build has (`--all-features` builds the examples with
/// them all; running them with the same set reuses that build).
pub fn example_cargo_args(name: &str) -> Vec<String> {
    let features: Vec<&str> = [
        ("hyper", cfg!(feature = "hyper")),
        ("tokio-io", cfg!(feature = "tokio-io")),
        ("tracing", cfg!(feature = "tracing")),
    ]
    .into_iter()
    .filter_map(|(feature, on)| on.then_some(feature))
    .collect();
    let mut args: Vec<String> = ["run", "--quiet", "--example", name]
        .map(String::from)
        .into();
    if !features.is_empty() {
        args.push("--features".to_owned());
        args.push(features.join(","));
    }
    args.push("--".to_owned());
    args
}

/// `cargo run --quiet --example NAME --` (see [`example_cargo_args`]).
pub fn example_command(name: &str) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command.args(example_cargo_args(name));
    command
}

/// Runs `cargo run --example NAME -- ARGS` and returns its stdout.
pub fn run_example(name: &str, args: &[&str]) -> String {
    let output = example_command(name)
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

/// Kills the child process if the test ends before it exits (a failed
/// assertion, a timeout), so no server outlives its test.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cargo run --example NAME -- ARGS` in the background; its stdout
/// lines arrive on the returned channel as they are printed. Its standard
/// input is a pipe that stays open until the test closes it
/// (`child.0.stdin.take()`), for examples that stop at end-of-file.
pub fn spawn_example(name: &str, args: &[&str]) -> (KillOnDrop, mpsc::Receiver<String>) {
    // `cargo run` replaces itself with the example (exec), so killing the
    // child kills the example.
    let mut child = example_command(name)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("failed to run cargo");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (KillOnDrop(child), rx)
}

#[path = "../../examples/common/debian.rs"]
mod debian;

/// Installs a Debian package if `tool` is not on the PATH (CI machines
/// start without curl); fails the test if that is not possible.
pub fn ensure_tool(tool: &str, package: &str) {
    debian::ensure_tool(tool, package).unwrap_or_else(|error| panic!("{error}"));
}
