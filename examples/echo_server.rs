//! The uppercase echo server: one task per connection, like gevent's
//! `StreamServer` with one greenlet per client.
//!
//! The Python lesson:
//!
//! ```python
//! from gevent.server import StreamServer
//!
//! def handle(sock, address):            # runs in its own greenlet
//!     while True:
//!         data = sock.recv(1024)        # yields to the hub until data arrives
//!         if not data:
//!             break
//!         sock.sendall(data.upper())
//!     sock.close()
//!
//! StreamServer(("127.0.0.1", 8765), handle).serve_forever()
//! ```
//!
//! Here the accept loop is `TcpListener::accept().await`, each connection
//! gets its own `coro::spawn`ed task (the greenlet), and `read`/`write_all`
//! yield to the runtime while the socket is not ready, as gevent's patched
//! `recv`/`sendall` yield to the hub. Unlike gevent's one-threaded hub, the
//! tasks are spread over one worker thread per core.
//!
//! `--shards N` (N >= 1) is the seeds' closing lesson, "pair coroutines with
//! processes": one event loop per core, each with its own connections. The
//! runtime is then the thread-per-core flavor, and every shard accepts on a
//! listener of its own, all bound to the same address with `SO_REUSEPORT`
//! so that the kernel spreads new connections over them (as N gevent
//! processes sharing one port would). A connection lives and dies on the
//! shard that accepted it: its own run queue, its own epoll instance, no
//! work stealing. Without `--shards` (or with 0) it is the multi-thread
//! runtime with one listener, as above. The output is the same either way;
//! `--max-connections` counts the connections of all shards together.
//!
//! It prints `listening on ADDR` first (with `--addr 127.0.0.1:0` the OS
//! picks the port, and that line tells you which). It serves forever unless
//! `--max-connections N` is given: then it stops accepting after N
//! connections, waits for them to finish and prints `served N connections`.
//!
//! Ctrl-C (`SIGINT`) or `SIGTERM` stops it gracefully, as gevent's
//! `server.stop(timeout)` does: it stops accepting (new clients are
//! refused), lets the open connections finish for up to `--grace-ms`
//! milliseconds (5000 by default), cancels those still open after that,
//! prints a one-line summary and exits with status 0.
//!
//! Pair it with `echo_client`:
//!
//! ```text
//! cargo run --example echo_server
//! cargo run --example echo_client -- --addr 127.0.0.1:8765     # in another terminal
//! cargo run --example echo_server -- --addr 127.0.0.1:0 --max-connections 500
//! cargo run --release --example echo_server -- --shards 2   # one event loop per core
//! ```

#[path = "common/args.rs"]
mod args;

use std::future::{poll_fn, Future};
use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpSocket, TcpStream};
use coro::signal::unix::{signal, SignalKind};
use coro::sync::Event as StopEvent;
use coro::task::{JoinError, JoinSet};
use futures::future::{select, Either};

const USAGE: &str = "usage: echo_server [--addr HOST:PORT (127.0.0.1:8765)] \
     [--max-connections N (serve forever)] [--grace-ms MS (5000)] \
     [--shards N (0: multi-thread runtime, one listener)]";

/// `handle(sock, address)`: echo everything back in uppercase until the
/// client closes its side.
async fn handle(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?; // data = sock.recv(1024)
        if n == 0 {
            return Ok(()); // if not data: break
        }
        buf[..n].make_ascii_uppercase();
        stream.write_all(&buf[..n]).await?; // sock.sendall(data.upper())
    }
}

/// What every accept loop (one, or one per shard) shares.
struct Server {
    /// 0: no limit. Otherwise the connections of all loops together.
    max_connections: usize,
    /// Connections taken so far, by all loops.
    accepted: AtomicUsize,
    /// Shards whose listener listens (`--shards`).
    listening: AtomicUsize,
    /// Set when the loops must stop accepting: a signal, or the limit.
    stop: StopEvent,
    /// The signal that stopped the server; unset if the limit did.
    stopped_by: OnceLock<&'static str>,
    grace: Duration,
}

