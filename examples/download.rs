//! Downloading many files at once: gevent's monkey-patched `urlopen`, or
//! aiohttp, reading each response in 512-byte chunks.
//!
//! The Python lesson:
//!
//! ```python
//! from gevent import monkey; monkey.patch_all()   # urlopen's socket now yields
//! import gevent
//! from urllib.request import urlopen
//!
//! def download(url):
//!     data = b""
//!     with urlopen(url) as resp:
//!         while True:
//!             chunk = resp.read(512)   # the greenlet yields until bytes arrive
//!             if not chunk:
//!                 break
//!             data += chunk
//!     return data
//!
//! jobs = [gevent.spawn(download, url) for url in urls]
//! gevent.joinall(jobs)
//! ```
//!
//! (With aiohttp it is `async with session.get(url) as resp:` and
//! `await resp.content.read(512)`.) Here the socket is cooperative by
//! construction, no patching needed: `coro::net::TcpStream` yields to the
//! runtime whenever a read would block. HTTP is hyper's client running on
//! coro (`coro::hyper::Io` around the socket, or around a rustls stream for
//! `https://`), and the response body is read 512 bytes at a time through
//! futures-io's `read`, as `resp.read(512)` does.
//!
//! Given no URLs, it serves its own files: a hyper server on 127.0.0.1 (a
//! random port) holds `--files` in-memory files of `--size` bytes and waits
//! `--delay-ms` before answering each request, like a server that takes a
//! moment to respond. With `--tls` it serves them over HTTPS with a
//! certificate signed by a local CA made at start (with `rcgen`), and the
//! client is told to trust that CA, as a company's internal CA is trusted.
//! It downloads them all one after the other, then all at once, checks
//! every byte of both, and prints the two times: sequential pays the delay
//! once per file, concurrent about once in all. Given `http://` or
//! `https://` URLs, it downloads those instead (https checked against the
//! public web's roots, from `webpki-roots`).
//!
//! ```text
//! cargo run --example download --features hyper
//! cargo run --example download --features hyper -- --tls --files 20 --size 1048576 --delay-ms 200
//! cargo run --example download --features hyper -- http://example.com/ https://example.org/
//! ```

#[path = "common/args.rs"]
mod args;
#[path = "common/tls.rs"]
mod tls;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coro::hyper::Io;
use coro::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use coro::net::{TcpListener, TcpStream};
use futures::TryStreamExt;
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::{TlsAcceptor, TlsConnector};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, Uri};

const USAGE: &str = "usage: download [--files N (8)] [--size BYTES (262144)] [--delay-ms MS (50)] \
                     [--tls] [http(s)://HOST[:PORT]/PATH ...]";

/// The lesson's chunk size: `resp.read(512)`.
const CHUNK: usize = 512;

/// The self-served files' contents, shared by the server and the checker.
type Files = Arc<Vec<Bytes>>;

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let files: usize = args.get("files", 8);
    let size: usize = args.get("size", 256 * 1024);
    let delay = Duration::from_millis(args.get("delay-ms", 50));
    let use_tls: bool = args.get("tls", false);

    // The URLs to fetch, and for self-served files what they must contain.
    let (urls, expected, client) = if args.positional.is_empty() {
        let contents: Files = Arc::new((0..files).map(|i| content(i, size)).collect());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        // Over TLS, the server's certificate is signed by a CA made here,
        // and the client trusts that CA and nothing else.
        let (acceptor, client) = if use_tls {
            let (identity, ca) = tls::local_ca();
            let client = Client {
                tls: Some(tls::connector(&[ca], &[b"http/1.1"])),
            };
            (Some(tls::acceptor(identity, &[b"http/1.1"])), client)
        } else {
            (None, Client { tls: None })
        };
        coro::spawn(serve_files(listener, acceptor, contents.clone(), delay)); // detached
        let scheme = if use_tls { "https" } else { "http" };
        println!(
            "serving {files} files of {size} bytes over {scheme} in this process, {} ms delay per file",
            delay.as_millis()
        );
        let urls = (0..files)
            .map(|i| format!("{scheme}://localhost:{}/files/{i}", addr.port()))
            .collect();
        (urls, Some(contents), client)
    } else {
        for url in &args.positional {
            if let Err(error) = parse_url(url) {
                eprintln!("download: {url}: {error}\n{USAGE}");
                std::process::exit(2);
            }
        }
        let client = Client {
            tls: Some(tls::public_connector(&[b"http/1.1"])),
        };
        (args.positional.clone(), None, client)
    };
    let client = Arc::new(client);

    // One after the other: `for url in urls: download(url)`.
    let start = Instant::now();
    let mut sequential = Vec::new();
    for url in &urls {
        sequential.push(client.download(url).await);
    }
    let sequential_time = start.elapsed();

    // All at once: `gevent.joinall([gevent.spawn(download, url) for url in urls])`.
    let start = Instant::now();
    let jobs: Vec<_> = urls
        .iter()
        .map(|url| {
            let (url, client) = (url.clone(), client.clone());
            coro::spawn(async move { client.download(&url).await })
        })
        .collect();
    let concurrent: Vec<io::Result<Vec<u8>>> = coro::task::join_all(jobs)
        .await
        .into_iter()
        .map(|result| result.expect("a download task panicked"))
        .collect();
    let concurrent_time = start.elapsed();

    let mut failed = false;
    for (i, (url, body)) in urls.iter().zip(&concurrent).enumerate() {
        let label = if expected.is_some() {
            format!("file {i}")
        } else {
            format!("file {i} ({url})")
        };
        match body {
            Ok(body) => println!("{label}: {} bytes", body.len()),
            Err(error) => {
                println!("{label}: failed: {error}");
                failed = true;
            }
        }
    }
    if let Some(expected) = &expected {
        // Both passes must have received exactly what the server holds.
        for (pass, bodies) in [("sequential", &sequential), ("concurrent", &concurrent)] {
            for (i, body) in bodies.iter().enumerate() {
                if body.as_ref().ok().map(Vec::as_slice) != Some(&expected[i][..]) {
                    println!("{pass} download of file {i} does not match what was served");
                    failed = true;
                }
            }
        }
        if !failed {
            println!("checked: every byte of both passes matches what was served");
        }
    }
    println!("sequential: {:.1} ms", millis(sequential_time));
    println!("concurrent: {:.1} ms", millis(concurrent_time));
    if failed {
        std::process::exit(1);
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------
// The client: `urlopen(url)` and `resp.read(512)`, on hyper.

/// What a URL names: the host to connect to, its port, whether to speak
/// TLS, and the request target.
struct Target {
    host: String,
    port: u16,
    https: bool,
    uri: Uri,
}

/// Checks an `http://` or `https://` URL and splits out what `download`
/// needs.
fn parse_url(url: &str) -> Result<Target, String> {
    let uri: Uri = url.parse().map_err(|error| format!("not a URL: {error}"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err("only http:// and https:// URLs are supported".to_owned()),
    };
    let host = uri.host().ok_or("no host in the URL")?;
    // `[::1]` in a URL is `::1` to connect to.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Target {
        host,
        port,
        https,
        uri,
    })
}

