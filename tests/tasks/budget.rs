//! `yield_now` and the cooperative budget: no task starves the others.

use super::*;

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
