//! Network and timer benchmarks: coro side by side with tokio and smol
//! (`async-io` + `async-executor`), in the same run.
//!
//! Run with:
//!
//! ```text
//! cargo bench -p coro-benches --bench net
//! cargo bench -p coro-benches --bench net -- tcp_echo_500     # one scenario
//! cargo bench -p coro-benches --bench net -- coro_            # only the coro variants
//! ```
//!
//! Every scenario is a criterion group with six variants:
//!
//! | variant      | runtime                                                                 |
//! |--------------|-------------------------------------------------------------------------|
//! | `coro_mt`    | coro multi-thread scheduler, 2 workers; `coro::net`, `coro::time`       |
//! | `coro_ct`    | coro current-thread scheduler                                           |
//! | `tokio_mt`   | tokio multi-thread scheduler, 2 workers; `tokio::net`, `tokio::time`    |
//! | `tokio_ct`   | tokio current-thread scheduler                                          |
//! | `smol_mt`    | `async_executor::Executor` run by 2 std threads (`async_io::block_on`); |
//! |              | `async_io::Async<std::net::Tcp*>` and `async_io::Timer`                 |
//! | `smol_local` | `async_executor::LocalExecutor` + `async_io::block_on` on the bench thread |
//!
//! As in `benches/executor.rs`, each runtime is built once per group, outside
//! the measured loop, and only one runtime exists at a time. On the
//! multi-thread variants every piece of work (setup, each iteration,
//! teardown) runs as a root *task* on a worker; the bench thread only spawns
//! it and blocks until it finishes. On the single-thread variants it is the
//! future passed to `block_on` / `LocalExecutor::run`.
//!
//! Scenarios (sizes are the constants below and in `Echo1`/`Echo500`):
//!
//! 1. `tcp_echo_1`: one loopback TCP connection, client and server tasks in
//!    the same runtime. Per iteration the client writes [`MSG_LEN`] bytes and
//!    `read_exact`s them back, 2_000 times. Measures the latency
//!    of one I/O wake-up chain (write -> server readable -> echo -> client
//!    readable). One element = one round trip.
//! 2. `tcp_echo_500`: 500 connections at once, each doing 20 round trips
//!    per iteration, all concurrently.
//!    Measures reactor and scheduler throughput under many ready sockets.
//!    One element = one round trip (10_000 per iteration).
//! 3. `timers`: spawn [`TIMER_TASKS`] tasks, each sleeping a pseudo-random
//!    0..100 ms (same xorshift sequence every iteration), await them all.
//!    The wall time is at least 100 ms by construction; what is above that
//!    is the overhead of inserting, firing and waking 100_000 timers (and
//!    spawning their tasks). No throughput is reported: read the time.
//! 4. `timers_insert_cancel`: create [`TIMER_TASKS`] `sleep(1 hour)` futures
//!    (boxed), poll each once so it registers with the timer store, then drop
//!    them all. Measures timer insertion into, and removal from, a store
//!    holding 100_000 timers. One element = one timer (insert + cancel).
//!
//! The echo groups set up the listener and all connections once per variant
//! (outside the measured loop) and keep them open across iterations: each
//! client task waits on its own command channel for "do K round trips" and
//! reports on a shared done channel. After the variant, teardown closes the
//! command channels and waits until every client and server task has exited
//! (so every socket is closed) before the runtime is dropped and the next
//! variant starts. Every socket has `TCP_NODELAY` set. Channels are
//! `async_channel` for every runtime.

#[path = "common/fd_limit.rs"]
mod fd_limit;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};

/// Bytes per echo message.
const MSG_LEN: usize = 64;
/// `timers` and `timers_insert_cancel`: timers per iteration.
const TIMER_TASKS: usize = 100_000;
/// `timers`: sleeps are drawn from `0..TIMER_MAX_SLEEP_US` microseconds.
const TIMER_MAX_SLEEP_US: u64 = 100_000;

// ---------------------------------------------------------------------------
// Sockets: what a scenario needs from a runtime's TCP types.
// ---------------------------------------------------------------------------

/// `Future<Output = io::Result<T>> + Send + 'a`, to keep signatures short.
trait IoFut<'a, T>: Future<Output = io::Result<T>> + Send + 'a {}
impl<'a, T, F: Future<Output = io::Result<T>> + Send + 'a> IoFut<'a, T> for F {}

