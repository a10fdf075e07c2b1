//! The TCP echo server that `bench_report` measures, one runtime per process.
//!
//! ```text
//! cargo run --release -p coro-benches --bin echo_bench_server -- --runtime coro_mt --addr 127.0.0.1:0
//! ```
//!
//! It prints `listening on ADDR`, then echoes every connection (read what is
//! available, write it back) until stdin closes or says `quit`. The load comes
//! from `load_client`, a separate process, so the client's CPU time is not in
//! this process's.
//!
//! | `--runtime`   | what serves                                                        |
//! |---------------|--------------------------------------------------------------------|
//! | `coro_mt`     | coro multi-thread runtime, 2 workers, one task per connection      |
//! | `coro_tpc`    | coro thread-per-core runtime, 2 shards, an `SO_REUSEPORT` listener each |
//! | `coro_ct`     | coro current-thread runtime                                        |
//! | `tokio_mt`    | tokio multi-thread runtime, 2 workers                              |
//! | `tokio_ct`    | tokio current-thread runtime                                       |
//! | `smol_mt`     | `async_executor::Executor` run by 2 threads, `async_io::Async`     |
//! | `smol_local`  | `async_executor::LocalExecutor` on the main thread                 |
//! | `raw_polling` | no futures: one thread, `polling` + `epoll_wait`, edge-triggered   |
//! | `raw_busy`    | `raw_polling` whose `epoll_wait` never blocks: the thread never sleeps |
//! | `raw_uring`   | no futures: one thread, io_uring recv/send (`--features io-uring`) |
//!
//! The seven runtimes share one accept loop and one per-connection echo
//! function, generic over a small trait (as in `benches/net.rs`).
//! `raw_polling` is the physical-limit baseline: see [`raw`]
//! (`--mode level` for the level-triggered variant; on this project's
//! 2-vCPU VM both cost the same within noise: 3.5 vs 3.6 µs of server CPU
//! per round trip at 500 connections, 6.7 vs 6.7 µs at 10_000). Every
//! server leaves the listen backlog at its runtime's default (128 for
//! std, tokio and async-io; coro's 1024); the client connects in batches
//! that stay under it. A stdin thread (idle) exits the process.

#[path = "../../examples/common/args.rs"]
mod args;

#[path = "../common/fd_limit.rs"]
mod fd_limit;
#[path = "../common/quit.rs"]
mod quit;

use std::future::Future;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_executor::{Executor, LocalExecutor};

const USAGE: &str = "usage: echo_bench_server --runtime \
                     coro_mt|coro_tpc|coro_ct|tokio_mt|tokio_ct|smol_mt|smol_local|raw_polling|raw_busy \
                     [--addr 127.0.0.1:0] [--mode edge|level (raw_polling; edge)] \
                     [--spin-us MICROSECONDS (coro: spin_before_park; the runtime's default)] \
                     [raw_uring (--features io-uring): --mode recv|multishot (recv), --fixed 0|1 (0), \
                     --buffers N (multishot: provided buffers, 4096)]";

/// Worker threads of every multi-thread variant.
const WORKERS: usize = 2;
/// Read buffer per connection (the clients send 64-byte messages).
const BUF_LEN: usize = 4096;

