//! The server's RTMP side against real publishers and players (FFmpeg 9 and 5.1, GStreamer
//! rtmp2 and librtmp, rtmpdump, nginx-rtmp): payloads must come out bit-identical.
//!
//! Needs `../shared/peers/install.sh`; CI runs these with `--include-ignored`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use live_ingest::Config;
use rtmp_core::RtmpUrl;

const PUBLISH_LIMIT: Duration = Duration::from_secs(40);
const PLAY_LIMIT: Duration = Duration::from_secs(45);

fn url(relay: std::net::SocketAddr, key: &str) -> String {
    format!("rtmp://{relay}/live/{key}")
}

/// Players connected before the publisher get everything it sends.
fn start_players(
    kinds: &[&str],
    url: &str,
    dir: &Path,
) -> Vec<(String, std::path::PathBuf, Process)> {
    let players = kinds
        .iter()
        .map(|kind| {
            let out = dir.join(format!("play-{kind}.flv"));
            // Stopped 12 s after start, once the 6 s stream has ended.
            let process = match *kind {
                "gst" => gst_player("rtmp2src", &format!("location={url}"), &out),
                "gst-librtmp" => gst_player("rtmpsrc", &format!("location={url} live=1"), &out),
                _ => script("client-play.sh", &[kind, url, out.to_str().unwrap(), "12"]),
            };
            (kind.to_string(), out, process)
        })
        .collect();
    // Let every player reach `play` before the publisher starts.
    std::thread::sleep(Duration::from_millis(1500));
    players
}

/// A GStreamer player like `client-play.sh gst|gst-librtmp`, but writing every buffer at
/// once (`buffer-mode=unbuffered`): rtmpsrc may ignore SIGINT while blocked in a read and
/// be killed, and a buffered filesink then loses what it had already received.
fn gst_player(element: &str, location: &str, out: &Path) -> Process {
    Process(
        std::process::Command::new("timeout")
            .args(["-s", "INT", "-k", "5", "12", "gst-launch-1.0", "-q", "-e"])
            .args([element, location, "!", "filesink"])
            .arg(format!("location={}", out.display()))
            .arg("buffer-mode=unbuffered")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start gst-launch-1.0"),
    )
}

fn publish(kind: &str, url: &str, file: &Path) -> std::process::Output {
    script("client-publish.sh", &[kind, url, file.to_str().unwrap()]).wait(PUBLISH_LIMIT)
}

/// Each player kind gets what the publisher sent. Players end differently when the
/// publisher leaves: FFmpeg (5.1 ignores `-rw_timeout` here), rtmpdump and librtmp end on
/// `NetStream.Play.UnpublishNotify`, so they play from a relay that sends it
/// (`--notify-unpublish`); GStreamer's rtmp2src plays from one that sends only `StreamEOF`
/// (the default), on which it ends by itself.
#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9, ffmpeg5, rtmpdump, gstreamer)"]
fn every_player_gets_the_publishers_payloads_bit_identical() {
    let source = corpus().join("a_h264high_bf_aac.flv");
    let notifying = start_relay(Config {
        notify_unpublish: true,
        ..Config::default()
    });
    let plain = start_relay(Config::default());
    let dir = scratch("players");
    let (notifying_url, plain_url) = (url(notifying, "players"), url(plain, "players"));
    let mut players = start_players(
        &["ffmpeg", "ffmpeg5", "rtmpdump", "gst-librtmp"],
        &notifying_url,
        &dir,
    );
    players.extend(start_players(&["gst"], &plain_url, &dir));
    std::thread::scope(|scope| {
        for url in [&notifying_url, &plain_url] {
            let source = &source;
            scope.spawn(move || {
                let published = publish("ffmpeg9", url, source);
                assert!(
                    published.status.success(),
                    "publisher: {}",
                    String::from_utf8_lossy(&published.stderr)
                );
            });
        }
    });
    let expected = fingerprint(&source);
    for (kind, out, process) in players {
        let played = process.wait(PLAY_LIMIT);
        let got = fingerprint(&out);
        // Known, open: both GStreamer sources may lose the stream's final message at its
        // end (rtmp2src ending by itself on StreamEOF, rtmpsrc closing on UnpublishNotify);
        // rtmp2src did not behind nginx-rtmp, which sends the same StreamEOF. Every other
        // payload must still be bit-identical.
        let tail_lost = kind.starts_with("gst") && got == fingerprint_without_last(&source);
        assert!(
            got == expected || tail_lost,
            "{kind} played something else: {got} != {expected}: {}",
            String::from_utf8_lossy(&played.stderr)
        );
    }
}

