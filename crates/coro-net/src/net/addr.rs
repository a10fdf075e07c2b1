//! Turning what the user wrote (`"127.0.0.1:8080"`, `("localhost", 80)`,
//! a `SocketAddr`) into socket addresses, without blocking the event loop.
//!
//! A literal address is parsed on the spot. A host name needs
//! `getaddrinfo`, which blocks for as long as DNS takes; gevent sends it to
//! a thread pool so that other greenlets keep running, and so do we: inside
//! a coro runtime it runs on the runtime's blocking pool, outside one (under
//! another executor) on a short-lived thread whose answer comes back through
//! a oneshot channel.
//!
//! [`ToSocketAddrs`] is sealed: its one method returns a crate-private
//! description of the work to do, so that it can change without breaking
//! anyone.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::{option, vec};

use futures_channel::oneshot;

/// Something that resolves to one or more socket addresses: what
/// [`TcpListener::bind`](super::TcpListener::bind),
/// [`TcpStream::connect`](super::TcpStream::connect),
/// [`UdpSocket::bind`](super::UdpSocket::bind) and [`lookup_host`] accept.
///
/// It is implemented for the types `std::net::ToSocketAddrs` is
/// implemented for: [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`],
/// `(IpAddr, u16)`, `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`,
/// `(String, u16)`, `str` and `String` (`"host:port"`), `[SocketAddr]`, and
/// references to any of them. Literal addresses resolve at once; host names
/// are looked up off the event loop. This trait is sealed.
///
/// # Examples
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use coro_net::net::lookup_host;
///
/// coro_core::block_on(async {
///     let a: Vec<SocketAddr> = lookup_host("127.0.0.1:80").await.unwrap().collect();
///     let b: Vec<SocketAddr> = lookup_host((Ipv4Addr::LOCALHOST, 80)).await.unwrap().collect();
///     assert_eq!(a, b);
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// The resolution behind [`ToSocketAddrs`].
    pub trait Sealed {
        /// What resolving `self` takes.
        #[doc(hidden)]
        fn to_addrs(&self) -> ToAddrs;
    }

    /// Either the addresses (or the parse error), or a host name to look up.
    #[doc(hidden)]
    #[derive(Debug)]
    pub enum ToAddrs {
        /// Parsed without any lookup.
        Ready(io::Result<SocketAddrs>),
        /// A host name and port for `getaddrinfo`.
        Lookup(String, u16),
    }
}

use sealed::{Sealed, ToAddrs};

/// The addresses a [`ToSocketAddrs`] resolved to. One literal address is
/// kept inline (no allocation); a lookup or a slice gives a vector.
#[derive(Debug, Clone)]
pub struct SocketAddrs(Inner);

#[derive(Debug, Clone)]
enum Inner {
    One(option::IntoIter<SocketAddr>),
    Many(vec::IntoIter<SocketAddr>),
}

impl SocketAddrs {
    fn one(addr: SocketAddr) -> SocketAddrs {
        SocketAddrs(Inner::One(Some(addr).into_iter()))
    }

    fn many(addrs: Vec<SocketAddr>) -> SocketAddrs {
        SocketAddrs(Inner::Many(addrs.into_iter()))
    }
}

impl Iterator for SocketAddrs {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        match &mut self.0 {
            Inner::One(it) => it.next(),
            Inner::Many(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            Inner::One(it) => it.size_hint(),
            Inner::Many(it) => it.size_hint(),
        }
    }
}

/// Resolves a host name, or a `"host:port"` string, to socket addresses.
/// The lookup (`getaddrinfo`) runs off the event loop, on the runtime's
/// blocking pool, so other tasks keep running meanwhile.
///
/// # Errors
///
/// `InvalidInput` if the address cannot be parsed or has no port; the
/// resolver's error if the name does not resolve.
///
/// # Examples
///
/// ```
/// use coro_net::net::lookup_host;
///
/// coro_core::block_on(async {
///     for addr in lookup_host("localhost:8080").await.unwrap() {
///         assert!(addr.ip().is_loopback());
///         assert_eq!(addr.port(), 8080);
///     }
///     let Err(err) = lookup_host("no port here").await else { panic!("resolved") };
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(&host).await
}

/// Resolves `addr`; a literal address resolves without awaiting anything.
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> impl Future<Output = io::Result<SocketAddrs>> + Send + 'static {
    let to_addrs = addr.to_addrs();
    async move {
        match to_addrs {
            ToAddrs::Ready(result) => result,
            ToAddrs::Lookup(host, port) => lookup_off_loop(host, port).await,
        }
    }
}

