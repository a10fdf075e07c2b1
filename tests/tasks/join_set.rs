//! `JoinSet` and `join_all`.

use super::*;

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
