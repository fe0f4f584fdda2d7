//! RTMPS against FFmpeg 9 (built with OpenSSL, which checks the server's
//! certificate by default) and GStreamer's rtmp2sink (GnuTLS through GIO): they
//! publish to the server's RTMPS port, and what plays back over RTMPS and plain
//! RTMP is the source's packets, bit-identical. And our push to an RTMPS server
//! that is not ours: FFmpeg 9 `-listen` behind an OpenSSL TLS front.
//!
//! Needs `../shared/peers/install.sh`; CI runs these with `--include-ignored`.

#![cfg(feature = "tls")]

mod common;
mod pki;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use live_ingest::{Bound, Config};
use pki::{Issued, Pki};
use rtmp_core::RtmpUrl;

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

/// A relay with RTMPS from `issued`, whose RTMP players end on UnpublishNotify
/// (as FFmpeg's do).
fn start_rtmps(issued: &Issued) -> Bound {
    start_server(Config {
        rtmps: Some("127.0.0.1:0".parse().unwrap()),
        tls_cert: Some(issued.cert.clone()),
        tls_key: Some(issued.key.clone()),
        notify_unpublish: true,
        hls: false,
        ..Config::default()
    })
    .0
}

#[test]
#[ignore = "needs peers: ffmpeg9 with TLS (../shared/peers/install.sh)"]
fn ffmpeg_publishes_and_plays_over_rtmps_bit_identically() {
    let pki = Pki::new("ffmpeg");
    let issued = pki.issue("localhost", 1);
    let bound = start_rtmps(&issued);
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

/// GStreamer checks the certificate through GIO, which reads only the system's
/// store: the test CA is not there, so only `unknown-ca` is left out of its
/// checks (the host name and the dates are still checked).
#[test]
#[ignore = "needs peers: gstreamer rtmp2sink with glib-networking, ffmpeg9 (../shared/peers/install.sh)"]
fn gstreamer_rtmp2sink_publishes_over_rtmps_bit_identically() {
    let pki = Pki::new("gstreamer");
    let issued = pki.issue("localhost", 1);
    let bound = start_rtmps(&issued);
    let port = bound.rtmps.expect("an RTMPS listener").port();
    let rtmps = format!("rtmps://localhost:{port}/live/gst");
    let rtmp = format!("rtmp://{}/live/gst", bound.rtmp);
    let source = corpus().join("a_h264high_bf_aac.flv");
    let out = scratch("rtmps-gst").join("played.flv");
    let player = script("client-play.sh", &["ffmpeg", &rtmp, path(&out), "20"]);
    std::thread::sleep(Duration::from_millis(1500));
    let sink = format!(
        "rtmp2sink location={rtmps} sync=true \
         tls-validation-flags=bad-identity+not-activated+expired+revoked+insecure+generic-error"
    );
    let pipeline = format!(
        "filesrc location={} ! flvdemux name=d flvmux name=m streamable=true ! {sink} \
         d.video ! queue ! h264parse ! m.video d.audio ! queue ! aacparse ! m.audio",
        path(&source)
    );
    let published = Process(
        Command::new("timeout")
            .args(["-k", "5", "40", "gst-launch-1.0", "-q", "-e"])
            .args(pipeline.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gst-launch-1.0"),
    )
    .wait(LIMIT);
    assert!(
        published.status.success(),
        "rtmp2sink: {}{}",
        String::from_utf8_lossy(&published.stdout),
        String::from_utf8_lossy(&published.stderr)
    );
    let played = player.wait(LIMIT);
    // The fingerprint is of audio and video: GStreamer's flvmux re-sends
    // onMetaData many times, which FFmpeg shows as a data stream.
    assert_eq!(
        fingerprint(&out),
        fingerprint(&source),
        "GStreamer over RTMPS, FFmpeg over RTMP: {}",
        String::from_utf8_lossy(&played.stderr)
    );
}

/// `--push rtmps://` to a TLS server that is not rustls: FFmpeg 9 `-listen`
/// (which cannot listen on rtmps:// itself) behind `tests/tls_front.py`
/// (Python's ssl, that is OpenSSL), the test CA given as `push_ca` and the
/// upstream named by IP address (checked against the certificate's IP name).
#[test]
#[ignore = "needs peers: ffmpeg9, python3 (../shared/peers/install.sh)"]
fn a_push_reaches_ffmpeg_listen_behind_an_openssl_tls_front() {
    let pki = Pki::new("push-front");
    let issued = pki.issue("localhost", 1);
    let dir = scratch("rtmps-push");
    let source = corpus().join("a_h264high_bf_aac.flv");
    let (listen_port, front_port) = (free_port(), free_port());
    let received = dir.join("received.flv");
    let listener = script(
        "rtmp-listen.sh",
        &[
            "recv",
            &format!("rtmp://127.0.0.1:{listen_port}/live/pushed"),
            path(&received),
            "40",
        ],
    );
    let front = Process(
        Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls_front.py"))
            .args([&front_port.to_string(), &listen_port.to_string()])
            .args([path(&issued.cert), path(&issued.key), "40"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tls_front.py"),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let upstream = RtmpUrl::parse(&format!("rtmps://127.0.0.1:{front_port}/live")).unwrap();
    let (bound, _server) = start_server(Config {
        push: vec![upstream],
        push_ca: Some(pki.ca()),
        hls: false,
        ..Config::default()
    });
    let published = script(
        "client-publish.sh",
        &[
            "ffmpeg9",
            &format!("rtmp://{}/live/pushed", bound.rtmp),
            path(&source),
        ],
    )
    .wait(LIMIT);
    assert!(
        published.status.success(),
        "publisher: {}",
        String::from_utf8_lossy(&published.stderr)
    );
    let listened = listener.wait(LIMIT);
    let fronted = front.wait(LIMIT);
    assert_eq!(
        fingerprint(&received),
        fingerprint(&source),
        "ffmpeg -listen: {}; the TLS front: {}{}",
        String::from_utf8_lossy(&listened.stderr),
        String::from_utf8_lossy(&fronted.stdout),
        String::from_utf8_lossy(&fronted.stderr)
    );
}
