//! The shared state of a local channel and its state machine.
//!
//! The rules are `mpsc`'s (`../mpsc/chan.rs`), specialised to one thread
//! and one receiver:
//!
//! * **No lock, no atomics.** Everything is in a `RefCell` behind an `Rc`;
//!   a borrow is a flag in a `Cell`. No borrow is held while a waker runs
//!   or a user value is dropped (either may call back into this channel),
//!   so a borrow never fails.
//! * **One receiver, one kept waker.** [`Receiver`](super::Receiver) is not
//!   `Clone` and receives through `&mut self`, so at most one receive waits
//!   at a time. Its waker lives in `receiver`, outside the `RefCell`: it is
//!   kept across waits (cloned only when a different task receives) and
//!   woken *by reference*, which is what makes a message cost no atomic
//!   operation of the channel's own. `receiver_waiting` says whether it
//!   waits now, so a send wakes it only then.
//! * **The receiver waits only on an empty queue** with no blocked sender.
//!   A send that finds it waiting puts its value in the queue and completes
//!   at once, also on a rendezvous channel: the value is *handed* to the
//!   waiting receive (it is the one value beyond the capacity the queue
//!   ever holds). If that receive is then dropped, the value stays at the
//!   front of the queue for the next one: nothing is lost.
//! * **Blocked senders keep their value in their waiter slot** (a
//!   [`WaitList`], one waker per waiting send). A receive that frees a
//!   place moves the first one's value into the queue (capacity > 0) or
//!   takes it directly (capacity 0); either way that send is complete when
//!   its task wakes, so a woken sender has nothing left to do and its
//!   cancellation cannot lose a wake-up. Senders are served in FIFO order.
//! * **Cancellation is exact.** A dropped send future frees its slot: the
//!   value is either still there (the send did not happen; it is dropped
//!   with the future) or gone (the send completed).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::mem;
use std::task::{ready, Context, Poll, Waker};

use crate::coop;
use crate::sync::mpsc::{SendError, TryRecvError, TrySendError};
use crate::sync::waiters::{WaitList, WakeList};

