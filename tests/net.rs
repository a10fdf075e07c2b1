//! `coro::net`: echo round trips over TCP, UDP and Unix sockets, a thousand
//! concurrent connections, the OS errors users rely on (EOF, reset, refused,
//! invalid input), splitting and sharing streams, cancellation, sockets
//! polled by other executors (futures, tokio) and next to another reactor
//! (async-io). (Running out of descriptors, and a runtime dropped with
//! thousands of pending sockets, are in `net_emfile.rs`.)
//!
//! Loopback only. Durations are hang guards (`bounded`), never assertions.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{
    lookup_host, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};
use coro::time::{sleep, timeout};
use futures::StreamExt;

/// A hang guard: a bug fails the test after 30 s instead of hanging it.
async fn bounded<F: Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(30), future)
        .await
        .expect("the test hung (30 s guard)")
}

/// `len` pseudo-random bytes determined by `seed` (xorshift).
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A TCP echo server on a free loopback port; its accept loop survives
/// errors by backing off (the documented pattern).
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    coro::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    coro::spawn(async move {
                        let _ = coro::io::copy(&stream, &mut &stream).await;
                    });
                }
                Err(_) => sleep(Duration::from_millis(1)).await,
            }
        }
    });
    addr
}

/// Writes `data` and reads back as many bytes, concurrently (so payloads
/// larger than the socket buffers cannot deadlock).
async fn round_trip<S>(stream: &S, data: &[u8]) -> Vec<u8>
where
    for<'a> &'a S: coro::io::AsyncRead + coro::io::AsyncWrite + Unpin,
{
    let mut got = vec![0; data.len()];
    let mut reader = stream;
    let mut writer = stream;
    let (written, read) = futures::join!(writer.write_all(data), reader.read_exact(&mut got));
    written.unwrap();
    read.unwrap();
    got
}

/// A fresh Unix socket path for this process and `name`.
fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("coro-net-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

async fn tcp_echo() {
    let addr = echo_server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    for (seed, len) in [(1, 1), (2, 1000), (3, 256 * 1024)] {
        let data = pattern(seed, len);
        assert_eq!(round_trip(&stream, &data).await, data, "{len} bytes");
    }
}

#[coro::test]
async fn tcp_echo_round_trip() {
    bounded(tcp_echo()).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_echo_round_trip_multi_thread() {
    bounded(tcp_echo()).await;
}

#[coro::test]
async fn udp_echo_round_trip() {
    bounded(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        coro::spawn(async move {
            let mut buf = vec![0; 65_536];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = vec![0; 65_536];
        for (i, len) in [0, 1, 100, 1472, 8192, 60_000].into_iter().enumerate() {
            let data = pattern(i as u64, len);
            assert_eq!(client.send_to(&data, server_addr).await.unwrap(), len);
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &data[..], "datagram of {len} bytes");
        }
        // The connected forms.
        client.connect(server_addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server_addr);
        client.send(b"connected").await.unwrap();
        let mut peeked = [0; 16];
        assert_eq!(
            client.peek_from(&mut peeked).await.unwrap(),
            (9, server_addr)
        );
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
    })
    .await;
}

#[coro::test]
async fn unix_echo_round_trip() {
    let path = socket_path("echo");
    bounded(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        coro::spawn(async move {
            let mut incoming = listener.incoming();
            while let Some(stream) = incoming.next().await {
                let stream = stream.unwrap();
                coro::spawn(async move {
                    let _ = coro::io::copy(&stream, &mut &stream).await;
                });
            }
        });
        let stream = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            stream.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        for (seed, len) in [(7, 3), (8, 300_000)] {
            let data = pattern(seed, len);
            assert_eq!(round_trip(&stream, &data).await, data);
        }
        // Owned halves of a pair, from two tasks.
        let (a, b) = UnixStream::pair().unwrap();
        let (mut read, mut write) = a.into_split();
        let echo = coro::spawn(async move {
            let _ = coro::io::copy(&b, &mut &b).await;
        });
        let data = pattern(9, 100_000);
        let expected = data.clone();
        let writer = coro::spawn(async move {
            write.write_all(&data).await.unwrap();
            // Dropping the write half shuts down writing: the echo ends.
        });
        let mut got = Vec::new();
        read.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, expected);
        writer.await.unwrap();
        echo.await.unwrap();
    })
    .await;
    std::fs::remove_file(&path).unwrap();
}

