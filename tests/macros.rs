//! Integration tests of `#[coro::main]` and `#[coro::test]`.
//!
//! The compile errors of misused macros are checked by `tests/macros_ui.rs`.

use std::error::Error;
use std::thread::{self, ThreadId};

mod common;
use common::*;

/// Spawns two tasks that each block their worker thread until the other one arrives, and
/// returns the threads they ran on. This only succeeds on a runtime with at least two workers.
async fn two_tasks_meet() -> (ThreadId, ThreadId) {
    let meeting = Rendezvous::new(2);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let meeting = meeting.clone();
            coro::spawn(async move { (thread::current().id(), meeting.wait()) })
        })
        .collect();
    let mut threads = Vec::new();
    for handle in handles {
        let (id, met) = handle.await.expect("the task must not fail");
        assert!(met, "the two tasks never ran at the same time");
        threads.push(id);
    }
    assert_ne!(threads[0], threads[1], "both tasks ran on one thread");
    (threads[0], threads[1])
}

// ---- #[coro::test] ------------------------------------------------------------------------

#[coro::test]
async fn value_of_an_async_block_comes_back() {
    let value = async { 40 + 2 }.await;
    assert_eq!(value, 42);
}

#[coro::test]
async fn spawn_on_the_default_current_thread_flavor() {
    let test_thread = thread::current().id();
    let (value, task_thread) = coro::spawn(async { (5, thread::current().id()) })
        .await
        .unwrap();
    assert_eq!(value, 5);
    // The current-thread runtime runs its tasks on the thread that called block_on.
    assert_eq!(task_thread, test_thread);
}

#[coro::test(flavor = "current_thread")]
async fn spawn_on_the_explicit_current_thread_flavor() {
    assert_eq!(coro::spawn(async { 5 }).await.unwrap(), 5);
}

#[coro::test(flavor = "multi_thread")]
async fn spawn_on_the_multi_thread_flavor() {
    assert_eq!(coro::spawn(async { 5 }).await.unwrap(), 5);
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_flavor_runs_tasks_on_two_workers() {
    two_tasks_meet().await;
}

#[coro::test(worker_threads = 2, flavor = "multi_thread")]
async fn arguments_in_any_order() {
    two_tasks_meet().await;
}

#[coro::test(flavor = "thread_per_core", worker_threads = 2)]
async fn thread_per_core_flavor_runs_a_scheduler_per_shard() {
    // The test body is not on a shard; spawns from here go to the shards in turn.
    assert_eq!(coro::runtime::current_shard(), None);
    let handle = coro::runtime::Handle::current();
    assert_eq!(handle.num_shards(), 2);
    // Two shards, so two tasks can block their threads at once.
    two_tasks_meet().await;
    let on: Vec<_> = coro::task::join_all(
        handle.spawn_on_each_shard(|_| async { coro::runtime::current_shard() }),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    assert_eq!(on, [Some(0), Some(1)]);
}

#[coro::test]
async fn test_returning_result() -> Result<(), Box<dyn Error>> {
    let n: u32 = "7".parse()?;
    let doubled = coro::spawn(async move { n * 6 }).await?;
    assert_eq!(doubled, 42);
    Ok(())
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_test_returning_result() -> Result<(), Box<dyn Error>> {
    let parsed = coro::spawn(async { "42".parse::<u64>() }).await??;
    assert_eq!(parsed, 42);
    Ok(())
}

#[coro::test]
async fn return_in_the_body_leaves_the_test() {
    let values = [1, 2, 3];
    for v in values {
        if v == 2 {
            return;
        }
    }
    unreachable!("the loop returns before this");
}

#[coro::test]
#[should_panic(expected = "boom in an async test")]
async fn attributes_such_as_should_panic_are_kept() {
    async {}.await;
    panic!("boom in an async test");
}

#[coro::test]
#[ignore = "checks that #[ignore] is kept: this test must never run"]
async fn attributes_such_as_ignore_are_kept() {
    panic!("an ignored test ran");
}

mod nested {
    #[coro::test]
    pub(crate) async fn works_in_a_module_with_visibility() {
        assert_eq!(coro::spawn(async { "nested" }).await.unwrap(), "nested");
    }
}

// ---- #[coro::main] ------------------------------------------------------------------------
//
// A test binary has its own `main`, so these put `#[coro::main]` on other functions (allowed,
// like tokio) and on a `main` in a module, and call them from plain tests.

mod app {
    use std::error::Error;

    #[coro::main]
    pub async fn main() -> Result<(), Box<dyn Error>> {
        let n: i32 = "-3".parse()?;
        let abs = coro::spawn(async move { n.abs() }).await?;
        if abs != 3 {
            return Err("wrong value".into());
        }
        Ok(())
    }
}

#[test]
fn main_returning_result() {
    app::main().unwrap();
}

#[coro::main]
async fn default_main() -> i32 {
    coro::spawn(async { 5 }).await.unwrap()
}

#[test]
fn main_default_flavor_is_multi_thread() {
    assert_eq!(default_main(), 5);
}

#[coro::main(flavor = "current_thread")]
async fn current_thread_main() -> ThreadId {
    coro::spawn(async { thread::current().id() }).await.unwrap()
}

#[test]
fn main_current_thread_flavor_runs_tasks_on_the_calling_thread() {
    assert_eq!(current_thread_main(), thread::current().id());
}

#[coro::main(flavor = "multi_thread")]
async fn multi_thread_main() -> i32 {
    coro::spawn(async { 5 }).await.unwrap()
}

#[test]
fn main_multi_thread_flavor() {
    assert_eq!(multi_thread_main(), 5);
}

#[coro::main(worker_threads = 2)]
async fn two_worker_main() -> (ThreadId, ThreadId) {
    two_tasks_meet().await
}

#[test]
fn main_worker_threads() {
    let (a, b) = two_worker_main();
    assert_ne!(a, b);
}

#[coro::main(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_two_worker_main() -> (ThreadId, ThreadId) {
    two_tasks_meet().await
}

#[test]
fn main_multi_thread_flavor_with_worker_threads() {
    let (a, b) = multi_thread_two_worker_main();
    assert_ne!(a, b);
}

#[coro::main(flavor = "current_thread")]
async fn add(a: u32, b: u32) -> u32 {
    coro::spawn(async move { a + b }).await.unwrap()
}

#[test]
fn main_on_a_function_with_arguments_other_than_main() {
    assert_eq!(add(2, 3), 5);
}

#[coro::main(flavor = "current_thread")]
async fn early_return(stop: bool) -> &'static str {
    if stop {
        return "returned early";
    }
    async { "ran to the end" }.await
}

#[test]
fn main_body_can_return_early() {
    assert_eq!(early_return(true), "returned early");
    assert_eq!(early_return(false), "ran to the end");
}

#[coro::main(flavor = "current_thread")]
async fn opaque_return_type() -> impl std::fmt::Display {
    async { 42 }.await
}

#[test]
fn main_with_an_impl_trait_return_type() {
    assert_eq!(opaque_return_type().to_string(), "42");
}