/// One accept loop's account of its connections.
#[derive(Default)]
struct Tally {
    served: usize,
    /// Open when the signal came, then finished in time or cancelled.
    open: usize,
    done: usize,
    cancelled: usize,
}

impl Tally {
    fn add(self, other: Tally) -> Tally {
        Tally {
            served: self.served + other.served,
            open: self.open + other.open,
            done: self.done + other.done,
            cancelled: self.cancelled + other.cancelled,
        }
    }
}

/// What the accept loop wakes up for.
enum Wake {
    Accepted(std::io::Result<(TcpStream, SocketAddr)>),
    /// A connection handler ended (its result, to check for panics).
    Finished(Result<(), JoinError>),
    Stop,
}

/// Whether a handler's end counts as finished (`true`) or cancelled; a
/// panic in a handler is a bug worth stopping for.
fn finished(result: Result<(), JoinError>) -> bool {
    match result {
        Ok(()) => true,
        Err(error) if error.is_cancelled() => false,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// `StreamServer.serve_forever` on one listener, until the limit or a stop
/// signal; then the graceful stop. `label` names the shard in messages.
async fn serve(listener: TcpListener, server: &Server, label: &str) -> Tally {
    let mut tally = Tally::default();
    // One greenlet per connection, kept in a set so that a shutdown can wait
    // for them (and cancel the stragglers); finished ones are collected as
    // they end, so a server running for months does not pile them up. On a
    // shard, `spawn` keeps each connection's task on this shard.
    let mut connections = JoinSet::new();
    let mut stop = pin!(server.stop.wait());
    loop {
        let wake = poll_fn(|cx| {
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Stop);
            }
            if let Poll::Ready(Some(result)) = connections.poll_join_next(cx) {
                return Poll::Ready(Wake::Finished(result));
            }
            listener.poll_accept(cx).map(Wake::Accepted)
        })
        .await;
        match wake {
            Wake::Accepted(Ok((stream, peer))) => {
                let ticket = server.accepted.fetch_add(1, Ordering::SeqCst);
                let limit = server.max_connections;
                if limit > 0 && ticket >= limit {
                    break; // another shard took the last one: refuse this
                }
                tally.served += 1;
                connections.spawn(async move {
                    if let Err(error) = handle(stream).await {
                        eprintln!("echo_server: {peer}: {error}");
                    }
                });
                if limit > 0 && ticket + 1 == limit {
                    server.stop.set(); // the other shards stop accepting too
                    break;
                }
            }
            // Out of file descriptors, or a client that gave up before we
            // accepted it: keep serving, as StreamServer does.
            Wake::Accepted(Err(error)) => {
                eprintln!("echo_server: accept: {error}");
                coro::time::sleep(Duration::from_millis(10)).await;
            }
            Wake::Finished(result) => {
                finished(result);
            }
            Wake::Stop => break,
        }
    }
    // Stop accepting: from here on new clients are refused.
    drop(listener);

    let Some(signal_name) = server.stopped_by.get() else {
        // gevent.joinall(handlers): the last connections finish their echoes.
        while let Some(result) = connections.join_next().await {
            finished(result);
        }
        return tally;
    };
    tally.open = connections.len();
    eprintln!(
        "echo_server: {label}{signal_name}: stopped accepting; waiting up to {} ms for {} open \
         connection(s)",
        server.grace.as_millis(),
        tally.open
    );
    let drain = coro::time::timeout(server.grace, async {
        while let Some(result) = connections.join_next().await {
            finished(result);
            tally.done += 1;
        }
    })
    .await;
    if drain.is_err() {
        // The grace period is over: cancel the connections still open.
        connections.abort_all();
        while let Some(result) = connections.join_next().await {
            if finished(result) {
                tally.done += 1;
            } else {
                tally.cancelled += 1;
            }
        }
    }
    tally
}

