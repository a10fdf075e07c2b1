//! The blocking pool: threads for code that blocks.
//!
//! `spawn_blocking(f)` wraps `f` in a task (the same harness as any task, so
//! panics, abort-before-start and `JoinHandle` behave identically) and puts
//! its `Runnable` in this pool's queue. Threads are created on demand up to
//! `max_threads`; one that stays idle for `keep_alive` exits, so a burst of
//! blocking calls does not leave hundreds of threads behind.
//!
//! Invariants, all under `state`'s lock:
//! * `idle <= threads <= max_threads`;
//! * `notified <= idle`: a notification is counted so that two pushes never
//!   wake the same idle thread and leave the second task unserved;
//! * after `shutdown`, the queue is empty and stays empty (queued tasks were
//!   cancelled; later pushes are dropped, which cancels them too).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::loom::lock;
use crate::runtime::{context, Handle, HandleInner};
use crate::scheduler::TaskOwner;
use crate::task::harness::{self, Locality, Runnable};
use crate::task::id::Site;
use crate::task::JoinHandle;

thread_local! {
    /// The pool whose thread this is, if any.
    static CURRENT_POOL: std::cell::Cell<*const Shared> = const { std::cell::Cell::new(std::ptr::null()) };
}

pub(crate) struct BlockingPool {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    work_ready: Condvar,
    all_exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
    /// The runtime the pool's threads enter (so `spawn` works in them).
    handle: Weak<HandleInner>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Runnable>,
    threads: usize,
    idle: usize,
    notified: usize,
    shutdown: bool,
    next_id: usize,
    workers: HashMap<usize, std::thread::JoinHandle<()>>,
}

/// Queues `task`, a task of the blocking pool (see
/// [`scheduler::schedule`](crate::scheduler::schedule)).
///
/// Never inlined: inlined into `scheduler::schedule`, the pool's locking
/// and thread spawning gave every wake-up of every task a large stack frame
/// and six saved registers (~25 instructions per wake-up).
#[inline(never)]
pub(crate) fn schedule(task: Runnable) {
    // A pool thread may run and free the task once it is queued, so take
    // our own reference to the pool first.
    let shared: Arc<Shared> = task
        .metadata()
        .owner()
        .to_arc()
        .expect("scheduled on a blocking pool it does not belong to");
    shared.push(task);
}

impl BlockingPool {
    pub(crate) fn new(
        handle: Weak<HandleInner>,
        max_threads: usize,
        thread_name: String,
        keep_alive: Duration,
    ) -> BlockingPool {
        BlockingPool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                work_ready: Condvar::new(),
                all_exited: Condvar::new(),
                max_threads,
                keep_alive,
                thread_name,
                handle,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(&self, f: F, site: Site) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // The closure runs on the first (and only) poll: a blocking task
        // never returns `Pending`, so it needs no registry entry.
        let owner = TaskOwner::new(self.shared.clone());
        // SAFETY: `F` and `R` are `Send`, so the future and output are.
        let (runnable, handle) =
            unsafe { harness::spawn(async move { f() }, Locality::Sendable, owner, site) };
        runnable.schedule();
        handle
    }

    /// Whether a closure runs or waits to run (virtual time does not jump
    /// meanwhile: its result may be what the runtime waits for).
    pub(crate) fn is_busy(&self) -> bool {
        let state = lock(&self.shared.state);
        state.threads > state.idle || !state.queue.is_empty()
    }

    /// Threads of the pool, and how many of them are idle.
    pub(crate) fn thread_counts(&self) -> (usize, usize) {
        let state = lock(&self.shared.state);
        (state.threads, state.idle - state.notified)
    }

    /// Cancels queued tasks and waits for running ones (until `deadline`).
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        let shared = &self.shared;
        let queued = {
            let mut state = lock(&shared.state);
            if state.shutdown {
                return;
            }
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        shared.work_ready.notify_all();
        // Cancels them: their `JoinHandle`s report `is_cancelled()`.
        drop(queued);

        // Dropped from inside one of our own closures: that thread exits on
        // its own once the closure returns; do not wait for it.
        let own = usize::from(CURRENT_POOL.with(|p| std::ptr::eq(p.get(), Arc::as_ptr(shared))));
        let mut state = lock(&shared.state);
        while state.threads > own {
            state = match deadline {
                None => shared
                    .all_exited
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        // Leave the stragglers running detached.
                        return;
                    }
                    shared
                        .all_exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let workers: Vec<_> = state.workers.drain().map(|(_, w)| w).collect();
        drop(state);
        let current = std::thread::current().id();
        for worker in workers {
            if worker.thread().id() != current {
                let _ = worker.join();
            }
        }
    }
}

impl Shared {
    fn push(self: &Arc<Self>, task: Runnable) {
        let mut state = lock(&self.state);
        if state.shutdown {
            drop(state);
            drop(task);
            return;
        }
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.work_ready.notify_one();
        } else if state.threads < self.max_threads {
            let id = state.next_id;
            state.next_id += 1;
            state.threads += 1;
            match self.spawn_thread(id) {
                Ok(thread) => {
                    state.workers.insert(id, thread);
                }
                Err(err) => {
                    // The task stays queued; a running thread will take it.
                    // With none running it would wait forever, so fail it
                    // loudly instead.
                    state.threads -= 1;
                    if state.threads == 0 {
                        let task = state.queue.pop_back();
                        drop(state);
                        drop(task);
                        eprintln!("coro: failed to spawn a blocking thread: {err}");
                    }
                }
            }
        }
        // Otherwise the pool is at its cap: a thread will pick the task up
        // when it finishes its current one.
    }

    /// The last busy thread is going idle: a driver waiting for the whole
    /// runtime to be idle (a paused clock) must look again, since it
    /// skipped its jump while this thread worked.
    fn pool_went_idle(&self) {
        if let Some(inner) = self.handle.upgrade() {
            if inner.park_hook.wants_idle() {
                inner.park_hook.unpark();
            }
        }
    }

    fn spawn_thread(self: &Arc<Self>, id: usize) -> io::Result<std::thread::JoinHandle<()>> {
        let shared = self.clone();
        std::thread::Builder::new()
            .name(format!("{}-blocking", self.thread_name))
            .spawn(move || shared.run(id))
    }

    fn run(&self, id: usize) {
        CURRENT_POOL.with(|p| p.set(self));
        // Enter the runtime (not as a driver: `block_on` is allowed here).
        let _context = self
            .handle
            .upgrade()
            .map(|inner| context::set_current(&Handle { inner }));
        let mut state = lock(&self.state);
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                crate::task::stats::refresh_clock();
                task.run();
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            if state.idle == state.threads {
                self.pool_went_idle();
            }
            let (guard, timeout) = self
                .work_ready
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = guard;
            if state.notified > 0 {
                state.notified -= 1;
                state.idle -= 1;
                continue;
            }
            state.idle -= 1;
            if state.shutdown {
                break;
            }
            if timeout.timed_out() && state.queue.is_empty() {
                // Idle too long: exit, detaching our own join handle.
                state.workers.remove(&id);
                break;
            }
        }
        state.threads -= 1;
        // Every exit: a `shutdown` called from a pool thread waits for one.
        self.all_exited.notify_all();
    }
}
