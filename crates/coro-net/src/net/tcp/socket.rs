//! [`TcpSocket`]: a TCP socket that is neither listening nor connected yet,
//! for the options that must be set before `bind`, `listen` or `connect`
//! (tokio's `TcpSocket`, with the same names).
//!
//! The reason it exists here is `SO_REUSEPORT`: each shard of a
//! thread-per-core runtime opens its own listener on the same address, and
//! the kernel spreads incoming connections over them (by a hash of the
//! connection's addresses and ports). `TcpListener::bind` cannot do that:
//! the option must be set between `socket` and `bind`.
//!
//! # Design
//!
//! A `TcpSocket` is a plain socket2 `Socket`, born non-blocking and
//! close-on-exec like every coro socket (`os::new_socket`), and *not*
//! registered with any reactor: it does no I/O yet, so it may be made on
//! one thread and used on another. Registration happens when it turns into
//! a [`TcpListener`] (`listen`) or a [`TcpStream`] (`connect`), with the
//! reactor of the thread that does that: on a thread-per-core runtime, the
//! shard calling `listen` is the one whose epoll instance watches the
//! listener. `connect` goes through the same non-blocking connect as
//! `TcpStream::connect` (`os::connect_with`). Every error is the OS's own.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use socket2::{Domain, SockAddr, Socket, Type};

use super::{TcpListener, TcpStream};
use crate::net::os;

/// A TCP socket before it listens or connects: set options such as
/// `SO_REUSEPORT`, `bind`, then [`listen`](Self::listen) or
/// [`connect`](Self::connect). The same API as tokio's `TcpSocket`.
///
/// # Examples
///
/// Two listeners on one port, as each shard of a thread-per-core server
/// would open:
///
/// ```
/// use coro_net::net::TcpSocket;
///
/// coro_core::block_on(async {
///     let first = TcpSocket::new_v4()?;
///     first.set_reuseport(true)?;
///     first.bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = first.local_addr()?;
///     let first = first.listen(1024)?;
///
///     let second = TcpSocket::new_v4()?;
///     second.set_reuseport(true)?;
///     second.bind(addr)?;
///     let second = second.listen(1024)?;
///     assert_eq!(first.local_addr()?, second.local_addr()?);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    ///
    /// The OS error of `socket` (`EMFILE`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// # drop(socket);
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    ///
    /// The OS error of `socket`; `EAFNOSUPPORT` on a kernel without IPv6.
    ///
    /// # Examples
    ///
    /// ```
    /// match coro_net::net::TcpSocket::new_v6() {
    ///     Ok(socket) => drop(socket),
    ///     Err(error) => eprintln!("no IPv6 here: {error}"),
    /// }
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        Self::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: os::new_socket(domain, Type::STREAM)?,
        })
    }

    /// Sets `SO_REUSEADDR`: a listener may bind an address whose old
    /// connections are still in `TIME_WAIT`. (`TcpListener::bind` sets it
    /// already.)
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_reuseaddr(true).unwrap();
    /// assert!(socket.reuseaddr().unwrap());
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(!socket.reuseaddr().unwrap());
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (of the same user) may bind the
    /// same address and port if all of them set it; for listeners, the
    /// kernel then spreads new connections over them.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_reuseport(true).unwrap();
    /// assert!(socket.reuseport().unwrap());
    /// ```
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(!socket.reuseport().unwrap());
    /// ```
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes); a connected
    /// stream keeps it.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_nodelay(true).unwrap();
    /// assert!(socket.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(!socket.nodelay().unwrap());
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets `SO_KEEPALIVE`.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_keepalive(true).unwrap();
    /// assert!(socket.keepalive().unwrap());
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(!socket.keepalive().unwrap());
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_SNDBUF`, the send buffer size the kernel aims for (Linux
    /// doubles the value for its own bookkeeping).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_send_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// `SO_SNDBUF`.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(socket.send_buffer_size().unwrap() > 0);
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(saturate)
    }

    /// Sets `SO_RCVBUF`, the receive buffer size the kernel aims for.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.set_recv_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// `SO_RCVBUF`.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(socket.recv_buffer_size().unwrap() > 0);
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(saturate)
    }

    /// Binds the socket to `addr` (port 0: the kernel picks one; read it
    /// back with [`local_addr`](Self::local_addr)).
    ///
    /// # Errors
    ///
    /// The OS error of `bind`: `AddrInUse` if another socket has the
    /// address (and not both set [`set_reuseport`](Self::set_reuseport)),
    /// `AddrNotAvailable` for an address of no local interface,
    /// `InvalidInput` for an address of the other IP family.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&SockAddr::from(addr))
    }

    /// The address the socket is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        os::inet_addr(&self.inner.local_addr()?)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = coro_net::net::TcpSocket::new_v4().unwrap();
    /// assert!(socket.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Starts listening, with a queue of `backlog` finished handshakes
    /// (the kernel caps it at `net.core.somaxconn`), and registers the
    /// listener with the current thread's reactor. An unbound socket
    /// listens on a port the kernel picks.
    ///
    /// # Errors
    ///
    /// The OS error of `listen` (`AddrInUse` when another socket listens on
    /// the same port without `SO_REUSEPORT` on both), or of the
    /// registration.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpSocket, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(128)?;
    ///     let addr = listener.local_addr()?;
    ///     let _client = TcpStream::connect(addr).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        os::start_listening(&self.inner, backlog)?;
        TcpListener::from_listening(self.inner)
    }

    /// Connects to `addr` and waits for the handshake; the stream keeps
    /// the options set here. Dropping the future closes the socket.
    ///
    /// # Errors
    ///
    /// The OS error of the connection: `ConnectionRefused` when nothing
    /// listens there, `TimedOut`, `NetworkUnreachable`, ...
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpSocket};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.set_nodelay(true)?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert!(stream.nodelay()?);
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let io = os::connect_with(self.inner, &SockAddr::from(addr)).await?;
        Ok(TcpStream::from_io(io))
    }

    /// Turns a std stream into a `TcpSocket` (tokio's `from_std_stream`),
    /// to read or change its options; it is switched to non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let socket = coro_net::net::TcpSocket::from_std_stream(stream);
    /// assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Only fails on a descriptor that is not a socket, which a std
        // stream cannot be; its next I/O would then report the error.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

/// A buffer size as `u32`, as tokio reports it.
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TcpSocket");
        if let Ok(addr) = self.local_addr() {
            debug.field("local_addr", &addr);
        }
        debug.field("fd", &self.inner.as_raw_fd()).finish()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// Adopts `fd`, a TCP socket; it is switched to non-blocking mode.
    ///
    /// # Safety
    ///
    /// `fd` must be an open socket descriptor that the caller owns and
    /// hands over (it is closed when the `TcpSocket` is dropped).
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller hands us ownership of an open socket fd.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let inner = Socket::from(fd);
        // As in `from_std_stream`.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}
