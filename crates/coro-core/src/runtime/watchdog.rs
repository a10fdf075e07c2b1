//! The blocking watchdog: notices a task that holds a worker inside one
//! poll for longer than a threshold, *while it still does*, like gevent's
//! monitor thread (`max_blocking_time`).
//!
//! # How it works
//!
//! Each worker (the `block_on` thread of a current-thread runtime) has a
//! [`PollSlot`]. Around every task poll the worker writes, with plain
//! relaxed stores: the slot's sequence number (odd while inside a poll),
//! the task's id and spawn location, and, for a named task only, its name
//! (under the slot's small mutex; unnamed tasks never touch it). Nothing is
//! timed on the worker: reading a clock per poll would cost more than the
//! poll itself.
//!
//! A monitor thread, started only when a threshold is set, samples every
//! slot `SAMPLES_PER_THRESHOLD` times per threshold. The first time it sees
//! an odd sequence number it notes the time; when the same odd number is
//! still there a threshold later, that poll has blocked its worker at least
//! that long: it reports once, marks the slot, and stays quiet for the rest
//! of that poll. So a report can come up to one sampling period late, and
//! "blocked for" is a lower bound by at most that period. When the marked
//! poll returns, the worker itself sees the mark and reports again with the
//! total.
//!
//! The monitor never dereferences a task: everything it reports was copied
//! into the slot by the worker while the task was alive (the location is
//! `'static`, the name an `Arc`), and it re-reads the sequence number after
//! copying to discard a report of a poll that ended meanwhile.
//!
//! With no threshold there is no monitor, no slots, and the workers' only
//! cost is one branch on `None` per poll.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::loom::lock;
use crate::task::harness::TaskMeta;
use crate::task::Id;

/// How often the monitor looks at each slot, per threshold.
const SAMPLES_PER_THRESHOLD: u32 = 10;

/// The environment variable that turns the watchdog on without code.
pub(crate) const ENV_THRESHOLD: &str = "CORO_BLOCKING_THRESHOLD_MS";

/// The user's report hook.
pub(crate) type Hook = Arc<dyn Fn(&BlockingReport) + Send + Sync>;

/// A task that blocked a worker: what the watchdog reports to stderr (or
/// `tracing`) and to [`Builder::on_blocking`](crate::runtime::Builder::on_blocking).
///
/// Reported twice per stall: once while the task still blocks
/// ([`is_finished`](Self::is_finished) is `false`, [`blocked_for`](Self::blocked_for)
/// is how long so far), and once when its poll returns (`true`, the total).
/// Durations are lower bounds, late by at most a tenth of the threshold.
/// `Display` and `Debug` both name the task.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let rt = coro_core::runtime::Builder::new()
///     .current_thread()
///     .blocking_threshold(Duration::from_millis(20))
///     .on_blocking({
///         let reports = reports.clone();
///         move |report| reports.lock().unwrap().push(report.to_string())
///     })
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     coro_core::task::Builder::new()
///         .name("sleepy")
///         .spawn(async { std::thread::sleep(Duration::from_millis(100)) })
///         .await
///         .unwrap();
/// });
/// let reports = reports.lock().unwrap();
/// assert_eq!(reports.len(), 2, "{reports:?}");
/// assert!(reports[0].contains("\"sleepy\"") && reports[0].contains("is blocking"));
/// assert!(reports[1].contains("\"sleepy\"") && reports[1].contains("blocked"));
/// ```
#[derive(Clone, Debug)]
pub struct BlockingReport {
    task: Id,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
    worker: usize,
    blocked_for: Duration,
    threshold: Duration,
    finished: bool,
}

impl BlockingReport {
    /// The blocking task's id.
    ///
    /// # Examples
    ///
    /// See [`BlockingReport`]; `report.task_id()` matches
    /// [`JoinHandle::id`](crate::JoinHandle::id).
    ///
    /// ```
    /// fn log(report: &coro_core::runtime::BlockingReport) {
    ///     eprintln!("task {} blocked", report.task_id());
    /// }
    /// # let _ = log;
    /// ```
    pub fn task_id(&self) -> Id {
        self.task
    }

