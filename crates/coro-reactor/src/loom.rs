//! One switch between std's synchronisation types and loom's, so that
//! `RUSTFLAGS="--cfg loom"` model-checks the readiness state machine without
//! a `cfg` in its code.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// Locks a mutex, ignoring poisoning: the reactor's locks guard plain data
/// whose invariants hold between statements, and no user code runs while
/// one is held, so a poisoned lock still guards consistent data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
