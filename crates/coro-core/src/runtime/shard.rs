//! The public face of the thread-per-core runtime's shards: which shard am
//! I on ([`current_shard`]), send work to one ([`Handle::shard`],
//! [`ShardHandle`]), run the same code on all ([`Runtime::block_on_each`],
//! [`Handle::spawn_on_each_shard`]). The scheduler itself is
//! `scheduler/thread_per_core.rs`.
//!
//! # Running a `!Send` future on a chosen shard
//!
//! A local task can only be created on the thread that will run it (its
//! header records that thread). [`ShardHandle::spawn_local_with`] therefore
//! sends a *recipe*, a `Send` closure, inside a small `Send` task; on the
//! shard, that task builds the future and spawns it locally, then waits for
//! it. The outer task is what the caller's `JoinHandle` watches:
//!
//! * a panic of the local task is re-raised in the outer one with the same
//!   payload (`resume_unwind`, no second panic message), so the caller sees
//!   `JoinError::is_panic` and `into_panic` as for a direct spawn;
//! * aborting or dropping the outer task aborts the local one (`AbortLocal`);
//! * the local task is only cancelled at shutdown, together with the outer
//!   one, so the outer one never has to report that on its own.

use std::fmt;
use std::future::Future;
use std::panic::resume_unwind;
use std::sync::Arc;

use crate::runtime::{Handle, Runtime, Scheduler};
use crate::scheduler::thread_per_core;
use crate::task::id::Site;
use crate::task::JoinHandle;

/// The index of the shard the calling thread runs, on a thread-per-core
/// runtime (see [`Builder::thread_per_core`](crate::runtime::Builder::thread_per_core));
/// `None` on any other thread (including `Runtime::block_on`'s caller and
/// blocking-pool threads).
///
/// # Examples
///
/// ```
/// use coro_core::runtime::{current_shard, Builder};
///
/// let rt = Builder::new().thread_per_core().worker_threads(2).build().unwrap();
/// assert_eq!(current_shard(), None);
/// let on = rt.block_on(rt.handle().shard(1).spawn(async { current_shard() }));
/// assert_eq!(on.unwrap(), Some(1));
/// ```
pub fn current_shard() -> Option<usize> {
    thread_per_core::current_index()
}

/// One shard of a thread-per-core runtime, to send work to; from
/// [`Handle::shard`]. Cheap to clone, usable from any thread.
///
/// # Examples
///
/// ```
/// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(2).build().unwrap();
/// let shard = rt.handle().shard(1);
/// assert_eq!(shard.index(), 1);
/// let ran_on = rt.block_on(shard.spawn(async { coro_core::runtime::current_shard() }));
/// assert_eq!(ran_on.unwrap(), Some(1));
/// ```
#[derive(Clone)]
pub struct ShardHandle {
    handle: Handle,
    index: usize,
}

impl ShardHandle {
    /// The shard's index, from 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.handle().shard(0).index(), 0);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    fn scheduler(&self) -> &thread_per_core::Shared {
        match &self.handle.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => shared,
            _ => unreachable!("a ShardHandle is only made for a thread-per-core runtime"),
        }
    }

    /// Spawns a `Send` future onto this shard; it runs there for its whole
    /// life, and so do the tasks it spawns with `coro::spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(2).build().unwrap();
    /// let task = rt.handle().shard(0).spawn(async {
    ///     // Spawned from shard 0, so also on shard 0.
    ///     coro_core::spawn(async { coro_core::runtime::current_shard() }).await.unwrap()
    /// });
    /// assert_eq!(rt.block_on(task).unwrap(), Some(0));
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, Site::caller())
    }

    fn spawn_at<F>(&self, future: F, site: Site) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler().spawn_on_shard(self.index, future, site)
    }

    /// Runs `make` on this shard and the future it returns there as a
    /// local task: the future need not be `Send` (it may hold an `Rc`, a
    /// `RefCell`, a `coro::sync` local channel), only `make` and the output
    /// must be. See the module docs for how panics and `abort` carry over.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(2).build().unwrap();
    /// let task = rt.handle().shard(1).spawn_local_with(|| async {
    ///     let counter = Rc::new(std::cell::Cell::new(0));
    ///     let c = counter.clone();
    ///     coro_core::spawn_local(async move { c.set(c.get() + 1) }).await.unwrap();
    ///     counter.get()
    /// });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_local_with<M, Fut>(&self, make: M) -> JoinHandle<Fut::Output>
    where
        M: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let location = std::panic::Location::caller();
        self.spawn_at(
            async move {
                let mut local = AbortLocal(crate::scheduler::current_thread::spawn_local(
                    make(),
                    Site::unnamed(location),
                ));
                match (&mut local.0).await {
                    Ok(output) => output,
                    Err(error) if error.is_panic() => resume_unwind(error.into_panic()),
                    // Cancelled: only at shutdown, which cancels us too.
                    Err(_) => std::future::pending().await,
                }
            },
            Site::unnamed(location),
        )
    }
}