#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9, ffmpeg5, gstreamer)"]
fn every_publisher_kind_is_relayed_bit_identically() {
    let source = corpus().join("a_h264high_bf_aac.flv");
    let expected = fingerprint(&source);
    let relay = start_relay(Config::default());
    let dir = scratch("publishers");
    std::thread::scope(|scope| {
        for kind in ["ffmpeg9", "ffmpeg5", "gst-rtmp2", "gst-librtmp"] {
            let (dir, source, expected) = (&dir, &source, &expected);
            scope.spawn(move || {
                let url = url(relay, kind);
                let out = dir.join(format!("from-{kind}.flv"));
                let player = script(
                    "client-play.sh",
                    &["ffmpeg", &url, out.to_str().unwrap(), "20"],
                );
                std::thread::sleep(Duration::from_millis(1500));
                let published = publish(kind, &url, source);
                assert!(
                    published.status.success(),
                    "{kind}: {}",
                    String::from_utf8_lossy(&published.stderr)
                );
                player.wait(PLAY_LIMIT);
                assert_eq!(
                    &fingerprint(&out),
                    expected,
                    "payloads from {kind} changed in the relay"
                );
            });
        }
    });
}

#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9 with E-RTMP)"]
fn enhanced_rtmp_hevc_av1_opus_are_relayed_bit_identically() {
    let relay = start_relay(Config::default());
    let dir = scratch("enhanced");
    std::thread::scope(|scope| {
        for name in ["e_hevc_aac", "f_av1_aac", "g_h264_opus"] {
            let dir = &dir;
            scope.spawn(move || {
                let source = corpus().join(format!("{name}.flv"));
                let url = url(relay, name);
                let out = dir.join(format!("{name}.flv"));
                let player = script(
                    "client-play.sh",
                    &["ffmpeg", &url, out.to_str().unwrap(), "20"],
                );
                std::thread::sleep(Duration::from_millis(1500));
                let published = publish("ffmpeg9", &url, &source);
                assert!(
                    published.status.success(),
                    "{name}: {}",
                    String::from_utf8_lossy(&published.stderr)
                );
                player.wait(PLAY_LIMIT);
                let (got, expected) = (fingerprint(&out), fingerprint(&source));
                assert!(
                    !expected.starts_with("0 packets"),
                    "ffmpeg9 cannot read {name}"
                );
                assert_eq!(got, expected, "{name} changed in the relay");
            });
        }
    });
}

