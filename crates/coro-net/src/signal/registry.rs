//! The process-wide half of `coro::signal`: one OS handler per signal
//! number, a delivery counter per signal, and the self-pipe that turns a
//! delivery into reactor readiness.
//!
//! # Design
//!
//! A signal handler may only do async-signal-safe things, so ours does two:
//! it increments the signal's counter in [`DELIVERIES`] and writes one byte
//! to the write end of a non-blocking Unix socket pair (the "self-pipe";
//! a full buffer just drops the byte, which loses nothing because the
//! counter already moved). Handlers are installed through
//! `signal-hook-registry`, the registry tokio uses, so they chain with any
//! other handler in the process that was installed the same way, and each
//! signal number is installed at most once, the first time someone asks
//! for it.
//!
//! Listeners do not share one reader. Each [`Signal`](super::unix::Signal)
//! owns a `dup` of the read end registered with *its own* reactor (the
//! runtime it was created on, or the fallback reactor outside any runtime).
//! Every registration of the pipe gets the edge of every write, so every
//! listener is woken, on whichever reactor it lives; the one that polls
//! first drains the bytes, and the others find the pipe empty, which is
//! fine: the bytes only say "look at the counters", the counters say what
//! happened.
//!
//! # Invariants
//!
//! * The handler increments the counter *before* writing the byte, so a
//!   listener woken by the byte always sees the new count.
//! * [`WAKE_FD`] is set before any handler is installed and the socket it
//!   names is never closed (it lives in a `static`), so the handler never
//!   writes to a closed or reused descriptor.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use libc::c_int;

/// Signal numbers handled here are `1..MAX_SIGNALS`; 128 covers every
/// standard and real-time signal on Linux, the BSDs and macOS.
pub(crate) const MAX_SIGNALS: usize = 128;

/// How many times each signal has been delivered since its handler was
/// installed. Listeners compare it with the count they last saw.
static DELIVERIES: [AtomicU64; MAX_SIGNALS] = [const { AtomicU64::new(0) }; MAX_SIGNALS];

/// The write end of the self-pipe, read by the handler (`-1` before the
/// pipe exists; no handler is installed until it does).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe: `(read end, write end)`, both non-blocking, never closed.
static PIPE: OnceLock<(UnixStream, UnixStream)> = OnceLock::new();

/// Which signal numbers have our handler installed.
static INSTALLED: Mutex<[bool; MAX_SIGNALS]> = Mutex::new([false; MAX_SIGNALS]);

/// Installs coro's handler for `signal` (once per process) and returns a
/// new reader of the self-pipe for one listener, with the signal's current
/// delivery count: deliveries before this call are not reported to it.
pub(crate) fn listen(signal: c_int) -> io::Result<(UnixStream, u64)> {
    let index = check(signal)?;
    let read_end = pipe()?.try_clone()?;
    {
        let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        if !installed[index] {
            install(signal, index)?;
            installed[index] = true;
        }
    }
    Ok((read_end, deliveries(signal)))
}

/// How many times `signal` has been delivered (0 if it was never listened
/// for). `signal` must have passed [`check`].
pub(crate) fn deliveries(signal: c_int) -> u64 {
    DELIVERIES[signal as usize].load(Ordering::Acquire)
}

/// Rejects signal numbers that cannot be listened for, with the reason.
fn check(signal: c_int) -> io::Result<usize> {
    if signal <= 0 || signal as usize >= MAX_SIGNALS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("coro::signal: {signal} is not a signal number this platform has"),
        ));
    }
    if signal_hook_registry::FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "coro::signal: refusing to handle signal {signal}: it cannot be caught \
                 (SIGKILL, SIGSTOP) or means the process is broken (SIGSEGV, SIGBUS, SIGILL, SIGFPE)"
            ),
        ));
    }
    Ok(signal as usize)
}

/// The read end of the self-pipe, creating the pipe on first use.
fn pipe() -> io::Result<&'static UnixStream> {
    if let Some((read_end, _)) = PIPE.get() {
        return Ok(read_end);
    }
    let (read_end, write_end) = UnixStream::pair()?;
    read_end.set_nonblocking(true)?;
    write_end.set_nonblocking(true)?;
    // Two threads may race here; the loser's pair is dropped unused.
    let (read_end, write_end) = PIPE.get_or_init(|| (read_end, write_end));
    WAKE_FD.store(write_end.as_raw_fd(), Ordering::Release);
    Ok(read_end)
}

fn install(signal: c_int, index: usize) -> io::Result<()> {
    let action = move || {
        DELIVERIES[index].fetch_add(1, Ordering::AcqRel);
        wake(WAKE_FD.load(Ordering::Acquire));
    };
    // SAFETY: `register` requires the action to be async-signal-safe. Ours
    // does an atomic add and an atomic load (lock-free on every platform
    // with `AtomicU64`), and one `write(2)`, which POSIX lists as
    // async-signal-safe; it allocates nothing, takes no lock and cannot
    // panic. signal-hook-registry saves and restores `errno` around it.
    unsafe { signal_hook_registry::register(signal, action) }
        .map(drop)
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("coro::signal: cannot install a handler for signal {signal}: {error}"),
            )
        })
}

/// The handler's write: one byte into the self-pipe. Errors are ignored on
/// purpose: `EAGAIN` means the pipe is already full of unread wake-ups.
fn wake(fd: RawFd) {
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: `fd` is the write end of the pipe in `PIPE`, a `static`
        // that is never dropped, so it is open; the buffer is one valid
        // byte on our stack.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
}
