//! `coro::time`: sleep order, timeouts, intervals, cancellation, and timers
//! outside a coro runtime. Durations are only ever lower bounds or hang
//! guards; the order of events is what the tests check.

mod common;
use common::*;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use coro::time::{interval, interval_at, sleep, sleep_until, timeout, Instant, MissedTickBehavior};

/// Fails the test instead of hanging it: runs `f` on a thread and waits at
/// most a minute for it.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the test hung: a timer never fired")
}

/// Spawns 100 sleepers with deadlines 2 ms apart, in a scrambled order;
/// returns `(slot, deadline, woke_at)` in the order the tasks resumed.
fn sleepers_in_resume_order(rt: coro::Runtime) -> Vec<(u64, Instant, Instant)> {
    within_a_minute(move || {
        rt.block_on(async {
            let resumed = Arc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            let tasks: Vec<_> = (0..100u64)
                .map(|i| (i * 37) % 100)
                .map(|slot| {
                    let resumed = resumed.clone();
                    coro::spawn(async move {
                        let deadline = start + Duration::from_millis(2 * slot);
                        sleep_until(deadline).await;
                        let woke_at = Instant::now();
                        resumed.lock().unwrap().push((slot, deadline, woke_at));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            Arc::try_unwrap(resumed).unwrap().into_inner().unwrap()
        })
    })
}

#[test]
fn timers_fire_in_deadline_order() {
    // One thread runs the woken tasks in the order the wheel fired them.
    let order: Vec<u64> = sleepers_in_resume_order(build("current_thread", |_| {}))
        .into_iter()
        .map(|(slot, _, _)| slot)
        .collect();
    assert_eq!(order, (0..100).collect::<Vec<u64>>());
}

#[test]
fn on_many_workers_every_timer_fires_and_none_early() {
    // Two workers may run two timers' tasks at once, so the order in which
    // the tasks resume is not the firing order; the deadlines still hold.
    let resumed = sleepers_in_resume_order(build("multi_thread", |_| {}));
    assert_eq!(resumed.len(), 100);
    for (slot, deadline, woke_at) in resumed {
        assert!(woke_at >= deadline, "timer {slot} fired early");
    }
}

#[test]
fn a_sleep_never_ends_early() {
    for (flavor, rt) in flavors() {
        rt.block_on(async {
            for ms in [1u64, 3, 7, 15] {
                let start = Instant::now();
                sleep(Duration::from_millis(ms)).await;
                assert!(start.elapsed() >= Duration::from_millis(ms), "{flavor}");
            }
        });
    }
}

#[test]
fn timeout_drops_the_inner_future_when_time_runs_out() {
    for (flavor, rt) in flavors() {
        let drops = Drops::default();
        let guard = drops.guard();
        let result = rt.block_on(timeout(Duration::from_millis(5), async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        assert!(result.is_err(), "{flavor}");
        assert_eq!(
            drops.count(),
            1,
            "{flavor}: the timed-out future was not dropped"
        );
    }
}

#[test]
fn a_ready_future_beats_a_zero_timeout() {
    coro::block_on(async {
        assert_eq!(timeout(Duration::ZERO, async { 7 }).await, Ok(7));
        let elapsed = timeout(Duration::ZERO, std::future::pending::<()>()).await;
        assert_eq!(elapsed.unwrap_err().to_string(), "deadline has elapsed");
    });
}

#[test]
fn timeout_fires_even_when_the_inner_future_exhausts_the_budget() {
    /// Ready to be polled again at once, forever: a busy loop that yields.
    struct Busy;
    impl Future for Busy {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    within_a_minute(|| {
        coro::block_on(async {
            assert!(timeout(Duration::from_millis(5), Busy).await.is_err());
        })
    });
}

#[test]
fn interval_ticks_on_schedule() {
    coro::block_on(async {
        let period = Duration::from_millis(3);
        let start = Instant::now();
        let mut ticks = interval(period);
        let first = ticks.tick().await;
        assert!(
            first <= Instant::now() && first >= start,
            "first tick is immediate"
        );
        let mut last = first;
        for n in 1..5u32 {
            let at = ticks.tick().await;
            assert_eq!(at, first + period * n, "ticks are scheduled a period apart");
            assert!(Instant::now() >= at);
            last = at;
        }
        assert!(last - first == period * 4);
    });
}

#[test]
fn interval_is_a_stream() {
    use futures_lite::StreamExt;
    coro::block_on(async {
        let start = Instant::now() + Duration::from_millis(1);
        let ticks: Vec<Instant> = interval_at(start, Duration::from_millis(2))
            .take(3)
            .collect()
            .await;
        assert_eq!(ticks.len(), 3);
        assert_eq!(ticks[0], start);
        assert!(ticks
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::from_millis(2)));
    });
}

#[test]
fn missed_ticks_burst_delay_or_skip() {
    coro::block_on(async {
        let period = Duration::from_millis(2);
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let mut ticks = interval(period);
            ticks.set_missed_tick_behavior(behavior);
            let first = ticks.tick().await;
            // Be late by about five periods.
            thread::sleep(period * 5);
            let late = ticks.tick().await;
            assert_eq!(
                late,
                first + period,
                "{behavior:?}: the missed tick fires late"
            );
            let next = ticks.tick().await;
            match behavior {
                MissedTickBehavior::Burst => assert_eq!(next, first + period * 2),
                MissedTickBehavior::Delay => assert!(next >= first + period * 6),
                MissedTickBehavior::Skip => {
                    assert!(next >= first + period * 5);
                    assert_eq!((next - first).as_nanos() % period.as_nanos(), 0);
                }
            }
        }
    });
}

#[test]
#[should_panic(expected = "non-zero period")]
fn interval_of_zero_panics_clearly() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn sleep_far_in_the_future_does_not_overflow() {
    coro::block_on(async {
        let mut forever = sleep(Duration::MAX);
        assert!(!forever.is_elapsed());
        forever.reset(Instant::now());
        forever.await;
    });
}

/// Issue 16, defect 1: `interval(Duration::MAX)` panicked on its first
/// tick ("overflow when adding duration to instant"). Every missed-tick
/// behaviour and `reset` must saturate to "never", like `sleep`.
#[test]
fn interval_of_duration_max_ticks_once_then_never() {
    use std::task::Waker;
    let behaviors = [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ];
    for behavior in behaviors {
        coro::block_on(async {
            let start = Instant::now();
            let mut never = interval(Duration::MAX);
            never.set_missed_tick_behavior(behavior);
            assert!(never.tick().await >= start, "{behavior:?}: first tick");
            let mut cx = Context::from_waker(Waker::noop());
            assert!(never.poll_tick(&mut cx).is_pending(), "{behavior:?}");
            let second = timeout(Duration::from_millis(20), never.tick()).await;
            assert!(second.is_err(), "{behavior:?}: the second tick never comes");
            never.reset();
            assert!(
                never.poll_tick(&mut cx).is_pending(),
                "{behavior:?}: after reset"
            );
        });
    }
    // A start far in the past with a huge period: Skip's catch-up
    // arithmetic must not overflow either.
    coro::block_on(async {
        let long_ago = Instant::now() - Duration::from_millis(50);
        let mut skipping = interval_at(long_ago, Duration::from_secs(u64::MAX / 2));
        skipping.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(skipping.tick().await, long_ago);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(skipping.poll_tick(&mut cx).is_pending());
    });
}

#[test]
fn reset_moves_a_pending_sleep_earlier() {
    for (flavor, rt) in flavors() {
        within_a_minute(move || {
            rt.block_on(async {
                let mut nap = sleep(Duration::from_secs(3600));
                let polled = futures_lite::future::poll_once(&mut nap).await;
                assert!(polled.is_none(), "{flavor}");
                nap.reset(Instant::now() + Duration::from_millis(2));
                nap.await;
            })
        });
    }
}

/// A worker asleep in `epoll_wait` until a far deadline must be woken when
/// a thread that is not a worker inserts an earlier timer.
#[test]
fn an_earlier_timer_wakes_a_worker_sleeping_on_a_later_one() {
    within_a_minute(|| {
        let rt = build("multi_thread", |b| {
            b.worker_threads(1);
        });
        rt.spawn(sleep(Duration::from_secs(3600)));
        // Let the worker go to sleep on the one-hour deadline.
        thread::sleep(Duration::from_millis(20));
        // `block_on` of a multi-thread runtime polls on this thread, which is
        // not a worker: the timer goes into the wheel from outside.
        rt.block_on(sleep(Duration::from_millis(5)));
    });
}

#[test]
fn many_sleepers_all_wake() {
    for (flavor, rt) in flavors() {
        let woke = Arc::new(AtomicUsize::new(0));
        let counted = woke.clone();
        within_a_minute(move || {
            rt.block_on(async move {
                let mut set = coro::task::JoinSet::new();
                for i in 0..10_000u64 {
                    let woke = counted.clone();
                    set.spawn(async move {
                        sleep(Duration::from_millis(i % 20)).await;
                        woke.fetch_add(1, SeqCst);
                    });
                }
                while set.join_next().await.is_some() {}
            })
        });
        assert_eq!(woke.load(SeqCst), 10_000, "{flavor}");
    }
}

#[test]
fn dropping_a_runtime_with_pending_sleeps_returns_and_drops_them() {
    for flavor in FLAVORS {
        let drops = Drops::default();
        let counted = drops.clone();
        within_a_minute(move || {
            let rt = build(flavor, |_| {});
            rt.block_on(async {
                for _ in 0..10_000 {
                    let guard = counted.guard();
                    coro::spawn(async move {
                        let _guard = guard;
                        sleep(Duration::from_secs(3600)).await;
                    });
                }
                coro::yield_now().await;
            });
            drop(rt);
        });
        assert_eq!(drops.count(), 10_000, "{flavor}");
    }
}

#[test]
fn a_sleep_outlives_its_runtime_on_the_fallback_reactor() {
    let rt = build("current_thread", |_| {});
    let mut nap = sleep(Duration::from_millis(5));
    let deadline = nap.deadline();
    // Registered with the runtime's reactor...
    rt.block_on(async { assert!(futures_lite::future::poll_once(&mut nap).await.is_none()) });
    // ...which goes away: the sleep moves to the fallback reactor.
    drop(rt);
    within_a_minute(move || futures::executor::block_on(nap));
    assert!(Instant::now() >= deadline);
}

#[test]
fn sleep_works_under_other_executors() {
    within_a_minute(|| {
        let start = Instant::now();
        futures::executor::block_on(sleep(Duration::from_millis(3)));
        assert!(start.elapsed() >= Duration::from_millis(3));

        let tokio_rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let start = Instant::now();
        let out = tokio_rt.block_on(timeout(Duration::from_secs(30), async {
            sleep(Duration::from_millis(3)).await;
            "slept"
        }));
        assert_eq!(out, Ok("slept"));
        assert!(start.elapsed() >= Duration::from_millis(3));
    });
}
