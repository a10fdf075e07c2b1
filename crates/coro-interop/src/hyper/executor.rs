//! [`Executor`]: hyper's background tasks as coro tasks.

use std::future::Future;

/// Spawns the futures hyper hands it on the current coro runtime.
///
/// HTTP/2 needs one: each stream of a server connection and the
/// connection task of a client run as tasks of their own. `execute` calls
/// [`coro::spawn`](coro_core::spawn) and detaches the task (hyper keeps no
/// handle), so it must be called inside a coro runtime, as it is when the
/// connection itself is driven by a coro task.
///
/// # Examples
///
/// An HTTP/2 client and server over a Unix socket pair:
///
/// ```
/// use coro::hyper::{Executor, Io};
/// use http_body_util::{BodyExt, Full};
/// use hyper::body::Bytes;
///
/// coro::block_on(async {
///     let (client, server) = coro::net::UnixStream::pair().unwrap();
///     coro::spawn(async move {
///         let service = hyper::service::service_fn(|_| async {
///             Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from("over h2"))))
///         });
///         hyper::server::conn::http2::Builder::new(Executor::new())
///             .serve_connection(Io::new(server), service)
///             .await
///     });
///     let (mut sender, conn) = hyper::client::conn::http2::handshake(Executor::new(), Io::new(client))
///         .await
///         .unwrap();
///     coro::spawn(conn);
///     let request = hyper::Request::get("http://localhost/").body(Full::new(Bytes::new())).unwrap();
///     let response = sender.send_request(request).await.unwrap();
///     assert_eq!(response.version(), hyper::Version::HTTP_2);
///     assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "over h2");
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Executor {
    _private: (),
}

impl Executor {
    /// An executor for the current runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = hyper::server::conn::http2::Builder::new(coro::hyper::Executor::new());
    /// # drop(builder);
    /// ```
    pub fn new() -> Self {
        Executor { _private: () }
    }
}

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        drop(coro_core::spawn(future));
    }
}
