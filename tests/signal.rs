//! `coro::signal`: delivery, coalescing, several listeners, listeners on
//! several runtimes and under a foreign executor, and bad signal numbers.
//!
//! Signals are process-wide and the tests of this file run in parallel, so
//! each test owns a different signal number. `raise` delivers to the
//! calling thread before it returns, which makes "the signal has arrived"
//! a fact the tests can rely on without sleeping.

mod common;
use common::*;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use coro::signal::unix::{signal, Signal, SignalKind};
use futures::StreamExt;

fn raise(signal: libc::c_int) {
    // SAFETY: raising a signal this process has a handler for (every test
    // creates its listener first) runs that handler and returns.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

/// Polls `signal` once with a waker that does nothing.
fn poll_once(signal: &mut Signal) -> Poll<Option<()>> {
    signal.poll_recv(&mut Context::from_waker(Waker::noop()))
}

/// Fails the test instead of hanging it.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the test hung: a signal was never reported")
}

#[test]
fn a_raised_signal_is_received_on_both_flavors() {
    for (flavor, rt) in flavors() {
        let received = within_a_minute(move || {
            rt.block_on(async {
                let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                let waiter = coro::spawn(async move { usr1.recv().await });
                coro::yield_now().await;
                raise(libc::SIGUSR1);
                waiter.await.unwrap()
            })
        });
        assert_eq!(received, Some(()), "{flavor}");
    }
}

#[test]
fn deliveries_before_recv_coalesce_into_one() {
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        assert_eq!(poll_once(&mut usr2), Poll::Pending, "nothing raised yet");
        for _ in 0..3 {
            raise(libc::SIGUSR2);
        }
        assert_eq!(usr2.recv().await, Some(()));
        assert_eq!(
            poll_once(&mut usr2),
            Poll::Pending,
            "three deliveries before one recv count as one"
        );
        raise(libc::SIGUSR2);
        assert_eq!(usr2.recv().await, Some(()), "a later delivery is reported");
    });
}

#[test]
fn a_listener_only_sees_deliveries_after_it_was_created() {
    let signum = libc::SIGRTMIN() + 1;
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let mut early = signal(SignalKind::from_raw(signum)).unwrap();
        raise(signum);
        let mut late = signal(SignalKind::from_raw(signum)).unwrap();
        assert_eq!(poll_once(&mut late), Poll::Pending);
        assert_eq!(early.recv().await, Some(()));
    });
}

#[test]
fn every_listener_is_woken_across_runtimes_and_foreign_executors() {
    let signum = libc::SIGHUP;
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<&'static str>();

    // Three listeners in tasks of a multi-thread runtime.
    let rt = build("multi_thread", |_| {});
    for _ in 0..3 {
        let (ready_tx, done_tx) = (ready_tx.clone(), done_tx.clone());
        let mut hup = rt.block_on(async { signal(SignalKind::hangup()).unwrap() });
        rt.spawn(async move {
            ready_tx.send(()).unwrap();
            hup.recv().await.unwrap();
            done_tx.send("multi_thread task").unwrap();
        });
    }
    // One on a current-thread runtime of its own thread.
    {
        let (ready_tx, done_tx) = (ready_tx.clone(), done_tx.clone());
        thread::spawn(move || {
            let rt = build("current_thread", |_| {});
            rt.block_on(async {
                let mut hup = signal(SignalKind::hangup()).unwrap();
                ready_tx.send(()).unwrap();
                hup.recv().await.unwrap();
            });
            done_tx.send("current_thread runtime").unwrap();
        });
    }
    // One under futures' executor: served by coro's fallback reactor.
    {
        let (ready_tx, done_tx) = (ready_tx.clone(), done_tx.clone());
        thread::spawn(move || {
            let mut hup = signal(SignalKind::hangup()).unwrap();
            ready_tx.send(()).unwrap();
            futures::executor::block_on(hup.next()).unwrap();
            done_tx.send("foreign executor").unwrap();
        });
    }
    for _ in 0..5 {
        ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    }
    raise(signum);
    let mut woken: Vec<_> = (0..5)
        .map(|_| {
            done_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("a listener was not woken")
        })
        .collect();
    woken.sort();
    assert_eq!(
        woken,
        [
            "current_thread runtime",
            "foreign executor",
            "multi_thread task",
            "multi_thread task",
            "multi_thread task"
        ]
    );
}

#[test]
fn signal_is_a_stream() {
    let signum = libc::SIGRTMIN() + 2;
    let rt = build("current_thread", |_| {});
    let got = rt.block_on(async {
        let mut stream = signal(SignalKind::from_raw(signum)).unwrap();
        let mut got = 0;
        for _ in 0..3 {
            raise(signum);
            stream.next().await.unwrap();
            got += 1;
        }
        got
    });
    assert_eq!(got, 3);
}

#[test]
fn ctrl_c_completes_on_sigint() {
    let rt = build("multi_thread", |_| {});
    let result = within_a_minute(move || {
        rt.block_on(async {
            let mut ctrl_c = pin!(coro::signal::ctrl_c());
            // The first poll installs the handler: only then is SIGINT safe
            // to raise in the test process.
            let first = ctrl_c
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
            assert!(first.is_pending());
            raise(libc::SIGINT);
            ctrl_c.await
        })
    });
    result.unwrap();
}

#[test]
fn a_listener_ends_when_its_runtime_shuts_down() {
    let signum = libc::SIGRTMIN() + 3;
    let rt = build("current_thread", |_| {});
    let mut listener = rt.block_on(async { signal(SignalKind::from_raw(signum)).unwrap() });
    drop(rt);
    assert_eq!(futures::executor::block_on(listener.recv()), None);
}

#[test]
fn unhandleable_signals_are_invalid_input() {
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 1000] {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}: {err}");
            assert!(err.to_string().contains(&signum.to_string()), "{err}");
        }
    });
}
