//! `coro::net::TcpSocket`: options before bind, `SO_REUSEPORT` listeners
//! sharing a port, `connect` errors with their OS cause, and IPv6.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpSocket, TcpStream};

fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Two listeners with `SO_REUSEPORT` bind one port, and the kernel hands
/// connections to both: with 64 connections from 64 source ports, each
/// listener gets some (the chance that the hash sends all to one is 2^-63).
#[coro::test]
async fn reuseport_listeners_share_a_port_and_both_accept() {
    let first = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = reuseport_listener(addr).unwrap();
    assert_eq!(second.local_addr().unwrap(), addr);

    let counts = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    for (listener, count) in [first, second].into_iter().zip(counts.iter().cloned()) {
        coro::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                coro::spawn(async move {
                    // Tells the client it was accepted, then holds the connection.
                    stream.write_all(b"!").await.unwrap();
                    let mut rest = Vec::new();
                    stream.read_to_end(&mut rest).await.unwrap();
                });
            }
        });
    }
    let mut clients = Vec::new();
    for _ in 0..64 {
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut byte = [0];
        client.read_exact(&mut byte).await.unwrap();
        assert_eq!(&byte, b"!");
        clients.push(client);
    }
    let (a, b) = (
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
    );
    assert_eq!(a + b, 64);
    assert!(
        a > 0 && b > 0,
        "one listener got every connection: {a} + {b}"
    );
}

/// Without `SO_REUSEPORT` a second bind fails with the OS's `EADDRINUSE`.
#[coro::test]
async fn a_taken_port_is_addr_in_use() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    let error = socket.bind(listener.local_addr().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse, "{error}");
    assert_eq!(error.raw_os_error(), Some(libc::EADDRINUSE));
}

/// Connecting to a port where nothing listens is `ConnectionRefused`, with
/// the OS error kept.
#[coro::test]
async fn connect_to_a_closed_port_is_refused() {
    // Bound but not listening: the port is ours, and nobody accepts on it.
    let reserved = TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = reserved.local_addr().unwrap();
    let error = TcpSocket::new_v4()
        .unwrap()
        .connect(addr)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    assert_eq!(error.raw_os_error(), Some(libc::ECONNREFUSED));
}

/// Options set on the socket carry over to the connected stream; a socket
/// bound before `connect` uses that local address.
#[coro::test]
async fn connect_keeps_options_and_local_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_nodelay(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let local = socket.local_addr().unwrap();
    let mut stream = socket
        .connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    assert!(stream.nodelay().unwrap());
    assert_eq!(stream.local_addr().unwrap(), local);
    let (mut accepted, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, local);
    stream.write_all(b"ping").await.unwrap();
    let mut buf = [0; 4];
    accepted.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
}

/// IPv6 on `::1`, when the kernel has it. Without IPv6 the test prints why
/// it did not run instead of passing silently.
#[coro::test]
async fn ipv6_loopback_listen_and_connect() {
    let socket = match TcpSocket::new_v6() {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("SKIPPED ipv6_loopback_listen_and_connect: no IPv6 sockets here: {error}");
            return;
        }
    };
    if let Err(error) = socket.bind("[::1]:0".parse().unwrap()) {
        eprintln!("SKIPPED ipv6_loopback_listen_and_connect: cannot bind [::1]: {error}");
        return;
    }
    let listener = socket.listen(16).unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.is_ipv6());
    let mut client = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
    let (mut server, peer) = listener.accept().await.unwrap();
    assert!(peer.ip().is_loopback() && peer.is_ipv6(), "{peer}");
    client.write_all(b"six").await.unwrap();
    let mut buf = [0; 3];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"six");
}
