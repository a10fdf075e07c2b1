//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: listing a directory in
//! batches.
//!
//! A `ReadDir` is std's iterator plus a queue of entries already read.
//! When the queue is empty, one blocking-pool trip reads the next
//! [`BATCH`] entries (and, on the same thread, each entry's file type,
//! which the OS usually hands over with the name), so a directory of N
//! entries costs about N / 32 trips, not N. While a batch is being read
//! the std iterator travels with the blocking closure and comes back with
//! the entries.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::Future as _;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use coro_core::JoinHandle;
use futures_core::Stream;

use super::blocking::{asyncify, not_run, spawn};

/// Entries read per blocking-pool trip.
const BATCH: usize = 32;

/// Starts listing the directory at `path`; entries come from
/// [`ReadDir::next_entry`] (or the `ReadDir` as a [`Stream`]), without
/// `.` and `..`, in the order the OS returns them.
///
/// # Errors
///
/// The OS error: `NotFound`, `PermissionDenied`, or `NotADirectory`
/// (`ENOTDIR`) for a file.
///
/// # Examples
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let dir = std::env::temp_dir().join(format!("coro-ls-{}", std::process::id()));
///     coro::fs::create_dir_all(&dir).await?;
///     coro::fs::write(dir.join("a.txt"), b"").await?;
///     coro::fs::write(dir.join("b.txt"), b"").await?;
///     let mut names = Vec::new();
///     let mut entries = coro::fs::read_dir(&dir).await?;
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name().into_string().unwrap());
///     }
///     names.sort();
///     assert_eq!(names, ["a.txt", "b.txt"]);
///     coro::fs::remove_dir_all(&dir).await
/// }
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle {
            queue: VecDeque::with_capacity(BATCH),
            std: Some(std),
        },
    })
}

/// A batch read on the blocking pool: the entries (an error ends the
/// batch) and the iterator, `None` once exhausted.
type Batch = (VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>);

/// The entries of a directory, from [`read_dir`]. Also a [`Stream`] of
/// `io::Result<DirEntry>`.
///
/// # Examples
///
/// ```
/// use futures_util::TryStreamExt;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let entries: Vec<_> = coro::fs::read_dir("/").await?.try_collect().await?;
///     assert!(entries.iter().any(|e| e.file_name() == "tmp"));
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct ReadDir {
    state: State,
}

#[derive(Debug)]
enum State {
    Idle {
        queue: VecDeque<io::Result<DirEntry>>,
        /// `None` once the directory was read to the end.
        std: Option<std::fs::ReadDir>,
    },
    Reading(JoinHandle<Batch>),
}

impl ReadDir {
    /// The next entry, `Ok(None)` at the end.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a batch being read when the future is dropped is kept
    /// for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut entries = coro::fs::read_dir("/").await?;
    ///     let mut count = 0;
    ///     while let Some(_entry) = entries.next_entry().await? {
    ///         count += 1;
    ///     }
    ///     assert!(count > 0);
    ///     Ok(())
    /// }
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: the poll form of
    /// [`next_entry`](Self::next_entry).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let mut entries = coro::fs::read_dir("/").await?;
    ///     let first = poll_fn(|cx| entries.poll_next_entry(cx)).await?;
    ///     assert!(first.is_some());
    ///     Ok(())
    /// }
    /// ```
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle { queue, std } => {
                    if let Some(entry) = queue.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    let Some(mut std) = std.take() else {
                        return Poll::Ready(Ok(None));
                    };
                    let mut queue = std::mem::take(queue);
                    self.state = State::Reading(spawn(move || {
                        let more = read_batch(&mut std, &mut queue);
                        (queue, more.then_some(std))
                    }));
                }
                State::Reading(handle) => {
                    let result = ready!(Pin::new(handle).poll(cx));
                    self.state = match result {
                        Ok((queue, std)) => State::Idle { queue, std },
                        Err(error) => State::Idle {
                            queue: VecDeque::from([Err(not_run(error))]),
                            std: None,
                        },
                    };
                }
            }
        }
    }
}

/// Reads up to [`BATCH`] entries into `queue`; false once `std` is done.
fn read_batch(std: &mut std::fs::ReadDir, queue: &mut VecDeque<io::Result<DirEntry>>) -> bool {
    for _ in 0..BATCH {
        match std.next() {
            Some(Ok(entry)) => {
                // Usually free (the type came with the name); otherwise a
                // `stat` here, on the blocking thread, saves a trip later.
                let file_type = entry.file_type().ok();
                queue.push_back(Ok(DirEntry {
                    std: Arc::new(entry),
                    file_type,
                }));
            }
            Some(Err(error)) => {
                queue.push_back(Err(error));
                return true;
            }
            None => return false,
        }
    }
    true
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

/// One entry of a directory listing, from [`ReadDir`].
///
/// # Examples
///
/// ```
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let mut entries = coro::fs::read_dir("/").await?;
///     while let Some(entry) = entries.next_entry().await? {
///         if entry.file_name() == "tmp" {
///             assert!(entry.file_type().await?.is_dir());
///             assert_eq!(entry.path(), std::path::Path::new("/tmp"));
///         }
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read with the batch; `None` if that failed (asked again later).
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The full path: the directory given to [`read_dir`] joined with the
    /// entry's name.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let entry = coro::fs::read_dir("/").await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.path().parent(), Some(std::path::Path::new("/")));
    ///     Ok(())
    /// }
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without the directory.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let entry = coro::fs::read_dir("/").await?.next_entry().await?.unwrap();
    ///     assert!(!entry.file_name().is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let entry = coro::fs::read_dir("/").await?.next_entry().await?.unwrap();
    ///     assert!(entry.ino() > 0);
    ///     Ok(())
    /// }
    /// ```
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a final symlink (like
    /// `std::fs::DirEntry::metadata`).
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let entry = coro::fs::read_dir("/").await?.next_entry().await?.unwrap();
    ///     let _len = entry.metadata().await?.len();
    ///     Ok(())
    /// }
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's file type, not following a symlink. Usually known from
    /// the listing itself, with no further trip to the blocking pool.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let dir = std::env::temp_dir().join(format!("coro-ft-{}", std::process::id()));
    ///     coro::fs::create_dir_all(dir.join("sub")).await?;
    ///     let entry = coro::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert!(entry.file_type().await?.is_dir());
    ///     coro::fs::remove_dir_all(&dir).await
    /// }
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}
