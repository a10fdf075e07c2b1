//! The closed-loop TCP echo load generator that `bench_report` runs against
//! every `echo_bench_server` runtime (a separate process, so its CPU time is
//! not in the server's).
//!
//! ```text
//! cargo run --release -p coro-benches --bin load_client -- --addr 127.0.0.1:PORT --connections 500 --seconds 2
//! ```
//!
//! Each connection writes `--size` bytes, waits until the same bytes have
//! come back, records the round trip's latency in microseconds, and goes
//! again, until the window ends. The program is the same for every server,
//! and written without futures (plain threads, non-blocking std sockets,
//! `polling` in level-triggered mode, `epoll_wait` on the poller's fd on
//! Linux and `Poller::wait` elsewhere) so no runtime under test also drives
//! the load. Connections are opened
//! before the window (blocking `connect`s spread over the threads, in
//! batches that each do one warm-up round trip, so the server's accept
//! queue never overflows) and closed after it; neither is measured.
//!
//! At the end it prints one line:
//! `round_trips=N seconds=S p50_us=.. p99_us=.. errors=E connections=C stalled=K`
//! (`errors`: failed connects, I/O errors, early EOFs, wrong replies;
//! `stalled`: connections that completed no round trip in the window).
//! `--latencies PATH` writes every latency as a little-endian `u32`.
//!
//! With `--sync 1` (used by `bench_report`) it prints `ready` when every
//! connection is open and waits for a line on stdin before the window
//! starts, and prints `end` when the window is over and waits for another
//! line before closing the connections: the driver reads the server's CPU
//! time in between.

#[path = "../../examples/common/args.rs"]
mod args;

#[path = "../common/fd_limit.rs"]
mod fd_limit;

use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use polling::{Event, PollMode, Poller};

const USAGE: &str = "usage: load_client --addr HOST:PORT [--connections N (500)] \
                     [--seconds S (2)] [--size BYTES (64)] [--threads N (2)] \
                     [--latencies PATH] [--sync 0|1]";

/// A single connect may take this long; the whole connect phase, `CONNECT_ALL`.
const CONNECT_ONE: Duration = Duration::from_secs(5);
const CONNECT_ALL: Duration = Duration::from_secs(60);

/// What the threads agree on.
struct Shared {
    /// Every thread has opened its connections.
    connected: Barrier,
    /// The window's end is set: start.
    go: Barrier,
    /// Every thread has stopped.
    stopped: Barrier,
    /// Connections may be closed.
    release: Barrier,
    deadline: Mutex<Option<Instant>>,
}

/// One thread's results.
#[derive(Default)]
struct Stats {
    latencies: Vec<u32>,
    errors: u64,
    stalled: u64,
}

fn main() {
    let args = args::Args::parse(USAGE);
    let addr: SocketAddr = match args.get("addr", String::new()).parse() {
        Ok(addr) => addr,
        Err(_) => {
            eprintln!("--addr HOST:PORT is required\n{USAGE}");
            std::process::exit(2);
        }
    };
    let connections: usize = args.get("connections", 500);
    let seconds: f64 = args.get("seconds", 2.0);
    let size: usize = args.get("size", 64);
    let threads: usize = args.get("threads", 2usize).clamp(1, connections.max(1));
    let latencies_path: String = args.get("latencies", String::new());
    let sync = args.get("sync", 0u8) != 0;
    assert!(connections > 0 && size > 0 && seconds > 0.0, "{USAGE}");
    fd_limit::raise_fd_limit(libc::rlim_t::MAX);

    let shared = Arc::new(Shared {
        connected: Barrier::new(threads + 1),
        go: Barrier::new(threads + 1),
        stopped: Barrier::new(threads + 1),
        release: Barrier::new(threads + 1),
        deadline: Mutex::new(None),
    });
    let connect_by = Instant::now() + CONNECT_ALL;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let ids = t * connections / threads..(t + 1) * connections / threads;
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || worker(addr, ids, size, connect_by, &shared))
                .expect("spawn a load thread")
        })
        .collect();

    shared.connected.wait();
    handshake("ready", sync);
    let start = Instant::now();
    *shared.deadline.lock().unwrap() = Some(start + Duration::from_secs_f64(seconds));
    shared.go.wait();
    shared.stopped.wait();
    let elapsed = start.elapsed().as_secs_f64();
    handshake("end", sync);
    shared.release.wait();

    let mut all = Stats::default();
    for worker in workers {
        let stats = worker.join().expect("a load thread panicked");
        all.latencies.extend(stats.latencies);
        all.errors += stats.errors;
        all.stalled += stats.stalled;
    }
    if !latencies_path.is_empty() {
        let bytes: Vec<u8> = all.latencies.iter().flat_map(|l| l.to_le_bytes()).collect();
        if let Err(e) = std::fs::write(&latencies_path, bytes) {
            eprintln!("load_client: cannot write {latencies_path}: {e}");
        }
    }
    all.latencies.sort_unstable();
    println!(
        "round_trips={} seconds={elapsed:.4} p50_us={} p99_us={} errors={} connections={connections} stalled={}",
        all.latencies.len(),
        percentile(&all.latencies, 0.50),
        percentile(&all.latencies, 0.99),
        all.errors,
        all.stalled,
    );
}

