//! The task dump: [`Handle::dump`] lists the runtime's live tasks, like
//! gevent's `print_run_info`.
//!
//! # What is listed, and what it costs
//!
//! The dump walks the task registry (`task/registry.rs`): every task that
//! has returned `Pending` at least once, which is every task that can
//! wait. It takes one registry shard's lock at a time and reads each
//! task's header (id, name, spawn site, and the statistics of
//! `task/stats.rs`); workers keep running meanwhile, and only a task
//! registering or finishing in that same shard waits for the walk of it.
//!
//! A task that has not yet returned `Pending` (queued since its spawn, or
//! in its first poll) is not in the registry: registering every task at
//! spawn would put a lock on the spawn path. The dump counts those from
//! the metrics (alive minus listed) and says so.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::{Handle, RuntimeMetrics, Scheduler};
use crate::task::harness::TaskMeta;
use crate::task::Id;

/// What a task was doing when the dump was taken.
///
/// # Examples
///
/// ```
/// use coro_core::runtime::TaskState;
///
/// let state = TaskState::Running { worker: Some(1) };
/// assert_eq!(state.to_string(), "running on worker 1");
/// assert_eq!(TaskState::Idle.to_string(), "idle");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Woken and waiting in a run queue.
    Scheduled,
    /// Being polled, on this worker (`None`: on a thread that is not a
    /// numbered worker).
    Running {
        /// The worker's index.
        worker: Option<usize>,
    },
    /// Waiting for a wake-up (I/O, a timer, a channel, another task).
    Idle,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskState::Scheduled => f.write_str("scheduled"),
            TaskState::Running { worker: Some(n) } => write!(f, "running on worker {n}"),
            TaskState::Running { worker: None } => f.write_str("running"),
            TaskState::Idle => f.write_str("idle"),
        }
    }
}

/// One task of a [`Dump`].
///
/// # Examples
///
/// ```
/// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
/// rt.block_on(async {
///     let conn = coro_core::task::Builder::new()
///         .name("conn")
///         .spawn(std::future::pending::<()>());
///     coro_core::yield_now().await; // conn runs once and waits
///     let dump = coro_core::runtime::Handle::current().dump();
///     let info = dump.tasks().find(|t| t.id() == conn.id()).unwrap();
///     assert_eq!(info.name(), Some("conn"));
///     assert_eq!(info.polls(), 1);
///     assert_eq!(info.state(), coro_core::runtime::TaskState::Idle);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: Id,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    since_last_poll: Option<Duration>,
}

impl TaskInfo {
    /// `running`: the task each worker of the task's scheduler polls
    /// (`MetricsStore::running_tasks`); `first_worker`: the runtime-wide
    /// index of that scheduler's worker 0 (a shard's index).
    fn of(meta: &TaskMeta, running: &[*const TaskMeta], first_worker: usize) -> TaskInfo {
        let stats = meta.stats();
        let worker = running
            .iter()
            .position(|&task| std::ptr::eq(task, meta))
            .map(|index| first_worker + index);
        let state = if worker.is_some() {
            TaskState::Running { worker }
        } else if stats.is_scheduled() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        let (polls, since_last_poll) = stats.polls();
        TaskInfo {
            id: meta.id(),
            name: meta.site().name().cloned(),
            location: meta.site().location(),
            state,
            polls: u64::from(polls),
            since_last_poll,
        }
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// See [`TaskInfo`].
    ///
    /// ```
    /// fn ids(dump: &coro_core::runtime::Dump) -> Vec<coro_core::task::Id> {
    ///     dump.tasks().map(|t| t.id()).collect()
    /// }
    /// # let _ = ids;
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it was spawned with one.
    ///
    /// # Examples
    ///
    /// ```
    /// fn named(dump: &coro_core::runtime::Dump) -> usize {
    ///     dump.tasks().filter(|t| t.name().is_some()).count()
    /// }
    /// # let _ = named;
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// fn sites(dump: &coro_core::runtime::Dump) -> Vec<String> {
    ///     dump.tasks().map(|t| t.spawned_at().to_string()).collect()
    /// }
    /// # let _ = sites;
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro_core::runtime::{Dump, TaskState};
    ///
    /// fn idle(dump: &Dump) -> usize {
    ///     dump.tasks().filter(|t| t.state() == TaskState::Idle).count()
    /// }
    /// # let _ = idle;
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task has been polled.
    ///
    /// # Examples
    ///
    /// ```
    /// fn busiest(dump: &coro_core::runtime::Dump) -> Option<u64> {
    ///     dump.tasks().map(|t| t.polls()).max()
    /// }
    /// # let _ = busiest;
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Time since the task's last poll started (coarse: refreshed by the
    /// workers every few dozen polls), or `None` if it was never polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// fn stuck(dump: &coro_core::runtime::Dump) -> usize {
    ///     dump.tasks()
    ///         .filter(|t| t.since_last_poll() > Some(Duration::from_secs(60)))
    ///         .count()
    /// }
    /// # let _ = stuck;
    /// ```
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }
}