#[coro::test]
async fn unix_datagram_echo_round_trip() {
    let path = socket_path("datagram");
    bounded(async {
        let server = UnixDatagram::bind(&path).unwrap();
        coro::spawn(async move {
            let mut buf = vec![0; 65_536];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                let reply_to = from.as_pathname().expect("clients bind a path").to_owned();
                server.send_to(&buf[..n], reply_to).await.unwrap();
            }
        });
        let client_path = socket_path("datagram-client");
        let client = UnixDatagram::bind(&client_path).unwrap();
        client.connect(&path).unwrap();
        let mut buf = vec![0; 65_536];
        for (i, len) in [1, 5000, 60_000].into_iter().enumerate() {
            let data = pattern(20 + i as u64, len);
            client.send(&data).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &data[..], "datagram of {len} bytes");
        }
        std::fs::remove_file(&client_path).unwrap();
    })
    .await;
    std::fs::remove_file(&path).unwrap();
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_echo_their_own_bytes() {
    bounded(async {
        let addr = echo_server().await;
        let clients: Vec<_> = (0..1000u64)
            .map(|i| {
                coro::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    let sent = pattern(i, 4096);
                    stream.write_all(&sent).await?;
                    let mut got = vec![0; sent.len()];
                    stream.read_exact(&mut got).await?;
                    io::Result::Ok(got == sent)
                })
            })
            .collect();
        for (i, client) in clients.into_iter().enumerate() {
            match client.await.unwrap() {
                Ok(same) => assert!(same, "connection {i} got different bytes back"),
                Err(e) => panic!("connection {i}: {e}"),
            }
        }
    })
    .await;
}

/// A connected pair: (client, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

#[coro::test]
async fn reading_from_a_closed_peer_returns_zero() {
    bounded(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"last words").await.unwrap();
        drop(client);
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        assert_eq!(server.read(&mut [0; 16]).await.unwrap(), 0, "EOF stays EOF");
    })
    .await;
}

#[coro::test]
async fn a_reset_peer_gives_connection_reset() {
    bounded(async {
        // On read.
        let (mut client, server) = tcp_pair().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server); // linger 0: close sends RST
        let err = client.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ECONNRESET),
            "the OS cause is kept"
        );

        // On write: writes succeed until the RST is seen, then fail.
        let (mut client, server) = tcp_pair().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let err = loop {
            if let Err(e) = client.write_all(&[0; 1024]).await {
                break e;
            }
            coro::yield_now().await;
        };
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    })
    .await;
}

#[coro::test]
async fn connecting_to_a_closed_port_is_refused() {
    bounded(async {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    })
    .await;
}

#[coro::test]
async fn invalid_addresses_are_invalid_input() {
    bounded(async {
        for bad in ["not an address", "127.0.0.1", "127.0.0.1:port", "[::1]"] {
            let kind = |r: io::Result<()>| r.unwrap_err().kind();
            let invalid = io::ErrorKind::InvalidInput;
            assert_eq!(
                kind(TcpStream::connect(bad).await.map(drop)),
                invalid,
                "{bad}"
            );
            assert_eq!(
                kind(TcpListener::bind(bad).await.map(drop)),
                invalid,
                "{bad}"
            );
            assert_eq!(kind(UdpSocket::bind(bad).await.map(drop)), invalid, "{bad}");
            assert_eq!(kind(lookup_host(bad).await.map(drop)), invalid, "{bad}");
        }
    })
    .await;
}

#[coro::test]
async fn lookup_host_resolves_literals_and_names() {
    bounded(async {
        let addrs: Vec<_> = lookup_host("127.0.0.1:80").await.unwrap().collect();
        assert_eq!(addrs, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
        let addrs: Vec<_> = lookup_host(("localhost", 8080)).await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 8080));
        // A name works for bind and connect too.
        let listener = TcpListener::bind("localhost:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let host = listener.local_addr().unwrap().ip().to_string();
        TcpStream::connect((host.as_str(), port)).await.unwrap();
    })
    .await;
}

