//! Reading into uninitialised memory, shared by the hyper and tokio-io
//! adapters.
//!
//! Both hyper's `ReadBufCursor` and tokio's `ReadBuf` hand the reader
//! memory that may be uninitialised. futures-io's `poll_read` takes
//! `&mut [u8]`, which must be initialised, so a generic adapter has to zero
//! the buffer before every read (hyper's read buffer is fresh spare capacity
//! each time, so "zero once" does not help). coro's own sockets can do
//! better: `recv(2)` only writes, so `poll_read_uninit` fills the
//! uninitialised memory directly.
//!
//! Without specialization, the adapters find out whether the stream they
//! wrap is one of coro's by comparing type ids. `typeid::of` erases
//! lifetimes, so it works for non-`'static` `T`; the types we compare
//! against have no lifetime parameters, so an equal id means `T` *is* that
//! type. The comparison is between constants and folds away after
//! monomorphization: the generic path pays nothing for the check.
//!
//! The zeroed fallback caps one read at [`ZEROED_READ_MAX`] bytes, so a
//! large spare capacity (hyper grows its buffer up to 400 KiB) is not
//! zeroed in full for a read that returns a few hundred bytes.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use coro_net::net::{TcpStream, UnixStream};
use futures_io::AsyncRead;

/// The most a read through the zeroing fallback asks for at once: one TLS
/// record's worth of plaintext twice over; larger reads gain little.
pub(crate) const ZEROED_READ_MAX: usize = 32 * 1024;

/// A reader that fills uninitialised memory itself.
enum UninitReader<'a> {
    Tcp(&'a TcpStream),
    Unix(&'a UnixStream),
}

impl UninitReader<'_> {
    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        match self {
            UninitReader::Tcp(stream) => stream.poll_read_uninit(cx, buf),
            UninitReader::Unix(stream) => stream.poll_read_uninit(cx, buf),
        }
    }
}

/// `inner` as one of coro's sockets, if it is one.
fn uninit_reader<T: ?Sized>(inner: &T) -> Option<UninitReader<'_>> {
    let id = typeid::of::<T>();
    if id == typeid::of::<TcpStream>() {
        // SAFETY: `T`'s lifetime-erased id is `TcpStream`'s, and
        // `TcpStream` has no lifetime parameters, so `T` is `TcpStream`:
        // the cast changes the pointer's type, not what it points to.
        Some(UninitReader::Tcp(unsafe {
            &*(inner as *const T as *const TcpStream)
        }))
    } else if id == typeid::of::<UnixStream>() {
        // SAFETY: as above, for `UnixStream`.
        Some(UninitReader::Unix(unsafe {
            &*(inner as *const T as *const UnixStream)
        }))
    } else {
        None
    }
}

/// Reads from `inner` into `buf`, which may be uninitialised. Returns how
/// many bytes at the start of `buf` the read initialised and filled.
///
/// A stream that is not one of coro's sockets reads into a zeroed prefix of
/// `buf` of at most [`ZEROED_READ_MAX`] bytes.
pub(crate) fn poll_read<T>(
    inner: Pin<&mut T>,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>>
where
    T: AsyncRead + ?Sized,
{
    if let Some(reader) = uninit_reader(&*inner) {
        return reader.poll_read(cx, buf);
    }
    let len = buf.len().min(ZEROED_READ_MAX);
    let prefix = &mut buf[..len];
    prefix.fill(MaybeUninit::new(0));
    // SAFETY: every byte of `prefix` was just initialised, and `u8` and
    // `MaybeUninit<u8>` have the same layout.
    let prefix = unsafe { &mut *(prefix as *mut [MaybeUninit<u8>] as *mut [u8]) };
    let n = ready!(inner.poll_read(cx, prefix))?;
    // The callers mark `n` bytes initialised on our word, so a reader that
    // claims more than it was given must not get through (safe code can
    // break `AsyncRead`'s contract; that must not become undefined behaviour).
    assert!(
        n <= len,
        "AsyncRead::poll_read returned {n} for a buffer of {len} bytes"
    );
    Poll::Ready(Ok(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that breaks `AsyncRead`'s contract: it claims one byte
    /// more than the buffer holds.
    struct Liar;

    impl AsyncRead for Liar {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len() + 1))
        }
    }

    /// A reader that fills what it is given with 7s.
    struct Sevens;

    impl AsyncRead for Sevens {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            buf.fill(7);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn read_into(reader: impl AsyncRead, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        poll_read(std::pin::pin!(reader), &mut cx, buf)
    }

    #[test]
    fn a_generic_reader_reads_at_most_the_zeroed_prefix() {
        let mut buf = vec![MaybeUninit::uninit(); ZEROED_READ_MAX + 100];
        let Poll::Ready(Ok(n)) = read_into(Sevens, &mut buf) else {
            panic!("not ready")
        };
        assert_eq!(n, ZEROED_READ_MAX);
        // SAFETY: the read initialised the first `n` bytes.
        assert!(buf[..n].iter().all(|b| unsafe { b.assume_init() } == 7));
    }

    #[test]
    #[should_panic(expected = "AsyncRead::poll_read returned 17 for a buffer of 16 bytes")]
    fn a_reader_that_claims_too_much_panics_instead_of_exposing_memory() {
        let mut buf = [MaybeUninit::uninit(); 16];
        let _ = read_into(Liar, &mut buf);
    }
}
