//! Seeing inside a running program: gevent's `print_run_info` and its
//! blocking monitor, on coro.
//!
//! The program serves an uppercase echo on loopback to a few client tasks,
//! every task named (`coro::task::Builder`). Meanwhile it
//!
//! * prints the runtime's metrics (`Handle::metrics()`) once a second;
//! * prints a task dump (`Handle::dump()`: every task with its id, name,
//!   spawn site, state, polls and time since its last poll) each time it
//!   receives `SIGUSR1` (`kill -USR1 PID`; the first line gives the PID),
//!   and once more at the end, after Ctrl-C, `SIGTERM` or `--seconds`;
//! * runs one badly behaved task, `sloppy`, that blocks its worker with
//!   `std::thread::sleep` now and then: the blocking watchdog
//!   (`Builder::blocking_threshold`, or `CORO_BLOCKING_THRESHOLD_MS`)
//!   reports it by name while it blocks, and again when it returns.
//!
//! Built with the `tracing` feature, it installs tracing-subscriber's fmt
//! output (on stderr): a span per task, spawn/complete/cancel/panic events
//! at DEBUG (`--debug` to see them), watchdog reports as WARN events.
//!
//! ```text
//! cargo run --example observe                       # kill -USR1 PID: dump; Ctrl-C: stop
//! cargo run --example observe -- --seconds 5 --clients 8
//! cargo run --example observe --features tracing -- --debug
//! ```

#[path = "common/args.rs"]
mod args;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use coro::net::{TcpListener, TcpStream};
use coro::runtime::Handle;
use coro::signal::unix::{signal, SignalKind};
use coro::task::Builder;
use coro::time::{interval, sleep};

const USAGE: &str = "usage: observe [--seconds N (0: until Ctrl-C or SIGTERM)] [--clients N (4)] \
                     [--threshold-ms MS (100)] [--block-ms MS (150)] [--debug]";

fn main() {
    let args = args::Args::parse(USAGE);
    let seconds: u64 = args.get("seconds", 0);
    let clients: usize = args.get("clients", 4);
    let threshold = Duration::from_millis(args.get("threshold-ms", 100));
    let block = Duration::from_millis(args.get("block-ms", 150));
    let debug: bool = args.get("debug", false);

    let level = if debug {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();

    let rt = coro::Runtime::builder()
        .worker_threads(2)
        .blocking_threshold(threshold)
        .build()
        .unwrap_or_else(|error| {
            eprintln!("observe: cannot start the runtime: {error}");
            std::process::exit(1);
        });
    let stop = Arc::new(AtomicBool::new(false));
    let echoed = Arc::new(AtomicU64::new(0));

    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        Builder::new().name("acceptor").spawn(accept(listener));
        for i in 0..clients {
            let name = format!("client {i}");
            Builder::new()
                .name(&name)
                .spawn(client(addr, i, echoed.clone()));
        }
        Builder::new().name("sloppy").spawn(sloppy(block));

        let handle = Handle::current();
        Builder::new()
            .name("dump on SIGUSR1")
            .spawn(dump_on_signal(handle.clone()));
        Builder::new()
            .name("stop on SIGINT/SIGTERM")
            .spawn(stop_on_signal(stop.clone()));
        let pid = std::process::id();
        println!("pid {pid}: `kill -USR1 {pid}` prints a task dump, Ctrl-C stops");
        let mut tick = interval(Duration::from_secs(1));
        tick.tick().await;
        let mut elapsed = 0;
        while !stop.load(Ordering::SeqCst) {
            tick.tick().await;
            elapsed += 1;
            let metrics = handle.metrics();
            println!(
                "[{elapsed:>3} s] {} lines echoed; {} alive tasks, {} polls",
                echoed.load(Ordering::Relaxed),
                metrics.num_alive_tasks(),
                (0..metrics.num_workers())
                    .map(|w| metrics.worker_poll_count(w))
                    .sum::<u64>()
            );
            print!("{metrics}");
            if seconds > 0 && elapsed >= seconds {
                stop.store(true, Ordering::SeqCst);
            }
        }
        println!("final dump:\n{}", handle.dump());
    });
    // Dropping the runtime cancels the tasks that are still serving.
}

/// gevent's `print_run_info`, on demand: a dump for every `SIGUSR1`.
async fn dump_on_signal(handle: Handle) {
    let mut usr1 = signal(SignalKind::user_defined1()).expect("cannot listen for SIGUSR1");
    while usr1.recv().await.is_some() {
        println!("{}", handle.dump());
    }
}

/// Ends the metrics loop (and so the program, after a final dump) at the
/// first Ctrl-C or `SIGTERM`.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    let mut int = signal(SignalKind::interrupt()).expect("cannot listen for SIGINT");
    let mut term = signal(SignalKind::terminate()).expect("cannot listen for SIGTERM");
    futures::future::select(Box::pin(int.recv()), Box::pin(term.recv())).await;
    stop.store(true, Ordering::SeqCst);
}

async fn accept(listener: TcpListener) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        Builder::new()
            .name(&format!("conn {peer}"))
            .spawn(serve(stream));
    }
}

/// Uppercase echo, one line at a time.
async fn serve(stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    while lines.read_line(&mut line).await.unwrap_or(0) > 0 {
        if write
            .write_all(line.to_uppercase().as_bytes())
            .await
            .is_err()
        {
            return;
        }
        line.clear();
    }
}

/// Sends a line every 50 ms and checks the echo, until the runtime stops.
async fn client(addr: SocketAddr, i: usize, echoed: Arc<AtomicU64>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut replies = BufReader::new(read);
    let mut reply = String::new();
    for n in 0u64.. {
        let line = format!("hello {n} from client {i}\n");
        write.write_all(line.as_bytes()).await.unwrap();
        reply.clear();
        replies.read_line(&mut reply).await.unwrap();
        assert_eq!(reply, line.to_uppercase());
        echoed.fetch_add(1, Ordering::Relaxed);
        sleep(Duration::from_millis(50)).await;
    }
}

/// Blocks its worker with a blocking call every 2 s: what the watchdog is
/// for. (The fix would be `coro::spawn_blocking`.)
async fn sloppy(block: Duration) {
    loop {
        std::thread::sleep(block);
        sleep(Duration::from_secs(2)).await;
    }
}
