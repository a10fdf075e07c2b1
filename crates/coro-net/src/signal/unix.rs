//! Unix signals as async streams: [`signal`], [`SignalKind`], [`Signal`].
//!
//! A [`Signal`] is one listener: a delivery counter it has seen up to, and
//! its own registered `dup` of the process-wide self-pipe (see
//! `registry.rs`). `recv` reports "the signal arrived at least once since
//! the last `recv`", so deliveries that come faster than the listener
//! looks are coalesced into one, as the OS itself coalesces pending
//! signals and as tokio does.
//!
//! # Why `poll_recv` checks the counter twice
//!
//! The wake-up byte may have been drained by another listener before this
//! one looks, and `poll_read_with` forgets the readiness it saw when the
//! drain finds nothing. So after registering for the next edge (the
//! `Pending` path) the counter is read once more: a delivery that happened
//! before the registration is caught by that read, and one that happens
//! after it writes a new byte, which is a new edge that wakes this task.

use std::fmt;
use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use coro_reactor::IoSource;
use futures_core::Stream;
use libc::c_int;

use super::registry;

/// Which signal to listen for: the common ones by name, any other by
/// number with [`from_raw`](SignalKind::from_raw).
///
/// # Examples
///
/// ```
/// use coro::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGTERM), SignalKind::terminate());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// Any signal, by its number (`libc::SIGWINCH`, `libc::SIGRTMIN() + 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// let winch = SignalKind::from_raw(libc::SIGWINCH);
    /// assert_eq!(winch.as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn as_raw_value(self) -> c_int {
        self.0
    }

    /// `SIGINT`: the terminal's Ctrl-C.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop (`kill PID`, systemd, Docker).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons take it as "reload".
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: the terminal's Ctrl-\.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGUSR1`, free for the application to give a meaning.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`, free for the application to give a meaning.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` or `setitimer(2)` expired.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::alarm().as_raw_value(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGIO`: a descriptor set up for signal-driven I/O is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::io().as_raw_value(), libc::SIGIO);
    /// ```
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader. (The Rust
    /// runtime ignores it, so writes fail with `BrokenPipe` instead;
    /// listening for it is rarely what you want.)
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::pipe().as_raw_value(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal window changed size.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::window_change().as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

/// A listener for one kind of signal, created by [`signal`].
///
/// [`recv`](Signal::recv) completes once for each batch of deliveries
/// since the previous `recv` (several signals arriving before the listener
/// looks count as one). Every `Signal` for the same kind is woken by each
/// delivery. `Signal` is also a [`Stream`] of `()`.
///
/// The stream ends (`recv` returns `None`) only if the coro runtime it was
/// created on shuts down. A `Signal` made outside any coro runtime (on a
/// plain thread, under another executor) is served by coro's fallback
/// reactor thread and never ends.
///
/// # Examples
///
/// ```
/// use coro::signal::unix::{signal, SignalKind};
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut hangups = signal(SignalKind::hangup())?;
///     // Stands in for `kill -HUP <pid>` from another terminal.
///     unsafe { libc::raise(libc::SIGHUP) };
///     assert_eq!(hangups.recv().await, Some(()));
///     Ok(())
/// }
/// ```
pub struct Signal {
    kind: SignalKind,
    /// The delivery count this listener has reported up to.
    seen: u64,
    /// This listener's registration of the self-pipe.
    wakeup: IoSource<UnixStream>,
}

/// Starts listening for `kind`.
///
/// The first call for a signal number installs coro's handler for it in
/// the process, and from then on the signal's default action (for
/// `SIGINT` and `SIGTERM`: terminate the process) no longer happens, even
/// after every `Signal` is dropped: the program decides what the signal
/// means. Deliveries before the call are not reported.
///
/// # Errors
///
/// `InvalidInput` for a number that is not a signal or that cannot be
/// handled (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`);
/// the OS error if the handler or the wake-up socket cannot be created.
///
/// # Examples
///
/// ```
/// use coro::signal::unix::{signal, SignalKind};
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     unsafe { libc::raise(libc::SIGUSR1) };
///     usr1.recv().await.unwrap();
///
///     let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// }
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let (read_end, seen) = registry::listen(kind.0)?;
    Ok(Signal {
        kind,
        seen,
        wakeup: IoSource::new(read_end)?,
    })
}

impl Signal {
    /// Waits for the next delivery of the signal; `None` if the runtime the
    /// listener was created on has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no delivery; the next `recv`
    /// reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::signal::unix::{signal, SignalKind};
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     assert_eq!(usr2.recv().await, Some(()));
    /// }
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery: the poll form of [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use coro::signal::unix::{signal, SignalKind};
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let mut alarm = signal(SignalKind::from_raw(libc::SIGALRM)).unwrap();
    ///     unsafe { libc::raise(libc::SIGALRM) };
    ///     assert_eq!(poll_fn(|cx| alarm.poll_recv(cx)).await, Some(()));
    /// }
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.take_delivery() {
            return Poll::Ready(Some(()));
        }
        match self.wakeup.poll_read_with(cx, drain) {
            // `drain` never succeeds: it empties the pipe and reports
            // `WouldBlock`, so the source re-arms for the next edge.
            Poll::Ready(Ok(())) => unreachable!("drain always ends in WouldBlock"),
            // The runtime shut down (or the socket failed): no more
            // deliveries can be seen here.
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending if self.take_delivery() => Poll::Ready(Some(())),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Whether the signal arrived since the last report; marks it reported.
    fn take_delivery(&mut self) -> bool {
        let now = registry::deliveries(self.kind.0);
        let arrived = now != self.seen;
        self.seen = now;
        arrived
    }
}

/// Reads every queued wake-up byte, then reports `WouldBlock` so that the
/// caller waits for the next one (see the module docs).
fn drain(mut pipe: &UnixStream) -> io::Result<()> {
    let mut buf = [0u8; 64];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "coro::signal: the wake-up socket was closed",
                ))
            }
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
