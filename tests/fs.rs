//! `coro::fs`: the free functions, directory listing, and `File`'s
//! reads, writes and seeks (with read-ahead and queued writes accounted
//! for), error reporting, `BufReader`, both runtime flavors and a foreign
//! executor.

mod common;
use common::*;

use std::io::{self, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use coro::fs::{self, File, OpenOptions};
use coro::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
use futures::{StreamExt, TryStreamExt};

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("coro-fs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes that differ from their neighbours and from a shifted copy.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn free_functions_do_what_std_does() {
    let dir = TempDir::new("functions");
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let a = dir.join("a");
        fs::write(&a, b"alpha").await.unwrap();
        assert_eq!(fs::read(&a).await.unwrap(), b"alpha");
        assert_eq!(fs::read_to_string(&a).await.unwrap(), "alpha");
        assert_eq!(fs::copy(&a, dir.join("b")).await.unwrap(), 5);
        fs::rename(dir.join("b"), dir.join("c")).await.unwrap();
        assert!(!fs::try_exists(dir.join("b")).await.unwrap());
        assert_eq!(fs::read(dir.join("c")).await.unwrap(), b"alpha");

        fs::create_dir(dir.join("d")).await.unwrap();
        fs::create_dir_all(dir.join("d/e/f")).await.unwrap();
        assert!(fs::metadata(dir.join("d/e/f")).await.unwrap().is_dir());
        fs::remove_dir(dir.join("d/e/f")).await.unwrap();
        fs::write(dir.join("d/e/g"), b"").await.unwrap();
        fs::remove_dir_all(dir.join("d")).await.unwrap();
        assert!(!fs::try_exists(dir.join("d")).await.unwrap());

        fs::hard_link(&a, dir.join("hard")).await.unwrap();
        assert_eq!(fs::metadata(&a).await.unwrap().nlink(), 2);
        fs::symlink(&a, dir.join("soft")).await.unwrap();
        assert!(fs::symlink_metadata(dir.join("soft"))
            .await
            .unwrap()
            .is_symlink());
        assert_eq!(fs::read_link(dir.join("soft")).await.unwrap(), a);
        assert_eq!(
            fs::canonicalize(dir.join("soft")).await.unwrap(),
            std::fs::canonicalize(&a).unwrap()
        );
        fs::set_permissions(&a, std::fs::Permissions::from_mode(0o604))
            .await
            .unwrap();
        let mode = fs::metadata(&a).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o604);
        fs::remove_file(dir.join("soft")).await.unwrap();

        let missing = dir.join("missing");
        for err in [
            fs::read(&missing).await.unwrap_err(),
            fs::remove_file(&missing).await.unwrap_err(),
            fs::metadata(&missing).await.unwrap_err(),
            File::open(&missing).await.unwrap_err(),
            fs::read_dir(&missing).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        }
        fs::write(dir.join("bad-utf8"), [0xff, 0xfe]).await.unwrap();
        let err = fs::read_to_string(dir.join("bad-utf8")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    });
}

#[test]
fn read_dir_lists_every_entry_by_next_entry_and_as_a_stream() {
    let dir = TempDir::new("read_dir");
    for i in 0..100 {
        std::fs::write(dir.join(&format!("f{i:03}")), b"").unwrap();
    }
    std::fs::create_dir(dir.join("sub")).unwrap();
    let mut expected: Vec<_> = (0..100).map(|i| format!("f{i:03}")).collect();
    expected.push("sub".to_owned());
    for (flavor, rt) in flavors() {
        let (by_next, by_stream) = rt.block_on(async {
            let mut by_next = Vec::new();
            let mut entries = fs::read_dir(&dir.0).await.unwrap();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                assert_eq!(entry.path(), dir.0.join(entry.file_name()));
                let is_dir = entry.file_type().await.unwrap().is_dir();
                assert_eq!(is_dir, entry.file_name() == "sub");
                assert_eq!(entry.metadata().await.unwrap().ino(), entry.ino());
                by_next.push(entry.file_name().into_string().unwrap());
            }
            assert!(entries.next_entry().await.unwrap().is_none(), "stays done");
            let by_stream: Vec<_> = fs::read_dir(&dir.0)
                .await
                .unwrap()
                .map_ok(|entry| entry.file_name().into_string().unwrap())
                .try_collect()
                .await
                .unwrap();
            (by_next, by_stream)
        });
        for mut names in [by_next, by_stream] {
            names.sort();
            assert_eq!(names, expected, "{flavor}");
        }
    }
}

#[test]
fn a_file_written_and_read_in_64_kib_chunks_round_trips() {
    let dir = TempDir::new("round_trip");
    let data = pattern(8 << 20 | 12345);
    for (flavor, rt) in flavors() {
        let path = dir.join(flavor);
        let expected = data.clone();
        let read_back = rt.block_on(async move {
            let mut file = File::create(&path).await.unwrap();
            for chunk in expected.chunks(64 << 10) {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), expected.len() as u64);
            drop(file);

            let mut file = File::open(&path).await.unwrap();
            let mut read_back = Vec::new();
            let mut chunk = vec![0; 64 << 10];
            loop {
                let n = file.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                read_back.extend_from_slice(&chunk[..n]);
            }
            read_back
        });
        assert!(
            read_back == data,
            "{flavor}: the bytes read differ from those written"
        );
    }
}

