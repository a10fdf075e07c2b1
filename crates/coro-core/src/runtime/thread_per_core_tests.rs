//! The thread-per-core runtime without I/O: placement of tasks on shards,
//! local tasks, the on-each / on-one APIs, metrics, dump, the watchdog and
//! shutdown. Sockets and timers per shard are tested through the facade
//! (`tests/thread_per_core.rs`), which installs a reactor per shard.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::park::ThreadPark;
use crate::runtime::{current_shard, Builder, Handle, Runtime};

fn runtime(shards: usize) -> Runtime {
    Builder::new()
        .thread_per_core()
        .worker_threads(shards)
        .thread_name("tpc")
        .build()
        .unwrap()
}

/// A task spawned on a shard, and everything it spawns, runs on that
/// shard's thread and nowhere else.
#[test]
fn spawns_stay_on_their_shard() {
    let rt = runtime(3);
    let placements = rt.block_on_each(|index| async move {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                crate::spawn(async {
                    crate::yield_now().await;
                    let nested = crate::spawn(async {
                        (
                            current_shard(),
                            std::thread::current().name().map(String::from),
                        )
                    });
                    nested.await.unwrap()
                })
            })
            .collect();
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.unwrap());
        }
        (index, seen)
    });
    for (index, seen) in placements {
        for (shard, thread) in seen {
            assert_eq!(shard, Some(index));
            assert_eq!(thread.as_deref(), Some(format!("tpc-{index}").as_str()));
        }
    }
}

/// Spawns from a thread that is not a shard go to the shards in turn.
#[test]
fn outside_spawns_are_spread_over_the_shards() {
    let rt = runtime(2);
    let tasks: Vec<_> = (0..10)
        .map(|_| rt.spawn(async { current_shard().unwrap() }))
        .collect();
    let shards: Vec<usize> = rt
        .block_on(crate::task::join_all(tasks))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(shards.iter().filter(|&&s| s == 0).count(), 5, "{shards:?}");
    assert_eq!(shards.iter().filter(|&&s| s == 1).count(), 5, "{shards:?}");
    // `block_on`'s own thread is not a shard.
    assert_eq!(rt.block_on(async { current_shard() }), None);
}

/// `!Send` tasks work on every shard, and talk through `Rc`s.
#[test]
fn local_tasks_work_on_every_shard() {
    let rt = runtime(2);
    let counts = rt.block_on_each(|_| async {
        let counter = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let counter = counter.clone();
                crate::spawn_local(async move {
                    crate::yield_now().await;
                    counter.set(counter.get() + 1);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        counter.get()
    });
    assert_eq!(counts, [100, 100]);
}

/// A panic in one shard's future reaches `block_on_each`'s caller with its
/// payload, and the runtime keeps working.
#[test]
fn block_on_each_carries_a_panic() {
    let rt = runtime(2);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on_each(|index| async move {
            if index == 1 {
                std::panic::panic_any("shard 1 failed");
            }
            index
        })
    }))
    .unwrap_err();
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"shard 1 failed"));
    assert_eq!(rt.block_on_each(|index| async move { index }), [0, 1]);
}

/// `spawn_local_with`: a panic is a `JoinError` with the payload; aborting
/// the handle drops the local future, on its shard.
#[test]
fn spawn_local_with_panics_and_aborts() {
    let rt = runtime(2);
    let shard = rt.handle().shard(1);
    let error = rt
        .block_on(shard.spawn_local_with(|| async { std::panic::panic_any(7_u32) }))
        .unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.into_panic().downcast_ref::<u32>(), Some(&7));

    let dropped_on = Arc::new(Mutex::new(None));
    let started = Arc::new(crate::sync::Event::new());
    let task = {
        let (dropped_on, started) = (dropped_on.clone(), started.clone());
        shard.spawn_local_with(move || async move {
            // The `Rc` makes the future `!Send`.
            struct Probe(Arc<Mutex<Option<Option<usize>>>>, Rc<()>);
            impl Drop for Probe {
                fn drop(&mut self) {
                    *self.0.lock().unwrap() = Some(current_shard());
                    assert_eq!(Rc::strong_count(&self.1), 1);
                }
            }
            let _probe = Probe(dropped_on, Rc::new(()));
            started.set();
            std::future::pending::<()>().await
        })
    };
    rt.block_on(started.wait());
    task.abort();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    // The local task is aborted by the outer one's drop; it runs on shard 1.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dropped_on.lock().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "local task not dropped"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(*dropped_on.lock().unwrap(), Some(Some(1)));
}

/// Metrics count shards as workers, each shard's polls on its own worker;
/// the dump lists every shard's idle tasks.
#[test]
fn metrics_and_dump_cover_every_shard() {
    let rt = runtime(2);
    let metrics = rt.handle().metrics();
    assert_eq!(metrics.num_workers(), 2);
    rt.block_on(rt.handle().shard(1).spawn(async {
        for _ in 0..10 {
            crate::yield_now().await;
        }
    }))
    .unwrap();
    assert!(metrics.worker_poll_count(1) >= 11, "{metrics}");
    assert_eq!(metrics.worker_poll_count(0), 0, "{metrics}");
    let parked: Vec<_> = (0..2)
        .map(|index| {
            let started = Arc::new(crate::sync::Event::new());
            let s = started.clone();
            let task = rt.handle().shard(index).spawn(async move {
                s.set();
                std::future::pending::<()>().await
            });
            rt.block_on(started.wait());
            task
        })
        .collect();
    // Both parked tasks are idle (registered) once each shard went back
    // to its loop; the dump lists them whatever shard they are on.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rt.handle().dump().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            rt.handle().dump()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(metrics.num_alive_tasks(), 2);
    drop(parked);

    // A task inside a poll on shard 1 shows as running on worker 1.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let entered = Arc::new(crate::sync::Event::new());
    let e = entered.clone();
    let busy = rt.handle().shard(1).spawn(async move {
        // Registered (listed) from its first `Pending` on.
        crate::yield_now().await;
        e.set();
        let _ = release_rx.lock().unwrap().recv();
    });
    rt.block_on(entered.wait());
    let running: Vec<_> = rt
        .handle()
        .dump()
        .tasks()
        .filter_map(|task| match task.state() {
            crate::runtime::TaskState::Running { worker } => Some(worker),
            _ => None,
        })
        .collect();
    assert_eq!(running, [Some(1)]);
    drop(release_tx);
    rt.block_on(busy).unwrap();
}

