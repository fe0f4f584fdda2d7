//! Chromium plays our MP4s with a plain `<video src>` and seeks in them:
//! `tests/chromium/seek.mjs` serves the file over loopback HTTP with Range
//! requests (as a web server would) to headless Chromium (puppeteer-core,
//! installed outside the repo by `live-ingest/tests/players/install.sh`),
//! waits for 1 s of playback, sets `currentTime`, and reports. Both the
//! faststart and the `--fragmented` output of a corpus file, and of the
//! 3-minute bench file when `benches/setup.sh` made it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use flv2mp4::{convert, Options};
use serde_json::Value;

fn players_dir() -> PathBuf {
    std::env::var_os("PLAYERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/players"))
}

fn install_players() {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../live-ingest/tests/players/install.sh");
    let output = Command::new(script)
        .arg(players_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run live-ingest/tests/players/install.sh (needs npm)");
    assert!(
        output.status.success(),
        "installing puppeteer-core failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Plays `file`, seeks to `target` seconds; the harness's report.
fn seek(file: &Path, target: f64) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chromium/seek.mjs");
    let child = Command::new("node")
        .arg(script)
        .arg(file)
        .arg(target.to_string())
        .env("PLAYERS_DIR", players_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node tests/chromium/seek.mjs");
    let output = testkit::Process(child).wait(Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn number(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {report}"))
}

#[test]
#[ignore = "needs peers: chromium, node with puppeteer-core (live-ingest/tests/players/install.sh) and the corpus"]
fn chromium_plays_our_mp4s_and_seeks_in_them() {
    install_players();
    let dir = testkit::scratch("flv2mp4_chromium");
    let mut inputs = vec![(testkit::corpus().join("a_h264high_bf_aac.flv"), 4.0)];
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/data/bench_720p30.flv");
    if bench.exists() {
        inputs.push((bench, 120.0));
    }
    for (input, target) in inputs {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        for fragmented in [false, true] {
            let output = dir.join(format!(
                "{name}.{}.mp4",
                if fragmented {
                    "fragmented"
                } else {
                    "faststart"
                }
            ));
            let mut options = Options::default();
            options.fragmented = fragmented;
            convert(&input, &output, &options, &mut |_| {})
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let report = seek(&output, target);
            let what = output.file_name().unwrap().to_string_lossy().into_owned();
            assert!(report.get("error").is_none(), "{what}: {report}");
            assert_eq!(
                report["errors"],
                Value::Array(Vec::new()),
                "{what}: media errors"
            );
            let seeked = number(&report, "/seeked/currentTime");
            assert!(
                (target..target + 0.2).contains(&seeked),
                "{what}: seeked to {seeked}"
            );
            assert!(
                number(&report, "/after/currentTime") >= target + 0.5,
                "{what}: plays after the seek"
            );
            // A seek that lands by reading and decoding the file from the start
            // (what a missing audio sidx did) decodes thousands of frames.
            let decoded = number(&report, "/seeked/frames") - number(&report, "/playing/frames");
            assert!(decoded < 300.0, "{what}: {decoded} frames decoded to seek");
            println!(
                "{what}: played, seek to {target} s took {} ms with {} HTTP requests, {decoded} frames decoded to land, {:.2} s played after it",
                report["seekMs"], report["requests"], number(&report, "/after/currentTime") - target
            );
        }
    }
}
