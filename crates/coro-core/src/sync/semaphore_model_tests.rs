//! Model-based property test of `Semaphore`: random sequences of
//! try_acquire, acquires polled by hand, cancelled or re-polled, permits
//! released and added, and close, on a real semaphore and on a plain
//! sequential model (a permit count and a FIFO of requests, the front
//! served first). After every step the results and the free permits must
//! agree, and every acquire the model granted or refused must have been
//! woken. A permit lost or handed out twice, a queue-jump, or a lost
//! wake-up fails the test.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::{Poll, Waker};

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::sync::test_util::{poll_with, CountWaker};

#[derive(Clone, Debug)]
enum Op {
    TryAcquire(u32),
    StartAcquire(u32),
    PollAcquire(Index),
    CancelAcquire(Index),
    Release(Index),
    AddPermits(usize),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1u32..4).prop_map(Op::TryAcquire),
        4 => (1u32..4).prop_map(Op::StartAcquire),
        4 => any::<Index>().prop_map(Op::PollAcquire),
        1 => any::<Index>().prop_map(Op::CancelAcquire),
        3 => any::<Index>().prop_map(Op::Release),
        2 => (0usize..3).prop_map(Op::AddPermits),
        1 => Just(Op::Close),
    ]
}

#[derive(Debug, PartialEq)]
enum Request {
    Waiting(u32),
    Granted(u32),
    Refused,
}

#[derive(Debug, Default)]
struct Model {
    permits: usize,
    queue: VecDeque<usize>,
    requests: HashMap<usize, Request>,
    closed: bool,
}

impl Model {
    /// Serves the front of the queue while it fits.
    fn grant(&mut self) {
        while let Some(&front) = self.queue.front() {
            let Request::Waiting(n) = self.requests[&front] else {
                unreachable!("queued requests wait")
            };
            if n as usize > self.permits {
                break;
            }
            self.permits -= n as usize;
            self.requests.insert(front, Request::Granted(n));
            self.queue.pop_front();
        }
    }

    fn release(&mut self, n: usize) {
        self.permits += n;
        self.grant();
    }
}

fn run(initial: usize, ops: Vec<Op>) {
    let semaphore = Semaphore::new(initial);
    let mut model = Model {
        permits: initial,
        ..Model::default()
    };
    let mut pending: Vec<(usize, Acquire<'_>, Arc<CountWaker>, Waker)> = Vec::new();
    let mut held: Vec<SemaphorePermit<'_>> = Vec::new();
    for (id, op) in ops.into_iter().enumerate() {
        match op {
            Op::TryAcquire(n) => {
                let expected = if model.closed {
                    Err(TryAcquireError::Closed)
                } else if !model.queue.is_empty() || model.permits < n as usize {
                    Err(TryAcquireError::NoPermits)
                } else {
                    model.permits -= n as usize;
                    Ok(n as usize)
                };
                let got = semaphore.try_acquire_many(n);
                assert_eq!(
                    got.as_ref().map(|p| p.num_permits()),
                    expected.as_ref().map(|&n| n)
                );
                held.extend(got.ok());
            }
            Op::StartAcquire(n) => {
                let (count, waker) = CountWaker::new();
                let mut acquire = semaphore.acquire_many(n);
                let expected = if model.closed {
                    Some(false)
                } else if model.queue.is_empty() && model.permits >= n as usize {
                    model.permits -= n as usize;
                    Some(true)
                } else {
                    model.queue.push_back(id);
                    model.requests.insert(id, Request::Waiting(n));
                    None
                };
                match (poll_with(&mut acquire, &waker), expected) {
                    (Poll::Ready(Ok(permit)), Some(true)) => held.push(permit),
                    (Poll::Ready(Err(_)), Some(false)) => {}
                    (Poll::Pending, None) => pending.push((id, acquire, count, waker)),
                    (got, expected) => panic!("acquire {id}: {got:?}, model {expected:?}"),
                }
            }
            Op::PollAcquire(index) => {
                if pending.is_empty() {
                    continue;
                }
                let at = index.index(pending.len());
                let (id, acquire, _, waker) = &mut pending[at];
                let expected = &model.requests[id];
                match (poll_with(acquire, waker), expected) {
                    (Poll::Pending, Request::Waiting(_)) => continue,
                    (Poll::Ready(Ok(permit)), Request::Granted(n)) => {
                        assert_eq!(permit.num_permits(), *n as usize);
                        held.push(permit);
                    }
                    (Poll::Ready(Err(_)), Request::Refused) => {}
                    (got, expected) => panic!("acquire {id}: {got:?}, model {expected:?}"),
                }
                model.requests.remove(id);
                drop(pending.swap_remove(at));
            }
            Op::CancelAcquire(index) => {
                if pending.is_empty() {
                    continue;
                }
                let (id, ..) = pending.swap_remove(index.index(pending.len()));
                model.queue.retain(|&q| q != id);
                // A grant nobody will collect goes back (and serves others).
                let returned = match model.requests.remove(&id) {
                    Some(Request::Granted(n)) => n as usize,
                    _ => 0,
                };
                model.release(returned);
            }
            Op::Release(index) => {
                if held.is_empty() {
                    continue;
                }
                let permit = held.swap_remove(index.index(held.len()));
                model.release(permit.num_permits());
                drop(permit);
            }
            Op::AddPermits(n) => {
                semaphore.add_permits(n);
                model.release(n);
            }
            Op::Close => {
                semaphore.close();
                model.closed = true;
                for id in model.queue.drain(..) {
                    model.requests.insert(id, Request::Refused);
                }
            }
        }
        assert_eq!(semaphore.available_permits(), model.permits, "free permits");
        assert_eq!(semaphore.is_closed(), model.closed);
        for (id, _, count, _) in &pending {
            if !matches!(model.requests[id], Request::Waiting(_)) {
                assert!(
                    count.count() > 0,
                    "acquire {id} completed but was not woken"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(crate::sync::test_util::model_test_config(512))]

    #[test]
    fn semaphore_matches_its_sequential_model(
        initial in 0usize..4,
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 120 }),
    ) {
        run(initial, ops);
    }
}
