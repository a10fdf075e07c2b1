//! Sockets, name lookup, timers, signals, child processes and files for
//! the coro runtime: the user-facing OS I/O.
//!
//! gevent made blocking-looking socket code cooperative by monkey-patching
//! `socket`. Here the sockets are cooperative by construction: every
//! operation that would block returns `Pending`, the task yields to its
//! worker, and the reactor wakes it when the OS reports readiness.
//!
//! # Map
//!
//! * [`net`]: `TcpListener`, `TcpStream`, `UdpSocket`, `UnixListener`,
//!   `UnixStream`, `lookup_host`; each is an [`IoSource`](coro_reactor::IoSource)
//!   around a non-blocking std socket.
//! * [`time`]: `sleep`, `timeout`, `interval` on the reactor's timer wheel.
//! * [`signal`]: `ctrl_c` and Unix signals as streams, woken through the
//!   reactor.
//! * [`fs`]: files and directories on the blocking pool (tokio::fs's
//!   surface), `File` with buffered, chunked reads and writes.
//! * [`process`]: `Command` and `Child` with async pipes and exit, seen
//!   through a pidfd (Linux) or `SIGCHLD`.
//!
//! Both work inside a coro runtime (the worker that runs the task also
//! waits for the OS) and outside one (a fallback reactor thread waits).
#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(unix)]
pub mod fs;
pub mod net;
#[cfg(unix)]
pub mod process;
#[cfg(unix)]
pub mod signal;
pub mod time;
