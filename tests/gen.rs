//! Integration tests of `coro::gen` through the facade: the producer/consumer lesson (the
//! generator version of Python's `send` coroutine), round robin of generators, and async
//! generators fed by I/O-like waits on the multi-thread runtime.

use std::collections::VecDeque;
use std::time::Duration;

use coro::gen::{AsyncGen, Co, Gen, GenState, SendAsyncGen};

/// The lesson's consumer: yields a reply, is sent `Some(product)`, or `None` to stop.
fn consumer(log: std::rc::Rc<std::cell::RefCell<Vec<String>>>) -> Gen<&'static str, Option<u32>> {
    Gen::new(move |co: Co<&'static str, Option<u32>>| async move {
        let mut reply = "";
        loop {
            let Some(n) = co.yield_(reply).await else {
                return;
            };
            log.borrow_mut()
                .push(format!("[CONSUMER] Consuming {n}..."));
            reply = "200 OK";
        }
    })
}

#[test]
fn producer_consumer_lesson_output() {
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut c = consumer(log.clone());
    assert_eq!(c.resume(None), GenState::Yielded("")); // Python's c.send(None)
    for n in 1..=5 {
        log.borrow_mut()
            .push(format!("[PRODUCER] Producing {n}..."));
        let GenState::Yielded(r) = c.resume(Some(n)) else {
            panic!("the consumer stopped early");
        };
        log.borrow_mut()
            .push(format!("[PRODUCER] Consumer return: {r}"));
    }
    c.close();

    let expected: Vec<String> = (1..=5)
        .flat_map(|n| {
            [
                format!("[PRODUCER] Producing {n}..."),
                format!("[CONSUMER] Consuming {n}..."),
                "[PRODUCER] Consumer return: 200 OK".to_string(),
            ]
        })
        .collect();
    assert_eq!(*log.borrow(), expected);

    // Sending `None` ends the consumer: Python's `return` in the generator.
    let mut c = consumer(log);
    c.resume(None);
    assert_eq!(c.resume(None), GenState::Complete(()));
    assert!(c.is_complete());
}

#[test]
fn round_robin_of_two_generators() {
    fn task(name: &'static str, steps: u32) -> Gen<String> {
        Gen::new(move |co: Co<String>| async move {
            for i in 1..=steps {
                co.yield_(format!("{name} {i}")).await;
            }
        })
    }
    let mut ready = VecDeque::from([task("task1", 3), task("task2", 3)]);
    let mut log = Vec::new();
    while let Some(mut gen) = ready.pop_front() {
        if let Some(line) = gen.next() {
            log.push(line);
            ready.push_back(gen);
        }
    }
    assert_eq!(
        log,
        ["task1 1", "task2 1", "task1 2", "task2 2", "task1 3", "task2 3"]
    );
}

#[test]
fn the_design_doc_form_infers_its_types() {
    // `Gen::new(|co| async move { let n = co.yield_(r).await; ... })`, no annotations.
    let mut doubler = Gen::new(|co| async move {
        let mut r = 0u64;
        loop {
            let n: u64 = co.yield_(r).await;
            if n == 0 {
                break "bye";
            }
            r = n * 2;
        }
    });
    assert_eq!(doubler.resume(99), GenState::Yielded(0));
    assert_eq!(doubler.resume(21), GenState::Yielded(42));
    assert_eq!(doubler.resume(0), GenState::Complete("bye"));
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_generators_with_timers_and_channels_in_spawned_tasks() {
    let run = async {
        let (tx, rx) = coro::sync::mpsc::channel::<u32>(0);
        let numbers: SendAsyncGen<u32, &'static str> =
            AsyncGen::new_send(|co: Co<u32>| async move {
                while let Some(n) = rx.recv().await {
                    coro::time::sleep(Duration::from_millis(1)).await;
                    co.yield_(n * 10).await;
                }
                "drained"
            });
        let consumer = coro::spawn(async move {
            let mut numbers = numbers;
            let mut got = Vec::new();
            loop {
                match numbers.resume().await {
                    GenState::Yielded(n) => got.push(n),
                    GenState::Complete(end) => return (got, end),
                }
            }
        });
        for n in 1..=5 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        consumer.await.unwrap()
    };
    let (got, end) = coro::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the generator test hung");
    assert_eq!(got, [10, 20, 30, 40, 50]);
    assert_eq!(end, "drained");
}
