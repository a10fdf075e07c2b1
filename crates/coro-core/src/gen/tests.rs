use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;

use futures_util::StreamExt;

use super::*;
use crate::sync::test_util::{poll_once, Drops};

/// Python's running-average coroutine: `send` a number, get the average.
fn averager() -> Gen<f64, f64, u32> {
    Gen::new(|co: Co<f64, f64>| async move {
        let (mut total, mut count) = (0.0, 0);
        let mut average = f64::NAN;
        loop {
            let term = co.yield_(average).await;
            if term < 0.0 {
                return count; // a negative term ends it
            }
            total += term;
            count += 1;
            average = total / f64::from(count);
        }
    })
}

#[test]
fn send_next_and_return_value() {
    let mut avg = averager();
    assert!(matches!(avg.resume(123.0), GenState::Yielded(a) if a.is_nan()));
    assert_eq!(avg.resume(10.0), GenState::Yielded(10.0));
    assert_eq!(avg.resume(30.0), GenState::Yielded(20.0));
    assert_eq!(avg.resume(5.0), GenState::Yielded(15.0));
    assert!(!avg.is_complete());
    assert_eq!(avg.resume(-1.0), GenState::Complete(3));
    assert!(avg.is_complete());
    assert_eq!(
        format!("{avg:?}"),
        "Gen { started: true, complete: true, .. }"
    );
}

#[test]
fn the_first_resume_value_is_dropped_and_nothing_runs_before_it() {
    let drops = Drops::default();
    let ran = Rc::new(RefCell::new(Vec::new()));
    let mut gen = Gen::new({
        let ran = ran.clone();
        |co: Co<(), crate::sync::test_util::Tracked<u32>>| async move {
            ran.borrow_mut().push("started");
            let got = co.yield_(()).await;
            ran.borrow_mut().push("resumed");
            got.value
        }
    });
    assert!(ran.borrow().is_empty(), "lazy until the first resume");
    assert_eq!(gen.resume(drops.track(1)), GenState::Yielded(()));
    assert_eq!(drops.count(), 1, "the first value is dropped");
    assert_eq!(gen.resume(drops.track(2)), GenState::Complete(2));
    assert_eq!(*ran.borrow(), ["started", "resumed"]);
}

#[test]
#[should_panic(expected = "resumed a generator that already completed")]
fn resuming_a_completed_generator_panics() {
    let mut gen = Gen::new(|_: Co<()>| async {});
    assert_eq!(gen.resume(()), GenState::Complete(()));
    gen.resume(());
}

#[test]
fn close_and_drop_run_the_body_destructors() {
    let drops = Drops::default();
    let make = || {
        let drops = drops.clone();
        Gen::new(move |co: Co<u32>| async move {
            let _guard = drops.track("finally");
            let mut i = 0;
            loop {
                co.yield_(i).await;
                i += 1;
            }
        })
    };
    let mut gen = make();
    assert_eq!(gen.resume(()), GenState::Yielded(0));
    assert_eq!(gen.resume(()), GenState::Yielded(1));
    assert_eq!(drops.count(), 0);
    gen.close();
    assert_eq!(drops.count(), 1);

    let mut gen = make();
    gen.resume(());
    drop(gen);
    assert_eq!(drops.count(), 2);

    drop(make()); // never started: the guard was never made
    assert_eq!(drops.count(), 2);

    // A completed body is freed at once, before the generator is dropped.
    let mut gen = Gen::new({
        let drops = drops.clone();
        move |co: Co<()>| async move {
            let _guard = drops.track(());
            co.yield_(()).await;
        }
    });
    gen.resume(());
    assert_eq!(gen.resume(()), GenState::Complete(()));
    assert_eq!(drops.count(), 3);
}

#[test]
fn iterator_stops_at_completion_and_stays_stopped() {
    let mut fib = Gen::new(|co: Co<u64>| async move {
        let (mut a, mut b) = (0, 1);
        while a < 20 {
            co.yield_(a).await;
            (a, b) = (b, a + b);
        }
        "discarded"
    });
    assert_eq!(fib.by_ref().collect::<Vec<_>>(), [0, 1, 1, 2, 3, 5, 8, 13]);
    assert_eq!(fib.next(), None);
    assert_eq!(fib.next(), None);
}

#[test]
fn round_robin_of_two_generators() {
    let worker = |name: &'static str, steps: u32| {
        Gen::new(move |co: Co<String>| async move {
            for i in 1..=steps {
                co.yield_(format!("{name}{i}")).await;
            }
        })
    };
    let mut queue = std::collections::VecDeque::from([worker("a", 3), worker("b", 1)]);
    let mut log = Vec::new();
    while let Some(mut gen) = queue.pop_front() {
        if let Some(line) = gen.next() {
            log.push(line);
            queue.push_back(gen);
        }
    }
    assert_eq!(log, ["a1", "b1", "a2", "a3"]);
}

