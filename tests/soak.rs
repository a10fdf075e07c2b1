//! Soak: 10,000 connections echoing messages of random sizes (1 B to
//! 64 KiB) through one multi-thread runtime, every byte checked, the
//! process's RSS sampled each second.
//!
//! What it asserts (the promise in `docs/reliability.md`):
//! * no byte lost or corrupted: every message comes back whole and equal
//!   (the payload is regenerated from its seed on the reading side);
//! * no connection stalled: the longest gap between two reads of any
//!   connection stays under 1 s (a hang guard, not a benchmark);
//! * memory flat: after the first second, RSS stays within 5 % of its
//!   smallest sample.
//!
//! The server is the lesson's `echo_server` example (multi-thread runtime,
//! a worker per core, one task per connection) in a child process, so its
//! RSS is measured apart from the clients' and each process needs only
//! ~10,000 descriptors. The clients run on a coro multi-thread runtime in
//! the test process. `soak_3s` runs with the test suite; `soak_30s` is the
//! long one: `cargo test --release --test soak -- --ignored --nocapture`.
//! `CORO_SOAK_SEED=N` replays a run's message sizes and bytes.

mod load;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coro::io::AsyncWriteExt;
use coro::net::TcpStream;
use coro::sync::Event;
use futures::future::join;
use load::{raise_fd_limit, read_echo, rss_bytes, uppercase, write_message, Echo, EchoServer, Rng};

const CONNECTIONS: usize = 10_000;
const MAX_MESSAGE: u64 = 64 * 1024;

/// A message size from 1 B to 64 KiB, log-uniform: each power of two is as
/// likely as any other (mean ~5.9 KiB), so tiny and full-size messages
/// both occur often.
fn log_uniform_size(rng: &mut Rng) -> usize {
    let bits = rng.between(0, 16);
    let low = 1u64 << bits.saturating_sub(1);
    let high = ((1u64 << bits).min(MAX_MESSAGE)).max(low);
    rng.between(low, high) as usize
}

/// Mean pause between two messages of a connection, in ms. Sized so that
/// the offered load (10,000 × ~5.9 KiB per pause) stays well under what two
/// busy cores echo: ~3 MiB/s for the unoptimised build the test suite
/// uses, ~15 MiB/s optimised. `CORO_SOAK_THINK_MS` overrides it.
fn think_ms() -> u64 {
    std::env::var("CORO_SOAK_THINK_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            20_000
        } else {
            4_000
        })
}
const MAX_STALL: Duration = Duration::from_secs(1);

/// What one client saw.
#[derive(Default)]
struct ClientStats {
    /// Connections that completed at least one message (1 per client).
    active: u64,
    messages: u64,
    bytes: u64,
    max_stall: Duration,
}

/// One connection: connect, wait for `go`, then send random-size messages
/// and check their echoes until `stop`.
async fn client(
    id: u64,
    addr: std::net::SocketAddr,
    seed: u64,
    connected: Arc<AtomicUsize>,
    go: Arc<Event>,
    stop: Arc<Event>,
) -> Result<ClientStats, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("client {id}: connect: {e}"))?;
    connected.fetch_add(1, SeqCst);
    go.wait().await;
    let (mut reader, mut writer) = stream.into_split();
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x9E37_79B9));
    let mut stats = ClientStats::default();
    // Connections start at random moments, not all at once.
    let start = Duration::from_millis(rng.between(0, 2 * think_ms()));
    let _ = coro::time::timeout(start, stop.wait()).await;
    let mut last = Instant::now();
    while !stop.is_set() {
        let message_seed = rng.next();
        let len = log_uniform_size(&mut rng);
        let mut max_stall = stats.max_stall;
        let (written, echoed) = join(
            write_message(&mut writer, message_seed, len),
            read_echo(&mut reader, message_seed, len, uppercase, |now| {
                max_stall = max_stall.max(now - last);
                last = now;
            }),
        )
        .await;
        stats.max_stall = max_stall;
        written.map_err(|e| format!("client {id}: write: {e}"))?;
        match echoed.map_err(|e| format!("client {id}: read: {e}"))? {
            Echo::Intact => {}
            other => return Err(format!("client {id}, message of {len} B: {other:?}")),
        }
        stats.messages += 1;
        stats.bytes += len as u64;
        // Think time: keeps the offered load below what the machine can
        // echo, so that a stall means a connection the runtime forgot, not
        // a queue of 10,000 saturating two cores.
        let think = Duration::from_millis(rng.between(0, 2 * think_ms()));
        let _ = coro::time::timeout(think, stop.wait()).await;
        last = Instant::now();
    }
    writer
        .close()
        .await
        .map_err(|e| format!("client {id}: close: {e}"))?;
    stats.active = u64::from(stats.messages > 0);
    Ok(stats)
}

