//! 500 concurrent clients for the uppercase echo server, as tasks instead
//! of threads.
//!
//! The Python lesson starts 500 client threads:
//!
//! ```python
//! import socket, threading
//!
//! def client(i):
//!     with socket.create_connection(("127.0.0.1", 8765)) as sock:
//!         message = f"hello from client {i}".encode()
//!         sock.sendall(message)
//!         reply = sock.recv(1024)
//!         assert reply == message.upper()
//!
//! threads = [threading.Thread(target=client, args=(i,)) for i in range(500)]
//! for t in threads: t.start()
//! for t in threads: t.join()
//! ```
//!
//! Here each client is a `coro::spawn`ed task: 500 tasks cost 500 small
//! heap objects on a few worker threads, not 500 OS threads with their own
//! stacks. `Thread.start` is `coro::spawn`, `Thread.join` is
//! `coro::task::join_all`, and the blocking `sendall`/`recv` become
//! `write_all(..).await`/`read_exact(..).await`, which yield to the other
//! tasks while the socket is not ready.
//!
//! With `--addr` it talks to a running `echo_server`; without it, it starts
//! an echo server of its own in this process first, so it runs standalone.
//! Each client sends `--messages` messages on its connection and checks
//! every reply.
//!
//! ```text
//! cargo run --example echo_client
//! cargo run --example echo_server &
//! cargo run --example echo_client -- --addr 127.0.0.1:8765 --clients 1000 --messages 10
//! ```

#[path = "common/args.rs"]
mod args;

use std::net::SocketAddr;
use std::time::Instant;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: echo_client [--addr HOST:PORT (start a server in this process)] \
                     [--clients N (500)] [--messages N (1)]";

/// One client: connect, send `messages` messages, check that each comes back
/// in uppercase. Returns how many replies were right.
async fn client(i: usize, addr: SocketAddr, messages: usize) -> std::io::Result<usize> {
    let mut sock = TcpStream::connect(addr).await?;
    let message = format!("hello from client {i}");
    let expected = message.to_ascii_uppercase();
    let mut reply = vec![0u8; message.len()];
    for _ in 0..messages {
        sock.write_all(message.as_bytes()).await?; // sock.sendall(message)
                                                   // TCP is a byte stream: a reply may arrive in pieces, so read until
                                                   // we have as many bytes as we sent (Python's recv(1024) just hopes).
        sock.read_exact(&mut reply).await?;
        if reply != expected.as_bytes() {
            let got = String::from_utf8_lossy(&reply);
            return Err(std::io::Error::other(format!(
                "client {i}: expected {expected:?}, got {got:?}"
            )));
        }
    }
    Ok(messages)
}

/// The in-process echo server used when no `--addr` is given: the same
/// one-task-per-connection loop as `examples/echo_server.rs`.
async fn serve(listener: TcpListener) {
    while let Ok((mut stream, _)) = listener.accept().await {
        coro::spawn(async move {
            let mut buf = [0u8; 1024];
            // Until the client closes (0 bytes) or the connection fails.
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                buf[..n].make_ascii_uppercase();
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let clients: usize = args.get("clients", 500);
    let messages: usize = args.get("messages", 1);

    let addr: SocketAddr = match args.get("addr", String::new()) {
        addr if addr.is_empty() => {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            coro::spawn(serve(listener)); // detached: it serves until we exit
            println!("no --addr given: started an echo server in this process");
            addr
        }
        addr => coro::net::lookup_host(addr.as_str())
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| {
                eprintln!("echo_client: cannot resolve {addr:?}\n{USAGE}");
                std::process::exit(2);
            }),
    };

    let start = Instant::now();
    // for t in threads: t.start()
    let tasks: Vec<_> = (0..clients)
        .map(|i| coro::spawn(client(i, addr, messages)))
        .collect();
    // for t in threads: t.join()
    let mut ok = 0;
    let mut errors = 0;
    for result in coro::task::join_all(tasks).await {
        match result.expect("a client task panicked") {
            Ok(replies) => ok += replies,
            Err(error) => {
                eprintln!("echo_client: {error}");
                errors += 1;
            }
        }
    }
    let elapsed = start.elapsed();

    if errors == 0 {
        println!("{clients} clients: {ok} replies ok");
    } else {
        println!("{clients} clients: {ok} replies ok, {errors} clients failed");
    }
    println!("elapsed: {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    if errors > 0 {
        std::process::exit(1);
    }
}
