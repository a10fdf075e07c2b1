//! Virtual time: `start_paused`, `pause`, `resume`, `advance`. Every test
//! here sleeps for virtual seconds or hours and finishes in milliseconds;
//! `finishes_fast` bounds the wall time only to prove nothing waited for
//! real.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{lookup_host, TcpListener, TcpStream};
use coro::task::JoinSet;
use coro::time::{advance, pause, resume, sleep, timeout, Instant};

/// Runs `body` and checks that it did not wait for real time (a generous
/// bound: virtual tests sleep for hours).
fn finishes_fast(body: impl FnOnce()) {
    let wall = std::time::Instant::now();
    body();
    assert!(
        wall.elapsed() < Duration::from_secs(20),
        "a virtual-time test waited {:?} of real time",
        wall.elapsed()
    );
}

#[coro::test(start_paused = true)]
async fn an_hour_long_sleep_moves_now_by_exactly_an_hour() {
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(3600));
}

#[test]
fn paused_tests_take_no_real_time() {
    finishes_fast(|| {
        let rt = coro::Runtime::builder()
            .current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        // Created inside the runtime: a timer belongs to the reactor that
        // is current where it is made.
        rt.block_on(async { sleep(Duration::from_secs(86_400 * 365)).await });
    });
}

/// Sleepers of 5, 1, 3, 2 and 4 seconds wake in deadline order, each at
/// its own deadline.
async fn wake_in_deadline_order() {
    let start = Instant::now();
    let order = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = [5u64, 1, 3, 2, 4]
        .into_iter()
        .map(|secs| {
            let order = order.clone();
            coro::spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                order.lock().unwrap().push((secs, start.elapsed()));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    let expected: Vec<_> = (1..=5).map(|s| (s, Duration::from_secs(s))).collect();
    assert_eq!(order, expected);
}

#[coro::test(start_paused = true)]
async fn timers_fire_in_deadline_order() {
    wake_in_deadline_order().await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn timers_fire_in_deadline_order_on_two_workers() {
    wake_in_deadline_order().await;
}

/// The seeds' `spawn_join` lesson: `gevent.sleep(2)` and `gevent.sleep(5)`
/// in two greenlets end together at 5, not 7.
async fn spawn_join() {
    let start = Instant::now();
    let a = coro::spawn(async move {
        sleep(Duration::from_secs(2)).await;
        start.elapsed()
    });
    let b = coro::spawn(async move {
        sleep(Duration::from_secs(5)).await;
        start.elapsed()
    });
    let ends = coro::task::join_all([a, b]).await;
    let ends: Vec<_> = ends.into_iter().map(Result::unwrap).collect();
    assert_eq!(ends, [Duration::from_secs(2), Duration::from_secs(5)]);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[coro::test(start_paused = true)]
async fn spawn_join_lesson_ends_at_the_longest_sleep() {
    spawn_join().await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn spawn_join_lesson_on_the_multi_thread_runtime() {
    spawn_join().await;
}

/// The seeds' `joinall_timeout` lesson: `gevent.joinall(jobs, timeout=2)`
/// over name lookups (real work on the blocking pool, during which virtual
/// time does not jump) and one job slower than the timeout; after it the
/// finished jobs have values and the slow one has none.
async fn joinall_timeout() {
    let start = Instant::now();
    let mut jobs = JoinSet::new();
    for (index, host) in ["localhost", "127.0.0.1"].into_iter().enumerate() {
        jobs.spawn(async move {
            let ip: Option<IpAddr> = lookup_host((host, 0))
                .await
                .ok()
                .and_then(|mut addrs| addrs.next())
                .map(|addr| addr.ip());
            (index, ip)
        });
    }
    jobs.spawn(async {
        sleep(Duration::from_secs(1000)).await;
        (2, None)
    });
    let mut values = [None, None, None];
    let joined = timeout(Duration::from_secs(2), async {
        while let Some(job) = jobs.join_next().await {
            let (index, ip) = job.unwrap();
            values[index] = Some(ip);
        }
    })
    .await;
    assert!(
        joined.is_err(),
        "the slow job cannot finish within the timeout"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(
        matches!(values[0], Some(Some(ip)) if ip.is_loopback()),
        "{values:?}"
    );
    assert_eq!(values[1], Some(Some(IpAddr::from([127, 0, 0, 1]))));
    assert_eq!(values[2], None, "the slow job has no value");
    assert_eq!(jobs.len(), 1);
}

#[coro::test(start_paused = true)]
async fn joinall_timeout_lesson_times_out_the_slow_job() {
    joinall_timeout().await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn joinall_timeout_lesson_on_the_multi_thread_runtime() {
    joinall_timeout().await;
}

#[coro::test(start_paused = true)]
async fn ready_io_is_not_preempted_by_a_jump() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // A plain thread connects and writes before the task reads: the data
    // is ready when the runtime next goes idle, so the read must win
    // against the long timeout.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(b"ping").unwrap();
        stream
    });
    let (mut stream, _) = listener.accept().await.unwrap();
    let _peer = writer.join().unwrap();
    let start = Instant::now();
    let mut buf = [0; 4];
    timeout(Duration::from_secs(3600), stream.read_exact(&mut buf))
        .await
        .expect("ready data lost to a virtual-time jump")
        .unwrap();
    assert_eq!(&buf, b"ping");
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[coro::test(start_paused = true)]
async fn io_between_tasks_works_under_virtual_time() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = coro::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 5];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
    });
    let start = Instant::now();
    let mut client = TcpStream::connect(addr).await.unwrap();
    sleep(Duration::from_secs(30)).await;
    client.write_all(b"hello").await.unwrap();
    let mut echoed = [0; 5];
    client.read_exact(&mut echoed).await.unwrap();
    server.await.unwrap();
    assert_eq!(&echoed, b"hello");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[coro::test(flavor = "multi_thread", worker_threads = 2, start_paused = true)]
async fn no_jump_while_a_worker_is_busy() {
    let busy_done = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let busy = coro::spawn({
        let busy_done = busy_done.clone();
        async move {
            started_tx.send(()).unwrap();
            // Blocks its worker for real: the runtime is not idle.
            std::thread::sleep(Duration::from_millis(200));
            busy_done.store(true, Ordering::SeqCst);
        }
    });
    coro::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    sleep(Duration::from_secs(3600)).await;
    assert!(
        busy_done.load(Ordering::SeqCst),
        "the clock jumped while a worker was still running a task"
    );
    busy.await.unwrap();
}

#[coro::test(start_paused = true)]
async fn no_jump_while_a_blocking_closure_runs() {
    let done = Arc::new(AtomicBool::new(false));
    let job = coro::spawn_blocking({
        let done = done.clone();
        move || {
            std::thread::sleep(Duration::from_millis(100));
            done.store(true, Ordering::SeqCst);
        }
    });
    sleep(Duration::from_secs(3600)).await;
    assert!(
        done.load(Ordering::SeqCst),
        "the clock jumped while a blocking closure ran"
    );
    job.await.unwrap();
}

#[coro::test(start_paused = true)]
async fn a_detached_blocking_closure_lets_the_clock_jump_when_it_ends() {
    // Nobody awaits the closure: its end alone must let the clock move on.
    drop(coro::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(50))
    }));
    let start = Instant::now();
    sleep(Duration::from_secs(10)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[coro::test]
async fn advance_fires_timers_in_order_then_resume_runs_real_time() {
    pause();
    let start = Instant::now();
    let order = Arc::new(Mutex::new(Vec::new()));
    for secs in [3u64, 1, 2] {
        let order = order.clone();
        coro::spawn(async move {
            sleep(Duration::from_secs(secs)).await;
            order.lock().unwrap().push((secs, start.elapsed()));
        });
    }
    coro::yield_now().await; // the sleepers register their timers
    advance(Duration::from_millis(2500)).await;
    assert_eq!(start.elapsed(), Duration::from_millis(2500));
    // Fired in deadline order; the tasks run after `advance`, and see the
    // clock where it stopped.
    assert_eq!(
        *order.lock().unwrap(),
        [
            (1, Duration::from_millis(2500)),
            (2, Duration::from_millis(2500))
        ]
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(order.lock().unwrap().len(), 3);

    resume();
    let resumed = Instant::now();
    sleep(Duration::from_millis(5)).await;
    assert!(resumed.elapsed() >= Duration::from_millis(5));
}

#[coro::test]
#[should_panic(expected = "needs a paused clock")]
async fn advance_on_a_running_clock_says_to_pause_first() {
    advance(Duration::from_secs(1)).await;
}

#[test]
#[should_panic(expected = "outside a coro runtime")]
fn pause_outside_a_runtime_says_where_to_call_it() {
    pause();
}

#[test]
fn instant_converts_to_and_from_std() {
    let std_now = std::time::Instant::now();
    let ours = Instant::from_std(std_now);
    assert_eq!(ours.into_std(), std_now);
    assert_eq!(std::time::Instant::from(ours), std_now);
    assert_eq!(Instant::from(std_now), ours);
    let later = ours + Duration::from_secs(1);
    assert_eq!(later - ours, Duration::from_secs(1));
    assert_eq!(ours - later, Duration::ZERO);
    assert_eq!(
        later.checked_duration_since(ours),
        Some(Duration::from_secs(1))
    );
    assert_eq!(ours.checked_duration_since(later), None);
}
