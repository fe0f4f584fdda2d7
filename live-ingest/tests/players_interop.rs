//! Interop: real HLS players in headless Chromium play a live stream of the
//! server for at least 10 s each (issue 11).
//!
//! The server runs in-process; `rtmp-rawpub.py --loop` publishes a corpus file
//! (320x240, 30 fps H.264 + AAC) in real time, its timestamps going on across
//! the loops. `tests/players/play.mjs` drives Debian's Chromium through
//! puppeteer-core with one small page per player — Shaka Player in its
//! low-latency mode, video.js with its default engine (VHS), hls.js in its
//! low-latency mode and Chromium's own HLS — and reports, over a window of at
//! least 10 s from the first advance of the playhead: frames shown
//! (`totalVideoFrames - droppedVideoFrames`) against the frames the source sent
//! in that time (30 fps x the window's wall-clock seconds), the player's gap
//! jumps and stalls, errors, and the latency behind live (the wall clock minus
//! the PROGRAM-DATE-TIME of the playhead). Each test prints that report.
//!
//! The players are npm packages at exact versions (`tests/players/package.json`
//! and its lock file), installed outside the repo by `tests/players/install.sh`
//! into `$PLAYERS_DIR` (default `/opt/peers/players`); the first test to run
//! calls it (it does nothing when the same lock is already installed).
//!
//! One test at a time (a lock): a real-time publisher and a browser are about
//! all two cores can carry with a measurement worth reading.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::players::{self, install_players, number, report_of};
use live_ingest::{Config, SegmentFormat};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// 6 s of 320x240 H.264 High (B-frames) + AAC at 30 fps.
const SOURCE: &str = "a_h264high_bf_aac";
const FPS: f64 = 30.0;
/// The measured window, seconds of playback.
const SECONDS: f64 = 10.0;
/// Passes of the 6 s file: 30 s live, enough for start-up plus the window.
const LOOPS: &str = "5";

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Publishes the looped source to `live/KEY`, waits for its first segment,
/// plays it with `player` and returns the harness's report (printed).
fn play(player: &str, config: Config) -> Value {
    play_after(player, config, 1)
}

/// [`play`], starting the player once the stream has made `segments`
/// segments (listed or already out of the live window).
fn play_after(player: &str, config: Config, segments: usize) -> Value {
    play_looped(player, config, segments, LOOPS)
}

/// [`play_after`] with the source looped `loops` times.
fn play_looped(player: &str, config: Config, segments: usize, loops: &str) -> Value {
    let source = common::corpus().join(format!("{SOURCE}.flv"));
    play_file(player, config, segments, loops, &source)
}