#[test]
#[should_panic(expected = "a `Gen` body awaited something other than `co.yield_()`")]
fn a_body_that_awaits_something_else_panics_instead_of_hanging() {
    let mut gen = Gen::new(|co: Co<u32>| async move {
        co.yield_(1).await;
        crate::task::yield_now().await; // never ready on the first poll
        co.yield_(2).await;
    });
    assert_eq!(gen.resume(()), GenState::Yielded(1));
    gen.resume(());
}

#[test]
fn awaiting_something_that_is_ready_at_once_is_fine() {
    let mut gen = Gen::new(|co: Co<u32>| async move {
        let n = std::future::ready(7).await;
        co.yield_(n).await;
    });
    assert_eq!(gen.next(), Some(7));
}

#[test]
#[should_panic(expected = "awaited outside its generator")]
fn a_co_used_after_its_generator_is_gone_panics() {
    let escaped: Rc<RefCell<Option<Co<u32>>>> = Rc::default();
    let mut gen = Gen::new({
        let escaped = escaped.clone();
        |co: Co<u32>| async move {
            *escaped.borrow_mut() = Some(co);
        }
    });
    assert_eq!(gen.resume(()), GenState::Complete(()));
    drop(gen);
    let co = escaped.borrow_mut().take().unwrap();
    let _ = poll_once(&mut co.yield_(1));
}

#[test]
#[should_panic(expected = "while another `yield_` of the same generator")]
fn two_yields_in_flight_panic() {
    let mut gen = Gen::new(|co: Co<u32>| async move {
        futures_util::future::join(co.yield_(1), co.yield_(2)).await;
    });
    gen.resume(());
}

#[test]
#[should_panic(expected = "boom")]
fn a_panicking_body_propagates() {
    let mut gen = Gen::new(|co: Co<u32>| async move {
        co.yield_(1).await;
        panic!("boom");
    });
    gen.resume(());
    gen.resume(());
}

#[test]
fn send_generators_cross_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let gen: SendGen<String, u32, usize> = Gen::new_send(|co: Co<String, u32>| async move {
        let n = co.yield_(String::from("go")).await;
        n as usize
    });
    assert_send(&gen);
    let handle = std::thread::spawn(move || {
        let mut gen = gen;
        (gen.resume(0), gen.resume(9))
    });
    let (first, last) = handle.join().unwrap();
    assert_eq!(first, GenState::Yielded("go".to_string()));
    assert_eq!(last, GenState::Complete(9));
}

#[test]
fn async_gen_is_a_stream_with_awaits_between_yields() {
    let drops = Drops::default();
    let values = crate::block_on({
        let drops = drops.clone();
        async move {
            let gen = AsyncGen::new(move |co: Co<u32>| async move {
                let _guard = drops.track(());
                for i in 0..4 {
                    crate::task::yield_now().await;
                    co.yield_(i).await;
                    crate::task::yield_now().await;
                }
            });
            gen.collect::<Vec<_>>().await
        }
    });
    assert_eq!(values, [0, 1, 2, 3]);
    assert_eq!(drops.count(), 1);
}

#[test]
fn async_gen_resume_gives_the_return_value_and_wakes_on_io() {
    let (state, next) = crate::block_on(async {
        let (tx, rx) = crate::sync::mpsc::channel::<u32>(0);
        let mut gen = AsyncGen::new(move |co: Co<u32>| async move {
            let mut sum = 0;
            while let Some(n) = rx.recv().await {
                sum += n;
                co.yield_(sum).await;
            }
            format!("sum {sum}")
        });
        crate::spawn(async move {
            for n in [1, 2, 3] {
                tx.send(n).await.unwrap();
            }
        });
        let mut seen = Vec::new();
        let state = loop {
            match gen.resume().await {
                GenState::Yielded(sum) => seen.push(sum),
                GenState::Complete(text) => break (seen, text),
            }
        };
        (state, gen.next().await)
    });
    assert_eq!(state, (vec![1, 3, 6], "sum 6".to_string()));
    assert_eq!(next, None, "a completed stream stays ended");
}

#[test]
fn a_cancelled_async_resume_continues_where_it_was() {
    let mut gen = AsyncGen::new(|co: Co<&str>| async move {
        crate::task::yield_now().await;
        co.yield_("after the await").await;
    });
    {
        let mut first = Box::pin(gen.next());
        assert_eq!(poll_once(&mut first), Poll::Pending); // in `yield_now`
    }
    assert!(!futures_util::stream::FusedStream::is_terminated(&gen));
    assert_eq!(crate::block_on(gen.next()), Some("after the await"));
    assert_eq!(crate::block_on(gen.next()), None);
    assert!(gen.is_complete());
}

#[test]
fn send_async_gen_in_a_spawned_task() {
    let total = crate::block_on(async {
        crate::spawn(async {
            let mut gen: SendAsyncGen<u32> = AsyncGen::new_send(|co: Co<u32>| async move {
                for i in 1..=4 {
                    co.yield_(i).await;
                    crate::task::yield_now().await;
                }
            });
            let mut total = 0;
            while let Some(i) = gen.next().await {
                total += i;
            }
            total
        })
        .await
        .unwrap()
    });
    assert_eq!(total, 10);
}
