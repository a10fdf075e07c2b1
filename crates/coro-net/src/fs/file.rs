//! [`File`]: an open file whose reads, writes and seeks run on the
//! blocking pool, with futures-io's traits.
//!
//! The reading and seeking state lives in [`ReadSeek`], the writing state
//! in [`WriteQueue`]; this file puts them together and keeps their one
//! rule: an operation on one side first lets the other side settle (a read
//! waits for queued writes, a write discards the read-ahead and seeks back
//! over it), so the file behaves like a plain sequential std `File`.

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::poll_fn;
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::blocking::{asyncify, not_run, spawn};
use super::read_seek::ReadSeek;
use super::write_queue::WriteQueue;
use super::OpenOptions;

/// An open file, read and written asynchronously: futures-io's
/// [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`] (use
/// [`coro::io::BufReader`](futures_util::io::BufReader) for
/// `AsyncBufRead`: lines, `read_until`).
///
/// The work runs on the blocking pool of the runtime the operation is
/// polled in (coro's fallback pool outside any), in chunks: reads fetch at least 256 KiB per trip and read ahead
/// while you consume them; writes are copied into a queue of up to 1 MiB
/// and return at once, and one blocking trip writes the queue out for as
/// long as you keep it filled.
///
/// # Errors and dropping
///
/// Because `write` returns before the data reaches the OS, an error from
/// the OS (a full disk) is reported by the *next* operation on the file:
/// a `write`, `read`, `seek`, [`flush`](futures_util::AsyncWriteExt::flush),
/// [`sync_all`](File::sync_all), [`sync_data`](File::sync_data) or
/// [`set_len`](File::set_len). Call `flush` (or `sync_all`, which also
/// asks the OS to reach the disk) before dropping a file you wrote to:
/// dropping a `File` with writes still queued lets them finish in the
/// background on the blocking pool, where an error can no longer be
/// reported to anyone. Bytes read ahead and not consumed are discarded on
/// drop.
///
/// A seek accounts for both: `SeekFrom::Current(0)` is always where your
/// reads and writes have brought you, whatever was read ahead or is still
/// queued.
///
/// # Examples
///
/// ```
/// use coro::fs::File;
/// use coro::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// #[coro::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("coro-file-{}", std::process::id()));
///     let mut file = File::create(&path).await?;
///     file.write_all(b"hello, file").await?;
///     file.flush().await?;
///
///     let mut file = File::open(&path).await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await?;
///     assert_eq!(rest, "file");
///     coro::fs::remove_file(&path).await
/// }
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    reads: ReadSeek,
    writes: Arc<WriteQueue>,
}

