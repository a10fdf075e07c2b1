//! The load client shared by the soak and chaos tests (`mod load;`).
//!
//! Every message is a pseudo-random byte stream generated from a seed, so
//! neither side keeps a copy: the writer generates it chunk by chunk, and
//! the reader regenerates the same stream to check every byte it gets
//! back. Writing and reading run concurrently on the two halves of the
//! stream (a message may be larger than what the socket buffers hold), and
//! only small fixed buffers are used, so 10,000 connections cost little
//! memory beyond the runtime's own.
//!
//! The server under load is the lesson's `echo_server` example itself, run
//! as a child process ([`EchoServer`]): the same code users run, its RSS
//! measurable apart from the clients', and its file descriptors not
//! counted against the test process's limit.
#![allow(dead_code)] // each test crate uses a subset

pub mod chaos;
pub mod proxy;

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use coro::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes moved per read or write call.
pub const CHUNK: usize = 2048;

/// xorshift64*: deterministic, seedable, dependency-free.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed: neighbouring seeds give unrelated streams,
        // and the state is never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The bytes of one message: `len` bytes from the stream seeded by `seed`.
/// Chunks are generated in `CHUNK`-sized steps on both sides, so any split
/// of the reads still compares against the same stream.
pub struct Payload {
    rng: Rng,
    block: [u8; CHUNK],
    /// Bytes of `block` already consumed.
    used: usize,
    left: usize,
}

impl Payload {
    pub fn new(seed: u64, len: usize) -> Payload {
        Payload {
            rng: Rng::new(seed),
            block: [0; CHUNK],
            used: CHUNK,
            left: len,
        }
    }

    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Copies the next `min(buf.len(), remaining)` bytes into `buf`.
    pub fn take(&mut self, buf: &mut [u8]) -> usize {
        let want = buf.len().min(self.left);
        let mut done = 0;
        while done < want {
            if self.used == CHUNK {
                self.rng.fill(&mut self.block);
                self.used = 0;
            }
            let n = (want - done).min(CHUNK - self.used);
            buf[done..done + n].copy_from_slice(&self.block[self.used..self.used + n]);
            self.used += n;
            done += n;
        }
        self.left -= want;
        want
    }
}

/// Writes the message `(seed, len)`.
pub async fn write_message<W: AsyncWrite + Unpin>(
    writer: &mut W,
    seed: u64,
    len: usize,
) -> io::Result<()> {
    let mut payload = Payload::new(seed, len);
    let mut buf = [0u8; CHUNK];
    while payload.remaining() > 0 {
        let n = payload.take(&mut buf);
        writer.write_all(&buf[..n]).await?;
    }
    writer.flush().await
}

/// How reading a message back went.
#[derive(Debug, PartialEq, Eq)]
pub enum Echo {
    /// Every byte came back as expected.
    Intact,
    /// The peer closed before the whole message came back.
    Short { got: usize },
    /// A byte differed (`at` is its offset in the message).
    Corrupt { at: usize },
}

/// Reads back the echo of message `(seed, len)`, where the echo server
/// applies `transform` to each byte, checking every byte. `progress` is
/// called after each read that returned data, with the time it returned.
pub async fn read_echo<R: AsyncRead + Unpin>(
    reader: &mut R,
    seed: u64,
    len: usize,
    transform: fn(u8) -> u8,
    mut progress: impl FnMut(Instant),
) -> io::Result<Echo> {
    let mut expected = Payload::new(seed, len);
    let mut buf = [0u8; CHUNK];
    let mut want = [0u8; CHUNK];
    let mut got = 0;
    while got < len {
        let room = (len - got).min(CHUNK);
        let n = reader.read(&mut buf[..room]).await?;
        if n == 0 {
            return Ok(Echo::Short { got });
        }
        progress(Instant::now());
        expected.take(&mut want[..n]);
        if let Some(i) = (0..n).find(|&i| buf[i] != transform(want[i])) {
            return Ok(Echo::Corrupt { at: got + i });
        }
        got += n;
    }
    Ok(Echo::Intact)
}

/// The resident set size in bytes of process `pid` ("self" for this one;
/// Linux: `/proc/PID/statm`).
pub fn rss_bytes(pid: &str) -> u64 {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).expect("read statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    // SAFETY: `sysconf` only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).expect("a page size is positive")
}

/// Raises `RLIMIT_NOFILE` (soft, and hard if needed and allowed) to at
/// least `want`; returns the soft limit in force afterwards.
pub fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur >= want {
        return lim.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: `raised` is a valid `rlimit` with `rlim_cur <= rlim_max`.
    // Raising the hard limit needs privilege; without it, go as high as the
    // hard limit allows.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let capped = libc::rlimit {
            rlim_cur: lim.rlim_max.min(want),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &capped) };
    }
    // SAFETY: as above.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur
}

/// The `echo_server` example running in a child process, killed on drop.
/// It uppercases what it echoes: see [`uppercase`].
pub struct EchoServer {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// What `echo_server` does to each byte.
pub fn uppercase(byte: u8) -> u8 {
    byte.to_ascii_uppercase()
}

impl EchoServer {
    /// Builds (if needed) and starts `echo_server --addr 127.0.0.1:0` in
    /// this test's profile; waits for its `listening on ADDR` line.
    pub fn start() -> EchoServer {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["run", "--quiet", "--example", "echo_server"]);
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        // `cargo run` execs the example, so the child is the server itself.
        let mut child = cargo
            .args(["--", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to run cargo");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let err = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).expect("echo_server's stdout");
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("echo_server printed {first:?}, not `listening on ADDR`"));
        // Keep draining stdout so the server never blocks on a full pipe.
        thread::spawn(move || for _ in stdout.lines().map_while(Result::ok) {});
        EchoServer {
            child,
            addr,
            stderr,
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// The server's RSS in bytes.
    pub fn rss_bytes(&self) -> u64 {
        rss_bytes(&self.pid())
    }

    /// `Ok` while the server runs; its exit status if it ended.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait().expect("try_wait") {
            None => Ok(()),
            Some(status) => Err(format!(
                "echo_server exited ({status}); stderr:\n{}",
                self.stderr_lines().join("\n")
            )),
        }
    }

    /// What the server printed on stderr so far (one line per failed
    /// connection, which resets cause; a panic would show here too).
    pub fn stderr_lines(&self) -> Vec<String> {
        // The reader thread may lag a little behind the server.
        thread::sleep(Duration::from_millis(50));
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
