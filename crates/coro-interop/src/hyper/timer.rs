//! [`Timer`]: `coro::time` as hyper's timer.
//!
//! hyper boxes every sleep as a `dyn hyper::rt::Sleep`. `reset` downcasts
//! the box back to coro's sleep and moves its deadline in place, so a
//! keep-alive or header-read timer that hyper re-arms per request moves
//! within the timer wheel instead of allocating a new box each time.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use coro_net::time;

/// hyper's [`Timer`](::hyper::rt::Timer) on `coro::time`: header-read
/// timeouts (`http1::Builder::header_read_timeout`), HTTP/2 keep-alive
/// pings and hyper's other timeouts fire on coro's timer wheel.
///
/// # Examples
///
/// A server that gives a silent client 50 ms to send its request head:
///
/// ```
/// use std::time::Duration;
/// use coro::hyper::{Io, Timer};
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
///
/// coro::block_on(async {
///     let (_silent_client, server) = coro::net::UnixStream::pair().unwrap();
///     let service = hyper::service::service_fn(|_| async {
///         Ok::<_, hyper::Error>(hyper::Response::new(Empty::<Bytes>::new()))
///     });
///     let result = hyper::server::conn::http1::Builder::new()
///         .timer(Timer::new())
///         .header_read_timeout(Duration::from_millis(50))
///         .serve_connection(Io::new(server), service)
///         .await;
///     assert!(result.unwrap_err().is_timeout());
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer {
    _private: (),
}

impl Timer {
    /// A timer on the current runtime's (or the fallback driver's) wheel.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = hyper::server::conn::http1::Builder::new()
    ///     .timer(coro::hyper::Timer::new())
    ///     .clone();
    /// # drop(builder);
    /// ```
    pub fn new() -> Self {
        Timer { _private: () }
    }
}

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep {
            inner: time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep {
            inner: time::sleep_until(deadline),
        })
    }

    fn now(&self) -> Instant {
        time::Instant::now()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().inner.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// coro's sleep with hyper's `Sleep` marker (a local type, as the orphan
/// rule requires). coro's sleep is `Unpin`, so this is too.
struct Sleep {
    inner: time::Sleep,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl ::hyper::rt::Sleep for Sleep {}
