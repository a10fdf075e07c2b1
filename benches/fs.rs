//! File benchmarks: `coro::fs` beside `tokio::fs` and `async-fs` (smol's,
//! on the `blocking` crate's thread pool), in one run.
//!
//! Run with:
//!
//! ```text
//! cargo bench -p coro-benches --bench fs                          # 5 interleaved repetitions
//! cargo bench -p coro-benches --bench fs -- --reps 3 --dir /tmp/x # on a disk-backed directory
//! ```
//!
//! The files go to `/dev/shm` (a tmpfs) by default, so that the numbers
//! are the libraries' cost, not the disk's writeback throttling, which on
//! a shared machine depends on what the neighbours wrote last; `--dir`
//! picks another directory.
//!
//! Scenarios, each timed end to end (open to close):
//!
//! 1. `write_256m`: create a file and write 256 MiB in 64 KiB chunks
//!    (`write_all` of each chunk), then `flush` (all three report a write
//!    error there; no `fsync`, which would measure the disk).
//! 2. `read_256m`: open that file (in the page cache) and `read` it to the
//!    end into one 64 KiB buffer, checking the byte count.
//! 3. `small_files_10k`: create 10,000 files of 1 KiB (`fs::write`), then
//!    read each back (`fs::read`), one after the other in one task. The
//!    directory is emptied between repetitions, outside the timing.
//!
//! Runtimes: `coro_mt`/`coro_ct` use `coro::fs`, `tokio_mt`/`tokio_ct` use
//! `tokio::fs`, `smol_mt`/`smol_local` use `async-fs`; the multi-thread
//! ones have 2 workers and run the scenario as a root task (see
//! `common/runtimes.rs`). Repetitions are interleaved (repetition 1 runs
//! every runtime, then repetition 2, ...) so that a noisy neighbour hits
//! all of them alike. The output is the markdown table of
//! `docs/benchmarks.md` (median, min–max, coro ÷ the best peer of its
//! class: below 1.00 coro is faster).

#[path = "common/runtimes.rs"]
mod runtimes;
#[path = "common/table.rs"]
#[allow(dead_code)] // the load-report helpers are for the server reports
mod table;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use runtimes::{CoroRt, Runner, SendFut, SmolLocal, SmolMt, TokioRt};
use table::{Class, Row};

const CHUNK: usize = 64 << 10;
const BIG: usize = 256 << 20;
const SMALL_FILES: usize = 10_000;
const SMALL_LEN: usize = 1 << 10;

/// One library's file API, as a scenario uses it.
trait FsLib: Send + Sync + 'static {
    /// Creates `path` and writes `BIG` bytes in `CHUNK`s, then flushes.
    fn write_big(path: PathBuf) -> impl SendFut<io::Result<()>>;
    /// Reads `path` to the end in `CHUNK`s; the number of bytes.
    fn read_big(path: PathBuf) -> impl SendFut<io::Result<usize>>;
    fn write_small(path: PathBuf, data: &'static [u8]) -> impl SendFut<io::Result<()>>;
    fn read_small(path: PathBuf) -> impl SendFut<io::Result<Vec<u8>>>;
}

struct CoroFs;
struct TokioFs;
struct AsyncFs;

static CHUNK_DATA: [u8; CHUNK] = [0x5a; CHUNK];
static SMALL_DATA: [u8; SMALL_LEN] = [0xa5; SMALL_LEN];

/// The three implementations differ only in the crate's names: one macro.
macro_rules! fs_lib {
    ($lib:ty, $file:path, $write:path, $read:path, $write_ext:path, $read_ext:path) => {
        impl FsLib for $lib {
            fn write_big(path: PathBuf) -> impl SendFut<io::Result<()>> {
                async move {
                    use $write_ext as _;
                    let mut file = <$file>::create(path).await?;
                    for _ in 0..BIG / CHUNK {
                        file.write_all(&CHUNK_DATA).await?;
                    }
                    file.flush().await
                }
            }
            fn read_big(path: PathBuf) -> impl SendFut<io::Result<usize>> {
                async move {
                    use $read_ext as _;
                    let mut file = <$file>::open(path).await?;
                    let mut buf = vec![0u8; CHUNK];
                    let mut total = 0;
                    loop {
                        match file.read(&mut buf).await? {
                            0 => return Ok(total),
                            n => total += n,
                        }
                    }
                }
            }
            fn write_small(path: PathBuf, data: &'static [u8]) -> impl SendFut<io::Result<()>> {
                $write(path, data)
            }
            fn read_small(path: PathBuf) -> impl SendFut<io::Result<Vec<u8>>> {
                $read(path)
            }
        }
    };
}