fn soak(duration: Duration) {
    let seed = std::env::var("CORO_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0FC0_50AC);
    // One descriptor per connection here, and as many in the server.
    let need = CONNECTIONS as u64 + 512;
    let limit = raise_fd_limit(need);
    assert!(
        limit >= need,
        "the soak needs {need} file descriptors but RLIMIT_NOFILE is {limit}: raise it (ulimit -n)"
    );
    println!(
        "soak: {CONNECTIONS} connections for {duration:?}, seed {seed}, RLIMIT_NOFILE {limit}"
    );
    let mut server = EchoServer::start();
    let addr = server.addr;
    let rt = coro::Runtime::new().unwrap();
    rt.block_on(async move {
        let connected = Arc::new(AtomicUsize::new(0));
        let go = Arc::new(Event::new());
        let stop = Arc::new(Event::new());
        let clients: Vec<_> = (0..CONNECTIONS as u64)
            .map(|id| {
                let (connected, go, stop) = (connected.clone(), go.clone(), stop.clone());
                coro::spawn(client(id, addr, seed, connected, go, stop))
            })
            .collect();
        let connecting = Instant::now();
        while connected.load(SeqCst) < CONNECTIONS {
            assert!(
                connecting.elapsed() < Duration::from_secs(120),
                "only {} of {CONNECTIONS} connected after 2 minutes",
                connected.load(SeqCst)
            );
            coro::time::sleep(Duration::from_millis(20)).await;
        }
        println!("connected in {:?}", connecting.elapsed());

        go.set();
        let started = Instant::now();
        // (server, clients) each second.
        let mut rss = Vec::new();
        for second in 1..=duration.as_secs() {
            coro::time::sleep_until(coro::time::Instant::from_std(
                started + Duration::from_secs(second),
            ))
            .await;
            rss.push((server.rss_bytes(), rss_bytes("self")));
        }
        stop.set();
        let finishing = Instant::now();
        let results = coro::task::join_all(clients).await;
        let elapsed = started.elapsed();
        println!(
            "clients finished their last message in {:?}",
            finishing.elapsed()
        );

        let mut total = ClientStats::default();
        let mut failures = Vec::new();
        for result in results {
            match result.expect("a client task panicked") {
                Ok(stats) => {
                    total.active += stats.active;
                    total.messages += stats.messages;
                    total.bytes += stats.bytes;
                    total.max_stall = total.max_stall.max(stats.max_stall);
                }
                Err(failure) => failures.push(failure),
            }
        }
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        println!(
            "{} messages on {} connections, {:.1} MiB echoed and checked in {elapsed:.2?} \
             ({:.1} MiB/s), {} lost or corrupted, longest stall {:?}",
            total.messages,
            total.active,
            mib(total.bytes),
            mib(total.bytes) / elapsed.as_secs_f64(),
            failures.len(),
            total.max_stall,
        );
        let samples: Vec<String> = rss
            .iter()
            .map(|&(server, clients)| format!("{:.1}/{:.1}", mib(server), mib(clients)))
            .collect();
        println!(
            "RSS each second, server/clients (MiB): {}",
            samples.join(" ")
        );
        server.check_running().expect("the server died");

        assert!(
            failures.is_empty(),
            "{} connections failed, first: {}",
            failures.len(),
            failures[0]
        );
        assert!(total.messages > 0, "no message was echoed");
        assert!(
            total.max_stall < MAX_STALL,
            "a connection waited {:?} between two reads",
            total.max_stall
        );
        // Flat memory after the warm-up second, in both processes.
        for (who, pick) in [("server", 0), ("clients", 1)] {
            let steady: Vec<u64> = rss[1..]
                .iter()
                .map(|&s| if pick == 0 { s.0 } else { s.1 })
                .collect();
            let (low, high) = (steady.iter().min().unwrap(), steady.iter().max().unwrap());
            let growth = (high - low) as f64 / *low as f64;
            println!(
                "{who} RSS after warm-up: {:.1}..{:.1} MiB ({:.2} %)",
                mib(*low),
                mib(*high),
                growth * 100.0
            );
            assert!(
                growth <= 0.05,
                "{who} RSS grew {:.1} % after warm-up: {samples:?}",
                growth * 100.0
            );
        }
    });
}

#[test]
fn soak_3s() {
    soak(Duration::from_secs(3));
}

#[test]
#[ignore = "30 s; run with --ignored (see docs/reliability.md)"]
fn soak_30s() {
    soak(Duration::from_secs(30));
}
