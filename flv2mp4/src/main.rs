//! `flv2mp4`: FLV uploads to faststart MP4 without re-encoding, broken
//! files repaired.
//!
//! ```text
//! flv2mp4 IN.flv OUT.mp4
//! flv2mp4 --out-dir DIR FILES...
//! flv2mp4 --fragmented IN.flv OUT.mp4
//! ```
//!
//! One line per file on stdout (`--report json`: one JSON object per line
//! with every repair); a progress bar on stderr for several files or a big
//! one. Exit status: 0 every file converted, 1 some failed, 2 usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use flv2mp4::{convert, Options, Report, Strategy};
use indicatif::{ProgressBar, ProgressStyle};

/// FLV to faststart MP4, without re-encoding; broken uploads repaired.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    after_help = "Exit status: 0 every file converted, 1 some files failed, 2 usage error."
)]
struct Cli {
    /// `IN.flv OUT.mp4`, or with --out-dir the FLV files to convert.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
    /// Write DIR/NAME.mp4 for each input NAME.flv.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// What to print per file: a line of text, or a JSON object with every repair.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    report: ReportFormat,
    /// Close up forward timestamp jumps longer than this (milliseconds).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    max_gap_ms: u32,
    /// Write a fragmented MP4 (moof/mdat fragments at key frames) with a
    /// sidx and an mfra for seeking, instead of a progressive one.
    #[arg(long)]
    fragmented: bool,
    /// How the moov gets before the media data: read the input twice
    /// (default, the output written once) or through a temporary file.
    #[arg(long, value_enum, default_value_t = StrategyArg::TwoPass, hide = true)]
    strategy: StrategyArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    TwoPass,
    TempFile,
}

/// Inputs at least this big get a progress bar even alone.
const BIG: u64 = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let jobs = match jobs(&cli) {
        Ok(jobs) => jobs,
        Err(message) => {
            eprintln!("flv2mp4: {message}");
            return ExitCode::from(2);
        }
    };
    let mut options = Options::default();
    options.max_gap_ms = cli.max_gap_ms;
    options.fragmented = cli.fragmented;
    options.strategy = match cli.strategy {
        StrategyArg::TwoPass => Strategy::TwoPass,
        StrategyArg::TempFile => Strategy::TempFile,
    };
    let sizes: Vec<u64> = jobs
        .iter()
        .map(|(input, _)| std::fs::metadata(input).map_or(0, |m| m.len()))
        .collect();
    let total: u64 = sizes.iter().sum();
    let passes = if options.strategy == Strategy::TwoPass || options.fragmented {
        2
    } else {
        1
    };
    let bar = if jobs.len() > 1 || total >= BIG {
        let bar = ProgressBar::new(total * passes);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut failed = 0;
    for (input, output) in &jobs {
        bar.set_message(input.display().to_string());
        let result = convert(input, output, &options, &mut |n| bar.inc(n));
        let line = match &result {
            Ok(report) => line(cli.report, input, output, Ok(report)),
            Err(e) => {
                failed += 1;
                line(cli.report, input, output, Err(&e.to_string()))
            }
        };
        bar.suspend(|| println!("{line}"));
    }
    bar.finish_and_clear();
    ExitCode::from(u8::from(failed > 0))
}

/// (input, output) pairs, or why the command line makes no sense.
fn jobs(cli: &Cli) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    match &cli.out_dir {
        None => match &cli.files[..] {
            [input, output] => Ok(vec![(input.clone(), output.clone())]),
            _ => Err("expected IN.flv OUT.mp4, or --out-dir DIR FILES... (see --help)".to_owned()),
        },
        Some(dir) => {
            if !dir.is_dir() {
                return Err(format!("--out-dir {}: not a directory", dir.display()));
            }
            Ok(cli
                .files
                .iter()
                .map(|input| {
                    let stem = input.file_stem().unwrap_or(input.as_os_str());
                    let mut name = stem.to_os_string();
                    name.push(".mp4");
                    (input.clone(), dir.join(name))
                })
                .collect())
        }
    }
}

/// The line printed for one file.
fn line(
    format: ReportFormat,
    input: &Path,
    output: &Path,
    result: Result<&Report, &str>,
) -> String {
    match (format, result) {
        (ReportFormat::Text, Ok(r)) => {
            let kinds: Vec<String> = r
                .repairs
                .iter()
                .map(|x| format!("{} x{}", x.kind, x.count))
                .collect();
            format!(
                "ok {} -> {}: {} video + {} audio frames{}",
                input.display(),
                output.display(),
                r.video_frames,
                r.audio_frames,
                if kinds.is_empty() {
                    String::new()
                } else {
                    format!("; repaired: {}", kinds.join(", "))
                }
            )
        }
        (ReportFormat::Text, Err(e)) => format!("FAILED {}: {e}", input.display()),
        (ReportFormat::Json, result) => {
            let value = match result {
                Ok(r) => serde_json::json!({
                    "input": input, "output": output, "ok": true,
                    "video_frames": r.video_frames, "audio_frames": r.audio_frames,
                    "skipped_bytes": r.skipped_bytes, "repairs": r.repairs,
                }),
                Err(e) => serde_json::json!({ "input": input, "ok": false, "error": e }),
            };
            value.to_string()
        }
    }
}
