//! Interop: hls.js in headless Chromium plays what `flv_to_hls` writes.
//!
//! Each case converts a corpus file (2 s segments) and plays its
//! `index.m3u8` with `../shared/peers/hls-play.sh` (hls.js 1.7.4, Debian's
//! Chromium) for 10 s. The report must show playback to the end of the
//! 6-second file, no error, the codecs expected in hls.js's source buffers,
//! every video frame decoded and, for the resolution change, both sizes.
//!
//! Chromium has no HEVC decoder, so HEVC is checked with FFmpeg only
//! (`flv_to_hls_interop.rs`); AV1 has no MPEG-TS mapping and is played from
//! fMP4 only.

use testkit as common;

use std::path::PathBuf;
use std::sync::Mutex;

use examples::flv_to_hls::{self, Args, OutputFormat};
use serde_json::Value;

/// One browser at a time: two Chromiums on two cores would make playback
/// itself slow, and the test is about what plays, not how fast.
static BROWSER: Mutex<()> = Mutex::new(());

/// Seconds of playback asked of the page.
const PLAY_SECONDS: &str = "10";

struct Case {
    file: &'static str,
    format: OutputFormat,
    /// The kinds hls.js must create source buffers for (`audio`, `video`,
    /// or `audiovideo` for one muxed fMP4 buffer) and a prefix of their codec.
    buffers: &'static [(&'static str, &'static str)],
    /// Every video size that must be shown.
    sizes: &'static [(u64, u64)],
    /// Video frames that must be decoded (0 for audio only; 180 is every
    /// one of the 6-second files).
    frames: u64,
    /// Non-fatal hls.js errors allowed (see the resolution change).
    tolerated: &'static [&'static str],
}

fn convert(case: &Case) -> PathBuf {
    let label = match case.format {
        OutputFormat::Ts => "ts",
        OutputFormat::Fmp4 => "fmp4",
        OutputFormat::Mp4 => "mp4",
    };
    let output = common::scratch(&format!("flv-to-hls-browser-{}-{label}", case.file));
    let args = Args {
        format: case.format,
        target_duration: 2.0,
        part_duration: None,
        input: common::corpus().join(format!("{}.flv", case.file)),
        output: output.clone(),
    };
    flv_to_hls::run(&args).unwrap_or_else(|e| panic!("{}: flv_to_hls failed: {e}", case.file));
    output
}

