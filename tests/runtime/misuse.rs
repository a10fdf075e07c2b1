//! Misuse gets a clear panic that says how to fix the call, never a deadlock.

use super::*;

#[test]
fn spawn_outside_a_runtime_panics_with_a_helpful_message() {
    let msg = panic_message(|| drop(coro::spawn(async {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    assert!(msg.contains("no coro runtime"), "{msg}");
    let msg = panic_message(|| drop(coro::spawn_blocking(|| {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    let msg = panic_message(Handle::current);
    assert!(msg.contains("#[coro::main]"), "{msg}");
    let msg = panic_message(|| JoinSet::new().spawn(async {}));
    assert!(msg.contains("#[coro::main]"), "{msg}");
    // And after a runtime was used on this thread and left.
    coro::block_on(async {});
    let msg = panic_message(|| drop(coro::spawn(async {})));
    assert!(msg.contains("#[coro::main]"), "{msg}");
}

fn assert_use_await_message(msg: &str) {
    assert!(
        msg.contains("cannot block on a future from inside a coro runtime"),
        "{msg}"
    );
    assert!(msg.contains("Use `.await`"), "{msg}");
}

#[test]
fn block_on_inside_block_on_panics_instead_of_deadlocking() {
    for flavor in FLAVORS {
        no_hang("nested block_on", move || {
            let rt = build(flavor, |_| {});
            let other = build(flavor, |_| {});
            // `coro::block_on` inside `rt.block_on`.
            let msg = panic_message(|| rt.block_on(async { coro::block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // The same runtime's block_on inside its block_on.
            let msg = panic_message(|| rt.block_on(async { rt.block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // Another runtime's block_on.
            let msg = panic_message(|| rt.block_on(async { other.block_on(async { 1 }) }));
            assert_use_await_message(&msg);
            // The runtime still works afterwards.
            assert_eq!(
                rt.block_on(async { coro::spawn(async { 3 }).await.unwrap() }),
                3
            );
        });
    }
}

#[test]
fn block_on_inside_a_task_panics_instead_of_deadlocking() {
    for flavor in FLAVORS {
        no_hang("block_on in a task", move || {
            let rt = Arc::new(build(flavor, |_| {}));
            rt.block_on(async {
                let err = coro::spawn(async { coro::block_on(async { 1 }) })
                    .await
                    .unwrap_err();
                assert_use_await_message(&join_error_message(err));
                // Blocking on a task of the same runtime from inside a task: the classic
                // deadlock, refused.
                let rt2 = rt.clone();
                let err = coro::spawn(async move {
                    let inner = coro::spawn(async { 2 });
                    rt2.block_on(inner)
                })
                .await
                .unwrap_err();
                assert_use_await_message(&join_error_message(err));
                // The worker that refused is still fine.
                assert_eq!(coro::spawn(async { 4 }).await.unwrap(), 4);
            });
        });
    }
    // From inside a `coro::block_on` too.
    let msg = panic_message(|| coro::block_on(async { coro::block_on(async {}) }));
    assert_use_await_message(&msg);
}

#[test]
fn spawn_local_on_a_multi_thread_runtime_panics_clearly() {
    fn assert_local_message(msg: &str) {
        assert!(
            msg.contains("`coro::spawn_local` called outside a current-thread runtime"),
            "{msg}"
        );
        assert!(msg.contains("#[coro::test]"), "{msg}");
    }
    let rt = build("multi_thread", |_| {});
    let msg = panic_message(|| rt.block_on(async { drop(coro::spawn_local(async {})) }));
    assert_local_message(&msg);
    // Inside a worker's task.
    let err = rt
        .block_on(rt.spawn(async {
            drop(coro::spawn_local(async { Rc::new(1) }));
        }))
        .unwrap_err();
    assert_local_message(&join_error_message(err));
    // Outside any runtime.
    let msg = panic_message(|| drop(coro::spawn_local(async {})));
    assert_local_message(&msg);
    // Inside a blocking closure of a current-thread runtime: not the thread that drives it.
    let ct = build("current_thread", |_| {});
    let err = ct
        .block_on(ct.spawn_blocking(|| drop(coro::spawn_local(async {}))))
        .unwrap_err();
    assert_local_message(&join_error_message(err));
    // The multi-thread runtime is fine afterwards.
    assert_eq!(
        rt.block_on(async { coro::spawn(async { 1 }).await.unwrap() }),
        1
    );
}
