//! Interop: an Enhanced RTMP multitrack publish from FFmpeg 9 with two audio
//! tracks (issue 15).
//!
//! FFmpeg 9 encodes the test pattern with two AAC tracks (a 440 Hz tone and
//! an 880 Hz one, as two languages would be) into one FLV, which it writes
//! as Enhanced RTMP v2 multitrack audio, and publishes it in real time with
//! `-map 0 -c copy`. The server makes track 0 the audio of the stream's own
//! segments and track 1 an audio-only rendition (`audio1/index.m3u8`), both
//! declared in `/live/KEY.m3u8`. FFmpeg 9 decodes each playlist to the
//! source's frames of its track; hls.js plays the multivariant playlist,
//! switches to the second audio track and plays on.
//!
//! The same with two video tracks (320x240 and 160x120, one encoder): the
//! second is a variant of its own (`video1/index.m3u8`), FFmpeg 9 decodes
//! each variant to its source's frames, and hls.js switches between them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::players::{self, install_players, number, report_of};
use live_ingest::{Bound, Config};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Encodes the lavfi `inputs` (every one mapped, each a track) to
/// `DIR/NAME.flv` with FFmpeg 9: libx264 with a key frame a second, AAC.
fn encode_tracks(dir: &Path, name: &str, inputs: &[String]) -> PathBuf {
    let out = dir.join(format!("{name}.flv"));
    let mut ffmpeg = Command::new(common::ffmpeg9());
    ffmpeg.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
    for input in inputs {
        ffmpeg.args(["-f", "lavfi", "-i", input]);
    }
    for index in 0..inputs.len() {
        ffmpeg.args(["-map", &index.to_string()]);
    }
    let status = ffmpeg
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args(["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"])
        .args(["-c:a", "aac", "-b:a", "96k", "-f", "flv"])
        .arg(&out)
        .status()
        .expect("run ffmpeg9");
    assert!(status.success(), "ffmpeg9 could not encode {name}");
    out
}

/// `seconds` of the test pattern at `size`, 30 fps.
fn pattern(size: &str, seconds: u32) -> String {
    format!("testsrc2=size={size}:rate=30:duration={seconds}")
}

/// `seconds` of a `hz` tone at 48 kHz.
fn tone(hz: u32, seconds: u32) -> String {
    format!("sine=frequency={hz}:sample_rate=48000:duration={seconds}")
}

/// `seconds` of the test pattern (320x240) with two AAC tracks, 440 Hz and
/// 880 Hz, in `DIR/two-audio.flv`.
fn two_audio_tracks(dir: &Path, seconds: u32) -> PathBuf {
    let inputs = [
        pattern("320x240", seconds),
        tone(440, seconds),
        tone(880, seconds),
    ];
    encode_tracks(dir, "two-audio", &inputs)
}

/// `seconds` of the test pattern at 320x240 and at 160x120 (two video
/// tracks, key frames at the same instants) with one AAC track, in
/// `DIR/two-video.flv`.
fn two_video_tracks(dir: &Path, seconds: u32) -> PathBuf {
    let inputs = [
        pattern("320x240", seconds),
        pattern("160x120", seconds),
        tone(440, seconds),
    ];
    encode_tracks(dir, "two-video", &inputs)
}

