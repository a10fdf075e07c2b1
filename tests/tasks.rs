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

mod common;
use common::*;

// ---- helpers ------------------------------------------------------------------------------

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

// ---- many tasks ---------------------------------------------------------------------------

const MANY: u64 = 100_000;
const MANY_SUM: u64 = MANY * (MANY - 1) / 2;

#[test]
fn hundred_thousand_spawned_tasks_all_complete() {
    for (flavor, rt) in flavors() {
        let ran = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on({
            let ran = ran.clone();
            async move {
                let handles: Vec<JoinHandle<u64>> = (0..MANY)
                    .map(|i| {
                        let ran = ran.clone();
                        coro::spawn(async move {
                            ran.fetch_add(1, SeqCst);
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(sum, MANY_SUM, "{flavor}");
        assert_eq!(ran.load(SeqCst), MANY as usize, "{flavor}");
    }
}

#[test]
fn hundred_thousand_tasks_spawned_from_a_plain_thread_via_handle() {
    for (flavor, rt) in flavors() {
        let handle = rt.handle().clone();
        // The plain thread hands the JoinHandles over while the runtime is already running
        // `block_on`, so remote spawns wake a runtime that may be parked.
        let (tx, mut rx) = mpsc::unbounded::<JoinHandle<u64>>();
        let spawner = thread::spawn(move || {
            for i in 0..MANY {
                tx.unbounded_send(handle.spawn(async move { i })).unwrap();
            }
        });
        let (count, sum) = rt.block_on(async move {
            let (mut count, mut sum) = (0, 0);
            while let Some(task) = rx.next().await {
                sum += task.await.unwrap();
                count += 1;
            }
            (count, sum)
        });
        spawner.join().unwrap();
        assert_eq!(count, MANY, "{flavor}");
        assert_eq!(sum, MANY_SUM, "{flavor}");
    }
}

#[test]
fn tasks_spawned_with_runtime_spawn_before_block_on_run() {
    for (flavor, rt) in flavors() {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| rt.spawn(async move { i * 2 }))
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 999 * 1000, "{flavor}");
    }
}

// ---- wakes from foreign threads -----------------------------------------------------------

/// `tasks` tasks each wait `rounds` times on a value that a plain thread sends only once the
/// task is parked on its waker, so every round is a wake-up from a foreign thread.
fn foreign_wakes(rt: &Runtime, tasks: u64, rounds: u64) -> u64 {
    let (requests, incoming) = std::sync::mpsc::channel::<(u64, foreign::Sender<u64>)>();
    let helper = thread::spawn(move || {
        let mut served = 0;
        for (i, reply) in incoming {
            reply.send_to_waiting(i * 3);
            served += 1;
        }
        served
    });
    let total = rt.block_on(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let requests = requests.clone();
                coro::spawn(async move {
                    let mut sum = 0;
                    for r in 0..rounds {
                        let i = t * rounds + r;
                        let (tx, rx) = foreign::oneshot();
                        requests.send((i, tx)).unwrap();
                        let v = rx.await;
                        assert_eq!(v, i * 3);
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        // The block_on future itself also waits on foreign wakes.
        let mut sum = 0;
        for r in 0..rounds {
            let (tx, rx) = foreign::oneshot();
            let i = tasks * rounds + r;
            requests.send((i, tx)).unwrap();
            sum += rx.await;
        }
        drop(requests);
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let served = helper.join().unwrap();
    assert_eq!(served, (tasks + 1) * rounds);
    total
}

#[test]
fn wakes_from_a_foreign_thread_resume_parked_tasks() {
    for (flavor, rt) in flavors() {
        // One task, many rounds: the runtime has nothing else to do and parks every time.
        let total = foreign_wakes(&rt, 1, 1000);
        let n = 2 * 1000;
        assert_eq!(total, 3 * n * (n - 1) / 2, "{flavor}");
        // Several tasks waiting at once.
        let total = foreign_wakes(&rt, 8, 200);
        let n = 9 * 200;
        assert_eq!(total, 3 * n * (n - 1) / 2, "{flavor}");
    }
}

#[test]
fn futures_oneshot_from_foreign_threads() {
    for (flavor, rt) in flavors() {
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| {
                    let (tx, rx) = oneshot::channel::<u64>();
                    thread::spawn(move || tx.send(i).unwrap());
                    coro::spawn(async move { rx.await.unwrap() })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 4950, "{flavor}");
    }
}

// ---- panics -------------------------------------------------------------------------------

#[test]
fn a_panicking_task_gives_is_panic_with_its_payload() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let err = coro::spawn(async { panic!("x") }).await.unwrap_err();
            assert!(err.is_panic(), "{flavor}");
            assert_eq!(err.to_string(), "task panicked: x", "{flavor}");
            assert!(format!("{err:?}").contains('x'), "{flavor}");
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"x"), "{flavor}");

            // A message formatted at run time is a `String` payload.
            let n = std::hint::black_box(42);
            let err = coro::spawn(async move { panic!("formatted {n}") })
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "task panicked: formatted 42");
            let payload = err.try_into_panic().expect("a panic payload");
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("formatted 42")
            );

            // A non-string payload is kept as is.
            let err = coro::spawn(async { std::panic::panic_any(7u8) })
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "task panicked", "{flavor}");
            assert_eq!(err.into_panic().downcast_ref::<u8>(), Some(&7));

            // The panic can be resumed in the joiner.
            let err = coro::spawn(async { panic!("resume me") })
                .await
                .unwrap_err();
            let resumed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                std::panic::resume_unwind(err.into_panic())
            }))
            .unwrap_err();
            assert_eq!(panic_text(&*resumed), "resume me");
        });
    }
}

