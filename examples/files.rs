//! gevent's threadpool for files: disk work off the event loop.
//!
//! The Python lesson:
//!
//! ```python
//! import gevent
//! from gevent.threadpool import ThreadPool
//!
//! pool = gevent.get_hub().threadpool      # or ThreadPool(3)
//!
//! def write(path, lines):
//!     with open(path, "w") as f:
//!         f.writelines(f"{path} line {i}\n" for i in range(lines))
//!
//! def count_lines(path):
//!     with open(path) as f:
//!         return sum(1 for _ in f)
//!
//! jobs = [pool.spawn(write, f"file-{n}.txt", 1000 * (n + 1)) for n in range(5)]
//! gevent.joinall(jobs)
//! counts = [pool.spawn(count_lines, f"file-{n}.txt") for n in range(5)]
//! gevent.joinall(counts)
//! ```
//!
//! A regular file is always "ready" to epoll, so no event loop can wait for
//! a disk: gevent hands file work to threads, and so does coro. `coro::fs`
//! does it for you (each call runs on the blocking pool), and its `File`
//! batches the work: writes are queued and written by one blocking trip,
//! reads fetch 256 KiB at a time. While a blocking thread works, the task
//! waits like any task waiting for a socket, and the worker runs others.
//! `spawn_blocking` is `pool.spawn` for any other blocking call.
//!
//! ```text
//! cargo run --example files
//! cargo run --example files -- --files 3 --lines 10
//! ```

#[path = "common/args.rs"]
mod args;

use std::path::{Path, PathBuf};

use coro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use futures::TryStreamExt;

const USAGE: &str = "usage: files [--files N (5)] [--lines N (1000, times the file number)]";

/// `write(path, lines)`: a buffered stream of writes, flushed at the end
/// (where a write error, say a full disk, would be reported).
async fn write(path: PathBuf, lines: usize) -> std::io::Result<()> {
    let mut file = coro::fs::File::create(&path).await?;
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for i in 0..lines {
        file.write_all(format!("{name} line {i}\n").as_bytes())
            .await?;
    }
    file.flush().await
}

/// `count_lines(path)`: `for _ in f`, through a `BufReader`.
async fn count_lines(path: PathBuf) -> std::io::Result<usize> {
    let file = coro::fs::File::open(path).await?;
    let lines: Vec<String> = BufReader::new(file).lines().try_collect().await?;
    Ok(lines.len())
}

#[coro::main]
async fn main() -> std::io::Result<()> {
    let args = args::Args::parse(USAGE);
    let files: usize = args.get("files", 5);
    let lines: usize = args.get("lines", 1000);

    let dir = std::env::temp_dir().join(format!("coro-files-lesson-{}", std::process::id()));
    coro::fs::create_dir_all(&dir).await?;
    let path = |n: usize| dir.join(format!("file-{n}.txt"));

    // jobs = [pool.spawn(write, ...)]; gevent.joinall(jobs)
    let writes = (0..files).map(|n| coro::spawn(write(path(n), lines * (n + 1))));
    for result in coro::task::join_all(writes).await {
        result.expect("writer panicked")?;
    }
    // counts = [pool.spawn(count_lines, ...)]
    let counts = (0..files).map(|n| coro::spawn(count_lines(path(n))));
    for (n, count) in coro::task::join_all(counts).await.into_iter().enumerate() {
        println!("file-{n}.txt: {} lines", count.expect("reader panicked")?);
    }

    // The directory, listed in batches, and each size from its metadata.
    let mut entries = coro::fs::read_dir(&dir).await?;
    let mut total = 0;
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        total += entry.metadata().await?.len();
        names.push(entry.file_name());
    }
    println!("{} files, {total} bytes", names.len());

    // pool.spawn(any_blocking_call): spawn_blocking.
    let largest = coro::spawn_blocking({
        let dir = dir.clone();
        move || largest_file(&dir)
    })
    .await
    .expect("blocking task panicked")?;
    println!("largest: {largest}");

    coro::fs::remove_dir_all(&dir).await
}

/// A plain blocking function, as `pool.spawn` would run.
fn largest_file(dir: &Path) -> std::io::Result<String> {
    let mut best = (0, String::new());
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let len = entry.metadata()?.len();
        if len > best.0 {
            best = (len, entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(best.1)
}
