//! `Handle`: getting one, spawning through it, and the runtime context.

use super::*;

#[test]
fn handle_try_current_and_enter() {
    assert!(Handle::try_current().is_none());
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            assert!(Handle::try_current().is_some(), "{flavor}: block_on future");
            let in_task = coro::spawn(async { Handle::try_current().is_some() });
            assert!(in_task.await.unwrap(), "{flavor}: task");
            let in_blocking = coro::spawn_blocking(|| Handle::try_current().is_some());
            assert!(in_blocking.await.unwrap(), "{flavor}: spawn_blocking");
        });
        assert!(
            Handle::try_current().is_none(),
            "{flavor}: left after block_on"
        );

        // `enter` makes `coro::spawn` work on a plain thread.
        let task = {
            let _guard = rt.handle().enter();
            assert!(Handle::try_current().is_some());
            coro::spawn(async { "entered" })
        };
        assert!(
            Handle::try_current().is_none(),
            "{flavor}: left after the guard"
        );
        assert_eq!(rt.block_on(task).unwrap(), "entered", "{flavor}");
    }
}

#[test]
fn nested_enter_guards_restore_the_previous_runtime() {
    let one = Runtime::builder()
        .worker_threads(1)
        .thread_name("one")
        .build()
        .unwrap();
    let two = Runtime::builder()
        .worker_threads(1)
        .thread_name("two")
        .build()
        .unwrap();
    let name = || async { thread::current().name().unwrap().to_owned() };
    let _outer = one.handle().enter();
    let in_two = {
        let _inner = two.handle().enter();
        coro::spawn(name())
    };
    let in_one = coro::spawn(name());
    assert_eq!(futures::executor::block_on(in_two).unwrap(), "two-0");
    assert_eq!(futures::executor::block_on(in_one).unwrap(), "one-0");
}

#[test]
fn handle_spawn_from_many_plain_threads() {
    for (flavor, rt) in flavors() {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let handle = rt.handle().clone();
                thread::spawn(move || {
                    (0..500u64)
                        .map(|i| handle.spawn(async move { t * 1000 + i }))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let tasks: Vec<JoinHandle<u64>> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        let expected: u64 = (0..4u64)
            .flat_map(|t| (0..500u64).map(move |i| t * 1000 + i))
            .sum();
        assert_eq!(sum, expected, "{flavor}");
    }
}

#[test]
fn a_handle_outliving_its_runtime_cancels_new_tasks() {
    for (flavor, rt) in flavors() {
        let handle = rt.handle().clone();
        drop(rt);
        let drops = Drops::default();
        let guard = drops.guard();
        let task = handle.spawn(async move {
            let _guard = guard;
            1
        });
        // The future was dropped at once, without running.
        assert_eq!(drops.count(), 1, "{flavor}");
        let err = futures::executor::block_on(task).unwrap_err();
        assert!(err.is_cancelled(), "{flavor}");
        let err = futures::executor::block_on(handle.spawn_blocking(|| 2)).unwrap_err();
        assert!(err.is_cancelled(), "{flavor}");
    }
}

#[test]
fn joining_a_task_of_another_runtime() {
    let producer = build("multi_thread", |_| {});
    let consumer = build("current_thread", |_| {});
    let (tx, rx) = oneshot::channel::<u32>();
    let task = producer.spawn(async move { rx.await.unwrap() + 1 });
    let sender = thread::spawn(move || tx.send(41).unwrap());
    // The consumer runtime waits on a waker fired by a worker of the producer runtime.
    assert_eq!(consumer.block_on(task).unwrap(), 42);
    sender.join().unwrap();

    // And the other way round, with the wake coming from the current-thread runtime's thread.
    let (tx, rx) = oneshot::channel::<u32>();
    let waiting = producer.spawn(async move { rx.await.unwrap() });
    consumer.block_on(async move {
        coro::spawn(async move { tx.send(5).unwrap() })
            .await
            .unwrap();
    });
    assert_eq!(producer.block_on(waiting).unwrap(), 5);
}
