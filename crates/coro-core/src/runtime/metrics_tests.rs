//! Tests of `RuntimeMetrics`: known work, known counts.

use std::sync::mpsc;
use std::time::Duration;

use crate::runtime::Builder;

/// Spawns `tasks` tasks that each yield `yields` times, and joins them.
async fn yielding_tasks(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            crate::spawn(async move {
                for _ in 0..yields {
                    crate::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn current_thread_counts_spawns_polls_and_parks() {
    let rt = Builder::new().current_thread().build().unwrap();
    let metrics = rt.handle().metrics();
    assert_eq!(metrics.num_workers(), 1);
    assert_eq!(metrics.spawned_tasks_count(), 0);

    // Spawned from outside: it waits in the injection queue.
    let outside = rt.spawn(async {});
    assert_eq!(metrics.injection_queue_depth(), 1);
    assert_eq!(metrics.num_alive_tasks(), 1);
    rt.block_on(outside).unwrap();
    assert_eq!(metrics.injection_queue_depth(), 0);
    assert_eq!(metrics.worker_poll_count(0), 1);

    // 10 tasks, each polled once per yield plus once to finish.
    rt.block_on(yielding_tasks(10, 3));
    assert_eq!(metrics.spawned_tasks_count(), 11);
    assert_eq!(metrics.worker_poll_count(0), 1 + 10 * 4);
    assert_eq!(metrics.num_alive_tasks(), 0);
    assert_eq!(metrics.worker_steal_count(0), 0);
    assert_eq!(metrics.worker_local_queue_depth(0), 0);

    // Waiting on a task from another thread parks the thread.
    let parks = metrics.worker_park_count(0);
    let (tx, rx) = crate::sync::oneshot::channel();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(()).unwrap();
    });
    rt.block_on(async { rx.await.unwrap() });
    sender.join().unwrap();
    assert!(metrics.worker_park_count(0) > parks);
}

#[test]
fn multi_thread_counts_polls_on_the_worker_that_ran_them() {
    let rt = Builder::new().worker_threads(1).build().unwrap();
    let metrics = rt.handle().metrics();
    rt.block_on(yielding_tasks(20, 2));
    assert_eq!(metrics.spawned_tasks_count(), 20);
    assert_eq!(metrics.worker_poll_count(0), 20 * 3);
    assert_eq!(metrics.num_alive_tasks(), 0);
    // Tasks spawned by a task: one poll each, and one for the spawner.
    let spawner = rt.spawn(async {
        for _ in 0..5 {
            crate::spawn(async {});
        }
    });
    rt.block_on(spawner).unwrap();
    // Nothing joins the five: read until their counts arrive (relaxed
    // counters from another thread may be read a moment late).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metrics.num_alive_tasks() > 0 || metrics.worker_poll_count(0) < 66 {
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::yield_now();
    }
    assert_eq!(metrics.spawned_tasks_count(), 26);
    assert_eq!(metrics.worker_poll_count(0), 60 + 1 + 5);
}

#[test]
fn an_idle_worker_steals_from_a_blocked_one() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let metrics = rt.handle().metrics();
    let (tx, rx) = mpsc::channel();
    let blocker = rt.spawn(async move {
        let me = std::thread::current().id();
        for _ in 0..100 {
            let tx = tx.clone();
            crate::spawn(async move { tx.send(std::thread::current().id()).unwrap() });
        }
        // Block this worker: the tasks it queued can only run if the
        // other worker steals them. The one in the LIFO slot cannot be
        // stolen, so wait for 99.
        let mut others = 0;
        for _ in 0..99 {
            let ran_on = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the idle worker never stole the queued tasks");
            others += usize::from(ran_on != me);
        }
        others
    });
    assert_eq!(rt.block_on(blocker).unwrap(), 99);
    let steals = metrics.worker_steal_count(0) + metrics.worker_steal_count(1);
    assert!(steals >= 1, "{metrics}");
    let polls = metrics.worker_poll_count(0) + metrics.worker_poll_count(1);
    assert!(polls >= 100, "{metrics}"); // the blocker and the 99 stolen
    assert_eq!(metrics.spawned_tasks_count(), 101);
}

#[test]
fn alive_tasks_include_idle_ones_until_they_end() {
    let rt = Builder::new().current_thread().build().unwrap();
    let metrics = rt.handle().metrics();
    let pending: Vec<_> = (0..5)
        .map(|_| rt.spawn(std::future::pending::<()>()))
        .collect();
    rt.block_on(crate::yield_now());
    assert_eq!(metrics.num_alive_tasks(), 5);
    for task in &pending {
        task.abort();
    }
    for task in pending {
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    }
    assert_eq!(metrics.num_alive_tasks(), 0);
    let panicked = rt.spawn(async { panic!("counted as ended") });
    assert!(rt.block_on(panicked).unwrap_err().is_panic());
    assert_eq!(metrics.num_alive_tasks(), 0);
    assert_eq!(metrics.spawned_tasks_count(), 6);
}

#[test]
fn blocking_threads_busy_then_idle() {
    let rt = Builder::new().current_thread().build().unwrap();
    let metrics = rt.handle().metrics();
    assert_eq!(metrics.num_blocking_threads(), 0);
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let task = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    assert_eq!(metrics.num_blocking_threads(), 1);
    assert_eq!(metrics.num_idle_blocking_threads(), 0);
    release_tx.send(()).unwrap();
    rt.block_on(task).unwrap();
    // The thread goes idle just after the closure returns.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metrics.num_idle_blocking_threads() == 0 {
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::yield_now();
    }
    assert_eq!(metrics.num_blocking_threads(), 1);
    // Blocking closures are not tasks.
    assert_eq!(metrics.spawned_tasks_count(), 0);
}

#[test]
fn display_names_every_worker() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let shown = rt.handle().metrics().to_string();
    assert!(
        shown.contains("worker 0:") && shown.contains("worker 1:"),
        "{shown}"
    );
    assert!(shown.contains("0 alive"), "{shown}");
}

#[test]
#[should_panic(expected = "this runtime has 1 worker(s)")]
fn a_worker_index_out_of_range_says_how_many_there_are() {
    let rt = Builder::new().current_thread().build().unwrap();
    rt.handle().metrics().worker_poll_count(1);
}
