//! Integration tests of `coro::sync` on the multi-thread runtime: many producers and consumers
//! over every kind of mpsc channel, close semantics across tasks, `Semaphore`, `Event` and
//! `oneshot` between tasks on different workers.
//!
//! Nothing depends on timing; every test runs under a generous `timeout` so that a lost
//! wake-up fails the test instead of hanging it.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use coro::sync::mpsc::{self, SendError, TrySendError};
use coro::sync::{oneshot, Event, Semaphore};

const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `fut` under the watchdog.
async fn bounded<T>(fut: impl Future<Output = T>) -> T {
    coro::time::timeout(WATCHDOG, fut)
        .await
        .expect("the test hung: a wake-up was lost")
}

const MESSAGES: usize = 100_000;
const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;

/// 4 producers send `0..MESSAGES` between them, 4 consumers receive; every message must arrive
/// exactly once.
async fn every_message_exactly_once(capacity: Option<usize>) {
    let (tx, rx) = match capacity {
        Some(cap) => mpsc::channel::<u32>(cap),
        None => mpsc::unbounded(),
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            coro::spawn(async move {
                for n in (p..MESSAGES).step_by(PRODUCERS) {
                    tx.send(n as u32).await.unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            coro::spawn(async move {
                let mut got = Vec::new();
                while let Some(n) = rx.recv().await {
                    got.push(n);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for producer in producers {
        producer.await.unwrap();
    }
    let mut seen = vec![false; MESSAGES];
    let mut busy_consumers = 0;
    for consumer in consumers {
        let got = consumer.await.unwrap();
        busy_consumers += usize::from(!got.is_empty());
        for n in got {
            assert!(
                !std::mem::replace(&mut seen[n as usize], true),
                "{n} received twice"
            );
        }
    }
    let missing = seen.iter().filter(|&&s| !s).count();
    assert_eq!(
        missing, 0,
        "{missing} messages lost (capacity {capacity:?})"
    );
    assert!(busy_consumers >= 1);
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn mpmc_rendezvous_delivers_every_message_once() {
    bounded(every_message_exactly_once(Some(0))).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn mpmc_capacity_1_delivers_every_message_once() {
    bounded(every_message_exactly_once(Some(1))).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn mpmc_capacity_16_delivers_every_message_once() {
    bounded(every_message_exactly_once(Some(16))).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn mpmc_unbounded_delivers_every_message_once() {
    bounded(every_message_exactly_once(None)).await;
}

/// Polls `fut` at most twice, then drops it: `None` if it gave up. Deterministic cancellation
/// of pending sends and receives, with no timer involved.
async fn poll_twice<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut polls = 0;
    poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending if polls == 0 => {
            polls += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

const CONSUMED: u8 = 1;
const DROPPED: u8 = 2;

/// What happened to each message: consumed by a receiver, or dropped unsent with a cancelled
/// send. Each must happen exactly once, never both.
struct Board(Vec<AtomicU8>);

impl Board {
    fn mark(&self, id: usize, what: u8) {
        let before = self.0[id].fetch_or(what, SeqCst);
        assert_eq!(before, 0, "message {id} was both/twice {before} and {what}");
    }
}

struct Msg {
    id: usize,
    board: Arc<Board>,
    consumed: bool,
}

impl Drop for Msg {
    fn drop(&mut self) {
        if !self.consumed {
            self.board.mark(self.id, DROPPED);
        }
    }
}

/// Producers and consumers that keep giving up on pending sends and receives: no message is
/// lost (each is received, or dropped with the send that gave up) and none is duplicated.
async fn cancelled_operations_never_lose_or_duplicate(capacity: usize) {
    const N: usize = 20_000;
    let board = Arc::new(Board((0..N).map(|_| AtomicU8::new(0)).collect()));
    let (tx, rx) = mpsc::channel::<Msg>(capacity);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (tx, board) = (tx.clone(), board.clone());
            coro::spawn(async move {
                for id in (p..N).step_by(PRODUCERS) {
                    let msg = Msg {
                        id,
                        board: board.clone(),
                        consumed: false,
                    };
                    if id % 3 == 0 {
                        // May deliver, or drop the message unsent: the board tells.
                        let _ = poll_twice(tx.send(msg)).await;
                    } else {
                        assert!(tx.send(msg).await.is_ok());
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            coro::spawn(async move {
                loop {
                    match poll_twice(rx.recv()).await {
                        None => continue, // gave up: a value handed to it must not be lost
                        Some(None) => break,
                        Some(Some(mut msg)) => {
                            msg.consumed = true;
                            msg.board.mark(msg.id, CONSUMED);
                        }
                    }
                }
            })
        })
        .collect();
    drop(rx);
    for task in producers.into_iter().chain(consumers) {
        task.await.unwrap();
    }
    let mut consumed = 0;
    for (id, state) in board.0.iter().enumerate() {
        match state.load(SeqCst) {
            CONSUMED => consumed += 1,
            DROPPED => assert_eq!(
                id % 3,
                0,
                "message {id} dropped but its send was not cancelled"
            ),
            other => panic!("message {id} lost (state {other})"),
        }
    }
    assert!(consumed >= N * 2 / 3, "only {consumed} consumed");
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sends_and_receives_rendezvous() {
    bounded(cancelled_operations_never_lose_or_duplicate(0)).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sends_and_receives_capacity_1() {
    bounded(cancelled_operations_never_lose_or_duplicate(1)).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sends_and_receives_capacity_16() {
    bounded(cancelled_operations_never_lose_or_duplicate(16)).await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendezvous_send_returns_only_after_the_receiver_took_the_value() {
    bounded(async {
        let (tx, rx) = mpsc::channel::<usize>(0);
        let taken = Arc::new(AtomicUsize::new(0));
        let consumer = coro::spawn({
            let taken = taken.clone();
            async move {
                while let Some(n) = rx.recv().await {
                    taken.store(n, SeqCst);
                }
            }
        });
        for n in 1..=1_000 {
            tx.send(n).await.unwrap();
            // The consumer may not have stored it yet, but it has received it: it never
            // lags by more than the message in its hands.
            assert!(taken.load(SeqCst) >= n - 1);
        }
        drop(tx);
        consumer.await.unwrap();
        assert_eq!(taken.load(SeqCst), 1_000);
    })
    .await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_wakes_blocked_tasks_on_both_sides() {
    bounded(async {
        // Receivers waiting on an empty channel end with `None`.
        let (tx, rx) = mpsc::channel::<u8>(4);
        let waiting: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                coro::spawn(async move { rx.recv().await })
            })
            .collect();
        for _ in 0..10 {
            coro::yield_now().await; // let them wait (if not, they find it closed: same result)
        }
        tx.close();
        for w in waiting {
            assert_eq!(w.await.unwrap(), None);
        }
        assert_eq!(tx.send(1).await, Err(SendError(1)));

        // Senders blocked on a full channel get their value back; queued messages survive.
        let (tx, rx) = mpsc::channel::<u32>(2);
        tx.send(100).await.unwrap();
        tx.send(101).await.unwrap();
        let blocked: Vec<_> = (0..3)
            .map(|i| {
                let tx = tx.clone();
                coro::spawn(async move { tx.send(i).await })
            })
            .collect();
        for _ in 0..10 {
            coro::yield_now().await;
        }
        rx.close();
        let mut returned = Vec::new();
        for b in blocked {
            match b.await.unwrap() {
                Ok(()) => panic!("a send into a full, closed channel succeeded"),
                Err(SendError(v)) => returned.push(v),
            }
        }
        returned.sort_unstable();
        assert_eq!(returned, [0, 1, 2]);
        assert_eq!(rx.recv().await, Some(100));
        assert_eq!(rx.recv().await, Some(101));
        assert_eq!(rx.recv().await, None);
        assert!(matches!(tx.try_send(9), Err(TrySendError::Closed(9))));

        // Dropping every sender in other tasks ends the receivers' loops.
        let (tx, rx) = mpsc::unbounded::<u32>();
        for i in 0..4 {
            let tx = tx.clone();
            coro::spawn(async move { tx.send(i).await.unwrap() });
        }
        drop(tx);
        let mut all = Vec::new();
        while let Some(v) = rx.recv().await {
            all.push(v);
        }
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3]);
    })
    .await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_5_keeps_at_most_5_of_50_tasks_inside() {
    bounded(async {
        let sem = Arc::new(Semaphore::new(5));
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
                coro::spawn(async move {
                    // Half borrow their permit, half own it: both count the same.
                    let (mut borrowed, mut owned) = (None, None);
                    if i % 2 == 0 {
                        borrowed = Some(sem.acquire().await.unwrap());
                    } else {
                        owned = Some(sem.clone().acquire_owned().await.unwrap());
                    }
                    let now = inside.fetch_add(1, SeqCst) + 1;
                    max.fetch_max(now, SeqCst);
                    for _ in 0..10 {
                        coro::yield_now().await;
                    }
                    inside.fetch_sub(1, SeqCst);
                    drop((borrowed, owned));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let max = max.load(SeqCst);
        assert!((1..=5).contains(&max), "{max} tasks were inside at once");
        assert_eq!(sem.available_permits(), 5);
    })
    .await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_wakes_waiters_on_every_worker() {
    bounded(async {
        let event = Arc::new(Event::new());
        let started = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..20)
            .map(|i| {
                let (event, started) = (event.clone(), started.clone());
                coro::spawn(async move {
                    started.fetch_add(1, SeqCst);
                    event.wait().await;
                    assert!(event.is_set());
                    i
                })
            })
            .collect();
        while started.load(SeqCst) < 20 {
            coro::yield_now().await;
        }
        event.set();
        let mut done = 0;
        for w in waiters {
            done += w.await.unwrap();
        }
        assert_eq!(done, (0..20).sum::<i32>());
        event.clear();
        assert!(!event.is_set());
    })
    .await;
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneshot_answers_and_dropped_senders_across_tasks() {
    bounded(async {
        let mut answers = Vec::new();
        for i in 0..100u32 {
            let (tx, rx) = oneshot::channel();
            coro::spawn(async move {
                if i % 10 == 0 {
                    drop(tx); // never answers
                } else {
                    tx.send(i * 2).unwrap();
                }
            });
            answers.push(rx);
        }
        let mut errors = 0;
        for (i, rx) in answers.into_iter().enumerate() {
            match rx.await {
                Ok(v) => assert_eq!(v, i as u32 * 2),
                Err(oneshot::RecvError) => errors += 1,
            }
        }
        assert_eq!(errors, 10);
    })
    .await;
}