    /// The task's name, if it was spawned with one
    /// ([`task::Builder::name`](crate::task::Builder::name)).
    ///
    /// # Examples
    ///
    /// ```
    /// fn name(report: &coro_core::runtime::BlockingReport) -> &str {
    ///     report.task_name().unwrap_or("(unnamed)")
    /// }
    /// # let _ = name;
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// fn file(report: &coro_core::runtime::BlockingReport) -> &str {
    ///     report.spawned_at().file()
    /// }
    /// # let _ = file;
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.location
    }

    /// The worker the task blocked (0 on a current-thread runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// fn worker(report: &coro_core::runtime::BlockingReport) -> usize {
    ///     report.worker()
    /// }
    /// # let _ = worker;
    /// ```
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// How long the task has blocked its worker so far, or in total once
    /// [`is_finished`](Self::is_finished).
    ///
    /// # Examples
    ///
    /// ```
    /// fn ms(report: &coro_core::runtime::BlockingReport) -> u128 {
    ///     report.blocked_for().as_millis()
    /// }
    /// # let _ = ms;
    /// ```
    pub fn blocked_for(&self) -> Duration {
        self.blocked_for
    }

    /// Whether the blocking poll has returned (the second report of a
    /// stall).
    ///
    /// # Examples
    ///
    /// ```
    /// fn still(report: &coro_core::runtime::BlockingReport) -> bool {
    ///     !report.is_finished()
    /// }
    /// # let _ = still;
    /// ```
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

impl fmt::Display for BlockingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "coro: task {}", self.task)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(f, " (spawned at {})", self.location)?;
        if self.finished {
            write!(
                f,
                " blocked worker {} for {:?}",
                self.worker, self.blocked_for
            )?;
        } else {
            write!(
                f,
                " is blocking worker {}: inside one poll for {:?} so far",
                self.worker, self.blocked_for
            )?;
        }
        write!(
            f,
            " (threshold {:?}; move blocking calls into spawn_blocking)",
            self.threshold
        )
    }
}

/// What a worker publishes about the poll it is in.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct PollSlot {
    /// Odd while inside a poll; bumped at its start and its end.
    seq: AtomicU64,
    task: AtomicU64,
    location: AtomicPtr<Location<'static>>,
    /// The polled task's name; written only for named tasks (and to clear
    /// a previous one), so unnamed tasks never take the lock.
    name: Mutex<Option<Arc<str>>>,
    has_name: AtomicBool,
    /// Set by the monitor once it reported the current poll; holds the
    /// poll's first sighting in nanoseconds since `Watchdog::origin`.
    /// Whoever swaps it back to `NOT_REPORTED` owns the end report.
    reported_since: AtomicU64,
    /// Held by the monitor while it reports a stall, so that the worker's
    /// end report is never delivered before it.
    reporting: Mutex<()>,
}

const NOT_REPORTED: u64 = u64::MAX;

/// A worker's side of the watchdog: its slot and the shared config.
pub(crate) struct WorkerWatch {
    watchdog: Arc<Watchdog>,
    index: usize,
}

impl WorkerWatch {
    /// Publishes that the worker starts polling the task `meta`.
    #[inline]
    pub(crate) fn begin(&self, meta: &TaskMeta) {
        let slot = &self.watchdog.slots[self.index];
        slot.task.store(meta.id().as_u64(), Ordering::Relaxed);
        let location = std::ptr::from_ref(meta.site().location()).cast_mut();
        slot.location.store(location, Ordering::Relaxed);
        let name = meta.site().name();
        if name.is_some() || slot.has_name.load(Ordering::Relaxed) {
            *lock(&slot.name) = name.cloned();
            slot.has_name.store(name.is_some(), Ordering::Relaxed);
        }
        let seq = slot.seq.load(Ordering::Relaxed);
        // Release: the monitor that sees the odd number sees the fields.
        slot.seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    /// Publishes that the poll returned; reports its end if the monitor
    /// reported it.
    ///
    /// `SeqCst` store then load, against the monitor's `SeqCst` store of
    /// `reported_since` then load of `seq`: of a poll ending while it is
    /// being reported, at least one side sees the other, and the swap
    /// makes exactly one of them report the end.
    #[inline]
    pub(crate) fn end(&self) {
        let slot = &self.watchdog.slots[self.index];
        let seq = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(1), Ordering::SeqCst);
        if slot.reported_since.load(Ordering::SeqCst) != NOT_REPORTED {
            let since = slot.reported_since.swap(NOT_REPORTED, Ordering::SeqCst);
            if since != NOT_REPORTED {
                let _after_the_stall_report = lock(&slot.reporting);
                self.watchdog.report_end(self.index, since);
            }
        }
    }
}

/// The runtime's watchdog: config, slots, and the monitor thread.
pub(crate) struct Watchdog {
    threshold: Duration,
    hook: Option<Hook>,
    slots: Box<[PollSlot]>,
    origin: Instant,
    stop: Mutex<bool>,
    stopped: Condvar,
    monitor: Mutex<Option<JoinHandle<()>>>,
}

impl Watchdog {
    /// A watchdog over `workers` workers, its monitor thread started.
    pub(crate) fn start(
        threshold: Duration,
        hook: Option<Hook>,
        workers: usize,
        thread_name: &str,
    ) -> std::io::Result<Arc<Watchdog>> {
        let watchdog = Arc::new(Watchdog {
            threshold,
            hook,
            slots: (0..workers)
                .map(|_| PollSlot {
                    reported_since: AtomicU64::new(NOT_REPORTED),
                    ..PollSlot::default()
                })
                .collect(),
            origin: Instant::now(),
            stop: Mutex::new(false),
            stopped: Condvar::new(),
            monitor: Mutex::new(None),
        });
        let monitor = watchdog.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{thread_name}-watchdog"))
            .spawn(move || monitor.monitor())?;
        *lock(&watchdog.monitor) = Some(thread);
        Ok(watchdog)
    }

