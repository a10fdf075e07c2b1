//! loom models of the mpsc channel: every interleaving (up to the
//! preemption bound `.ci/run` sets) of a sender and a receiver racing on the
//! channel's lock, with close and with cancelled futures.
//!
//! A receiver waits with `loom::future::block_on`, whose waker is loom's:
//! if a wake-up is lost in some interleaving, every thread ends up blocked
//! and loom fails the model ("deadlock"). Values carry a drop counter, so a
//! value delivered twice, lost, or dropped twice fails an assertion.

use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::*;

/// A value whose drops are counted.
#[derive(Debug)]
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

/// Polls once with a waker that does nothing, as a future that loses a
/// `select` is polled before it is dropped.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Rendezvous (capacity 0): the sender's `send` registers as a blocked
/// sender while the receiver's `recv` registers as a waiting receiver; in
/// every order exactly one side hands the value to the other and wakes it.
/// Two values keep their order.
#[test]
fn rendezvous_hand_off_in_every_order() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(0);
        let sender = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            block_on(tx.send(2)).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        sender.join().unwrap();
        assert_eq!(block_on(rx.recv()), None, "every sender is gone");
    });
}

/// Bounded (capacity 1): the second send blocks on a full queue while the
/// receiver frees the place; the receiver moves the blocked value into the
/// queue and wakes the sender (never both racing for the place, never a
/// lost wake-up), and the last sender's drop wakes a receiver waiting on
/// the empty queue.
#[test]
fn bounded_blocked_sender_vs_receiver_freeing_a_place() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let sender = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            block_on(tx.send(2)).unwrap();
            // `tx` dropped here: closes the channel for the receiver.
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// Unbounded: `close` (from the receiving side) races a `send`. The send
/// either succeeded, and then its value is still delivered (close lets the
/// receiver drain), or it failed and got its value back. Never both, never
/// neither; the value is dropped exactly once.
#[test]
fn unbounded_close_vs_send() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = unbounded::<Counted>();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || match tx.try_send(Counted(7, drops)) {
                Ok(()) => true,
                Err(err) => {
                    assert!(err.is_closed());
                    false
                }
            })
        };
        rx.close();
        let received = block_on(rx.recv()).map(|value| value.0);
        let sent = sender.join().unwrap();
        assert_eq!(received, sent.then_some(7));
        assert_eq!(block_on(rx.recv()).map(|v| v.0), None);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// Two receivers: the first polls `recv` once (it queues as a waiting
/// receiver) and is then cancelled, racing a send that may hand the value
/// to it at that very moment. A value handed to a cancelled receive is
/// passed on to the other receiver: it is received exactly once.
#[test]
fn cancelled_recv_passes_a_handed_value_on() {
    loom::model(|| {
        let (tx, first) = unbounded::<u32>();
        let second = first.clone();
        let sender = thread::spawn(move || tx.try_send(5).unwrap());
        let mut cancelled = first.recv();
        let got_first = match poll_once(&mut cancelled) {
            Poll::Ready(value) => value,
            Poll::Pending => None,
        };
        drop(cancelled);
        let got = match got_first {
            Some(value) => value,
            None => block_on(second.recv()).expect("the value was lost"),
        };
        assert_eq!(got, 5);
        sender.join().unwrap();
        assert!(second.try_recv().is_err(), "delivered twice");
    });
}

/// Bounded (capacity 1, full): a send blocks and is cancelled while the
/// receiver frees the place and moves that send's value into the queue.
/// The value is delivered iff the send completed before it was dropped,
/// and dropped exactly once either way.
#[test]
fn cancelled_send_vs_receiver_taking_its_value() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Counted>(1);
        tx.try_send(Counted(1, drops.clone())).unwrap();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || {
                let mut send = tx.send(Counted(2, drops));
                let ready = poll_once(&mut send).is_ready();
                drop(send);
                ready
            })
        };
        assert_eq!(block_on(rx.recv()).map(|v| v.0), Some(1));
        let ready_at_first_poll = sender.join().unwrap();
        // The sender is gone: what is left is whatever the send delivered.
        let second = block_on(rx.recv()).map(|v| v.0);
        if ready_at_first_poll {
            assert_eq!(second, Some(2));
        }
        assert_eq!(block_on(rx.recv()).map(|v| v.0), None);
        assert_eq!(drops.load(SeqCst), 2);
    });
}
