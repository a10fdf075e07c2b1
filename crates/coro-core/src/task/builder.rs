//! [`Builder`]: spawn a task with a name.
//!
//! The name is copied into the task (one small allocation, only for named
//! tasks) and shows up in task dumps, blocking-watchdog reports and
//! `tracing` spans. The plain `spawn` functions never allocate a name.

use std::future::Future;
use std::panic::Location;

use crate::runtime::context;
use crate::task::id::Site;
use crate::task::JoinHandle;

/// Configures a task before spawning it: today, its name.
///
/// # Examples
///
/// ```
/// use coro_core::task::Builder;
///
/// coro_core::block_on(async {
///     let conn = Builder::new().name("conn").spawn(async { 7 });
///     assert_eq!(conn.await.unwrap(), 7);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder for an unnamed task.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let task = coro_core::task::Builder::new().spawn(async { 1 });
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task. The name is copied; it need not be unique.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let peer = "10.0.0.1:5000";
    ///     let task = coro_core::task::Builder::new()
    ///         .name(&format!("conn {peer}"))
    ///         .spawn(async {});
    ///     task.await.unwrap();
    /// });
    /// ```
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// [`spawn`](crate::spawn)s `future` with this configuration.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let task = coro_core::task::Builder::new().name("worker").spawn(async { "ok" });
    ///     assert_eq!(task.await.unwrap(), "ok");
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let site = Site::new(self.name, Location::caller());
        context::with_current(|handle| handle.spawn_at(future, site))
    }

    /// [`spawn_local`](crate::spawn_local)s `future` with this
    /// configuration.
    ///
    /// # Panics
    ///
    /// Outside a current-thread runtime, like
    /// [`spawn_local`](crate::spawn_local).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// coro_core::block_on(async {
    ///     let shared = Rc::new(3);
    ///     let task = coro_core::task::Builder::new()
    ///         .name("local")
    ///         .spawn_local(async move { *shared + 1 });
    ///     assert_eq!(task.await.unwrap(), 4);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let site = Site::new(self.name, Location::caller());
        crate::scheduler::current_thread::spawn_local(future, site)
    }

    /// [`spawn_blocking`](crate::spawn_blocking)s `f` with this
    /// configuration.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`spawn_blocking`](crate::spawn_blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let task = coro_core::task::Builder::new()
    ///         .name("checksum")
    ///         .spawn_blocking(|| (1..=10u32).sum::<u32>());
    ///     assert_eq!(task.await.unwrap(), 55);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let site = Site::new(self.name, Location::caller());
        context::with_current(|handle| handle.spawn_blocking_at(f, site))
    }
}
