//! A fault-injecting TCP proxy for chaos tests, on loopback.
//!
//! `Proxy::start(upstream, seed)` listens on `127.0.0.1:0` and forwards
//! each accepted connection to `upstream`, two plain threads per
//! connection (one per direction), so the proxy's behaviour never depends
//! on the runtime under test. Each connection gets a [`Fault`] drawn from
//! `(seed, client port)` by [`Fault::for_port`]; the client computes the
//! same fault from its own local port, so both sides agree on what was
//! done without talking. Faults:
//!
//! * `Delay`: every forwarded chunk waits 0–3 ms;
//! * `Fragment`: everything is forwarded one byte per write (`TCP_NODELAY`
//!   on, so those are separate segments);
//! * `Stall`: after `at` bytes from the client, nothing moves for `ms`
//!   milliseconds (under a second), then forwarding resumes;
//! * `Reset`: after `at` bytes from the client, both sockets are closed
//!   with `SO_LINGER` 0, so client and server get a reset mid-stream;
//! * `HalfClose`: after `at` bytes from the client, the proxy shuts down
//!   its write side towards the server (the server sees EOF while the
//!   client is still sending) and drops whatever the client sends after.
//!
//! The first three leave the byte stream intact: a client behind them must
//! get exactly its bytes back. The last two cut it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::Rng;

/// What the proxy does to one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Delay,
    Fragment,
    Stall { at: usize, ms: u64 },
    Reset { at: usize },
    HalfClose { at: usize },
}

impl Fault {
    /// The fault for the connection whose client port is `port`.
    pub fn for_port(seed: u64, port: u16, max_bytes: usize) -> Fault {
        let mut rng = Rng::new(seed ^ u64::from(port).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let at = rng.between(0, max_bytes as u64) as usize;
        match rng.between(0, 99) {
            0..=34 => Fault::Delay,
            35..=49 => Fault::Fragment,
            50..=64 => Fault::Stall {
                at,
                ms: rng.between(100, 900),
            },
            65..=82 => Fault::Reset { at },
            _ => Fault::HalfClose { at },
        }
    }

    /// Whether the byte stream reaches both ends whole.
    pub fn keeps_stream(self) -> bool {
        matches!(self, Fault::Delay | Fault::Fragment | Fault::Stall { .. })
    }
}

/// The running proxy; its threads end with their connections.
pub struct Proxy {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts proxying to `upstream`. `max_bytes` bounds the offsets at
    /// which stream faults trigger (the most a client sends).
    pub fn start(upstream: SocketAddr, seed: u64, max_bytes: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (accepted.clone(), stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                count.fetch_add(1, SeqCst);
                let port = client.peer_addr().map(|a| a.port()).unwrap_or(0);
                let fault = Fault::for_port(seed, port, max_bytes);
                let mut rng = Rng::new(seed ^ u64::from(port));
                thread::spawn(move || {
                    let _ = relay(client, upstream, fault, rng.next());
                });
            }
        });
        Proxy {
            addr,
            accepted,
            stop,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Wake the accept loop so it sees `stop` and ends.
        self.stop.store(true, SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// What happened to a relayed connection (shared by its two pumps).
const WHOLE: u8 = 0;
const HALF_CLOSED: u8 = 1;
const RESET: u8 = 2;

/// Makes the socket's last close send a reset instead of a FIN, and wakes
/// a thread blocked reading it (shutting down the read side sends nothing).
fn reset(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a `linger` of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    let _ = stream.shutdown(Shutdown::Read);
}

fn relay(client: TcpStream, upstream: SocketAddr, fault: Fault, seed: u64) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    for stream in [&client, &server] {
        stream.set_nodelay(true)?;
    }
    let cut = Arc::new(AtomicU8::new(WHOLE));
    let back = {
        let (from, to, cut) = (server.try_clone()?, client.try_clone()?, cut.clone());
        thread::spawn(move || pump(from, to, fault, Rng::new(seed ^ 1), false, &cut))
    };
    let forth = pump(client, server, fault, Rng::new(seed), true, &cut);
    let _ = back.join();
    forth
}

/// Forwards `from` to `to` until EOF or an error, applying `fault`
/// (stream faults count the bytes of the client-to-server direction).
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    fault: Fault,
    mut rng: Rng,
    from_client: bool,
    cut: &AtomicU8,
) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut forwarded = 0usize;
    let mut stalled = false;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                // EOF from this side: pass the half-close on; after a
                // reset, just close (the last close sends the resets).
                if cut.load(SeqCst) != RESET {
                    let _ = to.shutdown(Shutdown::Write);
                }
                return Ok(());
            }
            Ok(n) => n,
        };
        match cut.load(SeqCst) {
            RESET => return Ok(()),
            HALF_CLOSED if from_client => continue, // drop what the client still sends
            _ => {}
        }
        let mut chunk = &buf[..n];
        if from_client {
            match fault {
                Fault::Reset { at } if forwarded + n > at => {
                    to.write_all(&chunk[..at - forwarded])?;
                    cut.store(RESET, SeqCst);
                    reset(&from);
                    reset(&to);
                    return Ok(());
                }
                Fault::HalfClose { at } if forwarded + n > at => {
                    to.write_all(&chunk[..at - forwarded])?;
                    cut.store(HALF_CLOSED, SeqCst);
                    to.shutdown(Shutdown::Write)?;
                    continue;
                }
                Fault::Stall { at, ms } if !stalled && forwarded + n > at => {
                    stalled = true;
                    thread::sleep(Duration::from_millis(ms));
                }
                _ => {}
            }
        }
        forwarded += n;
        match fault {
            Fault::Fragment => {
                while let Some((byte, rest)) = chunk.split_first() {
                    to.write_all(std::slice::from_ref(byte))?;
                    chunk = rest;
                }
            }
            _ => {
                if fault == Fault::Delay {
                    thread::sleep(Duration::from_micros(rng.between(0, 3000)));
                }
                to.write_all(chunk)?;
            }
        }
    }
}
