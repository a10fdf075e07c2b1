//! Unix domain sockets: [`UnixListener`] and [`UnixStream`], the local
//! cousins of TCP (a path in the file system instead of an IP address and
//! port).
//!
//! They reuse everything the TCP types are made of: the socket helpers of
//! `os.rs`, the `AsyncRead`/`AsyncWrite` implementation of `stream_io.rs`,
//! the owned halves of [`halves`](crate::net::halves). `bind` is
//! synchronous because binding a path never waits for anyone; `connect`
//! is async because it can wait for room in the listener's backlog.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use coro_reactor::IoSource;
use futures_core::Stream;
use socket2::{Domain, SockAddr, Type};

use crate::net::stream_io::{self, impl_async_io};
use crate::net::{halves, os, Incoming};

/// The listen backlog of a Unix listener (capped by `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// A Unix domain socket listening for connections.
///
/// # Examples
///
/// ```
/// use coro_net::net::{UnixListener, UnixStream};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// let dir = std::env::temp_dir().join(format!("coro-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// coro_core::block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let mut client = UnixStream::connect(&path).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"local").await.unwrap();
///     let mut buf = [0; 5];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"local");
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: IoSource<std_unix::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to `path`, which must not exist yet.
    /// Synchronous: binding does not wait for anything.
    ///
    /// # Errors
    ///
    /// The OS error: `AddrInUse` if `path` exists, `NotFound` if its
    /// directory does not, `InvalidInput` if it is too long.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-bind-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let socket = os::new_socket(Domain::UNIX, Type::STREAM)?;
        socket.bind(&SockAddr::unix(path)?)?;
        socket.listen(BACKLOG)?;
        Ok(UnixListener {
            io: IoSource::new(std_unix::UnixListener::from(socket))?,
        })
    }

    /// Waits for a connection and returns the new stream and the peer's
    /// address (usually unnamed). Cancel-safe. Errors are the OS's; see
    /// [`TcpListener::accept`](super::TcpListener::accept) for an accept
    /// loop that survives `EMFILE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("coro-accept-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_server_side, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_unnamed());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection, for hand-written futures (see
    /// [`accept`](Self::accept)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("coro-poll-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     assert!(poll_fn(|cx| listener.poll_accept(cx)).await.is_ok());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        // std's `accept` (`accept4(SOCK_CLOEXEC)`) because it returns the
        // peer's address in std's type; one more syscall makes the stream
        // non-blocking. Unix sockets are rarely accepted at TCP rates.
        let (stream, addr) = ready!(self.io.poll_read_with(cx, |listener| listener.accept()))?;
        Poll::Ready(UnixStream::from_std(stream).map(|stream| (stream, addr)))
    }

    /// The connections as a [`Stream`] (see [`Incoming`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{UnixListener, UnixStream};
    /// use futures_util::StreamExt;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-incoming-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     assert!(listener.incoming().next().await.unwrap().is_ok());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_, UnixListener> {
        Incoming::new(self)
    }

    /// The address this listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-local-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Adopts a std listener: switches it to non-blocking mode and
    /// registers it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-fromstd-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    /// coro_core::block_on(async move {
    ///     let listener = UnixListener::from_std(std_listener).unwrap();
    ///     assert!(listener.local_addr().unwrap().as_pathname().is_some());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_std(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: os::adopt(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in
    /// non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-intostd-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let std_listener = listener.into_std().unwrap();
    ///     std_listener.set_nonblocking(false).unwrap();
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixListener> {
        Ok(self.io.into_inner())
    }
}

impl Stream for Incoming<'_, UnixListener> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (stream, _) = ready!(self.listener.poll_accept(cx))?;
        Poll::Ready(Some(Ok(stream)))
    }
}

