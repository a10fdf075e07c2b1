//! Unit tests of the runtime as a whole, small enough for Miri: they drive
//! every `unsafe` path (the task metadata pointers, `JoinHandle`, the
//! registry, `spawn_local`, both schedulers' thread-locals, shutdown).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::runtime::Builder;
use crate::task::{yield_now, JoinSet};
use crate::{spawn, spawn_blocking, spawn_local, Runtime};

const N: usize = if cfg!(miri) { 20 } else { 1_000 };

fn runtimes() -> [Runtime; 2] {
    [
        Builder::new().current_thread().build().unwrap(),
        Builder::new().worker_threads(2).build().unwrap(),
    ]
}

/// Counts drops, to prove destructors ran.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that is pending until another thread calls `fire`.
#[derive(Clone, Default)]
struct Trigger(Arc<Mutex<(bool, Option<Waker>)>>);

impl Trigger {
    fn fire(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Trigger {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().unwrap().to_string(),
    }
}

#[test]
fn spawned_tasks_all_complete() {
    for rt in runtimes() {
        let total = rt.block_on(async {
            let handles: Vec<_> = (0..N).map(|i| spawn(async move { i })).collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            total
        });
        assert_eq!(total, N * (N - 1) / 2);
    }
}

#[test]
fn yielding_tasks_interleave_and_complete() {
    for rt in runtimes() {
        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on({
            let count = count.clone();
            async move {
                let mut set = JoinSet::new();
                for _ in 0..4 {
                    let count = count.clone();
                    set.spawn(async move {
                        for _ in 0..N / 4 {
                            count.fetch_add(1, Ordering::Relaxed);
                            yield_now().await;
                        }
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                }
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), N / 4 * 4);
    }
}

#[test]
fn wake_from_a_foreign_thread() {
    for rt in runtimes() {
        let trigger = Trigger::default();
        let task = rt.spawn({
            let trigger = trigger.clone();
            async move {
                trigger.await;
                "woken"
            }
        });
        let thread = std::thread::spawn(move || trigger.fire());
        assert_eq!(rt.block_on(task).unwrap(), "woken");
        thread.join().unwrap();
    }
}

#[test]
fn panic_is_caught_and_worker_survives() {
    for rt in runtimes() {
        rt.block_on(async {
            let err = spawn(async { panic!("task failed") }).await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "task failed");
            assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
        });
    }
}

#[test]
fn abort_pending_and_finished_tasks() {
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on({
            let drops = drops.clone();
            async move {
                let guard = DropGuard(drops.clone());
                let pending = spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
                // Let it run and register as idle.
                yield_now().await;
                yield_now().await;
                pending.abort();
                assert!(pending.await.unwrap_err().is_cancelled());
                assert_eq!(drops.load(Ordering::SeqCst), 1);

                let finished = spawn(async { 9 });
                while !finished.is_finished() {
                    yield_now().await;
                }
                finished.abort();
                assert_eq!(finished.await.unwrap(), 9);
            }
        });
    }
}

#[test]
fn dropping_the_runtime_drops_every_task() {
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut kept = Vec::new();
        for i in 0..10 {
            let guard = DropGuard(drops.clone());
            let handle = rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            if i % 2 == 0 {
                kept.push(handle);
            }
        }
        let finished = rt.spawn(async { "done" });
        // Let every task run once (and so register) before the drop.
        rt.block_on(async {
            for _ in 0..4 {
                yield_now().await;
            }
        });
        while !finished.is_finished() {
            std::thread::yield_now();
        }
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 10);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        for mut handle in kept {
            match Pin::new(&mut handle).poll(&mut cx) {
                Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
                other => panic!("expected a cancelled task, got {other:?}"),
            }
        }
        let mut finished = finished;
        assert!(matches!(
            Pin::new(&mut finished).poll(&mut cx),
            Poll::Ready(Ok("done"))
        ));
    }
}

#[test]
fn tasks_never_polled_are_dropped_too() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Builder::new().current_thread().build().unwrap();
    for _ in 0..5 {
        let guard = DropGuard(drops.clone());
        rt.spawn(async move {
            let _guard = guard;
        });
    }
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn spawn_local_keeps_rc_on_its_thread() {
    let rt = Builder::new().current_thread().build().unwrap();
    let value = rt.block_on(async {
        let shared = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut handles = Vec::new();
        for i in 1..=5 {
            let shared = shared.clone();
            handles.push(spawn_local(async move {
                yield_now().await;
                shared.set(shared.get() + i);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        shared.get()
    });
    assert_eq!(value, 15);
}

#[test]
fn spawn_blocking_returns_and_has_context() {
    for rt in runtimes() {
        let v = rt.block_on(async {
            spawn_blocking(|| crate::runtime::Handle::current().spawn(async { 5 }))
                .await
                .unwrap()
                .await
                .unwrap()
        });
        assert_eq!(v, 5);
    }
}

#[test]
fn nested_block_on_panics_instead_of_deadlocking() {
    let rt = Builder::new().current_thread().build().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { crate::block_on(async {}) })
    }));
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("Use `.await`"), "{message}");
    // The runtime is still usable afterwards.
    assert_eq!(rt.block_on(async { spawn(async { 2 }).await.unwrap() }), 2);
}

#[test]
fn spawn_outside_a_runtime_says_how_to_fix_it() {
    let result = std::panic::catch_unwind(|| spawn(async {}));
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("#[coro::main]"), "{message}");
}

#[test]
fn only_idle_tasks_are_registered() {
    use crate::runtime::Scheduler;

    let rt = Builder::new().current_thread().build().unwrap();
    let registered = |rt: &Runtime| match &rt.handle().inner.scheduler {
        Scheduler::CurrentThread(shared) => shared.owned.len(),
        Scheduler::MultiThread(shared) => shared.owned.len(),
        Scheduler::ThreadPerCore(_) => unreachable!("built as current-thread above"),
    };
    let idle: Vec<_> = (0..5)
        .map(|_| rt.spawn(std::future::pending::<()>()))
        .collect();
    let done: Vec<_> = (0..5).map(|i| rt.spawn(async move { i })).collect();
    rt.block_on(async {
        for handle in done {
            handle.await.unwrap();
        }
    });
    // Tasks that finished on their first poll never touched the registry.
    assert_eq!(registered(&rt), 5);
    for handle in &idle {
        handle.abort();
    }
    rt.block_on(async {
        for handle in idle {
            assert!(handle.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(registered(&rt), 0);
}