#[test]
fn a_panic_after_an_await_is_caught_and_drops_the_future() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let err = rt.block_on({
            let guard = drops.guard();
            async move {
                coro::spawn(async move {
                    let _guard = guard;
                    coro::yield_now().await;
                    coro::yield_now().await;
                    panic!("late")
                })
                .await
                .unwrap_err()
            }
        });
        assert_eq!(panic_payload(err), "late", "{flavor}");
        assert_eq!(drops.count(), 1, "{flavor}");
    }
}

#[test]
fn the_runtime_keeps_working_after_panics() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            // Enough panics to hit every worker.
            let panics: Vec<_> = (0..64)
                .map(|i| coro::spawn(async move { panic!("panic #{i}") }))
                .collect();
            for (i, h) in panics.into_iter().enumerate() {
                assert_eq!(panic_payload(h.await.unwrap_err()), format!("panic #{i}"));
            }
            // Then plenty of ordinary tasks, nested ones included.
            let handles: Vec<_> = (0..1000u64)
                .map(|i| coro::spawn(async move { coro::spawn(async move { i }).await.unwrap() }))
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            assert_eq!(sum, 999 * 500, "{flavor}");
        });
    }
}

#[test]
fn both_workers_survive_panics() {
    let rt = multi_thread(2);
    rt.block_on(async {
        for round in 0..4 {
            let panics: Vec<_> = (0..32)
                .map(|_| coro::spawn(async { panic!("boom") }))
                .collect();
            for h in panics {
                assert!(h.await.unwrap_err().is_panic());
            }
            // Two tasks that can only finish if they run at the same time: both worker
            // threads are still alive.
            let meet = Rendezvous::new(2);
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let meet = meet.clone();
                    coro::spawn(async move { (meet.wait(), thread::current().id()) })
                })
                .collect();
            let mut threads = HashSet::new();
            for t in tasks {
                let (met, id) = t.await.unwrap();
                assert!(met, "round {round}: the two workers never ran together");
                threads.insert(id);
            }
            assert_eq!(threads.len(), 2, "round {round}");
        }
    });
}

#[test]
fn panics_in_spawn_blocking_are_caught() {
    for flavor in FLAVORS {
        // Default pool, and a pool of one thread, which must survive the panics.
        for max in [512, 1] {
            let rt = build(flavor, |b| {
                b.max_blocking_threads(max);
            });
            rt.block_on(async {
                let err = coro::spawn_blocking(|| -> u32 { panic!("blocking boom") })
                    .await
                    .unwrap_err();
                assert_eq!(panic_payload(err), "blocking boom", "{flavor}/{max}");
                let n = std::hint::black_box(7);
                let err = coro::spawn_blocking(move || -> u32 { panic!("blocking {n}") })
                    .await
                    .unwrap_err();
                assert_eq!(err.to_string(), "task panicked: blocking 7");
                assert_eq!(panic_payload(err), "blocking 7");
                // The pool still runs closures.
                let results: Vec<_> = (0..10u32)
                    .map(|i| coro::spawn_blocking(move || i * i))
                    .collect();
                let squares: Vec<u32> = task::join_all(results)
                    .await
                    .into_iter()
                    .map(Result::unwrap)
                    .collect();
                assert_eq!(squares, (0..10).map(|i| i * i).collect::<Vec<_>>());
                // And async tasks are unaffected.
                assert_eq!(coro::spawn(async { 3 }).await.unwrap(), 3, "{flavor}/{max}");
            });
        }
    }
}

#[test]
fn a_panic_drops_values_and_wakes_the_joiner_waiting_elsewhere() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let task = coro::spawn(async move {
                go_rx.await.unwrap();
                panic!("after go");
            });
            // The joiner is already waiting when the panic happens.
            let joiner = coro::spawn(task);
            coro::yield_now().await;
            go_tx.send(()).unwrap();
            let err = joiner.await.unwrap().unwrap_err();
            assert_eq!(panic_payload(err), "after go", "{flavor}");
        });
    }
}

#[test]
fn into_panic_on_a_cancelled_error_panics_clearly() {
    let err = coro::block_on(async {
        let h = coro::spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.into_panic()))
        .expect_err("into_panic on a cancelled error must panic");
    assert!(
        panic_text(&*payload).contains("is_panic"),
        "{}",
        panic_text(&*payload)
    );
    // try_into_panic hands the error back instead.
    let err = coro::block_on(async {
        let h = coro::spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err()
    });
    let back = err.try_into_panic().unwrap_err();
    assert!(back.is_cancelled());
    // JoinError converts into io::Error.
    let io: std::io::Error = back.into();
    assert_eq!(io.kind(), std::io::ErrorKind::Interrupted);
}

