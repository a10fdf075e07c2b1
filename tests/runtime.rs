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
use std::time::Duration;

use coro::runtime::{Builder, Handle};
use coro::task::{JoinError, JoinHandle, JoinSet};
use coro::Runtime;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;

mod common;
use common::*;

// ---- helpers ------------------------------------------------------------------------------

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

// ---- types and builder --------------------------------------------------------------------

#[test]
fn runtime_and_handle_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<JoinHandle<Vec<u8>>>();
    assert_send_sync::<JoinError>();
    assert_send::<Builder>();
    assert_send::<JoinSet<u8>>();
}

#[test]
fn builder_works_chained_and_step_by_step() {
    let rt = Runtime::builder()
        .worker_threads(3)
        .thread_name("chained")
        .max_blocking_threads(4)
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { coro::spawn(async { 1 }).await.unwrap() }),
        1
    );
    let names = rt.block_on(names_of_n_workers(3));
    let expected: HashSet<String> = (0..3).map(|i| format!("chained-{i}")).collect();
    assert_eq!(names, expected);

    let mut builder = Runtime::builder();
    builder.multi_thread();
    builder.current_thread(); // the last flavor chosen wins
    builder.thread_name(String::from("stepwise"));
    let debug = format!("{builder:?}");
    assert!(
        debug.contains("CurrentThread") && debug.contains("stepwise"),
        "{debug}"
    );
    let rt = builder.build().unwrap();
    let here = thread::current().id();
    assert_eq!(
        rt.block_on(rt.spawn(async { thread::current().id() }))
            .unwrap(),
        here
    );
    assert!(format!("{:?}", rt.handle()).contains("current_thread"));

    // A builder can build several runtimes.
    let mut builder = Runtime::builder();
    builder.worker_threads(1);
    let (a, b) = (builder.build().unwrap(), builder.build().unwrap());
    assert_eq!(a.block_on(async { 1 }) + b.block_on(async { 2 }), 3);
    assert!(format!("{:?}", a.handle()).contains("multi_thread"));

    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { 7 * 6 }), 42);
}

#[test]
fn worker_threads_zero_panics_with_a_clear_message() {
    let msg = panic_message(|| {
        Runtime::builder().worker_threads(0);
    });
    assert!(msg.contains("worker_threads(0)"), "{msg}");
    assert!(msg.contains("at least one worker"), "{msg}");
    let msg = panic_message(|| {
        Runtime::builder().max_blocking_threads(0);
    });
    assert!(msg.contains("max_blocking_threads(0)"), "{msg}");
}

// ---- thread names -------------------------------------------------------------------------