/// One non-blocking socket per shard, all bound to `addr` with
/// `SO_REUSEPORT`: the first one on `addr` itself (port 0: the OS picks),
/// the others on the address it got. Each shard turns its socket into a
/// listener, which registers it with that shard's reactor.
fn bind_shard_sockets(addr: &str, shards: usize) -> std::io::Result<Vec<TcpSocket>> {
    let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "resolves to no address")
    })?;
    let mut bound = addr;
    let mut sockets = Vec::with_capacity(shards);
    for _ in 0..shards {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(bound)?;
        bound = socket.local_addr()?;
        sockets.push(socket);
    }
    Ok(sockets)
}

fn exit_cannot_listen(addr: &str, error: std::io::Error) -> ! {
    eprintln!("echo_server: cannot listen on {addr}: {error}");
    std::process::exit(1);
}

fn main() {
    let args = args::Args::parse(USAGE);
    let addr: String = args.get("addr", "127.0.0.1:8765".to_owned());
    // 0 (the default) means no limit: serve forever.
    let max_connections: usize = args.get("max-connections", 0);
    let grace = Duration::from_millis(args.get("grace-ms", 5000));
    let shards: usize = args.get("shards", 0);

    let runtime = match shards {
        0 => coro::Runtime::new(),
        n => coro::Runtime::builder()
            .thread_per_core()
            .worker_threads(n)
            .build(),
    }
    .expect("build the runtime");
    let server = Arc::new(Server {
        max_connections,
        accepted: AtomicUsize::new(0),
        listening: AtomicUsize::new(0),
        stop: StopEvent::new(),
        stopped_by: OnceLock::new(),
        grace,
    });

    // gevent.signal_handler(SIGINT / SIGTERM, server.stop). Installed before
    // the address is announced: from then on these signals stop the server
    // gracefully instead of killing it.
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        let interrupt = signal(SignalKind::interrupt()).expect("listen for SIGINT");
        let terminate = signal(SignalKind::terminate()).expect("listen for SIGTERM");
        (interrupt, terminate)
    });
    let on_signal = server.clone();
    runtime.spawn(async move {
        let name = match select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
            Either::Left(_) => "SIGINT",
            Either::Right(_) => "SIGTERM",
        };
        let _ = on_signal.stopped_by.set(name);
        on_signal.stop.set();
    });

    let tally = if shards == 0 {
        runtime.block_on(async {
            let listener = TcpListener::bind(addr.as_str())
                .await
                .unwrap_or_else(|error| exit_cannot_listen(&addr, error));
            announce(listener.local_addr().expect("local_addr"));
            serve(listener, &server, "").await
        })
    } else {
        let sockets = bind_shard_sockets(&addr, shards)
            .unwrap_or_else(|error| exit_cannot_listen(&addr, error));
        let local = sockets[0].local_addr().expect("local_addr");
        // Each shard takes its own socket out of the list.
        let sockets = Mutex::new(sockets.into_iter().map(Some).collect::<Vec<_>>());
        let server = server.clone();
        runtime
            .block_on_each(move |index| {
                let socket = sockets.lock().unwrap()[index]
                    .take()
                    .expect("one socket per shard");
                let server = server.clone();
                async move {
                    let listener = socket.listen(1024).unwrap_or_else(|error| {
                        eprintln!("echo_server: shard {index}: cannot listen: {error}");
                        std::process::exit(1);
                    });
                    // Announced once every shard listens: a client that
                    // connects right after the line is never refused.
                    if server.listening.fetch_add(1, Ordering::SeqCst) + 1 == shards {
                        announce(local);
                    }
                    serve(listener, &server, &format!("shard {index}: ")).await
                }
            })
            .into_iter()
            .fold(Tally::default(), Tally::add)
    };

    match server.stopped_by.get() {
        None => println!("served {} connections", tally.served),
        Some(signal_name) => println!(
            "stopped by {signal_name}: served {} connections; {} open at the signal: \
             {} finished, {} cancelled after {} ms",
            tally.served,
            tally.open,
            tally.done,
            tally.cancelled,
            grace.as_millis()
        ),
    }
}

/// Prints the address clients should use: the one line a test or a script
/// waits for through a pipe.
fn announce(local: SocketAddr) {
    println!("listening on {local}");
    std::io::stdout().flush().expect("flush stdout");
}
