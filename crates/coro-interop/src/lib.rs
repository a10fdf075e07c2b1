//! Adapters that let crates written for other I/O traits run on coro.
//!
//! gevent made existing libraries cooperative by monkey-patching the
//! socket module. coro does it with adapters to the traits those libraries
//! are written against, so they run unmodified on coro's reactor with no
//! other runtime underneath. Each adapter is behind a cargo feature of the
//! `coro` package, off by default:
//!
//! | module | feature | what it adapts |
//! |---|---|---|
//! | [`hyper`] | `hyper` | hyper 1.x's `rt` traits: [`Io`](crate::hyper::Io) (any futures-io stream as `hyper::rt::{Read, Write}`), [`Executor`](crate::hyper::Executor) (hyper's background tasks as coro tasks), [`Timer`](crate::hyper::Timer) (`coro::time` as `hyper::rt::Timer`) |
//! | [`compat`] | `tokio-io` | [`Compat`](crate::compat::Compat): tokio's `AsyncRead`/`AsyncWrite`/`AsyncBufRead`/`AsyncSeek` for a futures-io type, and the reverse |
//!
//! Users reach these through the facade as `coro::hyper` and
//! `coro::compat`.
//!
//! # Reading into uninitialised memory
//!
//! hyper and tokio hand a reader an *uninitialised* buffer; futures-io's
//! `poll_read` wants an initialised `&mut [u8]`. For coro's own
//! `TcpStream` and `UnixStream` the adapters read straight into the
//! uninitialised memory (`poll_read_uninit`: the kernel only writes it);
//! any other stream gets the part it reads into zeroed first. See
//! `uninit.rs`.

#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "tokio-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-io")))]
pub mod compat;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
mod uninit;
