//! Waiting for OS events: `polling`'s `wait`, or on Linux `epoll_wait`
//! called directly.
//!
//! # Why not always `Poller::wait`
//!
//! Sources are registered through `polling` everywhere. Waiting is
//! different: on Linux, `polling`'s `wait` arms a timerfd
//! (`timerfd_settime` + `epoll_ctl`) before `epoll_wait` and re-arms its
//! notification fd (`read` + `epoll_ctl`) after it, four syscalls around
//! the one that matters, on every turn. A busy echo server turns the
//! reactor once or twice per message, so those four calls cost more than
//! the `read` and `write` that do the work (`benches/net.rs`, `tcp_echo_1`).
//!
//! On Linux the reactor therefore calls `epoll_wait` on the poller's own
//! epoll fd, with a millisecond timeout (the timer wheel's resolution), and
//! wakes a sleeping turn with its own eventfd, registered edge-triggered
//! so that it never needs re-arming. If the eventfd cannot be created (some
//! sandboxes hide it), or on other platforms, it uses `Poller::wait` and
//! `Poller::notify` as they are.
//!
//! In the same Linux mode sources are added with `epoll_ctl` directly, to
//! ask for `EPOLLRDHUP` as well (which `polling` does not): with the peer's
//! FIN reported as its own sticky state, a short read can forget the read
//! readiness at once instead of calling `read` again to get `WouldBlock`
//! (see `IoSource::poll_read_stream`); that is one syscall less per message.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use polling::Poller;

#[cfg(target_os = "linux")]
mod epoll;

/// At most this many events are taken from the OS per turn.
///
/// Not 1,024 (tokio's and mio's default): a worker runs ~61 tasks between
/// two non-blocking polls (`event_interval`), so a turn that takes more
/// events than that, under overload, wakes tasks the worker cannot run
/// before its next poll. On the multi-thread runtime they overflow its
/// local queue into the injection queue, which is served one task per 31
/// ticks while every poll brings more: a few hundred connections cycle
/// through the local queues and the rest wait in the injection queue. At
/// 10,000 echo connections that made the median round trip the lowest of
/// the runtimes and the 99th percentile 2.3× tokio's. Events not taken stay
/// in the kernel's ready list, which is first-in first-out: with a turn
/// sized to what a worker runs between polls, that list is the fair queue.
/// (`docs/benchmarks.md`, "The overload tail", has the numbers.)
pub(crate) const EVENTS_PER_TURN: usize = 64;

/// One readiness report from the OS.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OsEvent {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// Both directions hung up (`EPOLLHUP`).
    pub(crate) hangup: bool,
    /// The peer closed its writing half (`EPOLLRDHUP`); only reported when
    /// [`Notifier::reports_read_closed`].
    pub(crate) read_closed: bool,
    /// A socket error is pending (`EPOLLERR`).
    pub(crate) error: bool,
}

/// The poller key of the reactor's own wake-up fd. Source keys stay below
/// it (see `SourceKey` in `reactor.rs`).
///
/// Only the Linux fast path registers a wake-up fd of its own. The
/// portable path wakes `wait` with `Poller::notify` (`EVFILT_USER` or a pipe
/// under kqueue), which uses `polling`'s own reserved key (`usize::MAX`,
/// also above every source key) and filters its events out.
#[cfg(target_os = "linux")]
pub(crate) const WAKE_KEY: usize = 1 << 63;

/// Wakes the thread taking a turn (shared by every thread).
pub(crate) enum Notifier {
    #[cfg(target_os = "linux")]
    EventFd(epoll::EventFd),
    Polling,
}

/// The event buffer of the thread taking a turn.
pub(crate) enum Events {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Events),
    Polling(polling::Events),
}

/// The fastest way to wait that works here, for `poller`.
pub(crate) fn waiter(
    #[cfg_attr(
        not(target_os = "linux"),
        expect(
            unused_variables,
            reason = "only the Linux eventfd registers with the poller"
        )
    )]
    poller: &Poller,
) -> (Notifier, Events) {
    #[cfg(target_os = "linux")]
    if let Ok(eventfd) = epoll::EventFd::new(poller) {
        return (
            Notifier::EventFd(eventfd),
            Events::Epoll(epoll::Events::new()),
        );
    }
    portable_waiter()
}

/// `polling`'s own `wait` and `notify`: what macOS and the BSDs use
/// (kqueue), and Linux when no eventfd can be created.
pub(crate) fn portable_waiter() -> (Notifier, Events) {
    let capacity = std::num::NonZeroUsize::new(EVENTS_PER_TURN).expect("not zero");
    (
        Notifier::Polling,
        Events::Polling(polling::Events::with_capacity(capacity)),
    )
}

impl Notifier {
    /// Whether events carry `read_closed` (the peer's FIN as its own flag).
    pub(crate) fn reports_read_closed(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Notifier::EventFd(_) => true,
            Notifier::Polling => false,
        }
    }

    /// Adds `fd` for both directions, edge-triggered, under `key`.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until [`deregister`](Self::deregister).
    pub(crate) unsafe fn register(&self, poller: &Poller, fd: RawFd, key: usize) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Notifier::EventFd(_) => epoll::add(poller, fd, key),
            // SAFETY: forwarded from this function's contract.
            Notifier::Polling => unsafe {
                poller.add_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge)
            },
        }
    }

    /// Removes `fd`; an error means it was not registered any more.
    pub(crate) fn deregister(&self, poller: &Poller, fd: BorrowedFd<'_>) {
        // `polling`'s delete is a plain `EPOLL_CTL_DEL` on Linux, so it also
        // removes what `epoll::add` added.
        let _ = poller.delete(fd);
    }

    /// Makes the current or next `wait` return.
    pub(crate) fn notify(&self, poller: &Poller) {
        match self {
            #[cfg(target_os = "linux")]
            Notifier::EventFd(eventfd) => eventfd.notify(),
            // Fails only if the poller itself is broken; the next turn
            // polls anyway.
            Notifier::Polling => drop(poller.notify()),
        }
    }
}

/// Waits up to `timeout` and hands every event (except wake-ups) to `f`.
pub(crate) fn wait(
    poller: &Poller,
    notifier: &Notifier,
    events: &mut Events,
    timeout: Option<Duration>,
    mut f: impl FnMut(OsEvent),
) -> io::Result<()> {
    match (notifier, events) {
        #[cfg(target_os = "linux")]
        (Notifier::EventFd(eventfd), Events::Epoll(events)) => {
            events.wait(poller, timeout)?;
            // After the wait: a notify from now on must write again, since
            // this turn is over (see `EventFd::notify`).
            eventfd.reset();
            events.for_each(|event| {
                if event.key != WAKE_KEY {
                    f(event);
                }
            });
            Ok(())
        }
        (_, Events::Polling(events)) => {
            events.clear();
            poller.wait(events, timeout)?;
            for event in events.iter() {
                f(OsEvent {
                    key: event.key,
                    readable: event.readable,
                    writable: event.writable,
                    hangup: event.is_interrupt(),
                    read_closed: false,
                    error: event.is_err() == Some(true),
                });
            }
            Ok(())
        }
        #[cfg(target_os = "linux")]
        _ => unreachable!("the notifier and the event buffer come from one `waiter` call"),
    }
}
