//! gevent.subprocess: a child process runs while other greenlets keep
//! going.
//!
//! The Python lesson (gevent's `examples/processes.py`):
//!
//! ```python
//! import gevent
//! from gevent.subprocess import Popen, PIPE
//!
//! def cron():
//!     while True:
//!         print("cron")
//!         gevent.sleep(0.2)
//!
//! g = gevent.spawn(cron)
//! sub = Popen(['sleep 1; uname'], stdout=PIPE, shell=True)
//! out, err = sub.communicate()   # yields to the hub while the child runs
//! g.kill()
//! print(out.rstrip())
//! ```
//!
//! `coro::process::Command` is `Popen`: its pipes and `wait` are registered
//! with the reactor, so awaiting the child's output lets the `cron` task
//! tick. The child's exit is seen without a thread per child (a pidfd in
//! epoll on Linux, `SIGCHLD` elsewhere).
//!
//! It then feeds text through `tr` with piped stdin and stdout (gevent's
//! `Popen(..., stdin=PIPE).communicate(input)`), and finally shows
//! `kill_on_drop`: a child abandoned by a timeout is killed, not leaked.
//!
//! ```text
//! cargo run --example subprocess
//! cargo run --example subprocess -- --sleep-ms 500 --tick-ms 100
//! ```

#[path = "common/args.rs"]
mod args;

use std::process::Stdio;
use std::time::Duration;

use coro::io::{AsyncReadExt, AsyncWriteExt};
use coro::process::Command;

const USAGE: &str = "usage: subprocess [--sleep-ms MS (1000)] [--tick-ms MS (200)]";

#[coro::main]
async fn main() -> std::io::Result<()> {
    let args = args::Args::parse(USAGE);
    let sleep_ms: u64 = args.get("sleep-ms", 1000);
    let tick = Duration::from_millis(args.get("tick-ms", 200));

    // g = gevent.spawn(cron)
    let cron = coro::spawn(async move {
        let mut ticks = coro::time::interval(tick);
        loop {
            ticks.tick().await;
            println!("cron");
        }
    });
    // sub = Popen(['sleep 1; uname'], stdout=PIPE, shell=True)
    let script = format!("sleep {}; uname", sleep_ms as f64 / 1000.0);
    // out, err = sub.communicate()
    let output = Command::new("sh").args(["-c", &script]).output().await?;
    cron.abort(); // g.kill()
    let _ = cron.await;
    println!("{}", String::from_utf8_lossy(&output.stdout).trim_end());

    // Popen(['tr', 'a-z', 'A-Z'], stdin=PIPE, stdout=PIPE).communicate(b"...")
    let mut tr = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = tr.stdin.take().expect("piped");
    stdin.write_all(b"piped through tr\n").await?;
    drop(stdin); // end of input: tr finishes
    let mut shouted = String::new();
    tr.stdout
        .take()
        .expect("piped")
        .read_to_string(&mut shouted)
        .await?;
    print!("{shouted}");
    println!("tr exited with {}", tr.wait().await?);

    // A child that outlives its welcome: the timeout drops the future,
    // which drops the Child, which kills it (kill_on_drop) and reaps it.
    let mut slow = Command::new("sleep");
    slow.arg("1000").kill_on_drop(true);
    match coro::time::timeout(Duration::from_millis(100), slow.status()).await {
        Ok(status) => println!("sleep 1000 finished?! {status:?}"),
        Err(_) => println!("sleep 1000 timed out and was killed"),
    }
    Ok(())
}
