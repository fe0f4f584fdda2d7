//! The peers' helpers (`testkit`) and an in-process server.

#![allow(dead_code, unreachable_pub)]

pub mod players;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use live_ingest::{Bound, Config, Server};
pub use testkit::*;

/// Runs the server in-process on ephemeral ports (both addresses of `config`
/// are replaced), on its own runtime thread.
pub fn start_server(mut config: Config) -> (Bound, Arc<Server>) {
    config.rtmp = "127.0.0.1:0".parse().unwrap();
    config.http = "127.0.0.1:0".parse().unwrap();
    let server = Server::new(config).expect("a valid configuration");
    let shared = server.clone();
    let bound = serve_in_background("the server", || async move {
        live_ingest::start(shared).await.expect("bind the server")
    });
    (bound, server)
}

/// [`start_server`] for a server made by the test (with hooks of its own);
/// its configuration should listen on port 0.
pub fn start_made_server(server: Arc<Server>) -> Bound {
    let shared = server.clone();
    serve_in_background("the server", || async move {
        live_ingest::start(shared).await.expect("bind the server")
    })
}

/// The server's RTMP address, for the relay tests.
pub fn start_relay(config: Config) -> SocketAddr {
    start_server(config).0.rtmp
}

/// Encodes `seconds` of FFmpeg's test pattern at `size` and `bitrate` (libx264
/// Main, a key frame a second at 30 fps; a 440 Hz tone in AAC) to `DIR/NAME.flv`
/// with FFmpeg 9.
pub fn encode_test_pattern(
    dir: &Path,
    name: &str,
    size: &str,
    bitrate: &str,
    seconds: u32,
) -> PathBuf {
    let out = dir.join(format!("{name}.flv"));
    let status = Command::new(ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=30:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=48000:duration={seconds}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "main",
        ])
        .args(["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"])
        .args(["-b:v", bitrate, "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac", "-b:a", "96k", "-f", "flv"])
        .arg(&out)
        .status()
        .expect("run ffmpeg9");
    assert!(status.success(), "ffmpeg9 could not encode {name}");
    out
}

/// One FFmpeg 9 process publishing each `(file, url)` pair in real time,
/// stream copy, as one encoder with several outputs does: every output's
/// timestamps start at zero together, so the renditions are time-aligned
/// (RFC 8216 section 6.2.4). Two separate publishers are not, and a player
/// switching between them meets a gap (Shaka jumped 0.1 s in a CI run).
pub fn publish_ladder(outputs: &[(&Path, &str)]) -> testkit::Process {
    let mut command = std::process::Command::new(testkit::ffmpeg9());
    command.args(["-hide_banner", "-loglevel", "error", "-nostdin"]);
    for (file, _) in outputs {
        command.arg("-re").arg("-i").arg(file);
    }
    for (index, (_, url)) in outputs.iter().enumerate() {
        command.args(["-map", &index.to_string(), "-c", "copy", "-f", "flv"]);
        command.arg(url);
    }
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("run ffmpeg9");
    testkit::Process(child)
}
