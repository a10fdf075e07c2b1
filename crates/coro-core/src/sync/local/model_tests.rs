//! Model-based property test of the local channel: random sequences of
//! operations (try_send, try_recv, sends and the receive polled by hand,
//! cancelled, re-polled, close) run on a real channel and on a plain
//! sequential model of the rules in `chan.rs` (a `VecDeque` queue, a FIFO
//! of blocked senders, one receive that waits or has been woken). After
//! every step the results, the queue length and the closed flag must
//! agree, and every future the model says is now complete (or, for the
//! receive, has something to find) must have been woken: a lost wake-up
//! fails the test, as does a value lost, duplicated or reordered.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::{Poll, Waker};

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::sync::test_util::{poll_with, CountWaker};

#[derive(Clone, Debug)]
enum Op {
    TrySend,
    TryRecv,
    StartSend,
    PollSend(Index),
    CancelSend(Index),
    StartRecv,
    PollRecv,
    CancelRecv,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::TrySend),
        2 => Just(Op::TryRecv),
        4 => Just(Op::StartSend),
        3 => any::<Index>().prop_map(Op::PollSend),
        1 => any::<Index>().prop_map(Op::CancelSend),
        3 => Just(Op::StartRecv),
        3 => Just(Op::PollRecv),
        1 => Just(Op::CancelRecv),
        1 => Just(Op::Close),
    ]
}

/// Where a pending send is, in the model.
#[derive(Debug, PartialEq)]
enum SendState {
    /// Queued as a blocked sender, holding its value.
    Blocked(u32),
    /// A receive took the value: the send completed.
    Taken,
    /// `close` woke it: the value comes back as an error.
    Refused(u32),
}

#[derive(Debug)]
struct Model {
    cap: Option<usize>,
    queue: VecDeque<u32>,
    blocked: VecDeque<usize>,
    sends: HashMap<usize, SendState>,
    /// The pending receive waits (registered, not woken yet).
    receiver_waiting: bool,
    closed: bool,
}

impl Model {
    fn has_room(&self) -> bool {
        self.cap.is_none_or(|cap| self.queue.len() < cap)
    }

    fn try_send(&mut self, value: u32) -> Result<(), TrySendError<u32>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        if self.receiver_waiting {
            // Handed to the waiting receive (through the queue).
            self.receiver_waiting = false;
            self.queue.push_back(value);
            return Ok(());
        }
        if self.has_room() {
            self.queue.push_back(value);
            return Ok(());
        }
        Err(TrySendError::Full(value))
    }

    fn take_blocked_value(&mut self) -> Option<u32> {
        let id = self.blocked.pop_front()?;
        match self.sends.insert(id, SendState::Taken) {
            Some(SendState::Blocked(value)) => Some(value),
            other => unreachable!("a linked sender is blocked: {other:?}"),
        }
    }

    fn try_recv(&mut self) -> Result<u32, TryRecvError> {
        if let Some(value) = self.queue.pop_front() {
            if self.has_room() {
                if let Some(next) = self.take_blocked_value() {
                    self.queue.push_back(next);
                }
            }
            return Ok(value);
        }
        if let Some(value) = self.take_blocked_value() {
            return Ok(value);
        }
        Err(if self.closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        })
    }

    /// A receive polled: what it returns, and whether it waits now.
    fn poll_recv(&mut self) -> Poll<Option<u32>> {
        match self.try_recv() {
            Ok(value) => {
                self.receiver_waiting = false;
                Poll::Ready(Some(value))
            }
            Err(TryRecvError::Closed) => {
                self.receiver_waiting = false;
                Poll::Ready(None)
            }
            Err(TryRecvError::Empty) => {
                self.receiver_waiting = true;
                Poll::Pending
            }
        }
    }

    fn close(&mut self) {
        self.closed = true;
        self.receiver_waiting = false;
        for id in self.blocked.drain(..) {
            let Some(SendState::Blocked(value)) = self.sends.remove(&id) else {
                unreachable!()
            };
            self.sends.insert(id, SendState::Refused(value));
        }
    }
}

/// Picks one of the pending futures.
fn pick<T>(list: &[T], index: &Index) -> Option<usize> {
    (!list.is_empty()).then(|| index.index(list.len()))
}

