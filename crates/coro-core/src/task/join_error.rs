use std::any::Any;
use std::fmt;
use std::io;

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

/// One pointer wide, so that `Result<(), JoinError>`, which every task
/// allocation has room for, costs 8 bytes rather than 40 (see
/// `docs/architecture.md`, "What a task costs").
enum Repr {
    Cancelled,
    Panic(Box<Panic>),
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
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            repr: Repr::Panic(Box::new(Panic {
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
        matches!(self.repr, Repr::Cancelled)
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
        matches!(self.repr, Repr::Panic(_))
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
        match self.repr {
            Repr::Panic(panic) => Ok(panic.payload.0),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(panic) => match &panic.message {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(panic) => f
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