pub(super) struct Chan<T> {
    state: RefCell<State<T>>,
    /// The receiver's waker, kept across waits. See the module docs.
    receiver: Cell<Option<Waker>>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// `None`: unbounded.
    cap: Option<usize>,
    /// Blocked senders; the payload is the value to send, `None` once taken.
    senders: WaitList<Option<T>>,
    /// The receiver is parked on an empty queue; the next send wakes it.
    receiver_waiting: bool,
    sender_count: usize,
    /// Set by `close()` or when the last sender or the receiver is dropped.
    /// Sends fail from then on; the receiver drains what is queued.
    closed: bool,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.cap.is_none_or(|cap| self.queue.len() < cap)
    }

    /// A send now would have to wait (the `Full` of `try_send`).
    fn send_would_wait(&self) -> bool {
        !self.closed && !self.receiver_waiting && !self.has_room()
    }

    /// A receive now would have to wait (the `Empty` of `try_recv`).
    fn recv_would_wait(&self) -> bool {
        !self.closed && self.queue.is_empty() && self.senders.is_empty()
    }

    /// Delivers `value` without waiting. `Ok(true)`: the receiver was
    /// waiting for it and must be woken.
    fn try_send(&mut self, value: T) -> Result<bool, TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        if self.receiver_waiting {
            debug_assert!(self.queue.is_empty() && self.senders.is_empty());
            self.receiver_waiting = false;
            self.queue.push_back(value);
            return Ok(true);
        }
        if self.has_room() {
            self.queue.push_back(value);
            return Ok(false);
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

    /// Marks the channel closed and collects every blocked sender's waker
    /// (they get their values back). Returns whether it was open and
    /// whether the receiver waits and must be woken.
    fn close(&mut self, wakers: &mut WakeList) -> (bool, bool) {
        let was_open = !mem::replace(&mut self.closed, true);
        self.senders.drain(wakers);
        (was_open, mem::take(&mut self.receiver_waiting))
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T> Chan<T> {
    pub(super) fn new(cap: Option<usize>) -> Self {
        Chan {
            state: RefCell::new(State {
                queue: VecDeque::with_capacity(cap.unwrap_or(0).min(1024)),
                cap,
                senders: WaitList::new(),
                receiver_waiting: false,
                sender_count: 1,
                closed: false,
            }),
            receiver: Cell::new(None),
        }
    }

    /// Wakes the kept receiver waker by reference and keeps it, unless the
    /// receiver registered a newer one meanwhile (a waker that polls its
    /// task in place).
    fn wake_receiver(&self) {
        let kept = self.receiver.take();
        if let Some(waker) = &kept {
            waker.wake_by_ref();
        }
        let newer = self.receiver.take();
        self.receiver.set(newer.or(kept));
    }

    /// Keeps `waker` as the receiver's, cloning it only if the kept one
    /// would wake a different task.
    fn keep_receiver_waker(&self, waker: &Waker) {
        let kept = match self.receiver.take() {
            Some(kept) if kept.will_wake(waker) => kept,
            _ => waker.clone(),
        };
        self.receiver.set(Some(kept));
    }

    pub(super) fn capacity(&self) -> Option<usize> {
        self.state.borrow().cap
    }

    pub(super) fn len(&self) -> usize {
        self.state.borrow().queue.len()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    pub(super) fn close(&self) -> bool {
        let mut wakers = WakeList::new();
        let (was_open, wake_receiver) = self.state.borrow_mut().close(&mut wakers);
        wakers.wake_all();
        if wake_receiver {
            self.wake_receiver();
        }
        was_open
    }

    pub(super) fn add_sender(&self) {
        self.state.borrow_mut().sender_count += 1;
    }

    pub(super) fn drop_sender(&self) {
        let last = {
            let mut state = self.state.borrow_mut();
            state.sender_count -= 1;
            state.sender_count == 0
        };
        if last {
            self.close();
        }
    }

    pub(super) fn drop_receiver(&self) {
        // A receive of the dropped receiver waits no more: no wake-up for it.
        self.state.borrow_mut().receiver_waiting = false;
        self.close();
        // Nobody can read these any more: free them now, not when the last
        // sender goes (and with no borrow held: their destructors may use
        // this very channel).
        let unread = mem::take(&mut self.state.borrow_mut().queue);
        drop(unread);
        drop(self.receiver.take());
    }

    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        if self.state.borrow_mut().try_send(value)? {
            self.wake_receiver();
        }
        Ok(())
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (value, waker) = self.state.borrow_mut().try_recv()?;
        wake(waker);
        Ok(value)
    }

    /// Polls a send: `value` holds the message until it is delivered or
    /// parked in the waiter slot `key`.
    ///
    /// Only completing spends the task's cooperative budget: waiting is
    /// decided first, with no call into `coop` (ping-pong waits on every
    /// other poll).
    pub(super) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<usize>,
    ) -> Poll<Result<(), SendError<T>>> {
        if let Some(k) = *key {
            return self.poll_blocked_send(cx, k, key);
        }
        {
            let mut state = self.state.borrow_mut();
            if state.send_would_wait() {
                *key = Some(state.senders.push_back(cx.waker(), value.take()));
                return Poll::Pending;
            }
        }
        let proceed = ready!(coop::poll_proceed(cx));
        let message = value.take().expect("send future polled after completion");
        let outcome = self.state.borrow_mut().try_send(message);
        let result = match outcome {
            Ok(wake_receiver) => {
                if wake_receiver {
                    self.wake_receiver();
                }
                Ok(())
            }
            Err(TrySendError::Closed(message)) => Err(SendError(message)),
            Err(TrySendError::Full(message)) => {
                // Not reached: nothing ran since `send_would_wait` said no
                // but `poll_proceed`, which touches no channel. Were it
                // reached, polling again would queue this send.
                *value = Some(message);
                cx.waker().wake_by_ref();
                return Poll::Pending; // `proceed` dropped: refunded
            }
        };
        proceed.made_progress();
        Poll::Ready(result)
    }

    /// [`poll_send`](Self::poll_send) once the send waits in slot `k`.
    fn poll_blocked_send(
        &self,
        cx: &mut Context<'_>,
        k: usize,
        key: &mut Option<usize>,
    ) -> Poll<Result<(), SendError<T>>> {
        {
            let mut state = self.state.borrow_mut();
            if state.senders.is_linked(k) {
                state.senders.update_waker(k, cx.waker());
                return Poll::Pending;
            }
        }
        let proceed = ready!(coop::poll_proceed(cx));
        *key = None;
        // Unlinked: a receive took the value, or `close` woke us.
        let unsent = self.state.borrow_mut().senders.remove(k);
        proceed.made_progress();
        Poll::Ready(match unsent {
            None => Ok(()),
            Some(value) => Err(SendError(value)),
        })
    }

    /// Forgets a pending send. The value, if no receive took it, is dropped
    /// (after the borrow ends).
    pub(super) fn cancel_send(&self, key: usize) {
        let unsent = self.state.borrow_mut().senders.remove(key);
        drop(unsent);
    }

    /// Polls a receive. `waiting` is set while this receive is the one the
    /// channel will wake, so that dropping it can withdraw it. As for a
    /// send, only completing spends budget.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>, waiting: &mut bool) -> Poll<Option<T>> {
        {
            let mut state = self.state.borrow_mut();
            if state.recv_would_wait() {
                state.receiver_waiting = true;
                drop(state);
                self.keep_receiver_waker(cx.waker());
                *waiting = true;
                return Poll::Pending;
            }
        }
        let proceed = ready!(coop::poll_proceed(cx));
        // Not waiting any more, whatever comes next.
        *waiting = false;
        let outcome = {
            let mut state = self.state.borrow_mut();
            state.receiver_waiting = false;
            state.try_recv()
        };
        let result = match outcome {
            Ok((value, sender)) => {
                wake(sender);
                Some(value)
            }
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => {
                // Not reached (see `poll_send`); polling again waits.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        };
        proceed.made_progress();
        Poll::Ready(result)
    }

    /// Withdraws a pending receive. A value a send already handed to it is
    /// in the queue, where the next receive finds it; the kept waker (of a
    /// task that may not receive again) is released.
    pub(super) fn cancel_recv(&self) {
        self.state.borrow_mut().receiver_waiting = false;
        drop(self.receiver.take());
    }
}
