//! Sockets, name lookup and timers for the coro runtime.
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
//!
//! Both work inside a coro runtime (the worker that runs the task also
//! waits for the OS) and outside one (a fallback reactor thread waits).
#![warn(missing_docs, rust_2018_idioms)]
// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo feature
// are then labelled with the feature that enables them.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod net;
pub mod time;
