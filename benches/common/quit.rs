//! How the bench servers (`echo_bench_server`, `http_bench_server`) end:
//! the report that started them writes `quit` or closes their stdin.

use std::io::{self, BufRead};

/// Exits the process when stdin reaches EOF or a line says `quit`. Runs on
/// a thread of its own, blocked in `read`.
pub fn exit_on_quit() {
    for line in io::stdin().lock().lines() {
        match line {
            Ok(line) if line.trim() == "quit" => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    std::process::exit(0);
}