// ---- abort --------------------------------------------------------------------------------

#[test]
fn abort_a_pending_task_runs_its_destructor() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        rt.block_on(async {
            let (started_tx, started_rx) = oneshot::channel();
            let guard = drops.guard();
            let handle = coro::spawn(async move {
                let _guard = guard;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            started_rx.await.unwrap();
            assert!(!handle.is_finished(), "{flavor}");
            handle.abort();
            handle.abort(); // twice is fine
            assert_cancelled(handle.await);
            assert_eq!(drops.count(), 1, "{flavor}");
        });
    }
}

#[test]
fn abort_before_the_first_poll() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let polled = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let guard = drops.guard();
            let polled2 = polled.clone();
            let handle = coro::spawn(async move {
                let _guard = guard;
                polled2.store(true, SeqCst);
            });
            handle.abort();
            // On a multi-thread runtime the task may already have run; either way the
            // outcome is consistent.
            match handle.await {
                Ok(()) => assert!(polled.load(SeqCst), "{flavor}"),
                Err(e) => assert!(e.is_cancelled(), "{flavor}"),
            }
        });
        assert_eq!(drops.count(), 1, "{flavor}");
    }
    // On a current-thread runtime it deterministically never runs.
    let polled = Arc::new(AtomicBool::new(false));
    coro::block_on({
        let polled = polled.clone();
        async move {
            let handle = coro::spawn(async move { polled.store(true, SeqCst) });
            handle.abort();
            assert_cancelled(handle.await);
        }
    });
    assert!(!polled.load(SeqCst));
}

#[test]
fn abort_a_finished_task_keeps_its_output() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let handle = coro::spawn(async { String::from("done") });
            wait_until(|| handle.is_finished()).await;
            handle.abort();
            assert!(handle.is_finished());
            assert_eq!(handle.await.unwrap(), "done", "{flavor}");

            // Same for a finished blocking task.
            let handle = coro::spawn_blocking(|| 5);
            wait_until(|| handle.is_finished()).await;
            handle.abort();
            assert_eq!(handle.await.unwrap(), 5, "{flavor}");
        });
    }
}

#[test]
fn abort_a_running_yielding_task() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let polls = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let guard = drops.guard();
            let counter = polls.clone();
            let handle = coro::spawn(async move {
                let _guard = guard;
                loop {
                    counter.fetch_add(1, SeqCst);
                    coro::yield_now().await;
                }
            });
            wait_until(|| polls.load(SeqCst) > 100).await;
            handle.abort();
            assert_cancelled(handle.await);
            assert_eq!(drops.count(), 1, "{flavor}");
            // The loop is gone: its counter no longer moves.
            let after = polls.load(SeqCst);
            for _ in 0..100 {
                coro::yield_now().await;
            }
            assert_eq!(polls.load(SeqCst), after, "{flavor}");
        });
    }
}

#[test]
fn abort_a_task_that_spins_on_the_budget() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let spins = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let guard = drops.guard();
            let spins2 = spins.clone();
            let handle = coro::spawn(async move {
                let _guard = guard;
                loop {
                    spins2.fetch_add(1, SeqCst);
                    task::consume_budget().await;
                }
            });
            wait_until(|| spins.load(SeqCst) > 1000).await;
            handle.abort();
            assert_cancelled(handle.await);
            assert_eq!(drops.count(), 1, "{flavor}");
        });
    }
}

#[test]
fn a_task_aborting_itself_stops_at_its_next_await() {
    for (flavor, rt) in flavors() {
        let reached = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let me: Arc<Mutex<Option<JoinHandle<()>>>> = Arc::default();
            let (go_tx, go_rx) = oneshot::channel::<()>();
            let handle = coro::spawn({
                let me = me.clone();
                let reached = reached.clone();
                async move {
                    go_rx.await.unwrap();
                    me.lock().unwrap().as_ref().unwrap().abort();
                    reached.store(1, SeqCst);
                    coro::yield_now().await;
                    reached.store(2, SeqCst);
                }
            });
            *me.lock().unwrap() = Some(handle);
            go_tx.send(()).unwrap();
            let handle = loop {
                // Take the handle back once the task has run.
                coro::yield_now().await;
                thread::yield_now();
                if reached.load(SeqCst) >= 1 {
                    break me.lock().unwrap().take().unwrap();
                }
            };
            assert_cancelled(handle.await);
            assert_eq!(reached.load(SeqCst), 1, "{flavor}");
        });
    }
}

