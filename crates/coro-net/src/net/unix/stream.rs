//! [`UnixStream`]: a connected Unix domain stream socket.
//!
//! Everything but the addresses is shared with `TcpStream`: the
//! `AsyncRead`/`AsyncWrite` code of `stream_io.rs`, the non-blocking
//! `connect` of `os.rs`, the owned halves of `halves.rs`. `connect` is
//! async because a full listener backlog can make it wait.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;

use coro_reactor::IoSource;
use socket2::{Domain, SockAddr};

use super::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::stream_io::{self, impl_async_io};
use crate::net::{halves, os};

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

    /// Reads into memory that may be uninitialised, waiting until the socket
    /// is readable; see [`TcpStream::poll_read_uninit`](crate::net::TcpStream::poll_read_uninit).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    /// use coro::io::AsyncWriteExt;
    /// use coro::net::UnixStream;
    ///
    /// coro::block_on(async {
    ///     let (mut a, b) = UnixStream::pair().unwrap();
    ///     a.write_all(b"hi").await.unwrap();
    ///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    ///     let n = poll_fn(|cx| b.poll_read_uninit(cx, &mut buf)).await.unwrap();
    ///     // SAFETY: the first `n` bytes were written by the read.
    ///     let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
    ///     assert_eq!(got, b"hi");
    /// });
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> std::task::Poll<io::Result<usize>> {
        stream_io::poll_read_uninit(&self.io, cx, buf)
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
    /// (see [`TcpStream::into_split`](crate::net::TcpStream::into_split)).
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

os::impl_as_fd!(UnixStream);
