//! Who a task is: its [`Id`], its name and where it was spawned.
//!
//! Every task records its spawn site (`Location::caller()`, carried down
//! from the public `spawn` functions by `#[track_caller]`) and, when spawned
//! through [`Builder`](crate::task::Builder) with a name, that name. Both
//! live in one word of the task header, [`Site`]: a `&'static Location`
//! for an unnamed task (nothing allocated, nothing freed), or a tagged
//! pointer to a boxed [`Named`] for a named one. So an unnamed spawn costs
//! one pointer store, the same as before names existed.
//!
//! Ids are handed out lazily: the header's id word starts at 0 and the
//! first call that needs the id ([`JoinHandle::id`](crate::JoinHandle::id),
//! [`id()`], a dump, the watchdog) takes the next number from a global
//! counter and installs it with a compare-exchange. A spawn therefore
//! touches no shared counter; the price is that ids are unique for the
//! process's lifetime but not in spawn order.
//!
//! The task being polled on this thread is kept in a thread-local
//! (`task/stats.rs`, `Polling`), set and restored around each poll by the
//! harness; that is what [`id()`] reads.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A task's identifier, unique among all tasks of the process for its
/// lifetime.
///
/// Ids are assigned the first time one is asked for, so they are not in
/// spawn order.
///
/// # Examples
///
/// ```
/// coro_core::block_on(async {
///     let a = coro_core::spawn(async { coro_core::task::id() });
///     let b = coro_core::spawn(async {});
///     let a_id = a.id();
///     assert_ne!(a_id, b.id());
///     assert_eq!(a.await.unwrap(), a_id);
///     println!("task {a_id}");
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    fn next() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// The id whose number is `raw`, if it is not 0.
    pub(crate) fn from_raw(raw: u64) -> Option<Id> {
        NonZeroU64::new(raw).map(Id)
    }

    /// The id as a number (never 0).
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let task = coro_core::spawn(async {});
    ///     assert!(task.id().as_u64() > 0);
    /// });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The header word holding a task's id: 0 until first asked for.
pub(crate) struct LazyId(AtomicU64);

impl LazyId {
    pub(crate) const fn new() -> LazyId {
        LazyId(AtomicU64::new(0))
    }

    pub(crate) fn get(&self) -> Id {
        let mut id = self.0.load(Ordering::Relaxed);
        if id == 0 {
            let fresh = Id::next();
            // Two first callers race: one number wins, the other is skipped.
            id = match self
                .0
                .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => fresh,
                Err(installed) => installed,
            };
        }
        Id(NonZeroU64::new(id).expect("installed ids are never 0"))
    }
}

/// Returns the id of the task that calls it.
///
/// # Panics
///
/// Panics outside a task (in `block_on`'s own future, or on a plain
/// thread); [`try_id`] returns `None` there instead.
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
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "`coro::task::id()` called outside a task: only code running inside \
         `coro::spawn`, `spawn_local` or `spawn_blocking` has a task id; \
         use `coro::task::try_id()` where there may be none",
    )
}

/// Returns the id of the task that calls it, or `None` outside a task.
///
/// # Examples
///
/// ```
/// assert!(coro_core::task::try_id().is_none());
/// coro_core::block_on(async {
///     // block_on's own future is not a task.
///     assert!(coro_core::task::try_id().is_none());
///     let inside = coro_core::spawn(async { coro_core::task::try_id() });
///     assert!(inside.await.unwrap().is_some());
/// });
/// ```
pub fn try_id() -> Option<Id> {
    let current = crate::task::stats::current_task();
    // SAFETY: the current task is non-null only while a `Polling` guard
    // lives on this thread's stack, inside the poll of the task it points
    // to; the task's header outlives its polls.
    (!current.is_null()).then(|| unsafe { &*current }.id())
}

/// A named task's site: the name and where it was spawned.
struct Named {
    name: Arc<str>,
    location: &'static Location<'static>,
}

/// Where a task was spawned and, if it has one, its name; one word.
///
/// Invariant: `tagged` is either a `&'static Location` (low bit clear) or,
/// with the low bit set, a pointer from `Box::into_raw` of a [`Named`] that
/// this `Site` owns and frees once, in `drop`.
pub(crate) struct Site {
    tagged: NonNull<()>,
    /// Owns a `Box<Named>`, which is `Send + Sync`.
    _owns: PhantomData<Box<Named>>,
}

const NAMED: usize = 1;

