//! coro's hand-written channel against the well-kept ones, on the same
//! runtime in the same run: the `producer_consumer` ping-pong (two tasks,
//! one message each way per round trip, capacity 1).
//!
//! ```text
//! cargo bench -p coro-benches --bench sync
//! ```
//!
//! Every variant runs on a coro runtime, so only the channel differs:
//! `coro_mpsc` (`coro::sync::mpsc::channel(1)`), `async_channel`
//! (`async_channel::bounded(1)`, smol's) and `tokio_mpsc`
//! (`tokio::sync::mpsc::channel(1)`, which works under any executor).
//! Groups `channel_ping_pong_ct` and `channel_ping_pong_mt` use the
//! current-thread and the 2-worker multi-thread runtime. One element = one
//! message, so a round trip is 2 elements.

use std::future::Future;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ROUND_TRIPS: usize = 100_000;

/// Both ends of one direction of a capacity-1 channel.
trait Channel: Send + 'static {
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    fn pair() -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: usize) -> impl Future<Output = ()> + Send;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send;
}

struct CoroMpsc;
impl Channel for CoroMpsc {
    type Tx = coro::sync::mpsc::Sender<usize>;
    type Rx = coro::sync::mpsc::Receiver<usize>;
    fn pair() -> (Self::Tx, Self::Rx) {
        coro::sync::mpsc::channel(1)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await
    }
}

struct AsyncChannel;
impl Channel for AsyncChannel {
    type Tx = async_channel::Sender<usize>;
    type Rx = async_channel::Receiver<usize>;
    fn pair() -> (Self::Tx, Self::Rx) {
        async_channel::bounded(1)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

struct TokioMpsc;
impl Channel for TokioMpsc {
    type Tx = tokio::sync::mpsc::Sender<usize>;
    type Rx = tokio::sync::mpsc::Receiver<usize>;
    fn pair() -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(1)
    }
    async fn send(tx: &Self::Tx, value: usize) {
        tx.send(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await
    }
}

/// The producer/consumer conversation: `ROUND_TRIPS` pings, each echoed.
async fn ping_pong<C: Channel>() {
    let (ping_tx, mut ping_rx) = C::pair();
    let (pong_tx, mut pong_rx) = C::pair();
    let echo = coro::spawn(async move {
        while let Some(i) = C::recv(&mut ping_rx).await {
            C::send(&pong_tx, i).await;
        }
    });
    for i in 0..ROUND_TRIPS {
        C::send(&ping_tx, i).await;
        let reply = C::recv(&mut pong_rx).await;
        debug_assert_eq!(reply, Some(i));
    }
    drop(ping_tx);
    echo.await.expect("echo task failed");
}

fn group(c: &mut Criterion, name: &str, rt: coro::Runtime) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(2 * ROUND_TRIPS as u64));
    group.bench_function("coro_mpsc", |b| {
        b.iter(|| rt.block_on(rt.spawn(ping_pong::<CoroMpsc>())))
    });
    group.bench_function("async_channel", |b| {
        b.iter(|| rt.block_on(rt.spawn(ping_pong::<AsyncChannel>())))
    });
    group.bench_function("tokio_mpsc", |b| {
        b.iter(|| rt.block_on(rt.spawn(ping_pong::<TokioMpsc>())))
    });
    group.finish();
}

fn channel_ping_pong(c: &mut Criterion) {
    let ct = coro::Runtime::builder().current_thread().build().unwrap();
    group(c, "channel_ping_pong_ct", ct);
    let mt = coro::Runtime::builder().worker_threads(2).build().unwrap();
    group(c, "channel_ping_pong_mt", mt);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = channel_ping_pong
}
criterion_main!(benches);
