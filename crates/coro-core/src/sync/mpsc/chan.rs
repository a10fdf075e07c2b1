//! The shared state of an mpsc channel and its state machine.
//!
//! One `Mutex` guards everything. The rules that keep it simple:
//!
//! * **Receivers wait only on an empty queue.** A receiver checks the queue
//!   (and the blocked senders) under the lock before queueing itself, so
//!   while any receiver waits the queue is empty; a send then *hands* its
//!   value straight to the first waiting receiver (into the receiver's
//!   waiter slot) instead of going through the queue.
//! * **Blocked senders keep their value in their waiter slot.** When a
//!   receiver frees a place in the queue, it moves the first blocked
//!   sender's value into the queue (capacity > 0) or takes it directly
//!   (capacity 0, the rendezvous); either way that send is complete when its
//!   task wakes up, so senders are served in FIFO order and never race for
//!   a freed place.
//! * **Cancellation is exact.** A dropped send future frees its slot: the
//!   value is either still in the slot (the send did not happen; the value
//!   is dropped with the future) or already gone (the send completed). A
//!   dropped receive future that had been handed a value passes it to the
//!   next waiting receiver, or puts it back at the *front* of the queue.
//! * **Wakers are woken, and user values dropped, after unlocking.**

use std::collections::VecDeque;
use std::mem;
use std::task::{ready, Context, Poll, Waker};

use super::error::{SendError, TryRecvError, TrySendError};
use crate::coop;
use crate::sync::spin::{SpinGuard, SpinLock};
use crate::sync::waiters::{WaitList, WakeList};

pub(super) struct Chan<T> {
    state: SpinLock<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// `None`: unbounded.
    cap: Option<usize>,
    /// Blocked senders; the payload is the value to send, `None` once taken.
    senders: WaitList<Option<T>>,
    /// Waiting receivers; the payload is `Some` once a value was handed over.
    receivers: WaitList<Option<T>>,
    sender_count: usize,
    receiver_count: usize,
    /// Set by `close()` or when the last sender or the last receiver is
    /// dropped. Sends fail from then on; receivers drain what is queued.
    closed: bool,
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.cap.is_none_or(|cap| self.queue.len() < cap)
    }

    /// Delivers `value` without waiting, returning the receiver to wake.
    fn try_send(&mut self, value: T) -> Result<Option<Waker>, TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        if let Some((key, waker)) = self.receivers.pop_front() {
            *self.receivers.data_mut(key) = Some(value);
            return Ok(waker);
        }
        if self.has_room() {
            self.queue.push_back(value);
            return Ok(None);
        }
        Err(TrySendError::Full(value))
    }

    /// Takes a value without waiting, returning the blocked sender to wake.
    fn try_recv(&mut self) -> Result<(T, Option<Waker>), TryRecvError> {
        if let Some(value) = self.queue.pop_front() {
            // A place is free: the first blocked sender's value takes it.
            let mut waker = None;
            if self.has_room() {
                if let Some((key, sender)) = self.senders.pop_front() {
                    let next = self.senders.data_mut(key).take();
                    self.queue.extend(next);
                    waker = sender;
                }
            }
            return Ok((value, waker));
        }
        // Rendezvous: take the value straight from a blocked sender.
        if let Some((key, sender)) = self.senders.pop_front() {
            if let Some(value) = self.senders.data_mut(key).take() {
                return Ok((value, sender));
            }
        }
        Err(if self.closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        })
    }

    /// Marks the channel closed and wakes every waiter: blocked senders get
    /// their values back, receivers find the queue empty and closed.
    fn close(&mut self, wakers: &mut WakeList) -> bool {
        let was_open = !mem::replace(&mut self.closed, true);
        self.senders.drain(wakers);
        self.receivers.drain(wakers);
        was_open
    }
}

impl<T> Chan<T> {
    pub(super) fn new(cap: Option<usize>) -> Self {
        Chan {
            state: SpinLock::new(State {
                queue: VecDeque::with_capacity(cap.unwrap_or(0).min(1024)),
                cap,
                senders: WaitList::new(),
                receivers: WaitList::new(),
                sender_count: 1,
                receiver_count: 1,
                closed: false,
            }),
        }
    }

