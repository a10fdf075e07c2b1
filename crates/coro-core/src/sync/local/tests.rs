use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use futures_util::StreamExt;

use super::*;
use crate::sync::test_util::{poll_once, poll_with, CountWaker, Drops};

#[test]
fn rendezvous_send_completes_only_once_the_value_was_taken() {
    let (tx, mut rx) = channel(0);
    let (wakes, waker) = CountWaker::new();
    let mut send = tx.send(1);
    assert!(poll_with(&mut send, &waker).is_pending());
    assert!(poll_once(&mut send).is_pending(), "nobody took it yet");
    assert_eq!(rx.len(), 0, "a rendezvous stores nothing");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(wakes.count(), 0, "the latest waker is the one woken");
    assert_eq!(poll_once(&mut send), Poll::Ready(Ok(())));

    // The other way round: the receiver waits first and is handed the value.
    let (wakes, waker) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_with(&mut recv, &waker).is_pending());
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(wakes.count(), 1);
    assert_eq!(
        tx.try_send(3),
        Err(TrySendError::Full(3)),
        "one value per waiting receive"
    );
    assert_eq!(poll_once(&mut recv), Poll::Ready(Some(2)));
}

#[test]
fn try_send_full_and_closed_try_recv_empty_and_closed() {
    let (tx, rx) = channel(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!((tx.len(), tx.capacity()), (1, Some(1)));
    assert!(rx.close());
    assert!(!tx.close(), "already closed");
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(rx.try_recv(), Ok(1), "queued messages survive close");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn blocked_senders_are_served_in_order_and_complete_when_their_value_moves() {
    let (tx, rx) = channel(1);
    tx.try_send(0).unwrap();
    let wakers: Vec<_> = (0..3).map(|_| CountWaker::new()).collect();
    let mut sends: Vec<_> = (1..=3).map(|i| tx.send(i)).collect();
    for (send, (_, waker)) in sends.iter_mut().zip(&wakers) {
        assert!(poll_with(send, waker).is_pending(), "backpressure");
    }
    assert_eq!(rx.try_recv(), Ok(0));
    // 1 moved into the queue: its send is complete, the others still wait.
    let woken: Vec<_> = wakers.iter().map(|(count, _)| count.count()).collect();
    assert_eq!(woken, [1, 0, 0]);
    assert_eq!(poll_once(&mut sends[0]), Poll::Ready(Ok(())));
    assert!(poll_once(&mut sends[1]).is_pending());
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(poll_once(&mut sends[1]), Poll::Ready(Ok(())));
    assert_eq!(poll_once(&mut sends[2]), Poll::Ready(Ok(())));
}

#[test]
fn a_woken_send_dropped_before_it_runs_is_delivered_and_the_next_is_served() {
    let (tx, rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut first = tx.send(1);
    let mut second = tx.send(2);
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // wakes `first`: its value moved
    drop(first); // cancelled after the wake-up: nothing to pass on
    assert_eq!(rx.try_recv(), Ok(1), "the woken send was delivered");
    assert_eq!(poll_once(&mut second), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn close_gives_blocked_senders_their_value_back_and_wakes_the_receiver() {
    let (tx, rx) = channel(0);
    let mut send = tx.send("kept");
    assert!(poll_once(&mut send).is_pending());
    rx.close();
    match poll_once(&mut send) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value, "kept"),
        other => panic!("expected the value back, got {other:?}"),
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = channel::<u8>(4);
    let (wakes, waker) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_with(&mut recv, &waker).is_pending());
    assert!(tx.close());
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(&mut recv), Poll::Ready(None));
}

#[test]
fn dropping_the_last_sender_wakes_the_receiver_and_ends_the_stream() {
    let (tx, mut rx) = channel::<u8>(4);
    let (wakes, waker) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_with(&mut recv, &waker).is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(wakes.count(), 0, "a sender is left");
    assert!(!tx2.is_closed());
    drop(tx2);
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(&mut recv), Poll::Ready(None));
    drop(recv);
    assert!(futures_util::stream::FusedStream::is_terminated(&rx));
}

#[test]
fn dropping_the_receiver_frees_the_queue_and_fails_sends() {
    let drops = Drops::default();
    let (tx, rx) = channel(4);
    tx.try_send(drops.track(1)).unwrap();
    tx.try_send(drops.track(2)).unwrap();
    drop(rx);
    assert_eq!(drops.count(), 2, "unreadable messages are freed at once");
    let err = crate::block_on(tx.send(drops.track(3))).unwrap_err();
    assert_eq!(err.into_inner().value, 3);
}

#[test]
fn a_dropped_pending_send_is_either_delivered_or_dropped_never_both() {
    let drops = Drops::default();
    let (tx, rx) = channel(0);
    let mut send = tx.send(drops.track("never sent"));
    assert!(poll_once(&mut send).is_pending());
    drop(send);
    assert_eq!(drops.count(), 1);
    assert_eq!(rx.try_recv().map(|t| t.value), Err(TryRecvError::Empty));

    let mut send = tx.send(drops.track("sent"));
    assert!(poll_once(&mut send).is_pending());
    let got = rx.try_recv().unwrap();
    drop(send); // taken before the future saw it: still delivered once
    assert_eq!(got.value, "sent");
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_value_handed_to_a_dropped_receive_stays_at_the_front_of_the_queue() {
    let (tx, mut rx) = channel(2);
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    tx.try_send(1).unwrap(); // handed to `recv`
    tx.try_send(2).unwrap(); // queued
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(1), "not lost, order kept");
    assert_eq!(rx.try_recv(), Ok(2));

    // A rendezvous whose receive was withdrawn before any send: nobody
    // waits any more, so nothing can be handed over.
    let (tx, mut rx) = channel(0);
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    drop(recv);
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
}

#[test]
fn the_receiver_keeps_one_waker_and_wakes_it_by_reference() {
    let (tx, mut rx) = unbounded::<u32>();
    let (wakes, waker) = CountWaker::new();
    let baseline = Arc::strong_count(&wakes);
    for round in 1..=3 {
        let mut recv = rx.recv();
        assert!(poll_with(&mut recv, &waker).is_pending());
        assert!(poll_with(&mut recv, &waker).is_pending());
        assert_eq!(
            Arc::strong_count(&wakes),
            baseline + 1,
            "one clone, kept across polls and waits"
        );
        tx.try_send(round).unwrap();
        tx.try_send(round).unwrap(); // the receiver no longer waits: no wake
        assert_eq!(wakes.count(), round as usize);
        assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Some(round)));
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(round));
    }
    // A receive from another task replaces the kept waker.
    let (other, other_waker) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_with(&mut recv, &other_waker).is_pending());
    assert_eq!(
        Arc::strong_count(&wakes),
        baseline,
        "the old one is released"
    );
    assert_eq!(Arc::strong_count(&other), baseline + 1);
    drop(recv);
    assert_eq!(Arc::strong_count(&other), baseline, "withdrawn: released");
}

