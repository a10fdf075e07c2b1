//! loom models of `oneshot`, `Semaphore` and `Event` (the spin lock they
//! all share has its own model in `spin.rs`, and mpsc's are in
//! `mpsc/loom_tests.rs`).
//!
//! Waits use `loom::future::block_on`, whose waker is loom's: a lost
//! wake-up leaves every thread blocked and loom fails the model.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::{oneshot, Event, Semaphore};

/// Polls once with a waker that does nothing, as a future that loses a
/// `select` is polled before it is dropped.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A value whose drops are counted.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// oneshot: `send` races the receiver registering its waker (first poll)
/// and re-polling. The receiver always gets the value: either it sees it
/// on a poll or the send wakes the waker it stored.
#[test]
fn oneshot_send_vs_receiver_waiting() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || tx.send(9).unwrap());
        assert_eq!(block_on(rx), Ok(9));
        sender.join().unwrap();
    });
}

/// oneshot: the sender is dropped without sending while the receiver
/// waits: the drop must wake it with an error, in every order.
#[test]
fn oneshot_sender_dropped_vs_receiver_waiting() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        sender.join().unwrap();
    });
}

/// oneshot: the receiver is dropped while `send` runs. The send fails (and
/// returns the value) iff the receiver was gone first; the value is
/// dropped exactly once either way (in the channel, or by the sender).
#[test]
fn oneshot_receiver_dropped_vs_send() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel::<Counted>();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Counted(drops)).is_ok())
        };
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// Semaphore: an `acquire` queued for the only permit is cancelled while
/// the holder releases that permit, which may grant it to the queued
/// acquire at that very moment. A permit granted to a cancelled acquire is
/// passed on or returned: afterwards the permit is available, not lost.
#[test]
fn semaphore_acquire_cancelled_while_permit_released() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().unwrap();
        held.forget(); // released below with `add_permits`, from another thread
        let releaser = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.add_permits(1))
        };
        let mut acquire = semaphore.acquire();
        let got = poll_once(&mut acquire);
        drop(got); // a permit granted on the first poll is released here
        drop(acquire);
        releaser.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1, "the permit was lost");
        assert!(semaphore.try_acquire().is_ok());
    });
}

/// Semaphore: two tasks wait for one permit each while permits are added
/// one at a time: each release wakes one waiter, no wake-up is lost and no
/// permit is handed out twice.
#[test]
fn semaphore_release_wakes_a_waiter() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || block_on(semaphore.acquire()).unwrap().forget())
        };
        semaphore.add_permits(1);
        semaphore.add_permits(1);
        block_on(semaphore.acquire()).unwrap().forget();
        waiter.join().unwrap();
        assert_eq!(semaphore.available_permits(), 0);
    });
}

/// Event: `set` races a `wait` on its lock-free fast path (flag read) and
/// its queueing under the lock: the waiter either sees the flag or is
/// queued before `set` drains the queue.
#[test]
fn event_set_vs_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        block_on(event.wait());
        assert!(event.is_set());
        setter.join().unwrap();
    });
}

/// Event: a queued waiter is woken by `set` and the flag is cleared again
/// before the waiter re-polls: it still returns (gevent's semantics), in
/// every order of its re-poll against `set` and `clear`.
#[test]
fn event_waiter_woken_by_set_returns_after_clear() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let mut wait = event.wait();
        assert!(poll_once(&mut wait).is_pending()); // queued
        let setter = {
            let event = event.clone();
            thread::spawn(move || {
                event.set();
                event.clear();
            })
        };
        block_on(wait);
        setter.join().unwrap();
        assert!(!event.is_set());
    });
}
