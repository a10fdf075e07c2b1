//! Thread-local runtime context: which runtime `coro::spawn` talks to, and
//! whether this thread is already driving one.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use crate::runtime::Handle;

thread_local! {
    /// The runtime `spawn` and `Handle::current` use on this thread.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// Set while this thread runs tasks (a worker, or inside `block_on`):
    /// blocking it on another future would stall them, or deadlock.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Calls `f` with the current runtime's handle.
///
/// # Panics
/// Outside a runtime, with a message saying how to fix the call.
#[track_caller]
pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> R {
    let mut f = Some(f);
    let result = CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .map(|handle| (f.take().expect("called once"))(handle))
    });
    match result {
        Some(result) => result,
        None => panic!(
            "there is no coro runtime on this thread, so this call (`coro::spawn`, \
             `spawn_blocking`, `Handle::current`, ...) has nowhere to run its task. \
             Call it from inside `#[coro::main]`, `coro::block_on`, \
             `Runtime::block_on` or a task, or keep a `Handle` and use \
             `handle.spawn(...)` / `runtime.spawn(...)` from plain threads."
        ),
    }
}

pub(crate) fn try_current() -> Option<Handle> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Makes `handle` current until dropped, restoring the previous one.
pub(crate) fn set_current(handle: &Handle) -> SetCurrentGuard {
    let previous = CURRENT.with(|current| current.replace(Some(handle.clone())));
    SetCurrentGuard {
        previous,
        _not_send: PhantomData,
    }
}

pub(crate) struct SetCurrentGuard {
    previous: Option<Handle>,
    // Must be dropped on the thread that created it.
    _not_send: PhantomData<*const ()>,
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let replaced = CURRENT.with(|current| current.replace(previous));
        drop(replaced);
    }
}

/// Marks this thread as driving `handle`'s tasks.
///
/// # Panics
/// If the thread already drives a runtime: blocking here would stall every
/// task on this thread (and deadlock if the future waits for one of them).
#[track_caller]
pub(crate) fn enter_runtime(handle: &Handle) -> DrivingGuard {
    if DRIVING.with(|d| d.replace(true)) {
        panic!(
            "cannot block on a future from inside a coro runtime: this thread is \
             already running tasks, and blocking it would stall them (or deadlock). \
             Use `.await` instead of `block_on` here, or move the blocking call \
             into `coro::spawn_blocking(...)`."
        );
    }
    DrivingGuard {
        _current: set_current(handle),
    }
}

pub(crate) struct DrivingGuard {
    _current: SetCurrentGuard,
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        DRIVING.with(|d| d.set(false));
    }
}
