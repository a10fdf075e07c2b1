//! The few socket syscalls that every socket type here shares: creating a
//! non-blocking socket, accepting one, and finishing a non-blocking
//! `connect`.
//!
//! They live in one place so that TCP and Unix sockets take the same,
//! shortest path through the kernel: on Linux and the BSDs the socket is
//! born non-blocking and close-on-exec (`socket(SOCK_NONBLOCK |
//! SOCK_CLOEXEC)`, `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`), so an accept is
//! one syscall plus its registration with the reactor, not three.
//!
//! The fallback, on macOS and the other platforms without those flags, is
//! plain `socket`/`accept` (socket2 then sets close-on-exec, and
//! `SO_NOSIGPIPE` on Apple platforms) followed by `set_nonblocking`: the
//! same sockets, two or three syscalls more.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;

use coro_reactor::IoSource;
use socket2::{Domain, SockAddr, SockRef, Socket, Type};

/// Whether this platform can create and accept sockets non-blocking in
/// the same syscall (socket2 only offers `Type::nonblocking` and `accept4`
/// there).
macro_rules! cfg_atomic_flags {
    ($($item:item)*) => {$(
        #[cfg(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "linux",
            target_os = "netbsd",
            target_os = "openbsd",
        ))]
        $item
    )*};
}

macro_rules! cfg_not_atomic_flags {
    ($($item:item)*) => {$(
        #[cfg(not(any(
            target_os = "android",
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "fuchsia",
            target_os = "illumos",
            target_os = "linux",
            target_os = "netbsd",
            target_os = "openbsd",
        )))]
        $item
    )*};
}

cfg_atomic_flags! {
    /// A new close-on-exec, non-blocking socket: one syscall.
    pub(crate) fn new_socket(domain: Domain, ty: Type) -> io::Result<Socket> {
        Socket::new(domain, ty.nonblocking(), None)
    }

    /// Accepts a connection as a close-on-exec, non-blocking socket: one
    /// `accept4` syscall.
    pub(crate) fn accept(listener: &impl AsFd) -> io::Result<(Socket, SockAddr)> {
        let flags = Type::from(0).nonblocking().cloexec();
        SockRef::from(listener).accept4(flags.into())
    }
}

cfg_not_atomic_flags! {
    /// A new close-on-exec, non-blocking socket.
    pub(crate) fn new_socket(domain: Domain, ty: Type) -> io::Result<Socket> {
        let socket = Socket::new(domain, ty, None)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }

    /// Accepts a connection as a close-on-exec, non-blocking socket.
    pub(crate) fn accept(listener: &impl AsFd) -> io::Result<(Socket, SockAddr)> {
        let (socket, addr) = SockRef::from(listener).accept()?;
        socket.set_nonblocking(true)?;
        Ok((socket, addr))
    }
}

/// The listen backlog: how many finished handshakes the kernel queues
/// before `accept` (capped by `net.core.somaxconn`).
const BACKLOG: u32 = 1024;

/// A non-blocking stream socket bound to `addr` and listening. IP sockets
/// get `SO_REUSEADDR` first, as with std and tokio, so that a restarted
/// server can bind while its old connections linger in `TIME_WAIT`.
pub(crate) fn listen(domain: Domain, addr: &SockAddr) -> io::Result<Socket> {
    let socket = new_socket(domain, Type::STREAM)?;
    if domain != Domain::UNIX {
        socket.set_reuse_address(true)?;
    }
    socket.bind(addr)?;
    start_listening(&socket, BACKLOG)?;
    Ok(socket)
}

/// `listen(backlog)` on a bound (or, for IP, unbound: the kernel picks a
/// port) socket. A backlog above `i32::MAX` is capped there, as the kernel
/// caps it at `net.core.somaxconn` anyway.
pub(crate) fn start_listening(socket: &Socket, backlog: u32) -> io::Result<()> {
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))
}

/// The IP address of an accepted TCP peer.
pub(crate) fn inet_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "accept returned a non-IP address for a TCP socket",
        )
    })
}

/// Connects a new non-blocking stream socket to `addr` and waits for the
/// handshake: `connect` returns `EINPROGRESS`, the socket becomes writable
/// when the handshake ends, and `SO_ERROR` says how it ended.
///
/// The socket is owned by the returned future until it completes, so
/// dropping the future (a `timeout`) closes it and abandons the attempt.
pub(crate) async fn connect<T>(domain: Domain, addr: &SockAddr) -> io::Result<IoSource<T>>
where
    T: AsFd + From<Socket>,
{
    connect_with(new_socket(domain, Type::STREAM)?, addr).await
}

/// [`connect`] on a socket the caller made (non-blocking, options set,
/// maybe bound): `TcpSocket::connect`.
pub(crate) async fn connect_with<T>(socket: Socket, addr: &SockAddr) -> io::Result<IoSource<T>>
where
    T: AsFd + From<Socket>,
{
    match socket.connect(addr) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let io = IoSource::new(T::from(socket))?;
    io.write_with(|socket| match SockRef::from(socket).take_error()? {
        Some(error) => Err(error),
        None => Ok(()),
    })
    .await?;
    Ok(io)
}

/// Registers a socket that the caller created in blocking mode (a std
/// socket given to `from_std`) after switching it to non-blocking.
pub(crate) fn adopt<T: AsFd>(io: T) -> io::Result<IoSource<T>> {
    SockRef::from(&io).set_nonblocking(true)?;
    IoSource::new(io)
}

/// Implements `AsFd` and `AsRawFd` for socket types with a field
/// `io: IoSource<_>`.
macro_rules! impl_as_fd {
    ($($ty:ty),* $(,)?) => {$(
        impl ::std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(&self.io)
            }
        }

        impl ::std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(&self.io)
            }
        }
    )*};
}

pub(crate) use impl_as_fd;
