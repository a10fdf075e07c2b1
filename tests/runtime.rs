//! Integration tests of runtimes through the `coro` facade: the builder, thread names,
//! handles and context, `block_on`, shutdown and drop, and the error messages of misuse.
//!
//! Every test that makes sense on both schedulers runs on both (see [`flavors`]). Nothing here
//! depends on timing: ordering is forced with channels, barriers and counters. The only clocks
//! are generous watchdogs that turn a would-be deadlock into a failure, and the timeouts given
//! to `shutdown_timeout` itself.

use std::any::Any;
use std::collections::HashSet;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc as std_mpsc, Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use coro::runtime::{Builder, Handle};
use coro::task::{JoinError, JoinHandle, JoinSet};
use coro::Runtime;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;

// ---- helpers ------------------------------------------------------------------------------

const FLAVORS: [&str; 2] = ["current_thread", "multi_thread"];

/// The two schedulers: a current-thread runtime and a two-worker multi-thread runtime.
fn flavors() -> [(&'static str, Runtime); 2] {
    FLAVORS.map(|flavor| (flavor, build(flavor, |_| {})))
}

/// A runtime of the named flavor (two workers for the multi-thread one), with extra settings.
fn build(flavor: &str, configure: impl FnOnce(&mut Builder)) -> Runtime {
    let mut builder = Runtime::builder();
    match flavor {
        "current_thread" => builder.current_thread(),
        "multi_thread" => builder.multi_thread().worker_threads(2),
        _ => unreachable!("unknown flavor {flavor}"),
    };
    configure(&mut builder);
    builder.build().unwrap()
}

/// Counts how many [`DropGuard`]s it handed out were dropped.
#[derive(Clone, Default)]
struct Drops(Arc<AtomicUsize>);

impl Drops {
    fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Put in a task's future: it is dropped exactly when the future is.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Yields until `cond` holds. Never sleeps: progress comes from other tasks or threads.
async fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        coro::yield_now().await;
        thread::yield_now();
    }
}

/// The text of a panic payload (`&str` or `String`).
fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string payload>".to_owned())
}

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

/// A rendezvous of `n` threads that gives up after a long while, so that a runtime which
/// cannot run the parties at the same time fails the test instead of hanging it.
struct Rendezvous {
    arrived: Mutex<usize>,
    all_here: Condvar,
    parties: usize,
}

impl Rendezvous {
    fn new(parties: usize) -> Arc<Self> {
        Arc::new(Rendezvous {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
            parties,
        })
    }

    fn wait(&self) -> bool {
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
        let task = rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        rt.block_on(async { coro::yield_now().await });
        no_hang("shutdown_timeout", move || {
            rt.shutdown_timeout(Duration::ZERO)
        });
        assert_eq!(drops.count(), 1, "{flavor}");
        assert!(futures::executor::block_on(task)
            .unwrap_err()
            .is_cancelled());
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
