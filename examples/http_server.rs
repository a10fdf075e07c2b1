//! An HTTP server on hyper and coro: HTTP/1.1 and HTTP/2 on one port, and
//! HTTPS with `--tls`. gevent's `WSGIServer` and the lesson every gevent
//! tutorial repeats: one slow request does not hold up the others.
//!
//! The Python lesson:
//!
//! ```python
//! from gevent.pywsgi import WSGIServer
//!
//! def app(environ, start_response):
//!     if environ["PATH_INFO"] == "/sleep":
//!         gevent.sleep(int(parse_qs(environ["QUERY_STRING"])["ms"][0]) / 1000)
//!     start_response("200 OK", [("Content-Type", "text/plain")])
//!     return [b"hello\n"]
//!
//! WSGIServer(("127.0.0.1", 8080), app).serve_forever()
//! ```
//!
//! Here hyper speaks HTTP, and coro gives it what it asks a runtime for
//! (`coro::hyper`): `Io` turns each accepted socket (or TLS stream) into
//! hyper's I/O, `Executor` runs HTTP/2's per-stream tasks, `Timer` times
//! out a client that is slow to send its request head. hyper-util's `auto`
//! builder tells HTTP/1.1 from HTTP/2 by the first bytes a client sends,
//! so both are served on the same port (HTTP/2 with prior knowledge, or
//! negotiated with ALPN over TLS).
//!
//! Routes:
//!
//! * `GET /` answers `hello`;
//! * `POST /echo` streams the request body back as it arrives (never held
//!   whole in memory, so a 10 GiB upload is fine);
//! * `GET /sleep?ms=N` answers after `coro::time::sleep(N ms)`: a hundred
//!   such requests at once all finish after about N ms, not 100 × N.
//!
//! It prints `listening on http://ADDR` (or `https://`) first, and stops
//! cleanly on Ctrl-C (`SIGINT`) or `SIGTERM`, gevent's
//! `signal_handler(SIGTERM, server.stop)`: it stops accepting, asks open
//! connections to finish (an HTTP/1.1 connection closes after its request
//! in flight, an HTTP/2 client gets a GOAWAY), gives them `--grace-ms` to do
//! so, cancels the rest, prints one summary line and exits 0.
//!
//! ```text
//! cargo run --example http_server --features hyper
//! curl http://127.0.0.1:8080/
//! curl --http2-prior-knowledge http://127.0.0.1:8080/sleep?ms=300
//! cargo run --example http_server --features hyper -- --tls --addr 127.0.0.1:8443
//! curl -k --http2 https://127.0.0.1:8443/
//! curl --data-binary @big.file http://127.0.0.1:8080/echo > copy.file
//! ```

#[path = "common/args.rs"]
mod args;
#[path = "common/tls.rs"]
mod tls;

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io::Write as _;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use coro::hyper::{Executor, Io, Timer};
use coro::net::{TcpListener, TcpStream};
use coro::signal::unix::{signal, SignalKind};
use coro::sync::Event;
use coro::task::JoinSet;
use coro::time::{sleep, timeout};
use futures::future::{select, Either};
use futures_rustls::TlsAcceptor;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::server::conn::auto;

const USAGE: &str = "usage: http_server [--addr HOST:PORT (127.0.0.1:8080)] [--tls] \
                     [--grace-ms MS (5000)]";

/// How long a client may take to send its request head (and its TLS
/// handshake): a silent peer cannot hold a connection task longer.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

type Body = UnsyncBoxBody<Bytes, hyper::Error>;