/// A connected TCP stream.
trait NetStream: Send + Unpin + Sized + 'static {
    fn set_nodelay(&self) -> io::Result<()>;
    /// Reads what is available (at least one byte, or 0 at EOF).
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize>;
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, ()>;
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()>;
}

/// A TCP listener, and how to connect to one.
trait NetListener: Send + Sync + Sized + 'static {
    type Stream: NetStream;
    /// Binds to an ephemeral port on 127.0.0.1.
    fn bind() -> impl IoFut<'static, Self>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    fn accept(&self) -> impl IoFut<'_, Self::Stream>;
    fn connect(addr: SocketAddr) -> impl IoFut<'static, Self::Stream>;
}

/// coro's and async-io's streams both implement futures-io; each is driven
/// by its stack's own `AsyncReadExt`/`AsyncWriteExt` helpers.
macro_rules! futures_io_stream {
    ($ty:ty, $($io:ident)::+, |$s:ident| $set_nodelay:expr) => {
        impl NetStream for $ty {
            fn set_nodelay(&self) -> io::Result<()> {
                let $s = self;
                $set_nodelay
            }
            fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize> {
                $($io)::+::AsyncReadExt::read(self, buf)
            }
            fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, ()> {
                $($io)::+::AsyncReadExt::read_exact(self, buf)
            }
            fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()> {
                $($io)::+::AsyncWriteExt::write_all(self, buf)
            }
        }
    };
}

futures_io_stream!(coro::net::TcpStream, coro::io, |s| s.set_nodelay(true));
futures_io_stream!(SmolStream, futures_lite::io, |s| s
    .get_ref()
    .set_nodelay(true));

impl NetListener for coro::net::TcpListener {
    type Stream = coro::net::TcpStream;
    fn bind() -> impl IoFut<'static, Self> {
        coro::net::TcpListener::bind("127.0.0.1:0")
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        coro::net::TcpListener::local_addr(self)
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(coro::net::TcpListener::accept(self).await?.0)
    }
    fn connect(addr: SocketAddr) -> impl IoFut<'static, Self::Stream> {
        coro::net::TcpStream::connect(addr)
    }
}

impl NetStream for tokio::net::TcpStream {
    fn set_nodelay(&self) -> io::Result<()> {
        tokio::net::TcpStream::set_nodelay(self, true)
    }
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize> {
        tokio::io::AsyncReadExt::read(self, buf)
    }
    async fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> io::Result<()> {
        tokio::io::AsyncReadExt::read_exact(self, buf)
            .await
            .map(drop)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()> {
        tokio::io::AsyncWriteExt::write_all(self, buf)
    }
}

impl NetListener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    fn bind() -> impl IoFut<'static, Self> {
        tokio::net::TcpListener::bind("127.0.0.1:0")
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(tokio::net::TcpListener::accept(self).await?.0)
    }
    fn connect(addr: SocketAddr) -> impl IoFut<'static, Self::Stream> {
        tokio::net::TcpStream::connect(addr)
    }
}

type SmolStream = async_io::Async<std::net::TcpStream>;
type SmolListener = async_io::Async<std::net::TcpListener>;

impl NetListener for SmolListener {
    type Stream = SmolStream;
    async fn bind() -> io::Result<Self> {
        SmolListener::bind(([127, 0, 0, 1], 0))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(SmolListener::accept(self).await?.0)
    }
    fn connect(addr: SocketAddr) -> impl IoFut<'static, Self::Stream> {
        SmolStream::connect(addr)
    }
}

// ---------------------------------------------------------------------------
// Runtimes.
// ---------------------------------------------------------------------------

/// The runtimes, their task and timer operations, and how a future is run
/// on each (shared with `bin/bench_report`).
#[path = "common/runtimes.rs"]
mod runtimes;
use runtimes::{CoroRt, Runner, SendFut, SmolLocal, SmolMt, TokioRt};

/// What a scenario needs from a runtime here: the shared task and timer
/// operations, plus the runtime's TCP listener (and, through it, stream)
/// type.
trait Spawner: runtimes::Spawner {
    type Listener: NetListener;
}

impl Spawner for runtimes::Coro {
    type Listener = coro::net::TcpListener;
}

impl Spawner for runtimes::Tokio {
    type Listener = tokio::net::TcpListener;
}

impl Spawner for runtimes::Smol {
    type Listener = SmolListener;
}

// ---------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------