/// [`play_looped`] with `source` published instead of the corpus file.
fn play_file(
    player: &str,
    config: Config,
    segments: usize,
    loops: &str,
    source: &std::path::Path,
) -> Value {
    install_players();
    let (bound, server) = common::start_server(config);
    let key = format!("{player}-test");
    let publisher = common::script(
        "rtmp-rawpub.py",
        &[
            &format!("rtmp://{}/live/{key}", bound.rtmp),
            source.to_str().expect("utf-8 path"),
            "--loop",
            loops,
        ],
    );
    let start = Instant::now();
    loop {
        let response = common::http_get(bound.http, &format!("/live/{key}/index.m3u8"));
        let text = response.text();
        let first: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if response.status == 200 && first + text.matches("#EXTINF").count() >= segments {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5 + 3 * segments as u64),
            "{key}: no segment after 15 s (status {}):\n{}",
            response.status,
            response.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let stream = server
        .registry
        .as_ref()
        .expect("HLS on")
        .get(&format!("live/{key}"))
        .expect("the stream");

    // dash.js reads the stream as MPEG-DASH (`--dash`), the others as HLS.
    let file = match player {
        "dashjs" => "manifest.mpd",
        _ => "index.m3u8",
    };
    let url = format!("http://{}/live/{key}/{file}", bound.http);
    let played = run_harness(player, &url);
    assert!(
        stream.is_live(),
        "the publisher left during playback: not a live test"
    );
    drop(publisher);
    report_of(player, &played)
}

/// Runs `tests/players/play.mjs` with `player` on `url`.
fn run_harness(player: &str, url: &str) -> std::process::Output {
    run_harness_with(player, url, "")
}

/// [`run_harness`], with `page_query` added to the player page's query.
fn run_harness_with(player: &str, url: &str, page_query: &str) -> std::process::Output {
    players::run_harness(player, url, SECONDS, FPS, page_query)
}

/// What every player must show: no fatal error, at least [`SECONDS`] of
/// playback, frames shown >= 95 % of those sent, and no gap jump.
fn assert_played_well(player: &str, report: &Value) {
    assert_played_with(player, report, 0.95);
}

/// [`assert_played_well`] with `share` of the frames sent shown at least.
fn assert_played_with(player: &str, report: &Value, share: f64) {
    let fatal = &report["fatal"];
    assert!(
        fatal.as_array().is_some_and(Vec::is_empty),
        "{player}: fatal errors {fatal}"
    );
    let media = number(report, "/window/mediaSeconds");
    assert!(
        media >= SECONDS,
        "{player}: the playhead advanced only {media:.2} s"
    );
    let shown = number(report, "/frames/shown");
    let sent = number(report, "/frames/sent");
    assert!(
        sent > 0.0 && shown >= share * sent,
        "{player}: frames shown {shown} < {:.0} % of the {sent} sent",
        100.0 * share
    );
    let jumps = &report["gapJumps"];
    assert!(
        jumps.as_array().is_some_and(Vec::is_empty),
        "{player}: gap jumps {jumps}"
    );
    eprintln!(
        "{player}: frames shown {shown} / sent {sent} ({:.1} %), stalls {}, waiting {}, latency behind live {}",
        100.0 * shown / sent,
        report["stalls"].as_array().map_or(0, Vec::len),
        report["waiting"],
        latency(report)
    );
}

fn latency(report: &Value) -> String {
    let latency = &report["latencyMs"];
    match latency["end"].as_i64() {
        Some(end) => format!(
            "{end} ms at the end (min {}, mean {}, max {})",
            latency["min"], latency["mean"], latency["max"]
        ),
        None => format!("n/a: {}", latency["note"]),
    }
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn shaka_low_latency_plays_ll_hls() {
    let _one = lock();
    let report = play("shaka", Config::default());
    assert_played_well("shaka", &report);
}

/// video.js with VHS, its default engine, at the default part target (0.5 s).
///
/// VHS starts near the live edge on a part. It looked for a part with
/// `INDEPENDENT=YES` only when the playlist lacked
/// `#EXT-X-INDEPENDENT-SEGMENTS` (segment-loader.js, `chooseNextRequest_`), so
/// while the server wrote that tag beside its parts VHS started in the middle
/// of a GOP and showed 37-83 % of the frames; `hls-mux` now leaves the tag out
/// of playlists that list parts.
///
/// FINDING (VHS, not ours to fix): even so, VHS steps back at most one part
/// to find an independent one. When it starts two or more parts after a key
/// frame it appends from the middle of a GOP and shows no video until the
/// next key frame (up to a GOP, 2 s here); with 0.5 s parts and 2 s GOPs that
/// is a matter of when the player starts, and with 0.333 s or 0.2 s parts it
/// is most starts (28-91 of 305 frames at 0.333 s; a decode error at 0.2 s).
/// So this test asserts what VHS controls least: no fatal error, 10 s played,
/// no gap jump, and >= 95 % of the frames from the first second in which it
/// showed video at half the frame rate or more; it prints the share over the
/// whole window.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn videojs_plays_ll_hls() {
    let _one = lock();
    let report = play("videojs", Config::default());
    assert_eq!(report["technology"], "vhs", "video.js used VHS");
    let fatal = &report["fatal"];
    assert!(
        fatal.as_array().is_some_and(Vec::is_empty),
        "fatal errors {fatal}"
    );
    let media = number(&report, "/window/mediaSeconds");
    assert!(media >= SECONDS, "the playhead advanced only {media:.2} s");
    let jumps = &report["gapJumps"];
    assert!(
        jumps.as_array().is_some_and(Vec::is_empty),
        "gap jumps {jumps}"
    );
    // Whole seconds of the window (the last bucket may be partial).
    let seconds: Vec<f64> = report["frames"]["perSecond"]
        .as_array()
        .map(|list| list.iter().filter_map(|s| s[1].as_f64()).collect())
        .unwrap_or_default();
    // From the first second with video at half the frame rate or more.
    let playing: Vec<f64> = seconds
        .iter()
        .copied()
        .skip_while(|&n| n < FPS / 2.0)
        .collect();
    assert!(
        playing.len() >= 7,
        "video.js showed video in fewer than 7 of the window's seconds: {seconds:?}"
    );
    let steady = playing.iter().sum::<f64>() / (FPS * playing.len() as f64);
    eprintln!(
        "videojs: frames shown {:.1} % of sent over the window, {:.1} % from the first second \
         with video ({} s of {}), latency behind live {}",
        100.0 * number(&report, "/frames/ratio"),
        100.0 * steady,
        playing.len(),
        seconds.len(),
        latency(&report)
    );
    assert!(
        steady >= 0.95,
        "video.js showed {:.1} % of the frames from its first second with video on: {seconds:?}",
        100.0 * steady
    );
}

/// The sub-second setting README documents: parts of 0.2 s (PART-HOLD-BACK
/// 0.6 s). Latency behind live is asserted below 2 s (without parts the
/// players hold back 6 s); the figure itself is printed.
fn play_sub_second(player: &str) {
    let _one = lock();
    let report = play(
        player,
        Config {
            part_duration: Some(0.2),
            ..Config::default()
        },
    );
    assert_played_well(player, &report);
    let end = report["latencyMs"]["end"].as_f64().unwrap_or(f64::MAX);
    assert!(
        end < 2000.0,
        "{player}: {end} ms behind live with 0.2 s parts"
    );
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_plays_sub_second_ll_hls() {
    play_sub_second("hlsjs");
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn shaka_plays_sub_second_ll_hls() {
    play_sub_second("shaka");
}

/// dash.js 5.2.1, with its defaults, plays the MPD the server makes over the
/// same segments (`--dash`, one representation per track): the
/// test every HLS player passes, with dash.js's own seeks once playing
/// counted as gap jumps.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn dashjs_plays_the_live_mpd() {
    let _one = lock();
    let config = Config {
        dash: true,
        ..Config::default()
    };
    let report = play_after("dashjs", config, 3);
    assert_played_well("dashjs", &report);
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_low_latency_plays_ll_hls() {
    let _one = lock();
    let report = play("hlsjs", Config::default());
    assert_played_well("hlsjs", &report);
}

/// The corpus file with an `onTextData` data message every second (as an
/// encoder's caption or score feed sends them), written to a scratch file.
fn with_text_data() -> std::path::PathBuf {
    let source = common::corpus().join(format!("{SOURCE}.flv"));
    let mut reader = flv::Reader::new(flv::ReaderOptions::default());
    reader.push(&std::fs::read(&source).expect("the corpus file"));
    reader.finish();
    let mut writer = flv::Writer::new(flv::WriterOptions::default());
    let mut out = bytes::BytesMut::new();
    let mut next = 500;
    while let Some(event) = reader.next_event().expect("a valid FLV") {
        match event {
            flv::ReadEvent::Header(header) => writer.write_header(&header, &mut out),
            flv::ReadEvent::Tag(tag) => {
                if tag.timestamp >= next {
                    let fields = amf0::Object::from_iter([
                        ("text", amf0::Value::from(format!("cue at {next} ms"))),
                        ("trackid", amf0::Value::from(1.0)),
                    ]);
                    let values = [amf0::Value::Object(fields)];
                    writer
                        .write_script(next, "onTextData", &values, &mut out)
                        .expect("script");
                    next += 1000;
                }
                writer.write_tag(&tag, &mut out).expect("tag");
            }
            _ => {}
        }
    }
    let path = common::scratch("players-text-data").join("text_data.flv");
    std::fs::write(&path, &out).expect("write the source");
    path
}

/// The publisher's `onTextData` reaches hls.js as timed metadata: ID3 in
/// `emsg` boxes in front of the fMP4 parts, fired with their times.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_fires_the_publishers_text_data_as_timed_metadata() {
    let _one = lock();
    let report = play_file("hlsjs", Config::default(), 1, LOOPS, &with_text_data());
    assert_played_well("hlsjs", &report);
    assert_text_data(&report);
}

/// The same from MPEG-TS segments: ID3 PES packets on the PMT's ID3 stream.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_fires_the_publishers_text_data_from_mpeg_ts() {
    let _one = lock();
    let config = Config {
        format: SegmentFormat::Ts,
        part_duration: None,
        ..Config::default()
    };
    let report = play_file("hlsjs", config, 1, LOOPS, &with_text_data());
    assert_played_well("hlsjs (MPEG-TS)", &report);
    assert_text_data(&report);
}

/// Every metadata sample hls.js fired is one of [`with_text_data`]'s.
fn assert_text_data(report: &Value) {
    let metadata = report["metadata"].as_array().cloned().unwrap_or_default();
    eprintln!(
        "hls.js timed metadata: {} samples, first {:?}",
        metadata.len(),
        metadata.first()
    );
    for sample in &metadata {
        assert_eq!(sample["description"], "onTextData", "{sample}");
        let value: Value =
            serde_json::from_str(sample["value"].as_str().unwrap_or("")).expect("JSON");
        assert!(
            value["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("cue at ")),
            "{sample}"
        );
    }
    // About one a second over the 10 s window and what was buffered before
    // it, in time order (a part hls.js loaded twice fires its tag twice).
    let mut times: Vec<f64> = metadata.iter().filter_map(|s| s["pts"].as_f64()).collect();
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 0.001);
    assert!(times.len() >= 8, "{times:?}\n{report}");
    assert!(times.windows(2).all(|w| w[1] - w[0] < 2.5), "{times:?}");
}

/// Chromium's own HLS (148 here, `canPlayType` "maybe"), a plain `<video src>`.
///
/// FINDING: it fails at once with `DEMUXER_ERROR_COULD_NOT_PARSE` on a live
/// playlist that holds less than three target durations (one or two 2 s
/// segments), instead of waiting for more: RFC 8216 6.3.3 says a client should
/// not start less than three target durations from the end, and Chromium
/// makes that an error. Static playlists show the same (two segments fail,
/// three play), and so did every live playlist the test gave it when it
/// started the player at the first segment. With three segments listed it
/// plays the server's LL-HLS fMP4 (and fMP4 or MPEG-TS without parts) like the
/// other players, so a page that uses it should wait for them; this test does.
/// Chromium has no `getStartDate()`: its latency behind live is n/a.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn chromium_native_hls_plays_once_three_target_durations_are_listed() {
    let _one = lock();
    let report = play_after("native", Config::default(), 3);
    assert_eq!(report["nativeHls"], "maybe", "{report}");
    assert_played_well("native", &report);
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_plays_mpeg_ts_without_parts() {
    let _one = lock();
    let report = play(
        "hlsjs",
        Config {
            format: SegmentFormat::Ts,
            part_duration: None,
            ..Config::default()
        },
    );
    assert_played_well("hlsjs (MPEG-TS)", &report);
}

/// An ABR ladder (issue 15) as an encoder sends one: a single FFmpeg 9
/// process publishing three renditions (640x360, 480x270 and 320x240
/// libx264 with key frames at the same instants, so hls.js does not merge
/// them as redundant copies of one level, and time-aligned, so a switch
/// meets no gap) to `ladder_360`, `ladder_270` and `ladder_240` under
/// `--variants _360,_270,_240`. The player loads the multivariant URL
/// `/live/ladder.m3u8`, makes three levels of it with the playlist's
/// resolutions, starts where it chooses (hls.js on the first listed, Shaka
/// on its bandwidth estimate's), is switched to level `to` three seconds in
/// (`switchTo`, as a throttled or freed network would), and plays on at that
/// size without losing frames.
fn play_ladder(player: &str, to: usize) {
    install_players();
    let dir = common::scratch("players-ladder");
    let high = common::encode_test_pattern(&dir, "high", "640x360", "800k", 30);
    let middle = common::encode_test_pattern(&dir, "middle", "480x270", "450k", 30);
    let low = common::encode_test_pattern(&dir, "low", "320x240", "250k", 30);
    let (bound, _server) = common::start_server(Config {
        variants: vec!["_360".into(), "_270".into(), "_240".into()],
        ..Config::default()
    });
    let _encoder = common::publish_ladder(&[
        (&high, &format!("rtmp://{}/live/ladder_360", bound.rtmp)),
        (&middle, &format!("rtmp://{}/live/ladder_270", bound.rtmp)),
        (&low, &format!("rtmp://{}/live/ladder_240", bound.rtmp)),
    ]);
    let start = Instant::now();
    loop {
        let response = common::http_get(bound.http, "/live/ladder.m3u8");
        if response.text().matches("#EXT-X-STREAM-INF").count() == 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            response.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://{}/live/ladder.m3u8", bound.http);
    let query = format!("switchTo={to}");
    let report = report_of(player, &run_harness_with(player, &url, &query));
    // (width, height) of each entry of the list at `pointer`, by JSON pointers.
    let pairs = |pointer: &str, w: &str, h: &str| -> Vec<(i64, i64)> {
        let number = |v: &Value, at: &str| v.pointer(at).and_then(Value::as_i64).unwrap_or(0);
        let list = report.pointer(pointer).and_then(Value::as_array);
        let size = |v: &Value| (number(v, w), number(v, h));
        list.map(|l| l.iter().map(size).collect())
            .unwrap_or_default()
    };
    let levels = pairs("/levels", "/width", "/height");
    assert_eq!(
        levels,
        [(320, 240), (480, 270), (640, 360)],
        "{player} levels: {report}"
    );
    // `sizes` holds [time, width, height] at each resize of the video.
    let sizes = pairs("/sizes", "/1", "/2");
    assert_ne!(
        sizes.first(),
        Some(&levels[to]),
        "started elsewhere: {sizes:?}"
    );
    assert_eq!(sizes.last(), Some(&levels[to]), "switched: {sizes:?}");
    eprintln!("{player} (ladder): sizes {sizes:?}");
    assert_played_well(&format!("{player} (ladder)"), &report);
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264, chromium, npm players (../shared/peers)"]
fn hlsjs_plays_a_three_rung_ladder_and_switches_up() {
    let _one = lock();
    play_ladder("hlsjs", 2);
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264, chromium, npm players (../shared/peers)"]
fn shaka_plays_a_three_rung_ladder_and_switches_down() {
    let _one = lock();
    play_ladder("shaka", 0);
}

/// AES-128 (`--encrypt aes-128`, a new key every two segments) with the
/// players' low-latency modes on; `parts` off plays it without parts.
fn play_encrypted(player: &str, parts: bool) {
    let _one = lock();
    // Without parts a player holds back three target durations: it starts
    // once the playlist has them (started at the first segment, Shaka began
    // 3 s behind live and rebuffered three times in one CI run: 89 %).
    let segments = if parts { 1 } else { 3 };
    let report = play_after(
        player,
        Config {
            encrypt: Some(live_ingest::Encrypt::Aes128),
            key_rotation: 2,
            part_duration: if parts { Some(0.5) } else { None },
            ..Config::default()
        },
        segments,
    );
    assert_played_well(player, &report);
}

/// hls.js fetches the keys and decrypts every part (each encrypted on its own,
/// with its segment's key and IV).
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn hlsjs_plays_the_encrypted_ll_hls_stream() {
    play_encrypted("hlsjs", true);
}

/// FINDING (Shaka's, not fixed here): Shaka Player 5.2 stops at its first
/// encrypted *part* with a WebCrypto `OperationError` (the AES-CBC decrypt
/// fails), although the same parts decrypt in hls.js and in the tests with the
/// key and IV the playlist gives, and although every `EXT-X-KEY` carries its
/// `IV`. Without parts it plays the encrypted stream, which this test checks.
#[test]
#[ignore = "needs peers: ffmpeg9, chromium, npm players (../shared/peers)"]
fn shaka_plays_the_encrypted_stream_without_parts() {
    play_encrypted("shaka", false);
}
