//! Sockets: TCP, UDP and Unix domain sockets, and name lookup.
//!
//! gevent's monkey-patched `socket` module made blocking-looking code
//! cooperative; here every socket is cooperative by construction. Each one
//! is a non-blocking OS socket registered with the reactor
//! ([`IoSource`](coro_reactor::IoSource)): an operation tries the syscall
//! first, and only if the OS says `WouldBlock` does the task yield until
//! the reactor sees the socket become ready. Errors are the OS's own
//! `io::Error`s.
//!
//! The sockets also work when polled by another executor (tokio,
//! `futures::executor`): outside a coro runtime they register with a
//! fallback reactor that has its own thread.
//!
//! # Map
//!
//! | file | what it holds |
//! |---|---|
//! | `addr.rs` | [`ToSocketAddrs`] and [`lookup_host`]: literal addresses parse at once, host names resolve on the blocking pool |
//! | `tcp/listener.rs`, `tcp/stream.rs`, `tcp/socket.rs` | [`TcpListener`], [`TcpStream`], [`TcpSocket`] (options, `SO_REUSEPORT`, bind before listen or connect) |
//! | `udp.rs` | [`UdpSocket`] |
//! | `unix/` | [`UnixListener`], [`UnixStream`], [`UnixDatagram`] |
//! | `stream_io.rs` | the `AsyncRead`/`AsyncWrite` code shared by both stream types |
//! | `halves.rs` | [`halves`]: owned read/write halves shared by both stream types |
//! | `incoming.rs` | [`Incoming`], a listener as a `Stream` of connections |
//! | `os.rs` | the socket syscalls everything shares (non-blocking `socket`, `listen`, `accept4`, `connect`) |
//!
//! # Examples
//!
//! ```
//! use coro_net::net::{TcpListener, TcpStream};
//! use futures_util::io::{AsyncReadExt, AsyncWriteExt};
//!
//! coro_core::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     coro_core::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         futures_util::io::copy(&stream, &mut &stream).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"echo me").await.unwrap();
//!     let mut buf = [0; 7];
//!     client.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"echo me");
//! });
//! ```

mod addr;
pub mod halves;
mod incoming;
mod os;
pub(crate) mod stream_io;
pub mod tcp;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use incoming::Incoming;
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};