/// What the summary line reports.
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
}

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let addr: String = args.get("addr", "127.0.0.1:8080".to_owned());
    let use_tls: bool = args.get("tls", false);
    let grace = Duration::from_millis(args.get("grace-ms", 5000));

    let listener = TcpListener::bind(addr.as_str())
        .await
        .unwrap_or_else(|error| {
            eprintln!("http_server: cannot listen on {addr}: {error}");
            std::process::exit(1);
        });
    let local = listener.local_addr().expect("local_addr");
    // ALPN: HTTP/2 preferred, HTTP/1.1 for clients that do not speak it.
    let acceptor = use_tls.then(|| tls::acceptor(tls::self_signed(), &[b"h2", b"http/1.1"]));
    let scheme = if use_tls { "https" } else { "http" };
    // Installed before the address is announced: from then on these
    // signals stop the server gracefully instead of killing it.
    let mut interrupt = signal(SignalKind::interrupt()).expect("listen for SIGINT");
    let mut terminate = signal(SignalKind::terminate()).expect("listen for SIGTERM");
    let mut signalled = pin!(async {
        match select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
            Either::Left(_) => "SIGINT",
            Either::Right(_) => "SIGTERM",
        }
    });
    println!("listening on {scheme}://{local} (HTTP/1.1 and HTTP/2)");
    // Someone (a test, a script) may be waiting for this line through a pipe.
    std::io::stdout().flush().expect("flush stdout");

    // Set when a signal arrives: every connection task watches it.
    let stop = Arc::new(Event::new());

    let mut builder = auto::Builder::new(Executor::new());
    builder
        .http1()
        .timer(Timer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    builder
        .http2()
        .timer(Timer::new())
        .keep_alive_interval(Duration::from_secs(20));
    let builder = Arc::new(builder);
    let counters = Arc::new(Counters::default());

    // The accept loop; finished connection tasks are reaped as it goes.
    let mut connections = JoinSet::new();
    let signal_name = loop {
        let next = poll_fn(|cx| {
            if let Poll::Ready(name) = signalled.as_mut().poll(cx) {
                return Poll::Ready(Err(name));
            }
            while let Poll::Ready(Some(_)) = connections.poll_join_next(cx) {}
            listener.poll_accept(cx).map(Ok)
        })
        .await;
        match next {
            Err(name) => break name,
            Ok(Ok((stream, _peer))) => {
                counters.connections.fetch_add(1, Relaxed);
                connections.spawn(serve(
                    stream,
                    acceptor.clone(),
                    builder.clone(),
                    counters.clone(),
                    stop.clone(),
                ));
            }
            // Out of file descriptors, or a client that gave up before we
            // accepted it: keep serving.
            Ok(Err(error)) => {
                eprintln!("http_server: accept: {error}");
                sleep(Duration::from_millis(10)).await;
            }
        }
    };

    // Shutting down: no new connections; the open ones are asked to finish
    // (see `drive`) and get `grace` to do so.
    drop(listener);
    stop.set();
    let open = connections.len();
    let drained = timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    let cancelled = if drained { 0 } else { connections.len() };
    connections.shutdown().await;
    println!(
        "stopped by {signal_name}: served {} connections, {} requests; {open} open at the signal, \
         {cancelled} cancelled after the {} ms grace period",
        counters.connections.load(Relaxed),
        counters.requests.load(Relaxed),
        grace.as_millis(),
    );
}

/// Serves one connection until the client closes it, or until shutdown
/// asked it to finish its requests in flight.
async fn serve(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    builder: Arc<auto::Builder<Executor>>,
    counters: Arc<Counters>,
    stop: Arc<Event>,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| {
        counters.requests.fetch_add(1, Relaxed);
        route(request)
    });
    let result = match acceptor {
        None => drive(builder.serve_connection(Io::new(stream), service), &stop).await,
        Some(acceptor) => match timeout(HEAD_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => drive(builder.serve_connection(Io::new(tls), service), &stop).await,
            Ok(Err(_)) | Err(_) => return, // a failed or abandoned handshake
        },
    };
    if let Err(error) = result {
        // A client that went away mid-request is not the server's problem.
        let text = error.to_string();
        if !text.contains("connection closed") && !text.contains("reset") {
            eprintln!("http_server: {text}");
        }
    }
}

/// Drives a connection; when `stop` is set, asks it to finish the requests
/// in flight and close (a GOAWAY for HTTP/2), then drives it to the end.
async fn drive<C>(connection: C, stop: &Event) -> C::Output
where
    C: GracefulShutdown,
{
    let mut connection = pin!(connection);
    let mut stopped = pin!(stop.wait());
    let mut asked = false;
    poll_fn(|cx| {
        if !asked && stopped.as_mut().poll(cx).is_ready() {
            asked = true;
            connection.as_mut().graceful_shutdown();
        }
        connection.as_mut().poll(cx)
    })
    .await
}

/// hyper-util's auto connection, named by what `drive` needs of it.
trait GracefulShutdown: Future {
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>);
}

impl<I, S, B> GracefulShutdown for auto::Connection<'_, I, S, Executor>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    Executor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>) {
        auto::Connection::graceful_shutdown(self)
    }
}

/// The routes.
async fn route(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello\n"),
        // The request body, frame by frame, becomes the response body.
        (&Method::POST, "/echo") => Response::new(request.into_body().boxed_unsync()),
        (&Method::GET, "/sleep") => match sleep_millis(request.uri().query()) {
            Some(ms) => {
                sleep(Duration::from_millis(ms)).await; // gevent.sleep(ms / 1000)
                text(StatusCode::OK, format!("slept {ms} ms\n"))
            }
            None => text(StatusCode::BAD_REQUEST, "usage: /sleep?ms=N (N ≤ 60000)\n"),
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(response)
}

/// `N` from a query string `ms=N`, at most a minute.
fn sleep_millis(query: Option<&str>) -> Option<u64> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))?
        .parse()
        .ok()
        .filter(|&ms| ms <= 60_000)
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let body = Full::new(body.into()).map_err(|never| match never {});
    let mut response = Response::new(body.boxed_unsync());
    *response.status_mut() = status;
    response
}
