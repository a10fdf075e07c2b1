//! The 500-client echo load test, server and clients in one process.
//!
//! The Python lesson: an uppercase echo server handles 500 client threads
//! (gevent: 500 greenlets) on one event loop. Here the server and the 500
//! clients are all coro tasks on one multi-thread runtime. Each client sends
//! a 64-byte lowercase message, waits for it to come back in uppercase,
//! checks it, and goes again until time is up. A progress line updates
//! while it runs; at the end it prints round trips per second and latency
//! percentiles.
//!
//! ```text
//! cargo run --release --example echo_load
//! cargo run --release --example echo_load -- --clients 1000 --seconds 10
//! ```

#[path = "common/args.rs"]
mod args;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: echo_load [--clients N (500)] [--seconds S (3)] [--size BYTES (64)] \
                     [--threads N (cores)] [--quiet 1]";

struct Shared {
    round_trips: AtomicU64,
    stop: AtomicBool,
}

fn main() {
    let args = args::Args::parse(USAGE);
    let clients: usize = args.get("clients", 500);
    let seconds: f64 = args.get("seconds", 3.0);
    let size: usize = args.get("size", 64);
    let quiet = args.get("quiet", 0u8) != 0;
    let threads: usize = args.get(
        "threads",
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    assert!(clients > 0 && size > 0, "{USAGE}");

    let rt = coro::Runtime::builder()
        .worker_threads(threads)
        .build()
        .expect("cannot start the runtime");
    let report = rt.block_on(run(clients, Duration::from_secs_f64(seconds), size, quiet));

    println!(
        "echo_load: {clients} clients, {size}-byte messages, {threads} worker threads, {:.1} s",
        report.elapsed.as_secs_f64()
    );
    println!(
        "round trips: {} ({:.0}/s), every reply checked",
        report.latencies.len(),
        report.latencies.len() as f64 / report.elapsed.as_secs_f64()
    );
    println!(
        "latency: p50 {} p99 {} max {}",
        micros(percentile(&report.latencies, 0.50)),
        micros(percentile(&report.latencies, 0.99)),
        micros(report.latencies.last().copied().unwrap_or(0)),
    );
    println!("errors: {}", report.errors);
    if report.errors > 0 {
        std::process::exit(1);
    }
}

struct Report {
    elapsed: Duration,
    /// Every round trip's latency in microseconds, sorted.
    latencies: Vec<u32>,
    errors: usize,
}

async fn run(clients: usize, duration: Duration, size: usize, quiet: bool) -> Report {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    coro::spawn(serve(listener));

    let shared = Arc::new(Shared {
        round_trips: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|id| coro::spawn(client(id, addr, size, shared.clone())))
        .collect();

    // The progress line, until time is up.
    while start.elapsed() < duration {
        coro::time::sleep(Duration::from_millis(250).min(duration)).await;
        if !quiet {
            let n = shared.round_trips.load(Relaxed);
            let secs = start.elapsed().as_secs_f64();
            print!(
                "\r[{secs:4.1} s] {n:>10} round trips, {:>9.0}/s",
                n as f64 / secs
            );
            let _ = std::io::stdout().flush();
        }
    }
    shared.stop.store(true, Relaxed);
    if !quiet {
        println!();
    }

    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await.expect("a client task panicked") {
            Ok(mine) => latencies.extend(mine),
            Err(error) => {
                eprintln!("client error: {error}");
                errors += 1;
            }
        }
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Report {
        elapsed,
        latencies,
        errors,
    }
}

/// The uppercase echo server: one task per connection, like one greenlet
/// per client in the gevent version.
async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                coro::spawn(async move {
                    let _ = echo_uppercase(stream).await;
                });
            }
            // Out of descriptors or a connection reset before accept: keep serving.
            Err(error) => {
                eprintln!("accept: {error}");
                coro::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn echo_uppercase(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        buf[..n].make_ascii_uppercase();
        stream.write_all(&buf[..n]).await?;
    }
}

/// One client: round trips until told to stop; returns their latencies.
async fn client(
    id: usize,
    addr: SocketAddr,
    size: usize,
    shared: Arc<Shared>,
) -> std::io::Result<Vec<u32>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let message: Vec<u8> = (0..size).map(|i| b'a' + ((id + i) % 26) as u8).collect();
    let expected = message.to_ascii_uppercase();
    let mut reply = vec![0u8; size];
    let mut latencies = Vec::new();
    while !shared.stop.load(Relaxed) {
        let sent = Instant::now();
        stream.write_all(&message).await?;
        stream.read_exact(&mut reply).await?;
        let micros = sent.elapsed().as_micros();
        if reply != expected {
            return Err(std::io::Error::other(format!("client {id}: wrong reply")));
        }
        latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
        shared.round_trips.fetch_add(1, Relaxed);
    }
    Ok(latencies)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn micros(us: u32) -> String {
    if us >= 1000 {
        format!("{:.2} ms", f64::from(us) / 1000.0)
    } else {
        format!("{us} µs")
    }
}
