use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

use super::*;
use crate::sync::test_util::{poll_once, poll_with, CountWaker};

#[test]
fn permits_are_taken_and_given_back() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(sem.available_permits(), 0);
    drop(a);
    assert_eq!(sem.available_permits(), 1);
    b.forget();
    assert_eq!(sem.available_permits(), 1);
    sem.add_permits(4);
    let many = sem.try_acquire_many(5).unwrap();
    assert_eq!(many.num_permits(), 5);
    drop(many);
    assert_eq!(sem.available_permits(), 5);
    assert!(sem.try_acquire_many(0).is_ok());
}

#[test]
fn waiters_are_served_in_order_and_a_big_request_is_not_starved() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let (wakes, waker) = CountWaker::new();
    let mut big = sem.acquire_many(2);
    let mut small = sem.acquire();
    assert!(poll_with(&mut big, &waker).is_pending());
    assert!(poll_with(&mut small, &waker).is_pending());
    sem.add_permits(1); // one free: `big` needs two, `small` waits behind it
    assert_eq!(wakes.count(), 0);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(held); // two free: `big` first
    assert_eq!(wakes.count(), 1);
    let Poll::Ready(Ok(big_permit)) = poll_once(&mut big) else {
        panic!("big request not granted")
    };
    assert!(poll_once(&mut small).is_pending());
    drop(big_permit);
    assert!(matches!(poll_once(&mut small), Poll::Ready(Ok(_))));
}

#[test]
fn a_dropped_waiter_returns_its_grant_and_unblocks_the_queue() {
    let sem = Semaphore::new(0);
    let mut first = sem.acquire_many(2);
    let mut second = sem.acquire();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    sem.add_permits(1);
    drop(first); // it blocked `second`, which fits now
    let Poll::Ready(Ok(permit)) = poll_once(&mut second) else {
        panic!("`second` not granted")
    };

    let mut granted = sem.acquire();
    let mut next = sem.acquire();
    assert!(poll_once(&mut granted).is_pending());
    assert!(poll_once(&mut next).is_pending());
    drop(permit); // granted to `granted`
    assert_eq!(sem.available_permits(), 0);
    drop(granted); // never polled again: its permit goes to `next`
    assert!(matches!(poll_once(&mut next), Poll::Ready(Ok(_))));
}

#[test]
fn close_fails_pending_and_later_acquires_but_not_held_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let (wakes, waker) = CountWaker::new();
    let mut pending = sem.acquire();
    assert!(poll_with(&mut pending, &waker).is_pending());
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(wakes.count(), 1);
    assert!(matches!(
        poll_once(&mut pending),
        Poll::Ready(Err(AcquireError(())))
    ));
    assert!(matches!(poll_once(&mut sem.acquire()), Poll::Ready(Err(_))));
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert!(format!("{sem:?}").contains("closed: true"));
}

#[test]
fn owned_permits_move_into_tasks() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = sem.clone().try_acquire_owned().unwrap();
    assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    assert!(sem.clone().try_acquire_owned().is_err());
    crate::block_on(async {
        let waiter = crate::spawn({
            let sem = sem.clone();
            async move { sem.acquire_many_owned(1).await.unwrap().num_permits() }
        });
        crate::task::yield_now().await;
        drop(permit);
        assert_eq!(waiter.await.unwrap(), 1);
    });
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn limits_concurrency_across_tasks() {
    const TASKS: usize = if cfg!(miri) { 10 } else { 50 };
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    crate::block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
                crate::spawn(async move {
                    let _permit = sem.acquire().await.unwrap();
                    let now = inside.fetch_add(1, SeqCst) + 1;
                    max.fetch_max(now, SeqCst);
                    crate::task::yield_now().await;
                    inside.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(max.load(SeqCst), 3);
    assert_eq!(sem.available_permits(), 3);
}
