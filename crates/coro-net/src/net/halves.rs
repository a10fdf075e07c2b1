//! Owned read and write halves of a stream, shared by TCP and Unix streams.
//!
//! `into_split` hands each half to a different task: one reads while the
//! other writes, with no lock between them. Reads and writes on one socket
//! are independent in the kernel and in the reactor (one waiter slot per
//! direction), so the halves simply share the stream through an `Arc` and
//! use the `&Stream` implementations of `AsyncRead` and `AsyncWrite`.
//!
//! One generic implementation serves both stream types;
//! [`tcp::OwnedReadHalf`](super::tcp::OwnedReadHalf) and
//! [`unix::OwnedReadHalf`](super::unix::OwnedReadHalf) name it for each.
//! As in tokio, dropping the write half shuts down the write direction, so
//! the peer sees end-of-file even while the read half lives on.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use private::Sealed;

/// A stream that [`into_split`](super::TcpStream::into_split) can divide
/// into an [`OwnedReadHalf`] and an [`OwnedWriteHalf`]:
/// [`TcpStream`](super::TcpStream) and [`UnixStream`](super::UnixStream).
/// This trait is sealed.
///
/// # Examples
///
/// ```
/// use coro_net::net::halves::SplitStream;
/// use coro_net::net::TcpStream;
///
/// fn splittable<S: SplitStream>() {}
/// splittable::<TcpStream>();
/// ```
pub trait SplitStream: Sealed {}

pub(crate) mod private {
    /// What the halves need from their stream beyond `&S: AsyncRead +
    /// AsyncWrite`.
    pub trait Sealed {
        /// Shuts down the write direction (for `OwnedWriteHalf`'s drop).
        fn shutdown_write(&self) -> std::io::Result<()>;
    }
}

/// The reading half of a stream, from `into_split`. It implements
/// futures-io's [`AsyncRead`].
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
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (mut read, _write) = client.into_split();
///     server.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     read.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// ```
pub struct OwnedReadHalf<S> {
    stream: Arc<S>,
}

/// The writing half of a stream, from `into_split`. It implements
/// futures-io's [`AsyncWrite`]. Dropping it shuts down the write direction
/// of the stream (the peer reads end-of-file), unless it is
/// [`reunite`](Self::reunite)d or [`forget`](Self::forget)-ten.
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
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_read, mut write) = client.into_split();
///     write.write_all(b"bye").await.unwrap();
///     drop(write); // shuts down the write direction
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"bye");
/// });
/// ```
pub struct OwnedWriteHalf<S: SplitStream> {
    stream: Arc<S>,
    shutdown_on_drop: bool,
}

/// Splits `stream` into owned halves.
pub(crate) fn split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

/// Puts the halves back together if they came from the same stream.
fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::into_inner(read.stream).expect("the two halves held the only references"))
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Joins this half with its write half, giving back the stream.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they come from different
    /// streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (read, write) = stream.into_split();
    ///     let stream: TcpStream = read.reunite(write).unwrap();
    ///     # let _ = stream;
    /// });
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Joins this half with its read half, giving back the stream (see
    /// [`OwnedReadHalf::reunite`]).
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] if the halves come from different streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (read, write) = stream.into_split();
    ///     assert!(write.reunite(read).is_ok());
    /// });
    /// ```
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }

    /// Drops this half without shutting down the write direction: the
    /// stream closes when the read half is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_read, write) = stream.into_split();
    ///     write.forget(); // the peer does not see end-of-file yet
    /// });
    /// ```
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Like `close()`, but nobody is left to hear an error: a peer
            // that already reset the connection needs no end-of-file.
            let _ = self.stream.shutdown_write();
        }
    }
}

impl<S> AsyncRead for OwnedReadHalf<S>
where
    for<'a> &'a S: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_read_vectored(cx, bufs)
    }
}

impl<S: SplitStream> AsyncWrite for OwnedWriteHalf<S>
where
    for<'a> &'a S: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.stream).poll_close(cx)
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedReadHalf")
            .field("stream", &self.stream)
            .finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf")
            .field("stream", &self.stream)
            .finish()
    }
}

/// The halves given to `reunite` came from different streams; both are
/// handed back.
///
/// # Examples
///
/// ```
/// use coro_net::net::{TcpListener, TcpStream};
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let (read_a, _write_a) = TcpStream::connect(addr).await.unwrap().into_split();
///     let (_read_b, write_b) = TcpStream::connect(addr).await.unwrap().into_split();
///     let err = read_a.reunite(write_b).unwrap_err();
///     let (_read_a, _write_b) = (err.0, err.1);
/// });
/// ```
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> Error for ReuniteError<S> {}
