//! The child's standard streams as seen from the parent: [`ChildStdin`],
//! [`ChildStdout`], [`ChildStderr`].
//!
//! Each is the parent's end of a pipe, switched to non-blocking mode and
//! registered with the reactor as an [`IoSource`] over a `File` (whose
//! `&File` implements `Read` and `Write`, so the socket code's generic
//! `stream_io` functions serve pipes unchanged). Only the parent's end is
//! made non-blocking: `O_NONBLOCK` lives on the open file description, and
//! the child's end is a different one, so the child still sees an ordinary
//! blocking pipe.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use coro_reactor::IoSource;
use futures_io::{AsyncRead, AsyncWrite};

use crate::net::stream_io;

/// Makes `fd` non-blocking and registers it with the current reactor.
fn register(fd: OwnedFd) -> io::Result<IoSource<File>> {
    set_nonblocking(fd.as_fd())?;
    IoSource::new(File::from(fd))
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is a borrowed, open descriptor for the whole call;
    // F_GETFL and F_SETFL read and write its status flags, nothing else.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags == -1 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) == -1
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The child's standard input: the writing end of a pipe, from
/// [`Stdio::piped`](std::process::Stdio::piped). Implements futures-io's
/// [`AsyncWrite`]; [`close`](futures_util::AsyncWriteExt::close) (or
/// dropping it) closes the pipe, so the child reads end-of-file.
///
/// # Examples
///
/// ```
/// use std::process::Stdio;
/// use coro::io::{AsyncReadExt, AsyncWriteExt};
/// use coro::process::Command;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await?;
///     stdin.close().await?; // cat sees end-of-file and exits
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await?;
///     assert_eq!(out, "meow");
///     assert!(child.wait().await?.success());
///     Ok(())
/// }
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<IoSource<File>>,
}

/// The child's standard output: the reading end of a pipe, from
/// [`Stdio::piped`](std::process::Stdio::piped). Implements futures-io's
/// [`AsyncRead`]; it reads end-of-file once the child (and every process
/// it passed the pipe to) has closed it, usually by exiting.
///
/// # Examples
///
/// ```
/// use std::process::Stdio;
/// use coro::io::AsyncReadExt;
/// use coro::process::Command;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await?;
///     assert_eq!(out, "hello\n");
///     child.wait().await?;
///     Ok(())
/// }
/// ```
pub struct ChildStdout {
    io: IoSource<File>,
}

/// The child's standard error: like [`ChildStdout`], for stderr.
///
/// # Examples
///
/// ```
/// use std::process::Stdio;
/// use coro::io::AsyncReadExt;
/// use coro::process::Command;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()?;
///     let mut err = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut err).await?;
///     assert_eq!(err, "oops\n");
///     child.wait().await?;
///     Ok(())
/// }
/// ```
pub struct ChildStderr {
    io: IoSource<File>,
}

impl ChildStdin {
    /// Adopts the stdin pipe of a child started with std's `Command`
    /// (made non-blocking and registered with the current reactor).
    ///
    /// # Errors
    ///
    /// The OS error if the pipe cannot be made non-blocking or registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::io::AsyncWriteExt;
    /// use coro::process::ChildStdin;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = std::process::Command::new("cat")
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::null())
    ///         .spawn()?;
    ///     let mut stdin = ChildStdin::from_std(child.stdin.take().unwrap())?;
    ///     stdin.write_all(b"adopted").await?;
    ///     drop(stdin);
    ///     assert!(child.wait()?.success());
    ///     Ok(())
    /// }
    /// ```
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            io: Some(register(stdin.into())?),
        })
    }

    fn open(&self) -> io::Result<&IoSource<File>> {
        self.io.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "coro::process::ChildStdin: written after close()",
            )
        })
    }
}

impl ChildStdout {
    /// Adopts the stdout pipe of a child started with std's `Command`
    /// (made non-blocking and registered with the current reactor).
    ///
    /// # Errors
    ///
    /// The OS error if the pipe cannot be made non-blocking or registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::io::AsyncReadExt;
    /// use coro::process::ChildStdout;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = std::process::Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    ///     let mut stdout = ChildStdout::from_std(child.stdout.take().unwrap())?;
    ///     let mut out = String::new();
    ///     stdout.read_to_string(&mut out).await?;
    ///     assert_eq!(out, "hi\n");
    ///     child.wait()?;
    ///     Ok(())
    /// }
    /// ```
    pub fn from_std(stdout: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            io: register(stdout.into())?,
        })
    }
}

impl ChildStderr {
    /// Adopts the stderr pipe of a child started with std's `Command`
    /// (made non-blocking and registered with the current reactor).
    ///
    /// # Errors
    ///
    /// The OS error if the pipe cannot be made non-blocking or registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::io::AsyncReadExt;
    /// use coro::process::ChildStderr;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = std::process::Command::new("sh")
    ///         .args(["-c", "echo err >&2"])
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let mut stderr = ChildStderr::from_std(child.stderr.take().unwrap())?;
    ///     let mut err = String::new();
    ///     stderr.read_to_string(&mut err).await?;
    ///     assert_eq!(err, "err\n");
    ///     child.wait()?;
    ///     Ok(())
    /// }
    /// ```
    pub fn from_std(stderr: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            io: register(stderr.into())?,
        })
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream_io::poll_write(self.open()?, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream_io::poll_write_vectored(self.open()?, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered in user space.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Dropping the source deregisters and closes our end of the pipe.
        self.get_mut().io = None;
        Poll::Ready(Ok(()))
    }
}

/// `AsyncRead` for the two reading ends, through the sockets' code.
macro_rules! impl_read_end {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                stream_io::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [io::IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                stream_io::poll_read_vectored(&self.io, cx, bufs)
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.io.as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.as_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.io.as_raw_fd())
                    .finish()
            }
        }
    };
}

impl_read_end!(ChildStdout);
impl_read_end!(ChildStderr);

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.io.as_ref().map(|io| io.as_raw_fd()))
            .finish()
    }
}