/// Prints `word`; with `sync`, waits for a line (or EOF) on stdin.
fn handshake(word: &str, sync: bool) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{word}");
    let _ = out.flush();
    if sync {
        let _ = io::stdin().lock().read_line(&mut String::new());
    }
}

/// One connection's state.
struct Conn {
    stream: TcpStream,
    message: Vec<u8>,
    reply: Vec<u8>,
    /// Reply bytes received so far.
    got: usize,
    /// Request bytes written so far (== size once sent).
    put: usize,
    sent: Instant,
    completed: u64,
}

/// Connections are opened in batches of this many per thread, each batch
/// doing one warm-up round trip (so the server has accepted it) before the
/// next: at most `threads * BATCH` (100 by default) handshakes wait in the
/// server's accept queue, under std's and tokio's backlog of 128 (an
/// overflow drops the SYN and costs the client a 1 s retransmit).
const BATCH: usize = 50;
/// A batch's warm-up round trips must finish within this.
const WARM_UP: Duration = Duration::from_secs(10);
/// Errors printed per thread (all are counted).
const PRINTED_ERRORS: u64 = 5;

/// One thread's connections.
struct Load {
    poller: Poller,
    waiter: Waiter,
    conns: Vec<Option<Conn>>,
    stats: Stats,
}

/// Opens the connections `ids`, warms them up, then runs round trips on
/// them until the deadline.
fn worker(
    addr: SocketAddr,
    ids: std::ops::Range<usize>,
    size: usize,
    connect_by: Instant,
    shared: &Shared,
) -> Stats {
    let mut load = Load {
        poller: Poller::new().expect("create a poller"),
        waiter: Waiter::new(),
        conns: Vec::with_capacity(ids.len()),
        stats: Stats {
            latencies: Vec::with_capacity(1 << 20),
            ..Stats::default()
        },
    };
    let total = ids.len();
    for id in ids {
        let key = load.conns.len();
        let conn = if Instant::now() < connect_by {
            connect(addr, &load.poller, key, id, size)
        } else {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connect phase too long",
            ))
        };
        match conn {
            Ok(conn) => load.conns.push(Some(conn)),
            Err(e) => {
                load.conns.push(None);
                count_error(&mut load.stats, key, "connect", &e);
            }
        }
        let opened = load.conns.len();
        if opened % BATCH == 0 || opened == total {
            load.warm_up((opened - 1) / BATCH * BATCH..opened, connect_by);
        }
    }

    shared.connected.wait();
    shared.go.wait();
    let deadline = shared.deadline.lock().unwrap().expect("deadline set");
    load.stats.latencies.clear();
    let now = Instant::now();
    for key in 0..load.conns.len() {
        if let Some(conn) = &mut load.conns[key] {
            conn.completed = 0;
        }
        load.start(key, now);
    }
    load.drive(deadline, true, |_| false);

    shared.stopped.wait();
    shared.release.wait();
    for conn in load.conns.into_iter().flatten() {
        load.stats.stalled += u64::from(conn.completed == 0);
        let _ = load.poller.delete(&conn.stream);
    }
    load.stats
}

