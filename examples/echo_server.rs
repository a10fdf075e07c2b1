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
//! Pair it with `echo_client`:
//!
//! ```text
//! cargo run --example echo_server
//! cargo run --example echo_client -- --addr 127.0.0.1:8765     # in another terminal
//! cargo run --example echo_server -- --addr 127.0.0.1:0 --max-connections 500
//! ```

#[path = "common/args.rs"]
mod args;

use std::io::Write as _;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};

const USAGE: &str =
    "usage: echo_server [--addr HOST:PORT (127.0.0.1:8765)] [--max-connections N (serve forever)]";

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

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let addr: String = args.get("addr", "127.0.0.1:8765".to_owned());
    // 0 (the default) means no limit: serve forever.
    let max_connections: usize = args.get("max-connections", 0);

    let listener = TcpListener::bind(addr.as_str())
        .await
        .unwrap_or_else(|error| {
            eprintln!("echo_server: cannot listen on {addr}: {error}");
            std::process::exit(1);
        });
    let local = listener.local_addr().expect("local_addr");
    println!("listening on {local}");
    // Someone (a test, a script) may be waiting for this line through a pipe.
    std::io::stdout().flush().expect("flush stdout");

    let mut served = 0;
    let mut handlers = Vec::new();
    while max_connections == 0 || served < max_connections {
        match listener.accept().await {
            Ok((stream, peer)) => {
                served += 1;
                // One greenlet per connection.
                let handler = coro::spawn(async move {
                    if let Err(error) = handle(stream).await {
                        eprintln!("echo_server: {peer}: {error}");
                    }
                });
                // Serving forever, the handle is dropped, which detaches the
                // task (it keeps running, like a greenlet nobody joins). With
                // a limit, keep it to wait for the last clients below.
                if max_connections > 0 {
                    handlers.push(handler);
                }
            }
            // Out of file descriptors, or a client that gave up before we
            // accepted it: keep serving, as StreamServer does.
            Err(error) => {
                eprintln!("echo_server: accept: {error}");
                coro::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    // gevent.joinall(handlers): the last connections finish their echoes.
    for result in coro::task::join_all(handlers).await {
        result.expect("a connection handler panicked");
    }
    println!("served {served} connections");
}