#[test]
fn abort_a_blocking_task_that_has_not_started() {
    for flavor in FLAVORS {
        let rt = build(flavor, |b| {
            b.max_blocking_threads(1);
        });
        let drops = Drops::default();
        let ran = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        // Occupies the only blocking thread until released.
        let first = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            "first"
        });
        started_rx.recv().unwrap();
        // Queued behind `first`: it cannot have started.
        let second = rt.spawn_blocking({
            let guard = drops.guard();
            let ran = ran.clone();
            move || {
                let _guard = guard;
                ran.store(true, SeqCst);
                "second"
            }
        });
        let third = rt.spawn_blocking(|| "third");
        assert!(!second.is_finished(), "{flavor}");
        second.abort();
        release_tx.send(()).unwrap();
        let (first, second, third) =
            rt.block_on(async { (first.await, second.await, third.await) });
        assert_eq!(first.unwrap(), "first", "{flavor}");
        assert_cancelled(second);
        assert_eq!(third.unwrap(), "third", "{flavor}");
        assert!(
            !ran.load(SeqCst),
            "{flavor}: an aborted blocking closure ran"
        );
        // The closure (and what it captured) was dropped without running.
        assert_eq!(drops.count(), 1, "{flavor}");
    }
}

#[test]
fn is_finished_tracks_completion_panic_and_abort() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u8>();
            let waiting = coro::spawn(async move { rx.await.unwrap() });
            let panicking = coro::spawn(async { panic!("p") });
            let pending = coro::spawn(std::future::pending::<()>());
            coro::yield_now().await;
            assert!(!waiting.is_finished(), "{flavor}");
            assert!(!pending.is_finished(), "{flavor}");
            wait_until(|| panicking.is_finished()).await;
            tx.send(9).unwrap();
            wait_until(|| waiting.is_finished()).await;
            pending.abort();
            wait_until(|| pending.is_finished()).await;
            assert_eq!(waiting.await.unwrap(), 9);
            assert!(panicking.await.unwrap_err().is_panic());
            assert_cancelled(pending.await);
        });
    }
}

#[test]
fn abort_of_a_running_blocking_task_lets_it_finish() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let handle = coro::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                11
            });
            coro::spawn_blocking(move || started_rx.recv().unwrap())
                .await
                .unwrap();
            // Blocking code cannot be interrupted: the abort comes too late and the output
            // is kept, as in tokio.
            handle.abort();
            release_tx.send(()).unwrap();
            assert_eq!(handle.await.unwrap(), 11, "{flavor}");
        });
    }
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    for (flavor, rt) in flavors() {
        let (tx, rx) = std::sync::mpsc::channel();
        rt.block_on(async move {
            let (go_tx, go_rx) = oneshot::channel::<()>();
            drop(coro::spawn(async move {
                go_rx.await.unwrap();
                tx.send("detached task ran").unwrap();
            }));
            go_tx.send(()).unwrap();
            // The task holds `tx`: once it ran, the std channel yields its message.
            coro::spawn_blocking(move || rx.recv().unwrap())
                .await
                .map(|msg| assert_eq!(msg, "detached task ran", "{flavor}"))
                .unwrap();
        });
    }
}

// ---- JoinSet and join_all -----------------------------------------------------------------

#[test]
fn join_set_yields_tasks_in_completion_order() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            let mut release = Vec::new();
            for id in 0..6usize {
                let (tx, rx) = oneshot::channel::<()>();
                release.push(Some(tx));
                set.spawn(async move {
                    rx.await.unwrap();
                    id
                });
            }
            assert_eq!(set.len(), 6, "{flavor}");
            assert!(!set.is_empty());
            // Each task can only finish once released; release them out of spawn order and
            // check they come out in exactly that order.
            let order = [3, 1, 5, 0, 4, 2];
            for (k, &id) in order.iter().enumerate() {
                release[id].take().unwrap().send(()).unwrap();
                let got = set.join_next().await.unwrap().unwrap();
                assert_eq!(got, id, "{flavor}: completion #{k}");
                assert_eq!(set.len(), order.len() - k - 1, "{flavor}");
            }
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none(), "{flavor}");
            assert!(set.join_next().await.is_none(), "{flavor}: None again");
        });
    }
}

#[test]
fn join_set_finished_tasks_come_before_waiting_ones() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                "late"
            });
            for _ in 0..3 {
                set.spawn(async { "early" });
            }
            for _ in 0..3 {
                assert_eq!(set.join_next().await.unwrap().unwrap(), "early", "{flavor}");
            }
            assert_eq!(set.len(), 1);
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), "late", "{flavor}");
        });
    }
}

#[test]
fn join_set_reports_panics_and_keeps_going() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..20u32 {
                set.spawn(async move {
                    if i % 5 == 0 {
                        panic!("task {i}");
                    }
                    i
                });
            }
            let (mut ok, mut panics) = (0, Vec::new());
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => ok += v,
                    Err(e) => panics.push(panic_payload(e)),
                }
            }
            panics.sort();
            assert_eq!(
                panics,
                ["task 0", "task 10", "task 15", "task 5"],
                "{flavor}"
            );
            assert_eq!(ok, (0..20).filter(|i| i % 5 != 0).sum::<u32>(), "{flavor}");
        });
    }
}

