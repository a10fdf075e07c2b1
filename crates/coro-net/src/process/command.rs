//! [`Command`]: std's process builder, with `spawn`, `status` and `output`
//! that return coro's [`Child`] and futures.
//!
//! The builder methods forward to `std::process::Command` (so argument,
//! environment and stdio handling are exactly std's); coro adds only
//! `kill_on_drop` and remembers whether stdin was configured, because
//! `output()` must then leave it alone (std's rule: `output` gives the
//! child a null stdin unless told otherwise).

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;

/// Builds and starts a child process: `std::process::Command`'s methods,
/// with [`spawn`](Command::spawn) giving a [`Child`] whose pipes and exit
/// are async, and [`status`](Command::status) and
/// [`output`](Command::output) as futures.
///
/// # Examples
///
/// ```
/// use coro::process::Command;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let output = Command::new("echo").arg("hello").output().await?;
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
///     Ok(())
/// }
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
}

impl Command {
    /// A command to run `program`, found through `PATH` unless it contains
    /// a `/`, with no arguments, this process's environment and working
    /// directory, and inherited stdio (see `std::process::Command::new`).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     assert!(Command::new("true").status().await?.success());
    ///     Ok(())
    /// }
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let status = Command::new("test").arg("-d").arg("/").status().await?;
    ///     assert!(status.success());
    ///     Ok(())
    /// }
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("printf").args(["%s-%s", "a", "b"]).output().await?;
    ///     assert_eq!(output.stdout, b"a-b");
    ///     Ok(())
    /// }
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets one environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("sh").args(["-c", "echo $GREETING"]).env("GREETING", "hi").output().await?;
    ///     assert_eq!(output.stdout, b"hi\n");
    ///     Ok(())
    /// }
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo $A$B"])
    ///         .envs([("A", "1"), ("B", "2")])
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"12\n");
    ///     Ok(())
    /// }
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes one environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo ${HOME:-unset}"])
    ///         .env_remove("HOME")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"unset\n");
    ///     Ok(())
    /// }
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Gives the child an empty environment (then add to it with
    /// [`env`](Self::env)).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("/usr/bin/env").env_clear().env("ONLY", "me").output().await?;
    ///     assert_eq!(output.stdout, b"ONLY=me\n");
    ///     Ok(())
    /// }
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Runs the child in `dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(output.stdout, b"/\n");
    ///     Ok(())
    /// }
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Configures the child's stdin: [`Stdio::piped`] gives
    /// [`Child::stdin`] a [`ChildStdin`](super::ChildStdin).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     assert!(child.stdin.is_some());
    ///     child.wait().await?; // closes stdin, so cat exits
    ///     Ok(())
    /// }
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Configures the child's stdout: [`Stdio::piped`] gives
    /// [`Child::stdout`] a [`ChildStdout`](super::ChildStdout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let status = Command::new("echo").arg("quiet").stdout(Stdio::null()).status().await?;
    ///     assert!(status.success());
    ///     Ok(())
    /// }
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// Configures the child's stderr: [`Stdio::piped`] gives
    /// [`Child::stderr`] a [`ChildStderr`](super::ChildStderr).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let child = Command::new("ls").arg("/nonexistent").stderr(Stdio::piped()).spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert!(!output.status.success());
    ///     assert!(!output.stderr.is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] before it exited sends it `SIGKILL`
    /// (default `false`: the child keeps running and is reaped in the
    /// background when it exits). Also applies to the futures of
    /// [`status`](Self::status) and [`output`](Self::output) dropped
    /// before completion.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn()?;
    ///     drop(child); // killed now, reaped in the background
    ///     Ok(())
    /// }
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std command underneath, for settings coro does not mirror
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut command = Command::new("true");
    ///     command.as_std_mut().process_group(0);
    ///     assert_eq!(command.as_std().get_program(), "true");
    ///     assert!(command.status().await?.success());
    ///     Ok(())
    /// }
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The std command underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = coro::process::Command::new("ls");
    /// command.arg("-l");
    /// assert_eq!(command.as_std().get_args().collect::<Vec<_>>(), ["-l"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Starts the child.
    ///
    /// # Errors
    ///
    /// std's spawn errors, with the OS cause: `NotFound` for a program that
    /// does not exist, `PermissionDenied` for one that is not executable;
    /// and the OS error if its pipes or exit watcher cannot be registered
    /// (the child is then killed and reaped).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let err = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// }
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        Child::from_std(self.std.spawn()?, self.kill_on_drop)
    }

    /// Starts the child and waits for it; stdio is inherited unless
    /// configured.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let status = Command::new("sh").args(["-c", "exit 7"]).status().await?;
    ///     assert_eq!(status.code(), Some(7));
    ///     Ok(())
    /// }
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        // Handles we will not use: the child must not wait on them.
        drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
        child.wait().await
    }

    /// Starts the child with stdout and stderr piped (and stdin null,
    /// unless configured) and collects both while waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::process::Command;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let output = Command::new("sh").args(["-c", "echo to-err >&2"]).output().await?;
    ///     assert_eq!(output.stderr, b"to-err\n");
    ///     assert!(output.stdout.is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)?;
        if self.kill_on_drop {
            f.write_str(" (kill_on_drop)")?;
        }
        Ok(())
    }
}