#[test]
fn worker_and_blocking_threads_are_named() {
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_name("mypool")
        .build()
        .unwrap();
    rt.block_on(async {
        let names = names_of_n_workers(2).await;
        let expected: HashSet<String> = ["mypool-0", "mypool-1"].map(String::from).into();
        assert_eq!(names, expected);
        // A task spawned from any thread runs on one of them.
        let name = Handle::current()
            .spawn(async { thread::current().name().unwrap().to_owned() })
            .await
            .unwrap();
        assert!(expected.contains(&name), "{name}");
        let blocking = coro::spawn_blocking(|| thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(blocking.as_deref(), Some("mypool-blocking"));
    });
    // The multi-thread runtime's block_on future runs on the calling thread itself.
    let caller = thread::current().id();
    assert_eq!(rt.block_on(async { thread::current().id() }), caller);
}

#[test]
fn default_thread_names_and_one_worker_per_core() {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let rt = Runtime::new().unwrap();
    let names = rt.block_on(names_of_n_workers(cores));
    let expected: HashSet<String> = (0..cores).map(|i| format!("coro-{i}")).collect();
    assert_eq!(names, expected);
    let blocking = rt
        .block_on(rt.spawn_blocking(|| thread::current().name().map(str::to_owned)))
        .unwrap();
    assert_eq!(blocking.as_deref(), Some("coro-blocking"));
}

#[test]
fn current_thread_runtime_runs_tasks_on_the_caller_and_names_blocking_threads() {
    let rt = Runtime::builder()
        .current_thread()
        .thread_name("ct")
        .build()
        .unwrap();
    let caller = thread::current().id();
    let (task_thread, blocking_name) = rt.block_on(async {
        let task = coro::spawn(async { thread::current().id() });
        let blocking = coro::spawn_blocking(|| thread::current().name().map(str::to_owned));
        (task.await.unwrap(), blocking.await.unwrap())
    });
    assert_eq!(task_thread, caller);
    assert_eq!(blocking_name.as_deref(), Some("ct-blocking"));
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn coro_test_macro_builds_a_two_worker_runtime() {
    let names = names_of_n_workers(2).await;
    assert_eq!(names.len(), 2);
    assert!(names.iter().all(|n| n.starts_with("coro-")), "{names:?}");
    assert!(Handle::try_current().is_some());
}

// ---- handles and context ------------------------------------------------------------------

#[test]
fn handle_try_current_and_enter() {
    assert!(Handle::try_current().is_none());
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            assert!(Handle::try_current().is_some(), "{flavor}: block_on future");
            let in_task = coro::spawn(async { Handle::try_current().is_some() });
            assert!(in_task.await.unwrap(), "{flavor}: task");
            let in_blocking = coro::spawn_blocking(|| Handle::try_current().is_some());
            assert!(in_blocking.await.unwrap(), "{flavor}: spawn_blocking");
        });
        assert!(
            Handle::try_current().is_none(),
            "{flavor}: left after block_on"
        );

        // `enter` makes `coro::spawn` work on a plain thread.
        let task = {
            let _guard = rt.handle().enter();
            assert!(Handle::try_current().is_some());
            coro::spawn(async { "entered" })
        };
        assert!(
            Handle::try_current().is_none(),
            "{flavor}: left after the guard"
        );
        assert_eq!(rt.block_on(task).unwrap(), "entered", "{flavor}");
    }
}

#[test]
fn nested_enter_guards_restore_the_previous_runtime() {
    let one = Runtime::builder()
        .worker_threads(1)
        .thread_name("one")
        .build()
        .unwrap();
    let two = Runtime::builder()
        .worker_threads(1)
        .thread_name("two")
        .build()
        .unwrap();
    let name = || async { thread::current().name().unwrap().to_owned() };
    let _outer = one.handle().enter();
    let in_two = {
        let _inner = two.handle().enter();
        coro::spawn(name())
    };
    let in_one = coro::spawn(name());
    assert_eq!(futures::executor::block_on(in_two).unwrap(), "two-0");
    assert_eq!(futures::executor::block_on(in_one).unwrap(), "one-0");
}

