//! `ping_pong` on coro's `!Send` channel (`coro::sync::local`), shared by
//! `benches/executor.rs` and `benches/sync.rs` (criterion) and
//! `bin/bench_report` through `#[path]`: the `coro_ct_local` rows. Not
//! generic over a `Spawner` (`runtimes.rs`): no peer has a channel without
//! atomics, and its tasks are `spawn_local` tasks of a current-thread coro
//! runtime.

/// Two `spawn_local` tasks bounce `round_trips` values over two capacity-1
/// local channels, the pinger checking every reply. Run it with `block_on`
/// on a current-thread coro runtime. One element = one message, so a round
/// trip is 2.
pub async fn coro_local_ping_pong(round_trips: u64) {
    use coro::sync::local;
    let (ping_tx, mut ping_rx) = local::channel(1);
    let (pong_tx, mut pong_rx) = local::channel(1);
    let echo = coro::spawn_local(async move {
        while let Some(i) = ping_rx.recv().await {
            pong_tx.send(i).await.expect("pinger gone");
        }
    });
    let pinger = coro::spawn_local(async move {
        for i in 0..round_trips {
            ping_tx.send(i).await.expect("echo gone");
            let reply = pong_rx.recv().await.expect("echo gone");
            assert_eq!(reply, i, "echo lost a message");
        }
        // Dropping `ping_tx` here ends the echo task's loop.
    });
    pinger.await.expect("pinger panicked");
    echo.await.expect("echo panicked");
}
