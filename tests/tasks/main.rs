//! Integration tests of tasks through the `coro` facade: spawning, joining, panics, abort,
//! `JoinSet`, `join_all`, `spawn_blocking`, `spawn_local`, `yield_now` and the cooperative
//! budget.
//!
//! Every test that makes sense on both schedulers runs on both (see [`flavors`]). Nothing here
//! depends on timing: ordering is forced with channels, barriers and counters. The only clocks
//! are generous watchdogs that turn a would-be hang into a failure.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use coro::runtime::Handle;
use coro::task::{self, JoinError, JoinHandle, JoinSet};
use coro::Runtime;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;

#[path = "../common/mod.rs"]
mod common;
use common::*;

// One file per concern; the helpers below are shared by all of them.
mod abort; // `JoinHandle::abort`
mod blocking; // `spawn_blocking`
mod budget; // `yield_now` and the cooperative budget
mod join_set; // `JoinSet` and `join_all`
mod local; // `spawn_local`
mod panics; // panicking tasks
mod spawn; // many tasks, nested spawns, foreign wake-ups

// ---- helpers ----------------------------------------------------------------------------

fn current_thread() -> Runtime {
    Runtime::builder().current_thread().build().unwrap()
}

fn multi_thread(workers: usize) -> Runtime {
    Runtime::builder()
        .multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn panic_payload(err: JoinError) -> String {
    assert!(err.is_panic(), "expected a panic, got {err:?}");
    assert!(!err.is_cancelled());
    panic_text(&*err.into_panic())
}

fn assert_cancelled<T: std::fmt::Debug>(result: Result<T, JoinError>) {
    let err = result.expect_err("expected the task to be cancelled");
    assert!(err.is_cancelled(), "expected cancelled, got {err:?}");
    assert!(!err.is_panic());
    assert_eq!(err.to_string(), "task was cancelled");
}

/// A tiny hand-written oneshot channel whose waker is stored in a `Mutex<Option<Waker>>`, so
/// a test controls exactly which thread wakes the receiving task, and when.
mod foreign {
    use super::*;

    struct State<T> {
        value: Option<T>,
        waker: Option<Waker>,
    }

    struct Shared<T> {
        state: Mutex<State<T>>,
        waiting: Condvar,
    }

    pub(crate) struct Sender<T>(Arc<Shared<T>>);
    pub(crate) struct Receiver<T>(Arc<Shared<T>>);

    pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                value: None,
                waker: None,
            }),
            waiting: Condvar::new(),
        });
        (Sender(shared.clone()), Receiver(shared))
    }

    impl<T> Sender<T> {
        /// Blocks until the receiving task has polled and parked on its waker, then stores
        /// the value and wakes the task from this thread.
        pub(crate) fn send_to_waiting(self, value: T) {
            let mut state = self.0.state.lock().unwrap();
            while state.waker.is_none() {
                state = self.0.waiting.wait(state).unwrap();
            }
            state.value = Some(value);
            let waker = state.waker.take().unwrap();
            drop(state);
            waker.wake();
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = T;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut state = self.0.state.lock().unwrap();
            if let Some(value) = state.value.take() {
                return Poll::Ready(value);
            }
            state.waker = Some(cx.waker().clone());
            self.0.waiting.notify_all();
            Poll::Pending
        }
    }
}
