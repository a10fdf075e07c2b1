//! `http_server` runs as a process and checked from outside:
//! with a real client (`curl`, installed if missing) and with hyper's own
//! client running on coro. Timing never decides a test; the bounds only
//! prove "did not hang" or "did not run one request after another".
#![cfg(feature = "hyper")]

mod common;
use common::{ensure_tool, spawn_example, KillOnDrop};

use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use coro::hyper::Io;
use coro::net::TcpStream;
use futures::StreamExt;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper::Request;

/// Starts `http_server` on a free port; returns it and its base URL.
fn start_server(args: &[&str]) -> (KillOnDrop, Receiver<String>, String) {
    let mut all = vec!["--addr", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let (server, lines) = spawn_example("http_server", &all);
    let first = lines
        .recv_timeout(Duration::from_secs(600))
        .expect("http_server printed nothing");
    let url = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    assert!(first.ends_with("(HTTP/1.1 and HTTP/2)"), "{first}");
    (server, lines, url)
}

/// Runs curl with `args`; returns its stdout. `-w '\n%{http_version}'`
/// appends the HTTP version the exchange used.
fn curl(args: &[&str]) -> String {
    ensure_tool("curl", "curl");
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn curl_http1_http2_prior_knowledge_and_streamed_echo() {
    let (_server, _lines, url) = start_server(&[]);
    let version = ["-w", "\n%{http_version}"];

    let out = curl(&[&[&*format!("{url}/")], &version[..]].concat());
    assert_eq!(out, "hello\n\n1.1");
    let out = curl(
        &[
            &["--http2-prior-knowledge", &format!("{url}/")],
            &version[..],
        ]
        .concat(),
    );
    assert_eq!(out, "hello\n\n2");
    let out = curl(
        &[
            &["--http2-prior-knowledge", &format!("{url}/sleep?ms=20")],
            &version[..],
        ]
        .concat(),
    );
    assert_eq!(out, "slept 20 ms\n\n2");
    let out = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{url}/sleep?ms=x"),
    ]);
    assert_eq!(out, "400");
    let out = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{url}/nowhere"),
    ]);
    assert_eq!(out, "404");

    // 1 MiB of every byte value through /echo, over both protocols.
    let dir = std::env::temp_dir().join(format!("coro-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let upload = dir.join("upload.bin");
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
    std::fs::write(&upload, &data).unwrap();
    for protocol in ["--http1.1", "--http2-prior-knowledge"] {
        let echoed = dir.join("echoed.bin");
        curl(&[
            protocol,
            "--data-binary",
            &format!("@{}", upload.display()),
            "-o",
            &echoed.display().to_string(),
            &format!("{url}/echo"),
        ]);
        assert!(
            std::fs::read(&echoed).unwrap() == data,
            "{protocol}: echo differs"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn curl_https_negotiates_http2_and_http1_with_alpn() {
    let (_server, _lines, url) = start_server(&["--tls"]);
    assert!(url.starts_with("https://"), "{url}");
    let out = curl(&[
        "-k",
        "--http2",
        "-w",
        "\n%{http_version}",
        &format!("{url}/"),
    ]);
    assert_eq!(out, "hello\n\n2");
    let out = curl(&[
        "-k",
        "--http1.1",
        "-w",
        "\n%{http_version}",
        &format!("{url}/"),
    ]);
    assert_eq!(out, "hello\n\n1.1");
    // Without -k, curl does not trust the self-signed certificate.
    let output = Command::new("curl")
        .args(["--silent", "--max-time", "60", &format!("{url}/")])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(60),
        "curl's 'peer certificate' exit code"
    );
}

/// A hyper client on coro, HTTP/1.1, to `addr`.
async fn client(addr: &str) -> hyper::client::conn::http1::SendRequest<StreamBody<Chunks>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .unwrap();
    coro::spawn(connection);
    sender
}

type Chunks = futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::io::Error>>>;

#[test]
fn hyper_client_streams_10_mib_through_echo_byte_for_byte() {
    let (_server, _lines, url) = start_server(&[]);
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    coro::block_on(async move {
        // 10 MiB in 160 chunks of 64 KiB, each chunk a different pattern.
        let chunk = |i: usize| -> Bytes {
            (0..64 * 1024)
                .map(|j| ((i * 131 + j * 7) % 256) as u8)
                .collect()
        };
        let frames: Vec<_> = (0..160).map(|i| Ok(Frame::data(chunk(i)))).collect();
        let mut sender = client(&addr).await;
        let request = Request::post("/echo")
            .header("host", &addr)
            .body(StreamBody::new(futures::stream::iter(frames)))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        // Compare as the body streams back, without keeping it.
        let mut expected = (0..160).flat_map(|i| chunk(i).to_vec());
        let mut received = 0usize;
        let mut body = response.into_body().into_data_stream();
        while let Some(data) = body.next().await {
            for byte in data.unwrap() {
                assert_eq!(Some(byte), expected.next(), "byte {received} differs");
                received += 1;
            }
        }
        assert_eq!(received, 10 << 20);
        assert_eq!(expected.next(), None);
    });
}

#[test]
fn hundred_concurrent_slow_requests_do_not_wait_for_each_other() {
    let (_server, _lines, url) = start_server(&[]);
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let start = Instant::now();
    coro::block_on(async move {
        let requests: Vec<_> = (0..100)
            .map(|_| {
                let addr = addr.clone();
                coro::spawn(async move {
                    let stream = TcpStream::connect(addr.as_str()).await.unwrap();
                    let (mut sender, connection) =
                        hyper::client::conn::http1::handshake(Io::new(stream))
                            .await
                            .unwrap();
                    coro::spawn(connection);
                    let request = Request::get("/sleep?ms=200")
                        .header("host", addr.as_str())
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        for body in coro::task::join_all(requests).await {
            assert_eq!(body.unwrap(), "slept 200 ms\n");
        }
    });
    // One after another would take 20 s; all at once about 0.2 s. The bound
    // is loose: it only rules out requests waiting for each other.
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "100 × 200 ms took {elapsed:?}"
    );
}

#[test]
fn closing_stdin_stops_the_server_after_answering_the_request_in_flight() {
    let (mut server, lines, url) = start_server(&["--drain-ms", "10000"]);
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let stdin = server.0.stdin.take().unwrap();
    coro::block_on(async move {
        let stream = TcpStream::connect(addr.as_str()).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        coro::spawn(connection);
        let request = Request::get("/sleep?ms=300")
            .header("host", addr.as_str())
            .body(Empty::<Bytes>::new())
            .unwrap();
        let in_flight = sender.send_request(request);
        let mut in_flight = std::pin::pin!(in_flight);
        // Let the request reach the server, then ask it to stop.
        assert!(
            coro::time::timeout(Duration::from_millis(100), in_flight.as_mut())
                .await
                .is_err()
        );
        drop(stdin);
        let response = in_flight.await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "slept 300 ms\n");
    });
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let summary = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(
        summary,
        "http_server: stopped: 1 connections, 1 requests served; 1 open at shutdown, 0 cancelled"
    );
}