// Both pointees are 8-aligned, so the low bit is free for the tag.
const _: () = assert!(std::mem::align_of::<Location<'static>>() > NAMED);
const _: () = assert!(std::mem::align_of::<Named>() > NAMED);

// SAFETY: a `Site` is a `&'static Location` or a `Box<Named>`, both
// `Send + Sync`.
unsafe impl Send for Site {}
// SAFETY: as above; `&Site` only hands out shared references.
unsafe impl Sync for Site {}

impl Site {
    /// The caller's location, no name.
    #[track_caller]
    #[inline]
    pub(crate) fn caller() -> Site {
        Site::unnamed(Location::caller())
    }

    #[inline]
    pub(crate) fn unnamed(location: &'static Location<'static>) -> Site {
        Site {
            tagged: NonNull::from(location).cast(),
            _owns: PhantomData,
        }
    }

    /// `location` with `name`, or without one if `name` is `None`.
    pub(crate) fn new(name: Option<&str>, location: &'static Location<'static>) -> Site {
        let Some(name) = name else {
            return Site::unnamed(location);
        };
        let named = Box::into_raw(Box::new(Named {
            name: Arc::from(name),
            location,
        }));
        Site {
            // SAFETY: `Box::into_raw` is never null, nor is it with a bit set.
            tagged: unsafe { NonNull::new_unchecked(named.map_addr(|a| a | NAMED).cast()) },
            _owns: PhantomData,
        }
    }

    /// The boxed `Named`, if the task has a name.
    fn named_ptr(&self) -> Option<*mut Named> {
        let addr = self.tagged.as_ptr().addr();
        (addr & NAMED != 0).then(|| {
            self.tagged
                .as_ptr()
                .map_addr(|a| a & !NAMED)
                .cast::<Named>()
        })
    }

    fn named(&self) -> Option<&Named> {
        // SAFETY: invariant: with the tag set the pointer is a live
        // `Box<Named>` owned by `self`, freed only when `self` drops.
        self.named_ptr().map(|named| unsafe { &*named })
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        match self.named() {
            Some(named) => named.location,
            // SAFETY: invariant: untagged, the pointer is a `&'static Location`.
            None => unsafe { self.tagged.cast::<Location<'static>>().as_ref() },
        }
    }

    /// The task's name, if it was given one.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.named().map(|named| &named.name)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(named) = self.named_ptr() {
            // SAFETY: invariant: the pointer came from `Box::into_raw`, the
            // box is ours, and it is freed only here.
            drop(unsafe { Box::from_raw(named) });
        }
    }
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Site")
            .field("name", &self.name())
            .field("location", &self.location())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::panic::Location;

    use crate::runtime::Builder as RuntimeBuilder;
    use crate::task::{Builder, JoinHandle, JoinSet};

    /// The line and file a handle's task was spawned at, and its name.
    fn site_of<T>(handle: &JoinHandle<T>) -> (u32, &'static str, Option<String>) {
        let site = handle.meta().site();
        let location = site.location();
        (
            location.line(),
            location.file(),
            site.name().map(|n| n.to_string()),
        )
    }

    #[test]
    fn every_spawn_records_its_caller() {
        let rt = RuntimeBuilder::new().current_thread().build().unwrap();
        let here = Location::caller().file();
        rt.block_on(async {
            let a = crate::spawn(async {});
            let line_a = line!() - 1;
            let b = crate::runtime::Handle::current().spawn(async {});
            let line_b = line!() - 1;
            let c = crate::spawn_blocking(|| {});
            let line_c = line!() - 1;
            let d = crate::spawn_local(async {});
            let line_d = line!() - 1;
            assert_eq!(site_of(&a), (line_a, here, None));
            assert_eq!(site_of(&b), (line_b, here, None));
            assert_eq!(site_of(&c), (line_c, here, None));
            assert_eq!(site_of(&d), (line_d, here, None));
            for handle in [a, b, c, d] {
                handle.await.unwrap();
            }
        });
        let e = rt.spawn(async {});
        let line_e = line!() - 1;
        assert_eq!(site_of(&e), (line_e, here, None));
        rt.block_on(e).unwrap();
    }

    #[test]
    fn join_set_spawn_records_its_caller() {
        crate::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { crate::task::id() });
            let id = set.join_next().await.unwrap().unwrap();
            assert!(id.as_u64() > 0);
        });
    }

    #[test]
    fn builder_names_every_kind_of_task() {
        let here = Location::caller().file();
        crate::block_on(async {
            let owned = String::from("conn 1");
            let a = Builder::new().name(&owned).spawn(async {});
            let line_a = line!() - 1;
            drop(owned);
            let b = Builder::new().name("local").spawn_local(async {});
            let line_b = line!() - 1;
            let c = Builder::new().name("blocking").spawn_blocking(|| {});
            let line_c = line!() - 1;
            let d = Builder::new().spawn(async {});
            let line_d = line!() - 1;
            assert_eq!(site_of(&a), (line_a, here, Some("conn 1".into())));
            assert_eq!(site_of(&b), (line_b, here, Some("local".into())));
            assert_eq!(site_of(&c), (line_c, here, Some("blocking".into())));
            assert_eq!(site_of(&d), (line_d, here, None));
            for handle in [a, b, c, d] {
                handle.await.unwrap();
            }
        });
    }

    #[test]
    fn ids_are_unique_and_match_inside_the_task() {
        let rt = RuntimeBuilder::new().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|_| crate::spawn(async { crate::task::id() }))
                .collect();
            let mut seen = std::collections::HashSet::new();
            for handle in handles {
                let outside = handle.id();
                assert!(seen.insert(outside), "duplicate id {outside}");
                assert_eq!(handle.await.unwrap(), outside);
            }
            // Asked for first from inside: the handle sees the same id.
            let (tx, rx) = std::sync::mpsc::channel();
            let handle = crate::spawn(async move { tx.send(crate::task::id()).unwrap() });
            let handle_id = {
                let inside = rx.recv().unwrap();
                assert_eq!(handle.id(), inside);
                inside
            };
            handle.await.unwrap();
            assert_eq!(format!("{handle_id}"), handle_id.as_u64().to_string());
        });
    }

    #[test]
    fn no_id_outside_a_task() {
        assert_eq!(crate::task::try_id(), None);
        crate::block_on(async { assert_eq!(crate::task::try_id(), None) });
        let panic = std::panic::catch_unwind(crate::task::id).unwrap_err();
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(message.contains("try_id"), "{message}");
    }
}
