//! TCP: [`TcpListener`] accepts connections, [`TcpStream`] is one,
//! [`TcpSocket`] configures a socket before it becomes either, and
//! [`OwnedReadHalf`]/[`OwnedWriteHalf`] are a stream split between two
//! tasks.
//!
//! The listener and the stream each have their own file; the split halves
//! are the generic ones of [`halves`], named here for
//! `TcpStream`.

mod listener;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

use crate::net::halves;

/// The reading half of a [`TcpStream`], from
/// [`TcpStream::into_split`]. It implements futures-io's `AsyncRead`.
///
/// # Examples
///
/// ```
/// use coro_net::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
/// use coro_net::net::{TcpListener, TcpStream};
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (read, write): (OwnedReadHalf, OwnedWriteHalf) = stream.into_split();
///     assert_eq!(read.as_ref().local_addr().unwrap(), write.as_ref().local_addr().unwrap());
/// });
/// ```
pub type OwnedReadHalf = halves::OwnedReadHalf<TcpStream>;

/// The writing half of a [`TcpStream`], from
/// [`TcpStream::into_split`]. It implements futures-io's `AsyncWrite`;
/// dropping it shuts down the write direction.
///
/// # Examples
///
/// ```
/// use coro_net::net::tcp::OwnedWriteHalf;
/// use coro_net::net::{TcpListener, TcpStream};
/// use futures_util::io::AsyncWriteExt;
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (_read, mut write) = stream.into_split();
///     let write: &mut OwnedWriteHalf = &mut write;
///     write.write_all(b"data").await.unwrap();
/// });
/// ```
pub type OwnedWriteHalf = halves::OwnedWriteHalf<TcpStream>;

/// The error of reuniting halves of two different [`TcpStream`]s.
///
/// # Examples
///
/// ```
/// use coro_net::net::tcp::ReuniteError;
/// use coro_net::net::{TcpListener, TcpStream};
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let (read, _) = TcpStream::connect(addr).await.unwrap().into_split();
///     let (_, write) = TcpStream::connect(addr).await.unwrap().into_split();
///     let err: ReuniteError = read.reunite(write).unwrap_err();
///     assert!(err.to_string().contains("not from the same stream"));
/// });
/// ```
pub type ReuniteError = halves::ReuniteError<TcpStream>;
