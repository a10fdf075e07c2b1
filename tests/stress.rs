//! Stress tests of the `coro` runtimes: many threads, thousands of iterations, and nothing
//! may be lost (every task runs once, every wake arrives, every destructor runs).
//!
//! Sizes keep the whole file well under 20 s in a debug build on two cores. Nothing here
//! depends on timing: the checks are counts and sums.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc as std_mpsc, Arc, Barrier, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use coro::task::{JoinHandle, JoinSet};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};

mod common;
use common::*;

// ---- spawning from many threads -----------------------------------------------------------

#[test]
fn eight_threads_spawn_five_thousand_tasks_each_through_a_handle() {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 5_000;
    const TOTAL: u64 = THREADS * PER_THREAD;
    for (flavor, rt) in flavors() {
        let ran = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = mpsc::unbounded::<u64>();
        // Each task wakes this waiter through the channel.
        let waiter = rt.spawn(async move {
            let (mut received, mut sum) = (0, 0);
            while received < TOTAL {
                sum += rx.next().await.expect("a sender outlives the messages");
                received += 1;
            }
            sum
        });
        let start = Arc::new(Barrier::new(THREADS as usize));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let (handle, tx, ran, start) =
                    (rt.handle().clone(), tx.clone(), ran.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    (0..PER_THREAD)
                        .map(|i| {
                            let (tx, ran) = (tx.clone(), ran.clone());
                            let value = t * PER_THREAD + i;
                            handle.spawn(async move {
                                ran.fetch_add(1, SeqCst);
                                tx.unbounded_send(value).unwrap();
                                value
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        drop(tx);
        // The current-thread runtime only runs while someone is in block_on: drive it while
        // the threads are still spawning.
        let received_sum = rt.block_on(waiter).unwrap();
        let tasks: Vec<JoinHandle<u64>> = spawners
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        assert_eq!(tasks.len() as u64, TOTAL);
        let joined_sum = rt.block_on(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(ran.load(SeqCst) as u64, TOTAL, "{flavor}");
        assert_eq!(received_sum, TOTAL * (TOTAL - 1) / 2, "{flavor}");
        assert_eq!(joined_sum, received_sum, "{flavor}");
    }
}

// ---- runtime churn ------------------------------------------------------------------------

#[test]
fn create_and_drop_runtimes_with_pending_tasks_and_racing_foreign_wakes() {
    const ITERATIONS: usize = 200;
    const PENDING: usize = 10;
    const WOKEN: usize = 10;
    let drops = Drops::default();
    for iteration in 0..ITERATIONS {
        let flavor = FLAVORS[iteration % 2];
        let rt = build(flavor, |_| {});
        let started = Arc::new(AtomicUsize::new(0));
        let mut kept = Vec::new();
        for i in 0..PENDING {
            let (guard, started) = (drops.guard(), started.clone());
            let task = rt.spawn(async move {
                let _guard = guard;
                started.fetch_add(1, SeqCst);
                std::future::pending::<()>().await
            });
            if i % 2 == 0 {
                kept.push(task);
            }
        }
        let mut senders = Vec::new();
        for _ in 0..WOKEN {
            let (tx, rx) = oneshot::channel::<u32>();
            senders.push(tx);
            let (guard, started, drops) = (drops.guard(), started.clone(), drops.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                started.fetch_add(1, SeqCst);
                if rx.await.is_ok() {
                    // Woken while the runtime may be shutting down: spawn more work.
                    let child_guard = drops.guard();
                    drop(coro::spawn(async move {
                        let _guard = child_guard;
                        std::future::pending::<()>().await
                    }));
                    coro::yield_now().await;
                }
            }));
        }
        rt.block_on(wait_until(|| started.load(SeqCst) == PENDING + WOKEN));
        // The foreign thread wakes the tasks at the moment the runtime is being dropped.
        let go = Arc::new(Barrier::new(2));
        let waker_thread = {
            let go = go.clone();
            thread::spawn(move || {
                go.wait();
                for tx in senders {
                    let _ = tx.send(1);
                }
            })
        };
        go.wait();
        drop(rt);
        waker_thread.join().unwrap();
        for task in kept {
            assert!(futures::executor::block_on(task)
                .unwrap_err()
                .is_cancelled());
        }
        assert_eq!(
            drops.count(),
            drops.created(),
            "iteration {iteration} ({flavor}): a destructor did not run"
        );
    }
    assert!(drops.created() >= ITERATIONS * (PENDING + WOKEN));
}

#[test]
fn runtimes_dropped_while_tasks_wake_each_other() {
    // Tasks busy waking each other (and spawning) at the moment of the drop.
    let drops = Drops::default();
    for iteration in 0..100 {
        let flavor = FLAVORS[iteration % 2];
        let rt = build(flavor, |_| {});
        let rounds = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let (mut tx_a, mut rx_a) = mpsc::channel::<u32>(1);
            let (mut tx_b, mut rx_b) = mpsc::channel::<u32>(1);
            let (guard, rounds) = (drops.guard(), rounds.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                let mut n = 0;
                while tx_b.send(n).await.is_ok() {
                    rounds.fetch_add(1, SeqCst);
                    match rx_a.next().await {
                        Some(m) => n = m + 1,
                        None => break,
                    }
                }
            }));
            let (guard, drops2) = (drops.guard(), drops.clone());
            drop(rt.spawn(async move {
                let _guard = guard;
                while let Some(n) = rx_b.next().await {
                    let child_guard = drops2.guard();
                    drop(coro::spawn(async move {
                        let _guard = child_guard;
                        coro::yield_now().await;
                    }));
                    if tx_a.send(n + 1).await.is_err() {
                        break;
                    }
                }
            }));
        }
        rt.block_on(wait_until(|| rounds.load(SeqCst) >= 20));
        drop(rt);
        assert_eq!(
            drops.count(),
            drops.created(),
            "iteration {iteration} ({flavor})"
        );
    }
}

// ---- ping-pong ----------------------------------------------------------------------------

const ROUND_TRIPS: u32 = 10_000;

/// Answers every number with its successor until the channel closes.
async fn pong(mut rx: mpsc::Receiver<u32>, mut tx: mpsc::Sender<u32>) -> u32 {
    let mut answered = 0;
    while let Some(n) = rx.next().await {
        tx.send(n + 1).await.unwrap();
        answered += 1;
    }
    answered
}

/// Sends `ROUND_TRIPS` numbers and checks every answer.
async fn ping(mut tx: mpsc::Sender<u32>, mut rx: mpsc::Receiver<u32>) -> u32 {
    for i in 0..ROUND_TRIPS {
        tx.send(i * 2).await.unwrap();
        assert_eq!(rx.next().await, Some(i * 2 + 1));
    }
    ROUND_TRIPS
}

#[test]
fn ping_pong_between_tasks_on_different_workers() {
    let rt = build("multi_thread", |_| {});
    let (to_pong, pong_rx) = mpsc::channel::<u32>(0);
    let (to_ping, ping_rx) = mpsc::channel::<u32>(0);
    // Both tasks start by meeting on a thread barrier, which only works if they run on the
    // two workers at once.
    let meet = Rendezvous::new(2);
    let pinger = rt.spawn({
        let meet = meet.clone();
        async move {
            assert!(meet.wait(), "the two tasks never ran at the same time");
            ping(to_pong, ping_rx).await
        }
    });
    let ponger = rt.spawn(async move {
        assert!(meet.wait(), "the two tasks never ran at the same time");
        pong(pong_rx, to_ping).await
    });
    let (pings, pongs) = rt.block_on(async { (pinger.await.unwrap(), ponger.await.unwrap()) });
    assert_eq!((pings, pongs), (ROUND_TRIPS, ROUND_TRIPS));
}

#[test]
fn ping_pong_between_a_task_and_the_block_on_future() {
    for (flavor, rt) in flavors() {
        let (to_pong, pong_rx) = mpsc::channel::<u32>(0);
        let (to_ping, ping_rx) = mpsc::channel::<u32>(0);
        let ponger = rt.spawn(pong(pong_rx, to_ping));
        // On a multi-thread runtime the block_on future runs on this (non-worker) thread.
        let pings = rt.block_on(ping(to_pong, ping_rx));
        let pongs = rt.block_on(ponger).unwrap();
        assert_eq!((pings, pongs), (ROUND_TRIPS, ROUND_TRIPS), "{flavor}");
    }
}

#[test]
fn ping_pong_between_a_task_and_a_plain_thread() {
    for (flavor, rt) in flavors() {
        let (to_thread, thread_rx) = std_mpsc::channel::<u32>();
        let (to_task, mut task_rx) = mpsc::unbounded::<u32>();
        // A plain thread answers with blocking calls; each answer wakes the parked runtime.
        let plain = thread::spawn(move || {
            let mut answered = 0;
            for n in thread_rx {
                to_task.unbounded_send(n + 1).unwrap();
                answered += 1;
            }
            answered
        });
        let pinger = rt.spawn(async move {
            for i in 0..ROUND_TRIPS {
                to_thread.send(i).unwrap();
                assert_eq!(task_rx.next().await, Some(i + 1));
            }
            ROUND_TRIPS
        });
        assert_eq!(rt.block_on(pinger).unwrap(), ROUND_TRIPS, "{flavor}");
        assert_eq!(plain.join().unwrap(), ROUND_TRIPS, "{flavor}");
    }
}

// ---- wake storms --------------------------------------------------------------------------

/// A counter that a task waits on, incremented (with a wake each time) by plain threads.
#[derive(Default)]
struct Counter {
    state: Mutex<(usize, Option<Waker>)>,
}

impl Counter {
    fn increment(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.0 += 1;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn reaches(&self, target: usize) -> impl Future<Output = usize> + '_ {
        std::future::poll_fn(move |cx| {
            let mut state = self.state.lock().unwrap();
            if state.0 >= target {
                Poll::Ready(state.0)
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

#[test]
fn no_wake_is_lost_when_many_threads_wake_tasks_concurrently() {
    const THREADS: usize = 8;
    const INCREMENTS: usize = 2_000;
    for (flavor, rt) in flavors() {
        let counters: Vec<Arc<Counter>> = (0..4).map(|_| Arc::default()).collect();
        // One waiting task per counter, plus the block_on future on the last one.
        let waiters: Vec<_> = counters[..3]
            .iter()
            .map(|c| {
                let c = c.clone();
                rt.spawn(async move { c.reaches(THREADS * INCREMENTS).await })
            })
            .collect();
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let counters = counters.clone();
                thread::spawn(move || {
                    for _ in 0..INCREMENTS {
                        for c in &counters {
                            c.increment();
                        }
                    }
                })
            })
            .collect();
        let last = counters[3].clone();
        let results = rt.block_on(async move {
            let mut results = vec![last.reaches(THREADS * INCREMENTS).await];
            for w in waiters {
                results.push(w.await.unwrap());
            }
            results
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(results, [THREADS * INCREMENTS; 4], "{flavor}");
    }
}

#[test]
fn yield_storm() {
    const TASKS: usize = 1_000;
    const YIELDS: usize = 100;
    for (flavor, rt) in flavors() {
        let polls = Arc::new(AtomicUsize::new(0));
        let total = rt.block_on({
            let polls = polls.clone();
            async move {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let polls = polls.clone();
                        coro::spawn(async move {
                            for _ in 0..YIELDS {
                                polls.fetch_add(1, SeqCst);
                                coro::yield_now().await;
                            }
                            i
                        })
                    })
                    .collect();
                // The block_on future yields too, among them.
                for _ in 0..YIELDS {
                    coro::yield_now().await;
                }
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap();
                }
                total
            }
        });
        assert_eq!(total, TASKS * (TASKS - 1) / 2, "{flavor}");
        assert_eq!(polls.load(SeqCst), TASKS * YIELDS, "{flavor}");
    }
}

// ---- abort and JoinSet churn --------------------------------------------------------------

#[test]
fn abort_storm_from_a_foreign_thread() {
    const TASKS: usize = 10_000;
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let completed = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<JoinHandle<usize>> = (0..TASKS)
            .map(|i| {
                let (guard, completed) = (drops.guard(), completed.clone());
                rt.spawn(async move {
                    let _guard = guard;
                    for _ in 0..i % 4 {
                        coro::yield_now().await;
                    }
                    if i % 3 == 0 {
                        std::future::pending::<()>().await;
                    }
                    completed.fetch_add(1, SeqCst);
                    i
                })
            })
            .collect();
        // A plain thread aborts every task while the runtime runs them.
        let tasks = Arc::new(tasks);
        let aborter = {
            let tasks = tasks.clone();
            thread::spawn(move || {
                for t in tasks.iter().rev() {
                    t.abort();
                }
            })
        };
        rt.block_on({
            let tasks = tasks.clone();
            async move { wait_until(|| tasks.iter().all(JoinHandle::is_finished)).await }
        });
        aborter.join().unwrap();
        let tasks = Arc::try_unwrap(tasks).unwrap_or_else(|_| unreachable!("aborter joined"));
        let (mut ok, mut cancelled) = (0, 0);
        for (i, t) in tasks.into_iter().enumerate() {
            match futures::executor::block_on(t) {
                Ok(v) => {
                    assert_eq!(v, i);
                    assert_ne!(i % 3, 0, "a pending task completed");
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "{e:?}");
                    cancelled += 1;
                }
            }
        }
        assert_eq!(ok + cancelled, TASKS, "{flavor}");
        assert_eq!(ok, completed.load(SeqCst), "{flavor}");
        assert!(
            cancelled >= TASKS / 3,
            "{flavor}: the pending ones were all cancelled"
        );
        assert_eq!(drops.count(), TASKS, "{flavor}");
    }
}

#[test]
fn join_set_churn() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        rt.block_on(async {
            for round in 0..100u64 {
                let mut set = JoinSet::new();
                for i in 0..100u64 {
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        if i % 2 == 0 {
                            std::future::pending::<()>().await;
                        }
                        coro::yield_now().await;
                        round * 1000 + i
                    });
                }
                // Collect half the finished ones, then drop the set with the rest.
                let mut sum = 0;
                for _ in 0..25 {
                    sum += set.join_next().await.unwrap().unwrap();
                }
                assert!(sum > 0 || round == 0);
                assert_eq!(set.len(), 75);
                drop(set);
            }
            wait_until(|| drops.count() == drops.created()).await;
        });
        assert_eq!(drops.created(), 100 * 100, "{flavor}");
        assert_eq!(drops.count(), drops.created(), "{flavor}");
    }
}

