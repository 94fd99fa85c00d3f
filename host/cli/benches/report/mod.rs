//! What the benchmark binaries share: timing a closure (median and p99 after a warm-up) and
//! writing their own section of `docs/benchmarks.md` without touching the sections the others
//! own. Each bench includes it with `#[path]`; not every bench uses every item.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workspace root (benches write `docs/benchmarks.md` and read `examples/` from it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Median and 99th percentile of a timed closure.
pub struct Stats {
    /// The median.
    pub median: Duration,
    /// The 99th percentile.
    pub p99: Duration,
}

/// Runs `f` a tenth of `iters` times to warm up, then `iters` times timed.
pub fn measure(iters: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let mut samples: Vec<Duration> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    Stats {
        median: samples[samples.len() / 2],
        p99: samples[(samples.len() * 99 / 100).min(samples.len() - 1)],
    }
}

/// Replaces the section starting with `heading` (up to the next `## `) or appends it.
pub fn replace_section(doc: &str, heading: &str, section: &str) -> String {
    let lines: Vec<&str> = doc.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == heading) else {
        let mut out = doc.trim_end().to_owned();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(section.trim_end());
        out.push('\n');
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## ") || l.starts_with("# "))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out = lines[..start].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(section.trim_end());
    out.push('\n');
    if end < lines.len() {
        out.push('\n');
        out.push_str(&lines[end..].join("\n"));
        out.push('\n');
    }
    out
}

/// The gateway benchmark's prompt: 1 KB with two findings (a telephone number and an e-mail
/// address), also what the `probe` bench scans.
pub fn gateway_prompt() -> String {
    let mut p = String::from(
        "Customer ticket: please call me back at +1 212-555-0147 or write to ann.lee@example.com. ",
    );
    while p.len() < 1024 {
        p.push_str(
            "The parcel arrived late and the box was damaged on one side; I would like a refund. ",
        );
    }
    p.truncate(1024);
    p
}