fn play(case: &Case) {
    let dir = convert(case);
    let playlist = dir.join("index.m3u8");
    let _browser = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let output = common::script(
        "hls-play.sh",
        &[playlist.to_str().expect("utf-8 path"), PLAY_SECONDS],
    )
    .wait(std::time::Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = format!("{} {:?}", case.file, case.format);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{name}: no JSON report ({e}):\n{stdout}\n{stderr}"));
    assert!(
        output.status.success(),
        "{name}: hls-play.sh failed:\n{stdout}\n{stderr}"
    );
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    let unexpected: Vec<&Value> = errors
        .iter()
        .filter(|e| {
            e["fatal"].as_bool() != Some(false)
                || !case
                    .tolerated
                    .contains(&e["details"].as_str().unwrap_or_default())
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{name}: errors {unexpected:?}\n{stderr}"
    );
    // The corpus files last about 6.06 s: played to the end.
    let current = report["currentTime"].as_f64().unwrap_or(0.0);
    assert!(current >= 5.9, "{name}: stopped at {current} s\n{stderr}");
    for (kind, codec) in case.buffers {
        let got = report["bufferCodecs"][*kind].as_str().unwrap_or("");
        assert!(
            got.to_ascii_lowercase()
                .contains(&codec.to_ascii_lowercase()),
            "{name}: {kind} buffer codec {got:?}, want {codec}\n{stderr}"
        );
    }
    let buffers = report["bufferCodecs"]
        .as_object()
        .map(|o| o.len())
        .unwrap_or(0);
    assert_eq!(
        buffers,
        case.buffers.len(),
        "{name}: buffers {}",
        report["bufferCodecs"]
    );
    let sizes: Vec<(u64, u64)> = report["sizes"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| Some((s[1].as_u64()?, s[2].as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    for size in case.sizes {
        assert!(
            sizes.contains(size),
            "{name}: size {size:?} never shown: {sizes:?}"
        );
    }
    let decoded = report["frames"]["total"].as_u64().unwrap_or(0);
    assert!(
        decoded + 1 >= case.frames,
        "{name}: {decoded} of {} video frames decoded",
        case.frames
    );
    eprintln!("{}", stderr.trim());
}

macro_rules! browser_tests {
    ($($test:ident: $file:literal, $format:ident, [$(($kind:literal, $codec:literal)),*], sizes [$(($w:literal, $h:literal)),*], frames $frames:literal $(, tolerate [$($tolerated:literal),*])?;)*) => {
        $(
            #[test]
            #[ignore = "needs peers: chromium, hls.js and the corpus (../shared/peers)"]
            fn $test() {
                play(&Case {
                    file: $file,
                    format: OutputFormat::$format,
                    buffers: &[$(($kind, $codec)),*],
                    sizes: &[$(($w, $h)),*],
                    frames: $frames,
                    tolerated: &[$($($tolerated),*)?],
                });
            }
        )*
    };
}

// hls.js muxes fMP4 audio and video into one source buffer when both are
// in one init segment (`audiovideo`); it remuxes TS into one per track.
//
// At the fMP4 resolution change (a new EXT-X-MAP after a discontinuity)
// hls.js 1.7.4 aligns the new section's first decode time (`tfdt`) on the
// presentation end of the section before. With B-frames the first picture
// is shown one reorder delay (67 ms here) after its decode time, so a hole
// of that size opens, which hls.js reports (non-fatal) and skips. Writing
// the video with negative composition offsets would close it for hls.js,
// but FFmpeg then shows every picture 67 ms late against the audio (it
// shifts presentation by the largest negative offset); the offsets stay as
// the encoder made them.
browser_tests! {
    ts_h264_aac: "a_h264high_bf_aac", Ts, [("video", "avc1.64"), ("audio", "mp4a.40.2")], sizes [(320, 240)], frames 180;
    fmp4_h264_aac: "a_h264high_bf_aac", Fmp4, [("audiovideo", "avc1.64")], sizes [(320, 240)], frames 180;
    fmp4_av1_aac: "f_av1_aac", Fmp4, [("audiovideo", "av01")], sizes [(320, 240)], frames 180;
    fmp4_h264_opus: "g_h264_opus", Fmp4, [("audiovideo", "opus")], sizes [(320, 240)], frames 180;
    ts_audio_only: "c_aac_only", Ts, [("audio", "mp4a.40.2")], sizes [], frames 0;
    fmp4_audio_only: "c_aac_only", Fmp4, [("audio", "mp4a.40.2")], sizes [], frames 0;
    ts_video_only: "d_h264_only", Ts, [("video", "avc1")], sizes [(320, 240)], frames 180;
    fmp4_video_only: "d_h264_only", Fmp4, [("video", "avc1")], sizes [(320, 240)], frames 180;
    // The same start race as `ts_mp3` below, seen once under CI's load
    // (2026-12-08, "seeking from 0 to 0.166"; never in 5 runs alone): all
    // 180 pictures were still shown and it played to 6.14 s.
    ts_resolution_change: "h_h264_reschange", Ts, [("video", "avc1"), ("audio", "mp4a.40.2")], sizes [(320, 240), (640, 360)], frames 180,
        tolerate ["bufferSeekOverHole"];
    // hls.js skips the hole and 0.1 s more: 4 pictures are never shown.
    fmp4_resolution_change: "h_h264_reschange", Fmp4, [("audiovideo", "avc1")], sizes [(320, 240), (640, 360)], frames 175,
        tolerate ["bufferStalledError", "bufferSeekOverHole"];
    // Under load hls.js sometimes (once in a CI run, never in 4 runs alone)
    // starts this one with a non-fatal "seeking from 0 to 0.125" over a hole
    // at the start: its MP3 audio starts at 1.400 s and the video at 1.425 s
    // in the first segment (ffprobe), and the first appends race. Every
    // picture is still shown and it plays to the end.
    ts_mp3: "b_h264base_mp3", Ts, [("video", "avc1"), ("audio", "mp")], sizes [(320, 240)], frames 180,
        tolerate ["bufferSeekOverHole"];
}

/// hls.js 1.7.4 has no Opus in its MPEG-TS demuxer: it plays the video and
/// leaves the Opus track out without an error (FFmpeg decodes every Opus
/// frame of the same segments: `flv_to_hls_interop.rs`). This test pins
/// that, so a newer hls.js that plays it shows up here; until then Opus
/// wants fMP4 for browsers.
#[test]
#[ignore = "needs peers: chromium, hls.js and the corpus (../shared/peers)"]
fn ts_h264_opus_plays_video_only_in_hlsjs() {
    play(&Case {
        file: "g_h264_opus",
        format: OutputFormat::Ts,
        buffers: &[("video", "avc1")],
        sizes: &[(320, 240)],
        frames: 180,
        tolerated: &[],
    });
}
