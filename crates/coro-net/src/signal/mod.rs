//! Signals: [`ctrl_c`] and, on Unix, [`unix::signal`] for any signal.
//!
//! gevent's `gevent.signal_handler(signal.SIGTERM, callback)` runs a
//! callback in a new greenlet when the signal arrives. Here a signal is a
//! stream a task awaits: `signal(SignalKind::terminate())?.recv().await`,
//! or [`ctrl_c`]`().await` for the common case, so "what to do on Ctrl-C"
//! is ordinary async code (stop accepting, drain, exit).
//!
//! The OS handler is installed through `signal-hook-registry`, so it
//! chains with other handlers registered the same way. It only counts the
//! delivery and writes a byte into a socket that every listener's reactor
//! watches; every listener of the signal is woken, on any runtime and
//! under the fallback reactor outside one.
//!
//! # Examples
//!
//! ```
//! use coro::signal::unix::{signal, SignalKind};
//!
//! #[coro::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let mut terminate = signal(SignalKind::terminate())?;
//!     // Stands in for `kill PID` from another terminal.
//!     unsafe { libc::raise(libc::SIGTERM) };
//!     terminate.recv().await;
//!     println!("stopping");
//!     Ok(())
//! }
//! ```

mod registry;
pub mod unix;

use std::io;

/// Waits for Ctrl-C (`SIGINT`).
///
/// The first call installs coro's `SIGINT` handler, which stays for the
/// life of the process: from then on Ctrl-C no longer kills the program,
/// it completes this future (and every other listener). Each call listens
/// afresh: a Ctrl-C that came before the call is not reported.
///
/// # Errors
///
/// The OS error if the handler or its wake-up socket cannot be created.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() {
///     let mut ctrl_c = pin!(coro::signal::ctrl_c());
///     // The first poll installs the handler and starts listening.
///     let mut cx = Context::from_waker(Waker::noop());
///     assert!(ctrl_c.as_mut().poll(&mut cx).is_pending());
///     // Stands in for the user pressing Ctrl-C.
///     unsafe { libc::raise(libc::SIGINT) };
///     ctrl_c.await.unwrap();
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "coro::signal::ctrl_c: the runtime shut down before Ctrl-C arrived",
        )),
    }
}