#[test]
fn receiver_stream_waits_and_ends() {
    let (tx, mut rx) = channel(1);
    let (wakes, waker) = CountWaker::new();
    let mut next = rx.next();
    assert!(poll_with(&mut next, &waker).is_pending());
    drop(next); // the stream still waits: a stream has no cancellation
    tx.try_send(5).unwrap();
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(&mut rx.next()), Poll::Ready(Some(5)));
    drop(tx);
    assert_eq!(poll_once(&mut rx.next()), Poll::Ready(None));
    assert!(futures_util::stream::FusedStream::is_terminated(&rx));
}

#[test]
fn unbounded_never_blocks_and_streams_to_the_end() {
    let (tx, rx) = unbounded();
    for i in 0..100 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let all: Vec<i32> = crate::block_on(rx.collect());
    assert_eq!(all, (0..100).collect::<Vec<_>>());
}

#[test]
fn ping_pong_between_local_tasks_for_every_capacity() {
    const N: usize = if cfg!(miri) { 20 } else { 1_000 };
    for cap in [Some(0), Some(1), Some(16), None] {
        let make = || match cap {
            Some(cap) => channel(cap),
            None => unbounded(),
        };
        let ((ping_tx, mut ping_rx), (pong_tx, mut pong_rx)) = (make(), make());
        crate::block_on(async move {
            let echo = crate::spawn_local(async move {
                while let Some(n) = ping_rx.recv().await {
                    pong_tx.send(n + 1).await.unwrap();
                }
            });
            for i in 0..N {
                ping_tx.send(i).await.unwrap();
                assert_eq!(pong_rx.recv().await, Some(i + 1));
            }
            drop(ping_tx);
            echo.await.unwrap();
            assert_eq!(pong_rx.recv().await, None);
        });
    }
}

#[test]
fn many_senders_one_receiver_keep_each_senders_order() {
    const PER: usize = if cfg!(miri) { 10 } else { 500 };
    for cap in [Some(0), Some(1), Some(8), None] {
        let (tx, mut rx) = match cap {
            Some(cap) => channel(cap),
            None => unbounded(),
        };
        let got = crate::block_on(async move {
            for p in 0..3 {
                let tx = tx.clone();
                crate::spawn_local(async move {
                    for i in 0..PER {
                        tx.send((p, i)).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        assert_eq!(got.len(), 3 * PER, "capacity {cap:?}");
        for p in 0..3 {
            let from_p: Vec<_> = got.iter().filter(|(q, _)| *q == p).map(|v| v.1).collect();
            assert_eq!(from_p, (0..PER).collect::<Vec<_>>(), "capacity {cap:?}");
        }
    }
}

#[test]
fn a_hot_receive_loop_yields_to_other_tasks() {
    // More messages than one poll's budget (`coop::BUDGET`).
    const N: usize = if cfg!(miri) { 300 } else { 1_000 };
    let (tx, mut rx) = unbounded();
    for i in 0..N {
        tx.try_send(i).unwrap();
    }
    let flag = Rc::new(Cell::new(false));
    let saw_flag = crate::block_on({
        let flag = flag.clone();
        async move {
            let hot = crate::spawn_local({
                let flag = flag.clone();
                async move {
                    let mut saw = false;
                    for _ in 0..N {
                        rx.recv().await.unwrap(); // always ready
                        saw |= flag.get();
                    }
                    saw
                }
            });
            crate::spawn_local(async move { flag.set(true) });
            hot.await.unwrap()
        }
    });
    assert!(saw_flag, "the budget made the loop yield");
}

#[test]
fn a_message_dropped_by_the_receiver_may_use_the_channel() {
    // A message whose destructor sends on the channel it was queued in:
    // the channel must not be borrowed while it drops queued messages.
    struct SendsOnDrop(Rc<RefCell<Option<Sender<SendsOnDrop>>>>);
    impl Drop for SendsOnDrop {
        fn drop(&mut self) {
            if let Some(tx) = self.0.borrow_mut().take() {
                assert!(tx.try_send(SendsOnDrop(Rc::default())).is_err());
            }
        }
    }
    let (tx, rx) = unbounded();
    let slot = Rc::new(RefCell::new(Some(tx.clone())));
    tx.try_send(SendsOnDrop(slot.clone())).unwrap();
    drop(rx);
    assert!(slot.borrow().is_none(), "the destructor ran");
}
