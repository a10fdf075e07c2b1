//! `Handle::metrics()` on a runtime with its reactor: I/O events and timers.

use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::net::{TcpListener, TcpStream};
use coro::runtime::Handle;

#[coro::test]
async fn timers_pending_counts_sleeps_until_they_end() {
    let metrics = Handle::current().metrics();
    assert_eq!(metrics.timers_pending(), 0);
    let sleepers: Vec<_> = (0..3)
        .map(|_| coro::spawn(coro::time::sleep(Duration::from_secs(3600))))
        .collect();
    // One yield lets each sleeper run once and register its timer.
    coro::yield_now().await;
    assert_eq!(metrics.timers_pending(), 3);
    for sleeper in &sleepers {
        sleeper.abort();
    }
    for sleeper in sleepers {
        assert!(sleeper.await.unwrap_err().is_cancelled());
    }
    assert_eq!(metrics.timers_pending(), 0);
}

#[coro::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_events_move_when_sockets_become_ready() {
    let metrics = Handle::current().metrics();
    let before = metrics.io_events_dispatched();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = coro::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 5];
        stream.read_exact(&mut buf).await.unwrap();
        buf
    });
    // Wait until the accept is pending, so that the connection arrives
    // as an event rather than being found by the first `accept` call.
    coro::time::sleep(Duration::from_millis(20)).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    coro::time::sleep(Duration::from_millis(20)).await;
    client.write_all(b"hello").await.unwrap();
    assert_eq!(&server.await.unwrap(), b"hello");
    assert!(metrics.io_events_dispatched() > before, "{metrics}");
    assert_eq!(metrics.num_workers(), 2);
}