#[test]
fn seeks_account_for_read_ahead_and_queued_writes() {
    let dir = TempDir::new("seek");
    let path = dir.join("f");
    let data = pattern(1 << 20);
    std::fs::write(&path, &data).unwrap();
    let rt = build("multi_thread", |_| {});
    rt.block_on(async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut ten = [0; 10];
        file.read_exact(&mut ten).await.unwrap();
        assert_eq!(ten, data[..10]);
        // 256 KiB were read ahead; the caller is at 10.
        assert_eq!(file.stream_position().await.unwrap(), 10);
        // A write lands where the reads stopped...
        file.write_all(b"XYZ").await.unwrap();
        // ...and a seek counts the queued write without a flush.
        assert_eq!(file.stream_position().await.unwrap(), 13);
        let mut next = [0; 5];
        file.read_exact(&mut next).await.unwrap();
        assert_eq!(next, data[13..18]);
        file.seek(SeekFrom::Current(-8)).await.unwrap();
        let mut back = [0; 8];
        file.read_exact(&mut back).await.unwrap();
        let mut expected_back = b"XYZ".to_vec();
        expected_back.extend_from_slice(&data[13..18]);
        assert_eq!(back.as_slice(), expected_back);
        // A seek from the end, then a write past it extends the file.
        assert_eq!(file.seek(SeekFrom::End(2)).await.unwrap(), (1 << 20) + 2);
        file.write_all(b"!").await.unwrap();
        file.sync_all().await.unwrap();
    });
    let mut expected = data.clone();
    expected[10..13].copy_from_slice(b"XYZ");
    expected.extend_from_slice(&[0, 0, b'!']);
    assert!(std::fs::read(&path).unwrap() == expected);
}

#[test]
fn set_len_and_into_std_respect_the_callers_position() {
    let dir = TempDir::new("set_len");
    let path = dir.join("f");
    std::fs::write(&path, pattern(600 << 10)).unwrap();
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut buf = [0; 100];
        file.read_exact(&mut buf).await.unwrap();
        file.set_len(50).await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 50);
        file.write_all(b"tail").await.unwrap();
        let mut std = file.into_std().await;
        use std::io::Seek;
        assert_eq!(std.stream_position().unwrap(), 104);
        assert_eq!(std.metadata().unwrap().len(), 104);

        let file = File::open(&path).await.unwrap();
        assert!(file.try_into_std().is_ok());
        let mut file = File::open(&path).await.unwrap();
        file.read_exact(&mut [0; 1]).await.unwrap();
        let file = file.try_into_std().expect_err("bytes were read ahead");
        assert!(file.into_std().await.metadata().unwrap().is_file());
    });
}

#[test]
fn write_errors_surface_on_the_next_operation() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let rt = build("current_thread", |_| {});
    rt.block_on(async {
        let mut full = OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .await
            .unwrap();
        // Queued: the error is not known yet.
        full.write_all(b"lost").await.unwrap();
        let err = full.flush().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        // Reported once; the file is usable again.
        full.flush().await.unwrap();

        full.write_all(b"lost again").await.unwrap();
        let err = full.sync_all().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");

        full.write_all(b"and again").await.unwrap();
        let err = full.seek(SeekFrom::Start(0)).await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");

        // A later write reports it too, once the writer has failed: write
        // until it does.
        let err = loop {
            match full.write(b"x").await {
                Err(e) => break e,
                Ok(_) => coro::yield_now().await,
            }
        };
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
    });
}

#[test]
fn buf_reader_gives_lines_and_seeks_where_the_lines_end() {
    let dir = TempDir::new("bufreader");
    let path = dir.join("lines");
    let text: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let rt = build("multi_thread", |_| {});
    rt.block_on(async {
        let mut reader = BufReader::new(File::open(&path).await.unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).await.unwrap();
        assert_eq!(first, "line 0\n");
        assert_eq!(reader.stream_position().await.unwrap(), 7);
        let lines: Vec<String> = reader.lines().try_collect().await.unwrap();
        assert_eq!(lines.len(), 9_999);
        assert_eq!(lines.last().unwrap(), "line 9999");
    });
}

#[test]
fn files_work_under_a_foreign_executor() {
    let dir = TempDir::new("foreign");
    let path = dir.join("f");
    futures::executor::block_on(async {
        fs::write(&path, b"outside").await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "outside");
        let names: Vec<_> = fs::read_dir(&dir.0)
            .await
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
            .await;
        assert_eq!(names, ["f"]);
    });
}

/// Runs `f` on a thread and fails the test if it takes more than a minute.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the test hung: a file operation never completed")
}

#[test]
fn a_file_outlives_the_runtime_it_was_opened_on() {
    let dir = TempDir::new("outlives");
    let path = dir.join("f");
    let rt = build("multi_thread", |_| {});
    let mut file = rt.block_on(async {
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)
            .await
            .unwrap()
    });
    drop(rt);
    let text = within_a_minute(move || {
        futures::executor::block_on(async {
            file.write_all(b"after the runtime").await.unwrap();
            file.seek(SeekFrom::Start(0)).await.unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).await.unwrap();
            text
        })
    });
    assert_eq!(text, "after the runtime");
}

#[test]
fn writes_cancelled_by_a_runtime_shutdown_are_reported_not_awaited_forever() {
    let dir = TempDir::new("cancelled_writes");
    let path = dir.join("f");
    // One blocking thread, kept busy: the writer stays queued behind it.
    let rt = build("current_thread", |b| {
        b.max_blocking_threads(1);
    });
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let mut file = rt.block_on(async {
        let file = File::create(&path).await.unwrap();
        drop(coro::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        }));
        file
    });
    started_rx.recv().unwrap();
    rt.block_on(file.write_all(b"never written")).unwrap();
    // Cancels the queued writer without running it.
    rt.shutdown_background();
    let err = within_a_minute(move || futures::executor::block_on(file.flush()).unwrap_err());
    assert!(err.to_string().contains("shut down"), "{err}");
    release_tx.send(()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"");
}
