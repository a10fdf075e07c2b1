//! `epoll_wait` on `polling`'s epoll fd, and an edge-triggered eventfd to
//! interrupt it (see the parent module for why).
//!
//! Linux only (`eventfd`, `epoll_wait`, `EPOLLRDHUP`). The fallback, used on
//! macOS and the BSDs (kqueue) and on Linux when `eventfd` fails, is
//! `polling`'s own `Poller::wait` and `Poller::notify` in `sys/mod.rs`;
//! there events carry no `read_closed`, so `IoSource::poll_read_stream`
//! reads until `WouldBlock` as `poll_read_with` does.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use polling::{Event, PollMode, Poller};

use super::{OsEvent, WAKE_KEY};

/// The reactor's wake-up fd.
///
/// Registered edge-triggered, so every write is an event and nothing ever
/// has to read it or re-arm it. `notified` skips redundant writes: it is
/// set by the first `notify` after a wait and cleared when the next wait
/// returns. A `notify` that finds it set knows a write is already pending
/// for the current or next wait, which is all it needs.
pub(crate) struct EventFd {
    fd: OwnedFd,
    notified: AtomicBool,
}

impl EventFd {
    pub(crate) fn new(poller: &Poller) -> io::Result<EventFd> {
        // SAFETY: `eventfd` has no memory-safety preconditions; the result
        // is checked before use.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh, valid fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` lives in the same `Reactor` as `poller` and is
        // dropped after it (field order), so it stays valid while
        // registered.
        unsafe { poller.add_with_mode(fd.as_raw_fd(), Event::readable(WAKE_KEY), PollMode::Edge)? };
        Ok(EventFd {
            fd,
            notified: AtomicBool::new(false),
        })
    }

    pub(crate) fn notify(&self) {
        if self.notified.swap(true, Ordering::SeqCst) {
            return;
        }
        let one = 1u64.to_ne_bytes();
        loop {
            // SAFETY: writes 8 bytes from a live local buffer to our fd.
            let n = unsafe { libc::write(self.fd.as_raw_fd(), one.as_ptr().cast(), one.len()) };
            if n >= 0 {
                return;
            }
            match io::Error::last_os_error().kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    // The counter is full (after 2^64 - 2 notifications):
                    // drain it and write again, which is still an edge.
                    let mut sink = [0u8; 8];
                    // SAFETY: reads at most 8 bytes into a live local buffer.
                    unsafe { libc::read(self.fd.as_raw_fd(), sink.as_mut_ptr().cast(), 8) };
                }
                // EBADF and friends would mean the fd is gone, which the
                // reactor's ownership rules out; nothing useful to do.
                _ => return,
            }
        }
    }

    pub(crate) fn reset(&self) {
        self.notified.store(false, Ordering::SeqCst);
    }
}

/// The buffer `epoll_wait` fills.
pub(crate) struct Events {
    buffer: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            buffer: vec![libc::epoll_event { events: 0, u64: 0 }; super::EVENTS_PER_TURN],
            len: 0,
        }
    }

    pub(crate) fn wait(&mut self, poller: &Poller, timeout: Option<Duration>) -> io::Result<()> {
        // Round up: waking before a timer's millisecond would only spin.
        let timeout_ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        let capacity = i32::try_from(self.buffer.len()).unwrap_or(i32::MAX);
        // SAFETY: the buffer holds `capacity` initialised `epoll_event`s
        // that the kernel may overwrite; the epoll fd is `polling`'s, alive
        // for as long as `poller` is borrowed.
        let n = unsafe {
            libc::epoll_wait(
                poller.as_raw_fd(),
                self.buffer.as_mut_ptr(),
                capacity,
                timeout_ms,
            )
        };
        if n < 0 {
            self.len = 0;
            let error = io::Error::last_os_error();
            // A signal ended the wait early: a spurious wake-up, allowed.
            return match error.kind() {
                io::ErrorKind::Interrupted => Ok(()),
                _ => Err(error),
            };
        }
        self.len = n as usize;
        Ok(())
    }

    pub(crate) fn for_each(&self, mut f: impl FnMut(OsEvent)) {
        for event in &self.buffer[..self.len] {
            let flags = event.events as i32;
            let has = |bits: i32| flags & bits != 0;
            f(OsEvent {
                key: event.u64 as usize,
                readable: has(libc::EPOLLIN
                    | libc::EPOLLPRI
                    | libc::EPOLLHUP
                    | libc::EPOLLERR
                    | libc::EPOLLRDHUP),
                writable: has(libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR),
                hangup: has(libc::EPOLLHUP),
                read_closed: has(libc::EPOLLRDHUP),
                error: has(libc::EPOLLERR),
            });
        }
    }
}

/// `EPOLL_CTL_ADD` for both directions and the peer's FIN, edge-triggered.
pub(crate) fn add(poller: &Poller, fd: std::os::fd::RawFd, key: usize) -> io::Result<()> {
    let mut event = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLET)
            as u32,
        u64: key as u64,
    };
    // SAFETY: `event` is a live, initialised `epoll_event`; the epoll fd is
    // `polling`'s, alive while `poller` is borrowed; the caller keeps `fd`
    // open until it is deleted (see `Notifier::register`).
    let result =
        unsafe { libc::epoll_ctl(poller.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
