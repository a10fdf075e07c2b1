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

/// `http_server` started with `coro::process`, as a user's supervisor
/// would, and stopped with `signal` while a `POST /echo` is in flight: the
/// test sends the body's first half, waits until it has come back (so the
/// server is provably inside the request), sends the signal, then sends
/// the second half if `finish` (else keeps the request open). Returns what
/// came back of the body (or the error that ended it) and the summary line.
async fn stop_with_signal(signal: libc::c_int, finish: bool, grace_ms: &str) -> (String, String) {
    use coro::io::{AsyncBufReadExt, BufReader};
    let mut child = coro::process::Command::new(env!("CARGO"))
        .args(common::example_cargo_args("http_server"))
        .args(["--addr", "127.0.0.1:0", "--grace-ms", grace_ms])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot run cargo");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    // Generous: the first `cargo run` may have to build the example.
    let first = coro::time::timeout(Duration::from_secs(600), stdout.next())
        .await
        .expect("http_server printed nothing")
        .expect("http_server exited first")
        .unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();

    let stream = TcpStream::connect(addr.as_str()).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .unwrap();
    coro::spawn(connection);
    let (body_tx, body_rx) =
        futures::channel::mpsc::unbounded::<Result<Frame<Bytes>, std::io::Error>>();
    let request = Request::post("/echo")
        .header("host", addr.as_str())
        .body(StreamBody::new(body_rx))
        .unwrap();
    body_tx
        .unbounded_send(Ok(Frame::data(Bytes::from("first half, "))))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let mut body = response.into_body().into_data_stream();
    let mut echoed = String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap();
    assert_eq!(echoed, "first half, ");

    let pid = child.id().expect("the server is still running") as libc::pid_t;
    // SAFETY: `pid` is our unreaped child (`id()` is `Some`), so it names
    // the server and no other process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    // Unless finished, `body_tx` lives to the end of this function: the
    // request stays open through the grace period.
    if finish {
        body_tx
            .unbounded_send(Ok(Frame::data(Bytes::from("second half"))))
            .unwrap();
        drop(body_tx);
    }
    let rest = coro::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(data) => echoed.push_str(std::str::from_utf8(&data).unwrap()),
                Err(error) => {
                    echoed.push_str(&format!(" <cut: {error}>"));
                    break;
                }
            }
        }
    });
    rest.await.expect("the request in flight hung");
    let summary = coro::time::timeout(Duration::from_secs(60), stdout.next())
        .await
        .expect("no summary line")
        .expect("stdout ended without a summary")
        .unwrap();
    let status = coro::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the server did not exit")
        .unwrap();
    assert!(status.success(), "{status}");
    (echoed, summary)
}

#[test]
fn sigint_stops_the_server_after_answering_the_request_in_flight() {
    let (echoed, summary) = coro::block_on(stop_with_signal(libc::SIGINT, true, "10000"));
    assert_eq!(echoed, "first half, second half");
    assert_eq!(
        summary,
        "stopped by SIGINT: served 1 connections, 1 requests; 1 open at the signal, \
         0 cancelled after the 10000 ms grace period"
    );
}

#[test]
fn sigterm_cancels_what_outlives_the_grace_period() {
    let (echoed, summary) = coro::block_on(stop_with_signal(libc::SIGTERM, false, "200"));
    assert!(echoed.starts_with("first half,  <cut: "), "{echoed}");
    assert_eq!(
        summary,
        "stopped by SIGTERM: served 1 connections, 1 requests; 1 open at the signal, \
         1 cancelled after the 200 ms grace period"
    );
}
