//! The fallback reactor, for sockets and timers used outside a coro runtime.
//!
//! Inside a coro runtime the workers drive the reactor themselves (see
//! [`crate::reactor`]). A socket or timer created on a plain thread, or
//! awaited under `futures::executor::block_on` or tokio, has no worker to
//! do that, so it registers with this process-wide reactor instead, whose
//! thread does nothing but take turns. The thread starts the first time
//! something registers here, so a program that only uses coro runtimes
//! never has it.

use std::sync::{Arc, OnceLock};

use coro_core::park::Park;

use crate::reactor::Reactor;

static FALLBACK: OnceLock<Arc<Reactor>> = OnceLock::new();

/// The fallback reactor, starting its driver thread on first use.
///
/// # Panics
///
/// If the OS refuses to create a poller or a thread at the first call;
/// there is no way to wait for I/O without them.
pub(crate) fn reactor() -> &'static Arc<Reactor> {
    FALLBACK.get_or_init(|| {
        let reactor = Reactor::new().unwrap_or_else(|error| {
            panic!("coro: cannot create the fallback reactor's poller: {error}")
        });
        let driver = reactor.clone();
        std::thread::Builder::new()
            .name("coro-driver".into())
            .spawn(move || loop {
                driver.park(None);
            })
            .unwrap_or_else(|error| {
                panic!("coro: cannot start the fallback reactor's thread: {error}")
            });
        reactor
    })
}

/// Whether `reactor` is the fallback one (it never shuts down).
pub(crate) fn is_fallback(reactor: &Arc<Reactor>) -> bool {
    FALLBACK
        .get()
        .is_some_and(|fallback| Arc::ptr_eq(fallback, reactor))
}