fs_lib!(
    CoroFs,
    coro::fs::File,
    coro::fs::write,
    coro::fs::read,
    coro::io::AsyncWriteExt,
    coro::io::AsyncReadExt
);
fs_lib!(
    TokioFs,
    tokio::fs::File,
    tokio::fs::write,
    tokio::fs::read,
    tokio::io::AsyncWriteExt,
    tokio::io::AsyncReadExt
);
fs_lib!(
    AsyncFs,
    async_fs::File,
    async_fs::write,
    async_fs::read,
    futures_lite::AsyncWriteExt,
    futures_lite::AsyncReadExt
);

/// Milliseconds `future` took on `runner`.
fn time_ms<R: Runner, T: Send + 'static>(runner: &R, future: impl SendFut<T>) -> (f64, T) {
    let start = Instant::now();
    let out = runner.run(future);
    (start.elapsed().as_secs_f64() * 1e3, out)
}

fn empty_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the benchmark directory");
}

/// One repetition of every scenario on runtime `R` with library `L`:
/// `[write_256m, read_256m, small_files_10k]` in milliseconds.
fn repetition<R: Runner, L: FsLib>(dir: &Path) -> [f64; 3] {
    let runner = R::new();
    let big = dir.join(format!("big-{}", R::NAME));
    let (write_ms, written) = time_ms(&runner, L::write_big(big.clone()));
    written.expect("write_256m");
    assert_eq!(std::fs::metadata(&big).unwrap().len(), BIG as u64);
    let (read_ms, read) = time_ms(&runner, L::read_big(big.clone()));
    assert_eq!(read.expect("read_256m"), BIG);
    std::fs::remove_file(&big).unwrap();

    let small = dir.join(format!("small-{}", R::NAME));
    empty_dir(&small);
    let (small_ms, ()) = time_ms(&runner, async move {
        for i in 0..SMALL_FILES {
            L::write_small(small.join(i.to_string()), &SMALL_DATA)
                .await
                .expect("write a small file");
        }
        for i in 0..SMALL_FILES {
            let data = L::read_small(small.join(i.to_string()))
                .await
                .expect("read a small file");
            assert_eq!(data.len(), SMALL_LEN);
        }
    });
    let _ = std::fs::remove_dir_all(dir.join(format!("small-{}", R::NAME)));
    [write_ms, read_ms, small_ms]
}

type Variant = (&'static str, Class, fn(&Path) -> [f64; 3]);

const VARIANTS: [Variant; 6] = [
    (
        "coro_mt",
        Class::MultiThread,
        repetition::<CoroRt<true>, CoroFs>,
    ),
    (
        "tokio_mt",
        Class::MultiThread,
        repetition::<TokioRt<true>, TokioFs>,
    ),
    ("smol_mt", Class::MultiThread, repetition::<SmolMt, AsyncFs>),
    (
        "coro_ct",
        Class::CurrentThread,
        repetition::<CoroRt<false>, CoroFs>,
    ),
    (
        "tokio_ct",
        Class::CurrentThread,
        repetition::<TokioRt<false>, TokioFs>,
    ),
    (
        "smol_local",
        Class::CurrentThread,
        repetition::<SmolLocal, AsyncFs>,
    ),
];

const SCENARIOS: [&str; 3] = ["write_256m", "read_256m", "small_files_10k"];

fn main() {
    let mut args = std::env::args().skip(1);
    let mut reps = 5;
    let mut dir = if Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/coro-fs-bench-{}", std::process::id()))
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fs-bench")
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => {
                reps = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--reps needs a number")
            }
            "--dir" => dir = PathBuf::from(args.next().expect("--dir needs a path")),
            // `cargo bench` passes `--bench`; ignore it and any filter.
            _ => {}
        }
    }
    empty_dir(&dir);
    eprintln!("fs bench: {reps} repetitions in {}", dir.display());

    let mut values = vec![[Vec::new(), Vec::new(), Vec::new()]; VARIANTS.len()];
    for rep in 1..=reps {
        for (i, (name, _, run)) in VARIANTS.iter().enumerate() {
            let ms = run(&dir);
            eprintln!(
                "rep {rep}/{reps} {name}: write {:.0} ms, read {:.0} ms, small files {:.0} ms",
                ms[0], ms[1], ms[2]
            );
            for (scenario, value) in ms.into_iter().enumerate() {
                values[i][scenario].push(value);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut rows = Vec::new();
    for (scenario_index, scenario) in SCENARIOS.iter().enumerate() {
        for (i, (name, class, _)) in VARIANTS.iter().enumerate() {
            rows.push(Row {
                scenario: scenario.to_string(),
                runtime: name.to_string(),
                class: *class,
                values: values[i][scenario_index].clone(),
                unit: "ms".to_owned(),
                higher_is_better: false,
            });
        }
    }
    println!("{}", table::markdown(&rows));
}