/// Runs `getaddrinfo` on a thread that may block: the runtime's blocking
/// pool if there is a coro runtime, a thread of its own otherwise.
async fn lookup_off_loop(host: String, port: u16) -> io::Result<SocketAddrs> {
    let lookup = move || {
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map(|addrs| SocketAddrs::many(addrs.collect()))
    };
    if let Some(handle) = coro_core::runtime::Handle::try_current() {
        return handle
            .spawn_blocking(lookup)
            .await
            .map_err(io::Error::other)?;
    }
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("coro-resolver".into())
        .spawn(move || {
            // The receiver is gone only if the caller stopped waiting.
            let _ = tx.send(lookup());
        })?;
    rx.await
        .map_err(|_| io::Error::other("the name resolver thread panicked"))?
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// `host` with `port`: parsed if `host` is an IP literal, looked up if not.
fn host_port(host: &str, port: u16) -> ToAddrs {
    match host.parse::<IpAddr>() {
        Ok(ip) => ToAddrs::Ready(Ok(SocketAddrs::one(SocketAddr::new(ip, port)))),
        Err(_) => ToAddrs::Lookup(host.to_owned(), port),
    }
}

/// A `"host:port"` string, read the way `std::net::ToSocketAddrs` reads it.
fn host_and_port(s: &str) -> ToAddrs {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return ToAddrs::Ready(Ok(SocketAddrs::one(addr)));
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return ToAddrs::Ready(Err(invalid_input("invalid socket address")));
    };
    match port.parse::<u16>() {
        Ok(port) => host_port(host, port),
        Err(_) => ToAddrs::Ready(Err(invalid_input("invalid port value"))),
    }
}

/// Implements the trait for address types that convert to one
/// `SocketAddr` without a lookup.
macro_rules! literal {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}
        impl Sealed for $ty {
            fn to_addrs(&self) -> ToAddrs {
                ToAddrs::Ready(Ok(SocketAddrs::one(SocketAddr::from(*self))))
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
);

impl ToSocketAddrs for str {}
impl Sealed for str {
    fn to_addrs(&self) -> ToAddrs {
        host_and_port(self)
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn to_addrs(&self) -> ToAddrs {
        host_and_port(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn to_addrs(&self) -> ToAddrs {
        host_port(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn to_addrs(&self) -> ToAddrs {
        host_port(&self.0, self.1)
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl Sealed for [SocketAddr] {
    fn to_addrs(&self) -> ToAddrs {
        ToAddrs::Ready(Ok(SocketAddrs::many(self.to_vec())))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> Sealed for &T {
    fn to_addrs(&self) -> ToAddrs {
        (**self).to_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
        match addr.to_addrs() {
            ToAddrs::Ready(result) => result.map(Iterator::collect),
            ToAddrs::Lookup(host, port) => panic!("{host}:{port} needed a lookup"),
        }
    }

    #[test]
    fn literals_resolve_without_a_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80").unwrap(), [v4]);
        assert_eq!(ready(&String::from("[::1]:80")).unwrap(), [v6]);
        assert_eq!(ready(&("127.0.0.1", 80)).unwrap(), [v4]);
        assert_eq!(ready(&(String::from("::1"), 80)).unwrap(), [v6]);
        assert_eq!(ready(&(Ipv4Addr::LOCALHOST, 80)).unwrap(), [v4]);
        assert_eq!(ready(&(Ipv6Addr::LOCALHOST, 80)).unwrap(), [v6]);
        assert_eq!(ready(&(v4.ip(), 80)).unwrap(), [v4]);
        assert_eq!(ready(&v4).unwrap(), [v4]);
        assert_eq!(ready(&&&v6).unwrap(), [v6]);
        assert_eq!(ready(&[v4, v6][..]).unwrap(), [v4, v6]);
    }

    #[test]
    fn malformed_addresses_are_invalid_input() {
        for bad in [
            "not an address",
            "127.0.0.1",
            "127.0.0.1:http",
            "host:99999",
        ] {
            let err = ready(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn names_are_looked_up() {
        assert!(matches!(
            "localhost:80".to_addrs(),
            ToAddrs::Lookup(host, 80) if host == "localhost"
        ));
    }

    #[test]
    fn names_resolve_on_the_blocking_pool() {
        let addrs: Vec<_> = coro_core::block_on(lookup_host(("localhost", 7)))
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 7));
    }
}