/// One benchmark scenario, written once for every runtime.
trait Scenario {
    /// The criterion group name.
    const NAME: &'static str;
    /// Elements per iteration, for `Throughput::Elements` (`None`: none).
    const ELEMENTS: Option<u64>;
    /// What setup leaves for the iterations (connections, channels).
    type State: Send + Sync + 'static;
    /// Runs once per variant, before the measured loop.
    fn setup<S: Spawner>(s: S) -> impl SendFut<Self::State>;
    /// The work of one iteration.
    fn iter<S: Spawner>(s: S, state: Arc<Self::State>) -> impl SendFut<()>;
    /// Runs once per variant, after the measured loop, before the runtime
    /// is dropped.
    fn teardown(state: Arc<Self::State>) -> impl SendFut<()>;
}

/// The two echo scenarios differ only in these numbers.
trait EchoParams: 'static {
    const NAME: &'static str;
    /// Concurrent connections.
    const CONNS: usize;
    /// Round trips per connection per iteration.
    const ROUNDS: usize;
}

/// `tcp_echo_1`: one connection, 2_000 round trips per iteration.
struct Echo1;

impl EchoParams for Echo1 {
    const NAME: &'static str = "tcp_echo_1";
    const CONNS: usize = 1;
    const ROUNDS: usize = 2_000;
}

/// `tcp_echo_500`: 500 connections, 20 round trips each per iteration.
struct Echo500;

impl EchoParams for Echo500 {
    const NAME: &'static str = "tcp_echo_500";
    const CONNS: usize = 500;
    const ROUNDS: usize = 20;
}

/// The open connections of an echo scenario, as seen by the driver.
struct EchoState {
    /// One per client task: "do this many round trips".
    commands: Vec<async_channel::Sender<usize>>,
    /// One message per finished command.
    done: async_channel::Receiver<io::Result<()>>,
    /// Never sent to: every client and server task holds a sender, so
    /// `recv` fails once all of them have exited (and closed their socket).
    exited: async_channel::Receiver<()>,
}

/// Server side of one connection: echoes until EOF.
async fn echo_server<T: NetStream>(mut stream: T, _exit: async_channel::Sender<()>) {
    let mut buf = [0u8; 1024];
    loop {
        let n = match stream.read_some(&mut buf).await {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => return eprintln!("echo server: read failed: {e}"),
        };
        if let Err(e) = stream.write_all(&buf[..n]).await {
            return eprintln!("echo server: write failed: {e}");
        }
    }
}

/// Client side of one connection: on each command, does that many round
/// trips and reports; returns (closing the socket) when the commands end.
async fn echo_client<T: NetStream>(
    mut stream: T,
    id: u8,
    commands: async_channel::Receiver<usize>,
    done: async_channel::Sender<io::Result<()>>,
    _exit: async_channel::Sender<()>,
) {
    let msg = [id; MSG_LEN];
    let mut buf = [0u8; MSG_LEN];
    while let Ok(rounds) = commands.recv().await {
        let mut result = Ok(());
        for _ in 0..rounds {
            result = async {
                stream.write_all(&msg).await?;
                stream.read_exact(&mut buf).await
            }
            .await;
            if result.is_err() {
                break;
            }
            debug_assert_eq!(buf, msg);
        }
        if done.send(result).await.is_err() {
            return;
        }
    }
}

impl<E: EchoParams> Scenario for E {
    const NAME: &'static str = E::NAME;
    const ELEMENTS: Option<u64> = Some((E::CONNS * E::ROUNDS) as u64);
    type State = EchoState;

    async fn setup<S: Spawner>(s: S) -> EchoState {
        let listener = S::Listener::bind().await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let (exit_tx, exited) = async_channel::bounded::<()>(1);
        let (done_tx, done) = async_channel::unbounded();

        let acceptor = s.spawn({
            let (s, exit_tx) = (s.clone(), exit_tx.clone());
            async move {
                for _ in 0..E::CONNS {
                    let stream = listener.accept().await.expect("accept");
                    stream.set_nodelay().expect("set_nodelay");
                    s.spawn_detached(echo_server(stream, exit_tx.clone()));
                }
                // The listener is dropped (closed) here.
            }
        });
        let mut commands = Vec::with_capacity(E::CONNS);
        for i in 0..E::CONNS {
            let stream = S::Listener::connect(addr).await.expect("connect");
            stream.set_nodelay().expect("set_nodelay");
            let (cmd_tx, cmd_rx) = async_channel::bounded(1);
            let (done_tx, exit_tx) = (done_tx.clone(), exit_tx.clone());
            s.spawn_detached(echo_client(stream, i as u8, cmd_rx, done_tx, exit_tx));
            commands.push(cmd_tx);
        }
        acceptor.await;
        EchoState {
            commands,
            done,
            exited,
        }
    }