/// The HTTP client: how to speak TLS for `https://` URLs.
struct Client {
    tls: Option<TlsConnector>,
}

impl Client {
    /// `download(url)`: GET the URL and return the body.
    async fn download(&self, url: &str) -> io::Result<Vec<u8>> {
        let target = parse_url(url).map_err(io::Error::other)?;
        // The name lookup runs off the event loop, like gevent's resolver.
        let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
        if !target.https {
            return get(stream, &target).await;
        }
        let connector = self
            .tls
            .as_ref()
            .ok_or_else(|| io::Error::other("https is not set up for this client"))?;
        let name = ServerName::try_from(target.host.clone()).map_err(io::Error::other)?;
        // A certificate the client does not trust fails here, with the
        // rustls error as the io::Error's cause.
        let stream = connector.connect(name, stream).await?;
        get(stream, &target).await
    }
}

/// One HTTP/1.1 GET over `stream`, the body read in 512-byte chunks.
async fn get<S>(stream: S, target: &Target) -> io::Result<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .map_err(io::Error::other)?;
    // The connection's I/O runs in its own task, as hyper expects.
    coro::spawn(connection);
    let authority = target
        .uri
        .authority()
        .map_or(target.host.as_str(), |a| a.as_str());
    let path = target.uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "coro-download")
        .body(Empty::<Bytes>::new())
        .map_err(io::Error::other)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(io::Error::other)?;
    if response.status() != StatusCode::OK {
        return Err(io::Error::other(format!(
            "server answered {}",
            response.status()
        )));
    }
    // `resp.read(512)`: the body as a futures-io reader.
    let mut body = response
        .into_body()
        .into_data_stream()
        .map_err(io::Error::other)
        .into_async_read();
    read_body(&mut body).await
}

/// `while True: chunk = resp.read(512); if not chunk: break; data += chunk`.
async fn read_body(reader: &mut (impl AsyncRead + Unpin)) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut chunk = [0u8; CHUNK];
    loop {
        let n = reader.read(&mut chunk).await?; // yields until bytes arrive
        if n == 0 {
            return Ok(data);
        }
        data.extend_from_slice(&chunk[..n]);
    }
}

// ---------------------------------------------------------------------------
// The server: hyper, handing out `/files/N`.

/// What file `i` holds: a pattern that differs from file to file, so a
/// mixed-up or truncated download shows.
fn content(i: usize, size: usize) -> Bytes {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789\n";
    (0..size)
        .map(|j| ALPHABET[(i * 7 + j) % ALPHABET.len()])
        .collect()
}

/// Accepts connections forever, one task per connection.
async fn serve_files(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    files: Files,
    delay: Duration,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (acceptor, files) = (acceptor.clone(), files.clone());
                coro::spawn(async move {
                    let served = match acceptor {
                        None => serve_one(stream, files, delay).await,
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(tls) => serve_one(tls, files, delay).await,
                            Err(error) => Err(error),
                        },
                    };
                    if let Err(error) = served {
                        eprintln!("download server: {error}");
                    }
                });
            }
            Err(error) => {
                eprintln!("download server: accept: {error}");
                coro::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Serves one connection's requests: `/files/N` after `delay`.
async fn serve_one<S>(stream: S, files: Files, delay: Duration) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let files = files.clone();
        async move {
            // "/files/3" -> Some(&files[3])
            let file = request
                .uri()
                .path()
                .strip_prefix("/files/")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| files.get(n).cloned());
            coro::time::sleep(delay).await; // the server "thinks" before answering
            let response = match file {
                Some(body) => Response::new(Full::new(body)),
                None => {
                    let mut not_found = Response::new(Full::default());
                    *not_found.status_mut() = StatusCode::NOT_FOUND;
                    not_found
                }
            };
            Ok::<_, hyper::Error>(response)
        }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(Io::new(stream), service)
        .await
        .map_err(io::Error::other)
}
