//! The report's rows and the markdown table they become.

/// Which runtimes a row is compared with: coro's multi-thread runtime with
/// the best multi-thread peer, coro's current-thread runtime with the best
/// single-thread peer. Baselines (the physical limit) are shown, not ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    MultiThread,
    CurrentThread,
    Baseline,
}

/// One scenario measured on one runtime, every repetition kept.
#[derive(Clone, Debug)]
pub struct Row {
    /// e.g. `spawn_many`, `tcp_echo_500 round trips/s`.
    pub scenario: String,
    /// e.g. `coro_mt`, `tokio_ct`, `smol_local`, `raw_polling`.
    pub runtime: String,
    pub class: Class,
    /// One value per repetition, in `unit`.
    pub values: Vec<f64>,
    /// e.g. `ns/task`, `M msgs/s`, `MiB`, `µs`.
    pub unit: String,
    /// Round trips/s and switches/s: more is better. Times and bytes: less.
    pub higher_is_better: bool,
}

impl Row {
    pub fn is_coro(&self) -> bool {
        self.runtime.starts_with("coro")
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    fn min_max(&self) -> (f64, f64) {
        let min = self.values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self
            .values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    }
}

/// How coro's median compares with the best peer of its class, as "coro's
/// cost over the peer's": a time ratio (coro / peer) when less is better, and
/// the inverse when more is better, so below 1.0 always means coro wins.
pub fn ratio_to_best_peer(rows: &[Row], coro: &Row) -> Option<(f64, String)> {
    if coro.class == Class::Baseline {
        // A coro row marked as a baseline is shown, not ranked.
        return None;
    }
    let peers = rows
        .iter()
        .filter(|r| r.scenario == coro.scenario && r.class == coro.class && !r.is_coro());
    let best = if coro.higher_is_better {
        peers.max_by(|a, b| a.median().total_cmp(&b.median()))
    } else {
        peers.min_by(|a, b| a.median().total_cmp(&b.median()))
    }?;
    let (ours, theirs) = (coro.median(), best.median());
    if ours == 0.0 && theirs == 0.0 {
        // Counts such as errors: both zero is a tie, not 0/0.
        return None;
    }
    let ratio = if coro.higher_is_better {
        theirs / ours
    } else {
        ours / theirs
    };
    Some((ratio, best.runtime.clone()))
}

fn format_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The markdown table: scenario, runtime, median (min–max), and for coro's
/// rows the ratio to the best peer of its class.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | runtime | median | min–max | unit | coro ÷ best peer |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let (min, max) = row.min_max();
        let ratio = if row.is_coro() {
            match ratio_to_best_peer(rows, row) {
                Some((ratio, peer)) => format!("**{ratio:.2}** (vs {peer})"),
                None => String::new(),
            }
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {}–{} | {} | {} |\n",
            row.scenario,
            row.runtime,
            format_value(row.median()),
            format_value(min),
            format_value(max),
            row.unit,
            ratio
        ));
    }
    out
}

/// One measured quantity of a load sample `S`: name, unit, higher is
/// better, ranked (a ratio against peers; unranked rows are shown as
/// baselines), and how to read it from a sample.
pub type Metric<S> = (&'static str, &'static str, bool, bool, fn(&S) -> f64);

/// The rows of a load-against-servers report (`tcp_echo`, `http_report`):
/// `samples[(server, load)]` holds one sample per repetition. Rows come
/// grouped by load, then metric, servers in `servers` order. NaN values (a
/// run that failed) are left out, and a row with no value at all.
pub fn load_rows<S>(
    samples: &std::collections::HashMap<(usize, usize), Vec<S>>,
    loads: &[&str],
    servers: &[(&str, Class)],
    metrics: &[Metric<S>],
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (l, name) in loads.iter().enumerate() {
        for &(metric, unit, higher_is_better, ranked, get) in metrics {
            for (s, &(runtime, class)) in servers.iter().enumerate() {
                let Some(runs) = samples.get(&(s, l)) else {
                    continue;
                };
                let values: Vec<f64> = runs.iter().map(get).filter(|v| !v.is_nan()).collect();
                if values.is_empty() {
                    continue;
                }
                rows.push(Row {
                    scenario: format!("{name} {metric}"),
                    runtime: runtime.to_owned(),
                    class: if ranked { class } else { Class::Baseline },
                    values,
                    unit: unit.to_owned(),
                    higher_is_better,
                });
            }
        }
    }
    rows
}
