//! Chaos: load clients talk to the lesson's `echo_server` through a
//! fault-injecting proxy (`tests/load/proxy.rs`: random delays, 1-byte
//! fragments, stalls, resets mid-stream, half-closes), and the test checks
//! what coro promises under such faults:
//!
//! * the server never panics and never hangs: afterwards it is still
//!   running, printed no panic, and echoes a fresh connection;
//! * every connection ends, one way or the other, within a deadline;
//! * every connection the proxy did not cut gets exactly its bytes back,
//!   and no connection ever receives a wrong byte (a cut one gets a
//!   correct prefix).
//!
//! The faults come from a seed, printed first; `CORO_CHAOS_SEED=N` replays
//! a run (each connection's fault is a function of the seed and its client
//! port, so a replay differs only where the OS picks other ports).

mod load;

use std::time::{Duration, Instant};

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::TcpStream;
use futures::future::join;
use load::chaos::{self, Outcome};
use load::proxy::{Fault, Proxy};
use load::{raise_fd_limit, read_echo, uppercase, write_message, Echo, EchoServer, Rng};

const CONNECTIONS: u64 = 200;
const MESSAGES: usize = 4;
const MAX_MESSAGE: u64 = 4096;
/// Stream faults trigger at a byte offset below this: about what a client
/// sends on average, so most resets and half-closes land mid-stream.
const CUT_RANGE: usize = MESSAGES * MAX_MESSAGE as usize / 2;
/// The hang guard: every connection must be over by then.
const DEADLINE: Duration = Duration::from_secs(60);

async fn client(id: u64, proxy: std::net::SocketAddr, seed: u64) -> (Fault, Outcome) {
    let stream = TcpStream::connect(proxy)
        .await
        .expect("connect to the proxy");
    let port = stream.local_addr().unwrap().port();
    let fault = Fault::for_port(seed, port, CUT_RANGE);
    let (mut reader, mut writer) = stream.into_split();
    let mut rng = Rng::new(seed ^ id);
    let run = async {
        for _ in 0..MESSAGES {
            let message_seed = rng.next();
            let len = rng.between(1, MAX_MESSAGE) as usize;
            let (written, echoed) = join(
                write_message(&mut writer, message_seed, len),
                read_echo(&mut reader, message_seed, len, uppercase, |_| {}),
            )
            .await;
            match echoed {
                Ok(Echo::Intact) => {}
                Ok(Echo::Corrupt { at }) => {
                    return Outcome::Corrupt(format!("byte {at} of a {len}-byte message"))
                }
                Ok(Echo::Short { got }) => {
                    return Outcome::Cut(format!("EOF after {got} of {len} bytes"))
                }
                Err(e) => return Outcome::Cut(format!("read: {e}")),
            }
            if let Err(e) = written {
                return Outcome::Cut(format!("write: {e}"));
            }
        }
        let _ = writer.close().await;
        Outcome::Whole
    };
    let outcome = coro::time::timeout(DEADLINE, run)
        .await
        .unwrap_or(Outcome::Hung);
    (fault, outcome)
}

#[test]
fn echo_server_survives_a_fault_injecting_proxy() {
    let seed = chaos::seed("cargo test --test chaos");
    // Three descriptors per connection here (client, and both proxy ends).
    raise_fd_limit(3 * CONNECTIONS + 512);
    let mut server = EchoServer::start();
    let proxy = Proxy::start(server.addr, seed, CUT_RANGE);
    let rt = coro::Runtime::new().unwrap();
    let started = Instant::now();
    let results = rt.block_on(async {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|id| coro::spawn(client(id, proxy.addr, seed)))
            .collect();
        coro::task::join_all(clients).await
    });
    let elapsed = started.elapsed();

    let failures = chaos::failures(
        results
            .into_iter()
            .map(|result| result.expect("a client task panicked")),
    );
    println!(
        "{CONNECTIONS} connections through the proxy in {elapsed:.2?}, {} failed",
        failures.len()
    );
    assert_eq!(
        proxy.accepted.load(std::sync::atomic::Ordering::SeqCst),
        CONNECTIONS as usize
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} connections failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The server is alive, panicked nowhere, and still serves.
    server.check_running().expect("the server died");
    let stderr = server.stderr_lines();
    let panics: Vec<_> = stderr.iter().filter(|l| l.contains("panicked")).collect();
    assert!(
        panics.is_empty(),
        "seed {seed}: the server panicked: {panics:?}"
    );
    println!(
        "server stderr: {} lines (one per cut connection it noticed)",
        stderr.len()
    );
    let fresh = rt.block_on(coro::time::timeout(Duration::from_secs(10), async {
        let stream = TcpStream::connect(server.addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let (written, echoed) = join(
            write_message(&mut writer, seed, 10_000),
            read_echo(&mut reader, seed, 10_000, uppercase, |_| {}),
        )
        .await;
        written.unwrap();
        echoed.unwrap()
    }));
    assert_eq!(
        fresh,
        Ok(Echo::Intact),
        "seed {seed}: the server stopped serving"
    );
}

/// A slow peer cannot hold a server: peers that stop mid-message, or send
/// a lot and never read (so the server's writes to them block), tie up
/// only their own connection task; everyone else is served meanwhile. And
/// a handler that bounds its reads with `timeout` drops a silent peer.
#[test]
fn stalled_peers_hold_neither_the_server_nor_a_timeout() {
    const STALLED: u64 = 50;
    const SERVED: u64 = 100;
    let mut server = EchoServer::start();
    let rt = coro::Runtime::new().unwrap();
    rt.block_on(async {
        let mut stalled = Vec::new();
        for id in 0..STALLED {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            // Half of them stop in the middle of a message; the others
            // send 4 MiB without reading a byte of the echo, which fills
            // both socket buffers and leaves the server's write pending.
            let len = if id % 2 == 0 { 100 } else { 4 << 20 };
            let sender = coro::spawn(async move {
                let _ = write_message(&mut stream, id, len).await;
                stream // kept open, never read
            });
            stalled.push(sender);
        }
        let clients: Vec<_> = (0..SERVED)
            .map(|id| {
                coro::spawn(async move {
                    let stream = TcpStream::connect(server.addr).await.unwrap();
                    let (mut reader, mut writer) = stream.into_split();
                    let (written, echoed) = join(
                        write_message(&mut writer, id, 3000),
                        read_echo(&mut reader, id, 3000, uppercase, |_| {}),
                    )
                    .await;
                    written.unwrap();
                    echoed.unwrap()
                })
            })
            .collect();
        let served = coro::time::timeout(DEADLINE, coro::task::join_all(clients))
            .await
            .expect("the stalled peers held the other connections");
        assert!(served.into_iter().all(|echo| echo.unwrap() == Echo::Intact));
        drop(stalled); // the senders of 4 MiB are still blocked: detach them

        // A handler with a read timeout lets a silent peer go.
        let listener = coro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let (mut accepted, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 16];
        let read = coro::time::timeout(Duration::from_millis(200), accepted.read(&mut buf)).await;
        assert!(
            read.is_err(),
            "a silent peer's read must time out: {read:?}"
        );
        drop(accepted);
        assert_eq!(silent.read(&mut buf).await.unwrap(), 0, "the peer sees EOF");
    });
    server.check_running().expect("the server died");
}