#[test]
fn join_set_abort_all_leaves_tasks_until_joined() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        rt.block_on(async {
            let mut set = JoinSet::new();
            let started = Arc::new(AtomicUsize::new(0));
            for _ in 0..5 {
                let guard = drops.guard();
                let started = started.clone();
                set.spawn(async move {
                    let _guard = guard;
                    started.fetch_add(1, SeqCst);
                    std::future::pending::<u32>().await
                });
            }
            // A finished task keeps its output through abort_all.
            let finished = coro::spawn(async { 77 });
            wait_until(|| finished.is_finished() && started.load(SeqCst) == 5).await;
            set.insert(finished);
            assert_eq!(set.len(), 6);

            set.abort_all();
            assert_eq!(set.len(), 6, "{flavor}: abort_all must not remove tasks");
            let (mut cancelled, mut outputs) = (0, Vec::new());
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => outputs.push(v),
                    Err(e) => {
                        assert!(e.is_cancelled(), "{flavor}: {e:?}");
                        cancelled += 1;
                    }
                }
            }
            assert_eq!(cancelled, 5, "{flavor}");
            assert_eq!(outputs, [77], "{flavor}");
            assert!(set.is_empty());
        });
        assert_eq!(drops.count(), 5, "{flavor}");
    }
}

#[test]
fn join_set_shutdown_aborts_and_waits() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                let guard = drops.guard();
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            set.shutdown().await;
            assert!(set.is_empty(), "{flavor}");
            assert_eq!(drops.count(), 10, "{flavor}");
            // The set is reusable afterwards.
            set.spawn(async {});
            assert!(set.join_next().await.unwrap().is_ok());
        });
    }
}

#[test]
fn dropping_a_join_set_aborts_its_tasks() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let finished_normally = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let started = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            for i in 0..20 {
                let guard = drops.guard();
                let started = started.clone();
                let finished_normally = finished_normally.clone();
                set.spawn(async move {
                    let _guard = guard;
                    started.fetch_add(1, SeqCst);
                    if i % 2 == 0 {
                        std::future::pending::<()>().await;
                    } else {
                        // Busy but cooperative.
                        loop {
                            coro::yield_now().await;
                        }
                    }
                    finished_normally.fetch_add(1, SeqCst);
                });
            }
            wait_until(|| started.load(SeqCst) == 20).await;
            drop(set);
            // The aborted tasks drop their futures on their next turn.
            wait_until(|| drops.count() == 20).await;
        });
        assert_eq!(drops.count(), 20, "{flavor}");
        assert_eq!(finished_normally.load(SeqCst), 0, "{flavor}");
    }
}

#[test]
fn join_set_poll_join_next_and_stream() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let mut set: JoinSet<u32> = (1..=4).fold(JoinSet::new(), |mut set, i| {
                set.spawn(async move { i * 10 });
                set
            });
            let first = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
            let mut all = vec![first.unwrap().unwrap()];
            // JoinSet is also a Stream of results.
            while let Some(result) = set.next().await {
                all.push(result.unwrap());
            }
            all.sort_unstable();
            assert_eq!(all, [10, 20, 30, 40], "{flavor}");
            assert_eq!(format!("{set:?}"), "JoinSet { len: 0 }");
        });
    }
}

#[test]
fn join_all_preserves_input_order() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let mut release = Vec::new();
            let handles: Vec<_> = (0..8u32)
                .map(|i| {
                    let (tx, rx) = oneshot::channel::<()>();
                    release.push(tx);
                    coro::spawn(async move {
                        rx.await.unwrap();
                        i * 100
                    })
                })
                .collect();
            // Finish them in reverse order, one at a time, from another task.
            let releaser = coro::spawn(async move {
                while let Some(tx) = release.pop() {
                    tx.send(()).unwrap();
                    coro::yield_now().await;
                }
            });
            let results = task::join_all(handles).await;
            releaser.await.unwrap();
            let values: Vec<u32> = results.into_iter().map(Result::unwrap).collect();
            assert_eq!(
                values,
                (0..8).map(|i| i * 100).collect::<Vec<_>>(),
                "{flavor}"
            );

            // With a panic and an abort in the middle, each result stays in its place.
            let handles = vec![
                coro::spawn(async { 1 }),
                coro::spawn(async { panic!("middle") }),
                coro::spawn(std::future::pending::<i32>()),
                coro::spawn(async { 4 }),
            ];
            handles[2].abort();
            let results = task::join_all(handles).await;
            assert_eq!(results.len(), 4);
            assert_eq!(*results[0].as_ref().unwrap(), 1);
            assert!(results[1].as_ref().unwrap_err().is_panic());
            assert!(results[2].as_ref().unwrap_err().is_cancelled());
            assert_eq!(*results[3].as_ref().unwrap(), 4);

            // Any futures, not only JoinHandles.
            let plain = task::join_all((0..5).map(|i| async move { i + 1 })).await;
            assert_eq!(plain, [1, 2, 3, 4, 5]);
            let empty: Vec<JoinHandle<()>> = Vec::new();
            assert!(task::join_all(empty).await.is_empty());
        });
    }
}

