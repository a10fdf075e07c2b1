use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use async_task::{FallibleTask, Task};

use crate::coop;
use crate::task::harness::TaskMeta;
use crate::task::JoinError;

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was cancelled. Dropping a `JoinHandle` *detaches* the task: it keeps
/// running to completion in the background, like a spawned greenlet in
/// gevent. To stop it, call [`abort`](JoinHandle::abort).
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let handle = coro_core::spawn(async { 1 + 2 });
///     assert_eq!(handle.await.unwrap(), 3);
/// });
/// ```
pub struct JoinHandle<T> {
    task: Option<FallibleTask<Result<T, JoinError>, TaskMeta>>,
    /// Points into the task allocation, which `task` keeps alive.
    meta: NonNull<TaskMeta>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out of the task (so `T: Send` suffices to
// send it), and `meta` points to `Sync` atomics kept alive by `task`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort` and `is_finished`, which touch
// atomics; `T` is never reachable through a shared reference.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Task<Result<T, JoinError>, TaskMeta>) -> JoinHandle<T> {
        let meta = NonNull::from(task.metadata());
        JoinHandle {
            task: Some(task.fallible()),
            meta,
            _output: PhantomData,
        }
    }

    /// Cancels the task. Its future is dropped at its next chance to run (at
    /// once if it is idle), and awaiting this handle yields a cancelled
    /// [`JoinError`]. If the task already finished, its output is kept and
    /// awaiting the handle still returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let handle = coro_core::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        // SAFETY: `meta` lives as long as the task allocation, which
        // `self.task` keeps alive.
        unsafe { self.meta.as_ref() }.abort();
    }

    /// The task's [`Id`](crate::task::Id), the same one
    /// [`task::id()`](fn@crate::task::id) returns inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let task = coro_core::spawn(async { coro_core::task::id() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> crate::task::Id {
        // SAFETY: as in `abort`.
        unsafe { self.meta.as_ref() }.id()
    }

    /// The task's header, for the crate's tests.
    #[cfg(test)]
    pub(crate) fn meta(&self) -> &TaskMeta {
        // SAFETY: as in `abort`.
        unsafe { self.meta.as_ref() }
    }

    /// Returns `true` if the task has finished: completed, panicked, or been
    /// cancelled. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let handle = coro_core::spawn(async {});
    ///     while !handle.is_finished() {
    ///         coro_core::task::yield_now().await;
    ///     }
    ///     assert!(handle.await.is_ok());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Joining is a resource like any other: a loop that joins finished
        // tasks forever must still yield to its worker.
        let proceed = std::task::ready!(coop::poll_proceed(cx));
        let task = self
            .task
            .as_mut()
            .expect("`JoinHandle` polled after it returned `Ready`");
        let result = match Pin::new(task).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(result)) => result,
            // The runnable was dropped: by shutdown or by an abort that
            // raced with scheduling.
            Poll::Ready(None) => Err(JoinError::cancelled()),
        };
        proceed.made_progress();
        Poll::Ready(result)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