impl Load {
    /// One round trip on each connection of `batch`; those that fail or do
    /// not finish within [`WARM_UP`] (nor by `connect_by`) are errors and
    /// closed.
    fn warm_up(&mut self, batch: std::ops::Range<usize>, connect_by: Instant) {
        let now = Instant::now();
        for key in batch.clone() {
            self.start(key, now);
        }
        let done = |conns: &[Option<Conn>]| {
            conns[batch.clone()]
                .iter()
                .flatten()
                .all(|c| c.completed > 0)
        };
        if !self.drive((now + WARM_UP).min(connect_by), false, done) {
            for key in batch {
                if self.conns[key].as_ref().is_some_and(|c| c.completed == 0) {
                    let e = io::Error::new(io::ErrorKind::TimedOut, "no echo");
                    fail(&mut self.conns, key, &self.poller, &mut self.stats, &e);
                }
            }
        }
    }

    /// Sends a request on connection `key` (if still open).
    fn start(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(key).and_then(Option::as_mut) else {
            return;
        };
        if let Err(e) = start(conn, key, now, &self.poller) {
            fail(&mut self.conns, key, &self.poller, &mut self.stats, &e);
        }
    }

    /// Handles readiness events until `deadline` or until `done` (checked
    /// before each wait; returns whether it became true). With `again`, a
    /// completed round trip starts the next one.
    fn drive(
        &mut self,
        deadline: Instant,
        again: bool,
        done: impl Fn(&[Option<Conn>]) -> bool,
    ) -> bool {
        loop {
            if done(&self.conns) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let ready = self
                .waiter
                .wait(&self.poller, deadline - now)
                .expect("wait for events");
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            for (key, readable, writable) in ready {
                let Some(conn) = self.conns.get_mut(key).and_then(Option::as_mut) else {
                    continue;
                };
                let result = match on_event(conn, key, readable, writable, now, &self.poller) {
                    Ok(Some(latency)) => {
                        self.stats.latencies.push(latency);
                        match again {
                            true => start(conn, key, now, &self.poller),
                            false => Ok(()),
                        }
                    }
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    fail(&mut self.conns, key, &self.poller, &mut self.stats, &e);
                }
            }
        }
    }
}

/// Counts an error; prints the first few.
fn count_error(stats: &mut Stats, key: usize, what: &str, error: &io::Error) {
    stats.errors += 1;
    if stats.errors <= PRINTED_ERRORS {
        eprintln!("load_client: connection {key}: {what}: {error}");
    } else if stats.errors == PRINTED_ERRORS + 1 {
        eprintln!("load_client: more errors (counted, not printed)");
    }
}

/// Counts an error on connection `key` and closes it.
fn fail(
    conns: &mut [Option<Conn>],
    key: usize,
    poller: &Poller,
    stats: &mut Stats,
    error: &io::Error,
) {
    count_error(stats, key, "round trip", error);
    if let Some(conn) = conns[key].take() {
        let _ = poller.delete(&conn.stream);
    }
}

fn connect(
    addr: SocketAddr,
    poller: &Poller,
    key: usize,
    id: usize,
    size: usize,
) -> io::Result<Conn> {
    let stream = TcpStream::connect_timeout(&addr, CONNECT_ONE)?;
    stream.set_nodelay(true)?;
    stream.set_nonblocking(true)?;
    // SAFETY: the stream is deleted from the poller before it is dropped.
    unsafe { poller.add_with_mode(&stream, Event::readable(key), PollMode::Level)? };
    Ok(Conn {
        stream,
        message: (0..size).map(|i| (id * 7 + i) as u8).collect(),
        reply: vec![0; size],
        got: 0,
        put: size,
        sent: Instant::now(),
        completed: 0,
    })
}

/// Sends the next request.
fn start(conn: &mut Conn, key: usize, now: Instant, poller: &Poller) -> io::Result<()> {
    conn.got = 0;
    conn.put = 0;
    conn.sent = now;
    write_request(conn, key, poller, false)
}