impl File {
    /// Opens an existing file for reading.
    ///
    /// # Errors
    ///
    /// The OS error: `NotFound`, `PermissionDenied`, ...
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let err = coro::fs::File::open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or truncating it to length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-create-{}", std::process::id()));
    ///     coro::fs::write(&path, b"old contents").await?;
    ///     let file = coro::fs::File::create(&path).await?;
    ///     assert_eq!(file.metadata().await?.len(), 0);
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing; `AlreadyExists` if
    /// there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-cnew-{}", std::process::id()));
    ///     coro::fs::File::create_new(&path).await?;
    ///     let err = coro::fs::File::create_new(&path).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A blank [`OpenOptions`], to open a file some other way.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-opts-{}", std::process::id()));
    ///     let _file = coro::fs::File::options().read(true).write(true).create(true).open(&path).await?;
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Adopts an open std file. Its work runs on the blocking pool of the
    /// coro runtime each operation is polled in (or coro's fallback pool
    /// outside one).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::io::AsyncReadExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let std = std::fs::File::open("/etc/hostname")?;
    ///     let mut file = coro::fs::File::from_std(std);
    ///     let mut name = String::new();
    ///     file.read_to_string(&mut name).await?;
    ///     assert!(!name.is_empty());
    ///     Ok(())
    /// }
    /// ```
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            reads: ReadSeek::default(),
            writes: Arc::new(WriteQueue::new()),
        }
    }

    /// Waits for queued writes and any operation in flight, then gives
    /// back the std file, positioned where this file's reads, writes and
    /// seeks left it. A write error not yet reported is lost: call
    /// [`flush`](futures_util::AsyncWriteExt::flush) first to see it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Seek;
    /// use coro::io::AsyncWriteExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-intostd-{}", std::process::id()));
    ///     let mut file = coro::fs::File::create(&path).await?;
    ///     file.write_all(b"12345").await?;
    ///     let mut std = file.into_std().await;
    ///     assert_eq!(std.stream_position()?, 5);
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn into_std(mut self) -> std::fs::File {
        let _unreported = self.settled(|_| Ok(())).await;
        Arc::try_unwrap(self.std).unwrap_or_else(|shared| {
            // Unreachable: once settled nothing else holds the file. A
            // duplicate descriptor is the next best thing.
            shared
                .try_clone()
                .expect("coro::fs::File::into_std: cannot duplicate the file descriptor")
        })
    }

    /// The std file, if no operation is in flight, no write is queued and
    /// nothing was read ahead; otherwise the `File` back unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let file = coro::fs::File::open("/etc/hostname").await?;
    ///     let std: std::fs::File = file.try_into_std().unwrap();
    ///     assert!(std.metadata()?.is_file());
    ///     Ok(())
    /// }
    /// ```
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if !self.reads.is_idle() || self.reads.unread() > 0 || !self.writes.is_idle() {
            return Err(self);
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(shared) => {
                self.std = shared;
                Err(self)
            }
        }
    }

    /// The file's metadata. Writes still queued may not be counted in its
    /// length yet: [`flush`](futures_util::AsyncWriteExt::flush) first.
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let file = coro::fs::File::open("/etc/hostname").await?;
    ///     assert!(file.metadata().await?.is_file());
    ///     Ok(())
    /// }
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// A second `File` for the same open file (sharing its position).
    ///
    /// # Examples
    ///
    /// ```
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let file = coro::fs::File::open("/etc/hostname").await?;
    ///     let twin = file.try_clone().await?;
    ///     assert_eq!(twin.metadata().await?.len(), file.metadata().await?.len());
    ///     Ok(())
    /// }
    /// ```
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.clone();
        let clone = asyncify(move || std.try_clone()).await?;
        Ok(File::from_std(clone))
    }

    /// Sets the file's permissions.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-fperm-{}", std::process::id()));
    ///     let file = coro::fs::File::create(&path).await?;
    ///     file.set_permissions(std::fs::Permissions::from_mode(0o400)).await?;
    ///     assert!(file.metadata().await?.permissions().readonly());
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(permissions)).await
    }

    /// Truncates or extends the file to `size` bytes, after queued writes
    /// (reporting their error, if any). The position does not move.
    ///
    /// Takes `&mut self` (tokio's takes `&self`): the file's buffers
    /// belong to one user at a time, as for reads and writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::io::AsyncWriteExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-setlen-{}", std::process::id()));
    ///     let mut file = coro::fs::File::create(&path).await?;
    ///     file.write_all(b"0123456789").await?;
    ///     file.set_len(4).await?;
    ///     assert_eq!(coro::fs::read(&path).await?, b"0123");
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.settled(move |file| file.set_len(size)).await
    }

    /// Waits for queued writes (reporting their error, if any), then asks
    /// the OS to put the file's data and metadata on the disk (`fsync`).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::io::AsyncWriteExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-sync-{}", std::process::id()));
    ///     let mut file = coro::fs::File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_all().await?;
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.settled(|file| file.sync_all()).await
    }

    /// Like [`sync_all`](Self::sync_all), without the metadata that is not
    /// needed to read the data back (`fdatasync`).
    ///
    /// # Examples
    ///
    /// ```
    /// use coro::io::AsyncWriteExt;
    ///
    /// #[coro::main(flavor = "current_thread")]
    /// async fn main() -> std::io::Result<()> {
    ///     let path = std::env::temp_dir().join(format!("coro-sdata-{}", std::process::id()));
    ///     let mut file = coro::fs::File::create(&path).await?;
    ///     file.write_all(b"data").await?;
    ///     file.sync_data().await?;
    ///     coro::fs::remove_file(&path).await
    /// }
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.settled(|file| file.sync_data()).await
    }

    /// Waits until no write is queued and nothing is in flight, undoes the
    /// read-ahead, then runs `f` on the blocking pool.
    async fn settled<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&std::fs::File) -> io::Result<R> + Send + 'static,
    ) -> io::Result<R> {
        poll_fn(|cx| {
            ready!(self.writes.poll_idle(cx))?;
            while !self.reads.is_idle() {
                // A seek nobody waits for any more: only its effect counts.
                ready!(self.reads.poll_complete(cx));
            }
            Poll::Ready(Ok::<_, io::Error>(()))
        })
        .await?;
        let unread = self.reads.discard() as i64;
        let std = self.std.clone();
        spawn(move || {
            if unread != 0 {
                (&*std).seek(SeekFrom::Current(-unread))?;
            }
            f(&std)
        })
        .await
        .map_err(not_run)?
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Reads come after the writes before them.
        ready!(this.writes.poll_idle(cx))?;
        this.reads.poll_read(cx, &this.std, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        while !this.reads.is_idle() {
            // A read-ahead or an abandoned seek: let it land first.
            ready!(this.reads.poll_complete(cx));
        }
        let unread = this.reads.discard();
        if unread > 0 {
            this.writes.seek_before_next_write(-(unread as i64));
        }
        this.writes.poll_write(cx, &this.std, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writes.poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writes.poll_idle(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            ready!(this.writes.poll_idle(cx))?;
            if this.reads.seeking() {
                if let Some(result) = ready!(this.reads.poll_complete(cx)) {
                    return Poll::Ready(result);
                }
                continue;
            }
            if !this.reads.is_idle() {
                ready!(this.reads.poll_complete(cx));
                continue;
            }
            let pos = match pos {
                SeekFrom::Current(offset) => {
                    let unread = this.reads.unread() as i64;
                    SeekFrom::Current(offset.checked_sub(unread).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidInput, "seek offset out of range")
                    })?)
                }
                other => other,
            };
            this.reads.discard();
            this.reads.start_seek(&this.std, pos);
        }
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("fd", &self.std.as_raw_fd())
            .field("read_ahead", &self.reads.unread())
            .field("writes_idle", &self.writes.is_idle())
            .finish()
    }
}
