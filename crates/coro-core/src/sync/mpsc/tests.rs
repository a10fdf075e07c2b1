use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

use futures_util::StreamExt;

use super::*;
use crate::sync::test_util::{poll_once, poll_with, CountWaker, Drops};

#[test]
fn rendezvous_send_completes_only_once_the_value_was_taken() {
    let (tx, rx) = channel(0);
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

    let (tx, _rx) = channel::<u8>(0);
    assert_eq!(tx.try_send(0), Err(TrySendError::Full(0)));
}

#[test]
fn blocked_senders_are_served_in_order_and_complete_when_their_value_moves() {
    let (tx, rx) = channel(1);
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..=3).map(|i| tx.send(i)).collect();
    for send in &mut sends {
        assert!(poll_once(send).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(0));
    // 1 moved into the queue: its send is complete, the others still wait.
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
fn close_gives_blocked_senders_their_value_back_and_wakes_receivers() {
    let (tx, rx) = channel(0);
    let mut send = tx.send("kept");
    assert!(poll_once(&mut send).is_pending());
    rx.close();
    match poll_once(&mut send) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value, "kept"),
        other => panic!("expected the value back, got {other:?}"),
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, rx) = channel::<u8>(4);
    let (wakes, waker) = CountWaker::new();
    let mut recv = rx.recv();
    assert!(poll_with(&mut recv, &waker).is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(wakes.count(), 0, "a sender is left");
    assert!(!rx.is_closed());
    drop(tx2);
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(&mut recv), Poll::Ready(None));
}

#[test]
fn dropping_every_receiver_frees_the_queue_and_fails_sends() {
    let drops = Drops::default();
    let (tx, rx) = channel(4);
    tx.try_send(drops.track(1)).unwrap();
    tx.try_send(drops.track(2)).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert_eq!(drops.count(), 0);
    drop(rx2);
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
fn a_value_handed_to_a_dropped_receive_goes_to_the_next_receiver_or_the_queue() {
    let (tx, rx) = channel(2);
    let rx2 = rx.clone();
    let mut first = rx.recv();
    let mut second = rx2.recv();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    tx.try_send(1).unwrap(); // handed to `first`
    drop(first);
    assert_eq!(poll_once(&mut second), Poll::Ready(Some(1)));

    let mut lone = rx.recv();
    assert!(poll_once(&mut lone).is_pending());
    tx.try_send(2).unwrap(); // handed to `lone`
    tx.try_send(3).unwrap(); // queued
    drop(lone);
    assert_eq!(rx.try_recv(), Ok(2), "back at the front, order kept");
    assert_eq!(rx2.try_recv(), Ok(3));
}

#[test]
fn receiver_stream_and_its_pending_slot() {
    let (tx, mut rx) = channel(1);
    let mut next = rx.next();
    assert!(poll_once(&mut next).is_pending());
    drop(next);
    tx.try_send(5).unwrap(); // handed to the stream's slot
    assert_eq!(poll_once(&mut rx.next()), Poll::Ready(Some(5)));
    let mut next = rx.next();
    assert!(poll_once(&mut next).is_pending());
    drop(next);
    tx.try_send(6).unwrap();
    let rx2 = rx.clone();
    drop(rx); // its slot held 6: back to the queue for rx2
    assert_eq!(rx2.try_recv(), Ok(6));
    drop(tx);
    assert!(futures_util::stream::FusedStream::is_terminated(&rx2));
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
fn ping_pong_between_tasks_for_every_capacity() {
    const N: usize = if cfg!(miri) { 20 } else { 1_000 };
    for cap in [Some(0), Some(1), Some(16), None] {
        let make = || match cap {
            Some(cap) => channel(cap),
            None => unbounded(),
        };
        let ((ping_tx, ping_rx), (pong_tx, pong_rx)) = (make(), make());
        crate::block_on(async move {
            let echo = crate::spawn(async move {
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
fn many_producers_and_consumers_on_one_thread() {
    const PER: usize = if cfg!(miri) { 10 } else { 500 };
    for cap in [0, 1, 8] {
        let (tx, rx) = channel(cap);
        let total = crate::block_on(async move {
            for p in 0..3 {
                let tx = tx.clone();
                crate::spawn(async move {
                    for i in 0..PER {
                        tx.send(p * PER + i).await.unwrap();
                    }
                });
            }
            drop(tx);
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let rx = rx.clone();
                    crate::spawn(async move {
                        let mut got = Vec::new();
                        while let Some(v) = rx.recv().await {
                            got.push(v);
                        }
                        got
                    })
                })
                .collect();
            drop(rx);
            let mut all = Vec::new();
            for consumer in consumers {
                all.extend(consumer.await.unwrap());
            }
            all.sort_unstable();
            all
        });
        assert_eq!(total, (0..3 * PER).collect::<Vec<_>>(), "capacity {cap}");
    }
}

#[test]
fn a_hot_receive_loop_yields_to_other_tasks() {
    let (tx, rx) = unbounded();
    for i in 0..1_000 {
        tx.try_send(i).unwrap();
    }
    let flag = Arc::new(AtomicBool::new(false));
    let saw_flag = crate::block_on({
        let flag = flag.clone();
        async move {
            let hot = crate::spawn({
                let flag = flag.clone();
                async move {
                    let mut saw = false;
                    for _ in 0..1_000 {
                        rx.recv().await.unwrap(); // always ready
                        saw |= flag.load(SeqCst);
                    }
                    saw
                }
            });
            crate::spawn(async move { flag.store(true, SeqCst) });
            hot.await.unwrap()
        }
    });
    assert!(saw_flag, "the budget made the loop yield");
}

#[test]
fn halves_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sender<String>>();
    assert_send_sync::<Receiver<String>>();
    assert_send_sync::<SendFuture<'_, String>>();
    assert_send_sync::<RecvFuture<'_, String>>();
}
