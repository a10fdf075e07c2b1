//! [`Incoming`]: a listener's connections as a `Stream`, so that an accept
//! loop can be written with `StreamExt` (`while let Some(conn) =
//! incoming.next().await`), like iterating `listener.incoming()` in std.
//!
//! One struct serves both listeners; each listener module implements
//! `Stream` for its own `Incoming<'_, Listener>` on top of its
//! `poll_accept`.

use std::fmt;

/// The stream of connections from
/// [`TcpListener::incoming`](super::TcpListener::incoming) or
/// [`UnixListener::incoming`](super::UnixListener::incoming).
///
/// It never ends: each item is the next accepted stream or the error of a
/// failed accept (which does not end the stream; see
/// [`TcpListener::accept`](super::TcpListener::accept) for what to do with
/// errors such as `EMFILE`).
///
/// # Examples
///
/// ```
/// use coro_net::net::{TcpListener, TcpStream};
/// use futures_util::StreamExt;
///
/// coro_core::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let mut incoming = listener.incoming();
///     let server_side = incoming.next().await.unwrap().unwrap();
///     assert_eq!(server_side.peer_addr().unwrap(), _client.local_addr().unwrap());
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a, L> {
    pub(crate) listener: &'a L,
}

impl<'a, L> Incoming<'a, L> {
    pub(crate) fn new(listener: &'a L) -> Self {
        Incoming { listener }
    }
}

impl<L: fmt::Debug> fmt::Debug for Incoming<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}
