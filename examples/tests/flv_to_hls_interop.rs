//! Interop: what `flv_to_hls` writes is read by the real tools exactly like
//! the FLV it came from.
//!
//! For every file of `../shared/peers/make-corpus.sh`, in MPEG-TS and in fMP4
//! (2 s target), the example runs in-process and then:
//!
//! - `m3u8-rs` parses the playlist (an independent reader), which is VOD
//!   with `EXT-X-ENDLIST`, and every rounded `EXTINF` is at most
//!   `EXT-X-TARGETDURATION`;
//! - ffprobe reads every segment on its own (fMP4: behind its `EXT-X-MAP`):
//!   the first video packet is a key frame, and the `EXTINF` equals the time
//!   from the segment's first picture to the next segment's (the last one:
//!   to the end of its last picture; audio when there is no video), within
//!   a millisecond and a half of rounding;
//! - `mp4parse` reads every init segment (fMP4);
//! - FFmpeg 9 reading `index.m3u8` through its HLS demuxer decodes the same
//!   frames as from the source FLV (`-f framemd5` MD5 of every decoded video
//!   frame and audio frame, in order, each at its own size), discontinuities
//!   (resolution change, timestamp jumps) included. After a new `EXT-X-MAP`
//!   the video is read one discontinuity section at a time (see
//!   [`decoded_video_by_section`]).
//!
//! AV1 has no MPEG-TS mapping: the example refuses it with a message naming
//! fMP4 and writes no playlist.

use testkit as common;

use std::path::{Path, PathBuf};
use std::process::Command;

use examples::flv_to_hls::{self, Args, OutputFormat};

/// Target segment duration, seconds: the corpus has a key frame every 2 s.
const TARGET: f64 = 2.0;

fn convert(name: &str, format: OutputFormat) -> (PathBuf, Result<flv_to_hls::Summary, String>) {
    let input = common::corpus().join(format!("{name}.flv"));
    let label = match format {
        OutputFormat::Ts => "ts",
        OutputFormat::Fmp4 => "fmp4",
        OutputFormat::Mp4 => "mp4",
    };
    let output = common::scratch(&format!("flv-to-hls-{name}-{label}"));
    let args = Args {
        format,
        target_duration: TARGET,
        part_duration: None,
        input,
        output: output.clone(),
    };
    let result = flv_to_hls::run(&args);
    (output, result)
}

/// One packet as ffprobe reports it.
#[derive(Debug)]
struct Packet {
    video: bool,
    dts: f64,
    pts: f64,
    duration: f64,
    key: bool,
}

/// `ffprobe -show_packets` of one file, in file order. A `.ts` file is read as
/// MPEG-TS whatever its length: ffprobe guesses the container from the first
/// bytes, and a short tail segment (six packets of audio, say) scores higher as
/// raw MPEG audio than as MPEG-TS.
fn packets(file: &Path) -> Vec<Packet> {
    let mut command = Command::new("ffprobe");
    if file.extension().is_some_and(|e| e == "ts") {
        command.args(["-f", "mpegts"]);
    }
    let output = command
        .args(["-v", "error", "-show_entries"])
        .arg("packet=codec_type,pts_time,dts_time,duration_time,flags")
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("run ffprobe (../shared/peers/install.sh installs it)");
    assert!(
        output.status.success(),
        "ffprobe failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            // ffprobe 5.1 gives "N/A" for some fMP4 sample durations (a
            // track's first AAC sample, every Opus sample): 0 here, filled
            // in by `with_durations`.
            let number = |i: usize| -> f64 {
                match fields.get(i) {
                    Some(&"N/A") => 0.0,
                    Some(f) => f
                        .parse()
                        .unwrap_or_else(|_| panic!("{}: field {i} of {line:?}", file.display())),
                    None => panic!("{}: field {i} of {line:?}", file.display()),
                }
            };
            Packet {
                video: fields[0] == "video",
                pts: number(1),
                dts: number(2),
                duration: number(3),
                key: fields.get(4).is_some_and(|f| f.starts_with('K')),
            }
        })
        .collect()
}

