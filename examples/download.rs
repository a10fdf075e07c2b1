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
//! runtime whenever a read would block. The HTTP client is a minimal one
//! written by hand (a request line, headers, then the body read 512 bytes at
//! a time), so every byte's path is visible.
//!
//! Given no URLs, it serves its own files: a minimal HTTP/1.1 server on
//! 127.0.0.1 (a random port) holds `--files` in-memory files of `--size`
//! bytes and waits `--delay-ms` before answering each request, like a
//! server that takes a moment to respond. It downloads them all one after
//! the other, then all at once, checks every byte of both, and prints the
//! two times: sequential pays the delay once per file, concurrent about
//! once in all. Given `http://` URLs, it downloads those instead (no https:
//! there is no TLS here).
//!
//! ```text
//! cargo run --example download
//! cargo run --example download -- --files 20 --size 1048576 --delay-ms 200
//! cargo run --example download -- http://example.com/ http://example.org/
//! ```

#[path = "common/args.rs"]
mod args;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coro::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use coro::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: download [--files N (8)] [--size BYTES (262144)] [--delay-ms MS (50)] \
                     [http://HOST[:PORT]/PATH ...]";

/// The lesson's chunk size: `resp.read(512)`.
const CHUNK: usize = 512;

/// The self-served files' contents, shared by the server and the checker.
type Files = Arc<Vec<Vec<u8>>>;

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let files: usize = args.get("files", 8);
    let size: usize = args.get("size", 256 * 1024);
    let delay = Duration::from_millis(args.get("delay-ms", 50));

    // The URLs to fetch, and for self-served files what they must contain.
    let (urls, expected): (Vec<String>, Option<Files>) = if args.positional.is_empty() {
        let contents: Files = Arc::new((0..files).map(|i| content(i, size)).collect());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        coro::spawn(serve_files(listener, contents.clone(), delay)); // detached
        println!(
            "serving {files} files of {size} bytes in this process, {} ms delay per file",
            delay.as_millis()
        );
        let urls = (0..files)
            .map(|i| format!("http://{addr}/files/{i}"))
            .collect();
        (urls, Some(contents))
    } else {
        for url in &args.positional {
            if let Err(error) = parse_url(url) {
                eprintln!("download: {url}: {error}\n{USAGE}");
                std::process::exit(2);
            }
        }
        (args.positional.clone(), None)
    };

    // One after the other: `for url in urls: download(url)`.
    let start = Instant::now();
    let mut sequential = Vec::new();
    for url in &urls {
        sequential.push(download(url).await);
    }
    let sequential_time = start.elapsed();

    // All at once: `gevent.joinall([gevent.spawn(download, url) for url in urls])`.
    let start = Instant::now();
    let jobs: Vec<_> = urls
        .iter()
        .map(|url| {
            let url = url.clone();
            coro::spawn(async move { download(&url).await })
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
                if body.as_ref().ok() != Some(&expected[i]) {
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
// The client: `urlopen(url)` and `resp.read(512)` by hand.

/// Splits `http://host[:port]/path` into host, port and path.
fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    if url.starts_with("https://") {
        return Err(
            "https is not supported: this example speaks plain HTTP over TCP, \
                    without TLS; use an http:// URL"
                .to_owned(),
        );
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http://HOST[:PORT]/PATH URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    // `[::1]:8080` or `host:8080` or `host` (port 80).
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.ends_with(']') => {
            let port = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            (host, port)
        }
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("no host in the URL".to_owned());
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

/// `download(url)`: GET the URL and return the body.
async fn download(url: &str) -> io::Result<Vec<u8>> {
    let (host, port, path) = parse_url(url).map_err(io::Error::other)?;
    // The name lookup runs off the event loop, like gevent's resolver.
    let stream = TcpStream::connect((host.as_str(), port)).await?;
    let host_header = if port == 80 {
        host.clone()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: coro-download\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    (&stream).write_all(request.as_bytes()).await?;

    // The status line and the headers, one line at a time.
    let mut reader = BufReader::new(&stream);
    let status_line = read_line(&mut reader).await?;
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if !status_line.starts_with("HTTP/1.") || status != "200" {
        return Err(io::Error::other(format!("server answered {status_line:?}")));
    }
    let mut content_length = None;
    let mut chunked = false;
    loop {
        let line = read_line(&mut reader).await?;
        if line.is_empty() {
            break; // the blank line that ends the headers
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value.parse().map_err(|_| bad_data("bad Content-Length"))?;
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }

    let mut body = Vec::new();
    if chunked {
        // Transfer-Encoding: chunked: `SIZE-IN-HEX\r\n`, SIZE bytes, `\r\n`,
        // ..., and a size of 0 at the end (then optional trailers).
        loop {
            let line = read_line(&mut reader).await?;
            let hex = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(hex, 16).map_err(|_| bad_data("bad chunk size"))?;
            if size == 0 {
                while !read_line(&mut reader).await?.is_empty() {}
                break;
            }
            read_body(&mut reader, Some(size), &mut body).await?;
            read_line(&mut reader).await?;
        }
    } else {
        // With `Connection: close` the body ends where the connection does;
        // Content-Length, when given, says where that should be.
        read_body(&mut reader, content_length, &mut body).await?;
    }
    Ok(body)
}

/// `while True: chunk = resp.read(512); if not chunk: break; data += chunk`,
/// stopping after `limit` bytes if there is a limit.
async fn read_body(
    reader: &mut (impl AsyncRead + Unpin),
    limit: Option<u64>,
    body: &mut Vec<u8>,
) -> io::Result<()> {
    let mut chunk = [0u8; CHUNK];
    let mut left = limit.unwrap_or(u64::MAX);
    while left > 0 {
        let want = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
        let n = reader.read(&mut chunk[..want]).await?; // yields until bytes arrive
        if n == 0 {
            break; // the server closed the connection
        }
        body.extend_from_slice(&chunk[..n]);
        left -= n as u64;
    }
    match limit {
        Some(_) if left > 0 => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("connection closed {left} bytes before the end of the body"),
        )),
        _ => Ok(()),
    }
}

/// One header line without its `\r\n`; an error at end of stream.
async fn read_line(reader: &mut (impl AsyncBufRead + Unpin)) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed in the headers",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn bad_data(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

// ---------------------------------------------------------------------------
// The server: just enough HTTP/1.1 to hand out `/files/N`.

/// What file `i` holds: a pattern that differs from file to file, so a
/// mixed-up or truncated download shows.
fn content(i: usize, size: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789\n";
    (0..size)
        .map(|j| ALPHABET[(i * 7 + j) % ALPHABET.len()])
        .collect()
}

/// Accepts connections forever, one task per request.
async fn serve_files(listener: TcpListener, files: Files, delay: Duration) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let files = files.clone();
                coro::spawn(async move {
                    if let Err(error) = serve_one(stream, &files, delay).await {
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

/// Reads one request, waits `delay`, answers it and closes the connection.
async fn serve_one(stream: TcpStream, files: &[Vec<u8>], delay: Duration) -> io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let request_line = read_line(&mut reader).await?;
    while !read_line(&mut reader).await?.is_empty() {} // skip the headers

    // "GET /files/3 HTTP/1.1" -> Some(&files[3])
    let file = request_line
        .strip_prefix("GET /files/")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| files.get(n));

    coro::time::sleep(delay).await; // the server "thinks" before answering
    let mut out = &stream;
    match file {
        Some(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes()).await?;
            out.write_all(body).await?;
        }
        None => {
            let head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            out.write_all(head.as_bytes()).await?;
        }
    }
    out.flush().await
    // Dropping the stream closes the connection: the end of the body.
}
