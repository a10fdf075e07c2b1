//! Bugs that were found and fixed, each pinned by the test that first showed it.
//!
//! Those whose failure would abort the whole process (a panic while panicking, an abort in a
//! destructor) run their body in a child process (see [`isolated`]), so a regression fails one
//! test with the child's output instead of killing the test binary.

use super::*;

/// Runs the body of test `name` (of this module) in a child process of this test binary when
/// called from the test itself, and returns `true` in the child (where the caller then runs the
/// body). In the parent, asserts that the child passed, showing its output otherwise.
fn isolated(name: &str) -> bool {
    let name = format!("regressions::{name}");
    const CHILD: &str = "CORO_RUNTIME_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name.as_str(),
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
