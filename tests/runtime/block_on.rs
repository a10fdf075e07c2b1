//! `block_on`: on each flavor, nested, and from many threads.

use super::*;

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