    fn lock(&self) -> SpinGuard<'_, State<T>> {
        self.state.lock()
    }

    pub(super) fn capacity(&self) -> Option<usize> {
        self.lock().cap
    }

    pub(super) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(super) fn close(&self) -> bool {
        let mut wakers = WakeList::new();
        let was_open = self.lock().close(&mut wakers);
        wakers.wake_all();
        was_open
    }

    pub(super) fn add_sender(&self) {
        self.lock().sender_count += 1;
    }

    pub(super) fn add_receiver(&self) {
        self.lock().receiver_count += 1;
    }

    pub(super) fn drop_sender(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            state.sender_count -= 1;
            if state.sender_count == 0 {
                state.close(&mut wakers);
            }
        }
        wakers.wake_all();
    }

    pub(super) fn drop_receiver(&self) {
        let mut wakers = WakeList::new();
        let unread = {
            let mut state = self.lock();
            state.receiver_count -= 1;
            if state.receiver_count > 0 {
                return;
            }
            state.close(&mut wakers);
            // Nobody can read these any more: free them now, not when the
            // last sender goes (and outside the lock: their destructors may
            // use this very channel).
            mem::take(&mut state.queue)
        };
        wakers.wake_all();
        drop(unread);
    }

    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = self.lock().try_send(value)?;
        wake(waker);
        Ok(())
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (value, waker) = self.lock().try_recv()?;
        wake(waker);
        Ok(value)
    }

    /// Polls a send: `value` holds the message until it is delivered or
    /// parked in the waiter slot `key`.
    pub(super) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<usize>,
    ) -> Poll<Result<(), SendError<T>>> {
        let proceed = ready!(coop::poll_proceed(cx));
        let mut state = self.lock();
        let result = match *key {
            Some(k) if state.senders.is_linked(k) => {
                state.senders.update_waker(k, cx.waker());
                return Poll::Pending;
            }
            Some(k) => {
                *key = None;
                // Unlinked: a receiver took the value, or `close` woke us.
                match state.senders.remove(k) {
                    None => Ok(()),
                    Some(value) => Err(SendError(value)),
                }
            }
            None => {
                let message = value.take().expect("send future polled after completion");
                match state.try_send(message) {
                    Ok(waker) => {
                        drop(state);
                        wake(waker);
                        proceed.made_progress();
                        return Poll::Ready(Ok(()));
                    }
                    Err(TrySendError::Closed(message)) => Err(SendError(message)),
                    Err(TrySendError::Full(message)) => {
                        *key = Some(state.senders.push_back(cx.waker(), Some(message)));
                        return Poll::Pending;
                    }
                }
            }
        };
        drop(state);
        proceed.made_progress();
        Poll::Ready(result)
    }

    /// Forgets a pending send. The value, if no receiver took it, is dropped.
    pub(super) fn cancel_send(&self, key: usize) {
        let unsent = self.lock().senders.remove(key);
        drop(unsent);
    }

    /// Polls a receive, parking in the waiter slot `key` while empty.
    pub(super) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<usize>,
    ) -> Poll<Option<T>> {
        let proceed = ready!(coop::poll_proceed(cx));
        let mut state = self.lock();
        if let Some(k) = *key {
            if state.receivers.is_linked(k) {
                state.receivers.update_waker(k, cx.waker());
                return Poll::Pending;
            }
            *key = None;
            if let Some(value) = state.receivers.remove(k) {
                drop(state);
                proceed.made_progress();
                return Poll::Ready(Some(value));
            }
            // Woken without a value: the channel closed. Drain the queue.
        }
        match state.try_recv() {
            Ok((value, waker)) => {
                drop(state);
                wake(waker);
                proceed.made_progress();
                Poll::Ready(Some(value))
            }
            Err(TryRecvError::Closed) => {
                drop(state);
                proceed.made_progress();
                Poll::Ready(None)
            }
            Err(TryRecvError::Empty) => {
                *key = Some(state.receivers.push_back(cx.waker(), None));
                Poll::Pending
            }
        }
    }

    /// Forgets a pending receive. A value already handed to it goes to the
    /// next waiting receiver, or back to the front of the queue.
    pub(super) fn cancel_recv(&self, key: usize) {
        let mut state = self.lock();
        let Some(value) = state.receivers.remove(key) else {
            return;
        };
        let waker = match state.receivers.pop_front() {
            Some((next, waker)) => {
                *state.receivers.data_mut(next) = Some(value);
                waker
            }
            None => {
                state.queue.push_front(value);
                None
            }
        };
        drop(state);
        wake(waker);
    }
}
