//! Chaos for the HTTP server: hyper clients on coro talk to the
//! `http_server` example through the fault-injecting proxy of
//! `tests/load/proxy.rs` (delays, 1-byte fragments, stalls, resets
//! mid-stream, half-closes). The promises are those of `tests/chaos.rs`:
//!
//! * the server never panics and never hangs: afterwards it is still
//!   running, printed no panic, and answers a fresh request;
//! * every connection ends within a deadline;
//! * every connection the proxy did not cut gets exactly its bodies back
//!   from `POST /echo`, and no response ever carries a wrong byte.
//!
//! The faults come from a seed, printed first; `CORO_CHAOS_SEED=N` replays
//! a run (as far as the OS hands out the same client ports).
#![cfg(feature = "hyper")]

mod common;
mod load;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{example_cargo_args, KillOnDrop};
use coro::hyper::Io;
use coro::net::TcpStream;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::Request;
use load::chaos::{self, Outcome};
use load::proxy::{Fault, Proxy};
use load::Rng;

const CONNECTIONS: u64 = 100;
/// Requests per connection (HTTP/1.1 keep-alive).
const REQUESTS: usize = 2;
const MAX_BODY: u64 = 8192;
/// Stream faults trigger below this byte offset of what a client sends:
/// about half of it, so most cuts land mid-request.
const CUT_RANGE: usize = REQUESTS * MAX_BODY as usize / 2;
/// The hang guard: every connection must be over by then.
const DEADLINE: Duration = Duration::from_secs(60);

async fn client(id: u64, proxy: std::net::SocketAddr, seed: u64) -> (Fault, Outcome) {
    let stream = TcpStream::connect(proxy)
        .await
        .expect("connect to the proxy");
    let port = stream.local_addr().unwrap().port();
    let fault = Fault::for_port(seed, port, CUT_RANGE);
    let mut rng = Rng::new(seed ^ id);
    let run = async {
        let (mut sender, connection) =
            match hyper::client::conn::http1::handshake(Io::new(stream)).await {
                Ok(handshake) => handshake,
                Err(e) => return Outcome::Cut(format!("handshake: {e}")),
            };
        coro::spawn(connection);
        for request in 0..REQUESTS {
            let len = rng.between(1, MAX_BODY) as usize;
            let body: Bytes = (0..len).map(|_| rng.next() as u8).collect();
            let post = Request::post("/echo")
                .header("host", "chaos")
                .body(Full::new(body.clone()))
                .unwrap();
            let response = match sender.send_request(post).await {
                Ok(response) => response,
                Err(e) => return Outcome::Cut(format!("request {request}: {e}")),
            };
            if response.status() != 200 {
                return Outcome::Corrupt(format!(
                    "request {request}: status {}",
                    response.status()
                ));
            }
            match response.into_body().collect().await.map(|c| c.to_bytes()) {
                Ok(echoed) if echoed == body => {}
                Ok(echoed) => {
                    return Outcome::Corrupt(format!(
                        "request {request}: {} bytes came back for {len}, or different ones",
                        echoed.len()
                    ))
                }
                Err(e) => return Outcome::Cut(format!("request {request} body: {e}")),
            }
        }
        Outcome::Whole
    };
    let outcome = coro::time::timeout(DEADLINE, run)
        .await
        .unwrap_or(Outcome::Hung);
    (fault, outcome)
}

/// `http_server --addr 127.0.0.1:0` as a child; its address and a record of
/// its stderr.
fn start_server() -> (KillOnDrop, String, Arc<Mutex<Vec<String>>>) {
    let mut child = std::process::Command::new(env!("CARGO"))
        .args(example_cargo_args("http_server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to run cargo");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let lines = stderr.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            lines.lock().unwrap().push(line);
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).expect("http_server's stdout");
    let addr = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("http_server printed {first:?}"))
        .to_owned();
    std::thread::spawn(move || for _ in stdout.lines().map_while(Result::ok) {});
    (KillOnDrop(child), addr, stderr)
}

#[test]
fn http_server_survives_a_fault_injecting_proxy() {
    let seed = chaos::seed("cargo test --all-features --test chaos_http");
    let (mut server, addr, stderr) = start_server();
    let upstream: std::net::SocketAddr = addr.parse().unwrap();
    let proxy = Proxy::start(upstream, seed, CUT_RANGE);
    let rt = coro::Runtime::new().unwrap();
    let results = rt.block_on(async {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|id| coro::spawn(client(id, proxy.addr, seed)))
            .collect();
        coro::task::join_all(clients).await
    });

    let failures = chaos::failures(
        results
            .into_iter()
            .map(|result| result.expect("a client task panicked")),
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} connections failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The server is alive, panicked nowhere, and still answers.
    assert!(server.0.try_wait().unwrap().is_none(), "the server died");
    std::thread::sleep(Duration::from_millis(50)); // let the stderr reader catch up
    let panics: Vec<_> = stderr
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("panicked"))
        .cloned()
        .collect();
    assert!(
        panics.is_empty(),
        "seed {seed}: the server panicked: {panics:?}"
    );
    let fresh = rt.block_on(coro::time::timeout(Duration::from_secs(10), async {
        let stream = TcpStream::connect(upstream).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        coro::spawn(connection);
        let get = Request::get("/")
            .header("host", "chaos")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(get).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes()
    }));
    assert_eq!(fresh.expect("the server stopped answering"), "hello\n");
}
