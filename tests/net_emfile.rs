//! File descriptors: an accept loop that runs out of them (`EMFILE`) and
//! recovers, the way the `TcpListener::accept` docs recommend (back off
//! with a short sleep and accept again); and a runtime dropped with ten
//! thousand pending sockets that closes every one of them.
//!
//! This is its own test binary because the first test lowers the process's
//! `RLIMIT_NOFILE` and the second counts the process's open descriptors:
//! neither may run beside other tests. `DESCRIPTORS` keeps the two apart.

mod common;
use common::*;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};
use coro::time::{sleep, timeout};

/// Held by each test for its whole run (runtime included).
static DESCRIPTORS: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    DESCRIPTORS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on a thread and waits for it at most a minute.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the test hung (60 s guard)")
}

/// The number of open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Lowers the soft `RLIMIT_NOFILE` while alive; restores it on drop (also
/// when the test panics).
struct NofileLimit {
    saved: libc::rlimit,
}

impl NofileLimit {
    fn lower_to(soft: usize) -> NofileLimit {
        let mut saved = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes one `rlimit` through the pointer, which
        // points to a live, writable `rlimit` for the whole call.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut saved) };
        assert_eq!(got, 0, "getrlimit: {}", io::Error::last_os_error());
        let lowered = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: saved.rlim_max,
        };
        set_nofile(&lowered);
        NofileLimit { saved }
    }
}

impl Drop for NofileLimit {
    fn drop(&mut self) {
        set_nofile(&self.saved);
    }
}

fn set_nofile(limit: &libc::rlimit) {
    // SAFETY: `setrlimit` only reads the `rlimit` behind the pointer, which
    // is a valid reference for the whole call.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, limit) };
    assert_eq!(set, 0, "setrlimit: {}", io::Error::last_os_error());
}

fn is_out_of_fds(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Waits (in 1 ms naps, so other tasks run) until `cond` holds.
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        sleep(Duration::from_millis(1)).await;
    }
}

/// Sends a line and checks that it comes back.
async fn echoes(stream: &mut TcpStream, line: &[u8]) {
    stream.write_all(line).await.unwrap();
    let mut got = vec![0; line.len()];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(got, line);
}

#[derive(Default)]
struct Counts {
    accepted: AtomicUsize,
    out_of_fds: AtomicUsize,
}

/// The echo server under test: the accept loop from the
/// `TcpListener::accept` docs.
async fn serve(listener: TcpListener, counts: Arc<Counts>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                counts.accepted.fetch_add(1, SeqCst);
                coro::spawn(async move {
                    let _ = coro::io::copy(&stream, &mut &stream).await;
                });
            }
            Err(e) if is_out_of_fds(&e) => {
                counts.out_of_fds.fetch_add(1, SeqCst);
                sleep(Duration::from_millis(2)).await;
            }
            Err(e) => panic!("accept failed with an unexpected error: {e}"),
        }
    }
}

#[test]
fn an_accept_loop_survives_running_out_of_descriptors() {
    let _alone = alone();
    coro::block_on(async {
        timeout(Duration::from_secs(30), run_out_and_recover())
            .await
            .expect("the test hung (30 s guard)");
    });
}

async fn run_out_and_recover() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let counts = Arc::new(Counts::default());
    coro::spawn(serve(listener, counts.clone()));
    // A spare descriptor to free later (see below).
    let spare = std::fs::File::open("/dev/null").unwrap();

    let limit = NofileLimit::lower_to(open_fds() + 64);
    // Connect until the process is out of descriptors. Each connection
    // costs two (client and accepted side), and the clients wait for each
    // accept so that the two sides stay in step. (Once no descriptor is
    // left, accept fails with EMFILE even with an empty backlog: the
    // kernel takes the descriptor first.)
    let mut clients = Vec::new();
    let refused = loop {
        match TcpStream::connect(addr).await {
            Ok(client) => clients.push(client),
            Err(e) => break e,
        }
        assert!(clients.len() <= 64, "64 more descriptors never ran out");
        // An EMFILE counted from now on is an accept that failed with this
        // client's connection in the backlog (one thread: the accept task
        // runs only while this one waits).
        let seen = counts.out_of_fds.load(SeqCst);
        until(|| {
            counts.accepted.load(SeqCst) == clients.len() || counts.out_of_fds.load(SeqCst) > seen
        })
        .await;
    };
    assert_eq!(refused.raw_os_error(), Some(libc::EMFILE), "{refused}");
    if counts.accepted.load(SeqCst) == clients.len() {
        // Every connection was accepted before the descriptors ran out:
        // free one for one more client, leaving none for its accept.
        drop(spare);
        clients.push(TcpStream::connect(addr).await.unwrap());
        let seen = counts.out_of_fds.load(SeqCst);
        until(|| counts.out_of_fds.load(SeqCst) > seen).await;
    }
    let waiting = clients.len() - counts.accepted.load(SeqCst);
    assert_eq!(waiting, 1, "one connection waits in the backlog");

    // Close half of the connections: the server's sides close too, and
    // the backing-off accept loop takes the waiting connection(s).
    let half = clients.len() / 2;
    clients.drain(..half);
    let total = half + clients.len();
    until(|| counts.accepted.load(SeqCst) == total).await;
    for (i, client) in clients.iter_mut().enumerate() {
        echoes(client, format!("still served {i}\n").as_bytes()).await;
    }
    let mut newcomer = TcpStream::connect(addr).await.unwrap();
    echoes(&mut newcomer, b"a new client after EMFILE\n").await;
    drop(limit);
}

#[test]
fn dropping_a_runtime_frees_pending_sockets_and_sleeps() {
    const PAIRS: usize = 5_000;
    const SLEEPS: usize = 10_000;
    let _alone = alone();
    let before = open_fds();
    let drops = Drops::default();
    let tasks = drops.clone();
    let during = within_a_minute(move || {
        let rt = build("multi_thread", |_| {});
        let waiting = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            for _ in 0..PAIRS {
                let client = TcpStream::connect(addr).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                for mut stream in [client, server] {
                    let guard = tasks.guard();
                    let waiting = waiting.clone();
                    coro::spawn(async move {
                        let _guard = guard;
                        waiting.fetch_add(1, SeqCst);
                        // Nobody writes or closes: pending until the drop.
                        let _ = stream.read(&mut [0; 1]).await;
                    });
                }
            }
            for _ in 0..SLEEPS {
                let guard = tasks.guard();
                let waiting = waiting.clone();
                coro::spawn(async move {
                    let _guard = guard;
                    waiting.fetch_add(1, SeqCst);
                    sleep(Duration::from_secs(3600)).await;
                });
            }
            wait_until(|| waiting.load(SeqCst) == 2 * PAIRS + SLEEPS).await;
        });
        let during = open_fds();
        drop(rt);
        during
    });
    assert_eq!(drops.created(), 2 * PAIRS + SLEEPS);
    assert_eq!(drops.count(), drops.created(), "every task was dropped");
    let after = open_fds();
    assert!(
        during >= after + 2 * PAIRS,
        "{during} fds open before the drop, {after} after"
    );
    assert!(
        after <= before + 16,
        "{after} fds open after the drop, {before} before"
    );
}