#[test]
fn handle_spawn_from_many_plain_threads() {
    for (flavor, rt) in flavors() {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let handle = rt.handle().clone();
                thread::spawn(move || {
                    (0..500u64)
                        .map(|i| handle.spawn(async move { t * 1000 + i }))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let tasks: Vec<JoinHandle<u64>> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        let expected: u64 = (0..4u64)
            .flat_map(|t| (0..500u64).map(move |i| t * 1000 + i))
            .sum();
        assert_eq!(sum, expected, "{flavor}");
    }
}

#[test]
fn a_handle_outliving_its_runtime_cancels_new_tasks() {
    for (flavor, rt) in flavors() {
        let handle = rt.handle().clone();
        drop(rt);
        let drops = Drops::default();
        let guard = drops.guard();
        let task = handle.spawn(async move {
            let _guard = guard;
            1
        });
        // The future was dropped at once, without running.
        assert_eq!(drops.count(), 1, "{flavor}");
        let err = futures::executor::block_on(task).unwrap_err();
        assert!(err.is_cancelled(), "{flavor}");
        let err = futures::executor::block_on(handle.spawn_blocking(|| 2)).unwrap_err();
        assert!(err.is_cancelled(), "{flavor}");
    }
}

#[test]
fn joining_a_task_of_another_runtime() {
    let producer = build("multi_thread", |_| {});
    let consumer = build("current_thread", |_| {});
    let (tx, rx) = oneshot::channel::<u32>();
    let task = producer.spawn(async move { rx.await.unwrap() + 1 });
    let sender = thread::spawn(move || tx.send(41).unwrap());
    // The consumer runtime waits on a waker fired by a worker of the producer runtime.
    assert_eq!(consumer.block_on(task).unwrap(), 42);
    sender.join().unwrap();

    // And the other way round, with the wake coming from the current-thread runtime's thread.
    let (tx, rx) = oneshot::channel::<u32>();
    let waiting = producer.spawn(async move { rx.await.unwrap() });
    consumer.block_on(async move {
        coro::spawn(async move { tx.send(5).unwrap() })
            .await
            .unwrap();
    });
    assert_eq!(producer.block_on(waiting).unwrap(), 5);
}

// ---- block_on -----------------------------------------------------------------------------

#[test]
fn coro_block_on_runs_on_the_calling_thread_and_cancels_leftovers() {
    let here = thread::current().id();
    let drops = Drops::default();
    let guard = drops.guard();
    let (value, task_thread) = coro::block_on(async move {
        drop(coro::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        let t = coro::spawn(async { thread::current().id() }).await.unwrap();
        (5, t)
    });
    assert_eq!(value, 5);
    assert_eq!(task_thread, here);
    // The runtime of `coro::block_on` is gone, and with it the pending task.
    assert_eq!(drops.count(), 1);
    assert!(Handle::try_current().is_none());
}

#[test]
fn block_on_can_be_called_repeatedly_and_tasks_persist_between_calls() {
    for (flavor, rt) in flavors() {
        let (tx, rx) = oneshot::channel::<u32>();
        // The block hands the task's JoinHandle out of block_on on purpose.
        #[allow(clippy::async_yields_async)]
        let waiting = rt.block_on(async move {
            let waiting = coro::spawn(async move { rx.await.unwrap() * 2 });
            coro::yield_now().await;
            waiting
        });
        // Between the calls a current-thread runtime runs nothing; the task is still there.
        tx.send(21).unwrap();
        assert_eq!(rt.block_on(waiting).unwrap(), 42, "{flavor}");
        for i in 0..100 {
            assert_eq!(rt.block_on(async move { i }), i, "{flavor}");
        }
    }
}

#[test]
fn a_panic_in_block_on_propagates_and_the_runtime_stays_usable() {
    for (flavor, rt) in flavors() {
        let msg = panic_message(|| rt.block_on(async { panic!("main future panicked") }));
        assert_eq!(msg, "main future panicked", "{flavor}");
        // After the unwinding, the same runtime still runs futures and tasks (the thread is no
        // longer considered inside the runtime either).
        assert!(Handle::try_current().is_none(), "{flavor}");
        let v = rt.block_on(async {
            let handles: Vec<_> = (0..100).map(|i| coro::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(v, 4950, "{flavor}");
    }
}

#[test]
fn current_thread_block_on_from_two_threads_at_once() {
    let rt = Arc::new(build("current_thread", |_| {}));
    let (tx, rx) = oneshot::channel::<&str>();
    let (entered_tx, entered_rx) = std_mpsc::channel::<()>();
    let waiter = {
        let rt = rt.clone();
        thread::spawn(move || {
            rt.block_on(async move {
                entered_tx.send(()).unwrap();
                rx.await.unwrap()
            })
        })
    };
    entered_rx.recv().unwrap();
    // This thread drives the runtime's tasks meanwhile (or waits for the core, then does).
    let sum = rt.block_on(async move {
        let tasks: Vec<_> = (0..100u32).map(|i| coro::spawn(async move { i })).collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        tx.send("from the other block_on").unwrap();
        sum
    });
    assert_eq!(sum, 4950);
    assert_eq!(waiter.join().unwrap(), "from the other block_on");
}

// ---- misuse: clear panics instead of deadlocks ----------------------------------------------

#[test]
fn spawn_outside_a_runtime_panics_with_a_helpful_message() {
    let msg = panic_message(|| drop(coro::spawn(async {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    assert!(msg.contains("no coro runtime"), "{msg}");
    let msg = panic_message(|| drop(coro::spawn_blocking(|| {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    let msg = panic_message(Handle::current);
    assert!(msg.contains("#[coro::main]"), "{msg}");
    let msg = panic_message(|| JoinSet::new().spawn(async {}));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    // And after a runtime was used on this thread and left.
    coro::block_on(async {});
    let msg = panic_message(|| drop(coro::spawn(async {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
}

fn assert_use_await_message(msg: &str) {
    assert!(
        msg.contains("cannot block on a future from inside a coro runtime"),
        "{msg}"
    );
    assert!(msg.contains("Use `.await`"), "{msg}");
}

#[test]
fn block_on_inside_block_on_panics_instead_of_deadlocking() {
    for flavor in FLAVORS {
        no_hang("nested block_on", move || {
            let rt = build(flavor, |_| {});
            let other = build(flavor, |_| {});
            // `coro::block_on` inside `rt.block_on`.
            let msg = panic_message(|| rt.block_on(async { coro::block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // The same runtime's block_on inside its block_on.
            let msg = panic_message(|| rt.block_on(async { rt.block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // Another runtime's block_on.
            let msg = panic_message(|| rt.block_on(async { other.block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // The runtime still works afterwards.
            assert_eq!(
                rt.block_on(async { coro::spawn(async { 3 }).await.unwrap() }),
                3
            );
        });
    }
}

#[test]
fn block_on_inside_a_task_panics_instead_of_deadlocking() {
    for flavor in FLAVORS {
        no_hang("block_on in a task", move || {
            let rt = Arc::new(build(flavor, |_| {}));
            rt.block_on(async {
                let err = coro::spawn(async { coro::block_on(async { 1 }) })
                    .await
                    .unwrap_err();
                assert_use_await_message(&join_error_message(err));
                // Blocking on a task of the same runtime from inside a task: the classic
                // deadlock, refused.
                let rt2 = rt.clone();
                let err = coro::spawn(async move {
                    let inner = coro::spawn(async { 2 });
                    rt2.block_on(inner)
                })
                .await
                .unwrap_err();
                assert_use_await_message(&join_error_message(err));
                // The worker that refused is still fine.
                assert_eq!(coro::spawn(async { 4 }).await.unwrap(), 4);
            });
        });
    }
    // From inside a `coro::block_on` too.
    let msg = panic_message(|| coro::block_on(async { coro::block_on(async {}) }));
    assert_use_await_message(&msg);
}

#[test]
fn spawn_local_on_a_multi_thread_runtime_panics_clearly() {
    fn assert_local_message(msg: &str) {
        assert!(
            msg.contains("`coro::spawn_local` called outside a current-thread runtime"),
            "{msg}"
        );
        assert!(msg.contains("#[coro::test]"), "{msg}");
    }
    let rt = build("multi_thread", |_| {});
    let msg = panic_message(|| rt.block_on(async { drop(coro::spawn_local(async {})) }));
    assert_local_message(&msg);
    // Inside a worker's task.
    let err = rt
        .block_on(rt.spawn(async {
            drop(coro::spawn_local(async { Rc::new(1) }));
        }))
        .unwrap_err();
    assert_local_message(&join_error_message(err));
    // Outside any runtime.
    let msg = panic_message(|| drop(coro::spawn_local(async {})));
    assert_local_message(&msg);
    // Inside a blocking closure of a current-thread runtime: not the thread that drives it.
    let ct = build("current_thread", |_| {});
    let err = ct
        .block_on(ct.spawn_blocking(|| drop(coro::spawn_local(async {}))))
        .unwrap_err();
    assert_local_message(&join_error_message(err));
    // The multi-thread runtime is fine afterwards.
    assert_eq!(
        rt.block_on(async { coro::spawn(async { 1 }).await.unwrap() }),
        1
    );
}

// ---- drop and shutdown --------------------------------------------------------------------

/// A future that stays pending and whose waker the test never fires.
struct NeverWoken;

impl Future for NeverWoken {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[test]
fn dropping_a_runtime_runs_the_destructors_of_pending_tasks() {
    for flavor in FLAVORS {
        let drops = Drops::default();
        let started = Arc::new(AtomicUsize::new(0));
        let rt = build(flavor, |_| {});
        const PENDING: usize = 100;
        const CYCLES: usize = 20;
        const UNPOLLED: usize = 10;

        let (kept, finished) = rt.block_on({
            let (drops, started) = (drops.clone(), started.clone());
            async move {
                let mut kept = Vec::new();
                for i in 0..PENDING {
                    let guard = drops.guard();
                    let started = started.clone();
                    let task = coro::spawn(async move {
                        let _guard = guard;
                        started.fetch_add(1, SeqCst);
                        if i % 3 == 0 {
                            NeverWoken.await;
                        } else {
                            std::future::pending::<()>().await;
                        }
                    });
                    // Keep half the handles, detach the others.
                    if i % 2 == 0 {
                        kept.push(task);
                    }
                }
                // Pairs of tasks each holding the sender the other one waits on: nobody
                // outside the pair can ever wake them.
                for _ in 0..CYCLES {
                    let (tx_a, rx_a) = mpsc::channel::<()>(1);
                    let (tx_b, rx_b) = mpsc::channel::<()>(1);
                    for (tx, mut rx) in [(tx_b, rx_a), (tx_a, rx_b)] {
                        let guard = drops.guard();
                        let started = started.clone();
                        drop(coro::spawn(async move {
                            let _guard = guard;
                            let _keeps_the_other_alive = tx;
                            started.fetch_add(1, SeqCst);
                            rx.next().await;
                        }));
                    }
                }
                let finished = coro::spawn(async { String::from("finished before the drop") });
                wait_until(|| {
                    started.load(SeqCst) == PENDING + 2 * CYCLES && finished.is_finished()
                })
                .await;
                (kept, finished)
            }
        });
        // Tasks spawned from outside after the last block_on: never polled on a
        // current-thread runtime, maybe polled on a multi-thread one.
        let unpolled: Vec<_> = (0..UNPOLLED)
            .map(|_| {
                let guard = drops.guard();
                rt.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                })
            })
            .collect();
        assert_eq!(
            drops.count(),
            0,
            "{flavor}: nothing dropped before the runtime"
        );

        no_hang("dropping the runtime", move || drop(rt));
        assert_eq!(
            drops.count(),
            PENDING + 2 * CYCLES + UNPOLLED,
            "{flavor}: every pending task's destructor ran"
        );
        for task in kept.into_iter().chain(unpolled) {
            assert!(task.is_finished(), "{flavor}");
            let err = futures::executor::block_on(task).unwrap_err();
            assert!(err.is_cancelled(), "{flavor}: {err:?}");
        }
        assert_eq!(
            futures::executor::block_on(finished).unwrap(),
            "finished before the drop",
            "{flavor}"
        );
    }
}

/// Dropped by a task's destructor: spawns another task onto the (dying) runtime.
struct SpawnOnDrop {
    handle: Handle,
    drops: Drops,
    spawned: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let guard = self.drops.guard();
        let task = self.handle.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        self.spawned.lock().unwrap().push(task);
    }
}

#[test]
fn tasks_spawned_by_destructors_during_shutdown_are_cancelled_too() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let spawned = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            for _ in 0..10 {
                let on_drop = SpawnOnDrop {
                    handle: Handle::current(),
                    drops: drops.clone(),
                    spawned: spawned.clone(),
                };
                let guard = drops.guard();
                drop(coro::spawn(async move {
                    let _on_drop = on_drop;
                    let _guard = guard;
                    std::future::pending::<()>().await
                }));
            }
            coro::yield_now().await;
        });
        no_hang("dropping the runtime", move || drop(rt));
        assert_eq!(drops.count(), 20, "{flavor}");
        for task in spawned.lock().unwrap().drain(..) {
            assert!(futures::executor::block_on(task)
                .unwrap_err()
                .is_cancelled());
        }
    }
}

#[test]
fn dropping_a_runtime_while_a_foreign_thread_holds_wakers() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let (wakers_tx, wakers_rx) = std_mpsc::channel();
        rt.block_on(async {
            for _ in 0..50 {
                let guard = drops.guard();
                let wakers_tx = wakers_tx.clone();
                drop(coro::spawn(async move {
                    let _guard = guard;
                    std::future::poll_fn(|cx| {
                        wakers_tx.send(cx.waker().clone()).unwrap();
                        Poll::<()>::Pending
                    })
                    .await;
                }));
            }
        });
        let wakers: Vec<_> = wakers_rx.try_iter().collect();
        drop(rt);
        assert_eq!(drops.count(), 50, "{flavor}");
        // Waking (and dropping) the wakers of dead tasks after the runtime is gone is fine.
        thread::spawn(move || {
            for waker in wakers {
                waker.wake_by_ref();
                waker.wake();
            }
        })
        .join()
        .unwrap();
    }
}

#[test]
fn shutdown_timeout_returns_while_a_blocking_task_is_stuck() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let (started_tx, started_rx) = std_mpsc::channel::<()>();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let stuck = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            "released"
        });
        let pending = {
            let guard = drops.guard();
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            })
        };
        started_rx.recv().unwrap();
        no_hang("shutdown_timeout", move || {
            rt.shutdown_timeout(Duration::from_millis(50));
        });
        // Idle tasks were cancelled even though a blocking thread was still busy.
        assert_eq!(drops.count(), 1, "{flavor}");
        assert!(futures::executor::block_on(pending)
            .unwrap_err()
            .is_cancelled());
        // Let the stuck thread finish: its closure's result still reaches its handle.
        release_tx.send(()).unwrap();
        assert_eq!(
            futures::executor::block_on(stuck).unwrap(),
            "released",
            "{flavor}"
        );
    }
}

#[test]
fn shutdown_timeout_returns_while_a_worker_is_stuck_in_a_task() {
    let rt = build("multi_thread", |_| {});
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let (release_tx, release_rx) = std_mpsc::channel::<()>();
    let stuck = rt.spawn(async move {
        started_tx.send(()).unwrap();
        // Blocks its worker thread: never yields until released.
        release_rx.recv().unwrap();
        "released"
    });
    started_rx.recv().unwrap();
    no_hang("shutdown_timeout", move || {
        rt.shutdown_timeout(Duration::from_millis(50));
    });
    release_tx.send(()).unwrap();
    assert_eq!(futures::executor::block_on(stuck).unwrap(), "released");
}

#[test]
fn shutdown_timeout_with_nothing_running() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let guard = drops.guard();
        let started = Arc::new(AtomicUsize::new(0));
        let task = rt.spawn({
            let started = started.clone();
            async move {
                let _guard = guard;
                started.fetch_add(1, SeqCst);
                std::future::pending::<()>().await
            }
        });
        rt.block_on(wait_until(|| started.load(SeqCst) == 1));
        // Nothing is busy, so this returns as soon as the threads have exited, long before
        // the timeout; by then every task was cancelled.
        no_hang("shutdown_timeout", move || {
            rt.shutdown_timeout(Duration::from_secs(3600))
        });
        assert_eq!(drops.count(), 1, "{flavor}");
        assert!(futures::executor::block_on(task)
            .unwrap_err()
            .is_cancelled());
    }
}

#[test]
fn dropping_a_runtime_waits_for_running_blocking_closures() {
    for (flavor, rt) in flavors() {
        let finished = Arc::new(AtomicUsize::new(0));
        let (started_tx, started_rx) = std_mpsc::channel::<()>();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let task = rt.spawn_blocking({
            let finished = finished.clone();
            move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                for _ in 0..100 {
                    thread::yield_now();
                }
                finished.fetch_add(1, SeqCst);
                "done"
            }
        });
        started_rx.recv().unwrap();
        // Released while (or before) the drop runs: either way `drop` returns only after
        // the closure did.
        let releaser = thread::spawn(move || release_tx.send(()).unwrap());
        no_hang("dropping the runtime", move || drop(rt));
        assert_eq!(finished.load(SeqCst), 1, "{flavor}");
        assert_eq!(
            futures::executor::block_on(task).unwrap(),
            "done",
            "{flavor}"
        );
        releaser.join().unwrap();
    }
}

#[test]
fn a_dropped_runtime_frees_its_internals() {
    // The runtime keeps its reactor for as long as any part of it is alive (schedulers, tasks,
    // wakers, threads). Once the runtime and every handle to it are gone, only the test's
    // reference must be left: no reference cycle through tasks or the registry leaked it.
    for flavor in FLAVORS {
        let rt = build(flavor, |_| {});
        let park = rt
            .handle()
            .park_as::<coro_reactor::Reactor>()
            .expect("a coro runtime drives a reactor");
        let kept = rt.block_on(async {
            let mut kept = Vec::new();
            for i in 0..20 {
                let task = coro::spawn(async move {
                    // Holding a handle to its own runtime is a cycle only shutdown can cut.
                    let _handle = Handle::current();
                    std::future::pending::<()>().await
                });
                if i % 2 == 0 {
                    kept.push(task);
                }
            }
            let (tx, mut rx) = mpsc::channel::<()>(1);
            drop(coro::spawn(async move {
                let _tx = tx;
                rx.next().await
            }));
            coro::spawn_blocking(|| Handle::current()).await.unwrap();
            coro::spawn(async {}).await.unwrap();
            coro::yield_now().await;
            kept
        });
        assert!(Arc::strong_count(&park) > 1);
        drop(rt);
        for task in kept {
            assert!(futures::executor::block_on(task)
                .unwrap_err()
                .is_cancelled());
        }
        assert_eq!(Arc::strong_count(&park), 1, "{flavor}: the runtime leaked");
    }
}

#[test]
fn dropping_a_runtime_from_another_thread() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        rt.block_on(async {
            for _ in 0..10 {
                let guard = drops.guard();
                drop(coro::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                }));
            }
            coro::yield_now().await;
        });
        thread::spawn(move || drop(rt)).join().unwrap();
        assert_eq!(drops.count(), 10, "{flavor}");
    }
}

// ---- known bugs ---------------------------------------------------------------------------
//
// Each test below fails today and is ignored with the reason; run them with
// `cargo test --test runtime -- --ignored`. Those whose failure aborts the whole process run
// their body in a child process (see `isolated`), so one abort does not hide the others.

/// Runs the body of test `name` in a child process of this test binary when called from the
/// test itself, and returns `true` in the child (where the caller then runs the body). In the
/// parent, asserts that the child passed, showing its output otherwise.
fn isolated(name: &str) -> bool {
    const CHILD: &str = "CORO_RUNTIME_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Backtraces aside (an abort prints one regardless), the end of the output tells why the
    // child died.
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    let text = lines[lines.len().saturating_sub(30)..].join("\n");
    assert!(
        output.status.success(),
        "child process failed ({}):\n{text}",
        output.status
    );
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    false
}

#[test]
fn dropping_a_runtime_inside_its_own_blocking_closure() {
    for flavor in FLAVORS {
        let rt = build(flavor, |_| {});
        let drops = Drops::default();
        let guard = drops.guard();
        drop(rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        let handle = rt.handle().clone();
        let (done_tx, done_rx) = std_mpsc::channel::<()>();
        drop(handle.spawn_blocking(move || {
            drop(rt);
            done_tx.send(()).unwrap();
        }));
        done_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{flavor}: drop(rt) in a blocking closure deadlocked"));
        assert_eq!(drops.count(), 1, "{flavor}");
    }
}

#[test]
fn dropping_a_multi_thread_runtime_inside_its_own_task_does_not_deadlock() {
    let rt = build("multi_thread", |_| {});
    let handle = rt.handle().clone();
    let (done_tx, done_rx) = std_mpsc::channel::<Result<(), String>>();
    drop(handle.spawn(async move {
        // Either outcome is acceptable: the drop completes, or it refuses with a panic (as
        // tokio does: "Cannot drop a runtime in a context where blocking is not allowed").
        let outcome = catch_unwind(AssertUnwindSafe(|| drop(rt))).map_err(|p| panic_text(&*p));
        let _ = done_tx.send(outcome);
    }));
    match done_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(())) => {}
        Ok(Err(msg)) => assert!(!msg.is_empty()),
        Err(_) => panic!("drop(rt) inside one of its own tasks deadlocked"),
    }
}

#[test]
fn a_local_task_is_never_polled_by_another_thread_driving_the_runtime() {
    if !isolated("a_local_task_is_never_polled_by_another_thread_driving_the_runtime") {
        return;
    }
    let rt = Arc::new(build("current_thread", |_| {}));
    let (tx, rx) = oneshot::channel::<()>();
    #[allow(clippy::async_yields_async)]
    let local: JoinHandle<u32> = rt.block_on(async move {
        let local = coro::spawn_local(async move {
            let rc = Rc::new(7);
            rx.await.unwrap();
            *rc
        });
        coro::yield_now().await;
        local
    });
    // Runtime is Send + Sync: another thread may drive it. It wakes the local task, which
    // must wait for its own thread instead of running (or being dropped) over there.
    let other = {
        let rt = rt.clone();
        thread::spawn(move || {
            rt.block_on(async move {
                tx.send(()).unwrap();
                for _ in 0..10 {
                    coro::yield_now().await;
                }
                "other thread done"
            })
        })
    };
    assert_eq!(other.join().unwrap(), "other thread done");
    // Back on the spawning thread, the local task finishes.
    assert_eq!(rt.block_on(local).unwrap(), 7);
}

#[test]
fn dropping_a_runtime_with_local_tasks_on_another_thread_does_not_abort() {
    if !isolated("dropping_a_runtime_with_local_tasks_on_another_thread_does_not_abort") {
        return;
    }
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        drop(coro::spawn_local(async {
            let _rc = Rc::new(());
            std::future::pending::<()>().await
        }));
        coro::yield_now().await;
    });
    // Runtime is Send: moving it to another thread and dropping it there must not abort (a
    // clear panic, or leaking the !Send futures, would both be acceptable).
    let dropped = thread::spawn(move || drop(rt)).join();
    if let Err(payload) = dropped {
        assert!(!panic_text(&*payload).is_empty());
    }
}

#[test]
fn shutdown_timeout_cancels_tasks_that_go_idle_after_it_returned() {
    struct Signal(std_mpsc::Sender<()>);
    impl Drop for Signal {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let rt = build("multi_thread", |_| {});
    let (dropped_tx, dropped_rx) = std_mpsc::channel::<()>();
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let (release_tx, release_rx) = std_mpsc::channel::<()>();
    let task = rt.spawn(async move {
        let _signal = Signal(dropped_tx);
        started_tx.send(()).unwrap();
        // Blocks the worker, in the task's first poll, past the shutdown timeout...
        release_rx.recv().unwrap();
        // ...then goes idle.
        std::future::pending::<()>().await
    });
    started_rx.recv().unwrap();
    // Duration::ZERO hits the same window without a stuck worker, whenever a worker happens
    // to be in a task's first poll.
    rt.shutdown_timeout(Duration::from_millis(10));
    release_tx.send(()).unwrap();
    dropped_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the task's future was never dropped after the runtime shut down");
    let joined = no_hang("awaiting the JoinHandle", move || {
        futures::executor::block_on(task)
    });
    assert!(joined.unwrap_err().is_cancelled());
}

#[test]
fn a_panicking_destructor_of_an_aborted_task_does_not_abort_the_process() {
    if !isolated("a_panicking_destructor_of_an_aborted_task_does_not_abort_the_process") {
        return;
    }
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            if !thread::panicking() {
                panic!("panic in a destructor");
            }
        }
    }
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            let bomb = PanicOnDrop;
            let task = coro::spawn(async move {
                let _bomb = bomb;
                std::future::pending::<()>().await
            });
            coro::yield_now().await;
            task.abort();
            // tokio reports this as a panic of the task; cancelled would also be acceptable.
            let err = task.await.unwrap_err();
            assert!(err.is_panic() || err.is_cancelled(), "{flavor}");
            // The runtime keeps working.
            assert_eq!(coro::spawn(async { 1 }).await.unwrap(), 1, "{flavor}");
        });
    }
}
