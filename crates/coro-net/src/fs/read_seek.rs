//! The read and seek side of [`File`](super::File): one blocking-pool
//! operation in flight at a time, and the bytes read ahead.
//!
//! # Design
//!
//! A read asks the blocking pool for at least [`READ_CHUNK`] bytes (more
//! if the caller's buffer is larger, up to [`MAX_CHUNK`]) and hands them
//! out from `buf` over the following `poll_read`s. When a read that
//! filled its whole chunk has been consumed, the next chunk is requested
//! at once, before the caller asks, so the disk and the caller overlap
//! (sequential reading is the common case; a short read means end of
//! file is near and stops the read-ahead).
//!
//! Bytes read ahead put the OS file position ahead of the caller's. Every
//! operation that depends on the position accounts for it: a
//! `SeekFrom::Current(n)` becomes `Current(n - unread)`, a write first
//! seeks back by `unread` (through the write queue), and `set_len` and
//! `into_std` seek back before they run, as tokio's `File` does.
//!
//! # Invariants
//!
//! * `buf[pos..end]` are the unread bytes; nothing is unread while the
//!   write queue is busy (writes discard the read-ahead first).
//! * At most one operation is in flight; its kind says whether a
//!   `poll_seek` is waiting for its own seek.

use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use coro_core::JoinHandle;

use super::blocking::{not_run, spawn};

/// The least a read asks the blocking pool for.
pub(crate) const READ_CHUNK: usize = 256 << 10;
/// The most one blocking read asks for.
pub(crate) const MAX_CHUNK: usize = 2 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Read,
    Seek,
}

/// What a blocking operation hands back: its result and the buffer.
struct Done {
    result: io::Result<u64>,
    buf: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct ReadSeek {
    in_flight: Option<(Kind, JoinHandle<Done>)>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// The size of the read in flight or last completed.
    chunk: usize,
    /// The last read returned 0: the next `poll_read` reports end of file.
    eof: bool,
    error: Option<io::Error>,
}

impl ReadSeek {
    /// How many bytes were read ahead and not handed out.
    pub(crate) fn unread(&self) -> usize {
        self.end - self.pos
    }

    /// Forgets the read-ahead (and a pending end-of-file or read error,
    /// which belonged to the position being left); returns how many bytes
    /// the OS position is ahead of the caller's.
    pub(crate) fn discard(&mut self) -> usize {
        let unread = self.unread();
        (self.pos, self.end, self.eof, self.error) = (0, 0, false, None);
        unread
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_none()
    }

    /// Completes the operation in flight, if any. `Some` carries a
    /// finished seek's result.
    pub(crate) fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<u64>>> {
        let Some((kind, handle)) = &mut self.in_flight else {
            return Poll::Ready(None);
        };
        let kind = *kind;
        let outcome = ready!(Pin::new(handle).poll(cx));
        self.in_flight = None;
        let Done { result, buf } = match outcome {
            Ok(done) => done,
            // The pool shut down; the buffer went with it.
            Err(error) => Done {
                result: Err(not_run(error)),
                buf: Vec::new(),
            },
        };
        match kind {
            Kind::Read => {
                self.buf = buf;
                match result {
                    Ok(n) => {
                        (self.pos, self.end) = (0, n as usize);
                        self.eof = n == 0;
                    }
                    Err(error) => self.error = Some(error),
                }
                Poll::Ready(None)
            }
            Kind::Seek => {
                self.buf = buf;
                Poll::Ready(Some(result))
            }
        }
    }

    fn start(
        &mut self,
        kind: Kind,
        f: impl FnOnce(&mut Vec<u8>) -> io::Result<u64> + Send + 'static,
    ) {
        let mut buf = std::mem::take(&mut self.buf);
        let handle = spawn(move || {
            let result = f(&mut buf);
            Done { result, buf }
        });
        self.in_flight = Some((kind, handle));
    }

    fn start_read(&mut self, file: &Arc<StdFile>, len: usize) {
        let file = file.clone();
        self.chunk = len;
        self.start(Kind::Read, move |buf| {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            loop {
                match (&*file).read(&mut buf[..len]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => return result.map(|n| n as u64),
                }
            }
        });
    }

    /// Starts a seek to `pos`, which must already account for the
    /// read-ahead.
    pub(crate) fn start_seek(&mut self, file: &Arc<StdFile>, pos: SeekFrom) {
        let file = file.clone();
        self.start(Kind::Seek, move |_| (&*file).seek(pos));
    }

    /// Whether a seek of ours is in flight.
    pub(crate) fn seeking(&self) -> bool {
        matches!(self.in_flight, Some((Kind::Seek, _)))
    }

    /// Copies read-ahead bytes to `dst`, or reports the end of file or a
    /// read error that is due, or starts a read of at least
    /// [`READ_CHUNK`] bytes and waits for it. The caller must have made
    /// sure no write is queued (the OS position must be the caller's).
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        file: &Arc<StdFile>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if self.pos < self.end {
                let n = dst.len().min(self.end - self.pos);
                dst[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                // Read ahead: a full chunk was consumed, more is likely
                // wanted.
                if self.pos == self.end && self.end == self.chunk {
                    self.start_read(file, self.chunk);
                }
                return Poll::Ready(Ok(n));
            }
            if let Some(error) = self.error.take() {
                return Poll::Ready(Err(error));
            }
            if self.eof {
                self.eof = false;
                return Poll::Ready(Ok(0));
            }
            if self.in_flight.is_some() {
                // A read (ours, or a read-ahead) or an abandoned seek.
                ready!(self.poll_complete(cx));
                continue;
            }
            let len = dst.len().clamp(READ_CHUNK, MAX_CHUNK);
            self.start_read(file, len);
        }
    }
}
