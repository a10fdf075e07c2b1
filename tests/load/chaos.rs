//! What the chaos tests (`tests/chaos.rs` for the echo server,
//! `tests/chaos_http.rs` for the HTTP server) share: the seed, how a
//! connection ended, and the verdict over all connections.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::proxy::Fault;

/// The run's seed: `CORO_CHAOS_SEED` if set (a replay), else the clock.
/// Printed first, with the command that replays it.
pub fn seed(replay: &str) -> u64 {
    let seed = std::env::var("CORO_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap();
            now.as_nanos() as u64
        });
    println!("chaos seed {seed} (replay: CORO_CHAOS_SEED={seed} {replay})");
    seed
}

/// How one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything sent came back intact.
    Whole,
    /// The connection was cut (reset, or EOF before the echo was complete);
    /// every byte that did come back was right.
    Cut(String),
    /// A byte came back wrong: always a failure.
    Corrupt(String),
    /// Still running at the deadline: always a failure.
    Hung,
}

/// Prints how many connections behind each kind of fault came back whole
/// or cut, and returns the failures: a connection whose stream the proxy
/// kept but that did not come back whole, and any corrupt or hung one.
pub fn failures(results: impl IntoIterator<Item = (Fault, Outcome)>) -> Vec<String> {
    let mut by_fault: BTreeMap<&str, [usize; 2]> = BTreeMap::new();
    let mut failures = Vec::new();
    for (id, (fault, outcome)) in results.into_iter().enumerate() {
        let kind = match fault {
            Fault::Delay => "delay",
            Fault::Fragment => "1-byte fragments",
            Fault::Stall { .. } => "stall",
            Fault::Reset { .. } => "reset",
            Fault::HalfClose { .. } => "half-close",
        };
        let counts = by_fault.entry(kind).or_default();
        match &outcome {
            Outcome::Whole => counts[0] += 1,
            Outcome::Cut(_) if !fault.keeps_stream() => counts[1] += 1,
            _ => failures.push(format!("connection {id} ({fault:?}): {outcome:?}")),
        }
    }
    for (kind, [whole, cut]) in &by_fault {
        println!("{kind:>16}: {whole} whole, {cut} cut");
    }
    failures
}
