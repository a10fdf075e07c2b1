//! [`Compat`]: futures-io types as tokio-io types, and the reverse.
//!
//! The Rust ecosystem has two sets of async I/O traits: futures-io's
//! (which coro's sockets implement, as smol's do) and tokio's (which
//! tokio-util's codecs, hyper-util's `TokioIo`, tonic and many others are
//! written against). `Compat<T>` implements one set when `T` implements
//! the other, in both directions, so `stream.compat()` lets a tokio-trait
//! crate run on a coro socket with no tokio runtime anywhere: tokio is used
//! as a library of traits only (the `tokio-io` feature builds tokio with no
//! features at all).
//!
//! Which direction applies is decided by `T`'s traits, so one wrapper type
//! serves both: a coro `TcpStream` in a `Compat` is a tokio
//! `AsyncRead + AsyncWrite`, a tokio-io type in a `Compat` is a futures-io
//! one.
//!
//! Reads into tokio's `ReadBuf` go straight into its uninitialised part for
//! coro's own sockets (see `uninit.rs`). Seeking bridges tokio's two-step
//! `start_seek` / `poll_complete` and futures-io's one-step `poll_seek` by
//! remembering the requested position between polls.

use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::ReadBuf;

use crate::uninit;

pin_project! {
    /// A wrapper that gives futures-io types tokio's I/O traits and tokio-io
    /// types futures-io's.
    ///
    /// | `T` implements (futures-io) | `Compat<T>` implements (tokio) |
    /// |---|---|
    /// | `AsyncRead` | `AsyncRead` |
    /// | `AsyncWrite` | `AsyncWrite` (`poll_shutdown` is `poll_close`) |
    /// | `AsyncBufRead` | `AsyncBufRead` |
    /// | `AsyncSeek` | `AsyncSeek` |
    ///
    /// and the same table read from right to left.
    ///
    /// # Examples
    ///
    /// Lines framed by tokio-util's `LinesCodec` over a coro socket:
    ///
    /// ```
    /// use coro::compat::CompatExt;
    /// use futures_util::{SinkExt, StreamExt};
    /// use tokio_util::codec::{Framed, LinesCodec};
    ///
    /// coro::block_on(async {
    ///     let (a, b) = coro::net::UnixStream::pair().unwrap();
    ///     let mut left = Framed::new(a.compat(), LinesCodec::new());
    ///     let mut right = Framed::new(b.compat(), LinesCodec::new());
    ///     left.send("ping").await.unwrap();
    ///     assert_eq!(right.next().await.unwrap().unwrap(), "ping");
    /// });
    /// ```
    #[derive(Debug)]
    pub struct Compat<T> {
        #[pin]
        inner: T,
        // A seek tokio's `start_seek` asked for that futures-io's
        // `poll_seek` has not finished yet.
        seek_pos: Option<SeekFrom>,
    }
}

impl<T> Compat<T> {
    /// Wraps `inner`. [`CompatExt::compat`] is the same as a method.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::compat::Compat;
    ///
    /// let wrapped = Compat::new(futures_util::io::Cursor::new(vec![1u8, 2]));
    /// assert_eq!(wrapped.get_ref().get_ref(), &[1, 2]);
    /// ```
    pub fn new(inner: T) -> Self {
        Compat {
            inner,
            seek_pos: None,
        }
    }

    /// The wrapped value.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::compat::CompatExt;
    ///
    /// let wrapped = futures_util::io::Cursor::new(vec![3u8]).compat();
    /// assert_eq!(wrapped.get_ref().position(), 0);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::compat::CompatExt;
    ///
    /// let mut wrapped = futures_util::io::Cursor::new(vec![3u8]).compat();
    /// wrapped.get_mut().set_position(1);
    /// assert_eq!(wrapped.get_ref().position(), 1);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::compat::CompatExt;
    ///
    /// let cursor = futures_util::io::Cursor::new(vec![9u8]).compat().into_inner();
    /// assert_eq!(cursor.into_inner(), [9]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// `.compat()` on any value: wraps it in a [`Compat`].
///
/// # Examples
///
/// A tokio-io reader used through futures-io's helpers:
///
/// ```
/// use coro::compat::CompatExt;
/// use coro::io::AsyncReadExt;
///
/// coro::block_on(async {
///     // `&[u8]` implements tokio's AsyncRead.
///     let mut reader = (&b"tokio bytes"[..]).compat();
///     let mut text = String::new();
///     reader.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "tokio bytes");
/// });
/// ```
pub trait CompatExt: Sized {
    /// Wraps `self` in a [`Compat`].
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::compat::CompatExt;
    ///
    /// let wrapped = vec![1u8].compat();
    /// assert_eq!(wrapped.into_inner(), [1]);
    /// ```
    fn compat(self) -> Compat<Self> {
        Compat::new(self)
    }
}

impl<T> CompatExt for T {}

// ---- futures-io `T`, tokio-io `Compat<T>` ----

impl<T: futures_io::AsyncRead> tokio::io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `uninit::poll_read` only writes to the memory, never
        // de-initialises a byte, as `unfilled_mut` requires.
        let unfilled = unsafe { buf.unfilled_mut() };
        let n = ready!(uninit::poll_read(self.project().inner, cx, unfilled))?;
        // SAFETY: the read initialised the first `n` unfilled bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_io::AsyncWrite> tokio::io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self.project().inner, cx, bufs)
    }

    /// Always true, as for hyper's `Io`: futures-io cannot say, and coro's
    /// sockets write all buffers in one `writev`.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self.project().inner, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self.project().inner, cx)
    }
}

impl<T: futures_io::AsyncBufRead> tokio::io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        futures_io::AsyncBufRead::poll_fill_buf(self.project().inner, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        futures_io::AsyncBufRead::consume(self.project().inner, amt)
    }
}

impl<T: futures_io::AsyncSeek> tokio::io::AsyncSeek for Compat<T> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        *self.project().seek_pos = Some(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.project();
        // tokio calls `poll_complete` with no seek started to ask for the
        // current position: a zero-length relative seek answers that.
        let position = this.seek_pos.unwrap_or(SeekFrom::Current(0));
        let result = ready!(futures_io::AsyncSeek::poll_seek(this.inner, cx, position));
        *this.seek_pos = None;
        Poll::Ready(result)
    }
}

// ---- tokio-io `T`, futures-io `Compat<T>` ----

impl<T: tokio::io::AsyncRead> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = ReadBuf::new(buf);
        ready!(tokio::io::AsyncRead::poll_read(
            self.project().inner,
            cx,
            &mut read_buf
        ))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }
}

impl<T: tokio::io::AsyncWrite> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(self.project().inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(self.project().inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(self.project().inner, cx)
    }
}

impl<T: tokio::io::AsyncBufRead> futures_io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        tokio::io::AsyncBufRead::poll_fill_buf(self.project().inner, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        tokio::io::AsyncBufRead::consume(self.project().inner, amt)
    }
}

impl<T: tokio::io::AsyncSeek> futures_io::AsyncSeek for Compat<T> {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        position: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let mut this = self.project();
        // Start the seek once; a poll after `Pending` only completes it.
        if this.seek_pos.is_none() {
            tokio::io::AsyncSeek::start_seek(this.inner.as_mut(), position)?;
            *this.seek_pos = Some(position);
        }
        let result = ready!(tokio::io::AsyncSeek::poll_complete(this.inner, cx));
        *this.seek_pos = None;
        Poll::Ready(result)
    }
}