/// Fills the durations ffprobe 5.1 leaves out (Opus in fMP4: "N/A") with
/// the step to the track's next packet, the last one with the step before.
fn with_durations(mut packets: Vec<Packet>) -> Vec<Packet> {
    for video in [true, false] {
        let indices: Vec<usize> = (0..packets.len())
            .filter(|&i| packets[i].video == video)
            .collect();
        let mut step = 0.0;
        for (n, &i) in indices.iter().enumerate() {
            if let Some(&next) = indices.get(n + 1) {
                step = packets[next].dts - packets[i].dts;
            }
            if packets[i].duration == 0.0 {
                packets[i].duration = step;
            }
        }
    }
    packets
}

/// A segment of the playlist with what it needs to be read alone.
struct Listed {
    uri: String,
    duration: f64,
    map: Option<String>,
}

fn read_playlist(dir: &Path) -> (u64, Vec<Listed>) {
    let text = std::fs::read(dir.join("index.m3u8")).expect("index.m3u8 written");
    let playlist = match m3u8_rs::parse_playlist_res(&text) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(playlist)) => playlist,
        other => panic!(
            "m3u8-rs: not a media playlist ({other:?}):\n{}",
            String::from_utf8_lossy(&text)
        ),
    };
    assert!(playlist.end_list, "a VOD playlist has EXT-X-ENDLIST");
    assert_eq!(
        playlist.playlist_type,
        Some(m3u8_rs::MediaPlaylistType::Vod)
    );
    let mut map = None;
    let segments = playlist
        .segments
        .iter()
        .map(|segment| {
            if let Some(m) = &segment.map {
                map = Some(m.uri.clone());
            }
            Listed {
                uri: segment.uri.clone(),
                duration: f64::from(segment.duration),
                map: map.clone(),
            }
        })
        .collect();
    (playlist.target_duration, segments)
}

/// Checks each segment alone with ffprobe; returns the playlist's segments.
fn check_segments(name: &str, dir: &Path, has_video: bool) -> Vec<Listed> {
    let (target, segments) = read_playlist(dir);
    assert!(!segments.is_empty(), "{name}: no segments");
    // Per segment: where it starts (its key frame's presentation time; the
    // first audio frame's without video), every presentation time in it,
    // and where its latest frame ends.
    let mut spans: Vec<(f64, Vec<f64>, f64)> = Vec::new();
    for segment in &segments {
        assert!(
            segment.duration.round() as u64 <= target,
            "{name}: {} EXTINF {} over TARGETDURATION {target}",
            segment.uri,
            segment.duration
        );
        let file = match &segment.map {
            Some(init) => {
                let joined = dir.join(format!("{}.joined.mp4", segment.uri));
                let mut bytes = std::fs::read(dir.join(init)).expect("the init segment");
                let reader = mp4parse::read_mp4(&mut std::io::Cursor::new(&bytes));
                assert!(reader.is_ok(), "{name}: mp4parse refuses {init}");
                bytes.extend(std::fs::read(dir.join(&segment.uri)).expect("the segment"));
                std::fs::write(&joined, bytes).expect("write the joined segment");
                joined
            }
            None => dir.join(&segment.uri),
        };
        let packets = with_durations(packets(&file));
        assert!(!packets.is_empty(), "{name}: {} is empty", segment.uri);
        let anchor = packets
            .iter()
            .find(|p| p.video == has_video)
            .expect("the segment's first frame");
        assert!(
            anchor.key,
            "{name}: {} starts with a non-key video frame",
            segment.uri
        );
        let end = packets
            .iter()
            .map(|p| p.pts + p.duration)
            .fold(f64::NEG_INFINITY, f64::max);
        spans.push((anchor.pts, packets.iter().map(|p| p.pts).collect(), end));
    }
    // EXTINF runs from a segment's start to the next one's (the timeline is
    // continuous: jumps are closed up), the last one to its latest frame's
    // end, as FFmpeg's HLS muxer counts. The first segment starts at its
    // first frame in decode order, which may be audio just before the key
    // frame: its start must be one of its frames' presentation times, no
    // later than the key frame's.
    let close = |a: f64, b: f64| (a - b).abs() <= 0.0015;
    for (i, segment) in segments.iter().enumerate() {
        let (anchor, times, end) = &spans[i];
        let next = spans.get(i + 1).map_or(*end, |next| next.0);
        if i > 0 {
            let real = next - anchor;
            assert!(
                close(segment.duration, real),
                "{name}: {} EXTINF {} but ffprobe says {real:.4} s",
                segment.uri,
                segment.duration
            );
        } else {
            let start = next - segment.duration;
            assert!(
                times.iter().any(|&t| close(t, start)) && start <= anchor + 0.0015,
                "{name}: {} EXTINF {} puts its start at {start:.4} s: not a frame of it \
                 at or before its key frame ({anchor:.4} s; {times:?})",
                segment.uri,
                segment.duration
            );
        }
    }
    check_fmp4_timelines(name, dir, &segments);
    segments
}