/// A player joining mid-stream gets metadata and sequence headers first (Opus's too,
/// which nginx-rtmp forgets) and starts on a keyframe.
#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9, rtmpdump)"]
fn late_joiners_start_with_headers_and_a_keyframe() {
    let relay = start_relay(Config::default());
    let dir = scratch("late");
    let source = corpus().join("g_h264_opus.flv");
    let url = url(relay, "late");
    let publisher = script(
        "client-publish.sh",
        &["ffmpeg9", &url, source.to_str().unwrap()],
    );
    std::thread::sleep(Duration::from_millis(3000));
    for kind in ["ffmpeg", "rtmpdump"] {
        let out = dir.join(format!("late-{kind}.flv"));
        let played =
            script("client-play.sh", &[kind, &url, out.to_str().unwrap(), "2"]).wait(PLAY_LIMIT);
        assert!(
            played.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&played.stderr)
        );
        let tags = flv_tags(&out);
        let first_video = tags
            .iter()
            .position(|t| t.contains("type= 9"))
            .expect("video arrived");
        let first_audio = tags
            .iter()
            .position(|t| t.contains("type= 8"))
            .expect("audio arrived");
        assert!(
            tags[first_video].contains("\"seq\": true"),
            "{kind}: first video tag is not a sequence header: {}",
            tags[first_video]
        );
        assert!(
            tags[first_audio].contains("\"seq\": true"),
            "{kind}: first audio tag is not OpusHead: {}",
            tags[first_audio]
        );
        let first_frame = tags
            .iter()
            .find(|t| t.contains("type= 9") && t.contains("\"seq\": false"))
            .expect("a video frame arrived");
        assert!(
            first_frame.contains("\"key\": true"),
            "{kind}: started on {first_frame}"
        );
        assert!(
            tags.iter().take(3).any(|t| t.contains("type=18")),
            "{kind}: no metadata first"
        );
        if kind == "rtmpdump" {
            // rtmpdump keeps the relay's timestamps: the stream was joined mid-way, not at 0.
            // (FFmpeg rebases every output to 0, so there is nothing to see in its file.)
            assert!(
                !tags[first_video].contains("ts=       0 "),
                "{kind}: {}",
                tags[first_video]
            );
        }
    }
    assert!(publisher.wait(PUBLISH_LIMIT).status.success());
}

#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9)"]
fn a_second_publisher_on_a_live_key_is_refused() {
    let relay = start_relay(Config::default());
    let source = corpus().join("a_h264high_bf_aac.flv");
    let url = url(relay, "taken");
    let first = script(
        "client-publish.sh",
        &["ffmpeg9", &url, source.to_str().unwrap()],
    );
    std::thread::sleep(Duration::from_millis(2000));
    let second = publish("ffmpeg9", &url, &source);
    assert!(
        !second.status.success(),
        "the second publisher was accepted"
    );
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("already being published"),
        "ffmpeg said: {said}"
    );
    assert!(
        first.wait(PUBLISH_LIMIT).status.success(),
        "the first publisher was disturbed"
    );
}