/// The live tasks of a runtime, from [`Handle::dump`]: iterate its
/// [`TaskInfo`]s, or print it as a table followed by the runtime's
/// metrics.
///
/// # Examples
///
/// ```
/// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
/// rt.block_on(async {
///     for name in ["reader", "writer"] {
///         coro_core::task::Builder::new().name(name).spawn(std::future::pending::<()>());
///     }
///     coro_core::yield_now().await;
///     let dump = coro_core::runtime::Handle::current().dump();
///     assert_eq!(dump.len(), 2);
///     let table = dump.to_string();
///     assert!(table.contains("reader") && table.contains("writer"), "{table}");
///     println!("{dump}");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    tasks: Vec<TaskInfo>,
    unlisted: usize,
    metrics: RuntimeMetrics,
}

impl Handle {
    /// Lists the runtime's live tasks (see [`Dump`]) without stopping its
    /// workers.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.len(), 0);
    /// ```
    pub fn dump(&self) -> Dump {
        // Each scheduler's registry, its workers' running-task slots, and
        // the runtime-wide index of its first worker.
        let parts = match &self.inner.scheduler {
            Scheduler::CurrentThread(shared) => vec![(&shared.owned, &shared.metrics, 0)],
            Scheduler::MultiThread(shared) => vec![(&shared.owned, &shared.metrics, 0)],
            Scheduler::ThreadPerCore(shared) => shared
                .shards()
                .iter()
                .enumerate()
                .map(|(index, shard)| (&shard.scheduler.owned, &shard.scheduler.metrics, index))
                .collect(),
        };
        let mut tasks = Vec::new();
        for (owned, store, first_worker) in parts {
            let running = store.running_tasks();
            owned.for_each(|meta| tasks.push(TaskInfo::of(meta, &running, first_worker)));
        }
        tasks.sort_by_key(TaskInfo::id);
        let metrics = self.metrics();
        let unlisted = metrics.num_alive_tasks().saturating_sub(tasks.len());
        Dump {
            tasks,
            unlisted,
            metrics,
        }
    }
}

impl Dump {
    /// The listed tasks, by id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().dump().tasks().count(), 0);
    /// ```
    pub fn tasks(&self) -> std::slice::Iter<'_, TaskInfo> {
        self.tasks.iter()
    }

    /// How many tasks are listed.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is listed.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Live tasks that could not be listed: spawned and not yet polled, or
    /// in their first poll (see the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::runtime::Builder::new().current_thread().build().unwrap();
    /// let _queued = rt.spawn(async {}); // never polled yet
    /// assert_eq!(rt.handle().dump().unlisted(), 1);
    /// ```
    pub fn unlisted(&self) -> usize {
        self.unlisted
    }

    /// The runtime's metrics (a live view).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = coro_core::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().metrics().num_workers() >= 1);
    /// ```
    pub fn metrics(&self) -> &RuntimeMetrics {
        &self.metrics
    }
}

impl IntoIterator for Dump {
    type Item = TaskInfo;
    type IntoIter = std::vec::IntoIter<TaskInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.tasks.into_iter()
    }
}

impl<'a> IntoIterator for &'a Dump {
    type Item = &'a TaskInfo;
    type IntoIter = std::slice::Iter<'a, TaskInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.tasks.iter()
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} task(s) listed, {} not yet polled or in their first poll",
            self.tasks.len(),
            self.unlisted
        )?;
        writeln!(
            f,
            "{:>8}  {:<20} {:>8} {:>10}  {:<16} spawned at",
            "id", "state", "polls", "last poll", "name"
        )?;
        for task in &self.tasks {
            let last = task
                .since_last_poll
                .map_or_else(|| "never".to_owned(), |d| format!("{} ms", d.as_millis()));
            writeln!(
                f,
                "{:>8}  {:<20} {:>8} {:>10}  {:<16} {}",
                task.id,
                task.state.to_string(),
                task.polls,
                last,
                task.name.as_deref().unwrap_or("-"),
                task.location
            )?;
        }
        write!(f, "{}", self.metrics)
    }
}
