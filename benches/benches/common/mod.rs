//! Helpers shared by the bench binaries: input files, criterion settings and the
//! ratio summary read back from criterion's own estimates.

#![allow(dead_code)] // each bench binary uses a different subset

pub(crate) mod alloc;
pub(crate) mod ffmpeg;
pub(crate) mod walker;

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;

/// `benches/data/`, where `benches/setup.sh` writes the inputs.
pub(crate) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Reads `benches/data/NAME`, or says how to make it and returns `None`.
pub(crate) fn load(name: &str) -> Option<Vec<u8>> {
    let path = data_dir().join(name);
    match std::fs::read(&path) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!(
                "benches: cannot read {} ({e}).\n\
                 The bench inputs are generated, not committed: run `benches/setup.sh` \
                 (needs FFmpeg 9, see benches/README.md), then `cargo bench -p benches`.\n\
                 Skipping this bench.",
                path.display()
            );
            None
        }
    }
}

/// Criterion settings that keep a whole `cargo bench -p benches` run within a
/// few minutes on 2 shared cores; command-line flags still override them.
pub(crate) fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

/// Criterion's directory name for an id part (see criterion's `make_filename_safe`).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '?' | '"' | '/' | '\\' | '*' | '<' | '>' | ':' | '|' | '^' => '_',
            c => c,
        })
        .collect()
}

/// `<target>/criterion`, found as criterion finds it: `CARGO_TARGET_DIR` if set,
/// else the target directory the bench binary runs from (`<target>/release/deps/`).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(t).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Mean time per iteration in nanoseconds of `group/bench` from criterion's
/// `new/estimates.json`, or `None` when it is missing or unreadable.
pub(crate) fn mean_ns(group: &str, bench: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(safe(group))
        .join(safe(bench))
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    // {"mean":{"confidence_interval":{...},"point_estimate":123.4,...},...}
    let mean = &text[text.find("\"mean\"")?..];
    let pe = &mean[mean.find("\"point_estimate\"")? + "\"point_estimate\"".len()..];
    let pe = pe.trim_start().strip_prefix(':')?.trim_start();
    let end = pe
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(pe.len());
    pe[..end].parse().ok()
}

/// Formats a rate with a binary-free SI prefix: `8.12 GB/s`, `1.31 M msg/s`.
pub(crate) fn rate(per_s: f64, unit: &str) -> String {
    let (v, p) = if per_s >= 1e9 {
        (per_s / 1e9, "G")
    } else if per_s >= 1e6 {
        (per_s / 1e6, "M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, "k")
    } else {
        (per_s, "")
    };
    format!("{v:.2} {p}{unit}/s")
}

/// Prints `ratio A/B LABEL: 4.10x (target >= 3x)` from criterion's means of
/// `group/a` and `group/b` (time of b over time of a), or `n/a`.
pub(crate) fn print_ratio(
    group: &str,
    a: &str,
    b: &str,
    label: &str,
    target: Option<f64>,
) -> Option<f64> {
    let r = match (mean_ns(group, a), mean_ns(group, b)) {
        (Some(ta), Some(tb)) if ta > 0.0 => Some(tb / ta),
        _ => None,
    };
    let t = match (target, r) {
        (Some(t), Some(r)) => format!(
            " (target >= {t}x: {})",
            if r >= t { "met" } else { "MISSED" }
        ),
        (Some(t), None) => format!(" (target >= {t}x)"),
        _ => String::new(),
    };
    match r {
        Some(r) => println!("ratio {a} / {b} {label}: {r:.2}x{t}"),
        None => {
            println!("ratio {a} / {b} {label}: n/a (no criterion estimate; run the whole bench){t}")
        }
    }
    r
}