/// Aborts the local task when the task waiting for it goes away.
struct AbortLocal<T>(JoinHandle<T>);

impl<T> Drop for AbortLocal<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl fmt::Debug for ShardHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardHandle")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Handle {
    fn thread_per_core(&self, what: &str) -> &Arc<thread_per_core::Shared> {
        match &self.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => shared,
            _ => panic!(
                "`{what}` needs a thread-per-core runtime, and this one is {self:?}: build it \
                 with `Runtime::builder().thread_per_core()` or \
                 `#[coro::main(flavor = \"thread_per_core\")]`"
            ),
        }
    }

    /// The number of shards of a thread-per-core runtime; 0 for the other
    /// flavors, which have none.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().num_shards(), 3);
    /// let mt = coro_core::Runtime::new().unwrap();
    /// assert_eq!(mt.handle().num_shards(), 0);
    /// ```
    pub fn num_shards(&self) -> usize {
        match &self.inner.scheduler {
            Scheduler::ThreadPerCore(shared) => shared.shards().len(),
            _ => 0,
        }
    }

    /// Shard `index` of this thread-per-core runtime, to send work to.
    ///
    /// # Panics
    ///
    /// If the runtime is not thread-per-core, or `index` is not below
    /// [`num_shards`](Handle::num_shards).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(2).build().unwrap();
    /// let answer = rt.handle().shard(1).spawn(async { 42 });
    /// assert_eq!(rt.block_on(answer).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn shard(&self, index: usize) -> ShardHandle {
        let shards = self.thread_per_core("Handle::shard").shards().len();
        assert!(
            index < shards,
            "shard index {index} out of range: this runtime has {shards} shard(s), numbered \
             from 0 (see `Handle::num_shards`)"
        );
        ShardHandle {
            handle: self.clone(),
            index,
        }
    }

    /// Runs `make(index)` on every shard, as a local task there (see
    /// [`ShardHandle::spawn_local_with`]), and returns their handles in
    /// shard order. Await them all with
    /// [`join_all`](crate::task::join_all).
    ///
    /// # Panics
    ///
    /// If the runtime is not thread-per-core.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::runtime::{current_shard, Builder, Handle};
    ///
    /// let rt = Builder::new().thread_per_core().worker_threads(2).build().unwrap();
    /// let shards = rt.block_on(async {
    ///     let tasks = Handle::current().spawn_on_each_shard(|index| async move {
    ///         assert_eq!(current_shard(), Some(index));
    ///         index * 10
    ///     });
    ///     coro_core::task::join_all(tasks).await
    /// });
    /// let shards: Vec<usize> = shards.into_iter().map(Result::unwrap).collect();
    /// assert_eq!(shards, [0, 10]);
    /// ```
    #[track_caller]
    pub fn spawn_on_each_shard<M, Fut>(&self, make: M) -> Vec<JoinHandle<Fut::Output>>
    where
        M: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let shards = self
            .thread_per_core("Handle::spawn_on_each_shard")
            .shards()
            .len();
        let make = Arc::new(make);
        (0..shards)
            .map(|index| {
                let make = make.clone();
                self.shard(index).spawn_local_with(move || make(index))
            })
            .collect()
    }
}

impl Runtime {
    /// Runs `make(index)` on every shard of this thread-per-core runtime
    /// and blocks until all of them finish; returns their outputs in shard
    /// order. The futures run as local tasks, so they need not be `Send`.
    /// The usual way to start a server with one listener per shard.
    ///
    /// # Panics
    ///
    /// If the runtime is not thread-per-core; if called inside a runtime
    /// (like [`block_on`](Runtime::block_on)); and, with its payload, if
    /// one of the futures panics (after all of them finished).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().thread_per_core().worker_threads(2).build().unwrap();
    /// let names = rt.block_on_each(|index| async move {
    ///     format!("shard {index} on {}", std::thread::current().name().unwrap())
    /// });
    /// assert_eq!(names, ["shard 0 on coro-0", "shard 1 on coro-1"]);
    /// ```
    #[track_caller]
    pub fn block_on_each<M, Fut>(&self, make: M) -> Vec<Fut::Output>
    where
        M: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let tasks = self.handle.spawn_on_each_shard(make);
        let results = self.block_on(crate::task::join_all(tasks));
        let mut outputs = Vec::with_capacity(results.len());
        let mut panic = None;
        for result in results {
            match result {
                Ok(output) => outputs.push(output),
                Err(error) if error.is_panic() => {
                    panic.get_or_insert(error.into_panic());
                }
                Err(_) => unreachable!(
                    "a shard task is only cancelled by shutdown, and the runtime is borrowed"
                ),
            }
        }
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
        outputs
    }
}
