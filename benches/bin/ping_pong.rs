//! Ping-pong on coro's current-thread runtime over one channel, for
//! instruction counts: wall time on a shared VM moves ±10 % with the load,
//! callgrind's instruction counts do not.
//!
//! ```text
//! cargo build --release -p coro-benches --bin ping_pong
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/ping_pong local 10000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/ping_pong local 100000
//! ```
//!
//! (instructions at 100,000 − at 10,000) ÷ 90,000 is the cost of one round
//! trip (two messages, two task switches), without the runtime's start and
//! stop. Channels: `local` (`coro::sync::local::channel(1)`), `local0`
//! (capacity 0, the rendezvous), `mpsc` (`coro::sync::mpsc::channel(1)`),
//! `mpsc0`, and the floor's atomic-free `slot` and `slot_send_bound`
//! (`common/floor.rs`). It also prints the rate, which means something only
//! on a quiet machine.

#[path = "../common/floor.rs"]
mod floor;

use std::time::Instant;

use coro::sync::{local, mpsc};

const USAGE: &str = "usage: ping_pong local|local0|mpsc|mpsc0|slot|slot_send_bound ROUND_TRIPS";

/// The pinger and the echo over two channels made by `$make`, as
/// `spawn_local` tasks; the pinger checks every reply.
macro_rules! ping_pong {
    ($make:expr, $round_trips:expr) => {{
        // `mut`: `local::Receiver::recv` takes `&mut self`, mpsc's `&self`.
        #[allow(unused_mut)]
        let (ping_tx, mut ping_rx) = $make;
        #[allow(unused_mut)]
        let (pong_tx, mut pong_rx) = $make;
        let echo = coro::spawn_local(async move {
            while let Some(i) = ping_rx.recv().await {
                pong_tx.send(i).await.expect("pinger gone");
            }
        });
        let round_trips = $round_trips;
        let pinger = coro::spawn_local(async move {
            for i in 0..round_trips {
                ping_tx.send(i).await.expect("echo gone");
                assert_eq!(pong_rx.recv().await, Some(i), "echo lost a message");
            }
        });
        pinger.await.expect("pinger panicked");
        echo.await.expect("echo panicked");
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(channel), Some(Ok(round_trips))) =
        (args.first(), args.get(1).map(|n| n.parse::<u64>()))
    else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let rt = coro::Runtime::builder()
        .current_thread()
        .build()
        .expect("cannot build a coro runtime");
    let start = Instant::now();
    match channel.as_str() {
        "local" => rt.block_on(async { ping_pong!(local::channel::<u64>(1), round_trips) }),
        "local0" => rt.block_on(async { ping_pong!(local::channel::<u64>(0), round_trips) }),
        "mpsc" => rt.block_on(async { ping_pong!(mpsc::channel::<u64>(1), round_trips) }),
        "mpsc0" => rt.block_on(async { ping_pong!(mpsc::channel::<u64>(0), round_trips) }),
        "slot" | "slot_send_bound" => {
            let fences = match channel.as_str() {
                "slot" => floor::Fences::None,
                _ => floor::Fences::SendBound,
            };
            let (echo, pinger) = floor::slot_ping_pong(round_trips, fences);
            rt.block_on(async {
                let echo = coro::spawn_local(echo);
                coro::spawn_local(pinger).await.expect("pinger panicked");
                echo.await.expect("echo panicked");
            });
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
    let elapsed = start.elapsed();
    println!(
        "{channel}: {round_trips} round trips, {:.2} M switches/s",
        2.0 * round_trips as f64 / elapsed.as_secs_f64() / 1e6
    );
}
