//! `coro::compat`: tokio-trait crates on coro sockets, with no tokio runtime
//! in the process (tokio is only a library of traits here), and futures-io
//! for tokio-io types.
#![cfg(feature = "tokio-io")]

use coro::compat::CompatExt;
use coro::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tokio_util::codec::{Framed, LinesCodec};

/// No tokio runtime exists on this thread: whatever ran, coro drove it.
fn assert_no_tokio_runtime() {
    assert!(tokio::runtime::Handle::try_current().is_err());
}

#[test]
fn tokio_util_frames_lines_over_a_coro_tcp_stream() {
    for flavor in ["current_thread", "multi_thread"] {
        let mut builder = coro::Runtime::builder();
        if flavor == "current_thread" {
            builder.current_thread();
        } else {
            builder.worker_threads(2);
        }
        let rt = builder.build().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // The server: a line in, the same line reversed out.
            let server = coro::spawn(async move {
                assert_no_tokio_runtime();
                let (stream, _) = listener.accept().await.unwrap();
                let mut lines = Framed::new(stream.compat(), LinesCodec::new());
                let mut served = 0;
                while let Some(line) = lines.next().await {
                    let line = line.unwrap();
                    lines
                        .send(line.chars().rev().collect::<String>())
                        .await
                        .unwrap();
                    served += 1;
                }
                served
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut lines = Framed::new(stream.compat(), LinesCodec::new());
            for i in 0..1000 {
                let line = format!("line {i} {}", "x".repeat(i % 300));
                lines.send(line.as_str()).await.unwrap();
                let back = lines.next().await.unwrap().unwrap();
                assert_eq!(back, line.chars().rev().collect::<String>(), "{flavor}");
            }
            // Closing our write half ends the server's stream of lines.
            lines
                .get_mut()
                .get_mut()
                .shutdown(std::net::Shutdown::Write)
                .unwrap();
            assert_eq!(server.await.unwrap(), 1000, "{flavor}");
            assert_no_tokio_runtime();
        });
    }
}

#[test]
fn hyper_util_tokio_io_serves_http_over_compat() {
    use hyper_util::rt::TokioIo;
    coro::block_on(async {
        let (client, server) = coro::net::UnixStream::pair().unwrap();
        coro::spawn(async move {
            let service = hyper::service::service_fn(|_| async {
                Ok::<_, hyper::Error>(hyper::Response::new(http_body_util::Full::new(
                    hyper::body::Bytes::from("via TokioIo"),
                )))
            });
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server.compat()), service)
                .await
        });
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(client.compat()))
                .await
                .unwrap();
        coro::spawn(connection);
        let request = hyper::Request::get("/")
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        use http_body_util::BodyExt;
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "via TokioIo");
        assert_no_tokio_runtime();
    });
}

#[test]
fn tokio_io_helpers_read_write_and_seek_a_futures_io_cursor() {
    coro::block_on(async {
        let mut cursor = futures::io::Cursor::new(Vec::new()).compat();
        cursor.write_all(b"hello, compat").await.unwrap();
        assert_eq!(cursor.seek(std::io::SeekFrom::Start(7)).await.unwrap(), 7);
        let mut rest = String::new();
        cursor.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "compat");
        // A seek relative to the end, then the position alone.
        assert_eq!(cursor.seek(std::io::SeekFrom::End(-6)).await.unwrap(), 7);
        assert_eq!(cursor.stream_position().await.unwrap(), 7);
    });
}

#[test]
fn futures_io_helpers_read_write_and_seek_a_tokio_io_type() {
    coro::block_on(async {
        // std's Cursor implements tokio's AsyncRead/AsyncWrite/AsyncSeek.
        let mut cursor = std::io::Cursor::new(Vec::new()).compat();
        cursor.write_all(b"tokio side").await.unwrap();
        assert_eq!(cursor.seek(std::io::SeekFrom::Start(6)).await.unwrap(), 6);
        let mut rest = String::new();
        cursor.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "side");
        cursor.close().await.unwrap();
        assert_eq!(cursor.into_inner().into_inner(), b"tokio side");
    });
}

#[test]
fn tokio_duplex_becomes_futures_io_and_carries_bytes_both_ways() {
    coro::block_on(async {
        let (a, b) = tokio::io::duplex(64);
        let (mut a, mut b) = (a.compat(), b.compat());
        let writer = coro::spawn(async move {
            // More than the duplex buffer: the writer must wait for the reader.
            a.write_all(&[7u8; 10_000]).await.unwrap();
            a.close().await.unwrap();
        });
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, vec![7u8; 10_000]);
        writer.await.unwrap();
    });
}
