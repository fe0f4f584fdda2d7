//! RTMPS against FFmpeg 9 (built with OpenSSL, which checks the server's
//! certificate by default): it publishes to the server's RTMPS port and plays
//! back over RTMPS and plain RTMP, packets bit-identical to the source.
//!
//! Needs `../shared/peers/install.sh`; CI runs these with `--include-ignored`.

#![cfg(feature = "tls")]

mod common;
mod pki;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use live_ingest::Config;
use pki::Pki;

const LIMIT: Duration = Duration::from_secs(45);

/// FFmpeg 9 with `args`, ended after `seconds` at most.
fn ffmpeg(seconds: u32, args: &[&str]) -> Process {
    Process(
        Command::new("timeout")
            .args(["-k", "5", &seconds.to_string()])
            .arg(ffmpeg9())
            .args(["-hide_banner", "-nostdin", "-loglevel", "warning", "-y"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ffmpeg9"),
    )
}

fn path(file: &Path) -> &str {
    file.to_str().expect("a UTF-8 path")
}

#[test]
#[ignore = "needs peers: ffmpeg9 with TLS (../shared/peers/install.sh)"]
fn ffmpeg_publishes_and_plays_over_rtmps_bit_identically() {
    let pki = Pki::new("ffmpeg");
    let issued = pki.issue("localhost", 1);
    let (bound, _server) = start_server(Config {
        rtmps: Some("127.0.0.1:0".parse().unwrap()),
        tls_cert: Some(issued.cert.clone()),
        tls_key: Some(issued.key.clone()),
        // FFmpeg players end on UnpublishNotify.
        notify_unpublish: true,
        hls: false,
        ..Config::default()
    });
    let port = bound.rtmps.expect("an RTMPS listener").port();
    // localhost: the name OpenSSL checks against the certificate's DNS name.
    let rtmps = format!("rtmps://localhost:{port}/live/ff");
    let rtmp = format!("rtmp://{}/live/ff", bound.rtmp);
    let ca = pki.ca();
    let source = corpus().join("a_h264high_bf_aac.flv");
    let dir = scratch("rtmps");
    let (over_rtmps, over_rtmp) = (dir.join("rtmps.flv"), dir.join("rtmp.flv"));
    let copy = ["-map", "0", "-c", "copy", "-f", "flv"];
    let rtmps_player = ffmpeg(
        40,
        &[
            &[
                "-rw_timeout",
                "10000000",
                "-ca_file",
                path(&ca),
                "-i",
                &rtmps,
            ][..],
            &copy,
            &[path(&over_rtmps)],
        ]
        .concat(),
    );
    let rtmp_player = script("client-play.sh", &["ffmpeg", &rtmp, path(&over_rtmp), "20"]);
    std::thread::sleep(Duration::from_millis(1500));

    // Without the test's CA, FFmpeg refuses the server: the certificate is checked.
    let untrusted = ffmpeg(
        20,
        &[&["-re", "-i", path(&source)][..], &copy, &[&rtmps]].concat(),
    )
    .wait(LIMIT);
    assert!(!untrusted.status.success(), "FFmpeg trusted an unknown CA");
    let published = ffmpeg(
        40,
        &[
            &["-re", "-i", path(&source)][..],
            &copy[..4],
            &["-ca_file", path(&ca), "-f", "flv", &rtmps],
        ]
        .concat(),
    )
    .wait(LIMIT);
    assert!(
        published.status.success(),
        "publisher: {}",
        String::from_utf8_lossy(&published.stderr)
    );
    let expected = fingerprint(&source);
    for (what, player, out) in [
        ("RTMPS", rtmps_player, &over_rtmps),
        ("RTMP", rtmp_player, &over_rtmp),
    ] {
        let played = player.wait(LIMIT);
        assert_eq!(
            fingerprint(out),
            expected,
            "FFmpeg 9 over {what}: {}",
            String::from_utf8_lossy(&played.stderr)
        );
    }
}
