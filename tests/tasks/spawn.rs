//! Many tasks, nested spawns, and wake-ups from threads outside the runtime.

use super::*;

const MANY: u64 = 100_000;
const MANY_SUM: u64 = MANY * (MANY - 1) / 2;

#[test]
fn hundred_thousand_spawned_tasks_all_complete() {
    for (flavor, rt) in flavors() {
        let ran = Arc::new(AtomicUsize::new(0));
        let sum = rt.block_on({
            let ran = ran.clone();
            async move {
                let handles: Vec<JoinHandle<u64>> = (0..MANY)
                    .map(|i| {
                        let ran = ran.clone();
                        coro::spawn(async move {
                            ran.fetch_add(1, SeqCst);
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(sum, MANY_SUM, "{flavor}");
        assert_eq!(ran.load(SeqCst), MANY as usize, "{flavor}");
    }
}

#[test]
fn hundred_thousand_tasks_spawned_from_a_plain_thread_via_handle() {
    for (flavor, rt) in flavors() {
        let handle = rt.handle().clone();
        // The plain thread hands the JoinHandles over while the runtime is already running
        // `block_on`, so remote spawns wake a runtime that may be parked.
        let (tx, mut rx) = mpsc::unbounded::<JoinHandle<u64>>();
        let spawner = thread::spawn(move || {
            for i in 0..MANY {
                tx.unbounded_send(handle.spawn(async move { i })).unwrap();
            }
        });
        let (count, sum) = rt.block_on(async move {
            let (mut count, mut sum) = (0, 0);
            while let Some(task) = rx.next().await {
                sum += task.await.unwrap();
                count += 1;
            }
            (count, sum)
        });
        spawner.join().unwrap();
        assert_eq!(count, MANY, "{flavor}");
        assert_eq!(sum, MANY_SUM, "{flavor}");
    }
}

#[test]
fn tasks_spawned_with_runtime_spawn_before_block_on_run() {
    for (flavor, rt) in flavors() {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| rt.spawn(async move { i * 2 }))
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 999 * 1000, "{flavor}");
    }
}

// ---- wakes from foreign threads ---------------------------------------------------------

/// `tasks` tasks each wait `rounds` times on a value that a plain thread sends only once the
/// task is parked on its waker, so every round is a wake-up from a foreign thread.
fn foreign_wakes(rt: &Runtime, tasks: u64, rounds: u64) -> u64 {
    let (requests, incoming) = std::sync::mpsc::channel::<(u64, foreign::Sender<u64>)>();
    let helper = thread::spawn(move || {
        let mut served = 0;
        for (i, reply) in incoming {
            reply.send_to_waiting(i * 3);
            served += 1;
        }
        served
    });
    let total = rt.block_on(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let requests = requests.clone();
                coro::spawn(async move {
                    let mut sum = 0;
                    for r in 0..rounds {
                        let i = t * rounds + r;
                        let (tx, rx) = foreign::oneshot();
                        requests.send((i, tx)).unwrap();
                        let v = rx.await;
                        assert_eq!(v, i * 3);
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        // The block_on future itself also waits on foreign wakes.
        let mut sum = 0;
        for r in 0..rounds {
            let (tx, rx) = foreign::oneshot();
            let i = tasks * rounds + r;
            requests.send((i, tx)).unwrap();
            sum += rx.await;
        }
        drop(requests);
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let served = helper.join().unwrap();
    assert_eq!(served, (tasks + 1) * rounds);
    total
}

#[test]
fn wakes_from_a_foreign_thread_resume_parked_tasks() {
    for (flavor, rt) in flavors() {
        // One task, many rounds: the runtime has nothing else to do and parks every time.
        let total = foreign_wakes(&rt, 1, 1000);
        let n = 2 * 1000;
        assert_eq!(total, 3 * n * (n - 1) / 2, "{flavor}");
        // Several tasks waiting at once.
        let total = foreign_wakes(&rt, 8, 200);
        let n = 9 * 200;
        assert_eq!(total, 3 * n * (n - 1) / 2, "{flavor}");
    }
}

#[test]
fn futures_oneshot_from_foreign_threads() {
    for (flavor, rt) in flavors() {
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| {
                    let (tx, rx) = oneshot::channel::<u64>();
                    thread::spawn(move || tx.send(i).unwrap());
                    coro::spawn(async move { rx.await.unwrap() })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 4950, "{flavor}");
    }
}

// ---- nested spawns ----------------------------------------------------------------------

/// Spawns a tree of tasks: each node spawns `fanout` children and returns the size of its
/// subtree.
fn spawn_tree(
    depth: u32,
    fanout: u32,
    visited: Arc<AtomicUsize>,
) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        visited.fetch_add(1, SeqCst);
        if depth == 0 {
            return 1;
        }
        let children: Vec<_> = (0..fanout)
            .map(|_| coro::spawn(spawn_tree(depth - 1, fanout, visited.clone())))
            .collect();
        let mut total = 1;
        for child in children {
            total += child.await.unwrap();
        }
        total
    })
}

#[test]
fn nested_spawn_tree() {
    for (flavor, rt) in flavors() {
        for (depth, fanout) in [(6u32, 4u32), (12, 2), (1, 1000), (200, 1)] {
            let visited = Arc::new(AtomicUsize::new(0));
            let total = rt.block_on(rt.spawn(spawn_tree(depth, fanout, visited.clone())));
            let expected = (0..=depth).map(|d| (fanout as usize).pow(d)).sum::<usize>();
            assert_eq!(
                total.unwrap(),
                expected,
                "{flavor} depth {depth} fanout {fanout}"
            );
            assert_eq!(visited.load(SeqCst), expected, "{flavor}");
        }
    }
}

#[test]
fn spawn_through_handle_current_and_join_set_inside_tasks() {
    for (flavor, rt) in flavors() {
        let total = rt.block_on(async {
            coro::spawn(async {
                let handle = Handle::current();
                let mut set = JoinSet::new();
                for i in 0..50u64 {
                    let inner = handle.clone();
                    set.spawn(async move { inner.spawn(async move { i }).await.unwrap() });
                }
                let mut total = 0;
                while let Some(r) = set.join_next().await {
                    total += r.unwrap();
                }
                total
            })
            .await
            .unwrap()
        });
        assert_eq!(total, 49 * 25, "{flavor}");
    }
}
