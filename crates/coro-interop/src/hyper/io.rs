//! [`Io`]: a futures-io stream as hyper's `rt::Read` and `rt::Write`, and
//! the reverse.
//!
//! Reads fill hyper's `ReadBufCursor` in place: straight into its
//! uninitialised memory for coro's own sockets, into a zeroed prefix for
//! any other stream (see `uninit.rs`); never through a second buffer.
//! Writes pass hyper's buffers through, vectored writes included, so an
//! HTTP/1 response's head and body leave in one `writev`.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use futures_io::{AsyncRead, AsyncWrite};
use pin_project_lite::pin_project;

use crate::uninit;

pin_project! {
    /// A byte stream with hyper's I/O traits.
    ///
    /// `Io::new(stream)` turns any futures-io `AsyncRead + AsyncWrite`
    /// (coro's sockets, a futures-rustls TLS stream, ...) into a
    /// `hyper::rt::Read + hyper::rt::Write` that hyper's connections
    /// accept. The other way round, an `Io` around a hyper I/O type (such
    /// as `hyper::upgrade::Upgraded`) implements futures-io's `AsyncRead`
    /// and `AsyncWrite`, so the upgraded connection can be used with
    /// [`coro::io`](https://docs.rs/coro)'s helpers.
    ///
    /// `poll_shutdown` is futures-io's `poll_close`: for a coro socket, a
    /// half-close of the write side.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::hyper::Io;
    /// use coro::net::UnixStream;
    /// use http_body_util::Empty;
    /// use hyper::body::Bytes;
    ///
    /// coro::block_on(async {
    ///     let (client, server) = UnixStream::pair().unwrap();
    ///     coro::spawn(async move {
    ///         let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
    ///             let path = request.uri().path().to_owned();
    ///             Ok::<_, hyper::Error>(hyper::Response::new(http_body_util::Full::new(Bytes::from(path))))
    ///         });
    ///         hyper::server::conn::http1::Builder::new()
    ///             .serve_connection(Io::new(server), service)
    ///             .await
    ///     });
    ///     let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(client)).await.unwrap();
    ///     coro::spawn(conn);
    ///     let request = hyper::Request::get("/where").body(Empty::<Bytes>::new()).unwrap();
    ///     let response = sender.send_request(request).await.unwrap();
    ///     assert_eq!(response.status(), 200);
    /// });
    /// ```
    #[derive(Debug)]
    pub struct Io<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Io<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::hyper::Io;
    ///
    /// let (a, _b) = coro::block_on(async { coro::net::UnixStream::pair() }).unwrap();
    /// let io = Io::new(a);
    /// assert!(io.get_ref().peer_addr().is_ok());
    /// ```
    pub fn new(inner: T) -> Self {
        Io { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::hyper::Io;
    ///
    /// let io = Io::new(std::io::Cursor::new(b"abc".to_vec()));
    /// assert_eq!(io.get_ref().get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::hyper::Io;
    ///
    /// let mut io = Io::new(std::io::Cursor::new(Vec::<u8>::new()));
    /// io.get_mut().get_mut().push(1);
    /// assert_eq!(io.get_ref().get_ref(), &[1]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::hyper::Io;
    ///
    /// let io = Io::new(std::io::Cursor::new(vec![7u8]));
    /// assert_eq!(io.into_inner().into_inner(), [7]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `uninit::poll_read` only writes to the memory (it never
        // de-initialises a byte), as `as_mut` requires.
        let unfilled = unsafe { buf.as_mut() };
        let n = ready!(uninit::poll_read(self.project().inner, cx, unfilled))?;
        // SAFETY: the read initialised and filled the first `n` bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }

    /// Always true: futures-io has no way to ask, and for coro's sockets
    /// (one `writev`) and TLS streams (one record for all buffers) passing
    /// hyper's buffers through beats flattening them into one first.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

impl<T: Read> AsyncRead for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, read_buf.unfilled()))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }
}

impl<T: Write> AsyncWrite for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
