//! [`IoSource`]: a non-blocking file descriptor registered with a reactor.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use coro_core::coop;

use super::readiness::{Direction, ScheduledIo};
use crate::reactor::{Reactor, SourceKey};

/// A non-blocking I/O object (a socket, a pipe) registered with the reactor
/// of the current coro runtime, so that tasks can wait for it to be ready.
///
/// This is the building block of coro-net's sockets; use it to make any
/// other file descriptor async. The object must already be in non-blocking
/// mode. Operations follow one pattern: try the syscall; on `WouldBlock`,
/// forget the readiness and wait for the next edge; otherwise return.
/// Dropping an `IoSource` deregisters the descriptor, then closes it.
///
/// Each direction remembers one waiting task: two tasks reading the same
/// source at once take turns being woken (the last one to poll wins), as
/// with tokio's `poll_read_ready`.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use coro_reactor::IoSource;
///
/// coro_core::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     let a = IoSource::new(a).unwrap();
///     std::thread::spawn(move || b.write_all(b"ping").unwrap());
///     let mut buf = [0; 4];
///     a.read_with(|mut s| s.read_exact(&mut buf)).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct IoSource<T: AsFd> {
    io: Option<T>,
    reactor: Arc<Reactor>,
    key: SourceKey,
    state: Arc<ScheduledIo>,
}

impl<T: AsFd> IoSource<T> {
    /// Registers `io` with the current reactor (see [`Reactor::current`]).
    ///
    /// # Errors
    ///
    /// The OS error if the descriptor cannot be added to the poller.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let fd = a.as_raw_fd();
    ///     let source = IoSource::new(a).unwrap();
    ///     assert_eq!(source.as_raw_fd(), fd);
    /// });
    /// ```
    pub fn new(io: T) -> io::Result<IoSource<T>> {
        Self::with_reactor(io, Reactor::current())
    }

    fn with_reactor(io: T, reactor: Arc<Reactor>) -> io::Result<IoSource<T>> {
        let (key, state) = reactor.register(io.as_fd().as_raw_fd())?;
        Ok(IoSource {
            io: Some(io),
            reactor,
            key,
            state,
        })
    }

