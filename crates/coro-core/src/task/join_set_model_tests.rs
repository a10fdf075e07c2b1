//! Model-based property test of `JoinSet` on a current-thread runtime:
//! random sequences of spawns (tasks that finish at once, or wait behind a
//! gate the test opens later), gate openings, `join_next`, `abort_all` and
//! `len`, checked against a plain model (which task ids are in the set,
//! which of them can have finished). Every task comes out of the set
//! exactly once, with its own output or as cancelled, never while its gate
//! is still shut, and `join_next` waits only when nothing can be ready.

use std::collections::{BTreeMap, BTreeSet};
use std::future::poll_fn;
use std::task::Poll;

use proptest::prelude::*;
use proptest::sample::Index;

use super::JoinSet;
use crate::sync::oneshot;

#[derive(Clone, Debug)]
enum Op {
    SpawnReady,
    SpawnGated,
    Open(Index),
    JoinNext,
    AbortAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::SpawnReady),
        4 => Just(Op::SpawnGated),
        3 => any::<Index>().prop_map(Op::Open),
        4 => Just(Op::JoinNext),
        1 => Just(Op::AbortAll),
    ]
}

/// What the model knows about a task still in the set.
#[derive(Debug, PartialEq)]
enum Task {
    /// Its gate is shut: it cannot finish.
    Gated,
    /// It can finish (finished at spawn, or its gate was opened).
    Runnable,
    /// `abort_all` hit it while gated: it ends cancelled.
    Cancelled,
    /// `abort_all` hit it while runnable: cancelled, or its output if it
    /// finished first (an abort after the end keeps the output).
    Raced,
}

fn run(ops: Vec<Op>) {
    crate::block_on(async move {
        let mut set = JoinSet::new();
        let mut model: BTreeMap<usize, Task> = BTreeMap::new();
        let mut gates: BTreeMap<usize, oneshot::Sender<()>> = BTreeMap::new();
        let mut joined = BTreeSet::new();
        // Cancelled outcomes of `Raced` tasks (which one is unknown).
        let mut raced_cancels = 0;
        for (id, op) in ops.into_iter().enumerate() {
            match op {
                Op::SpawnReady => {
                    set.spawn(async move { id });
                    model.insert(id, Task::Runnable);
                }
                Op::SpawnGated => {
                    let (open, gate) = oneshot::channel::<()>();
                    set.spawn(async move {
                        let _ = gate.await;
                        id
                    });
                    gates.insert(id, open);
                    model.insert(id, Task::Gated);
                }
                Op::Open(index) => {
                    if gates.is_empty() {
                        continue;
                    }
                    let id = *gates.keys().nth(index.index(gates.len())).unwrap();
                    let _ = gates.remove(&id).unwrap().send(());
                    if let Some(task @ Task::Gated) = model.get_mut(&id) {
                        *task = Task::Runnable;
                    }
                }
                Op::AbortAll => {
                    set.abort_all();
                    for task in model.values_mut() {
                        *task = match task {
                            Task::Gated | Task::Cancelled => Task::Cancelled,
                            Task::Runnable | Task::Raced => Task::Raced,
                        };
                    }
                }
                Op::JoinNext => {
                    // Some task can still come out (the `Raced` ones already
                    // counted as cancelled cannot).
                    let can_finish =
                        model.values().filter(|t| **t != Task::Gated).count() > raced_cancels;
                    let next = if can_finish || model.len() == raced_cancels {
                        set.join_next().await
                    } else {
                        // Nothing can finish: one poll must say so (after
                        // letting every runnable task run).
                        crate::task::yield_now().await;
                        let polled = poll_fn(|cx| Poll::Ready(set.poll_join_next(cx))).await;
                        assert!(polled.is_pending(), "a gated task finished: {polled:?}");
                        continue;
                    };
                    let Some(result) = next else {
                        assert_eq!(
                            model.len(),
                            raced_cancels,
                            "join_next ended with tasks left"
                        );
                        continue;
                    };
                    let (got, cancelled) = match result {
                        Ok(got) => (got, false),
                        Err(err) => {
                            assert!(err.is_cancelled(), "{err:?}");
                            (usize::MAX, true)
                        }
                    };
                    if cancelled {
                        // A cancelled task does not say which it was: count
                        // it against the ones allowed to end cancelled.
                        let gated = model.iter().find(|(_, t)| **t == Task::Cancelled);
                        match gated.map(|(&id, _)| id) {
                            Some(id) => {
                                model.remove(&id);
                            }
                            None => raced_cancels += 1,
                        }
                    } else {
                        let task = model.remove(&got).expect("a task came out twice");
                        assert!(
                            matches!(task, Task::Runnable | Task::Raced),
                            "task {got} finished while {task:?}"
                        );
                        assert!(joined.insert(got));
                    }
                    let raced = model.values().filter(|t| **t == Task::Raced).count();
                    assert!(raced_cancels <= raced, "more cancelled than abort_all hit");
                }
            }
            assert_eq!(set.len(), model.len() - raced_cancels);
        }
        // Drain: everything left comes out, once each.
        for open in std::mem::take(&mut gates).into_values() {
            let _ = open.send(());
        }
        let mut left = 0;
        while let Some(result) = set.join_next().await {
            if let Ok(id) = result {
                assert!(model.contains_key(&id) && joined.insert(id));
            }
            left += 1;
        }
        assert_eq!(left, model.len() - raced_cancels);
    });
}

proptest! {
    #![proptest_config(crate::sync::test_util::model_test_config(256))]

    #[test]
    fn join_set_matches_its_model(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 80 })) {
        run(ops);
    }
}
