//! The npm players in headless Chromium (`tests/players/`): installing them and
//! running the harness, shared by the players and edge tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::Duration;

use serde_json::Value;

/// `tests/players`: the harness and its pages.
pub fn harness() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/players")
}

/// Where the npm players are installed (`$PLAYERS_DIR`, or `/opt/peers/players`).
pub fn players_dir() -> PathBuf {
    std::env::var_os("PLAYERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/players"))
}

/// `npm ci` of the players' lock file into [`players_dir`], once per process.
pub fn install_players() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let output = Command::new(harness().join("install.sh"))
            .arg(players_dir())
            .stdin(Stdio::null())
            .output()
            .expect("run tests/players/install.sh (needs npm)");
        assert!(
            output.status.success(),
            "installing the players failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// Runs `tests/players/play.mjs` with `player` on `url` for `seconds` at
/// `fps`, with `page_query` added to the player page's query.
pub fn run_harness(player: &str, url: &str, seconds: f64, fps: f64, page_query: &str) -> Output {
    super::Process(
        Command::new("node")
            .arg(harness().join("play.mjs"))
            .env("PLAY_PAGE_QUERY", page_query)
            .args([player, url, &seconds.to_string(), &fps.to_string()])
            .env("PLAYERS_DIR", players_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node tests/players/play.mjs"),
    )
    .wait(Duration::from_secs(60))
}

/// The harness's JSON report (printed), or a panic saying why there is none.
pub fn report_of(player: &str, played: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&played.stdout);
    let stderr = String::from_utf8_lossy(&played.stderr);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{player}: no JSON report ({e}):\n{stdout}\n{stderr}"));
    eprintln!("{player} report: {stdout}\n{}", stderr.trim());
    assert!(
        played.status.success() && report.get("error").is_none(),
        "{player}: the harness failed:\n{stdout}\n{stderr}"
    );
    report
}

/// A number in the report (0 when it is missing).
pub fn number(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}
