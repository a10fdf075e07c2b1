//! Pools: `multiprocessing.Pool(5)`, `ThreadPoolExecutor`, and a
//! `Manager().Queue()` between a writer and a reader.
//!
//! The Python lessons:
//!
//! ```python
//! from multiprocessing import Pool, Manager
//! from concurrent.futures import ThreadPoolExecutor
//!
//! def square(n):
//!     time.sleep(0.02)
//!     return n * n
//!
//! with Pool(5) as pool:                      # at most 5 jobs at once
//!     print(pool.map(square, range(10)))     # results in submission order
//!
//! with ThreadPoolExecutor() as executor:     # blocking or CPU-heavy work
//!     for limit, count in zip(limits, executor.map(count_primes, limits)):
//!         print(f"primes below {limit}: {count}")
//!
//! def write(q):
//!     for value in "helloword":
//!         print('Put %s to queue...' % value)
//!         q.put(value)
//!
//! def read(q):
//!     while True:
//!         value = q.get(True)
//!         print('Get %s from queue.' % value)
//!
//! q = Manager().Queue()
//! # ... write and read run as two processes of a Pool
//! ```
//!
//! In coro the jobs are tasks, not processes:
//!
//! * **Pool(5)**: all ten jobs are spawned at once and each takes a permit
//!   from a `Semaphore::new(5)` before it works, so at most five run at a
//!   time (gevent's `gevent.pool.Pool(5)` works the same way). Each job
//!   counts itself in and out, and the example prints the most it saw
//!   running at once. The results come back in submission order because the
//!   `JoinHandle`s are joined in that order (`coro::task::join_all`).
//!   This part runs on the current-thread runtime, like gevent: the jobs
//!   are concurrent (they overlap while they sleep), not parallel.
//! * **ThreadPoolExecutor**: work that blocks or burns CPU must not run on a
//!   runtime worker (it would stall every task queued there), so it goes to
//!   `coro::spawn_blocking`, coro's thread pool; those threads run in
//!   parallel on every core, and awaiting the handles gives the results in
//!   order.
//! * **Queue**: the writer and reader are two tasks and the queue is a
//!   `coro::sync::mpsc` channel. A queue alone would let the writer run
//!   ahead of the reader (the order of the lines would then depend on
//!   scheduling); here the reader acknowledges each value after printing
//!   it (Python's `q.task_done()` / `q.join()`), so every `Put` line is
//!   followed by its `Get` line. Dropping the writer's sender closes the
//!   channel, which ends the reader's loop: no sentinel value is needed.
//!
//! ```text
//! cargo run --example pool
//! cargo run --example pool -- --jobs 20 --workers 3 --sleep-ms 50
//! cargo run --example pool -- --limits 100000,200000 --text coroutines
//! ```

#[path = "common/args.rs"]
mod args;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use coro::sync::{mpsc, Semaphore};

const USAGE: &str = "usage: pool [--jobs N (10)] [--workers N (5)] [--sleep-ms MS (20)] \
                     [--limits N,N,... (10000,20000,40000,80000)] [--text TEXT (helloword)]";

#[coro::main(flavor = "current_thread")]
async fn main() {
    let args = args::Args::parse(USAGE);
    let jobs: u64 = args.get("jobs", 10);
    let workers: usize = args.get("workers", 5);
    let sleep = Duration::from_millis(args.get("sleep-ms", 20));
    let limits: String = args.get("limits", "10000,20000,40000,80000".to_owned());
    let text: String = args.get("text", "helloword".to_owned());
    let limits: Vec<u64> = limits
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                eprintln!("--limits: cannot parse {s:?}\n{USAGE}");
                std::process::exit(2);
            })
        })
        .collect();
    if workers == 0 {
        eprintln!("--workers must be at least 1\n{USAGE}");
        std::process::exit(2);
    }

    process_pool(jobs, workers, sleep).await;
    thread_pool(&limits).await;
    queue(&text).await;
}

/// How many jobs are running now, and the most seen at once.
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    max: AtomicUsize,
}

/// `Pool(workers).map(square, range(jobs))`.
async fn process_pool(jobs: u64, workers: usize, sleep: Duration) {
    println!("Pool({workers}).map(square, range({jobs})):");
    let pool = Arc::new(Semaphore::new(workers));
    let gauge = Arc::new(Gauge::default());
    let handles: Vec<_> = (0..jobs)
        .map(|n| {
            let (pool, gauge) = (pool.clone(), gauge.clone());
            coro::spawn(async move {
                // Wait for a free worker; the permit is given back when dropped.
                let _permit = pool.acquire().await.expect("the pool is never closed");
                let now = gauge.running.fetch_add(1, SeqCst) + 1;
                gauge.max.fetch_max(now, SeqCst);
                // Let the jobs queued behind this one start first (the run
                // queue is FIFO), so the overlap, and the maximum printed,
                // never depend on how soon a short sleep fires.
                coro::yield_now().await;
                coro::time::sleep(sleep).await; // the job's work
                gauge.running.fetch_sub(1, SeqCst);
                n * n
            })
        })
        .collect();
    // join_all gives the results in the order of `handles`: submission order.
    for (n, result) in coro::task::join_all(handles).await.into_iter().enumerate() {
        let square = result.expect("a job panicked");
        println!("job {n}: {n} * {n} = {square}");
    }
    println!("max running at once: {}", gauge.max.load(SeqCst));
}

/// `ThreadPoolExecutor().map(count_primes, limits)`.
async fn thread_pool(limits: &[u64]) {
    println!("ThreadPoolExecutor().map(count_primes, {limits:?}):");
    let handles: Vec<_> = limits
        .iter()
        .map(|&limit| coro::spawn_blocking(move || count_primes(limit)))
        .collect();
    for (limit, handle) in limits.iter().zip(handles) {
        let count = handle.await.expect("a blocking job panicked");
        println!("primes below {limit}: {count}");
    }
}

/// CPU-bound work: the primes below `limit`, by trial division.
fn count_primes(limit: u64) -> usize {
    (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count()
}

/// The `Manager().Queue()` writer and reader.
async fn queue(text: &str) {
    println!("Manager().Queue(): write {text:?}, read it back:");
    let (q_put, q_get) = mpsc::channel::<char>(0);
    let (done_tx, done_rx) = mpsc::channel::<()>(0);

    let reader = coro::spawn(async move {
        // while True: value = q.get(True) (until the writer closes the queue)
        while let Some(value) = q_get.recv().await {
            println!("Get {value} from queue.");
            done_tx.send(()).await.expect("the writer is gone"); // q.task_done()
        }
    });
    let writer = coro::spawn({
        let text = text.to_owned();
        async move {
            for value in text.chars() {
                println!("Put {value} to queue...");
                q_put.send(value).await.expect("the reader is gone"); // q.put(value)
                done_rx.recv().await.expect("the reader is gone"); // q.join()
            }
            // `q_put` is dropped here: the queue closes and the reader's loop ends.
        }
    });
    writer.await.expect("the writer panicked");
    reader.await.expect("the reader panicked");
}
