//! The uppercase echo server over TLS: gevent's `StreamServer` with
//! `ssl_context`, on rustls through futures-rustls.
//!
//! The Python lesson:
//!
//! ```python
//! context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
//! context.load_cert_chain("cert.pem", "key.pem")
//! StreamServer(("127.0.0.1", 8443), handle, ssl_context=context).serve_forever()
//! ```
//!
//! futures-rustls implements TLS on the futures-io traits that coro's
//! sockets implement, so no adapter is needed: `acceptor.accept(stream)`
//! gives a TLS stream that `read`s and `write_all`s like the socket did.
//!
//! At start it makes a self-signed certificate for `localhost` with
//! `rcgen`, serves the uppercase echo on 127.0.0.1 (a random port) and runs
//! three kinds of client against it at the same time:
//!
//! * `--clients` clients that trust the certificate, each sending
//!   `--messages` messages of 1 to 4096 bytes and checking every byte of
//!   every reply;
//! * one client that does not trust it: its handshake fails with an
//!   `io::Error` whose cause is the rustls certificate error;
//! * one client that connects and never sends a ClientHello: the server
//!   drops it after `--handshake-timeout-ms`, and it reads end-of-file.
//!
//! The other clients are served all the while. It prints a line per kind
//! of client and the server's count of handshakes.
//!
//! ```text
//! cargo run --example tls_echo
//! cargo run --example tls_echo -- --clients 100 --messages 200
//! ```

#[path = "common/args.rs"]
mod args;
#[path = "common/tls.rs"]
mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use coro::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};
use coro::time::timeout;
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::rustls::{CertificateError, Error as TlsError};
use futures_rustls::{TlsAcceptor, TlsConnector};

const USAGE: &str = "usage: tls_echo [--clients N (20)] [--messages N (50)] \
                     [--handshake-timeout-ms MS (500)]";

/// What the server saw, for the closing line.
#[derive(Default)]
struct Handshakes {
    ok: AtomicUsize,
    failed: AtomicUsize,
    timed_out: AtomicUsize,
}

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let clients: usize = args.get("clients", 20);
    let messages: usize = args.get("messages", 50);
    let handshake_timeout = Duration::from_millis(args.get("handshake-timeout-ms", 500));

    let identity = tls::self_signed();
    let certificate = identity.chain[0].clone();
    let acceptor = tls::acceptor(identity, &[]);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    println!("listening on {addr} (TLS, self-signed certificate for localhost)");

    let handshakes = Arc::new(Handshakes::default());
    coro::spawn(serve(
        listener,
        acceptor,
        handshake_timeout,
        handshakes.clone(),
    ));

    // The three kinds of client, all at once.
    let silent = coro::spawn(silent_client(addr));
    let untrusted = coro::spawn(untrusted_client(addr));
    let trusting = tls::connector(&[certificate], &[]);
    let echoes: Vec<_> = (0..clients)
        .map(|client| coro::spawn(echo_client(addr, trusting.clone(), client, messages)))
        .collect();

    let mut bytes = 0;
    for result in coro::task::join_all(echoes).await {
        bytes += result
            .expect("an echo client panicked")
            .unwrap_or_else(|error| panic!("an echo client failed: {error}"));
    }
    println!(
        "{clients} clients echoed {messages} messages each over TLS ({bytes} bytes): every byte checked"
    );
    println!(
        "{}",
        untrusted.await.expect("the untrusted client panicked")
    );
    println!("{}", silent.await.expect("the silent client panicked"));
    println!(
        "server: {} handshakes completed, {} failed, {} timed out",
        handshakes.ok.load(Relaxed),
        handshakes.failed.load(Relaxed),
        handshakes.timed_out.load(Relaxed)
    );
}

/// The accept loop: one task per connection, each with a bounded handshake.
async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    handshakes: Arc<Handshakes>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("tls_echo: accept: {error}");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let handshakes = handshakes.clone();
        coro::spawn(async move {
            // A peer that never finishes its handshake cannot hold this
            // task: the timeout drops the stream, closing the socket.
            let tls = match timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(_)) => {
                    handshakes.failed.fetch_add(1, Relaxed);
                    return;
                }
                Err(_elapsed) => {
                    handshakes.timed_out.fetch_add(1, Relaxed);
                    return;
                }
            };
            handshakes.ok.fetch_add(1, Relaxed);
            if let Err(error) = uppercase_echo(tls).await {
                eprintln!("tls_echo: {peer}: {error}");
            }
        });
    }
}

/// The lesson's `handle`: echo in uppercase until the client closes.
async fn uppercase_echo(mut stream: impl AsyncRead + AsyncWrite + Unpin) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        buf[..n].make_ascii_uppercase();
        stream.write_all(&buf[..n]).await?;
    }
}

/// Sends `messages` messages of 1..=4096 lowercase bytes and checks that
/// each comes back uppercased. Returns the bytes echoed.
async fn echo_client(
    addr: SocketAddr,
    connector: TlsConnector,
    client: usize,
    messages: usize,
) -> io::Result<usize> {
    let stream = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let mut tls = connector.connect(name, stream).await?;
    let mut total = 0;
    let mut reply = vec![0u8; 4096];
    for message in 0..messages {
        let len = 1 + (client * 7919 + message * 104_729) % 4096;
        let sent: Vec<u8> = (0..len)
            .map(|i| b'a' + ((client + message + i) % 26) as u8)
            .collect();
        tls.write_all(&sent).await?;
        tls.read_exact(&mut reply[..len]).await?;
        if reply[..len] != sent.to_ascii_uppercase()[..] {
            return Err(io::Error::other(format!(
                "client {client}, message {message}: reply differs from the uppercased message"
            )));
        }
        total += len;
    }
    tls.close().await?;
    Ok(total)
}

/// A client that trusts nothing: the handshake must fail with the rustls
/// certificate error as the `io::Error`'s cause.
async fn untrusted_client(addr: SocketAddr) -> String {
    let connector = tls::connector(&[], &[]);
    let stream = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let error = match connector.connect(name, stream).await {
        Ok(_) => panic!("a client that trusts no certificate completed a handshake"),
        Err(error) => error,
    };
    match tls::rustls_cause(&error) {
        Some(TlsError::InvalidCertificate(CertificateError::UnknownIssuer)) => format!(
            "untrusted client: refused ({:?}): {error}; cause: rustls InvalidCertificate(UnknownIssuer)",
            error.kind()
        ),
        other => panic!("expected an unknown-issuer rustls error, got {error:?} (cause {other:?})"),
    }
}

/// A client that connects and never says a word: the server's handshake
/// timeout must drop it, so its read sees end-of-file (or a reset).
async fn silent_client(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut byte = [0u8; 1];
    // Far longer than the server's handshake timeout: only a server that
    // forgot to time out makes this fire.
    match timeout(Duration::from_secs(30), stream.read(&mut byte)).await {
        Ok(Ok(0)) => "silent client: dropped by the server at its handshake timeout".to_owned(),
        Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionReset => {
            "silent client: dropped by the server at its handshake timeout".to_owned()
        }
        Ok(other) => panic!("silent client: expected end-of-file, got {other:?}"),
        Err(_) => panic!("silent client: the server held a silent connection for 30 s"),
    }
}
