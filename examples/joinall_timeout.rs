//! `gevent.joinall(jobs, timeout=2)` and `job.value`: wait for a group of
//! jobs, but only so long; the jobs that did not make it have no value.
//!
//! The Python lesson:
//!
//! ```python
//! import gevent, socket
//! from gevent import monkey; monkey.patch_all()
//!
//! urls = ["www.google.com", "www.example.com", "www.python.org"]
//! jobs = [gevent.spawn(socket.gethostbyname, url) for url in urls]
//! gevent.joinall(jobs, timeout=2)
//! print([job.value for job in jobs])     # None for a job still running
//! ```
//!
//! Here each job is a `coro::spawn`ed task that resolves its host with
//! `coro::net::lookup_host` (which, like gevent's resolver, runs
//! `getaddrinfo` on a thread pool so the event loop never blocks). The jobs
//! go in a `JoinSet`, and `joinall(timeout=..)` is one
//! `coro::time::timeout` around the loop that joins them. Each job returns
//! its index with its answer, so the values are printed in job order
//! whatever order they finished in.
//!
//! By default no network is needed: the hosts are `localhost` and literal
//! addresses, plus one deliberately slow job (it sleeps longer than the
//! timeout before it answers) to show what a timeout looks like. Name your
//! own hosts as arguments to resolve them instead.
//!
//! ```text
//! cargo run --example joinall_timeout
//! cargo run --example joinall_timeout -- --timeout-ms 2000 www.python.org www.example.com
//! ```

#[path = "common/args.rs"]
mod args;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use coro::net::lookup_host;
use coro::task::JoinSet;
use coro::time::{sleep, timeout};

const USAGE: &str = "usage: joinall_timeout [--timeout-ms MS (300)] [--slow-ms MS (1000, 0: no \
                     slow job)] [HOST ...]";

/// What a job hands back: its index and the answer (an address or an error).
type JobValue = (usize, Result<IpAddr, String>);

/// `socket.gethostbyname(host)`: the first IPv4 address of `host` (or the
/// first address at all if it has no IPv4 one).
async fn gethostbyname(host: &str) -> Result<IpAddr, String> {
    // lookup_host wants "host:port"; the port is irrelevant here.
    let addrs: Vec<SocketAddr> = lookup_host((host, 0))
        .await
        .map_err(|error| error.to_string())?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .map(|addr| addr.ip())
        .ok_or_else(|| "no address".to_owned())
}

#[coro::main]
async fn main() {
    let args = args::Args::parse(USAGE);
    let timeout_ms: u64 = args.get("timeout-ms", 300);
    let slow_ms: u64 = args.get("slow-ms", 1000);

    // The jobs: (label, host to resolve, how long to dawdle first).
    let mut jobs: Vec<(String, String, Duration)> = Vec::new();
    if args.positional.is_empty() {
        for host in ["localhost", "127.0.0.1", "192.0.2.7", "::1"] {
            jobs.push((host.to_owned(), host.to_owned(), Duration::ZERO));
        }
        if slow_ms > 0 {
            // A job slower than the timeout: it would answer, but too late.
            let label = format!("slow (sleeps {slow_ms} ms)");
            jobs.push((
                label,
                "localhost".to_owned(),
                Duration::from_millis(slow_ms),
            ));
        }
    } else {
        for host in &args.positional {
            jobs.push((host.clone(), host.clone(), Duration::ZERO));
        }
    }

    // jobs = [gevent.spawn(socket.gethostbyname, url) for url in urls]
    let mut set: JoinSet<JobValue> = JoinSet::new();
    for (index, (_, host, dawdle)) in jobs.iter().enumerate() {
        let (host, dawdle) = (host.clone(), *dawdle);
        set.spawn(async move {
            sleep(dawdle).await;
            (index, gethostbyname(&host).await)
        });
    }

    // gevent.joinall(jobs, timeout=2): join whatever finishes in time. The
    // timeout drops the joining loop, not the jobs.
    let mut values: Vec<Option<Result<IpAddr, String>>> = vec![None; jobs.len()];
    let joined = timeout(Duration::from_millis(timeout_ms), async {
        while let Some(result) = set.join_next().await {
            let (index, value) = result.expect("a job panicked");
            values[index] = Some(value);
        }
    })
    .await;
    let late = set.len();
    // gevent would leave the late greenlets running; dropping the JoinSet
    // cancels them instead (gevent.killall(jobs)).
    drop(set);

    // print([job.value for job in jobs]), one line per job, in job order.
    for (index, ((label, _, _), value)) in jobs.iter().zip(&values).enumerate() {
        match value {
            Some(Ok(ip)) => println!("job {index} {label}: {ip}"),
            Some(Err(error)) => println!("job {index} {label}: lookup failed ({error})"),
            None => println!("job {index} {label}: timed out"),
        }
    }
    match joined {
        Ok(()) => println!("all {} jobs finished within {timeout_ms} ms", jobs.len()),
        Err(_elapsed) => println!(
            "joinall timed out after {timeout_ms} ms: {} of {} jobs finished, {late} cancelled",
            jobs.len() - late,
            jobs.len()
        ),
    }
}