/// Every fMP4 section (one init segment and its media segments): each
/// track's `tfdt` is the previous fragment's plus its sample durations
/// (`testkit::fmp4`, a box walker of the test's own).
fn check_fmp4_timelines(name: &str, dir: &Path, segments: &[Listed]) {
    let read = |file: &str| std::fs::read(dir.join(file)).expect("a listed file");
    let mut checked = 0;
    let mut start = 0;
    while start < segments.len() {
        let Some(map) = &segments[start].map else {
            return;
        };
        let end = segments[start..]
            .iter()
            .position(|s| s.map.as_ref() != Some(map))
            .map_or(segments.len(), |n| start + n);
        let media: Vec<(String, Vec<u8>)> = segments[start..end]
            .iter()
            .map(|s| (s.uri.clone(), read(&s.uri)))
            .collect();
        let runs = media
            .iter()
            .map(|(uri, data)| (uri.as_str(), data.as_slice()));
        checked += common::fmp4::check_timeline(&read(map), runs)
            .unwrap_or_else(|e| panic!("{name}: fMP4 timeline: {e}"));
        start = end;
    }
    eprintln!("{name}: {checked} fragment tfdts equal the cumulated sample durations");
}

/// The decoded video frames of an fMP4 playlist read one discontinuity
/// section at a time: each section's init segment followed by its media
/// segments, as one file.
///
/// FFmpeg's HLS demuxer cannot follow a change of `EXT-X-MAP`: it feeds
/// the new init segment into the same MP4 demuxer, which skips a second
/// `moov` ("Found duplicated MOOV Atom"), so the decoder keeps the first
/// configuration and decodes 640x360 frames with the 320x240 parameter sets.
/// Reading each section with its own init is what a player that honours
/// `EXT-X-MAP` does (hls.js re-initialises its source buffer).
fn decoded_video_by_section(dir: &Path, segments: &[Listed]) -> Vec<String> {
    let mut frames = Vec::new();
    let mut start = 0;
    while start < segments.len() {
        let map = segments[start].map.clone();
        let end = segments[start..]
            .iter()
            .position(|s| s.map != map)
            .map_or(segments.len(), |n| start + n);
        let init = map.as_deref().expect("fMP4 segments have an EXT-X-MAP");
        let mut bytes = std::fs::read(dir.join(init)).expect("the init segment");
        for segment in &segments[start..end] {
            bytes.extend(std::fs::read(dir.join(&segment.uri)).expect("the segment"));
        }
        let file = dir.join(format!("section-{start}.mp4"));
        std::fs::write(&file, bytes).expect("write the section");
        let (streams, _) = common::decoded(&file);
        frames.extend(streams.into_iter().next().unwrap_or_default());
        start = end;
    }
    frames
}

