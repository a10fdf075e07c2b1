use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::task::{JoinError, JoinHandle};

/// A collection of spawned tasks, joined in the order they finish.
///
/// Use it to run many tasks and handle each result as soon as it is ready.
/// Dropping a `JoinSet` aborts every task still in it (unlike a single
/// [`JoinHandle`], which detaches). gevent's `joinall(jobs, timeout=2)` is a
/// loop over [`join_next`](JoinSet::join_next) under a timeout.
///
/// # Examples
///
/// ```
/// use coro_core::task::JoinSet;
///
/// coro_core::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10 {
///         set.spawn(async move { i * 2 });
///     }
///     let mut sum = 0;
///     while let Some(result) = set.join_next().await {
///         sum += result.unwrap();
///     }
///     assert_eq!(sum, 90);
/// });
/// ```
pub struct JoinSet<T> {
    // `FuturesUnordered` gives each handle its own waker, so a completion
    // costs O(1) to find, not a scan of the whole set.
    tasks: FuturesUnordered<JoinHandle<T>>,
}

impl<T> JoinSet<T> {
    /// Creates an empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = coro_core::task::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// Number of tasks in the set (running, or finished but not yet joined).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Returns `true` if the set holds no tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(coro_core::task::JoinSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Adds an already spawned task to the set.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.insert(coro_core::spawn(async { 7 }));
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
    /// });
    /// ```
    pub fn insert(&mut self, handle: JoinHandle<T>) {
        self.tasks.push(handle);
    }

    /// Waits for the next task to finish and returns its result, or `None`
    /// if the set is empty. Cancel-safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.spawn(async { "done" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "done");
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task; the building block of
    /// [`join_next`](JoinSet::join_next) for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     let next = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(next.unwrap().unwrap(), 1);
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.tasks.poll_next_unpin(cx)
    }

    /// Aborts every task in the set. The tasks stay in the set until
    /// [`join_next`](JoinSet::join_next) collects them (as cancelled, or
    /// with their output if they had already finished).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     assert_eq!(set.len(), 3);
    ///     while let Some(result) = set.join_next().await {
    ///         assert!(result.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for handle in self.tasks.iter() {
            handle.abort();
        }
    }

    /// Aborts every task and waits until all of them have stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns a task on the current runtime and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, like [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let mut set = coro_core::task::JoinSet::new();
    ///     set.spawn(async { 5 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 5);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future));
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T> futures_util::Stream for JoinSet<T> {
    type Item = Result<T, JoinError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_join_next(cx)
    }
}

/// Awaits every future and returns their outputs in input order.
///
/// On [`JoinHandle`]s this is gevent's `joinall`: the result is a
/// `Vec<Result<T, JoinError>>`, one per task, in the order given.
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let handles: Vec<_> = (0..4).map(|i| coro_core::spawn(async move { i })).collect();
///     let results = coro_core::task::join_all(handles).await;
///     let values: Vec<_> = results.into_iter().map(Result::unwrap).collect();
///     assert_eq!(values, [0, 1, 2, 3]);
/// });
/// ```
pub async fn join_all<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    futures_util::future::join_all(futures).await
}
