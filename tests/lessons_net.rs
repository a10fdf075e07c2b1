//! The gevent lessons as example binaries: `echo_server`, `echo_client`,
//! `spawn_join`, `joinall_timeout` and `download`, run and checked on what
//! they print. Timing never decides a test: the bounds are generous.

mod common;
use common::{example_command, run_example, spawn_example};

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

/// Parses the number before `suffix` at the end of `line` (`"sequential: 412.3 ms"`).
fn number_in(line: &str, prefix: &str, suffix: &str) -> f64 {
    line.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected {prefix:?} NUMBER {suffix:?}, got {line:?}"))
}

#[test]
fn echo_client_standalone_500_clients_get_their_uppercase_replies() {
    let out = run_example("echo_client", &[]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        lines[0], "no --addr given: started an echo server in this process",
        "{out}"
    );
    assert_eq!(lines[1], "500 clients: 500 replies ok", "{out}");
    number_in(lines[2], "elapsed: ", " ms");
}

/// Starts `echo_server` with `server_args` on a free port, runs `echo_client` with `clients`
/// concurrent clients of `messages` messages each against it (the client checks every reply
/// byte for byte), and checks that the server reports the connections it served and exits 0.
fn echo_server_serves_echo_client(server_args: &[&str], clients: usize, messages: usize) {
    let max = clients.to_string();
    let mut args = vec!["--addr", "127.0.0.1:0", "--max-connections", max.as_str()];
    args.extend_from_slice(server_args);
    // Port 0: the OS picks a free port, and the server's first line says which.
    let (mut server, lines) = spawn_example("echo_server", &args);
    // Generous: the first `cargo run` may have to build the example.
    let first = lines
        .recv_timeout(Duration::from_secs(600))
        .expect("echo_server did not print its address");
    let addr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{first}"
    );

    let out = run_example(
        "echo_client",
        &[
            "--addr",
            addr,
            "--clients",
            &clients.to_string(),
            "--messages",
            &messages.to_string(),
        ],
    );
    let client_lines: Vec<_> = out.lines().collect();
    assert_eq!(client_lines.len(), 2, "{out}");
    assert_eq!(
        client_lines[0],
        format!("{clients} clients: {} replies ok", clients * messages),
        "{out}"
    );
    number_in(client_lines[1], "elapsed: ", " ms");

    // The server stops after its connections.
    let last = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("echo_server did not report the connections it served");
    assert_eq!(last, format!("served {clients} connections"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "echo_server did not exit");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "echo_server failed: {status}");
    assert!(lines.recv_timeout(Duration::from_secs(10)).is_err());
}

#[test]
fn echo_server_and_echo_client_in_two_processes() {
    echo_server_serves_echo_client(&[], 100, 3);
}

/// The thread-per-core server: two shards, each accepting on its own `SO_REUSEPORT` listener
/// of the one announced port; the connection limit counts both shards' connections.
#[test]
fn echo_server_with_two_shards_serves_many_concurrent_clients() {
    echo_server_serves_echo_client(&["--shards", "2"], 400, 5);
}

#[test]
fn spawn_join_sleepers_take_the_longest_sleep_not_the_sum() {
    let out = run_example("spawn_join", &["--unit-ms", "200"]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "task a: sleeping 2 units",
            "task b: sleeping 5 units",
            "task a: done",
            "task b: done",
        ],
        "{out}"
    );
    assert_eq!(lines.len(), 5, "{out}");
    let total = number_in(lines[4], "total: ", " units (max 5, not the sum 7)");
    // Timers never fire early; 1.5 units (300 ms) of slack for a busy machine.
    assert!((5.0..6.5).contains(&total), "{out}");
}

#[test]
fn joinall_timeout_gives_values_in_job_order_and_times_out_the_slow_job() {
    // A generous timeout, so that only the deliberately slow job misses it.
    let out = run_example(
        "joinall_timeout",
        &["--timeout-ms", "2000", "--slow-ms", "600000"],
    );
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "job 0 localhost: 127.0.0.1",
            "job 1 127.0.0.1: 127.0.0.1",
            "job 2 192.0.2.7: 192.0.2.7",
            "job 3 ::1: ::1",
            "job 4 slow (sleeps 600000 ms): timed out",
            "joinall timed out after 2000 ms: 4 of 5 jobs finished, 1 cancelled",
        ],
        "{out}"
    );
}

/// `download` serving its own files over `scheme` (`--tls` for https,
/// with a local CA the client trusts): every byte of both passes checked.
#[cfg(feature = "hyper")]
fn download_self_served(scheme: &str, extra: &[&str]) {
    // 4 files with a 200 ms server delay each: sequential takes at least
    // 800 ms, concurrent about 200 ms. An odd size exercises the last
    // partial 512-byte chunk.
    let mut args = vec!["--files", "4", "--size", "100001", "--delay-ms", "200"];
    args.extend_from_slice(extra);
    let out = run_example("download", &args);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    let serving = format!(
        "serving 4 files of 100001 bytes over {scheme} in this process, 200 ms delay per file"
    );
    assert_eq!(
        lines[..6],
        [
            serving.as_str(),
            "file 0: 100001 bytes",
            "file 1: 100001 bytes",
            "file 2: 100001 bytes",
            "file 3: 100001 bytes",
            "checked: every byte of both passes matches what was served",
        ],
        "{out}"
    );
    let sequential = number_in(lines[6], "sequential: ", " ms");
    let concurrent = number_in(lines[7], "concurrent: ", " ms");
    assert!(sequential >= 800.0, "{out}");
    assert!(concurrent < sequential, "{out}");
}

#[test]
#[cfg(feature = "hyper")]
fn download_self_served_files_sequentially_and_concurrently() {
    download_self_served("http", &[]);
}

#[test]
#[cfg(feature = "hyper")]
fn download_self_served_files_over_https_with_a_local_ca() {
    download_self_served("https", &["--tls"]);
}

#[test]
#[cfg(feature = "hyper")]
fn download_given_urls_fetches_them_and_rejects_other_schemes() {
    // A one-file HTTP server on a std thread, answering every request the same.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let body = "x".repeat(1234);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let a = format!("http://127.0.0.1:{port}/a");
    let b = format!("http://localhost:{port}/b");
    let out = run_example("download", &[&a, &b]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], format!("file 0 ({a}): 1234 bytes"), "{out}");
    assert_eq!(lines[1], format!("file 1 ({b}): 1234 bytes"), "{out}");
    number_in(lines[2], "sequential: ", " ms");
    number_in(lines[3], "concurrent: ", " ms");

    let output = example_command("download")
        .arg("ftp://example.com/")
        .output()
        .expect("failed to run cargo");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("only http:// and https:// URLs are supported"),
        "{stderr}"
    );
}

#[test]
fn tls_echo_serves_trusted_clients_and_refuses_the_others() {
    let out = run_example("tls_echo", &["--clients", "8", "--messages", "20"]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{out}");
    assert!(
        lines[1].starts_with("8 clients echoed 20 messages each over TLS ("),
        "{out}"
    );
    assert!(lines[1].ends_with("bytes): every byte checked"), "{out}");
    assert!(
        lines[2].starts_with("untrusted client: refused (InvalidData): "),
        "{out}"
    );
    assert!(
        lines[2].ends_with("cause: rustls InvalidCertificate(UnknownIssuer)"),
        "{out}"
    );
    assert_eq!(
        lines[3], "silent client: dropped by the server at its handshake timeout",
        "{out}"
    );
    assert_eq!(
        lines[4], "server: 8 handshakes completed, 1 failed, 1 timed out",
        "{out}"
    );
}
