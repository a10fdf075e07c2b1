//! Unix domain sockets, the local cousins of TCP and UDP: a path in the
//! file system instead of an IP address and port.
//!
//! [`UnixListener`] and [`UnixStream`] (in `listener.rs` and `stream.rs`)
//! are made of the same parts as the TCP types: the socket helpers of
//! `os.rs`, the `AsyncRead`/`AsyncWrite` code of `stream_io.rs`, and the
//! owned halves of [`halves`], named here for
//! `UnixStream`. [`UnixDatagram`] (in `datagram.rs`) is the Unix
//! counterpart of `UdpSocket`.

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

use crate::net::halves;

/// The reading half of a [`UnixStream`], from
/// [`UnixStream::into_split`].
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::OwnedReadHalf;
/// use coro_net::net::UnixStream;
///
/// coro_core::block_on(async {
///     let (a, _b) = UnixStream::pair().unwrap();
///     let (read, _write) = a.into_split();
///     let read: OwnedReadHalf = read;
///     assert!(read.as_ref().peer_addr().unwrap().is_unnamed());
/// });
/// ```
pub type OwnedReadHalf = halves::OwnedReadHalf<UnixStream>;

/// The writing half of a [`UnixStream`], from [`UnixStream::into_split`];
/// dropping it shuts down the write direction.
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::OwnedWriteHalf;
/// use coro_net::net::UnixStream;
/// use futures_util::io::AsyncReadExt;
///
/// coro_core::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (_read, write): (_, OwnedWriteHalf) = a.into_split();
///     drop(write);
///     assert_eq!(b.read(&mut [0; 1]).await.unwrap(), 0);
/// });
/// ```
pub type OwnedWriteHalf = halves::OwnedWriteHalf<UnixStream>;

/// The error of reuniting halves of two different [`UnixStream`]s.
///
/// # Examples
///
/// ```
/// use coro_net::net::unix::ReuniteError;
/// use coro_net::net::UnixStream;
///
/// coro_core::block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (read, _) = a.into_split();
///     let (_, write) = b.into_split();
///     let _err: ReuniteError = read.reunite(write).unwrap_err();
/// });
/// ```
pub type ReuniteError = halves::ReuniteError<UnixStream>;