fn run(cap: Option<usize>, ops: Vec<Op>) {
    let (tx, rx) = match cap {
        Some(cap) => channel::<u32>(cap),
        None => unbounded(),
    };
    let mut model = Model {
        cap,
        queue: VecDeque::new(),
        blocked: VecDeque::new(),
        sends: HashMap::new(),
        receiver_waiting: false,
        closed: false,
    };
    let mut sends: Vec<(usize, SendFuture<'_, u32>, Arc<CountWaker>, Waker)> = Vec::new();
    // At most one receive at a time: `Receiver::recv` takes `&mut self`.
    // Built from the channel directly so that `try_recv` (a `Stream` user
    // can call it while a `poll_next` waits) stays callable meanwhile.
    let mut recv: Option<(RecvFuture<'_, u32>, Arc<CountWaker>, Waker)> = None;
    let mut next_value = 0u32;
    for (id, op) in ops.into_iter().enumerate() {
        match op {
            Op::TrySend => {
                next_value += 1;
                assert_eq!(tx.try_send(next_value), model.try_send(next_value));
            }
            Op::TryRecv => assert_eq!(rx.try_recv(), model.try_recv()),
            Op::StartSend => {
                next_value += 1;
                let (count, waker) = CountWaker::new();
                let mut send = tx.send(next_value);
                let expected = match model.try_send(next_value) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(TrySendError::Closed(value)) => Poll::Ready(Err(SendError(value))),
                    Err(TrySendError::Full(value)) => {
                        model.blocked.push_back(id);
                        model.sends.insert(id, SendState::Blocked(value));
                        Poll::Pending
                    }
                };
                assert_eq!(poll_with(&mut send, &waker), expected);
                if expected.is_pending() {
                    sends.push((id, send, count, waker));
                }
            }
            Op::PollSend(index) => {
                let Some(at) = pick(&sends, &index) else {
                    continue;
                };
                let (id, send, _, waker) = &mut sends[at];
                let expected = match model.sends.get(id) {
                    Some(SendState::Blocked(_)) => Poll::Pending,
                    Some(SendState::Taken) => Poll::Ready(Ok(())),
                    Some(SendState::Refused(value)) => Poll::Ready(Err(SendError(*value))),
                    None => unreachable!("pending sends are in the model"),
                };
                assert_eq!(poll_with(send, waker), expected);
                if expected.is_ready() {
                    model.sends.remove(id);
                    drop(sends.swap_remove(at));
                }
            }
            Op::CancelSend(index) => {
                let Some(at) = pick(&sends, &index) else {
                    continue;
                };
                let (id, ..) = sends.swap_remove(at);
                model.blocked.retain(|&b| b != id);
                model.sends.remove(&id);
            }
            Op::StartRecv => {
                if recv.is_some() {
                    continue;
                }
                let (count, waker) = CountWaker::new();
                let mut fut = RecvFuture {
                    chan: &rx.chan,
                    waiting: false,
                };
                let expected = model.poll_recv();
                assert_eq!(poll_with(&mut fut, &waker), expected);
                if expected.is_pending() {
                    recv = Some((fut, count, waker));
                }
            }
            Op::PollRecv => {
                let Some((fut, _, waker)) = &mut recv else {
                    continue;
                };
                let expected = model.poll_recv();
                assert_eq!(poll_with(fut, waker), expected);
                if expected.is_ready() {
                    recv = None;
                }
            }
            Op::CancelRecv => {
                if recv.take().is_some() {
                    model.receiver_waiting = false;
                }
            }
            Op::Close => {
                assert_eq!(rx.close(), !model.closed);
                model.close();
            }
        }
        assert_eq!(rx.len(), model.queue.len(), "queue length");
        assert_eq!(tx.is_closed(), model.closed);
        // No lost wake-up: whatever the model completed was woken.
        for (id, _, count, _) in &sends {
            if !matches!(model.sends[id], SendState::Blocked(_)) {
                assert!(count.count() > 0, "send {id} completed but was not woken");
            }
        }
        if let Some((_, count, _)) = &recv {
            if !model.receiver_waiting {
                assert!(
                    count.count() > 0,
                    "the receive can proceed but was not woken"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(crate::sync::test_util::model_test_config(512))]

    #[test]
    fn local_channel_matches_its_sequential_model(
        cap in prop_oneof![Just(None), (0usize..4).prop_map(Some)],
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 120 }),
    ) {
        run(cap, ops);
    }
}
