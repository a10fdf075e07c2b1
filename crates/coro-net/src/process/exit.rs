//! Seeing a child exit without a thread per child: [`ExitWatcher`].
//!
//! On Linux 5.3 and later the watcher is a *pidfd* (`pidfd_open(2)`), a
//! descriptor that becomes readable when the process exits; it is
//! registered with the reactor like a socket, so a worker sleeping in
//! `epoll_wait` wakes for the exit itself. Elsewhere, or when the kernel
//! (or a seccomp filter) refuses `pidfd_open`, the watcher is a `SIGCHLD`
//! listener from [`crate::signal`]: every child exit in the process wakes
//! every such watcher, and each checks its own child with a non-blocking
//! `waitpid`. The first refusal is remembered, so later children go
//! straight to `SIGCHLD`.
//!
//! # Invariant
//!
//! A watcher is always created *before* the caller's first `try_wait`:
//! an exit after that `try_wait` then either makes the pidfd readable or
//! moves the `SIGCHLD` delivery count the listener started from, so it is
//! never missed.

use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{ready, Context, Poll};

use coro_reactor::IoSource;

use crate::signal::unix::{signal, Signal, SignalKind};

/// Waits for one child's exit on the current reactor.
pub(crate) enum ExitWatcher {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Pidfd(IoSource<OwnedFd>),
    Sigchld(Signal),
}

/// Set once `pidfd_open` failed with "not supported here".
static NO_PIDFD: AtomicBool = AtomicBool::new(false);

impl ExitWatcher {
    /// A watcher for the child `pid`, which must not have been reaped yet.
    pub(crate) fn new(pid: u32) -> io::Result<ExitWatcher> {
        if !NO_PIDFD.load(Ordering::Relaxed) {
            match pidfd_open(pid) {
                Ok(Some(fd)) => return Ok(ExitWatcher::Pidfd(IoSource::new(fd)?)),
                Ok(None) => NO_PIDFD.store(true, Ordering::Relaxed),
                Err(error) => return Err(error),
            }
        }
        Self::sigchld()
    }

    /// A `SIGCHLD` watcher, whatever the kernel supports (the fallback,
    /// and what the tests use to exercise it on Linux).
    pub(crate) fn sigchld() -> io::Result<ExitWatcher> {
        Ok(ExitWatcher::Sigchld(signal(SignalKind::child())?))
    }

    /// Polls until `try_wait` reports an exit status: `try_wait` first,
    /// then the watcher's event, and again.
    pub(crate) fn poll_wait(
        &mut self,
        cx: &mut Context<'_>,
        mut try_wait: impl FnMut() -> io::Result<Option<ExitStatus>>,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            // Readable means exited; `WouldBlock` re-arms the source for
            // the (then impossible) case of a readable pidfd whose child
            // `waitpid` does not report yet.
            ExitWatcher::Pidfd(pidfd) => pidfd.poll_read_with(cx, |_| {
                try_wait()?.ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            ExitWatcher::Sigchld(sigchld) => loop {
                if let Some(status) = try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                if ready!(sigchld.poll_recv(cx)).is_none() {
                    return Poll::Ready(Err(io::Error::other(
                        "coro::process: the coro runtime this child was waited on has shut down",
                    )));
                }
            },
        }
    }
}

/// `pidfd_open(pid, 0)`: `Ok(None)` if this kernel or sandbox does not
/// offer it.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> io::Result<Option<OwnedFd>> {
    use std::os::fd::FromRawFd;

    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"))?;
    // SAFETY: pidfd_open takes a pid and a flags word and returns a new
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ENOSYS | libc::EPERM | libc::EACCES) => Ok(None),
            _ => Err(error),
        };
    }
    // SAFETY: the syscall succeeded, so `fd` is a new descriptor (a
    // pidfd, close-on-exec) that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> io::Result<Option<OwnedFd>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    /// The `SIGCHLD` path, which Linux ≥ 5.3 would otherwise never take:
    /// several children exiting at different times, each watcher sees its
    /// own exit (coalesced `SIGCHLD`s included).
    #[test]
    fn sigchld_watchers_see_every_exit() {
        coro::block_on(async {
            let mut waits = Vec::new();
            for code in 0..8 {
                let mut child = std::process::Command::new("sh")
                    .args(["-c", &format!("sleep 0.0{code}; exit {code}")])
                    .spawn()
                    .unwrap();
                let mut watcher = ExitWatcher::sigchld().unwrap();
                waits.push(coro::spawn(async move {
                    poll_fn(|cx| watcher.poll_wait(cx, || child.try_wait()))
                        .await
                        .unwrap()
                        .code()
                }));
            }
            let codes: Vec<_> = coro::task::join_all(waits)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(codes, (0..8).map(Some).collect::<Vec<_>>());
        });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod pidfd_tests {
    use super::*;
    use std::future::poll_fn;

    /// Where the kernel offers `pidfd_open` (Linux ≥ 5.3, no sandbox
    /// refusing it), children are watched through a pidfd, not `SIGCHLD`.
    #[test]
    fn a_pidfd_watches_the_child_where_the_kernel_has_one() {
        coro::block_on(async {
            let mut child = std::process::Command::new("sh")
                .args(["-c", "exit 5"])
                .spawn()
                .unwrap();
            let kernel_has_pidfd = pidfd_open(child.id()).unwrap().is_some();
            let mut watcher = ExitWatcher::new(child.id()).unwrap();
            assert_eq!(
                matches!(watcher, ExitWatcher::Pidfd(_)),
                kernel_has_pidfd,
                "the watcher follows what the kernel offers"
            );
            let status = poll_fn(|cx| watcher.poll_wait(cx, || child.try_wait()))
                .await
                .unwrap();
            assert_eq!(status.code(), Some(5));
        });
    }
}
