//! Graceful shutdown of `echo_server`: started as a child process with
//! `coro::process`, stopped with `SIGINT` or `SIGTERM` while a client is
//! connected. It must stop accepting, answer the request in flight, let
//! the connection finish (or cancel it after the grace period), print its
//! one-line summary and exit with status 0.

use std::io;
use std::process::Stdio;
use std::time::Duration;

use coro::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use coro::net::TcpStream;
use coro::process::{Child, ChildStderr, ChildStdout, Command};
use coro::time::timeout;
use futures::io::Lines;
use futures::StreamExt;

/// `echo_server` on a free loopback port, killed if the test fails.
struct Server {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
    addr: String,
}

impl Server {
    async fn start(grace_ms: &str) -> Server {
        Self::start_with(grace_ms, &[]).await
    }

    /// `start` with more arguments for the server (`--shards N`).
    async fn start_with(grace_ms: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--example", "echo_server", "--"])
            .args(["--addr", "127.0.0.1:0", "--grace-ms", grace_ms])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot run cargo");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        // Generous: the first `cargo run` may have to build the example.
        let first = timeout(Duration::from_secs(600), stdout.next())
            .await
            .expect("echo_server did not print its address")
            .expect("echo_server exited before printing its address")
            .unwrap();
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Server {
            child,
            stdout,
            stderr,
            addr,
        }
    }

    fn send(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("the server is still running") as libc::pid_t;
        // SAFETY: `pid` is our unreaped child (`id()` is `Some`), so it
        // names the server and no other process.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Reads stderr until a line containing `needle`.
    async fn stderr_line_containing(&mut self, needle: &str) -> String {
        timeout(Duration::from_secs(60), async {
            loop {
                let line = self
                    .stderr
                    .next()
                    .await
                    .unwrap_or_else(|| panic!("stderr ended before {needle:?}"))
                    .unwrap();
                if line.contains(needle) {
                    return line;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} on stderr"))
    }

    /// The next stdout line, then the exit status.
    async fn summary_and_status(mut self) -> (String, std::process::ExitStatus) {
        let limit = Duration::from_secs(60);
        let summary = timeout(limit, self.stdout.next())
            .await
            .expect("no summary line")
            .expect("stdout ended without a summary")
            .unwrap();
        let status = timeout(limit, self.child.wait())
            .await
            .expect("the server did not exit")
            .unwrap();
        assert!(
            timeout(limit, self.stdout.next()).await.unwrap().is_none(),
            "one summary line, nothing after it"
        );
        (summary, status)
    }
}

async fn round_trip(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).await.unwrap();
    let mut reply = vec![0; request.len()];
    timeout(Duration::from_secs(60), stream.read_exact(&mut reply))
        .await
        .expect("no reply")
        .unwrap();
    reply
}

#[test]
fn sigint_stops_accepting_answers_the_request_in_flight_and_exits_0() {
    let rt = coro::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let mut server = Server::start("30000").await;
        let mut client = TcpStream::connect(server.addr.as_str()).await.unwrap();
        assert_eq!(round_trip(&mut client, b"hello").await, b"HELLO");

        // A request in flight when the signal arrives.
        client.write_all(b"in flight").await.unwrap();
        server.send(libc::SIGINT);
        let mut reply = [0; 9];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"IN FLIGHT");

        // No new connections once it said so...
        let line = server.stderr_line_containing("stopped accepting").await;
        assert!(line.contains("SIGINT"), "{line}");
        let refused = TcpStream::connect(server.addr.as_str()).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        // ...but the open one is still served until the client is done.
        assert_eq!(round_trip(&mut client, b"after").await, b"AFTER");
        drop(client);

        let (summary, status) = server.summary_and_status().await;
        assert_eq!(
            summary,
            "stopped by SIGINT: served 1 connections; 1 open at the signal: \
             1 finished, 0 cancelled after 30000 ms"
        );
        assert_eq!(status.code(), Some(0));
    });
}

#[test]
fn sigterm_cancels_connections_still_open_after_the_grace_period() {
    let rt = coro::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let server = Server::start("200").await;
        let mut idle = TcpStream::connect(server.addr.as_str()).await.unwrap();
        assert_eq!(round_trip(&mut idle, b"ping").await, b"PING");
        server.send(libc::SIGTERM);
        // The client never closes: the server cancels its handler, which
        // closes the connection.
        let mut buf = [0; 1];
        let n = timeout(Duration::from_secs(60), idle.read(&mut buf))
            .await
            .expect("the connection was never closed")
            .unwrap();
        assert_eq!(n, 0);
        let (summary, status) = server.summary_and_status().await;
        assert_eq!(
            summary,
            "stopped by SIGTERM: served 1 connections; 1 open at the signal: \
             0 finished, 1 cancelled after 200 ms"
        );
        assert_eq!(status.code(), Some(0));
    });
}

/// With `--shards 2` each shard stops its own listener and drains its own
/// connections; the summary adds both shards up.
#[test]
fn sharded_server_stops_every_shard_and_sums_the_summary() {
    let rt = coro::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let mut server = Server::start_with("200", &["--shards", "2"]).await;
        let mut idle = Vec::new();
        for i in 0..8 {
            let mut client = TcpStream::connect(server.addr.as_str()).await.unwrap();
            let request = format!("client {i}");
            assert_eq!(
                round_trip(&mut client, request.as_bytes()).await,
                request.to_uppercase().as_bytes()
            );
            idle.push(client);
        }
        server.send(libc::SIGTERM);
        for _ in 0..2 {
            let line = server.stderr_line_containing("stopped accepting").await;
            assert!(line.contains("SIGTERM") && line.contains("shard"), "{line}");
        }
        // Nobody closes: each shard cancels its handlers after the grace
        // period, which closes the connections.
        for client in &mut idle {
            let mut buf = [0; 1];
            let n = timeout(Duration::from_secs(60), client.read(&mut buf))
                .await
                .expect("the connection was never closed")
                .unwrap();
            assert_eq!(n, 0);
        }
        let (summary, status) = server.summary_and_status().await;
        assert_eq!(
            summary,
            "stopped by SIGTERM: served 8 connections; 8 open at the signal: \
             0 finished, 8 cancelled after 200 ms"
        );
        assert_eq!(status.code(), Some(0));
    });
}
