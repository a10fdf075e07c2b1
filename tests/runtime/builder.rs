//! `Runtime`, `Builder` and the names of the threads they start.

use super::*;

#[test]
fn runtime_and_handle_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<JoinHandle<Vec<u8>>>();
    assert_send_sync::<JoinError>();
    assert_send::<Builder>();
    assert_send::<JoinSet<u8>>();
}

#[test]
fn builder_works_chained_and_step_by_step() {
    let rt = Runtime::builder()
        .worker_threads(3)
        .thread_name("chained")
        .max_blocking_threads(4)
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { coro::spawn(async { 1 }).await.unwrap() }),
        1
    );
    let names = rt.block_on(names_of_n_workers(3));
    let expected: HashSet<String> = (0..3).map(|i| format!("chained-{i}")).collect();
    assert_eq!(names, expected);

    let mut builder = Runtime::builder();
    builder.multi_thread();
    builder.current_thread(); // the last flavor chosen wins
    builder.thread_name(String::from("stepwise"));
    let debug = format!("{builder:?}");
    assert!(
        debug.contains("CurrentThread") && debug.contains("stepwise"),
        "{debug}"
    );
    let rt = builder.build().unwrap();
    let here = thread::current().id();
    assert_eq!(
        rt.block_on(rt.spawn(async { thread::current().id() }))
            .unwrap(),
        here
    );
    assert!(format!("{:?}", rt.handle()).contains("current_thread"));

    // A builder can build several runtimes.
    let mut builder = Runtime::builder();
    builder.worker_threads(1);
    let (a, b) = (builder.build().unwrap(), builder.build().unwrap());
    assert_eq!(a.block_on(async { 1 }) + b.block_on(async { 2 }), 3);
    assert!(format!("{:?}", a.handle()).contains("multi_thread"));

    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { 7 * 6 }), 42);
}

#[test]
fn worker_threads_zero_panics_with_a_clear_message() {
    let msg = panic_message(|| {
        Runtime::builder().worker_threads(0);
    });
    assert!(msg.contains("worker_threads(0)"), "{msg}");
    assert!(msg.contains("at least one worker"), "{msg}");
    let msg = panic_message(|| {
        Runtime::builder().max_blocking_threads(0);
    });
    assert!(msg.contains("max_blocking_threads(0)"), "{msg}");
}

// ---- thread names -----------------------------------------------------------------------

#[test]
fn worker_and_blocking_threads_are_named() {
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_name("mypool")
        .build()
        .unwrap();
    rt.block_on(async {
        let names = names_of_n_workers(2).await;
        let expected: HashSet<String> = ["mypool-0", "mypool-1"].map(String::from).into();
        assert_eq!(names, expected);
        // A task spawned from any thread runs on one of them.
        let name = Handle::current()
            .spawn(async { thread::current().name().unwrap().to_owned() })
            .await
            .unwrap();
        assert!(expected.contains(&name), "{name}");
        let blocking = coro::spawn_blocking(|| thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(blocking.as_deref(), Some("mypool-blocking"));
    });
    // The multi-thread runtime's block_on future runs on the calling thread itself.
    let caller = thread::current().id();
    assert_eq!(rt.block_on(async { thread::current().id() }), caller);
}

#[test]
fn default_thread_names_and_one_worker_per_core() {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let rt = Runtime::new().unwrap();
    let names = rt.block_on(names_of_n_workers(cores));
    let expected: HashSet<String> = (0..cores).map(|i| format!("coro-{i}")).collect();
    assert_eq!(names, expected);
    let blocking = rt
        .block_on(rt.spawn_blocking(|| thread::current().name().map(str::to_owned)))
        .unwrap();
    assert_eq!(blocking.as_deref(), Some("coro-blocking"));
}

#[test]
fn current_thread_runtime_runs_tasks_on_the_caller_and_names_blocking_threads() {
    let rt = Runtime::builder()
        .current_thread()
        .thread_name("ct")
        .build()
        .unwrap();
    let caller = thread::current().id();
    let (task_thread, blocking_name) = rt.block_on(async {
        let task = coro::spawn(async { thread::current().id() });
        let blocking = coro::spawn_blocking(|| thread::current().name().map(str::to_owned));
        (task.await.unwrap(), blocking.await.unwrap())
    });
    assert_eq!(task_thread, caller);
    assert_eq!(blocking_name.as_deref(), Some("ct-blocking"));
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn coro_test_macro_builds_a_two_worker_runtime() {
    let names = names_of_n_workers(2).await;
    assert_eq!(names.len(), 2);
    assert!(names.iter().all(|n| n.starts_with("coro-")), "{names:?}");
    assert!(Handle::try_current().is_some());
}
