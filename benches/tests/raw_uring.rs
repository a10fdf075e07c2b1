//! Smoke test of `echo_bench_server --runtime raw_uring` (the io_uring bound
//! of docs/benchmarks.md, built with `--features io-uring`):
//!
//! ```text
//! cargo test -p coro-benches --features io-uring --test raw_uring
//! ```
//!
//! For every mode (`recv`, `multishot`, each with and without registered
//! descriptors) a few connections at once each stream a message larger than
//! the server's 4 KiB buffers (so it is echoed in many recv/send pairs, and
//! sends may be short) while reading the echo on another thread; every byte
//! must come back, in order, and the server must close a connection after
//! the client's EOF. With few provided buffers (`--buffers 8`) the
//! multishot mode runs out of them and must recover.
#![cfg(all(target_os = "linux", feature = "io-uring"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONNECTIONS: usize = 4;
/// Bytes each connection sends: many server buffers' worth.
const MESSAGE: usize = 256 * 1024;

/// The server process; killed on drop so a failed test leaves none behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `echo_bench_server --runtime raw_uring ARGS` and returns it and
/// the address it printed.
fn start(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_echo_bench_server"))
        .args(["--runtime", "raw_uring", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start echo_bench_server");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the server's first line");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("raw_uring {args:?} did not start: {line:?}"))
        .trim()
        .to_string();
    (server, addr)
}

/// Connection `seed`'s message: bytes no two connections share in order.
fn message(seed: usize) -> Vec<u8> {
    (0..MESSAGE)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed * 7 + i / 251) % 256) as u8)
        .collect()
}

/// Streams the message on one connection and checks the whole echo, then
/// that the server closes after the client's EOF.
fn echo_one(addr: &str, seed: usize) {
    let stream = TcpStream::connect(addr).expect("connect");
    // Generous bound that only proves "did not hang".
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let sent = message(seed);
    let mut writer = stream.try_clone().expect("clone the stream");
    let to_send = sent.clone();
    let write = std::thread::spawn(move || {
        // Uneven pieces, so the server sees chunks of many sizes.
        for piece in to_send.chunks(3001) {
            writer.write_all(piece).expect("write");
        }
        writer.shutdown(Shutdown::Write).expect("shutdown");
    });
    let mut echoed = Vec::with_capacity(MESSAGE);
    let mut reader = &stream;
    reader
        .read_to_end(&mut echoed)
        .expect("read the echo to EOF");
    write.join().expect("the writer thread");
    assert_eq!(
        echoed.len(),
        sent.len(),
        "connection {seed}: echoed byte count"
    );
    let first_bad = echoed.iter().zip(&sent).position(|(a, b)| a != b);
    assert_eq!(first_bad, None, "connection {seed}: first wrong byte");
}

fn check_mode(args: &[&str]) {
    let (_server, addr) = start(args);
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|seed| {
            let addr = addr.clone();
            std::thread::spawn(move || echo_one(&addr, seed))
        })
        .collect();
    for thread in threads {
        thread
            .join()
            .unwrap_or_else(|_| panic!("raw_uring {args:?}: a connection failed"));
    }
    // The slots of closed connections are reused: one more round works.
    echo_one(&addr, CONNECTIONS);
}

#[test]
fn raw_uring_recv_echoes_every_byte() {
    check_mode(&["--mode", "recv"]);
}

#[test]
fn raw_uring_recv_fixed_echoes_every_byte() {
    check_mode(&["--mode", "recv", "--fixed", "1"]);
}

#[test]
fn raw_uring_multishot_echoes_every_byte() {
    check_mode(&["--mode", "multishot"]);
}

#[test]
fn raw_uring_multishot_fixed_echoes_every_byte() {
    check_mode(&["--mode", "multishot", "--fixed", "1"]);
}

/// Eight provided buffers for four connections streaming 256 KiB each: the
/// ring runs dry again and again (`ENOBUFS`), and the starved connections
/// must be re-armed as buffers come back.
#[test]
fn raw_uring_multishot_survives_running_out_of_buffers() {
    check_mode(&["--mode", "multishot", "--buffers", "8"]);
}

#[test]
fn raw_uring_rejects_an_unknown_mode() {
    // Stdin stays open (closing it ends the server too, with status 0).
    let mut child = Command::new(env!("CARGO_BIN_EXE_echo_bench_server"))
        .args(["--runtime", "raw_uring", "--mode", "sideways"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start echo_bench_server");
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().expect("piped stderr");
    pipe.read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait for echo_bench_server");
    assert_eq!(status.code(), Some(2), "exit status; stderr: {stderr}");
    assert!(
        stderr.contains("--mode (raw_uring): recv or multishot"),
        "stderr: {stderr}"
    );
}
