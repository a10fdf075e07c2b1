//! Running [hyper](https://docs.rs/hyper) 1.x on coro.
//!
//! hyper is runtime-agnostic: it asks for three things, each a trait in
//! `hyper::rt`, and this module gives coro's answer to each.
//!
//! * [`Io`] wraps a futures-io stream (a [`TcpStream`], a TLS stream from
//!   futures-rustls, ...) as `hyper::rt::Read + Write`;
//! * [`Executor`] runs the background tasks HTTP/2 needs as coro tasks;
//! * [`Timer`] gives hyper `coro::time` for header-read timeouts and
//!   HTTP/2 keep-alive pings.
//!
//! With them, `hyper::server::conn::{http1, http2}`, `hyper::client::conn`
//! and hyper-util's `server::conn::auto::Builder` run on coro sockets, with
//! no tokio runtime in the process.
//!
//! # Examples
//!
//! A server and a client, HTTP/1.1, in one program:
//!
//! ```
//! use coro::hyper::Io;
//! use coro::net::{TcpListener, TcpStream};
//! use http_body_util::{BodyExt, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
//!     Ok(Response::new(Full::new(Bytes::from("hello"))))
//! }
//!
//! coro::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     coro::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         hyper::server::conn::http1::Builder::new()
//!             .serve_connection(Io::new(stream), hyper::service::service_fn(hello))
//!             .await
//!             .unwrap();
//!     });
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
//!         .await
//!         .unwrap();
//!     coro::spawn(conn);
//!     let request = Request::get("/").body(Full::new(Bytes::new())).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello");
//! });
//! ```
//!
//! [`TcpStream`]: coro_net::net::TcpStream

mod executor;
mod io;
mod timer;

pub use executor::Executor;
pub use io::Io;
pub use timer::Timer;
