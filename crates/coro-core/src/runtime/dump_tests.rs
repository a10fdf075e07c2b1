//! Tests of `Handle::dump()`: states, poll counts, names and sites, and a
//! dump taken while the workers are busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::{Builder, Handle, TaskInfo, TaskState};
use crate::task::{self, Id};

fn find(dump: &crate::runtime::Dump, id: Id) -> TaskInfo {
    dump.tasks()
        .find(|t| t.id() == id)
        .unwrap_or_else(|| panic!("task {id} not in the dump:\n{dump}"))
        .clone()
}

#[test]
fn idle_scheduled_and_running_tasks_with_their_polls() {
    crate::block_on(async {
        let (tx, rx) = crate::sync::oneshot::channel::<()>();
        let waiter = task::Builder::new().name("waiter").spawn(async move {
            for _ in 0..3 {
                crate::yield_now().await;
            }
            rx.await.unwrap();
        });
        let waiter_line = line!() - 6;
        let quiet = crate::spawn(std::future::pending::<()>());
        // Let both run until they wait.
        for _ in 0..5 {
            crate::yield_now().await;
        }
        let dump = Handle::current().dump();
        assert_eq!(dump.len(), 2, "{dump}");
        let info = find(&dump, waiter.id());
        assert_eq!(info.name(), Some("waiter"));
        assert_eq!(info.spawned_at().line(), waiter_line);
        assert_eq!(info.state(), TaskState::Idle);
        assert_eq!(info.polls(), 4);
        let quiet_info = find(&dump, quiet.id());
        assert_eq!((quiet_info.name(), quiet_info.polls()), (None, 1));

        // Woken, not yet run: scheduled.
        tx.send(()).unwrap();
        let dump = Handle::current().dump();
        assert_eq!(find(&dump, waiter.id()).state(), TaskState::Scheduled);
        waiter.await.unwrap();
        // Finished tasks leave the dump.
        let dump = Handle::current().dump();
        assert_eq!(dump.len(), 1, "{dump}");

        // A task that dumps while it runs sees itself running.
        let me = crate::spawn(async {
            crate::yield_now().await; // registered once it has waited
            let dump = Handle::current().dump();
            find(&dump, task::id()).state()
        });
        assert_eq!(me.await.unwrap(), TaskState::Running { worker: Some(0) });
        quiet.abort();
    });
}

#[test]
fn since_last_poll_grows_while_a_task_waits() {
    crate::block_on(async {
        let idle = crate::spawn(std::future::pending::<()>());
        crate::yield_now().await;
        std::thread::sleep(Duration::from_millis(60));
        let dump = Handle::current().dump();
        let since = find(&dump, idle.id()).since_last_poll().unwrap();
        assert!(since >= Duration::from_millis(60), "{since:?}");
        idle.abort();
    });
}

#[test]
fn tasks_not_yet_polled_are_counted_not_listed() {
    let rt = Builder::new().current_thread().build().unwrap();
    let queued = rt.spawn(async {});
    let dump = rt.handle().dump();
    assert_eq!((dump.len(), dump.unlisted()), (0, 1));
    assert!(dump.to_string().contains("1 not yet polled"), "{dump}");
    rt.block_on(queued).unwrap();
    assert_eq!(rt.handle().dump().unlisted(), 0);
}

#[test]
fn a_dump_while_every_worker_is_busy() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let _enter = rt.handle().enter();
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let release = release.clone();
            let started = started_tx.clone();
            task::Builder::new()
                .name(&format!("busy {i}"))
                .spawn(async move {
                    crate::yield_now().await; // registered, then spins
                    started.send(()).unwrap();
                    while !release.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                })
        })
        .collect();
    for _ in 0..2 {
        started_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the busy tasks never started");
    }
    // Both workers are inside a poll that never yields; the dump still
    // returns and shows them running, one on each worker.
    let dump = rt.handle().dump();
    let mut workers: Vec<_> = busy
        .iter()
        .map(|handle| match find(&dump, handle.id()).state() {
            TaskState::Running { worker: Some(n) } => n,
            other => panic!("expected running, got {other}:\n{dump}"),
        })
        .collect();
    workers.sort_unstable();
    assert_eq!(workers, [0, 1], "{dump}");
    assert!(dump.to_string().contains("busy 0"), "{dump}");
    release.store(true, Ordering::SeqCst);
    for handle in busy {
        rt.block_on(handle).unwrap();
    }
}
