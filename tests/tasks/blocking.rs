//! `spawn_blocking`: results, the thread cap, and spawning from inside.

use super::*;

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
