//! The thread-per-core runtime with I/O: each shard has its own reactor,
//! timers and sockets work on every shard, and a server with one
//! `SO_REUSEPORT` listener per shard serves every connection on the shard
//! that accepted it. (Scheduling without I/O is tested in coro-core,
//! `runtime/thread_per_core_tests.rs`.)

use std::sync::Arc;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpSocket, TcpStream};
use coro::runtime::current_shard;
use coro::time::{sleep, timeout, Instant};

fn runtime(shards: usize) -> coro::Runtime {
    coro::Runtime::builder()
        .thread_per_core()
        .worker_threads(shards)
        .build()
        .unwrap()
}

/// Each shard waits in a poller of its own.
#[test]
fn every_shard_has_its_own_reactor() {
    let rt = runtime(3);
    let reactors =
        rt.block_on_each(|_| async { Arc::as_ptr(&coro_reactor::Reactor::current()) as usize });
    let mut distinct = reactors.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{reactors:?}");
    // `block_on`'s thread is served by shard 0's.
    let outside = rt.block_on(async { Arc::as_ptr(&coro_reactor::Reactor::current()) as usize });
    assert_eq!(outside, reactors[0]);
}

/// Timers fire on every shard, in order, and `timeout` works there.
#[test]
fn timers_work_on_every_shard() {
    let rt = runtime(2);
    let results = rt.block_on_each(|index| async move {
        let start = Instant::now();
        let short = coro::spawn(sleep(Duration::from_millis(5)));
        sleep(Duration::from_millis(20)).await;
        assert!(short.is_finished());
        let elapsed = start.elapsed();
        let timed_out = timeout(Duration::from_millis(5), std::future::pending::<()>())
            .await
            .is_err();
        (
            index,
            current_shard(),
            elapsed >= Duration::from_millis(20),
            timed_out,
        )
    });
    assert_eq!(
        results,
        [(0, Some(0), true, true), (1, Some(1), true, true)]
    );
    // Timers from the thread in `block_on` (driven by shard 0) work too.
    rt.block_on(sleep(Duration::from_millis(1)));
}

/// One `SO_REUSEPORT` listener per shard, each registered with its shard's
/// reactor when it starts listening there; every connection is served on
/// the shard that accepted it, and every byte comes back.
#[test]
fn a_listener_per_shard_serves_on_its_shard() {
    const SHARDS: usize = 2;
    const CLIENTS: usize = 64;
    let rt = runtime(SHARDS);
    // Bound here, off the shards; each shard turns its socket into a
    // listener (and so registers it) itself.
    let sockets: Vec<TcpSocket> = (0..SHARDS)
        .map(|_| {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseport(true).unwrap();
            socket
        })
        .collect();
    sockets[0].bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = sockets[0].local_addr().unwrap();
    for socket in &sockets[1..] {
        socket.bind(addr).unwrap();
    }
    let sockets = Arc::new(std::sync::Mutex::new(
        sockets.into_iter().map(Some).collect::<Vec<_>>(),
    ));
    let servers = rt.handle().spawn_on_each_shard(move |index| {
        let socket = sockets.lock().unwrap()[index].take().unwrap();
        async move {
            let listener = socket.listen(1024).unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                coro::spawn_local(async move {
                    let mut buf = [0; 64];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        // The reply says which shard served it.
                        let shard = current_shard().unwrap() as u8;
                        buf[..n].iter_mut().for_each(|b| *b ^= shard);
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        }
    });
    let shards_seen = rt.block_on(async {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                coro::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let message: Vec<u8> = (0..32).map(|b| (b * 7 + i) as u8 | 0x80).collect();
                    stream.write_all(&message).await.unwrap();
                    let mut reply = vec![0; message.len()];
                    stream.read_exact(&mut reply).await.unwrap();
                    let shard = reply[0] ^ message[0];
                    assert!(
                        reply.iter().zip(&message).all(|(r, m)| r ^ m == shard),
                        "bytes changed on the way"
                    );
                    shard
                })
            })
            .collect();
        let mut seen = [0; SHARDS];
        for client in clients {
            seen[client.await.unwrap() as usize] += 1;
        }
        seen
    });
    assert_eq!(shards_seen.iter().sum::<usize>(), CLIENTS);
    assert!(
        shards_seen.iter().all(|&n| n > 0),
        "one shard accepted every connection: {shards_seen:?}"
    );
    let metrics = rt.handle().metrics();
    assert_eq!(metrics.num_workers(), SHARDS);
    assert!(metrics.io_events_dispatched() > 0);
    for server in servers {
        server.abort();
    }
    // Dropping the runtime with listeners and connections open returns.
    drop(rt);
}
