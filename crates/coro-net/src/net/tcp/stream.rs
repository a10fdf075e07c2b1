//! [`TcpStream`]: a connected TCP socket that implements futures-io's
//! `AsyncRead` and `AsyncWrite`.
//!
//! The socket is an [`IoSource`] around a non-blocking
//! `std::net::TcpStream`. A read or write is one syscall straight into the
//! caller's buffer; only a `WouldBlock` makes the task wait for the next
//! readiness edge (see `stream_io.rs`, shared with Unix streams). `connect`
//! is a plain future that owns the half-open socket, so dropping it (for
//! example when a `timeout` fires) closes the socket and abandons the
//! handshake.

use std::io;
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use coro_reactor::IoSource;
use socket2::{Domain, SockAddr, SockRef, Socket};

use super::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::stream_io::{self, impl_async_io};
use crate::net::{halves, os};

/// A TCP connection.
///
/// Read and write it with futures-io's `AsyncRead`/`AsyncWrite` and the
/// `AsyncReadExt`/`AsyncWriteExt` helpers (re-exported in `coro::io`).
/// `&TcpStream` implements both traits too, so one task can read while
/// another writes through a shared reference, or use
/// [`into_split`](Self::into_split) to give each task an owned half.
///
/// # Examples
///
/// ```
/// use coro_net::net::{TcpListener, TcpStream};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = coro_core::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf.to_ascii_uppercase()).await.unwrap();
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut reply = [0; 5];
///     stream.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"HELLO");
///     server.await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    io: IoSource<std::net::TcpStream>,
}

impl_async_io!(TcpStream);

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in
    /// turn until one accepts.
    ///
    /// The future owns the socket while the handshake is in flight:
    /// dropping it closes the socket, so `timeout(d, TcpStream::connect(a))`
    /// gives a connect timeout.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unparsable address; otherwise the OS error of
    /// the last address tried (`ConnectionRefused`, `TimedOut`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use coro_net::time::timeout;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = timeout(Duration::from_secs(30), TcpStream::connect(addr))
    ///         .await
    ///         .expect("connect timed out")
    ///         .unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        let mut last_error = None;
        for addr in addrs {
            let domain = Domain::for_address(addr);
            match os::connect(domain, &SockAddr::from(addr)).await {
                Ok(io) => return Ok(TcpStream { io }),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    /// Wraps a socket that is already connected and non-blocking (from
    /// `accept4`), or its registered source (from `TcpSocket::connect`).
    pub(crate) fn from_io(io: IoSource<std::net::TcpStream>) -> TcpStream {
        TcpStream { io }
    }

    /// Wraps a socket that is already connected and non-blocking (from
    /// `accept4`).
    pub(crate) fn from_socket(socket: Socket) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSource::new(std::net::TcpStream::from(socket))?,
        })
    }

    /// Adopts a connected std stream: switches it to non-blocking mode and
    /// registers it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpStream;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// coro_core::block_on(async move {
    ///     let stream = TcpStream::from_std(std_stream).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: os::adopt(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a std stream. It stays in
    /// non-blocking mode; call `set_nonblocking(false)` to block on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut std_stream = stream.into_std().unwrap();
    ///     let err = std_stream.read(&mut [0; 1]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// Reads into memory that may be uninitialised, waiting until the socket
    /// is readable: the poll-style primitive behind adapters whose caller
    /// hands them an uninitialised buffer (hyper's `ReadBufCursor`, tokio's
    /// `ReadBuf`), so that nothing has to be zeroed before the kernel fills
    /// it. Returns how many bytes at the start of `buf` are now initialised;
    /// `Ok(0)` means end of stream (or an empty `buf`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    /// use coro::io::AsyncWriteExt;
    /// use coro::net::{TcpListener, TcpStream};
    ///
    /// coro::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"hi").await.unwrap();
    ///
    ///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    ///     let n = poll_fn(|cx| server.poll_read_uninit(cx, &mut buf)).await.unwrap();
    ///     // SAFETY: the first `n` bytes were written by the read.
    ///     let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
    ///     assert_eq!(got, b"hi");
    /// });
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        stream_io::poll_read_uninit(&self.io, cx, buf)
    }

    /// The address of the remote end.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of the local end.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(stream.local_addr().unwrap(), peer);
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: when `true`, small writes are sent at once
    /// instead of being held back by Nagle's algorithm.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY` (see [`set_nodelay`](Self::set_nodelay)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `IP_TTL`, the time-to-live of outgoing packets.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_ttl(64).unwrap();
    ///     assert_eq!(stream.ttl().unwrap(), 64);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Reads `IP_TTL` (see [`set_ttl`](Self::set_ttl)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_LINGER`: how long closing the socket may wait for unsent
    /// data (`None`: the default, close in the background). `Some(ZERO)`
    /// makes closing abort the connection with a reset (RST).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_linger(Some(Duration::ZERO)).unwrap();
    ///     assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
    /// });
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Reads `SO_LINGER` (see [`set_linger`](Self::set_linger)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.linger().unwrap(), None);
    /// });
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Shuts down the read half, the write half, or both, at once
    /// (`shutdown(2)`). After `Shutdown::Write` the peer reads end-of-file;
    /// futures-io's `close()` does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncReadExt;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        stream_io::shutdown(&self.io, how)
    }

    /// Splits the stream into a read half and a write half that can move
    /// to different tasks. Dropping the write half shuts down the write
    /// direction; [`OwnedReadHalf::reunite`](crate::net::halves::OwnedReadHalf::reunite)
    /// gives the stream back.
    ///
    /// (For two halves that stay in one task, `&TcpStream` implements
    /// `AsyncRead` and `AsyncWrite`, and `AsyncReadExt::split` works too.)
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     // The server echoes with one task per direction.
    ///     let (mut from_client, mut to_client) = server.into_split();
    ///     coro_core::spawn(async move {
    ///         futures_util::io::copy(&mut from_client, &mut to_client).await.unwrap();
    ///     });
    ///     let (mut read, mut write) = client.into_split();
    ///     write.write_all(b"echo").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     read.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"echo");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        halves::split(self)
    }

    /// Reads into `buf` without removing the data from the socket's
    /// receive queue: the next read returns the same bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(server.peek(&mut buf).await.unwrap(), 1);
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"x");
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_peek(cx, buf)).await
    }

    /// Polls a [`peek`](Self::peek), for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"y").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(poll_fn(|cx| server.poll_peek(cx, &mut buf)).await.unwrap(), 1);
    /// });
    /// ```
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |stream| stream.peek(buf))
    }
}

os::impl_as_fd!(TcpStream);
