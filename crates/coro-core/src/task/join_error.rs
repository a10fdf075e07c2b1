use std::any::Any;
use std::fmt;
use std::io;
use std::ptr::NonNull;

/// Why a task did not produce its output: it was cancelled or it panicked.
///
/// Returned by awaiting a [`JoinHandle`](crate::task::JoinHandle). A panic
/// inside a task never takes its worker thread down: it is caught and its
/// payload handed to whoever joins the task.
///
/// # Examples
///
/// ```
/// let err = coro_core::block_on(async {
///     coro_core::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task panicked: boom");
/// let payload = err.into_panic();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// ```
pub struct JoinError {
    repr: Repr,
}

/// A `Box<Panic>`, or a dangling sentinel meaning "cancelled".
///
/// One non-null word, so that `Result<(), JoinError>` is one word too, and
/// async-task's slot for a task's output (`Result<Result<T, JoinError>,
/// Box<dyn Any>>`, the outer `Result` for its own panic propagation) is two
/// words rather than three: an idle task fits an 80-byte malloc chunk
/// instead of 96 (see `docs/architecture.md`, "What a task costs"). An enum
/// `Cancelled | Panic(Box<Panic>)` would spend the pointer's only niche,
/// null, on `Cancelled`, leaving none for `Ok`.
struct Repr(NonNull<Panic>);

// SAFETY: `Repr` is a `Box<Panic>` (or nothing), and `Panic` is `Send`
// (its payload is `Send`, `SyncWrapper` and `String` are).
unsafe impl Send for Repr {}
// SAFETY: as above; `Panic` is `Sync` (`SyncWrapper` makes the payload so).
unsafe impl Sync for Repr {}

impl Repr {
    fn cancelled() -> Repr {
        Repr(NonNull::dangling())
    }

    fn panic(panic: Box<Panic>) -> Repr {
        Repr(NonNull::from(Box::leak(panic)))
    }

    /// `None` for a cancellation. The sentinel is `NonNull::dangling()`,
    /// address 8 (`Panic`'s alignment), which no allocation ever has.
    fn get(&self) -> Option<&Panic> {
        if self.0 == NonNull::dangling() {
            return None;
        }
        // SAFETY: anything but the sentinel came from `Box::leak` in
        // `panic`, and we own that box until `drop` or `into_panic`. (Not
        // `bool::then_some`: it would dereference the sentinel too.)
        Some(unsafe { self.0.as_ref() })
    }

    /// The box back, or `None` for a cancellation.
    fn into_panic(self) -> Option<Box<Panic>> {
        let this = std::mem::ManuallyDrop::new(self);
        if this.0 == NonNull::dangling() {
            return None;
        }
        // SAFETY: as in `get`; `ManuallyDrop` keeps `drop` from freeing the
        // box we hand out.
        Some(unsafe { Box::from_raw(this.0.as_ptr()) })
    }
}

impl Drop for Repr {
    fn drop(&mut self) {
        if self.0 != NonNull::dangling() {
            // SAFETY: as in `get`; this is the box's only release.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }
}

struct Panic {
    payload: SyncWrapper<Box<dyn Any + Send + 'static>>,
    message: Option<String>,
}

/// Makes a `Send` value `Sync` by never handing out `&T`.
struct SyncWrapper<T>(T);

// SAFETY: the wrapped value is only reachable by value (`into_panic`) or
// through `&mut`, so sharing `&SyncWrapper` between threads gives access to
// nothing.
unsafe impl<T: Send> Sync for SyncWrapper<T> {}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::cancelled(),
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            repr: Repr::panic(Box::new(Panic {
                payload: SyncWrapper(payload),
                message,
            })),
        }
    }

    /// Returns `true` if the task was cancelled: aborted, or dropped by its
    /// runtime's shutdown before it finished.
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
    pub fn is_cancelled(&self) -> bool {
        self.repr.get().is_none()
    }

    /// Returns `true` if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let err = coro_core::spawn(async { panic!("oops") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        self.repr.get().is_some()
    }

    /// Consumes the error and returns the panic payload, to inspect it or to
    /// resume unwinding with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic (check [`is_panic`](Self::is_panic)
    /// or use [`try_into_panic`](Self::try_into_panic)).
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// coro_core::block_on(async {
    ///     let err = coro_core::spawn(async { panic!("propagate me") }).await.unwrap_err();
    ///     std::panic::resume_unwind(err.into_panic());
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect(
            "`JoinError::into_panic` called on a cancelled task's error; check `is_panic()` first",
        )
    }

    /// Returns the panic payload, or the error back if the task was
    /// cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// coro_core::block_on(async {
    ///     let handle = coro_core::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     let err = handle.await.unwrap_err();
    ///     assert!(err.try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        if self.is_cancelled() {
            return Err(self);
        }
        let panic = self.repr.into_panic().expect("not cancelled");
        Ok(panic.payload.0)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr.get() {
            None => f.write_str("task was cancelled"),
            Some(panic) => match &panic.message {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr.get() {
            None => f.write_str("JoinError::Cancelled"),
            Some(panic) => f
                .debug_tuple("JoinError::Panic")
                .field(&panic.message.as_deref().unwrap_or("<non-string payload>"))
                .finish(),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for io::Error {
    fn from(err: JoinError) -> io::Error {
        let kind = if err.is_cancelled() {
            io::ErrorKind::Interrupted
        } else {
            io::ErrorKind::Other
        };
        io::Error::new(kind, err.to_string())
    }
}
