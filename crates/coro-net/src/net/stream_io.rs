//! Reading and writing a connected stream socket, shared by [`TcpStream`]
//! and [`UnixStream`].
//!
//! Both are an [`IoSource`] around a std stream whose `&T` implements
//! `Read` and `Write`, so the futures-io traits are the same few lines for
//! both, and for both the owned stream and a shared `&stream`. Those lines
//! are written once here, as generic functions, and [`impl_async_io!`]
//! stamps out the trait impls that call them. Every operation is a single
//! syscall on the caller's buffer: nothing is allocated per read or write.
//! A short read or write forgets the readiness at once (see
//! `IoSource::poll_read_stream`), saving a `WouldBlock` syscall per message.
//!
//! [`TcpStream`]: super::TcpStream
//! [`UnixStream`]: super::UnixStream

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use coro_reactor::IoSource;
use socket2::SockRef;

/// `read(2)` into `buf`, waiting for readability on `WouldBlock`. An empty
/// `buf` reads nothing and does not wait.
pub(crate) fn poll_read<T>(
    io: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    T: AsFd,
    for<'a> &'a T: Read,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    io.poll_read_stream(cx, buf.len(), |mut stream| stream.read(buf))
}

/// `recv(2)` into memory that may be uninitialised: the kernel only writes
/// to `buf`, so nothing needs zeroing first. Adapters whose caller hands
/// them uninitialised memory (hyper's `ReadBufCursor`, tokio's `ReadBuf`)
/// read through this instead of zeroing the buffer for `poll_read`.
pub(crate) fn poll_read_uninit<T>(
    io: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>>
where
    T: AsFd,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    io.poll_read_stream(cx, buf.len(), |stream| SockRef::from(stream).recv(buf))
}

/// `readv(2)` into `bufs`.
pub(crate) fn poll_read_vectored<T>(
    io: &IoSource<T>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>>
where
    T: AsFd,
    for<'a> &'a T: Read,
{
    if bufs.iter().all(|buf| buf.is_empty()) {
        return Poll::Ready(Ok(0));
    }
    let len = bufs.iter().map(|buf| buf.len()).sum();
    io.poll_read_stream(cx, len, |mut stream| stream.read_vectored(bufs))
}

/// `write(2)` from `buf`, waiting for writability on `WouldBlock`.
pub(crate) fn poll_write<T>(
    io: &IoSource<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    T: AsFd,
    for<'a> &'a T: Write,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    io.poll_write_stream(cx, buf.len(), |mut stream| stream.write(buf))
}

/// `writev(2)` from `bufs`: one syscall for all of them.
pub(crate) fn poll_write_vectored<T>(
    io: &IoSource<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    T: AsFd,
    for<'a> &'a T: Write,
{
    if bufs.iter().all(|buf| buf.is_empty()) {
        return Poll::Ready(Ok(0));
    }
    let len = bufs.iter().map(|buf| buf.len()).sum();
    io.poll_write_stream(cx, len, |mut stream| stream.write_vectored(bufs))
}

/// `shutdown(2)`: the synchronous half-close behind `shutdown()` and
/// futures-io's `close()`.
pub(crate) fn shutdown<T: AsFd>(io: &IoSource<T>, how: Shutdown) -> io::Result<()> {
    SockRef::from(io.get_ref()).shutdown(how)
}

/// Implements futures-io's `AsyncRead` and `AsyncWrite` for a stream type
/// `$ty` with a field `io: IoSource<_>`, and for `&$ty`; and makes it a
/// [`SplitStream`](super::halves::SplitStream). `poll_flush` has nothing
/// to do (there is no user-space buffer); `poll_close` shuts down the
/// write half, so the peer reads end-of-file.
macro_rules! impl_async_io {
    ($ty:ty) => {
        $crate::net::stream_io::impl_async_io!(@one $ty);
        $crate::net::stream_io::impl_async_io!(@one &$ty);

        impl $crate::net::halves::SplitStream for $ty {}
        impl $crate::net::halves::private::Sealed for $ty {
            fn shutdown_write(&self) -> ::std::io::Result<()> {
                $crate::net::stream_io::shutdown(&self.io, ::std::net::Shutdown::Write)
            }
        }
    };
    (@one $ty:ty) => {
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream_io::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream_io::poll_read_vectored(&self.io, cx, bufs)
            }
        }

        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready($crate::net::stream_io::shutdown(
                    &self.io,
                    ::std::net::Shutdown::Write,
                ))
            }
        }
    };
}

pub(crate) use impl_async_io;