// ---- nested spawns ------------------------------------------------------------------------

/// Spawns a tree of tasks: each node spawns `fanout` children and returns the size of its
/// subtree.
fn spawn_tree(
    depth: u32,
    fanout: u32,
    visited: Arc<AtomicUsize>,
) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        visited.fetch_add(1, SeqCst);
        if depth == 0 {
            return 1;
        }
        let children: Vec<_> = (0..fanout)
            .map(|_| coro::spawn(spawn_tree(depth - 1, fanout, visited.clone())))
            .collect();
        let mut total = 1;
        for child in children {
            total += child.await.unwrap();
        }
        total
    })
}

#[test]
fn nested_spawn_tree() {
    for (flavor, rt) in flavors() {
        for (depth, fanout) in [(6u32, 4u32), (12, 2), (1, 1000), (200, 1)] {
            let visited = Arc::new(AtomicUsize::new(0));
            let total = rt.block_on(rt.spawn(spawn_tree(depth, fanout, visited.clone())));
            let expected = (0..=depth).map(|d| (fanout as usize).pow(d)).sum::<usize>();
            assert_eq!(
                total.unwrap(),
                expected,
                "{flavor} depth {depth} fanout {fanout}"
            );
            assert_eq!(visited.load(SeqCst), expected, "{flavor}");
        }
    }
}

#[test]
fn spawn_through_handle_current_and_join_set_inside_tasks() {
    for (flavor, rt) in flavors() {
        let total = rt.block_on(async {
            coro::spawn(async {
                let handle = Handle::current();
                let mut set = JoinSet::new();
                for i in 0..50u64 {
                    let inner = handle.clone();
                    set.spawn(async move { inner.spawn(async move { i }).await.unwrap() });
                }
                let mut total = 0;
                while let Some(r) = set.join_next().await {
                    total += r.unwrap();
                }
                total
            })
            .await
            .unwrap()
        });
        assert_eq!(total, 49 * 25, "{flavor}");
    }
}

// ---- spawn_blocking -----------------------------------------------------------------------

#[test]
fn spawn_blocking_returns_results() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let v = coro::spawn_blocking(|| vec![1, 2, 3]).await.unwrap();
            assert_eq!(v, [1, 2, 3], "{flavor}");
            // From a task, through the runtime and through a handle.
            let from_task = coro::spawn(async { coro::spawn_blocking(|| 6 * 7).await.unwrap() });
            assert_eq!(from_task.await.unwrap(), 42);
            assert_eq!(Handle::current().spawn_blocking(|| "h").await.unwrap(), "h");
        });
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 5)).unwrap(), 5, "{flavor}");
    }
}

#[test]
fn spawn_and_handle_current_inside_spawn_blocking() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let (a, b, c, had_context) = coro::spawn_blocking(|| {
                let handle = Handle::current();
                let a = coro::spawn(async { 1 });
                let b = handle.spawn(async { coro::spawn(async { 2 }).await.unwrap() });
                let c = handle.spawn_blocking(|| 3);
                (a, b, c, Handle::try_current().is_some())
            })
            .await
            .unwrap();
            assert!(had_context, "{flavor}");
            assert_eq!(a.await.unwrap() + b.await.unwrap() + c.await.unwrap(), 6);

            // A blocking closure may wait synchronously for an async task of its runtime.
            let waited = coro::spawn_blocking(|| {
                let task = coro::spawn(async {
                    coro::yield_now().await;
                    "from a task"
                });
                futures::executor::block_on(task).unwrap()
            })
            .await
            .unwrap();
            assert_eq!(waited, "from a task", "{flavor}");

            // And `block_on` is allowed there (it is not a runtime thread): a fresh runtime.
            let nested = coro::spawn_blocking(|| {
                coro::block_on(async { coro::spawn(async { 9 }).await.unwrap() })
            })
            .await
            .unwrap();
            assert_eq!(nested, 9, "{flavor}");
        });
    }
}

