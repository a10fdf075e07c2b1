//! `spawn_local`: `!Send` tasks on a current-thread runtime.

use super::*;

#[test]
fn spawn_local_with_rc_on_a_current_thread_runtime() {
    let rt = current_thread();
    let log = rt.block_on(async {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let handles: Vec<JoinHandle<Rc<u32>>> = (0..5u32)
            .map(|i| {
                let log = log.clone();
                coro::spawn_local(async move {
                    log.borrow_mut().push(i);
                    coro::yield_now().await;
                    log.borrow_mut().push(100 + i);
                    Rc::new(i) // a !Send output
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for h in handles {
            outputs.push(*h.await.unwrap());
        }
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    // yield_now sends a task to the back of the queue: round-robin.
    assert_eq!(log, [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
}

#[coro::test]
async fn spawn_local_in_coro_test_and_from_inside_a_task() {
    let shared = Rc::new(std::cell::Cell::new(0));
    let local = coro::spawn_local({
        let shared = shared.clone();
        async move {
            // A local task may spawn more local tasks.
            let inner = coro::spawn_local({
                let shared = shared.clone();
                async move { shared.set(shared.get() + 1) }
            });
            inner.await.unwrap();
            shared.set(shared.get() + 10);
        }
    });
    local.await.unwrap();
    assert_eq!(shared.get(), 11);
    // From inside a Send task of the current-thread runtime too.
    let n = coro::spawn(async {
        let rc = Rc::new(5);
        let h = coro::spawn_local(async move { *rc * 2 });
        h.await.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(n, 10);
}

#[test]
fn spawn_local_panics_aborts_and_foreign_wakes() {
    coro::block_on(async {
        let err = coro::spawn_local(async {
            let _rc = Rc::new(());
            panic!("local panic")
        })
        .await
        .unwrap_err();
        assert_eq!(panic_payload(err), "local panic");

        let drops = Drops::default();
        let guard = drops.guard();
        let pending = coro::spawn_local(async move {
            let _guard = guard;
            let _rc = Rc::new(());
            std::future::pending::<()>().await
        });
        coro::yield_now().await;
        pending.abort();
        assert_cancelled(pending.await);
        assert_eq!(drops.count(), 1);

        // A local task woken by a plain thread runs again on this thread.
        let here = thread::current().id();
        let (tx, rx) = foreign::oneshot::<u32>();
        let sender = thread::spawn(move || tx.send_to_waiting(3));
        let local = coro::spawn_local(async move {
            let rc = Rc::new(rx.await);
            (*rc, thread::current().id())
        });
        assert_eq!(local.await.unwrap(), (3, here));
        sender.join().unwrap();
    });
}

#[test]
fn pending_local_tasks_are_dropped_with_their_runtime() {
    let drops = Drops::default();
    let rt = current_thread();
    rt.block_on(async {
        for _ in 0..10 {
            let guard = drops.guard();
            drop(coro::spawn_local(async move {
                let _guard = guard;
                let _rc = Rc::new(());
                std::future::pending::<()>().await
            }));
        }
        coro::yield_now().await;
    });
    assert_eq!(drops.count(), 0);
    drop(rt);
    assert_eq!(drops.count(), 10);
}