/// Where each probe was dropped: (its shard, `current_shard()` in `drop`).
type DropLog = Arc<Mutex<Vec<(usize, Option<usize>)>>>;

/// Dropping the runtime cancels every shard's tasks, local ones on their
/// own shard's thread; a stuck shard does not hold `shutdown_timeout` up.
#[test]
fn shutdown_cancels_each_shards_tasks_on_its_thread() {
    let rt = runtime(2);
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let s = started.clone();
    rt.block_on_each(move |index| {
        let (dropped, started) = (d.clone(), s.clone());
        async move {
            struct Probe(usize, Rc<()>, DropLog);
            impl Drop for Probe {
                fn drop(&mut self) {
                    assert_eq!(Rc::strong_count(&self.1), 1);
                    self.2.lock().unwrap().push((self.0, current_shard()));
                }
            }
            let probe = Probe(index, Rc::new(()), dropped);
            crate::spawn_local(async move {
                let _probe = probe;
                std::future::pending::<()>().await
            });
            started.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(started.load(Ordering::SeqCst), 2);
    drop(rt);
    let mut dropped = dropped.lock().unwrap().clone();
    dropped.sort();
    assert_eq!(dropped, [(0, Some(0)), (1, Some(1))]);

    let rt = runtime(2);
    let (stuck_tx, stuck_rx) = std::sync::mpsc::channel::<()>();
    let stuck_rx = Mutex::new(stuck_rx);
    let entered = Arc::new(crate::sync::Event::new());
    let e = entered.clone();
    let _stuck = rt.handle().shard(0).spawn(async move {
        e.set();
        // Blocks its shard until the test lets it go.
        let _ = stuck_rx.lock().unwrap().recv();
    });
    rt.block_on(entered.wait());
    let start = std::time::Instant::now();
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "waited for the stuck shard"
    );
    drop(stuck_tx);
}

/// `spawn_blocking` runs off the shards with the runtime as context; a
/// spawn from there goes to a shard.
#[test]
fn spawn_blocking_and_back() {
    let rt = runtime(2);
    let shard = rt.block_on(rt.handle().shard(1).spawn(async {
        crate::spawn_blocking(|| {
            assert_eq!(current_shard(), None);
            crate::spawn(async { current_shard() })
        })
        .await
        .unwrap()
        .await
        .unwrap()
    }));
    assert!(shard.unwrap().is_some());
}

/// The watchdog reports a blocking task with its shard as the worker.
#[test]
fn watchdog_names_the_shard() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r = reports.clone();
    let rt = Builder::new()
        .thread_per_core()
        .worker_threads(2)
        .blocking_threshold(Duration::from_millis(20))
        .on_blocking(move |report| r.lock().unwrap().push(report.worker()))
        .build()
        .unwrap();
    rt.block_on(rt.handle().shard(1).spawn(async {
        std::thread::sleep(Duration::from_millis(150));
    }))
    .unwrap();
    let reports = reports.lock().unwrap();
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|&worker| worker == 1), "{reports:?}");
}

/// Each shard gets its own driver from `park_factory`; one shared driver
/// for several shards is refused with a clear error.
#[test]
fn each_shard_has_its_own_driver() {
    let made = Arc::new(AtomicUsize::new(0));
    let m = made.clone();
    let rt = Builder::new()
        .thread_per_core()
        .worker_threads(3)
        .park_factory(move || {
            m.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(ThreadPark::new()))
        })
        .build()
        .unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 3);
    let mut parks = rt.block_on_each(|_| async {
        Arc::as_ptr(&Handle::current().park_as::<ThreadPark>().unwrap()) as usize
    });
    parks.dedup();
    assert_eq!(parks.len(), 3);

    let error = Builder::new()
        .thread_per_core()
        .worker_threads(2)
        .park(Arc::new(ThreadPark::new()))
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("park_factory"), "{error}");
}

/// Blocking on a future inside a shard's task panics, as on the other
/// flavors; `Handle::shard` on another flavor says how to fix the call.
#[test]
fn misuse_panics_with_a_fix() {
    let rt = runtime(1);
    let nested = rt.block_on(rt.handle().shard(0).spawn(async {
        let rt = Runtime::new().unwrap();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(async {}))).is_err()
    }));
    assert!(nested.unwrap());
    let mt = Builder::new().worker_threads(1).build().unwrap();
    let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mt.handle().shard(0)))
        .unwrap_err()
        .downcast::<String>()
        .unwrap();
    assert!(message.contains("thread_per_core()"), "{message}");
    let out_of_range =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.handle().shard(1)))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
    assert!(out_of_range.contains("1 shard(s)"), "{out_of_range}");
}
