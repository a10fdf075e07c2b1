//! Child processes: [`Command`], [`Child`], and the child's pipes.
//!
//! gevent's `gevent.subprocess.Popen` is `subprocess.Popen` whose pipes
//! and `wait()` yield to the hub instead of blocking. This module is the
//! same for coro, with tokio::process's surface: [`Command`] mirrors
//! `std::process::Command` (`Stdio` is std's), [`Command::spawn`] returns
//! a [`Child`] whose `stdin`/`stdout`/`stderr` are futures-io pipes
//! registered with the reactor, and `wait`, `status` and `output` are
//! futures.
//!
//! # How an exit is seen
//!
//! With no thread per child: on Linux 5.3 and later a pidfd registered
//! with the reactor becomes readable when the child exits; elsewhere
//! `SIGCHLD` (through [`crate::signal`]) wakes the waiters, which check
//! their own child with a non-blocking `waitpid`. A [`Child`] dropped
//! before its process exited is reaped in the background when it does
//! (killed first with [`Command::kill_on_drop`]), so no zombie is left.
//!
//! # Examples
//!
//! ```
//! use std::process::Stdio;
//! use coro::io::{AsyncReadExt, AsyncWriteExt};
//! use coro::process::Command;
//!
//! #[coro::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let mut child = Command::new("tr")
//!         .arg("a-z")
//!         .arg("A-Z")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()?;
//!     child.stdin.take().unwrap().write_all(b"shout\n").await?; // dropped: EOF
//!     let mut out = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut out).await?;
//!     assert_eq!(out, "SHOUT\n");
//!     assert!(child.wait().await?.success());
//!     Ok(())
//! }
//! ```

mod child;
mod command;
mod exit;
mod pipe;
mod reaper;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