fn main() {
    let args = args::Args::parse(USAGE);
    let runtime: String = args.get("runtime", String::new());
    let addr: SocketAddr = args.get("addr", SocketAddr::from(([127, 0, 0, 1], 0)));
    let spin: Option<u64> = args.get_opt("spin-us");
    fd_limit::raise_fd_limit(libc::rlim_t::MAX);
    std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(quit::exit_on_quit)
        .expect("spawn the stdin thread");
    let result = match runtime.as_str() {
        "coro_mt" => run_coro(addr, true, spin),
        "coro_ct" => run_coro(addr, false, spin),
        "coro_tpc" => run_coro_tpc(addr, spin),
        "tokio_mt" => run_tokio(addr, true),
        "tokio_ct" => run_tokio(addr, false),
        "smol_mt" => run_smol_mt(addr),
        "smol_local" => LOCAL_EX.with(|ex| async_io::block_on(ex.run(serve(Smol(None), addr)))),
        "raw_polling" => match args.get("mode", String::from("edge")).as_str() {
            "edge" => raw::serve(addr, true, false),
            "level" => raw::serve(addr, false, false),
            _ => {
                eprintln!("--mode: edge or level\n{USAGE}");
                std::process::exit(2);
            }
        },
        "raw_busy" => raw::serve(addr, true, true),
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        "raw_uring" => raw_uring::serve(addr, raw_uring::Options::from_args(&args)),
        #[cfg(not(all(target_os = "linux", feature = "io-uring")))]
        "raw_uring" => Err(io::Error::other(
            "raw_uring: Linux only, built with `--features io-uring`",
        )),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = result {
        eprintln!("echo_bench_server ({runtime}): {error}");
        std::process::exit(1);
    }
}

fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------
// What the echo loop needs from a runtime.
// ---------------------------------------------------------------------------

/// `Future<Output = io::Result<T>> + Send + 'a`, to keep signatures short.
trait IoFut<'a, T>: Future<Output = io::Result<T>> + Send + 'a {}
impl<'a, T, F: Future<Output = io::Result<T>> + Send + 'a> IoFut<'a, T> for F {}

/// A connected TCP stream.
trait NetStream: Send + Unpin + 'static {
    fn set_nodelay(&self) -> io::Result<()>;
    /// Reads what is available (at least one byte, or 0 at EOF).
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize>;
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()>;
}

/// A TCP listener.
trait NetListener: Send + Sync + Sized + 'static {
    type Stream: NetStream;
    fn bind(addr: SocketAddr) -> impl IoFut<'static, Self>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    fn accept(&self) -> impl IoFut<'_, Self::Stream>;
}

/// A runtime's tasks and timer.
trait Spawner: Clone + Send + Sync + 'static {
    type Listener: NetListener;
    /// Spawns `future` and detaches it.
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static);
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Binds, announces, and runs the accept loop.
async fn serve<S: Spawner>(spawner: S, addr: SocketAddr) -> io::Result<()> {
    let listener = S::Listener::bind(addr).await?;
    announce(listener.local_addr()?);
    accept_loop(spawner, listener).await
}