    pub(crate) fn worker(self: &Arc<Self>, index: usize) -> WorkerWatch {
        WorkerWatch {
            watchdog: self.clone(),
            index,
        }
    }

    /// Stops and joins the monitor thread.
    pub(crate) fn stop(&self) {
        *lock(&self.stop) = true;
        self.stopped.notify_all();
        if let Some(thread) = lock(&self.monitor).take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    fn nanos_since_origin(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn monitor(&self) {
        let period = (self.threshold / SAMPLES_PER_THRESHOLD).max(Duration::from_millis(1));
        // Per slot: the odd sequence number last seen, when first seen, and
        // the last one reported (kept here, not read back from the slot:
        // a stale read of the slot must never report a poll twice).
        let mut seen: Vec<(u64, Instant)> = vec![(0, self.origin); self.slots.len()];
        let mut reported: Vec<u64> = vec![0; self.slots.len()];
        let mut stop = lock(&self.stop);
        while !*stop {
            stop = self
                .stopped
                .wait_timeout(stop, period)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            let now = Instant::now();
            for (index, slot) in self.slots.iter().enumerate() {
                let seq = slot.seq.load(Ordering::Acquire);
                if seq % 2 == 0 {
                    continue;
                }
                let (last, since) = &mut seen[index];
                if *last != seq {
                    *last = seq;
                    *since = now;
                    continue;
                }
                let blocked_for = now - *since;
                if blocked_for < self.threshold || reported[index] == seq {
                    continue;
                }
                reported[index] = seq;
                let mut report = self.report_from(slot, index, blocked_for, false);
                let _reporting = lock(&slot.reporting);
                slot.reported_since
                    .store(self.nanos_since_origin(*since), Ordering::SeqCst);
                if slot.seq.load(Ordering::SeqCst) != seq {
                    // The poll ended meanwhile. If the worker did not see
                    // our mark, report the stall as finished ourselves.
                    if slot.reported_since.swap(NOT_REPORTED, Ordering::SeqCst) != NOT_REPORTED {
                        report.finished = true;
                        self.emit(&report);
                    }
                    continue;
                }
                self.emit(&report);
            }
        }
    }

    fn report_from(
        &self,
        slot: &PollSlot,
        worker: usize,
        blocked_for: Duration,
        finished: bool,
    ) -> BlockingReport {
        // Written before the odd sequence number the caller saw (or by the
        // caller itself): never 0 here.
        let task = Id::from_raw(slot.task.load(Ordering::Relaxed))
            .expect("a slot inside a poll names its task");
        // SAFETY: the worker only stores `&'static Location`s here.
        let location = unsafe { &*slot.location.load(Ordering::Relaxed) };
        BlockingReport {
            task,
            name: lock(&slot.name).clone(),
            location,
            worker,
            blocked_for,
            threshold: self.threshold,
            finished,
        }
    }

    /// The worker's report at the end of a reported poll.
    fn report_end(&self, worker: usize, since_nanos: u64) {
        let since = self.origin + Duration::from_nanos(since_nanos);
        let report = self.report_from(&self.slots[worker], worker, since.elapsed(), true);
        self.emit(&report);
    }

    fn emit(&self, report: &BlockingReport) {
        crate::trace::blocking(report);
        if let Some(hook) = &self.hook {
            hook(report);
        }
    }
}

/// The threshold when the watchdog is on without one: gevent's default.
pub(crate) const DEFAULT_THRESHOLD: Duration = Duration::from_millis(100);

/// The threshold from [`ENV_THRESHOLD`], if set (empty: the default).
pub(crate) fn threshold_from_env() -> std::io::Result<Option<Duration>> {
    std::env::var_os(ENV_THRESHOLD)
        .map(|value| parse_threshold(&value))
        .transpose()
}

/// A value of [`ENV_THRESHOLD`] as a threshold.
pub(crate) fn parse_threshold(value: &std::ffi::OsStr) -> std::io::Result<Duration> {
    if value.is_empty() {
        return Ok(DEFAULT_THRESHOLD);
    }
    let parsed = value.to_str().and_then(|v| v.trim().parse::<u64>().ok());
    match parsed {
        Some(0) | None => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{ENV_THRESHOLD}={value:?}: expected a positive whole number of milliseconds, \
                 such as {ENV_THRESHOLD}=100; unset it to turn the blocking watchdog off"
            ),
        )),
        Some(ms) => Ok(Duration::from_millis(ms)),
    }
}