/// Writes what is left of the request. `waiting`: the connection is
/// registered for writability (a previous write was short).
fn write_request(conn: &mut Conn, key: usize, poller: &Poller, waiting: bool) -> io::Result<()> {
    while conn.put < conn.message.len() {
        match conn.stream.write(&conn.message[conn.put..]) {
            Ok(n) => conn.put += n,
            Err(e) if would_block(&e) && waiting => return Ok(()),
            Err(e) if would_block(&e) => {
                let interest = Event::writable(key);
                return poller.modify_with_mode(&conn.stream, interest, PollMode::Level);
            }
            Err(e) => return Err(e),
        }
    }
    if waiting {
        poller.modify_with_mode(&conn.stream, Event::readable(key), PollMode::Level)?;
    }
    Ok(())
}

/// A readiness event: finish the request, or read the reply. Returns the
/// round trip's latency (µs) when a complete, correct reply is in.
fn on_event(
    conn: &mut Conn,
    key: usize,
    readable: bool,
    writable: bool,
    now: Instant,
    poller: &Poller,
) -> io::Result<Option<u32>> {
    let size = conn.message.len();
    if conn.put < size {
        if writable {
            write_request(conn, key, poller, true)?;
        }
        return Ok(None);
    }
    if !readable {
        return Ok(None);
    }
    match conn.stream.read(&mut conn.reply[conn.got..]) {
        Ok(0) => {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed",
            ))
        }
        Ok(n) => conn.got += n,
        Err(e) if would_block(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    if conn.got < size {
        return Ok(None);
    }
    if conn.reply != conn.message {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "wrong reply"));
    }
    let micros = now.saturating_duration_since(conn.sent).as_micros();
    conn.completed += 1;
    Ok(Some(u32::try_from(micros).unwrap_or(u32::MAX)))
}

/// Waits for readiness: `epoll_wait` on the poller's own fd on Linux (as
/// coro's reactor does; `Poller::wait` adds two syscalls per wait), the
/// poller's `wait` elsewhere. Yields `(key, readable, writable)`.
#[cfg(target_os = "linux")]
struct Waiter(Vec<libc::epoll_event>);

#[cfg(target_os = "linux")]
impl Waiter {
    fn new() -> Waiter {
        Waiter(vec![libc::epoll_event { events: 0, u64: 0 }; 1024])
    }

    fn wait(
        &mut self,
        poller: &Poller,
        timeout: Duration,
    ) -> io::Result<impl Iterator<Item = (usize, bool, bool)> + '_> {
        use std::os::fd::AsRawFd;
        let ms = timeout.as_millis() + u128::from(timeout.subsec_nanos() % 1_000_000 != 0);
        let ms = i32::try_from(ms).unwrap_or(i32::MAX);
        // SAFETY: the buffer holds 1024 writable `epoll_event`s; the fd is
        // the poller's, alive while `poller` is borrowed.
        let n = unsafe { libc::epoll_wait(poller.as_raw_fd(), self.0.as_mut_ptr(), 1024, ms) };
        let n = match n {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => 0,
            -1 => return Err(io::Error::last_os_error()),
            n => n as usize,
        };
        Ok(self.0[..n].iter().map(|event| {
            let (key, flags) = (event.u64 as usize, event.events as i32);
            let readable = flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) != 0;
            let writable = flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0;
            (key, readable, writable)
        }))
    }
}

#[cfg(not(target_os = "linux"))]
struct Waiter(polling::Events);

#[cfg(not(target_os = "linux"))]
impl Waiter {
    fn new() -> Waiter {
        Waiter(polling::Events::new())
    }

    fn wait(
        &mut self,
        poller: &Poller,
        timeout: Duration,
    ) -> io::Result<impl Iterator<Item = (usize, bool, bool)> + '_> {
        self.0.clear();
        poller.wait(&mut self.0, Some(timeout))?;
        Ok(self.0.iter().map(|e| (e.key, e.readable, e.writable)))
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// The `p` quantile of `sorted` (nearest rank); 0 when empty.
fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
