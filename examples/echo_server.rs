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
//! ```

#[path = "common/args.rs"]
mod args;

use std::future::{poll_fn, Future};
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};
use coro::signal::unix::{signal, SignalKind};
use coro::task::{JoinError, JoinSet};
use futures::future::{select, Either};

const USAGE: &str = "usage: echo_server [--addr HOST:PORT (127.0.0.1:8765)] \
     [--max-connections N (serve forever)] [--grace-ms MS (5000)]";

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

/// What the accept loop wakes up for.
enum Event {
    Accepted(std::io::Result<(TcpStream, SocketAddr)>),
    /// A connection handler ended (its result, to check for panics).
    Finished(Result<(), JoinError>),
    /// A stop signal arrived: its name.
    Stop(&'static str),
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

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let addr: String = args.get("addr", "127.0.0.1:8765".to_owned());
    // 0 (the default) means no limit: serve forever.
    let max_connections: usize = args.get("max-connections", 0);
    let grace = Duration::from_millis(args.get("grace-ms", 5000));

    let listener = TcpListener::bind(addr.as_str())
        .await
        .unwrap_or_else(|error| {
            eprintln!("echo_server: cannot listen on {addr}: {error}");
            std::process::exit(1);
        });
    let local = listener.local_addr().expect("local_addr");
    // gevent.signal_handler(SIGINT / SIGTERM, server.stop). Installed before
    // the address is announced: from then on these signals stop the server
    // gracefully instead of killing it.
    let mut interrupt = signal(SignalKind::interrupt()).expect("listen for SIGINT");
    let mut terminate = signal(SignalKind::terminate()).expect("listen for SIGTERM");
    let mut stop = pin!(async {
        match select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
            Either::Left(_) => "SIGINT",
            Either::Right(_) => "SIGTERM",
        }
    });
    println!("listening on {local}");
    // Someone (a test, a script) may be waiting for this line through a pipe.
    std::io::stdout().flush().expect("flush stdout");

    let mut served = 0;
    // One greenlet per connection, kept in a set so that a shutdown can wait
    // for them (and cancel the stragglers); finished ones are collected as
    // they end, so a server running for months does not pile them up.
    let mut connections = JoinSet::new();
    let stopped_by = loop {
        if max_connections > 0 && served == max_connections {
            break None;
        }
        let event = poll_fn(|cx| {
            if let Poll::Ready(name) = stop.as_mut().poll(cx) {
                return Poll::Ready(Event::Stop(name));
            }
            if let Poll::Ready(Some(result)) = connections.poll_join_next(cx) {
                return Poll::Ready(Event::Finished(result));
            }
            listener.poll_accept(cx).map(Event::Accepted)
        })
        .await;
        match event {
            Event::Accepted(Ok((stream, peer))) => {
                served += 1;
                connections.spawn(async move {
                    if let Err(error) = handle(stream).await {
                        eprintln!("echo_server: {peer}: {error}");
                    }
                });
            }
            // Out of file descriptors, or a client that gave up before we
            // accepted it: keep serving, as StreamServer does.
            Event::Accepted(Err(error)) => {
                eprintln!("echo_server: accept: {error}");
                coro::time::sleep(Duration::from_millis(10)).await;
            }
            Event::Finished(result) => {
                finished(result);
            }
            Event::Stop(name) => break Some(name),
        }
    };
    // Stop accepting: from here on new clients are refused.
    drop(listener);

    let Some(signal_name) = stopped_by else {
        // gevent.joinall(handlers): the last connections finish their echoes.
        while let Some(result) = connections.join_next().await {
            finished(result);
        }
        println!("served {served} connections");
        return;
    };
    let open = connections.len();
    eprintln!(
        "echo_server: {signal_name}: stopped accepting; waiting up to {} ms for {open} open connection(s)",
        grace.as_millis()
    );
    let (mut done, mut cancelled) = (0, 0);
    let drain = coro::time::timeout(grace, async {
        while let Some(result) = connections.join_next().await {
            finished(result);
            done += 1;
        }
    })
    .await;
    if drain.is_err() {
        // The grace period is over: cancel the connections still open.
        connections.abort_all();
        while let Some(result) = connections.join_next().await {
            if finished(result) {
                done += 1;
            } else {
                cancelled += 1;
            }
        }
    }
    println!(
        "stopped by {signal_name}: served {served} connections; {open} open at the signal: \
         {done} finished, {cancelled} cancelled after {} ms",
        grace.as_millis()
    );
}
