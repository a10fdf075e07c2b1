//! Files and directories: tokio::fs's surface, on coro's blocking pool.
//!
//! gevent cannot make a disk read cooperative (a regular file is always
//! "ready" to epoll), so it sends file work to its threadpool:
//! `gevent.get_hub().threadpool.apply(open(path).read)`. coro does the
//! same, built in: every function here runs its std counterpart on the
//! blocking pool (`spawn_blocking`) and awaits it, so a task reading a
//! file lets the others run. [`File`] adds buffering so that a stream of
//! small reads or writes is not a stream of thread hand-offs.
//!
//! Outside a coro runtime (under another executor) the work goes to a
//! fallback pool that coro starts on first use.
//!
//! # Examples
//!
//! ```
//! use coro::io::AsyncBufReadExt;
//!
//! #[coro::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let dir = std::env::temp_dir().join(format!("coro-fs-doc-{}", std::process::id()));
//!     coro::fs::create_dir_all(&dir).await?;
//!     coro::fs::write(dir.join("lines.txt"), "one\ntwo\nthree\n").await?;
//!
//!     let file = coro::fs::File::open(dir.join("lines.txt")).await?;
//!     let mut lines = coro::io::BufReader::new(file).lines();
//!     let mut count = 0;
//!     while let Some(_line) = futures_util::StreamExt::next(&mut lines).await {
//!         count += 1;
//!     }
//!     assert_eq!(count, 3);
//!     coro::fs::remove_dir_all(&dir).await
//! }
//! ```

mod blocking;
mod file;
mod functions;
mod open_options;
mod read_dir;
mod read_seek;
mod write_queue;

pub use file::File;
pub use functions::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write,
};
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};
