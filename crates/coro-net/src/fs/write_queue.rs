//! The write side of [`File`](super::File): a bounded queue drained by one
//! blocking-pool trip at a time.
//!
//! # Design
//!
//! `poll_write` copies the caller's bytes into `queued` and returns at
//! once, as tokio's `File` does. Unlike tokio's, which sends every chunk on
//! its own blocking trip, a trip here (the *writer*) keeps going while the
//! caller keeps writing: after each `write_all` it takes whatever was
//! queued meanwhile, and it ends only when it finds the queue empty. A
//! stream of 64 KiB writes therefore costs one trip, not one per write,
//! and the disk work overlaps the caller's.
//!
//! The queue holds at most [`QUEUE_LIMIT`] bytes; a writer that is
//! behind makes `poll_write` return `Pending` until it takes the queue.
//! Two buffers circulate (the queue, and the one being written), so a
//! steady stream allocates nothing.
//!
//! # Invariants (all under `state`'s lock)
//!
//! * `running` is true from the moment a writer is spawned until it finds
//!   `queued` empty and returns. A caller that appends while `running` is
//!   true can rely on that writer to write it; otherwise it spawns one. So
//!   at most one writer exists and writes hit the file in call order.
//! * After a write error the queue is dropped (later bytes would land at
//!   the wrong offset) and the error waits in `error` for the caller's
//!   next operation; the writer stops.
//! * `seek_first` is a relative seek the next writer does before writing:
//!   it undoes a read-ahead the caller did not consume, so writes land
//!   where the caller's reads left off.

use std::fs::File as StdFile;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::blocking::spawn;

/// Bytes a caller may have queued and not yet taken by the writer.
pub(crate) const QUEUE_LIMIT: usize = 1 << 20;

pub(crate) struct WriteQueue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queued: Vec<u8>,
    /// An empty buffer with capacity, swapped in when the writer takes
    /// `queued`.
    spare: Vec<u8>,
    seek_first: i64,
    running: bool,
    error: Option<io::Error>,
    /// The caller waiting for room in the queue or for the writer to end.
    waiter: Option<Waker>,
}

impl WriteQueue {
    pub(crate) fn new() -> WriteQueue {
        WriteQueue {
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues up to `buf.len()` bytes (as many as fit), starting a writer
    /// if none runs; `Pending` while the queue is full. A stored write
    /// error is returned (once) instead.
    pub(crate) fn poll_write(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        file: &Arc<StdFile>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.lock();
        if let Some(error) = state.error.take() {
            return Poll::Ready(Err(error));
        }
        let room = QUEUE_LIMIT.saturating_sub(state.queued.len());
        if room == 0 {
            state.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        state.queued.extend_from_slice(&buf[..n]);
        if !state.running {
            state.running = true;
            drop(state);
            let writer = Writer {
                queue: self.clone(),
                file: Some(file.clone()),
            };
            // Detached: the writer reports through `state`, and keeps
            // going after the `File` is dropped until the queue is empty.
            drop(spawn(move || writer.run()));
        }
        Poll::Ready(Ok(n))
    }

    /// `Ready` once everything queued is written (or failed): the write
    /// error, if one happened since the last report.
    pub(crate) fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.lock();
        if state.running {
            state.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(state.error.take().map_or(Ok(()), Err))
    }

    /// Whether nothing is queued or being written (no error check).
    pub(crate) fn is_idle(&self) -> bool {
        !self.lock().running
    }

    /// Adds a relative seek for the next writer to do first. Only called
    /// while idle.
    pub(crate) fn seek_before_next_write(&self, offset: i64) {
        self.lock().seek_first += offset;
    }

    /// The writer: a blocking-pool closure. It gives up its reference to
    /// the file before it reports itself finished, so that once the queue
    /// is idle the `File` holds the only one (`into_std` relies on it).
    fn drain(&self, file: Arc<StdFile>) {
        let mut file = Some(file);
        let mut buf = Vec::new();
        loop {
            let (seek, waiter) = {
                let mut state = self.lock();
                // Return the buffer just written for reuse.
                buf.clear();
                if state.spare.capacity() < buf.capacity() {
                    std::mem::swap(&mut state.spare, &mut buf);
                }
                if state.queued.is_empty() {
                    drop(file.take());
                    state.running = false;
                    let waiter = state.waiter.take();
                    drop(state);
                    wake(waiter);
                    return;
                }
                let spare = std::mem::take(&mut state.spare);
                buf = std::mem::replace(&mut state.queued, spare);
                // Room in the queue again.
                (std::mem::take(&mut state.seek_first), state.waiter.take())
            };
            wake(waiter);
            let result = (|| {
                let file: &StdFile = file.as_ref().expect("dropped only when finishing");
                if seek != 0 {
                    (&*file).seek(SeekFrom::Current(seek))?;
                }
                (&*file).write_all(&buf)
            })();
            if let Err(error) = result {
                let mut state = self.lock();
                drop(file.take());
                state.queued.clear();
                state.error = Some(error);
                state.running = false;
                let waiter = state.waiter.take();
                drop(state);
                wake(waiter);
                return;
            }
        }
    }
}

/// The writer's closure state. If the pool shuts down before running it,
/// dropping it unblocks the caller: the queue is dropped and the caller's
/// next operation reports why, instead of waiting forever for a writer
/// that will never run.
struct Writer {
    queue: Arc<WriteQueue>,
    /// `None` once `run` took it.
    file: Option<Arc<StdFile>>,
}

impl Writer {
    fn run(mut self) {
        let file = self.file.take().expect("run once");
        self.queue.drain(file);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let mut state = self.queue.lock();
            state.queued.clear();
            state.error = Some(io::Error::other(
                "coro::fs: the runtime's blocking pool shut down before queued writes ran",
            ));
            state.running = false;
            let waiter = state.waiter.take();
            drop(state);
            wake(waiter);
        }
    }
}

/// Wakes the caller, after the lock is released (a waker may run code
/// that takes it).
fn wake(waiter: Option<Waker>) {
    if let Some(waker) = waiter {
        waker.wake();
    }
}