#[coro::test]
async fn a_vectored_write_lands_all_bytes_in_order() {
    bounded(async {
        let (mut client, mut server) = tcp_pair().await;
        let parts = [
            pattern(1, 10),
            pattern(2, 70_000),
            pattern(3, 1),
            pattern(4, 200_000),
        ];
        let expected = parts.concat();
        let reader = coro::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let mut slices = &mut slices[..];
        while !slices.is_empty() {
            let n = client.write_vectored(slices).await.unwrap();
            assert!(n > 0);
            IoSlice::advance_slices(&mut slices, n);
        }
        client.close().await.unwrap();
        assert_eq!(reader.await.unwrap(), expected);
    })
    .await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_work_from_two_tasks() {
    bounded(async {
        let stream = TcpStream::connect(echo_server().await).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let data = pattern(5, 1 << 20);
        let expected = data.clone();
        let writer = coro::spawn(async move {
            write.write_all(&data).await.unwrap();
            write
        });
        let reader = coro::spawn(async move {
            let mut got = vec![0; expected.len()];
            read.read_exact(&mut got).await.unwrap();
            assert!(got == expected, "the echo came back different");
            read
        });
        let (write, read) = (writer.await.unwrap(), reader.await.unwrap());
        let stream = read.reunite(write).expect("halves of one stream");
        assert!(stream.peer_addr().is_ok());
    })
    .await;
}

#[coro::test]
async fn a_shared_reference_reads_and_writes() {
    bounded(async {
        let (client, server) = tcp_pair().await;
        let data = pattern(6, 500_000);
        let echo = async {
            let _ = coro::io::copy(&server, &mut &server).await;
        };
        let talk = async {
            let got = round_trip(&client, &data).await;
            client.shutdown(Shutdown::Write).unwrap();
            got
        };
        let ((), got) = futures::join!(echo, talk);
        assert_eq!(got, data);
    })
    .await;
}

#[coro::test]
async fn shutdown_write_makes_the_peer_read_eof() {
    bounded(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        assert_eq!(request, b"request");
        // Half-closed: the other direction still works.
        server.write_all(b"response").await.unwrap();
        server.close().await.unwrap(); // futures-io close = shutdown(Write)
        let mut response = Vec::new();
        client.read_to_end(&mut response).await.unwrap();
        assert_eq!(response, b"response");
    })
    .await;
}

#[coro::test]
async fn peek_leaves_the_data_in_place() {
    bounded(async {
        let (mut client, mut server) = tcp_pair().await;
        client.write_all(b"peekaboo").await.unwrap();
        let mut buf = [0; 8];
        let mut seen = 0;
        while seen < 8 {
            seen = server.peek(&mut buf).await.unwrap();
        }
        let mut read = [0; 8];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!((&buf, &read), (b"peekaboo", b"peekaboo"));
    })
    .await;
}

#[coro::test]
async fn a_dropped_accept_leaves_the_listener_usable() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..3 {
            assert!(timeout(Duration::from_millis(5), listener.accept())
                .await
                .is_err());
        }
        // A half-polled accept dropped by hand.
        let mut accept = Box::pin(listener.accept());
        assert!(poll_fn(|cx| std::task::Poll::Ready(accept.as_mut().poll(cx).is_pending())).await);
        drop(accept);
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.local_addr().unwrap(), addr);
    })
    .await;
}

