//! Child processes for the reports that load a server in another process
//! (`bench_report`'s `echo.rs` and `http_report`, which include this file by
//! `#[path]`): building this package's server and client binaries, starting
//! a bench server and reading its CPU time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Builds this package's binaries `names` (same profile and target
/// directory as the running binary) and returns their paths, next to it;
/// `None`, after saying why on stderr under `what`, if one is missing.
pub fn build_bins<const N: usize>(names: [&str; N], what: &str) -> Option<[PathBuf; N]> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.to_path_buf(); // target/<profile>
    let profile = match dir.file_name().and_then(|p| p.to_str()) {
        Some("debug") => "dev",
        Some(p) => p,
        None => "release",
    };
    let cargo = std::env::var_os("CARGO")
        .or(option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let target_dir = dir.parent();
    let mut build = Command::new(cargo);
    build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "--profile", profile])
        .args(["-p", env!("CARGO_PKG_NAME")]);
    for name in names {
        build.args(["--bin", name]);
    }
    if let Some(target_dir) = target_dir {
        build.arg("--target-dir").arg(target_dir);
    }
    match build.status() {
        Ok(status) if status.success() => {}
        Ok(status) => eprintln!("  {what}: building {names:?} failed ({status})"),
        Err(e) => eprintln!("  {what}: cannot run cargo: {e}"),
    }
    let paths = names.map(|name| dir.join(name));
    if let Some(missing) = paths.iter().find(|path| !path.is_file()) {
        eprintln!(
            "  {what}: {} is missing: run `cargo build --release -p {}` (no {what} rows)",
            missing.display(),
            env!("CARGO_PKG_NAME")
        );
        return None;
    }
    Some(paths)
}

/// A child process, its stdout as a channel of lines; killed on drop.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Proc {
    pub fn spawn(command: &mut Command) -> Result<Proc, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Proc {
            stdin: child.stdin.take(),
            child,
            lines,
        })
    }

    /// The next line starting with `prefix` (others are skipped), within
    /// `timeout`.
    pub fn expect(&self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!("no `{prefix}` line within {timeout:?}"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!("exited before printing `{prefix}`"))
                }
            }
        }
    }

    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot write to the child: {e}"))
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Proc {
    /// utime + stime of the whole process, in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(')').ok_or("bad stat")?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        match (field(11), field(12)) {
            (Some(utime), Some(stime)) => Ok(utime + stime),
            _ => Err(format!("{path}: no utime/stime")),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running bench server (`echo_bench_server`, `http_bench_server`):
/// started with `--runtime NAME --addr 127.0.0.1:0`, it prints
/// `listening on ADDR` and exits on a `quit` line.
pub struct Server {
    pub proc: Proc,
    pub addr: String,
}

impl Server {
    pub fn start(bin: &Path, runtime: &str) -> Result<Server, String> {
        let proc =
            Proc::spawn(Command::new(bin).args(["--runtime", runtime, "--addr", "127.0.0.1:0"]))?;
        let line = proc.expect("listening on ", Duration::from_secs(10))?;
        let addr = line["listening on ".len()..].trim().to_owned();
        Ok(Server { proc, addr })
    }

    /// Asks the server to quit (a `quit` line, then stdin closed); killed if
    /// it has not exited within a second.
    pub fn stop(mut self) {
        let _ = self.proc.send("quit");
        self.proc.stdin = None;
        self.proc.wait(Duration::from_secs(1));
    }
}