/// The multivariant playlist of `live/KEY` once `done` holds for it (20 s
/// at most).
fn multivariant_when(
    bound: &Bound,
    key: &str,
    done: impl Fn(&m3u8_rs::MasterPlaylist) -> bool,
) -> m3u8_rs::MasterPlaylist {
    let start = Instant::now();
    loop {
        let response = common::http_get(bound.http, &format!("/live/{key}.m3u8"));
        if let Ok(m3u8_rs::Playlist::MasterPlaylist(parsed)) =
            m3u8_rs::parse_playlist_res(&response.body)
        {
            if done(&parsed) {
                return parsed;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{key}: {}\n{}",
            response.status,
            response.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The multivariant playlist of `live/KEY` once it lists `count` variants.
fn with_variants(bound: &Bound, key: &str, count: usize) -> m3u8_rs::MasterPlaylist {
    multivariant_when(bound, key, |p| p.variants.len() == count)
}

/// FFmpeg 9 publishing every track of `file` in real time to `url`.
fn publish_all_tracks(file: &Path, url: &str) -> common::Process {
    let child = Command::new(common::ffmpeg9())
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-re",
            "-i",
        ])
        .arg(file)
        .args(["-map", "0", "-c", "copy", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run ffmpeg9");
    common::Process(child)
}

/// The multivariant playlist of `live/KEY` once it declares two audio
/// renditions.
fn with_two_audio_tracks(bound: &Bound, key: &str) -> m3u8_rs::MasterPlaylist {
    multivariant_when(bound, key, |p| p.alternatives.len() == 2)
}

fn server() -> (Bound, std::sync::Arc<live_ingest::Server>) {
    common::start_server(Config {
        target_duration: 1.0,
        part_duration: Some(0.5),
        window: 0,
        ..Config::default()
    })
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264 (../shared/peers/install.sh)"]
fn ffmpeg9_reads_each_audio_track_of_a_multitrack_publish() {
    let _one = lock();
    let dir = common::scratch("multitrack-interop");
    let source = two_audio_tracks(&dir, 8);
    let (bound, _server) = server();
    let url = format!("rtmp://{}/live/langs", bound.rtmp);
    let publisher = publish_all_tracks(&source, &url);
    let playlist = with_two_audio_tracks(&bound, "langs");
    let uris: Vec<_> = (playlist.alternatives.iter())
        .map(|a| a.uri.as_deref())
        .collect();
    assert_eq!(
        uris,
        [
            Some("langs/audio0/index.m3u8"),
            Some("langs/audio1/index.m3u8")
        ]
    );
    assert_eq!(playlist.variants[0].uri, "langs/video/index.m3u8");
    let published = publisher.wait(Duration::from_secs(30));
    assert!(published.status.success(), "{published:?}");
    let (want, want_text) = common::decoded(&source);
    assert_eq!(want.len(), 3, "video and two audio tracks:\n{want_text}");
    let base = format!("http://{}/live/langs", bound.http);
    // Video and track 0 from the stream's own playlist.
    let (main, main_text) = common::decoded(format!("{base}/index.m3u8"));
    assert_eq!(main.len(), 2, "{main_text}");
    assert_eq!(main[0].len(), want[0].len(), "video frames");
    assert!(main[0] == want[0], "the video frames");
    assert_eq!(main[1].len(), want[1].len(), "track 0 frames");
    assert!(main[1] == want[1], "track 0's audio frames");
    // What the multivariant playlist offers: the video alone, track 0 alone.
    let (video, video_text) = common::decoded(format!("{base}/video/index.m3u8"));
    assert_eq!(video.len(), 1, "{video_text}");
    assert!(video[0] == want[0], "the video view: the video frames");
    let (first, first_text) = common::decoded(format!("{base}/audio0/index.m3u8"));
    assert_eq!(first.len(), 1, "{first_text}");
    assert!(first[0] == want[1], "the audio0 view: track 0's frames");
    // Track 1 from its own playlist.
    let (second, second_text) = common::decoded(format!("{base}/audio1/index.m3u8"));
    assert_eq!(second.len(), 1, "{second_text}");
    assert_eq!(second[0].len(), want[2].len(), "track 1 frames");
    assert!(second[0] == want[2], "track 1's audio frames");
    assert!(want[1] != want[2], "two different tones");
    eprintln!(
        "multitrack: video {} frames, track 0 {} and track 1 {} audio frames, each equal to the source's",
        main[0].len(),
        main[1].len(),
        second[0].len()
    );
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264, chromium, npm players (../shared/peers)"]
fn hlsjs_switches_to_the_second_audio_track() {
    let _one = lock();
    install_players();
    let dir = common::scratch("multitrack-hlsjs");
    let source = two_audio_tracks(&dir, 30);
    let (bound, _server) = server();
    let url = format!("rtmp://{}/live/switch", bound.rtmp);
    let _publisher = publish_all_tracks(&source, &url);
    with_two_audio_tracks(&bound, "switch");
    let master = format!("http://{}/live/switch.m3u8", bound.http);
    let played = players::run_harness("hlsjs", &master, 10.0, 30.0, "audioTrack=1");
    let report = report_of("hlsjs", &played);
    let fatal = &report["fatal"];
    assert!(
        fatal.as_array().is_some_and(Vec::is_empty),
        "fatal errors {fatal}"
    );
    let audio = &report["audio"];
    let names: Vec<_> = (audio["tracks"].as_array().expect("audio tracks").iter())
        .map(|t| t["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, ["Audio 1", "Audio 2"], "{audio}");
    assert_eq!(audio["current"], 1, "switched to the second track: {audio}");
    let fragments = number(&report, "/audio/alternateFragments/1");
    assert!(fragments >= 3.0, "fragments of audio1 buffered: {audio}");
    let (shown, sent) = (
        number(&report, "/frames/shown"),
        number(&report, "/frames/sent"),
    );
    assert!(shown >= 0.95 * sent, "frames shown {shown} of {sent}");
    assert!(number(&report, "/window/mediaSeconds") >= 10.0);
    eprintln!("hls.js: {shown} of {sent} frames, audio {audio}");
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264 (../shared/peers/install.sh)"]
fn ffmpeg9_reads_each_video_track_of_a_multitrack_publish() {
    let _one = lock();
    let dir = common::scratch("multitrack-video-interop");
    let source = two_video_tracks(&dir, 8);
    let (bound, _server) = server();
    let url = format!("rtmp://{}/live/sizes", bound.rtmp);
    let publisher = publish_all_tracks(&source, &url);
    let playlist = with_variants(&bound, "sizes", 2);
    let variants: Vec<_> = (playlist.variants.iter())
        .map(|v| (v.uri.as_str(), v.resolution.map(|r| (r.width, r.height))))
        .collect();
    assert_eq!(
        variants,
        [
            ("sizes/video1/index.m3u8", Some((160, 120))),
            ("sizes/video/index.m3u8", Some((320, 240))),
        ],
        "lowest bandwidth first"
    );
    let published = publisher.wait(Duration::from_secs(30));
    assert!(published.status.success(), "{published:?}");
    let (want, want_text) = common::decoded(&source);
    assert_eq!(want.len(), 3, "two video tracks and audio:\n{want_text}");
    let base = format!("http://{}/live/sizes", bound.http);
    for (uri, index) in [("video", 0), ("video1", 1), ("audio0", 2)] {
        let (got, got_text) = common::decoded(format!("{base}/{uri}/index.m3u8"));
        assert_eq!(got.len(), 1, "{uri}: {got_text}");
        assert_eq!(got[0].len(), want[index].len(), "{uri}: frames");
        assert!(
            got[0] == want[index],
            "{uri}: the source's frames of track {index}"
        );
    }
    eprintln!(
        "multitrack video: {} and {} video frames and {} audio frames, each equal to the source's",
        want[0].len(),
        want[1].len(),
        want[2].len()
    );
}

#[test]
#[ignore = "needs peers: ffmpeg9 with libx264, chromium, npm players (../shared/peers)"]
fn hlsjs_switches_between_the_video_tracks() {
    let _one = lock();
    install_players();
    let dir = common::scratch("multitrack-video-hlsjs");
    let source = two_video_tracks(&dir, 30);
    let (bound, _server) = server();
    let url = format!("rtmp://{}/live/levels", bound.rtmp);
    let _publisher = publish_all_tracks(&source, &url);
    with_variants(&bound, "levels", 2);
    let master = format!("http://{}/live/levels.m3u8", bound.http);
    let played = players::run_harness("hlsjs", &master, 10.0, 30.0, "switchTo=other");
    let report = report_of("hlsjs", &played);
    let fatal = &report["fatal"];
    assert!(
        fatal.as_array().is_some_and(Vec::is_empty),
        "fatal errors {fatal}"
    );
    let sizes: Vec<_> = (report["sizes"].as_array().expect("sizes").iter())
        .map(|s| (s[1].as_u64().unwrap_or(0), s[2].as_u64().unwrap_or(0)))
        .collect();
    // hls.js starts where its bandwidth estimate puts it; 3 s in the page
    // switches it to the other level (`switchTo=other`); its own ABR may
    // switch too (it went 320, 160, 320, 160 in one run).
    assert!(
        sizes.contains(&(160, 120)) && sizes.contains(&(320, 240)),
        "played both tracks: {sizes:?}"
    );
    let (shown, sent) = (
        number(&report, "/frames/shown"),
        number(&report, "/frames/sent"),
    );
    assert!(shown >= 0.95 * sent, "frames shown {shown} of {sent}");
    assert!(number(&report, "/window/mediaSeconds") >= 10.0);
    eprintln!("hls.js: {shown} of {sent} frames, sizes {sizes:?}");
}