    /// The inner I/O object.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     let stream: &UnixStream = a.get_ref();
    ///     assert!(stream.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("the io is only taken in drop")
    }

    /// Deregisters and returns the inner I/O object (still non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a: UnixStream = IoSource::new(a).unwrap().into_inner();
    ///     let err = (&a).read(&mut [0; 1]).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn into_inner(mut self) -> T {
        let io = self
            .io
            .take()
            .expect("the io is only taken here or in drop");
        self.reactor.deregister(io.as_fd(), self.key);
        io
    }

    /// Waits until `direction` is ready; `Err` if the runtime that owns
    /// this source shut down. Spends one unit of the task's cooperative
    /// budget when ready.
    fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<super::readiness::ReadyEvent>> {
        let proceed = ready!(coop::poll_proceed(cx));
        let event = ready!(self.state.poll_ready(cx, direction));
        if event.is_shutdown() {
            return Poll::Ready(Err(io::Error::other(
                "the coro runtime this I/O object was registered with has shut down",
            )));
        }
        proceed.made_progress();
        Poll::Ready(Ok(event))
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for
    /// `direction` in between. If `drained` says the successful result
    /// emptied or filled the OS buffer (a short read or write on a stream
    /// socket), the readiness is forgotten right away: the next operation
    /// waits for the next edge instead of spending a syscall to learn
    /// `WouldBlock`.
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, direction))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.state.clear_readiness(event);
                }
                Ok(value) => {
                    if drained(&value) {
                        self.state.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(value));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Polls a stream read of up to `len` bytes. Like
    /// [`poll_read_with`](Self::poll_read_with), but a read that returns
    /// fewer than `len` bytes (and more than zero) is taken to have emptied
    /// the socket's receive buffer, so the next read waits for the next edge
    /// without first calling `read` to get `WouldBlock`. Only for stream
    /// sockets and pipes, where a short read means "nothing more queued".
    ///
    /// This is only safe when the reactor reports the peer's FIN as its own
    /// sticky state (`EPOLLRDHUP`, Linux): a FIN that arrived in the same
    /// edge as the data would otherwise never be announced again. Elsewhere
    /// it behaves exactly like `poll_read_with`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     b.write_all(b"hi").unwrap();
    ///     let mut buf = [0; 16];
    ///     let len = buf.len();
    ///     let n = poll_fn(|cx| a.poll_read_stream(cx, len, |mut s| s.read(&mut buf)))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    /// });
    /// ```
    pub fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let short_read_drains = self.reactor.reports_read_closed();
        self.poll_io(cx, Direction::Read, op, |&n| {
            short_read_drains && n > 0 && n < len
        })
    }

    /// Polls a stream write of `len` bytes. Like
    /// [`poll_write_with`](Self::poll_write_with), but a write that takes
    /// fewer than `len` bytes is taken to have filled the socket's send
    /// buffer, so the next write waits for the next writable edge without
    /// first calling `write` to get `WouldBlock`. Only for stream sockets
    /// and pipes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     let n = poll_fn(|cx| a.poll_write_stream(cx, 5, |mut s| s.write(b"hello")))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(n, 5);
    ///     let mut buf = [0; 5];
    ///     b.read_exact(&mut buf).unwrap();
    ///     assert_eq!(&buf, b"hello");
    /// });
    /// ```
    pub fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, op, |&n| n < len)
    }

    /// Polls until the source is readable (or at EOF, or in error).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     b.write_all(b"x").unwrap();
    ///     poll_fn(|cx| a.poll_readable(cx)).await.unwrap();
    ///     assert_eq!(a.get_ref().read(&mut [0; 1]).unwrap(), 1);
    /// });
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, Direction::Read).map_ok(drop)
    }

    /// Polls until the source is writable (or in error).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     poll_fn(|cx| a.poll_writable(cx)).await.unwrap();
    ///     assert_eq!(a.get_ref().write(b"x").unwrap(), 1);
    /// });
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, Direction::Write).map_ok(drop)
    }

    /// Polls a read-side operation (`read`, `recv_from`, `accept`): runs
    /// `op`, and on `WouldBlock` waits for readability and retries.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     b.write_all(b"ping").unwrap();
    ///     let mut buf = [0; 4];
    ///     poll_fn(|cx| a.poll_read_with(cx, |mut s| s.read_exact(&mut buf)))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&buf, b"ping");
    /// });
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Read, op, |_| false)
    }

    /// Polls a write-side operation (`write`, `send_to`, finishing a
    /// `connect`): runs `op`, and on `WouldBlock` waits for writability
    /// and retries.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     let n = poll_fn(|cx| a.poll_write_with(cx, |mut s| s.write(b"pong")))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(n, 4);
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).unwrap();
    ///     assert_eq!(&buf, b"pong");
    /// });
    /// ```
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Write, op, |_| false)
    }

    /// Runs a read-side operation to completion (see
    /// [`poll_read_with`](Self::poll_read_with)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     std::thread::spawn(move || b.write_all(b"late").unwrap());
    ///     let mut buf = [0; 4];
    ///     a.read_with(|mut s| s.read_exact(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf, b"late");
    /// });
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Runs a write-side operation to completion (see
    /// [`poll_write_with`](Self::poll_write_with)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     let n = a.write_with(|mut s| s.write(b"pong")).await.unwrap();
    ///     assert_eq!(n, 4);
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).unwrap();
    ///     assert_eq!(&buf, b"pong");
    /// });
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }

    /// Waits until the source is readable.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     std::thread::spawn(move || b.write_all(b"x").unwrap());
    ///     a.readable().await.unwrap();
    ///     assert_eq!(a.get_ref().read(&mut [0; 1]).unwrap(), 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the source is writable.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use coro_reactor::IoSource;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = IoSource::new(a).unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.get_ref().write(b"x").unwrap(), 1);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }
}

impl<T: AsFd> AsFd for IoSource<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for IoSource<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd> Drop for IoSource<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Out of the poller first, then close: an fd number reused by
            // the next `socket()` must not inherit our registration.
            self.reactor.deregister(io.as_fd(), self.key);
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoSource")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}
