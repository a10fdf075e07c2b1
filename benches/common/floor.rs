//! The floor under every executor built on `async-task`: the smallest one
//! possible, run beside the runtimes as a physical-limit baseline
//! (`async_task_floor`) for the scenarios that measure task switches.
//!
//! It is one thread-local FIFO of `Runnable`s and a loop that runs them
//! until the FIFO is empty: no budget, no wake-up of other threads, no
//! driver, no fairness, no shutdown registry, nothing that may be `Send`.
//! Whatever a runtime on `async-task` spends beyond this row is its own
//! design; what this row spends is `async-task`'s state machine (four
//! atomic read-modify-writes per switch: the wake, and `run`'s start, end
//! and reference drop) plus the poll itself.
//!
//! `ping_pong` here runs over [`Slot`], a channel of one `Rc<RefCell<..>>`
//! that has no atomics and keeps each side's waker across waits (woken by
//! reference, cloned only when the task changes). A `Send` channel cannot
//! do either: it must order "store my value, then look for a waiter"
//! against "store my waker, then look for a value" across threads, which
//! takes a locked instruction on each side, and it must not wake a waker
//! another thread may be replacing. So this row is the cost of the task
//! switches alone, and the gap to it is what a real channel costs.
//! [`Fences::SendBound`] adds the two locked instructions back, which makes
//! it the bound on any `Send` channel.
#![allow(dead_code)] // each includer uses a different part

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};

use async_task::Runnable;

thread_local! {
    static QUEUE: RefCell<VecDeque<Runnable>> = const { RefCell::new(VecDeque::new()) };
}

fn schedule(runnable: Runnable) {
    QUEUE.with(|q| q.borrow_mut().push_back(runnable));
}

/// Spawns `future` onto this thread's FIFO; it runs in [`run_all`].
fn spawn(future: impl Future<Output = ()> + 'static) {
    let (runnable, task) = async_task::spawn_local(future, schedule);
    task.detach();
    runnable.schedule();
}

/// Runs tasks until none is runnable.
fn run_all() {
    while let Some(runnable) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        runnable.run();
    }
}

/// Returns `Pending` once after waking its own task: the same yield every
/// runtime's `yield_now` performs.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// `yield_many` on the floor: `tasks` tasks × `yields` yields. Returns the
/// number of yields.
pub fn yield_many(tasks: u64, yields: u64) -> u64 {
    let done = Rc::new(Cell::new(0));
    for _ in 0..tasks {
        let done = done.clone();
        spawn(async move {
            for _ in 0..yields {
                yield_now().await;
            }
            done.set(done.get() + 1);
        });
    }
    run_all();
    assert_eq!(done.get(), tasks, "a yielding task did not finish");
    tasks * yields
}

/// `chained_spawn` on the floor: each task spawns the next, `depth` deep.
/// Returns the number of links.
pub fn chained_spawn(depth: u64) -> u64 {
    fn link(remaining: u64, done: Rc<Cell<bool>>) {
        if remaining == 0 {
            done.set(true);
        } else {
            spawn(async move { link(remaining - 1, done) });
        }
    }
    let done = Rc::new(Cell::new(false));
    link(depth, done.clone());
    run_all();
    assert!(done.get(), "the chain did not reach its end");
    depth
}

/// `ping_pong` on the floor: `round_trips` values there and back over two
/// [`Slot`]s. Returns the number of messages (two per round trip).
pub fn ping_pong(round_trips: u64) -> u64 {
    let (echo, pinger) = slot_ping_pong(round_trips, Fences::None);
    let finished = Rc::new(Cell::new(false));
    let pinger_finished = finished.clone();
    spawn(echo);
    spawn(async move {
        pinger.await;
        pinger_finished.set(true);
    });
    run_all();
    assert!(finished.get(), "ping_pong stalled");
    2 * round_trips
}

/// Whether a [`Slot`] adds the two locked instructions per message that a
/// `Send` channel cannot do without.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fences {
    /// None: the cost of the task switches alone.
    None,
    /// A sequentially consistent read-modify-write where a `Send` channel
    /// needs its store ordered before its load: after a send stores its
    /// value (before looking for a parked receiver) and after a receive
    /// stores its waker (before looking again for a value). Every message
    /// of ping-pong takes one of each, so this is the cheapest any `Send`
    /// channel could be; real ones (locks, `AtomicWaker`) do more.
    SendBound,
}

/// The two tasks of `ping_pong` over [`Slot`]s, for any executor that runs
/// `!Send` tasks: the echo, and the pinger, which sends `round_trips`
/// values, checks every reply, then closes the channel to end the echo.
pub fn slot_ping_pong(
    round_trips: u64,
    fences: Fences,
) -> (
    impl Future<Output = ()> + 'static,
    impl Future<Output = ()> + 'static,
) {
    let (ping, pong) = (Slot::new(fences), Slot::new(fences));
    let (ping_rx, pong_tx) = (ping.clone(), pong.clone());
    let echo = async move {
        while let Some(i) = ping_rx.recv().await {
            pong_tx.send(i).await;
        }
    };
    let pinger = async move {
        for i in 0..round_trips {
            ping.send(i).await;
            assert_eq!(pong.recv().await, Some(i), "echo lost a message");
        }
        ping.close();
    };
    (echo, pinger)
}

/// A capacity-1 channel for tasks of one thread. See the module docs.
struct Slot<T>(Rc<RefCell<SlotState<T>>>);

struct SlotState<T> {
    value: Option<T>,
    closed: bool,
    receiver: Option<Waker>,
    sender: Option<Waker>,
    fences: Fences,
    /// The word `Fences::SendBound` writes to.
    handshake: AtomicUsize,
}

impl<T> SlotState<T> {
    fn fence(&self) {
        if self.fences == Fences::SendBound {
            self.handshake.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

/// Keeps `waker` in `slot`, cloning it only if the one there would wake a
/// different task.
fn keep(slot: &mut Option<Waker>, waker: &Waker) {
    if !slot.as_ref().is_some_and(|kept| kept.will_wake(waker)) {
        *slot = Some(waker.clone());
    }
}

fn wake(slot: &Option<Waker>) {
    if let Some(waker) = slot {
        waker.wake_by_ref();
    }
}

impl<T> Slot<T> {
    fn new(fences: Fences) -> Self {
        Slot(Rc::new(RefCell::new(SlotState {
            value: None,
            closed: false,
            receiver: None,
            sender: None,
            fences,
            handshake: AtomicUsize::new(0),
        })))
    }

    async fn send(&self, value: T) {
        let mut value = Some(value);
        poll_fn(|cx| {
            let mut state = self.0.borrow_mut();
            if state.value.is_some() {
                keep(&mut state.sender, cx.waker());
                return Poll::Pending;
            }
            state.value = value.take();
            state.fence();
            wake(&state.receiver);
            Poll::Ready(())
        })
        .await
    }

    async fn recv(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.0.borrow_mut();
            if let Some(value) = state.value.take() {
                wake(&state.sender);
                return Poll::Ready(Some(value));
            }
            if state.closed {
                return Poll::Ready(None);
            }
            keep(&mut state.receiver, cx.waker());
            state.fence();
            Poll::Pending
        })
        .await
    }

    fn close(&self) {
        let mut state = self.0.borrow_mut();
        state.closed = true;
        wake(&state.receiver);
    }
}