    async fn iter<S: Spawner>(_s: S, state: Arc<EchoState>) {
        for cmd in &state.commands {
            cmd.try_send(E::ROUNDS).expect("echo client busy or gone");
        }
        for _ in 0..state.commands.len() {
            let result = state.done.recv().await.expect("echo clients gone");
            result.expect("echo round trip failed");
        }
    }

    async fn teardown(state: Arc<EchoState>) {
        for cmd in &state.commands {
            cmd.close();
        }
        assert!(state.exited.recv().await.is_err());
    }
}

/// One step of a deterministic xorshift64 generator.
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

struct Timers;

impl Scenario for Timers {
    const NAME: &'static str = "timers";
    const ELEMENTS: Option<u64> = None;
    type State = ();

    async fn setup<S: Spawner>(_s: S) {}

    async fn iter<S: Spawner>(s: S, _state: Arc<()>) {
        let mut rng = 0x9E37_79B9_7F4A_7C15;
        let handles: Vec<_> = (0..TIMER_TASKS)
            .map(|_| {
                let micros = xorshift(&mut rng) % TIMER_MAX_SLEEP_US;
                s.spawn(S::sleep(Duration::from_micros(micros)))
            })
            .collect();
        for handle in handles {
            handle.await;
        }
    }

    async fn teardown(_state: Arc<()>) {}
}

struct TimersInsertCancel;

impl Scenario for TimersInsertCancel {
    const NAME: &'static str = "timers_insert_cancel";
    const ELEMENTS: Option<u64> = Some(TIMER_TASKS as u64);
    type State = ();

    async fn setup<S: Spawner>(_s: S) {}

    async fn iter<S: Spawner>(_s: S, _state: Arc<()>) {
        let hour = Duration::from_secs(3600);
        let mut sleeps: Vec<_> = (0..TIMER_TASKS).map(|_| Box::pin(S::sleep(hour))).collect();
        for sleep in &mut sleeps {
            let polled = futures_lite::future::poll_once(sleep.as_mut()).await;
            assert!(polled.is_none(), "a one-hour sleep completed");
        }
        drop(sleeps);
    }

    async fn teardown(_state: Arc<()>) {}
}

// ---------------------------------------------------------------------------
// Groups.
// ---------------------------------------------------------------------------

/// One variant of `Sc`: build the runtime, set up, measure, tear down, drop
/// the runtime (so the next variant starts with no sockets of this one open).
fn variant<Sc: Scenario, R: Runner>(g: &mut BenchmarkGroup<'_, WallTime>)
where
    R::Spawner: Spawner,
{
    let rt = R::new();
    let state = Arc::new(rt.run(Sc::setup(rt.spawner())));
    g.bench_function(R::NAME, |b| {
        b.iter(|| rt.run(Sc::iter(rt.spawner(), state.clone())));
    });
    rt.run(Sc::teardown(state));
    drop(rt);
}

fn scenario<Sc: Scenario>(c: &mut Criterion) {
    let mut g = c.benchmark_group(Sc::NAME);
    if let Some(n) = Sc::ELEMENTS {
        g.throughput(Throughput::Elements(n));
    }
    // Iterations take 10-200 ms: a fixed iteration count per sample keeps
    // the run time near `--measurement-time` (linear sampling overshoots).
    g.sampling_mode(SamplingMode::Flat);
    variant::<Sc, CoroRt<true>>(&mut g);
    variant::<Sc, CoroRt<false>>(&mut g);
    variant::<Sc, TokioRt<true>>(&mut g);
    variant::<Sc, TokioRt<false>>(&mut g);
    variant::<Sc, SmolMt>(&mut g);
    variant::<Sc, SmolLocal>(&mut g);
    g.finish();
}

fn tcp_echo_1(c: &mut Criterion) {
    scenario::<Echo1>(c);
}

fn tcp_echo_500(c: &mut Criterion) {
    // `tcp_echo_500` holds ~1000 sockets at once.
    fd_limit::raise_fd_limit(4096);
    scenario::<Echo500>(c);
}

fn timers(c: &mut Criterion) {
    scenario::<Timers>(c);
}

fn timers_insert_cancel(c: &mut Criterion) {
    scenario::<TimersInsertCancel>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = tcp_echo_1, tcp_echo_500, timers, timers_insert_cancel
}
criterion_main!(benches);
