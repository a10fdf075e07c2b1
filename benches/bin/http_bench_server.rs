//! The HTTP server that `bench_report`'s HTTP scenarios measure: the same
//! hyper service on each runtime, one runtime per process.
//!
//! ```text
//! cargo run --release -p coro-benches --bin http_bench_server -- --runtime coro_mt
//! ```
//!
//! It prints `listening on ADDR`, then serves until stdin closes or says
//! `quit`. The load comes from `wrk` and `h2load` in other processes, so
//! their CPU time is not in this process's.
//!
//! | `--runtime` | what serves                                                           |
//! |-------------|-----------------------------------------------------------------------|
//! | `coro_mt`   | coro multi-thread runtime, 2 workers, `coro::hyper::{Io, Executor}`   |
//! | `coro_ct`   | coro current-thread runtime                                           |
//! | `tokio_mt`  | tokio multi-thread runtime, 2 workers, hyper-util's `TokioIo`/`TokioExecutor` |
//! | `tokio_ct`  | tokio current-thread runtime                                          |
//! | `smol_mt`   | `async_executor::Executor` run by 2 threads, `async_io::Async`, smol-hyper |
//!
//! Every variant serves with hyper-util's `auto::Builder` (HTTP/1.1 and
//! HTTP/2 with prior knowledge on one port), `TCP_NODELAY` on, one task per
//! connection, and the one service below: `GET /` answers
//! `Hello, World!`, `POST /echo` collects the body and sends it back.

#[path = "../../examples/common/args.rs"]
mod args;
#[path = "../common/quit.rs"]
mod quit;

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::server::conn::auto;

const USAGE: &str = "usage: http_bench_server --runtime coro_mt|coro_ct|tokio_mt|tokio_ct|smol_mt \
                     [--addr 127.0.0.1:0] \
                     [--spin-us MICROSECONDS (coro: spin_before_park; the runtime's default)]";

/// Worker threads of every multi-thread variant.
const WORKERS: usize = 2;

fn main() {
    let args = args::Args::parse(USAGE);
    let runtime: String = args.get("runtime", String::new());
    let addr: SocketAddr = args.get("addr", SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|error| {
        eprintln!("http_bench_server: cannot listen on {addr}: {error}");
        std::process::exit(1);
    });
    listener.set_nonblocking(true).expect("set_nonblocking");
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "listening on {}",
        listener.local_addr().expect("local_addr")
    );
    let _ = out.flush();
    drop(out);
    std::thread::spawn(quit::exit_on_quit);
    match runtime.as_str() {
        "coro_mt" | "coro_ct" => {
            let mut builder = coro::Runtime::builder();
            if runtime == "coro_ct" {
                builder.current_thread();
            } else {
                builder.worker_threads(WORKERS);
            }
            if let Some(us) = args.get_opt::<u64>("spin-us") {
                builder.spin_before_park(std::time::Duration::from_micros(us));
            }
            let rt = builder.build().expect("coro runtime");
            rt.block_on(coro_server::serve(listener));
        }
        "tokio_mt" | "tokio_ct" => {
            let mut builder = if runtime == "tokio_ct" {
                tokio::runtime::Builder::new_current_thread()
            } else {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(WORKERS);
                b
            };
            let rt = builder.enable_all().build().expect("tokio runtime");
            rt.block_on(tokio_server::serve(listener));
        }
        "smol_mt" => smol_server::serve(listener),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The service every runtime runs.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if request.method() == Method::POST && request.uri().path() == "/echo" {
        let body = request.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// A connection that failed is the client's doing (wrk closes mid-request
/// when its time is up): not worth a line per connection.
fn ignore<E>(_: Result<(), E>) {}

mod coro_server {
    use super::*;
    use coro::hyper::{Executor, Io};

    pub async fn serve(listener: std::net::TcpListener) {
        let listener = coro::net::TcpListener::from_std(listener).expect("register listener");
        let builder = Arc::new(auto::Builder::new(Executor::new()));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let builder = builder.clone();
            coro::spawn(async move {
                let service = hyper::service::service_fn(handle);
                ignore(builder.serve_connection(Io::new(stream), service).await);
            });
        }
    }
}

mod tokio_server {
    use super::*;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    pub async fn serve(listener: std::net::TcpListener) {
        let listener = tokio::net::TcpListener::from_std(listener).expect("register listener");
        let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let builder = builder.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                ignore(
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await,
                );
            });
        }
    }
}

mod smol_server {
    use super::*;
    use async_executor::Executor;
    use smol_hyper::rt::{FuturesIo, SmolExecutor};

    pub fn serve(listener: std::net::TcpListener) {
        let ex = Arc::new(Executor::new());
        // WORKERS threads run the executor; the main thread is one of them.
        for _ in 1..WORKERS {
            let ex = ex.clone();
            std::thread::spawn(move || async_io::block_on(ex.run(std::future::pending::<()>())));
        }
        let listener = async_io::Async::new(listener).expect("register listener");
        let builder = Arc::new(auto::Builder::new(SmolExecutor::new(ex.clone())));
        async_io::block_on(ex.run(async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.get_ref().set_nodelay(true);
                let builder = builder.clone();
                ex.spawn(async move {
                    let service = hyper::service::service_fn(handle);
                    ignore(
                        builder
                            .serve_connection(FuturesIo::new(stream), service)
                            .await,
                    );
                })
                .detach();
            }
        }));
    }
}