/// A connected Unix domain stream socket. It implements futures-io's
/// `AsyncRead` and `AsyncWrite`, as does `&UnixStream`.
///
/// # Examples
///
/// ```
/// use coro_net::net::UnixStream;
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// coro_core::block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over the pair").await.unwrap();
///     a.close().await.unwrap();
///     let mut got = String::new();
///     b.read_to_string(&mut got).await.unwrap();
///     assert_eq!(got, "over the pair");
/// });
/// ```
#[derive(Debug)]
pub struct UnixStream {
    io: IoSource<std_unix::UnixStream>,
}

impl_async_io!(UnixStream);

impl UnixStream {
    /// Connects to the listener bound at `path`.
    ///
    /// # Errors
    ///
    /// The OS error: `NotFound` if nothing is bound there,
    /// `ConnectionRefused` if the socket there is not listening, and
    /// `WouldBlock` if the listener's backlog is full (Unix sockets
    /// report that at once rather than waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    ///
    /// coro_core::block_on(async {
    ///     let err = UnixStream::connect("/nonexistent/coro.sock").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        Ok(UnixStream {
            io: os::connect(Domain::UNIX, &addr).await?,
        })
    }

    /// Creates a connected pair of unnamed sockets (`socketpair(2)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    ///
    /// coro_core::block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    ///     # drop(b);
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Adopts a connected std stream: switches it to non-blocking mode and
    /// registers it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    ///
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// coro_core::block_on(async move {
    ///     let a = UnixStream::from_std(a).unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn from_std(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: os::adopt(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a std stream, still in
    /// non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let a = a.into_std().unwrap();
    ///     a.set_nonblocking(false).unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The address of the remote end.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("coro-peer-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let _listener = UnixListener::bind(&path).unwrap();
    ///     let client = UnixStream::connect(&path).await.unwrap();
    ///     assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of the local end (usually unnamed for a client).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the read half, the write half, or both
    /// (`shutdown(2)`); synchronous.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use coro_net::net::UnixStream;
    /// use futures_util::io::AsyncReadExt;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(b.read(&mut [0; 4]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        stream_io::shutdown(&self.io, how)
    }

    /// Splits the stream into owned read and write halves for two tasks
    /// (see [`TcpStream::into_split`](super::TcpStream::into_split)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UnixStream;
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     let (mut read, mut write) = a.into_split();
    ///     write.write_all(b"ab").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     b.write_all(&buf).await.unwrap();
    ///     read.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ab");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        halves::split(self)
    }
}

/// The reading half of a [`UnixStream`], from
/// [`UnixStream::into_split`].
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::OwnedReadHalf;
/// use coro_net::net::UnixStream;
///
/// coro_core::block_on(async {
///     let (a, _b) = UnixStream::pair().unwrap();
///     let (read, _write) = a.into_split();
///     let read: OwnedReadHalf = read;
///     assert!(read.as_ref().peer_addr().unwrap().is_unnamed());
/// });
/// ```
pub type OwnedReadHalf = halves::OwnedReadHalf<UnixStream>;

/// The writing half of a [`UnixStream`], from [`UnixStream::into_split`];
/// dropping it shuts down the write direction.
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::OwnedWriteHalf;
/// use coro_net::net::UnixStream;
/// use futures_util::io::AsyncReadExt;
///
/// coro_core::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (_read, write): (_, OwnedWriteHalf) = a.into_split();
///     drop(write);
///     assert_eq!(b.read(&mut [0; 1]).await.unwrap(), 0);
/// });
/// ```
pub type OwnedWriteHalf = halves::OwnedWriteHalf<UnixStream>;

/// The error of reuniting halves of two different [`UnixStream`]s.
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::ReuniteError;
/// use coro_net::net::UnixStream;
///
/// coro_core::block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (read, _) = a.into_split();
///     let (_, write) = b.into_split();
///     let _err: ReuniteError = read.reunite(write).unwrap_err();
/// });
/// ```
pub type ReuniteError = halves::ReuniteError<UnixStream>;

os::impl_as_fd!(UnixListener, UnixStream);
