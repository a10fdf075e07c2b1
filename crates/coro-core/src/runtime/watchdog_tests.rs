//! Tests of the blocking watchdog: a task that blocks its worker with
//! `std::thread::sleep` is reported, by name, while it still blocks and
//! again when it returns.

use std::ffi::OsStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::runtime::watchdog::{parse_threshold, DEFAULT_THRESHOLD};
use crate::runtime::{BlockingReport, Builder};
use crate::task;

const THRESHOLD: Duration = Duration::from_millis(40);
const BLOCK: Duration = Duration::from_millis(300);
/// How long a blocking task waits for its first report before giving up.
const PATIENCE: Duration = Duration::from_secs(20);

/// What the hook saw: each report, and whether the task had finished
/// blocking when it was made.
type Seen = Arc<Mutex<Vec<(BlockingReport, bool)>>>;

fn runtime(builder: &mut Builder, seen: &Seen, done: &Arc<AtomicBool>) -> crate::Runtime {
    let (seen, done) = (seen.clone(), done.clone());
    builder
        .blocking_threshold(THRESHOLD)
        .on_blocking(move |report| {
            seen.lock()
                .unwrap()
                .push((report.clone(), done.load(Ordering::SeqCst)));
        })
        .build()
        .unwrap()
}

fn check_blocking_task_is_reported(builder: &mut Builder, workers: usize) {
    let seen: Seen = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let rt = runtime(builder, &seen, &done);
    let (id, line) = rt.block_on(async {
        let blocker = task::Builder::new().name("sleepy").spawn({
            let done = done.clone();
            let seen = seen.clone();
            async move {
                // Blocks its worker with `std::thread::sleep` until the
                // watchdog has reported it (however loaded the machine).
                let start = std::time::Instant::now();
                while seen.lock().unwrap().is_empty() && start.elapsed() < PATIENCE {
                    std::thread::sleep(Duration::from_millis(5));
                }
                done.store(true, Ordering::SeqCst);
            }
        });
        let line = line!() - 13;
        let id = blocker.id();
        blocker.await.unwrap();
        (id, line)
    });
    drop(rt);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        2,
        "one report while blocked, one at the end: {seen:?}"
    );
    let (during, done_then) = &seen[0];
    assert!(
        !done_then,
        "the first report came after the task stopped blocking"
    );
    assert!(!during.is_finished());
    assert_eq!(during.task_id(), id);
    assert_eq!(during.task_name(), Some("sleepy"));
    assert_eq!(during.spawned_at().line(), line);
    assert_eq!(during.spawned_at().file(), file!());
    assert!(during.worker() < workers);
    assert!(during.blocked_for() >= THRESHOLD, "{during}");
    let (after, _) = &seen[1];
    assert!(after.is_finished());
    assert_eq!(after.task_id(), id);
    assert_eq!(after.worker(), during.worker());
    assert!(after.blocked_for() >= during.blocked_for(), "{after}");
    let shown = during.to_string();
    assert!(shown.contains(&format!("task {id} \"sleepy\"")), "{shown}");
    assert!(shown.contains("is blocking worker"), "{shown}");
    assert!(format!("{during:?}").contains("sleepy"));
    assert!(after.to_string().contains("blocked worker"), "{after}");
}

#[test]
fn current_thread_reports_a_blocking_task_by_name() {
    check_blocking_task_is_reported(Builder::new().current_thread(), 1);
}

#[test]
fn multi_thread_reports_a_blocking_task_by_name() {
    check_blocking_task_is_reported(Builder::new().worker_threads(2), 2);
}

#[test]
fn tasks_that_yield_are_not_reported() {
    let seen: Seen = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let rt = runtime(Builder::new().current_thread(), &seen, &done);
    rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                crate::spawn(async {
                    for _ in 0..200 {
                        crate::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    drop(rt);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn an_unnamed_task_is_reported_by_id_and_location() {
    let seen: Seen = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let rt = runtime(Builder::new().current_thread(), &seen, &done);
    rt.block_on(async {
        crate::spawn(async { std::thread::sleep(BLOCK) })
            .await
            .unwrap();
    });
    drop(rt);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0.task_name(), None);
    assert!(seen[0].0.to_string().contains(file!()));
}

#[test]
fn the_threshold_variable_is_parsed_with_a_clear_error() {
    assert_eq!(
        parse_threshold(OsStr::new("250")).unwrap(),
        Duration::from_millis(250)
    );
    assert_eq!(parse_threshold(OsStr::new("")).unwrap(), DEFAULT_THRESHOLD);
    for bad in ["abc", "0", "-5", "1.5"] {
        let error = parse_threshold(OsStr::new(bad)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains("CORO_BLOCKING_THRESHOLD_MS"),
            "{error}"
        );
    }
}
