//! gevent.signal_handler: react to signals in ordinary async code.
//!
//! The Python lesson (from gevent's introduction):
//!
//! ```python
//! import gevent
//! import signal
//!
//! def run_forever():
//!     gevent.sleep(1000)
//!
//! if __name__ == '__main__':
//!     gevent.signal_handler(signal.SIGQUIT, gevent.kill)
//!     thread = gevent.spawn(run_forever)
//!     thread.join()
//! ```
//!
//! gevent runs the callback in the hub when the signal arrives. Here a
//! signal is a stream that a task awaits (`Signal::recv().await`), so the
//! "handler" is a loop in a task, and "kill the greenlet" is
//! `JoinHandle::abort()`. `SIGUSR1` is counted to show that a listener
//! keeps receiving; `SIGQUIT` (Ctrl-\ in a terminal) stops `run_forever`.
//!
//! ```text
//! cargo run --example signal_handler
//! kill -USR1 <pid>      # in another terminal: "got SIGUSR1 (1)"
//! kill -QUIT <pid>      # or Ctrl-\ in the first one
//! ```

use std::io::Write as _;
use std::time::Duration;

use coro::signal::unix::{signal, SignalKind};
use futures::future::{select, Either};

#[coro::main]
async fn main() -> std::io::Result<()> {
    // gevent.signal_handler(...): listen before announcing ourselves, so a
    // signal sent right after the line below is never lost.
    let mut quit = signal(SignalKind::quit())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;

    // thread = gevent.spawn(run_forever)
    let run_forever = coro::spawn(async {
        coro::time::sleep(Duration::from_secs(1000)).await;
    });
    println!(
        "pid {}: running forever; send SIGUSR1 to count, SIGQUIT to stop",
        std::process::id()
    );
    std::io::stdout().flush()?;

    let mut usr1_count = 0;
    loop {
        match select(Box::pin(quit.recv()), Box::pin(usr1.recv())).await {
            Either::Left(_) => break,
            Either::Right(_) => {
                usr1_count += 1;
                println!("got SIGUSR1 ({usr1_count})");
                std::io::stdout().flush()?;
            }
        }
    }
    // gevent.kill(thread)
    run_forever.abort();
    let cancelled = run_forever.await.unwrap_err().is_cancelled();
    println!("got SIGQUIT: run_forever killed (cancelled: {cancelled}) after {usr1_count} SIGUSR1");
    Ok(())
}
