//! Dropping a runtime and `shutdown_timeout`: what happens to its tasks.

use super::*;

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

/// Shuts a runtime down with `shutdown` while one blocking closure waits
/// for the test and one task is idle: `shutdown` must return anyway, the
/// idle task must be cancelled, and the blocking closure's result must
/// still reach its handle once released.
fn shutdown_returns_while_a_blocking_task_is_stuck(name: &str, shutdown: fn(Runtime)) {
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
        // Returns although the blocking closure is still waiting for us:
        // it cannot have waited for it.
        no_hang(name, move || shutdown(rt));
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
fn shutdown_timeout_returns_while_a_blocking_task_is_stuck() {
    shutdown_returns_while_a_blocking_task_is_stuck("shutdown_timeout", |rt| {
        rt.shutdown_timeout(Duration::from_millis(50))
    });
}

#[test]
fn shutdown_background_cancels_idle_tasks_and_leaves_busy_threads() {
    shutdown_returns_while_a_blocking_task_is_stuck("shutdown_background", |rt| {
        rt.shutdown_background()
    });
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

/// Issue 16, defect 3: with a worker stuck in a task *and* a blocking
/// closure stuck, `shutdown_timeout(d)` waited `d` for the workers and then
/// `d` again for the blocking pool. One deadline covers both: it returns
/// after `d` plus thread hand-off, comfortably short of `2·d` (the bound is
/// 0.75·d of slack; the old code could never finish before 2·d).
#[test]
fn shutdown_timeout_is_one_deadline_for_workers_and_blocking_pool() {
    let timeout = Duration::from_secs(2);
    let rt = build("multi_thread", |_| {});
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let (release_tx, release_rx) = std_mpsc::channel::<()>();
    let release_blocking = Arc::new(std::sync::Barrier::new(2));
    let stuck_task = rt.spawn({
        let started_tx = started_tx.clone();
        async move {
            started_tx.send(()).unwrap();
            // Never yields until released: its worker cannot stop.
            release_rx.recv().unwrap();
        }
    });
    let stuck_blocking = rt.spawn_blocking({
        let release = release_blocking.clone();
        move || {
            started_tx.send(()).unwrap();
            release.wait();
        }
    });
    started_rx.recv().unwrap();
    started_rx.recv().unwrap();
    let took = no_hang("shutdown_timeout", move || {
        let start = Instant::now();
        rt.shutdown_timeout(timeout);
        start.elapsed()
    });
    assert!(took >= timeout, "returned before the deadline: {took:?}");
    assert!(
        took < timeout * 7 / 4,
        "shutdown_timeout({timeout:?}) took {took:?}: each stage waited the whole timeout"
    );
    release_tx.send(()).unwrap();
    release_blocking.wait();
    futures::executor::block_on(stuck_task).unwrap();
    futures::executor::block_on(stuck_blocking).unwrap();
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
