//! [`UnixListener`]: a listening Unix domain socket.
//!
//! Binding is synchronous (a path is created at once; nothing waits), and
//! accepting follows the TCP listener: try `accept`, wait for readability
//! only when the backlog is empty.

use std::io;
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use coro_reactor::IoSource;
use futures_core::Stream;
use socket2::{Domain, SockAddr};

use super::UnixStream;
use crate::net::{os, Incoming};

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
        let socket = os::listen(Domain::UNIX, &SockAddr::unix(path)?)?;
        Ok(UnixListener {
            io: IoSource::new(std_unix::UnixListener::from(socket))?,
        })
    }

    /// Waits for a connection and returns the new stream and the peer's
    /// address (usually unnamed). Cancel-safe. Errors are the OS's; see
    /// [`TcpListener::accept`](crate::net::TcpListener::accept) for an accept
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

os::impl_as_fd!(UnixListener);
