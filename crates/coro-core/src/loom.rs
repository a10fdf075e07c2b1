//! One switch between std's synchronisation types and loom's.
//!
//! Every lock-free structure of the scheduler imports its atomics, cells and
//! locks from here, so `RUSTFLAGS="--cfg loom"` swaps them all for loom's
//! model-checked versions without a single `cfg` in the algorithm's code.
//! The `UnsafeCell` below gives std the same closure-based API as loom's, so
//! both builds share one code path.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{
        atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread::yield_now,
};

#[cfg(not(loom))]
pub(crate) use std::{hint::spin_loop, thread::yield_now};

/// A spin-wait hint. Under loom it yields: loom explores only schedules in
/// which a spinning thread lets the others run, which is what bounds a
/// model of a spin loop.
#[cfg(loom)]
pub(crate) fn spin_loop() {
    loom::thread::yield_now();
}

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard,
};

/// `std::cell::UnsafeCell` with loom's access API (`with`, `with_mut`).
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[allow(dead_code)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Defines a function that is `const` in the normal build and a plain `fn`
/// under loom, whose atomics and cells cannot be built in a `const fn`:
/// one body for both builds. (`Event::new` and `Semaphore::new` are `const`
/// so that users can put them in statics.)
macro_rules! const_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$attr])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$attr])* $vis fn $($rest)*
    };
}
pub(crate) use const_unless_loom;

/// Locks a mutex, ignoring poisoning.
///
/// The runtime's locks guard plain data structures whose invariants hold
/// between statements; a panic in user code never happens while one is held,
/// so a poisoned lock still guards consistent data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
