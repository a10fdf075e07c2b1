//! [`UdpSocket`]: datagrams, sent and received without blocking the
//! thread.
//!
//! The same pattern as the streams (an [`IoSource`] around a non-blocking
//! std socket; try the syscall, wait for the edge on `WouldBlock`), but
//! message-oriented: each `recv` returns one datagram, each `send` sends
//! one. All methods take `&self`, so one socket can be shared by a sending
//! task and a receiving task through an `Arc`.

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use coro_reactor::IoSource;
use socket2::{Domain, SockAddr, Type};

use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::os;

/// A UDP socket.
///
/// # Examples
///
/// ```
/// use coro_net::net::UdpSocket;
///
/// coro_core::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: IoSource<std::net::UdpSocket>,
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

impl UdpSocket {
    /// Creates a socket bound to `addr`, trying each address it resolves
    /// to until one binds. Port 0 asks the OS for a free port.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unparsable address; otherwise the OS error of
    /// the last address tried.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let mut last_error = None;
        for addr in resolve(&addr).await? {
            let bound = os::new_socket(Domain::for_address(addr), Type::DGRAM).and_then(|socket| {
                socket.bind(&SockAddr::from(addr))?;
                IoSource::new(std::net::UdpSocket::from(socket))
            });
            match bound {
                Ok(io) => return Ok(UdpSocket { io }),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(no_address))
    }

    /// Adopts a std socket: switches it to non-blocking mode and registers
    /// it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// coro_core::block_on(async move {
    ///     let socket = UdpSocket::from_std(std_socket).unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: os::adopt(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in
    /// non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let std_socket = socket.into_std().unwrap();
    ///     std_socket.set_nonblocking(false).unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer: [`send`](Self::send) goes there and
    /// [`recv`](Self::recv) only accepts datagrams from there. Each address
    /// `addr` resolves to is tried in turn.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let mut last_error = None;
        for addr in resolve(&addr).await? {
            match self.io.get_ref().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(no_address))
    }

    /// Sends `buf` as one datagram to `target` (its first address),
    /// returning the number of bytes sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let to_self = socket.local_addr().unwrap();
    ///     assert_eq!(socket.send_to(b"note to self", to_self).await.unwrap(), 12);
    /// });
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?.next().ok_or_else(no_address)?;
        std::future::poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls sending `buf` to `target`, for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let to_self = socket.local_addr().unwrap();
    ///     let sent = poll_fn(|cx| socket.poll_send_to(cx, b"hi", to_self)).await.unwrap();
    ///     assert_eq!(sent, 2);
    /// });
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |socket| socket.send_to(buf, target))
    }

    /// Waits for a datagram, copies it into `buf` (truncating it if `buf`
    /// is too small) and returns its length and sender.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"loop", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (4, me));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls receiving a datagram, for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"x", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, _) = poll_fn(|cx| socket.poll_recv_from(cx, &mut buf)).await.unwrap();
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

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued:
    /// the next receive returns it again.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"twice", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(socket.peek_from(&mut buf).await.unwrap(), (5, me));
    ///     assert_eq!(socket.recv_from(&mut buf).await.unwrap(), (5, me));
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|socket| socket.peek_from(buf)).await
    }

    /// Sends `buf` to the peer set by [`connect`](Self::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` (from the OS) if the socket has no peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hello").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap(), (5, a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Polls a [`send`](Self::send), for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(poll_fn(|cx| socket.poll_send(cx, b"me")).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |socket| socket.send(buf))
    }

    /// Receives a datagram from the peer set by [`connect`](Self::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"to b", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Polls a [`recv`](Self::recv), for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"echo").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(poll_fn(|cx| socket.poll_recv(cx, &mut buf)).await.unwrap(), 4);
    /// });
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |socket| socket.recv(buf))
    }

    /// The address this socket is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer set by [`connect`](Self::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let err = socket.peer_addr().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may be sent to a broadcast
    /// address.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Reads `SO_BROADCAST` (see [`set_broadcast`](Self::set_broadcast)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::UdpSocket;
    ///
    /// coro_core::block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }
}

os::impl_as_fd!(UdpSocket);
