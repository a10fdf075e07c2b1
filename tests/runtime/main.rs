//! Integration tests of runtimes through the `coro` facade: the builder, thread names,
//! handles and context, `block_on`, shutdown and drop, and the error messages of misuse.
//!
//! Every test that makes sense on both schedulers runs on both (see [`flavors`]). Nothing here
//! depends on timing: ordering is forced with channels, barriers and counters. The only clocks
//! are generous watchdogs that turn a would-be deadlock into a failure, and the timeouts given
//! to `shutdown_timeout` itself.

use std::collections::HashSet;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use coro::runtime::{Builder, Handle};
use coro::task::{JoinError, JoinHandle, JoinSet};
use coro::Runtime;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;

#[path = "../common/mod.rs"]
mod common;
use common::*;

// One file per concern; the helpers below are shared by all of them.
mod block_on; // `block_on`
mod builder; // `Runtime`, `Builder`, thread names
mod handles; // `Handle` and the runtime context
mod misuse; // clear panics instead of deadlocks
mod regressions; // bugs found and fixed
mod shutdown; // dropping a runtime, `shutdown_timeout`

// ---- helpers ----------------------------------------------------------------------------

/// Runs `f`, which must panic, and returns the panic message.
#[track_caller]
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_text(&*payload),
    }
}

fn join_error_message(err: JoinError) -> String {
    assert!(err.is_panic(), "expected a panic, got {err:?}");
    panic_text(&*err.into_panic())
}

/// Runs `f` on its own thread and fails if it has not returned after a minute: it
/// deadlocked. Only ever decides a test that would otherwise hang forever.
fn no_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done_tx, done_rx) = std_mpsc::channel();
    let worker = thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(f));
        let _ = done_tx.send(());
        result
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => match worker.join().unwrap() {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        },
        Err(_) => panic!("{what}: still blocked after 60 s, a deadlock"),
    }
}

/// Spawns `n` tasks that only finish if they all run at the same time (so on `n` different
/// worker threads) and returns those threads' names.
async fn names_of_n_workers(n: usize) -> HashSet<String> {
    let meet = Rendezvous::new(n);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let meet = meet.clone();
            coro::spawn(async move {
                let met = meet.wait();
                (met, thread::current().name().map(str::to_owned))
            })
        })
        .collect();
    let mut names = HashSet::new();
    for task in tasks {
        let (met, name) = task.await.unwrap();
        assert!(met, "the {n} tasks never ran at the same time");
        names.insert(name.expect("worker threads are named"));
    }
    names
}