fn check(name: &str, format: OutputFormat, has_video: bool, audio_skip_first: usize) {
    let (dir, result) = convert(name, format);
    let summary = result.unwrap_or_else(|e| panic!("{name}: flv_to_hls failed: {e}"));
    let listed = check_segments(name, &dir, has_video);
    let source = common::corpus().join(format!("{name}.flv"));
    let (want, want_text) = common::decoded(&source);
    let (mut got, got_text) = common::decoded(dir.join("index.m3u8"));
    assert_eq!(got.len(), want.len(), "{name}: stream count");
    let mut maps: Vec<&Option<String>> = listed.iter().map(|s| &s.map).collect();
    maps.dedup();
    if has_video && maps.len() > 1 {
        got[0] = decoded_video_by_section(&dir, &listed);
    }
    let segments = listed.len();
    // Video is stream 0 when there is video; audio is the last stream.
    let audio_index = want.len().saturating_sub(1);
    let has_audio = want.len() == 2 || !has_video;
    for (index, (got, want)) in got.iter().zip(&want).enumerate() {
        let skip = if has_audio && index == audio_index {
            audio_skip_first
        } else {
            0
        };
        assert_eq!(
            got.len(),
            want.len(),
            "{name}: stream {index} frame count\nsource:\n{want_text}\nhls:\n{got_text}"
        );
        assert!(
            got[skip..] == want[skip..],
            "{name}: stream {index} decoded frames differ\nsource:\n{want_text}\nhls:\n{got_text}"
        );
    }
    eprintln!(
        "{name} {format:?}: {} frames, {segments} segments, {} bytes; decoded frames per stream {:?} equal to the FLV's",
        summary.frames,
        summary.bytes,
        got.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

macro_rules! corpus_tests {
    ($($test:ident: $file:literal, video $video:literal, audio skip $skip_ts:literal / $skip_fmp4:literal;)*) => {
        mod ts {
            use super::*;
            $(
                #[test]
                #[ignore = "needs peers: ffmpeg9, ffprobe and the corpus (../shared/peers)"]
                fn $test() {
                    check($file, OutputFormat::Ts, $video, $skip_ts);
                }
            )*
        }
        mod fmp4 {
            use super::*;
            $(
                #[test]
                #[ignore = "needs peers: ffmpeg9, ffprobe and the corpus (../shared/peers)"]
                fn $test() {
                    check($file, OutputFormat::Fmp4, $video, $skip_fmp4);
                }
            )*
        }
    };
}

// The Opus skip in TS: FFmpeg decodes the first packet of the FLV to 648
// samples (the OpusHead pre-skip of 312 dropped by the decoder) and of the
// TS to 960 (its MPEG-TS demuxer hands the decoder pre-skip 0 and trims the
// start_trim we write in the parser instead). Every other frame is equal.
corpus_tests! {
    a_h264high_bf_aac: "a_h264high_bf_aac", video true, audio skip 0 / 0;
    b_h264base_mp3: "b_h264base_mp3", video true, audio skip 0 / 0;
    c_aac_only: "c_aac_only", video false, audio skip 0 / 0;
    d_h264_only: "d_h264_only", video true, audio skip 0 / 0;
    e_hevc_aac: "e_hevc_aac", video true, audio skip 0 / 0;
    g_h264_opus: "g_h264_opus", video true, audio skip 1 / 0;
    h_h264_reschange: "h_h264_reschange", video true, audio skip 0 / 0;
    i_h264_ts_extended: "i_h264_ts_extended", video true, audio skip 0 / 0;
    i_h264_tsjump_back3s: "i_h264_tsjump_back3s", video true, audio skip 0 / 0;
    i_h264_tsjump_fwd10s: "i_h264_tsjump_fwd10s", video true, audio skip 0 / 0;
    j_h264_25fps: "j_h264_25fps", video true, audio skip 0 / 0;
    j_h264_29_97fps: "j_h264_29.97fps", video true, audio skip 0 / 0;
    k_h264_gop250: "k_h264_gop250", video true, audio skip 0 / 0;
    k_h264_gop30: "k_h264_gop30", video true, audio skip 0 / 0;
}

#[test]
#[ignore = "needs peers: ffmpeg9, ffprobe and the corpus (../shared/peers)"]
fn av1_in_fmp4_decodes_like_the_flv() {
    check("f_av1_aac", OutputFormat::Fmp4, true, 0);
}

#[test]
#[ignore = "needs peers: the corpus (../shared/peers)"]
fn av1_in_ts_is_refused_with_a_pointer_to_fmp4() {
    let (dir, result) = convert("f_av1_aac", OutputFormat::Ts);
    let error = result.expect_err("AV1 has no MPEG-TS mapping");
    assert!(error.contains("fMP4"), "{error}");
    assert!(!dir.join("index.m3u8").exists(), "no playlist on failure");
}
