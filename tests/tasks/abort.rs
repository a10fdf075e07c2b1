//! `JoinHandle::abort`: before, during and after a task runs, and on blocking tasks.

use super::*;

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