#[coro::test]
async fn a_connect_cancelled_by_timeout_closes_its_socket() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The handshake needs a turn of the reactor, so a zero timeout
        // fires first and drops the connect future (and its socket).
        let cancelled = timeout(Duration::ZERO, TcpStream::connect(addr)).await;
        assert!(cancelled.is_err(), "a zero timeout beat the connect");
        // The kernel finished that handshake; its server side reads EOF
        // (or a reset), because the client socket is closed.
        // (On loopback the handshake ends inside `connect(2)`; should it
        // not have, there is no orphan to accept.)
        if let Ok(accepted) = timeout(Duration::from_secs(5), listener.accept()).await {
            let (mut orphan, _) = accepted.unwrap();
            match orphan.read(&mut [0; 1]).await {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
                other => panic!("the cancelled connect's socket is still open: {other:?}"),
            }
        }
        // And connecting still works.
        let _client = timeout(Duration::from_secs(30), TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        listener.accept().await.unwrap();
    })
    .await;
}

#[coro::test]
async fn std_sockets_are_adopted_and_given_back() {
    bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"via std").await.unwrap();
        let mut server = server.into_std().unwrap();
        server.set_nonblocking(false).unwrap();
        let mut buf = [0; 7];
        std::io::Read::read_exact(&mut server, &mut buf).unwrap();
        assert_eq!(&buf, b"via std");
        let std_listener = listener.into_std().unwrap();
        assert_eq!(std_listener.local_addr().unwrap(), addr);
        let udp = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        udp.set_broadcast(true).unwrap();
        assert!(udp.broadcast().unwrap());
    })
    .await;
}

/// A TCP echo exchange, for the executors below.
async fn echo_once() -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = async {
        let (stream, _) = listener.accept().await.unwrap();
        coro::io::copy(&stream, &mut &stream).await.unwrap();
    };
    let client = async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let got = round_trip(&stream, &pattern(11, 100_000)).await;
        stream.shutdown(Shutdown::Write).unwrap();
        got
    };
    futures::join!(server, client).1
}

#[test]
fn sockets_and_timers_work_under_futures_executor() {
    // No coro runtime: the sockets and `bounded`'s timer use the fallback
    // reactor, and host names resolve on a thread of their own.
    let got = futures::executor::block_on(bounded(echo_once()));
    assert_eq!(got, pattern(11, 100_000));
    let addrs = futures::executor::block_on(bounded(lookup_host("localhost:1"))).unwrap();
    assert!(addrs.into_iter().all(|a| a.ip().is_loopback()));
}

#[test]
fn sockets_and_sleeps_work_under_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let (got, slept) = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), async {
            let (mut client, mut server) = tcp_pair().await;
            let start = Instant::now();
            let reader = async {
                let mut buf = [0; 5];
                server.read_exact(&mut buf).await.unwrap();
                buf
            };
            let writer = async {
                sleep(Duration::from_millis(20)).await;
                client.write_all(b"tokio").await.unwrap();
            };
            let (got, ()) = futures::join!(reader, writer);
            (got, start.elapsed())
        })
        .await
        .expect("the test hung (30 s guard)")
    });
    assert_eq!(&got, b"tokio");
    assert!(slept >= Duration::from_millis(20));
}

#[coro::test]
async fn coro_tasks_await_async_io_sockets_and_timers() {
    bounded(async {
        use async_io::{Async, Timer};
        // An async-io listener, a coro client.
        let listener = Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let addr = listener.get_ref().local_addr().unwrap();
        let (accepted, client) = futures::join!(listener.accept(), TcpStream::connect(addr));
        let (mut smol_side, _) = accepted.unwrap();
        let mut coro_side = client.unwrap();
        coro_side.write_all(b"from coro").await.unwrap();
        let mut buf = [0; 9];
        smol_side.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from coro");
        // A coro listener, an async-io client.
        let coro_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let coro_addr = coro_listener.local_addr().unwrap();
        let (accepted, client) = futures::join!(
            coro_listener.accept(),
            Async::<std::net::TcpStream>::connect(coro_addr)
        );
        let (mut coro_server, _) = accepted.unwrap();
        let mut smol_client = client.unwrap();
        smol_client.write_all(b"from smol").await.unwrap();
        coro_server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from smol");
        // async-io's timer, woken by async-io's reactor thread.
        let start = Instant::now();
        Timer::after(Duration::from_millis(10)).await;
        assert!(start.elapsed() >= Duration::from_millis(10));
    })
    .await;
}
