//! [`Child`]: a running child process, its pipes, and waiting for it.
//!
//! A `Child` is std's `Child` (which does the `waitpid` and `kill`) plus an
//! [`ExitWatcher`] that says when to call `waitpid` again, plus the exit
//! status once known (after which the pid may be reused, so [`Child::id`]
//! returns `None`). Dropping a `Child` whose process has not been reaped
//! hands std's `Child` to the reaper (after `SIGKILL` if `kill_on_drop`),
//! so it never becomes a lasting zombie.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{ready, Context, Poll};

use futures_util::future::try_join3;
use futures_util::AsyncReadExt;

use super::exit::ExitWatcher;
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use super::reaper;

/// A child process started by [`Command::spawn`](super::Command::spawn).
///
/// Its piped standard streams are in the public fields (`None` unless the
/// [`Command`](super::Command) asked for [`Stdio::piped`](std::process::Stdio::piped));
/// take them out to use them.
///
/// Dropping a `Child` does not stop its process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set): it keeps
/// running, and coro reaps it in the background when it exits, so no
/// zombie is left behind.
///
/// Its pipes and exit watcher belong to the reactor of the runtime it was
/// spawned on (or coro's fallback reactor outside any runtime): once that
/// runtime has shut down, waiting on it or reading its pipes is an error.
/// [`try_wait`](Child::try_wait) still works.
///
/// # Examples
///
/// ```
/// use coro::process::Command;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn()?;
///     assert!(child.id().is_some());
///     let status = child.wait().await?;
///     assert_eq!(status.code(), Some(3));
///     assert_eq!(child.id(), None, "reaped: the pid may belong to someone else now");
///     Ok(())
/// }
/// ```
pub struct Child {
    /// The writing end of the child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    /// `None` only while dropping.
    std: Option<std::process::Child>,
    watcher: ExitWatcher,
    /// Set once the process was reaped.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

impl Child {
    /// Wraps a freshly spawned std child: registers its pipes and its exit
    /// watcher. On failure the process is killed (it was never handed to
    /// the caller) and reaped in the background.
    pub(crate) fn from_std(mut std: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let parts = (|| {
            // The watcher first: see the invariant in `exit.rs`.
            let watcher = ExitWatcher::new(std.id())?;
            let stdin = std.stdin.take().map(ChildStdin::from_std).transpose()?;
            let stdout = std.stdout.take().map(ChildStdout::from_std).transpose()?;
            let stderr = std.stderr.take().map(ChildStderr::from_std).transpose()?;
            Ok((watcher, stdin, stdout, stderr))
        })();
        match parts {
            Ok((watcher, stdin, stdout, stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                std: Some(std),
                watcher,
                status: None,
                kill_on_drop,
            }),
            Err(error) => {
                let _ = std.kill();
                reaper::adopt(std);
                Err(error)
            }
        }
    }

    fn std(&mut self) -> &mut std::process::Child {
        self.std.as_mut().expect("std is only taken in drop")
    }

    /// The OS process id, or `None` once the child has been reaped (by
    /// [`wait`](Self::wait) or [`try_wait`](Self::try_wait)): after that
    /// the number may already name another process.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("true").spawn()?;
    ///     let pid = child.id().unwrap();
    ///     assert!(pid > 0);
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None);
    ///     Ok(())
    /// }
    /// ```
    pub fn id(&self) -> Option<u32> {
        match self.status {
            Some(_) => None,
            None => self.std.as_ref().map(std::process::Child::id),
        }
    }

    /// Waits for the child to exit and returns its status. Closes the
    /// child's stdin first (if it was piped and not taken), so a child
    /// reading its input to the end does not wait for us forever.
    ///
    /// Waiting again returns the same status.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the child keeps running and can be waited for again.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.wait().await?.success());
    ///     assert!(child.wait().await?.success());
    ///     Ok(())
    /// }
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let std = self.std.as_mut().expect("std is only taken in drop");
        let status = ready!(self.watcher.poll_wait(cx, || std.try_wait()))?;
        self.status = Some(status);
        Poll::Ready(Ok(status))
    }

    /// The exit status if the child has exited (reaping it), or `None` if
    /// it is still running. Never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("sleep").arg("10").kill_on_drop(true).spawn()?;
    ///     assert_eq!(child.try_wait()?, None);
    ///     Ok(())
    /// }
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std().try_wait()?;
        }
        Ok(self.status)
    }

    /// Sends `SIGKILL` without waiting for the child to exit; follow with
    /// [`wait`](Self::wait) to reap it (or drop the `Child`: it is then
    /// reaped in the background).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the child was already reaped (its pid may name
    /// another process by now); the OS error if `kill(2)` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("sleep").arg("10").spawn()?;
    ///     child.start_kill()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
    ///     Ok(())
    /// }
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "coro::process: cannot kill a child that has already exited and been waited for",
            ));
        }
        self.std().kill()
    }

    /// Sends `SIGKILL` and waits for the child to exit.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Self::start_kill), then as [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("sleep").arg("10").spawn()?;
    ///     child.kill().await?;
    ///     assert!(!child.wait().await?.success());
    ///     Ok(())
    /// }
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Waits for the child to exit while collecting everything it writes
    /// to its piped stdout and stderr (a stream that was not piped comes
    /// back empty). Reading and waiting happen together, so a child that
    /// fills a pipe cannot deadlock against us.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2; exit 2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!(output.status.code(), Some(2));
    ///     assert_eq!(output.stdout, b"out\n");
    ///     assert_eq!(output.stderr, b"err\n");
    ///     Ok(())
    /// }
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        async fn read_all(pipe: Option<impl futures_io::AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes).await?;
            }
            Ok(bytes)
        }
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (status, stdout, stderr) =
            try_join3(self.wait(), read_all(stdout), read_all(stderr)).await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !matches!(self.try_wait(), Ok(None)) {
            // Reaped (or `waitpid` failed: nothing more we could do).
            return;
        }
        let mut std = self.std.take().expect("std is only taken here");
        if self.kill_on_drop {
            let _ = std.kill();
        }
        reaper::adopt(std);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.id())
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
