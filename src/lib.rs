//! # coro
//!
//! A stackless async runtime for Rust that teaches concurrency the way
//! Python's generators, greenlet and gevent do, with `async fn` in place of
//! `yield`.
//!
//! ```
//! #[coro::main(flavor = "current_thread")]
//! async fn main() {
//!     // gevent.spawn + joinall
//!     let jobs: Vec<_> = (1..=3).map(|i| coro::spawn(async move { i * 10 })).collect();
//!     let values: Vec<u32> = coro::task::join_all(jobs)
//!         .await
//!         .into_iter()
//!         .map(Result::unwrap)
//!         .collect();
//!     assert_eq!(values, [10, 20, 30]);
//! }
//! ```
//!
//! # Map of the crates
//!
//! This facade only re-exports; the code lives in:
//!
//! | crate | what it holds |
//! |---|---|
//! | `coro-core` | tasks, schedulers (current-thread and work-stealing multi-thread), `JoinHandle`/`JoinSet`, `block_on`, runtimes, the blocking pool |
//! | `coro-reactor` | the epoll/kqueue reactor: I/O readiness, the timer wheel, parking idle workers in the poller |
//! | `coro-net` | [`net`] (TCP, UDP, Unix sockets, `lookup_host`), [`time`] (`sleep`, `timeout`, `interval`), [`signal`] (`ctrl_c`, Unix signals), [`process`] (`Command`, `Child`) and [`fs`] (files and directories on the blocking pool) |
//! | `coro-macros` | `#[coro::main]` and `#[coro::test]` |
//! | `coro-interop` | adapters to other crates' traits, each behind a cargo feature (below) |
//!
//! # Cargo features
//!
//! All off by default; the default build pulls in neither hyper nor tokio.
//!
//! | feature | module | what it gives |
//! |---|---|---|
//! | `hyper` | `coro::hyper` | `Io`, `Executor`, `Timer`: hyper 1.x clients and servers (HTTP/1.1, HTTP/2) on coro |
//! | `tokio-io` | `coro::compat` | `Compat`/`CompatExt`: tokio-io crates (tokio-util codecs, hyper-util's `TokioIo`) on coro sockets, and futures-io for tokio-io types |
//! | `tracing` | (no module) | a `tracing` span per task (id, name, spawn site) entered on each poll; events for spawn, completion, panic, cancellation and blocking-watchdog reports |
//!
//! # Entry points
//!
//! * [`macro@main`] on `async fn main`, [`macro@test`] on async tests;
//! * [`block_on`] to run one future on the current thread;
//! * [`Runtime`] and [`runtime::Builder`] to build a runtime by hand.

#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod runtime;

pub use coro_core::{gen, sync};
pub use coro_core::{spawn, spawn_blocking, spawn_local, yield_now, JoinHandle};
pub use coro_macros::{main, test};
pub use runtime::{block_on, Runtime};

#[cfg(unix)]
pub use coro_net::{fs, process, signal};
pub use coro_net::{net, time};

#[cfg(feature = "tokio-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-io")))]
#[doc(inline)]
pub use coro_interop::compat;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
#[doc(inline)]
pub use coro_interop::hyper;

/// Async I/O traits: futures-io's [`AsyncRead`](io::AsyncRead),
/// [`AsyncWrite`](io::AsyncWrite), [`AsyncBufRead`](io::AsyncBufRead) and
/// [`AsyncSeek`](io::AsyncSeek), with their helpers
/// ([`AsyncReadExt`](io::AsyncReadExt), [`AsyncWriteExt`](io::AsyncWriteExt),
/// [`AsyncBufReadExt`](io::AsyncBufReadExt), [`AsyncSeekExt`](io::AsyncSeekExt):
/// `read`, `write_all`, `read_line`, `seek`, `copy`, `split`, ...) that
/// coro's sockets are used through.
pub mod io {
    pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
    pub use futures_util::io::{
        copy, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter,
        ReadHalf, WriteHalf,
    };
}

/// Tasks: spawning, joining, cancelling (`JoinHandle`, `JoinSet`, `join_all`).
pub mod task {
    pub use coro_core::task::*;
}

/// The cooperative scheduling budget, for authors of I/O resources.
pub mod coop {
    pub use coro_core::coop::*;
}

/// The README's code blocks, compiled and run as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