/// The accept loop, shared by every runtime: one task per connection. An
/// accept error (out of descriptors, a reset) is logged and the loop goes on.
async fn accept_loop<S: Spawner>(spawner: S, listener: S::Listener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok(stream) => spawner.spawn(echo(stream)),
            Err(error) => {
                eprintln!("echo_bench_server: accept: {error}");
                S::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes one connection until EOF or an error.
async fn echo<T: NetStream>(mut stream: T) {
    let _ = stream.set_nodelay();
    let mut buf = vec![0u8; BUF_LEN];
    loop {
        let n = match stream.read_some(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// coro and smol streams implement futures-io; tokio has its own traits.

impl NetStream for coro::net::TcpStream {
    fn set_nodelay(&self) -> io::Result<()> {
        coro::net::TcpStream::set_nodelay(self, true)
    }
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize> {
        coro::io::AsyncReadExt::read(self, buf)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()> {
        coro::io::AsyncWriteExt::write_all(self, buf)
    }
}

impl NetListener for coro::net::TcpListener {
    type Stream = coro::net::TcpStream;
    fn bind(addr: SocketAddr) -> impl IoFut<'static, Self> {
        coro::net::TcpListener::bind(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        coro::net::TcpListener::local_addr(self)
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(coro::net::TcpListener::accept(self).await?.0)
    }
}

impl NetStream for tokio::net::TcpStream {
    fn set_nodelay(&self) -> io::Result<()> {
        tokio::net::TcpStream::set_nodelay(self, true)
    }
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize> {
        tokio::io::AsyncReadExt::read(self, buf)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()> {
        tokio::io::AsyncWriteExt::write_all(self, buf)
    }
}

impl NetListener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    fn bind(addr: SocketAddr) -> impl IoFut<'static, Self> {
        tokio::net::TcpListener::bind(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(tokio::net::TcpListener::accept(self).await?.0)
    }
}

type SmolStream = async_io::Async<std::net::TcpStream>;
type SmolListener = async_io::Async<std::net::TcpListener>;

impl NetStream for SmolStream {
    fn set_nodelay(&self) -> io::Result<()> {
        self.get_ref().set_nodelay(true)
    }
    fn read_some<'a>(&'a mut self, buf: &'a mut [u8]) -> impl IoFut<'a, usize> {
        futures_lite::io::AsyncReadExt::read(self, buf)
    }
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl IoFut<'a, ()> {
        futures_lite::io::AsyncWriteExt::write_all(self, buf)
    }
}

impl NetListener for SmolListener {
    type Stream = SmolStream;
    async fn bind(addr: SocketAddr) -> io::Result<Self> {
        SmolListener::bind(addr)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }
    async fn accept(&self) -> io::Result<Self::Stream> {
        Ok(SmolListener::accept(self).await?.0)
    }
}

/// coro and tokio spawn on the ambient runtime.
macro_rules! ambient_spawner {
    ($name:ident, $listener:ty, $spawn:path, $sleep:path) => {
        #[derive(Clone, Copy)]
        struct $name;

        impl Spawner for $name {
            type Listener = $listener;
            fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
                drop($spawn(future));
            }
            fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
                $sleep(duration)
            }
        }
    };
}

ambient_spawner!(Coro, coro::net::TcpListener, coro::spawn, coro::time::sleep);
ambient_spawner!(
    Tokio,
    tokio::net::TcpListener,
    tokio::spawn,
    tokio::time::sleep
);

thread_local! {
    /// The `LocalExecutor` of `smol_local` (the main thread's).
    static LOCAL_EX: LocalExecutor<'static> = const { LocalExecutor::new() };
}

/// smol: the shared `Executor` of `smol_mt`, or with `None` the main
/// thread's `LocalExecutor` (`smol_local`).
#[derive(Clone)]
struct Smol(Option<Arc<Executor<'static>>>);

impl Spawner for Smol {
    type Listener = SmolListener;
    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        match &self.0 {
            Some(ex) => ex.spawn(future).detach(),
            None => LOCAL_EX.with(|ex| ex.spawn(future).detach()),
        }
    }
    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }
}

// ---------------------------------------------------------------------------
// Runtimes. On the multi-thread ones the accept loop is a task on a worker;
// the main thread only waits for it.
// ---------------------------------------------------------------------------

fn run_coro(addr: SocketAddr, mt: bool, spin_us: Option<u64>) -> io::Result<()> {
    let mut builder = coro::Runtime::builder();
    if mt {
        builder.worker_threads(WORKERS);
    } else {
        builder.current_thread();
    }
    if let Some(us) = spin_us {
        builder.spin_before_park(Duration::from_micros(us));
    }
    let rt = builder.build()?;
    if mt {
        let root = rt.spawn(serve(Coro, addr));
        rt.block_on(root)
            .map_err(|e| io::Error::other(e.to_string()))?
    } else {
        rt.block_on(serve(Coro, addr))
    }
}

/// `coro_tpc`: a shard per worker, each accepting on its own
/// `SO_REUSEPORT` listener of the one address (the kernel spreads the
/// connections by a hash of their ports) and serving its connections on its
/// own queue and epoll instance. The sockets are bound here, the first on
/// `addr` and the others on the port it got; each shard makes its own a
/// listener (registering it with that shard's reactor), and the last one to
/// do so announces the address.
fn run_coro_tpc(addr: SocketAddr, spin_us: Option<u64>) -> io::Result<()> {
    let mut builder = coro::Runtime::builder();
    builder.thread_per_core().worker_threads(WORKERS);
    if let Some(us) = spin_us {
        builder.spin_before_park(Duration::from_micros(us));
    }
    let rt = builder.build()?;
    let mut sockets = Vec::with_capacity(WORKERS);
    let mut bound = addr;
    for _ in 0..WORKERS {
        let socket = match addr {
            SocketAddr::V4(_) => coro::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => coro::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(bound)?;
        bound = socket.local_addr()?;
        sockets.push(Some(socket));
    }
    let sockets = std::sync::Mutex::new(sockets);
    let listening = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let results = rt.block_on_each(move |index| {
        let socket = sockets.lock().unwrap()[index].take();
        let listening = listening.clone();
        async move {
            let listener = socket.expect("one socket per shard").listen(1024)?;
            if listening.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == WORKERS {
                announce(bound);
            }
            accept_loop(Coro, listener).await
        }
    });
    results.into_iter().collect()
}

fn run_tokio(addr: SocketAddr, mt: bool) -> io::Result<()> {
    let mut builder = if mt {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    if mt {
        builder.worker_threads(WORKERS);
    }
    let rt = builder.enable_all().build()?;
    if mt {
        let root = rt.spawn(serve(Tokio, addr));
        rt.block_on(root).map_err(io::Error::other)?
    } else {
        rt.block_on(serve(Tokio, addr))
    }
}

fn run_smol_mt(addr: SocketAddr) -> io::Result<()> {
    let ex = Arc::new(Executor::new());
    for i in 0..WORKERS {
        let ex = ex.clone();
        std::thread::Builder::new()
            .name(format!("smol-worker-{i}"))
            // `async_io::block_on`: an idle worker drives the reactor.
            .spawn(move || async_io::block_on(ex.run(futures_lite::future::pending::<()>())))?;
    }
    futures_lite::future::block_on(ex.spawn(serve(Smol(Some(ex.clone())), addr)))
}

/// The physical-limit baseline: what an echo server costs with no futures,
/// no tasks and no wakers.
///
/// One thread; non-blocking std sockets registered with `polling`, waited on
/// with `epoll_wait` on the poller's own fd (as coro's reactor does on
/// Linux: `Poller::wait` would add a `timerfd_settime` and an `epoll_ctl`
/// per wait). Connections live in a `Vec` slab (key = index + 1); each holds
/// only the bytes a `write` could not take (normally none), and one read
/// buffer is shared by all. A round trip costs one `read` and one `write`
/// plus a share of one `epoll_wait`, in either mode:
///
/// * `--mode level` (`PollMode::Level`): one `read` per event; a connection
///   with bytes left is simply reported again.
/// * `--mode edge` (`PollMode::Edge`, the default): `read` until a short
///   read (fewer bytes than the buffer: the socket is drained, and new
///   bytes raise a new edge), so no `read` ends in `EWOULDBLOCK` either.
///   Cheaper in the kernel: a level-triggered socket that was reported is
///   polled again (`tcp_poll`) by the next `epoll_wait`.
///
/// Neither mode re-arms with `epoll_ctl` per event (as one-shot mode must).
/// The listener is level-triggered in both.
///
/// `raw_busy` is the edge-triggered server whose `epoll_wait` never blocks,
/// so its thread never sleeps: the latency floor of any server under this
/// client (what a spin that never gives up would reach), not a server to run.
#[cfg(target_os = "linux")]
mod raw {
    use std::io::{self, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use polling::{Event, PollMode, Poller};

    const LISTENER: usize = 0;

    struct Conn {
        stream: TcpStream,
        /// Echo bytes a `write` did not take; while non-empty the
        /// connection waits for writability instead of readability.
        unsent: Vec<u8>,
    }

    struct Server {
        poller: Poller,
        /// How connections are registered.
        mode: PollMode,
        conns: Vec<Option<Conn>>,
        free: Vec<usize>,
        buf: Vec<u8>,
    }

    pub fn serve(addr: SocketAddr, edge: bool, busy: bool) -> io::Result<()> {
        // `busy`: never block in `epoll_wait` (timeout 0): the server's
        // thread never sleeps, so no round trip waits for it to be woken.
        // The lowest latency any server design can reach with this client,
        // at the price of a whole core.
        let timeout = if busy { 0 } else { -1 };
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let mut server = Server {
            poller: Poller::new()?,
            mode: if edge {
                PollMode::Edge
            } else {
                PollMode::Level
            },
            conns: Vec::new(),
            free: Vec::new(),
            buf: vec![0u8; super::BUF_LEN],
        };
        let interest = Event::readable(LISTENER);
        // SAFETY: the listener outlives the poller's use of it (both live
        // until the process exits).
        unsafe {
            server
                .poller
                .add_with_mode(&listener, interest, PollMode::Level)?
        };
        super::announce(listener.local_addr()?);

        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        loop {
            let epoll_fd = server.poller.as_raw_fd();
            // SAFETY: `events` holds 1024 writable `epoll_event`s; the fd
            // is the poller's, alive while `server` is.
            let n = unsafe { libc::epoll_wait(epoll_fd, events.as_mut_ptr(), 1024, timeout) };
            if n < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            for event in &events[..n as usize] {
                let (key, flags) = (event.u64 as usize, event.events as i32);
                if key == LISTENER {
                    server.accept_all(&listener);
                } else {
                    let writable = flags & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) != 0;
                    server.ready(key, writable);
                }
            }
        }
    }

    impl Server {
        fn accept_all(&mut self, listener: &TcpListener) {
            loop {
                let stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) => {
                        // Out of descriptors or a reset: the listener stays
                        // readable (level mode), so back off a little.
                        eprintln!("echo_bench_server: accept: {e}");
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        return;
                    }
                };
                if stream.set_nonblocking(true).is_err() || stream.set_nodelay(true).is_err() {
                    continue;
                }
                let index = self.free.pop().unwrap_or_else(|| {
                    self.conns.push(None);
                    self.conns.len() - 1
                });
                let interest = Event::readable(index + 1);
                // SAFETY: the stream is deleted from the poller before it
                // is dropped (see `ready`).
                match unsafe { self.poller.add_with_mode(&stream, interest, self.mode) } {
                    Ok(()) => {
                        let unsent = Vec::new();
                        self.conns[index] = Some(Conn { stream, unsent });
                    }
                    Err(_) => self.free.push(index),
                }
            }
        }

        /// Connection `key` is ready: echo, or finish a blocked write.
        fn ready(&mut self, key: usize, writable: bool) {
            let Some(conn) = self.conns.get_mut(key - 1).and_then(Option::as_mut) else {
                return;
            };
            let (poller, mode) = (&self.poller, self.mode);
            let keep = if conn.unsent.is_empty() {
                echo(conn, &mut self.buf, poller, mode, key)
            } else if writable {
                flush(conn, poller, mode, key)
            } else {
                Ok(())
            };
            if keep.is_err() {
                let _ = poller.delete(&conn.stream);
                self.conns[key - 1] = None;
                self.free.push(key - 1);
            }
        }
    }

    /// `Err(())`: close the connection.
    type Keep = Result<(), ()>;

    /// Reads and writes back; in edge mode until a short read.
    fn echo(conn: &mut Conn, buf: &mut [u8], poller: &Poller, mode: PollMode, key: usize) -> Keep {
        loop {
            let n = match conn.stream.read(buf) {
                Ok(0) => return Err(()),
                Ok(n) => n,
                Err(e) => return retry(&e),
            };
            let mut done = 0;
            while done < n {
                match conn.stream.write(&buf[done..n]) {
                    Ok(k) => done += k,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        conn.unsent.extend_from_slice(&buf[done..n]);
                        let interest = Event::writable(key);
                        return poller
                            .modify_with_mode(&conn.stream, interest, mode)
                            .map_err(drop);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(()),
                }
            }
            if mode == PollMode::Level || n < buf.len() {
                return Ok(());
            }
        }
    }

    /// Writes what a previous `write` left; back to reading when done (in
    /// edge mode, re-registering reports bytes that came meanwhile).
    fn flush(conn: &mut Conn, poller: &Poller, mode: PollMode, key: usize) -> Keep {
        while !conn.unsent.is_empty() {
            match conn.stream.write(&conn.unsent) {
                Ok(k) => drop(conn.unsent.drain(..k)),
                Err(e) => return retry(&e),
            }
        }
        let interest = Event::readable(key);
        poller
            .modify_with_mode(&conn.stream, interest, mode)
            .map_err(drop)
    }

    /// An I/O error that leaves the connection open is `Ok`.
    fn retry(e: &io::Error) -> Keep {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(()),
            _ => Err(()),
        }
    }
}

#[cfg(all(target_os = "linux", feature = "io-uring"))]
#[path = "raw_uring.rs"]
mod raw_uring;

#[cfg(not(target_os = "linux"))]
mod raw {
    pub fn serve(_addr: std::net::SocketAddr, _edge: bool, _busy: bool) -> std::io::Result<()> {
        Err(std::io::Error::other(
            "raw_polling uses epoll_wait: Linux only",
        ))
    }
}
