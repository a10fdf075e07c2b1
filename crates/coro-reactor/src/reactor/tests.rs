//! Unit tests of the reactor: readiness, registration, timers and shutdown,
//! most of them on both ways of waiting (`each_waiter`).

use super::*;
use crate::{IoSource, Timer};
use std::future::poll_fn;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::task::Poll;

fn runtime(reactor: &Arc<Reactor>) -> coro_core::Runtime {
    coro_core::runtime::Builder::new()
        .current_thread()
        .park(reactor.clone())
        .build()
        .unwrap()
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

/// Runs `test` on both ways of waiting: the fastest one here (on Linux
/// the eventfd, `epoll_wait` and `EPOLLRDHUP`), then `polling`'s
/// portable `wait`/`notify`, which is all macOS and the BSDs have. A
/// hang fails the test after a minute instead of stalling the suite.
fn each_waiter(test: fn(Arc<Reactor>)) {
    let portable = Reactor::new_portable().unwrap();
    assert!(!portable.reports_read_closed());
    for (name, reactor) in [("fastest", Reactor::new().unwrap()), ("portable", portable)] {
        let (done, finished) = std::sync::mpsc::channel();
        let run = std::thread::spawn(move || {
            test(reactor);
            let _ = done.send(());
        });
        match finished.recv_timeout(Duration::from_secs(60)) {
            Ok(()) => run.join().unwrap(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The test panicked: report its panic.
                if let Err(panic) = run.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(_) => panic!("the {name} waiter hung for a minute"),
        }
    }
}

#[test]
fn a_read_waits_for_data_then_wakes() {
    each_waiter(|reactor| {
        let rt = runtime(&reactor);
        let (a, mut b) = pair();
        let got = rt.block_on(async move {
            let a = IoSource::new(a).unwrap();
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                b.write_all(b"edge").unwrap();
                b
            });
            let mut buf = [0; 4];
            a.read_with(|mut s| s.read_exact(&mut buf)).await.unwrap();
            // The edge was consumed; the next read must wait for a new one.
            let mut b = writer.join().unwrap();
            b.write_all(b"more").unwrap();
            let mut more = [0; 4];
            a.read_with(|mut s| s.read_exact(&mut more)).await.unwrap();
            [buf, more].concat()
        });
        assert_eq!(got, b"edgemore");
    });
}

/// Data and the peer's FIN in one edge: a short read must not make the
/// next read wait for an edge that never comes. The fast path learns of
/// the FIN from `EPOLLRDHUP`; the portable one reads until
/// `WouldBlock` (here: until the 0 of EOF). The peer only half-closes,
/// so no `EPOLLHUP` (which both paths report) gives the FIN away.
#[test]
fn a_short_read_then_eof_in_the_same_edge() {
    each_waiter(|reactor| {
        let rt = runtime(&reactor);
        let (a, mut b) = pair();
        b.write_all(b"hi").unwrap();
        b.shutdown(std::net::Shutdown::Write).unwrap();
        let reads = rt.block_on(async move {
            let a = IoSource::new(a).unwrap();
            let mut buf = [0; 16];
            let mut reads = Vec::new();
            for _ in 0..2 {
                let n = poll_fn(|cx| a.poll_read_stream(cx, 16, |mut s| s.read(&mut buf)))
                    .await
                    .unwrap();
                reads.push(n);
            }
            reads
        });
        assert_eq!(reads, [2, 0]);
        drop(b);
    });
}

/// A turn asleep with no timer and no event ends only through the
/// notifier: a task woken from another thread must still run.
#[test]
fn a_wake_from_another_thread_ends_a_sleeping_turn() {
    each_waiter(|reactor| {
        let rt = runtime(&reactor);
        let (tx, rx) = coro_core::sync::oneshot::channel();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(7).unwrap();
        });
        assert_eq!(rt.block_on(rx), Ok(7));
        sender.join().unwrap();
    });
}

/// A timer fires through the poller's wait timeout.
#[test]
fn a_timer_fires_through_the_wait_timeout() {
    each_waiter(|reactor| {
        let rt = runtime(&reactor);
        let deadline = Instant::now() + Duration::from_millis(5);
        rt.block_on(async {
            let mut timer = Timer::new(deadline);
            poll_fn(|cx| timer.poll_elapsed(cx)).await;
        });
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn dropping_a_source_deregisters_it() {
    let reactor = Reactor::new().unwrap();
    let rt = runtime(&reactor);
    rt.block_on(async {
        let sources: Vec<_> = (0..100).map(|_| IoSource::new(pair().0).unwrap()).collect();
        assert_eq!(lock(&reactor.sources).slab.len(), 100);
        drop(sources);
        assert_eq!(lock(&reactor.sources).slab.len(), 0);
    });
}

#[test]
fn a_reused_slot_gets_a_new_key() {
    let reactor = Reactor::new().unwrap();
    let (first, second) = (pair().0, pair().0);
    let (old_key, _) = reactor.register(first.as_raw_fd()).unwrap();
    reactor.deregister(first.as_fd(), old_key);
    let (new_key, _) = reactor.register(second.as_raw_fd()).unwrap();
    assert_eq!(old_key.index, new_key.index, "the slot is reused");
    // So an event still in flight for `first` is dropped, not delivered
    // to `second`.
    assert_ne!(old_key.encode(), new_key.encode());
    reactor.deregister(second.as_fd(), new_key);
}

#[test]
fn dropped_timers_leave_the_wheel() {
    let reactor = Reactor::new().unwrap();
    let rt = runtime(&reactor);
    rt.block_on(async {
        let mut timers: Vec<Timer> = (0..1000)
            .map(|i| Timer::new(Instant::now() + Duration::from_secs(60 + i)))
            .collect();
        for timer in &mut timers {
            let polled = poll_fn(|cx| Poll::Ready(timer.poll_elapsed(cx))).await;
            assert!(polled.is_pending());
        }
        assert_eq!(reactor.timers.pending(), 1000);
        drop(timers);
        assert_eq!(reactor.timers.pending(), 0);
    });
}

#[test]
fn after_shutdown_a_source_fails_instead_of_hanging() {
    let reactor = Reactor::new().unwrap();
    let rt = runtime(&reactor);
    let (a, _b) = pair();
    let source = rt.block_on(async { IoSource::new(a).unwrap() });
    drop(rt);
    let error = poll_once_ready(source.read_with(|mut s| s.read(&mut [0; 1])));
    let error = error.unwrap_err();
    assert!(error.to_string().contains("shut down"), "{error}");
}

/// A minimal `block_on` for a future that must complete without any
/// reactor turning (it only needs to observe state already set).
fn poll_once_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future should have completed at once"),
    }
}
