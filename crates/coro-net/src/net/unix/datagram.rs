//! [`UnixDatagram`]: datagrams between processes on one machine, addressed
//! by path. The Unix counterpart of `UdpSocket`, built the same way (an
//! `IoSource` around a non-blocking std socket) but with paths for
//! addresses. Binding and connecting are synchronous: neither waits for a
//! peer.

use std::future::poll_fn;
use std::io;
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll};

use coro_reactor::IoSource;

use crate::net::os;

/// A Unix domain datagram socket.
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::UnixDatagram;
///
/// coro_core::block_on(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one datagram").await.unwrap();
///     let mut buf = [0; 32];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one datagram");
/// });
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    io: IoSource<std_unix::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to `path`, which must not exist yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-dgram-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let socket = UnixDatagram::bind(&path).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std_unix::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no path: it can send, and receive
    /// replies only once [`connect`](Self::connect)ed.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     assert!(socket.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std_unix::UnixDatagram::unbound()?)
    }

    /// Creates a connected pair of unnamed sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    ///     # drop(b);
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Adopts a std socket: switches it to non-blocking mode and registers
    /// it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// let std_socket = std::os::unix::net::UnixDatagram::unbound().unwrap();
    /// coro_core::block_on(async move {
    ///     let socket = UnixDatagram::from_std(std_socket).unwrap();
    ///     # drop(socket);
    /// });
    /// ```
    pub fn from_std(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: os::adopt(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in
    /// non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap().into_std().unwrap();
    ///     socket.set_nonblocking(false).unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer for [`send`](Self::send) and
    /// [`recv`](Self::recv). Synchronous.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-dconn-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.connect(&path).unwrap();
    ///     client.send(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-dsend-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     assert_eq!(client.send_to(b"to a path", &path).await.unwrap(), 9);
    ///     # drop(server);
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| self.poll_send_to(cx, buf, path)).await
    }

    /// Polls a [`send_to`](Self::send_to), for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("coro-dpoll-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// coro_core::block_on(async {
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     let sent = poll_fn(|cx| client.poll_send_to(cx, b"x", &path)).await.unwrap();
    ///     assert_eq!(sent, 1);
    ///     # drop(server);
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: &Path,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |socket| socket.send_to(buf, path))
    }

    /// Waits for a datagram, copies it into `buf` and returns its length
    /// and sender (unnamed if the sender is not bound).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     a.send(b"who?").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((n, from.is_unnamed()), (4, true));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls a [`recv_from`](Self::recv_from), for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     a.send(b"p").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, _) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(n, 1);
    /// });
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |socket| socket.recv_from(buf))
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert_eq!(a.send(b"abc").await.unwrap(), 3);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|socket| socket.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, b) = UnixDatagram::pair().unwrap();
    ///     b.send(b"back").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|socket| socket.recv(buf)).await
    }

    /// The address this socket is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let (a, _b) = UnixDatagram::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::unix::UnixDatagram;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UnixDatagram::unbound().unwrap();
    ///     let err = socket.peer_addr().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

os::impl_as_fd!(UnixDatagram);
