//! [`TcpListener`]: a listening TCP socket whose `accept` waits without
//! blocking the thread.
//!
//! The listening socket is registered with the reactor once. `accept`
//! tries `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)` first and only waits for
//! readability when the backlog is empty, so a busy server accepts a burst
//! of connections with one syscall each (plus the new socket's
//! registration), and never touches the poller in between.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use coro_reactor::IoSource;
use futures_core::Stream;
use socket2::{Domain, SockAddr, Socket};

use super::TcpStream;
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::{os, Incoming};

/// A TCP socket listening for connections.
///
/// # Examples
///
/// An echo server:
///
/// ```no_run
/// use coro_net::net::TcpListener;
/// use futures_util::io::copy;
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:7000").await.unwrap();
///     loop {
///         let (stream, _peer) = listener.accept().await.unwrap();
///         coro_core::spawn(async move {
///             // `&TcpStream` reads and writes: copy what it reads back to it.
///             let _ = copy(&stream, &mut &stream).await;
///         });
///     }
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: IoSource<std::net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr`, with `SO_REUSEADDR` set (so a
    /// restarted server can bind while old connections are in `TIME_WAIT`)
    /// and a backlog of 1024.
    ///
    /// If `addr` resolves to several addresses, each is tried in turn and
    /// the first that binds is used. Port 0 asks the OS for a free port;
    /// see [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unparsable address; otherwise the OS error of
    /// the last address tried (`AddrInUse`, `PermissionDenied`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let addrs = resolve(&addr).await?;
        let mut last_error = None;
        for addr in addrs {
            match Self::bind_addr(addr) {
                Ok(listener) => return Ok(listener),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        Self::from_listening(os::listen(
            Domain::for_address(addr),
            &SockAddr::from(addr),
        )?)
    }

    /// Registers a non-blocking socket that already listens (from
    /// `bind`, or `TcpSocket::listen`).
    pub(crate) fn from_listening(socket: Socket) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: IoSource::new(std::net::TcpListener::from(socket))?,
        })
    }

    /// Waits for a connection and returns the new stream and the peer's
    /// address.
    ///
    /// Cancel-safe: if the future is dropped before it completes, no
    /// connection was taken from the backlog.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`. Some are about one connection
    /// (`ConnectionAborted`: the peer gave up first) and some are about
    /// resources: with `EMFILE` or `ENFILE` (too many open files) the
    /// connection stays in the backlog until a descriptor is free. A
    /// server should not stop at either; log if you like, wait a little
    /// for descriptors to be closed, and accept again. The listener stays
    /// usable after any error.
    ///
    /// # Examples
    ///
    /// The accept loop of a server that survives `EMFILE`:
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use coro_net::net::TcpListener;
    ///
    /// async fn serve(listener: TcpListener) {
    ///     loop {
    ///         match listener.accept().await {
    ///             Ok((stream, _peer)) => {
    ///                 coro_core::spawn(async move {
    ///                     // ... talk to the client over `stream` ...
    ///                     # drop(stream);
    ///                 });
    ///             }
    ///             // Out of file descriptors (EMFILE/ENFILE), out of memory:
    ///             // back off so that other tasks can close sockets.
    ///             Err(e) if is_resource_error(&e) => {
    ///                 coro_net::time::sleep(Duration::from_millis(5)).await;
    ///             }
    ///             // One failed connection (aborted, reset): keep going.
    ///             Err(_) => continue,
    ///         }
    ///     }
    /// }
    ///
    /// fn is_resource_error(e: &std::io::Error) -> bool {
    ///     matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
    /// }
    /// # let _ = serve;
    /// ```
    ///
    /// A client and the server side of its connection:
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server_side, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(peer, client.local_addr().unwrap());
    ///     assert_eq!(server_side.peer_addr().unwrap(), peer);
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the poll-style form of
    /// [`accept`](Self::accept), for hand-written futures. On `Pending`,
    /// the task of `cx` is woken when a connection may be waiting (only the
    /// last task to poll is woken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro_net::net::{TcpListener, TcpStream};
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_stream, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (socket, addr) = ready!(self.io.poll_read_with(cx, os::accept))?;
        let addr = os::inet_addr(&addr)?;
        Poll::Ready(TcpStream::from_socket(socket).map(|stream| (stream, addr)))
    }

    /// The connections as a [`Stream`] (see [`Incoming`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::{TcpListener, TcpStream};
    /// use futures_util::StreamExt;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let clients = [TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap()];
    ///     let accepted: Vec<_> = listener.incoming().take(2).collect().await;
    ///     assert!(accepted.iter().all(Result::is_ok));
    ///     # drop(clients);
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_, TcpListener> {
        Incoming::new(self)
    }

    /// The address this listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Adopts a std listener: switches it to non-blocking mode and
    /// registers it with the current reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = std_listener.local_addr().unwrap();
    /// coro_core::block_on(async move {
    ///     let listener = TcpListener::from_std(std_listener).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: os::adopt(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener. It stays
    /// in non-blocking mode; call `set_nonblocking(false)` to block on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let std_listener = listener.into_std().unwrap();
    ///     std_listener.set_nonblocking(false).unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Sets `IP_TTL`, the time-to-live of the packets sent by accepted
    /// sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     listener.set_ttl(42).unwrap();
    ///     assert_eq!(listener.ttl().unwrap(), 42);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Reads `IP_TTL` (see [`set_ttl`](Self::set_ttl)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_net::net::TcpListener;
    ///
    /// coro_core::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl Stream for Incoming<'_, TcpListener> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (stream, _) = ready!(self.listener.poll_accept(cx))?;
        Poll::Ready(Some(Ok(stream)))
    }
}

os::impl_as_fd!(TcpListener);
