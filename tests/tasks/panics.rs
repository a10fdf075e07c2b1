//! A panicking task: its `JoinError`, its destructors, and the runtime after it.

use super::*;

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