#[test]
fn many_blocking_tasks_never_exceed_max_blocking_threads() {
    for flavor in FLAVORS {
        let rt = build(flavor, |b| {
            b.max_blocking_threads(2).thread_name("capped");
        });
        let running = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let sum = rt.block_on({
            let (running, high_water, threads) =
                (running.clone(), high_water.clone(), threads.clone());
            async move {
                let handles: Vec<_> = (0..200u64)
                    .map(|i| {
                        let (running, high_water, threads) =
                            (running.clone(), high_water.clone(), threads.clone());
                        let work = move || {
                            let now = running.fetch_add(1, SeqCst) + 1;
                            high_water.fetch_max(now, SeqCst);
                            threads.lock().unwrap().insert(thread::current().id());
                            assert_eq!(thread::current().name(), Some("capped-blocking"));
                            for _ in 0..50 {
                                thread::yield_now();
                            }
                            running.fetch_sub(1, SeqCst);
                            i
                        };
                        // Half submitted from tasks, half from the block_on future.
                        if i % 2 == 0 {
                            coro::spawn_blocking(work)
                        } else {
                            coro::spawn(async move { coro::spawn_blocking(work).await.unwrap() })
                        }
                    })
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(sum, 199 * 100, "{flavor}");
        let high_water = high_water.load(SeqCst);
        assert!(
            (1..=2).contains(&high_water),
            "{flavor}: {high_water} ran at once"
        );
        let threads = threads.lock().unwrap().len();
        assert!(
            threads <= 2,
            "{flavor}: {threads} distinct blocking threads"
        );
    }
}

#[test]
fn two_blocking_threads_do_run_at_the_same_time() {
    for flavor in FLAVORS {
        let rt = build(flavor, |b| {
            b.max_blocking_threads(2);
        });
        let meet = Rendezvous::new(2);
        let results = rt.block_on(task::join_all((0..2).map(|_| {
            let meet = meet.clone();
            coro::spawn_blocking(move || meet.wait())
        })));
        for r in results {
            assert!(
                r.unwrap(),
                "{flavor}: the two blocking closures never ran together"
            );
        }
    }
}

// ---- spawn_local --------------------------------------------------------------------------

#[test]
fn spawn_local_with_rc_on_a_current_thread_runtime() {
    let rt = current_thread();
    let log = rt.block_on(async {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let handles: Vec<JoinHandle<Rc<u32>>> = (0..5u32)
            .map(|i| {
                let log = log.clone();
                coro::spawn_local(async move {
                    log.borrow_mut().push(i);
                    coro::yield_now().await;
                    log.borrow_mut().push(100 + i);
                    Rc::new(i) // a !Send output
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for h in handles {
            outputs.push(*h.await.unwrap());
        }
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    // yield_now sends a task to the back of the queue: round-robin.
    assert_eq!(log, [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
}

#[coro::test]
async fn spawn_local_in_coro_test_and_from_inside_a_task() {
    let shared = Rc::new(std::cell::Cell::new(0));
    let local = coro::spawn_local({
        let shared = shared.clone();
        async move {
            // A local task may spawn more local tasks.
            let inner = coro::spawn_local({
                let shared = shared.clone();
                async move { shared.set(shared.get() + 1) }
            });
            inner.await.unwrap();
            shared.set(shared.get() + 10);
        }
    });
    local.await.unwrap();
    assert_eq!(shared.get(), 11);
    // From inside a Send task of the current-thread runtime too.
    let n = coro::spawn(async {
        let rc = Rc::new(5);
        let h = coro::spawn_local(async move { *rc * 2 });
        h.await.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(n, 10);
}

#[test]
fn spawn_local_panics_aborts_and_foreign_wakes() {
    coro::block_on(async {
        let err = coro::spawn_local(async {
            let _rc = Rc::new(());
            panic!("local panic")
        })
        .await
        .unwrap_err();
        assert_eq!(panic_payload(err), "local panic");

        let drops = Drops::default();
        let guard = drops.guard();
        let pending = coro::spawn_local(async move {
            let _guard = guard;
            let _rc = Rc::new(());
            std::future::pending::<()>().await
        });
        coro::yield_now().await;
        pending.abort();
        assert_cancelled(pending.await);
        assert_eq!(drops.count(), 1);

        // A local task woken by a plain thread runs again on this thread.
        let here = thread::current().id();
        let (tx, rx) = foreign::oneshot::<u32>();
        let sender = thread::spawn(move || tx.send_to_waiting(3));
        let local = coro::spawn_local(async move {
            let rc = Rc::new(rx.await);
            (*rc, thread::current().id())
        });
        assert_eq!(local.await.unwrap(), (3, here));
        sender.join().unwrap();
    });
}

#[test]
fn pending_local_tasks_are_dropped_with_their_runtime() {
    let drops = Drops::default();
    let rt = current_thread();
    rt.block_on(async {
        for _ in 0..10 {
            let guard = drops.guard();
            drop(coro::spawn_local(async move {
                let _guard = guard;
                let _rc = Rc::new(());
                std::future::pending::<()>().await
            }));
        }
        coro::yield_now().await;
    });
    assert_eq!(drops.count(), 0);
    drop(rt);
    assert_eq!(drops.count(), 10);
}

// ---- yield_now and the cooperative budget -------------------------------------------------

#[test]
fn yield_now_lets_other_tasks_run_first() {
    let order = Arc::new(Mutex::new(Vec::new()));
    coro::block_on({
        let order = order.clone();
        async move {
            let other = coro::spawn({
                let order = order.clone();
                async move { order.lock().unwrap().push("other") }
            });
            coro::yield_now().await;
            order.lock().unwrap().push("main");
            other.await.unwrap();
            // The same function is in the task module.
            task::yield_now().await;
        }
    });
    assert_eq!(*order.lock().unwrap(), ["other", "main"]);
}

/// A task spinning on `consume_budget` in an endless loop must not keep another task of the
/// same thread from running: the other one sets the flag that ends the loop.
fn budget_spinner_does_not_starve(rt: &Runtime, what: &str) {
    let spins = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let spinner = coro::spawn({
            let stop = stop.clone();
            async move {
                // Spawned from inside the spinner, so on a one-worker runtime the setter
                // lands on the spinner's own worker.
                let setter = coro::spawn({
                    let stop = stop.clone();
                    async move {
                        // Several turns, so the spinner must give the thread up repeatedly.
                        for _ in 0..10 {
                            coro::yield_now().await;
                        }
                        stop.store(true, SeqCst);
                    }
                });
                let mut spins = 0u64;
                while !stop.load(SeqCst) {
                    spins += 1;
                    task::consume_budget().await;
                }
                setter.await.unwrap();
                spins
            }
        });
        spinner.await.unwrap()
    });
    assert!(spins > 0, "{what}");
}

#[test]
fn consume_budget_spinner_does_not_starve_other_tasks() {
    budget_spinner_does_not_starve(&current_thread(), "current_thread");
    budget_spinner_does_not_starve(&multi_thread(1), "multi_thread with one worker");
    budget_spinner_does_not_starve(&multi_thread(2), "multi_thread with two workers");
}

/// Tasks that yield forever keep their worker's local queue full; a task spawned from a plain
/// thread goes through the injection queue and must still get its turn (the fairness pick),
/// here by ending the yielders. They give up after a bounded number of yields, so a broken
/// fairness pick fails the assertion instead of hanging.
fn remote_spawn_runs_while_local_tasks_keep_yielding(rt: &Runtime, what: &str) {
    const YIELDERS: usize = 64;
    const GIVE_UP_AFTER: u64 = 2_000_000;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    // The plain thread spawns the stopper once every yielder is running.
    let spawner = thread::spawn({
        let (handle, stop, started) = (rt.handle().clone(), stop.clone(), started.clone());
        move || {
            while started.load(SeqCst) < YIELDERS {
                thread::yield_now();
            }
            handle.spawn(async move { stop.store(true, SeqCst) })
        }
    });
    let outcome = rt.block_on({
        let stop = stop.clone();
        let started = started.clone();
        async move {
            // Spawned from a task, so every yielder lives in the workers' local queues.
            let yielders = coro::spawn(async move {
                let tasks: Vec<_> = (0..YIELDERS)
                    .map(|_| {
                        let (stop, started) = (stop.clone(), started.clone());
                        coro::spawn(async move {
                            started.fetch_add(1, SeqCst);
                            let mut yields = 0;
                            while !stop.load(SeqCst) && yields < GIVE_UP_AFTER {
                                yields += 1;
                                coro::yield_now().await;
                            }
                            stop.load(SeqCst)
                        })
                    })
                    .collect();
                let mut all_stopped = true;
                for task in tasks {
                    all_stopped &= task.await.unwrap();
                }
                all_stopped
            });
            yielders.await.unwrap()
        }
    });
    assert!(outcome, "{what}: the remotely spawned task never ran");
    let stopper = spawner.join().unwrap();
    rt.block_on(stopper).unwrap();
}

#[test]
fn a_task_spawned_from_a_plain_thread_runs_while_local_tasks_keep_yielding() {
    remote_spawn_runs_while_local_tasks_keep_yielding(&current_thread(), "current_thread");
    remote_spawn_runs_while_local_tasks_keep_yielding(&multi_thread(1), "multi_thread(1)");
    remote_spawn_runs_while_local_tasks_keep_yielding(&multi_thread(2), "multi_thread(2)");
}

#[test]
fn consume_budget_in_the_block_on_future_lets_tasks_run() {
    let rt = current_thread();
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let setter = coro::spawn({
            let stop = stop.clone();
            async move {
                for _ in 0..10 {
                    coro::yield_now().await;
                }
                stop.store(true, SeqCst);
            }
        });
        while !stop.load(SeqCst) {
            task::consume_budget().await;
        }
        setter.await.unwrap();
    });
}

#[test]
fn a_loop_joining_finished_tasks_yields_to_others() {
    // Awaiting an already finished JoinHandle spends budget, so a task that joins thousands
    // of finished tasks in a row still lets another task of the same thread run before it is
    // done.
    let rt = current_thread();
    rt.block_on(async {
        let finished: Vec<_> = (0..2000u64)
            .map(|i| coro::spawn(async move { i }))
            .collect();
        wait_until(|| finished.iter().all(JoinHandle::is_finished)).await;
        let other_ran = Arc::new(AtomicBool::new(false));
        let joiner = coro::spawn({
            let other_ran = other_ran.clone();
            async move {
                let mut sum = 0;
                for h in finished {
                    sum += h.await.unwrap();
                }
                (sum, other_ran.load(SeqCst))
            }
        });
        let other = coro::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, SeqCst) }
        });
        let (sum, other_ran_meanwhile) = joiner.await.unwrap();
        other.await.unwrap();
        assert_eq!(sum, 1999 * 1000);
        assert!(other_ran_meanwhile, "the joining loop never yielded");
    });
}

#[test]
fn join_handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JoinHandle<u32>>();
    assert_send_sync::<JoinError>();
    assert_send_sync::<JoinSet<String>>();
}