#[test]
fn spawn_blocking_storm_with_a_small_pool() {
    for flavor in FLAVORS {
        let rt = build(flavor, |b| {
            b.max_blocking_threads(3);
        });
        let running = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on({
            let (running, high_water) = (running.clone(), high_water.clone());
            async move {
                let tasks: Vec<_> = (0..2_000u64)
                    .map(|i| {
                        let (running, high_water) = (running.clone(), high_water.clone());
                        coro::spawn(async move {
                            coro::spawn_blocking(move || {
                                let now = running.fetch_add(1, SeqCst) + 1;
                                high_water.fetch_max(now, SeqCst);
                                running.fetch_sub(1, SeqCst);
                                i
                            })
                            .await
                            .unwrap()
                        })
                    })
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(sum, 1999 * 1000, "{flavor}");
        assert!(high_water.load(SeqCst) <= 3, "{flavor}");
    }
}

// ---- overflow between the local queues and the injection queue ---------------------------

/// A task spawns far more tasks than a local queue holds, round after round, while the other
/// worker refills from the injection queue and steals. Every refill that overflows back into
/// the injection queue must not deadlock on that queue's lock, and no task may be lost.
#[test]
fn spawn_floods_overflow_and_refill_without_losing_a_task() {
    const ROUNDS: usize = 40;
    const TASKS: usize = 20_000;
    let rt = build("multi_thread", |_| {});
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let handle = rt.handle().clone();
    thread::spawn(move || {
        for _ in 0..ROUNDS {
            // The flood is spawned from inside a worker, where spawns go to its local queue.
            let root = handle.spawn(async {
                let tasks: Vec<_> = (0..TASKS).map(|i| coro::spawn(async move { i })).collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await.unwrap();
                }
                sum
            });
            done_tx
                .send(futures::executor::block_on(root).unwrap())
                .unwrap();
        }
    });
    for round in 0..ROUNDS {
        let sum = done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("round {round} hung"));
        assert_eq!(sum, TASKS * (TASKS - 1) / 2);
    }
}