/// `--push`: our `ClientSession` re-publishes to FFmpeg 9 `-listen` and to nginx-rtmp.
#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9, nginx-rtmp)"]
fn push_republishes_to_ffmpeg_listen_and_nginx_rtmp() {
    let dir = scratch("push");
    let source = corpus().join("a_h264high_bf_aac.flv");
    let expected = fingerprint(&source);
    let (listen_port, nginx_port, nginx_http) = (free_port(), free_port(), free_port());
    let nginx_dir = dir.join("nginx");
    let started = script(
        "nginx-rtmp.sh",
        &[
            "start",
            nginx_dir.to_str().unwrap(),
            &nginx_port.to_string(),
            &nginx_http.to_string(),
        ],
    )
    .wait(Duration::from_secs(20));
    assert!(
        started.status.success(),
        "nginx: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    struct StopNginx(std::path::PathBuf);
    impl Drop for StopNginx {
        fn drop(&mut self) {
            script("nginx-rtmp.sh", &["stop", self.0.to_str().unwrap()])
                .wait(Duration::from_secs(10));
        }
    }
    let _stop = StopNginx(nginx_dir);

    let received = dir.join("ffmpeg-listen.flv");
    let listener = script(
        "rtmp-listen.sh",
        &[
            "recv",
            &format!("rtmp://127.0.0.1:{listen_port}/live/pushed"),
            received.to_str().unwrap(),
            "40",
        ],
    );
    let from_nginx = dir.join("from-nginx.flv");
    let nginx_player = script(
        "client-play.sh",
        &[
            "ffmpeg",
            &format!("rtmp://127.0.0.1:{nginx_port}/live/pushed"),
            from_nginx.to_str().unwrap(),
            "20",
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));

    let config = Config {
        push: vec![
            RtmpUrl::parse(&format!("rtmp://127.0.0.1:{listen_port}/live")).unwrap(),
            RtmpUrl::parse(&format!("rtmp://127.0.0.1:{nginx_port}/live")).unwrap(),
        ],
        ..Config::default()
    };
    let relay = start_relay(config);
    let published = publish("ffmpeg9", &url(relay, "pushed"), &source);
    assert!(published.status.success());
    let listened = listener.wait(PLAY_LIMIT);
    assert_eq!(
        fingerprint(&received),
        expected,
        "ffmpeg -listen: {}",
        String::from_utf8_lossy(&listened.stderr)
    );
    nginx_player.wait(PLAY_LIMIT);
    assert_eq!(fingerprint(&from_nginx), expected, "through nginx-rtmp");
}

/// A player that stops reading must not slow the publisher or the other players: the
/// relay drops what its queue cannot hold and moves it to the next keyframe.
#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (rtmpdump, python3)"]
fn a_stalled_player_slows_neither_the_publisher_nor_other_players() {
    use std::io::{Read, Write};
    use std::time::Instant;

    let relay = start_relay(Config::default());
    let dir = scratch("stalled");
    let source = corpus().join("k_h264_gop30.flv");
    let url = url(relay, "stalled");

    // The stalled player: our own client, which reads until Play.Start and then never again.
    let mut stalled = std::net::TcpStream::connect(relay).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let parsed = RtmpUrl::parse(&url).unwrap();
    let mut client = rtmp_core::ClientSession::new(
        rtmp_core::ClientConfig::new(&parsed.app, parsed.tc_url()),
        Instant::now(),
    );
    client.play(&parsed.key);
    let (mut input, mut buffer) = (bytes::BytesMut::new(), [0u8; 4096]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.is_active() {
        assert!(
            Instant::now() < deadline,
            "the stalled player never started"
        );
        let mut out = bytes::BytesMut::new();
        client.output().copy_to(&mut out);
        stalled.write_all(&out).unwrap();
        if let Ok(n) = stalled.read(&mut buffer) {
            input.extend_from_slice(&buffer[..n]);
            client.handle_input(&mut input, Instant::now()).unwrap();
            while client.poll_event().is_some() {}
        }
    }

    let out = dir.join("rtmpdump.flv");
    let player = script(
        "client-play.sh",
        &["rtmpdump", &url, out.to_str().unwrap(), "25"],
    );
    std::thread::sleep(Duration::from_millis(1500));
    // About 12 MB of media as fast as the publisher can send it: far more than the
    // stalled player's queue and socket buffers hold.
    let started = Instant::now();
    let rawpub = peers().join("rtmp-rawpub.py");
    let published = Process(
        std::process::Command::new("python3")
            .arg(rawpub)
            .args([
                url.as_str(),
                source.to_str().unwrap(),
                "--fast",
                "--loop",
                "40",
                "--timeout",
                "30",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start rtmp-rawpub.py"),
    )
    .wait(Duration::from_secs(60));
    let publish_time = started.elapsed();
    assert!(
        published.status.success(),
        "publisher: {}",
        String::from_utf8_lossy(&published.stderr)
    );
    assert!(
        publish_time < Duration::from_secs(20),
        "the publisher was held back: {publish_time:?}"
    );

    player.wait(Duration::from_secs(45));
    let info = flvinfo(&out);
    let (got, source_last) = (last_video_ts(&info), last_video_ts(&flvinfo(&source)));
    // 40 passes, each shifted by the previous one's end: the other player saw the last one.
    assert!(
        got >= 39 * source_last,
        "rtmpdump stopped at {got} ms of {} ms: {info}",
        40 * source_last
    );
    drop(stalled);
}

/// The video track's `last_ts` in a `flvinfo.py` summary (0 when absent).
fn last_video_ts(info: &str) -> u64 {
    let track = info.split("\"video\"").nth(1).unwrap_or_default();
    let value = track.split("\"last_ts\":").nth(1).unwrap_or_default();
    value
        .split([',', '\n'])
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0)
}
