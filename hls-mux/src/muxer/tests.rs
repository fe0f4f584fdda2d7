//! The muxer's tests: cuts, parts, timelines and playlists on synthetic streams.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use flv::config::{AacConfig, AvcConfig};

use super::*;
use crate::playlist::PlaylistKind;

/// The AVCDecoderConfigurationRecords of the corpus's resolution change
/// (FFmpeg's libx264): 320x240 (`small`) and 640x360.
fn avc(small: bool) -> TrackConfig {
    let hex = if small {
        "0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800"
    } else {
        "0164001effe1001a6764001eacd940a02ff970110000030001000003003c0f162d9601000468ef8fcbfdf8f800"
    };
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    TrackConfig::Avc(AvcConfig::parse(&bytes).expect("avcC"))
}

fn aac() -> TrackConfig {
    TrackConfig::Aac(AacConfig::parse(&[0x12, 0x10]).expect("asc"))
}

fn video(ms: i64, key: bool) -> Frame {
    Frame {
        media: MediaKind::Video,
        dts: ms * 90,
        pts: ms * 90,
        key,
        data: Bytes::from_static(b"\x00\x00\x00\x02\x65\x88"),
    }
}

fn audio(ms: i64) -> Frame {
    Frame {
        media: MediaKind::Audio,
        dts: ms * 90,
        pts: ms * 90,
        key: true,
        data: Bytes::from_static(b"\x21\x10\x04"),
    }
}

fn muxer(format: Format, kind: PlaylistKind, part: Option<f64>) -> Muxer {
    let mut options = MuxerOptions::new(format);
    options.target_duration = 1.0;
    options.part_duration = part;
    options.kind = kind;
    Muxer::new(options).expect("options")
}

fn outputs(muxer: &mut Muxer) -> Vec<Output> {
    std::iter::from_fn(|| muxer.poll_output()).collect()
}

/// 25 fps video with a key frame every `gop` frames and 40 ms audio,
/// from `start` ms for `count` video frames.
fn push_av(muxer: &mut Muxer, start: i64, count: i64, gop: i64) {
    for i in 0..count {
        muxer
            .push(video(start + i * 40, i % gop == 0))
            .expect("video");
        muxer.push(audio(start + i * 40 + 10)).expect("audio");
    }
}

/// Video at 30 fps on the millisecond clock with key frames after the
/// given intervals (ms), and AAC at 44.1 kHz (1024 samples a frame,
/// timestamps rounded to the millisecond as RTMP sends them),
/// interleaved in decode order. Returns where the stream ends (ms).
fn push_obs_like(muxer: &mut Muxer, intervals: &[i64]) -> i64 {
    let mut frames = Vec::new();
    let mut key = 0;
    for &interval in intervals {
        let mut i = 0;
        while (i * 1000 + 15) / 30 < interval {
            frames.push(video(key + (i * 1000 + 15) / 30, i == 0));
            i += 1;
        }
        key += interval;
    }
    let mut k = 0;
    while (k * 1024 * 1000 + 22_050) / 44_100 < key {
        frames.push(audio((k * 1024 * 1000 + 22_050) / 44_100));
        k += 1;
    }
    // Decode order; video first at equal times.
    frames.sort_by_key(|f| (f.dts, f.media == MediaKind::Audio)); // video first
    for frame in frames {
        muxer.push(frame).expect("frame");
    }
    key
}

fn segment_durations(out: &[Output]) -> Vec<f64> {
    out.iter()
        .filter_map(|o| match o {
            Output::Segment { duration, .. } => Some(*duration),
            _ => None,
        })
        .collect()
}

/// One track's run in one fragment, read back from the bytes.
#[derive(Clone, Debug, PartialEq)]
struct Traf {
    track_id: u32,
    tfdt: u64,
    durations: Vec<u32>,
    composition_offsets: Vec<i32>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The boxes of `data` as (type, body).
fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= data.len() {
        let size = be32(data, at) as usize;
        assert!(
            size >= 8 && at + size <= data.len(),
            "box size {size} at {at}"
        );
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().expect("type");
        out.push((kind, &data[at + 8..at + size]));
        at += size;
    }
    out
}

/// Every fragment (`moof`) in `data` (a segment or a part), each as its
/// `traf`s: track id (`tfhd`), `tfdt`, and the `trun` durations and
/// composition offsets (our writer's flags: all four fields present).
fn fragments_in(data: &[u8]) -> Vec<Vec<Traf>> {
    let mut out = Vec::new();
    for (kind, body) in boxes(data) {
        if &kind != b"moof" {
            continue;
        }
        let mut trafs = Vec::new();
        for (kind, traf) in boxes(body) {
            if &kind != b"traf" {
                continue;
            }
            let mut run = Traf {
                track_id: 0,
                tfdt: 0,
                durations: vec![],
                composition_offsets: vec![],
            };
            for (kind, b) in boxes(traf) {
                match &kind {
                    b"tfhd" => run.track_id = be32(b, 4),
                    b"tfdt" => {
                        assert_eq!(b[0], 1, "tfdt version 1");
                        run.tfdt = u64::from(be32(b, 4)) << 32 | u64::from(be32(b, 8));
                    }
                    b"trun" => {
                        assert_eq!(be32(b, 0) & 0xFFFFFF, 0xF01, "trun flags");
                        let count = be32(b, 4) as usize;
                        for i in 0..count {
                            let entry = 12 + 16 * i;
                            run.durations.push(be32(b, entry));
                            run.composition_offsets.push(be32(b, entry + 12) as i32);
                        }
                    }
                    _ => {}
                }
            }
            trafs.push(run);
        }
        out.push(trafs);
    }
    out
}

/// Walks every fMP4 fragment in `out` in order (the parts when there
/// are parts, else the segments) and checks, for each track, that its
/// `tfdt` is the previous `tfdt` plus the previous fragment's sample
/// durations (a new init segment starts afresh). Returns the fragments
/// of each part or segment, in order.
fn check_timelines(out: &[Output]) -> Vec<Vec<Vec<Traf>>> {
    let parts = out.iter().any(|o| matches!(o, Output::Part { .. }));
    let mut ends: BTreeMap<u32, u64> = BTreeMap::new();
    let mut all = Vec::new();
    for output in out {
        let data = match output {
            Output::Init { .. } => {
                ends.clear();
                continue;
            }
            Output::Part { data, .. } if parts => data,
            Output::Segment { data, .. } if !parts => data,
            _ => continue,
        };
        let bytes: Vec<u8> = data.iter().flat_map(|b| b.iter().copied()).collect();
        let fragments = fragments_in(&bytes);
        for trafs in &fragments {
            for traf in trafs {
                if let Some(&end) = ends.get(&traf.track_id) {
                    assert_eq!(traf.tfdt, end, "track {}: tfdt after {end}", traf.track_id);
                }
                let sum: u64 = traf.durations.iter().map(|&d| u64::from(d)).sum();
                ends.insert(traf.track_id, traf.tfdt + sum);
            }
        }
        all.push(fragments);
    }
    all
}

/// Frames of a 30 fps + AAC 44.1 kHz stream on the millisecond clock,
/// in decode order: video with ±2 ms of jitter and a key frame every
/// second, audio 1024 samples a frame; both skip `gap_ms` forward at
/// `gap_at_ms` (less than the jump threshold: a kept gap).
fn jittery(seconds: i64, gap_at_ms: i64, gap_ms: i64) -> Vec<Frame> {
    let jitter = [0, 1, -1, 2, 0, -2, 1, 0, -1, 2];
    let shift = |t: i64| if t >= gap_at_ms { t + gap_ms } else { t };
    let mut frames = Vec::new();
    for i in 0..seconds * 30 {
        let t = (i * 1000 + 15) / 30;
        let j = if i % 30 == 0 {
            0
        } else {
            jitter[(i % 10) as usize]
        };
        frames.push(video(shift(t + j), i % 30 == 0));
    }
    for k in 0..seconds * 44_100 / 1024 {
        frames.push(audio(shift((k * 1024 * 1000 + 22_050) / 44_100)));
    }
    frames.sort_by_key(|f| (f.dts, f.media == MediaKind::Audio)); // video first
    frames
}

#[test]
fn every_fragment_continues_its_tracks_timelines_exactly() {
    for part in [None, Some(0.5)] {
        for (gap_at, gap) in [(0, 0), (4_500, 1_500), (3_000, 700)] {
            let mut options = MuxerOptions::new(Format::Fmp4);
            options.target_duration = 2.0;
            options.part_duration = part;
            options.kind = PlaylistKind::Event;
            let mut m = Muxer::new(options).expect("options");
            m.set_config(avc(true)).unwrap();
            m.set_config(aac()).unwrap();
            for frame in jittery(12, gap_at, gap) {
                m.push(frame).expect("frame");
            }
            m.finish().unwrap();
            let out = outputs(&mut m);
            let fragments = check_timelines(&out);
            assert!(
                fragments.len() >= 5,
                "{part:?}: {} fragments",
                fragments.len()
            );
            // Where a segment ends, the last AAC frame (track 2,
            // 44.1 kHz) lasts its 1024 samples, not a 23 or 24 ms step
            // (1014 or 1058 ticks), unless a gap follows it.
            let segments = out.iter().filter(|o| matches!(o, Output::Segment { .. }));
            for segment in segments {
                let Output::Segment { data, .. } = segment else {
                    unreachable!()
                };
                let bytes: Vec<u8> = data.iter().flat_map(|b| b.iter().copied()).collect();
                let last = fragments_in(&bytes).pop().expect("a fragment");
                // (A short last part may hold no audio.)
                if let Some(audio) = last.iter().find(|t| t.track_id == 2) {
                    assert_eq!(audio.durations.last(), Some(&1024), "{part:?} gap {gap}");
                }
            }
        }
    }
}

/// A part as published and as written: its playlist duration (ms), and
/// its first video and audio sample times (90 kHz).
#[derive(Debug)]
struct PartTiming {
    msn: u64,
    duration_ms: i64,
    video: Option<i64>,
    audio: Option<(i64, i64)>,
}

/// The parts of each segment in `out`, with the segment's EXTINF (ms).
fn part_timings(out: &[Output]) -> Vec<(i64, Vec<PartTiming>)> {
    let mut segments = Vec::new();
    let mut parts = Vec::new();
    for output in out {
        match output {
            Output::Part {
                uri,
                data,
                duration,
                ..
            } => {
                let msn = uri[4..].split('.').next().unwrap().parse().unwrap();
                let bytes: Vec<u8> = data.iter().flat_map(|b| b.iter().copied()).collect();
                let trafs = fragments_in(&bytes)
                    .pop()
                    .unwrap_or_else(|| panic!("{uri}: no fragment, {duration} s"));
                let video = trafs
                    .iter()
                    .find(|t| t.track_id == 1)
                    .map(|t| t.tfdt as i64);
                // Audio on 44.1 kHz, in 90 kHz: first start and last start.
                let audio = trafs.iter().find(|t| t.track_id == 2).map(|t| {
                    let last = t.tfdt
                        + t.durations[..t.durations.len() - 1]
                            .iter()
                            .map(|&d| u64::from(d))
                            .sum::<u64>();
                    (
                        (t.tfdt * 90_000 / 44_100) as i64,
                        (last * 90_000 / 44_100) as i64,
                    )
                });
                parts.push(PartTiming {
                    msn,
                    duration_ms: (duration * 1000.0).round() as i64,
                    video,
                    audio,
                });
            }
            Output::Segment { msn, duration, .. } => {
                let mine: Vec<PartTiming> = std::mem::take(&mut parts);
                assert!(mine.iter().all(|p| p.msn == *msn), "{mine:?}");
                segments.push(((duration * 1000.0).round() as i64, mine));
            }
            _ => {}
        }
    }
    segments
}

/// Checks the parts of each segment against the playlist: the part
/// durations add up to the EXTINF, and (with `aligned`) each part's
/// start (the durations before it) is its video `tfdt` from the
/// segment's first, within the millisecond rounding, and its audio
/// starts within its video range.
fn check_parts(out: &[Output], aligned: bool) -> usize {
    check_parts_with(out, aligned, aligned)
}

/// [`check_parts`], with the video and audio alignment checked apart.
fn check_parts_with(out: &[Output], aligned: bool, audio_aligned: bool) -> usize {
    let segments = part_timings(out);
    for (extinf, parts) in &segments {
        let sum: i64 = parts.iter().map(|p| p.duration_ms).sum();
        assert_eq!(sum, *extinf, "{parts:?}");
        assert!(parts.iter().all(|p| p.duration_ms <= 500), "{parts:?}");
        let Some(origin) = parts[0].video else {
            continue;
        };
        let mut start = 0;
        for (k, part) in parts.iter().enumerate() {
            let end = start + part.duration_ms;
            if aligned {
                if let Some(video) = part.video {
                    assert!(
                        (video - origin - start * 90).abs() <= 45,
                        "part {k} of {parts:?}"
                    );
                }
            }
            if audio_aligned {
                if let Some((first, last)) = part.audio {
                    // 2 ms: RTMP's rounding, which a carried first
                    // sample may move by.
                    assert!(
                        first - origin >= start * 90 - 180,
                        "part {k} audio of {parts:?}"
                    );
                    assert!(
                        last - origin < end * 90 + 180,
                        "part {k} audio of {parts:?}"
                    );
                }
            }
            // Only a segment's last part may be much shorter.
            if k + 1 < parts.len() {
                assert!(part.duration_ms >= 400, "part {k} of {parts:?}");
            }
            start = end;
        }
    }
    segments.len()
}

#[test]
fn part_durations_follow_the_video_timeline() {
    let jitter = [1998, 2002, 1999, 2001, 2000, 1998, 1998, 2002, 2001, 1999];
    for intervals in [[1999; 10], [2001; 10], jitter] {
        let mut m = muxer(Format::Fmp4, PlaylistKind::Event, Some(0.5));
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        push_obs_like(&mut m, &intervals);
        m.finish().unwrap();
        let out = outputs(&mut m);
        assert_eq!(check_parts(&out, true), 10);
        check_timelines(&out);
    }
    // Jittery video (±2 ms), and gaps in both tracks: sums still hold,
    // and alignment holds without the gaps.
    for (gap_at, gap) in [(0, 0), (4_500, 1_500), (3_000, 700)] {
        let mut m = muxer(Format::Fmp4, PlaylistKind::Event, Some(0.5));
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        for frame in jittery(12, gap_at, gap) {
            m.push(frame).expect("frame");
        }
        m.finish().unwrap();
        let out = outputs(&mut m);
        // The video is aligned after a gap that ends at a key frame too
        // (the key frame, late, moves back to its part's start), not after
        // one that audio bridges with parts of its own. Audio after a gap
        // starts where its own timeline ended (`continue_timeline`), before
        // the part.
        let at_key_frame = gap_at % 1000 == 0;
        assert!(check_parts_with(&out, at_key_frame, gap == 0) >= 5);
        check_timelines(&out);
    }
}

#[test]
fn early_audio_goes_in_the_part_of_its_video_range() {
    // Audio sent 30 ms ahead of the video of the same time (and once
    // 20 ms behind): each frame still lands in the part whose video
    // range it starts in.
    let mut frames: Vec<(i64, Frame)> = Vec::new();
    for i in 0..300 {
        frames.push((i * 40, video(i * 40, i % 50 == 0)));
    }
    let mut arrival = i64::MIN;
    for k in 0..(12_000 / 23) {
        let lead = if k % 40 == 7 { -20 } else { 30 };
        // A track's own frames stay in order.
        arrival = arrival.max(k * 23 - lead);
        frames.push((arrival, audio(k * 23)));
    }
    frames.sort_by_key(|(arrival, f)| (*arrival, f.media == MediaKind::Audio)); // video first
    let mut m = muxer(Format::Fmp4, PlaylistKind::Event, Some(0.5));
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    for (_, frame) in frames {
        m.push(frame).expect("frame");
    }
    m.finish().unwrap();
    let out = outputs(&mut m);
    assert!(check_parts(&out, true) >= 5);
    check_timelines(&out);
}

proptest::proptest! {
    /// Any timestamps (steps back and forth, jumps to any i64), with or
    /// without parts: the muxer never panics (an error is an answer),
    /// and every part it writes is within its target. (It found two
    /// overflows older than the part rules: the negated start and the
    /// segmenter's step at i64 extremes.)
    #[test]
    fn any_timestamps_never_panic(
        frames in proptest::collection::vec(
            (proptest::bool::ANY, proptest::bool::ANY, -5_000i64..5_000, 0i64..200, proptest::bool::ANY),
            1..300,
        ),
        extreme in proptest::option::of(proptest::prelude::any::<i64>()),
        parts in proptest::bool::ANY,
    ) {
        let mut m = muxer(Format::Fmp4, PlaylistKind::Event, parts.then_some(0.3));
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        let mut clock = [0i64; 2];
        let mut failed = false;
        for (i, &(is_video, key, step, cts, jump)) in frames.iter().enumerate() {
            let track = usize::from(!is_video);
            clock[track] = if jump && i % 7 == 3 {
                extreme.unwrap_or(step * 1000)
            } else {
                clock[track].saturating_add(step)
            };
            let ms = clock[track];
            let mut frame = if is_video { video(0, key) } else { audio(0) };
            frame.dts = Frame::ticks_from_ms(ms);
            frame.pts = frame.dts.saturating_add(if is_video { cts * 90 } else { 0 });
            if m.push(frame).is_err() {
                failed = true;
                break;
            }
        }
        if !failed && m.finish().is_ok() {
            let out = outputs(&mut m);
            for o in &out {
                if let Output::Part { duration, .. } = o {
                    proptest::prop_assert!(*duration <= 0.3 + 1e-9);
                }
            }
        }
    }
}

#[test]
fn key_frames_every_1999_ms_give_2_s_segments_and_target_2() {
    let jitter = [1998, 2002, 1999, 2001, 2000, 1998, 1998, 2002, 2001, 1999];
    for intervals in [[1999; 10], [2001; 10], jitter] {
        for (format, part) in [
            (Format::Ts, None),
            (Format::Fmp4, None),
            (Format::Fmp4, Some(0.5)),
        ] {
            let mut options = MuxerOptions::new(format);
            options.target_duration = 2.0;
            options.part_duration = part;
            options.kind = PlaylistKind::Event;
            let mut m = Muxer::new(options).expect("options");
            m.set_config(avc(true)).unwrap();
            m.set_config(aac()).unwrap();
            push_obs_like(&mut m, &intervals);
            let out = outputs(&mut m);
            let durations = segment_durations(&out);
            // Every GOP but the last (still open) is a segment.
            assert_eq!(
                durations.len(),
                intervals.len() - 1,
                "{format:?} {intervals:?}"
            );
            for (d, &i) in durations.iter().zip(&intervals) {
                assert!(
                    (d - i as f64 / 1000.0).abs() < 0.0015,
                    "{format:?}: {durations:?}"
                );
            }
            let text = m.playlist().render();
            assert!(
                text.contains("#EXT-X-TARGETDURATION:2\n"),
                "{format:?}\n{text}"
            );
        }
    }
}

#[test]
fn a_live_window_reports_what_left_it() {
    let mut m = muxer(Format::Ts, PlaylistKind::Live { window: 2 }, None);
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    push_av(&mut m, 0, 250, 25);
    let out = outputs(&mut m);
    let segments: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            Output::Segment { msn, .. } => Some(*msn),
            _ => None,
        })
        .collect();
    // 10 s at one key frame a second: 9 complete segments so far.
    assert_eq!(segments, (0..9).collect::<Vec<_>>());
    let removed: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Output::Removed { uris } => Some(uris.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        removed,
        (0..7).map(|n| format!("seg{n}.ts")).collect::<Vec<_>>()
    );
    assert_eq!(m.playlist().media_sequence(), 7);
}

#[test]
fn a_configuration_change_gives_a_new_init_and_a_discontinuity() {
    let mut m = muxer(Format::Fmp4, PlaylistKind::Event, None);
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    push_av(&mut m, 0, 50, 25);
    // The same configuration again changes nothing.
    m.set_config(avc(true)).unwrap();
    push_av(&mut m, 2000, 10, 25);
    m.set_config(avc(false)).unwrap();
    push_av(&mut m, 2400, 50, 25);
    m.finish().unwrap();
    let out = outputs(&mut m);
    let inits: Vec<&str> = out
        .iter()
        .filter_map(|o| match o {
            Output::Init { uri, .. } => Some(uri.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(inits, ["init0.mp4", "init1.mp4"]);
    let discontinuous: Vec<bool> = out
        .iter()
        .filter_map(|o| match o {
            Output::Segment { discontinuity, .. } => Some(*discontinuity),
            _ => None,
        })
        .collect();
    assert_eq!(discontinuous, [false, false, false, true, false]);
    let text = m.playlist().render();
    assert!(
        text.contains("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n"),
        "{text}"
    );
}

#[test]
fn the_first_init_waits_for_a_late_sequence_header() {
    let mut m = muxer(Format::Fmp4, PlaylistKind::Vod, None);
    m.set_config(avc(true)).unwrap();
    m.push(video(0, true)).unwrap();
    m.push(video(40, false)).unwrap();
    // The audio configuration arrives after the first video frames.
    m.set_config(aac()).unwrap();
    push_av(&mut m, 80, 50, 25);
    m.finish().unwrap();
    let out = outputs(&mut m);
    let Some(Output::Init { data, .. }) = out.first() else {
        panic!("no init first: {out:?}");
    };
    // Two tracks (trak boxes) in the one init segment.
    assert_eq!(data.windows(4).filter(|w| w == b"trak").count(), 2);
    assert_eq!(
        out.iter()
            .filter(|o| matches!(o, Output::Init { .. }))
            .count(),
        1
    );
}

#[test]
fn parts_stay_under_the_target_when_video_stops() {
    let mut m = muxer(Format::Fmp4, PlaylistKind::Event, Some(0.3));
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    push_av(&mut m, 0, 20, 25);
    // Video stalls; audio goes on for 2 s.
    for i in 0..100 {
        m.push(audio(800 + i * 20)).unwrap();
    }
    m.finish().unwrap();
    let parts: Vec<(f64, bool)> = outputs(&mut m)
        .into_iter()
        .filter_map(|o| match o {
            Output::Part {
                duration,
                independent,
                ..
            } => Some((duration, independent)),
            _ => None,
        })
        .collect();
    assert!(parts.len() >= 9, "{parts:?}");
    assert!(parts.iter().all(|(d, _)| *d <= 0.3 + 1e-9), "{parts:?}");
    // Only the first part starts with the key frame; audio-only parts
    // of a stream with video are not independent.
    assert!(parts[0].1);
    assert!(
        parts[1..].iter().all(|(_, independent)| !independent),
        "{parts:?}"
    );
}

#[test]
fn a_restart_continues_the_playlist_with_a_discontinuity() {
    for format in [Format::Ts, Format::Fmp4] {
        let part = (format == Format::Fmp4).then_some(0.5);
        let mut m = muxer(format, PlaylistKind::Event, part);
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        push_av(&mut m, 0, 75, 25);
        m.finish().unwrap();
        let ended = m.playlist().render();
        assert!(ended.ends_with("#EXT-X-ENDLIST\n"), "{ended}");
        // Calling it on a stream that has not ended changes nothing.
        let mut fresh = muxer(format, PlaylistKind::Event, part);
        fresh.restart();
        assert!(!fresh.is_finished());

        m.restart();
        assert!(!m.is_finished());
        let resumed = m.playlist().render();
        assert!(!resumed.contains("#EXT-X-ENDLIST"), "{resumed}");
        // The new publisher starts again at 0 with the same tracks,
        // its audio a little before its first key frame.
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        m.push(audio(0)).unwrap();
        push_av(&mut m, 20, 75, 25);
        m.finish().unwrap();
        let out = outputs(&mut m);
        let segments: Vec<(u64, bool)> = out
            .iter()
            .filter_map(|o| match o {
                Output::Segment {
                    msn, discontinuity, ..
                } => Some((*msn, *discontinuity)),
                _ => None,
            })
            .collect();
        assert_eq!(
            segments,
            [
                (0, false),
                (1, false),
                (2, false),
                (3, true),
                (4, false),
                (5, false)
            ],
            "{format:?}"
        );
        // One init segment: the configuration did not change.
        assert_eq!(
            out.iter()
                .filter(|o| matches!(o, Output::Init { .. }))
                .count(),
            usize::from(format == Format::Fmp4)
        );
        let text = m.playlist().render();
        assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
        assert!(text.ends_with("#EXT-X-ENDLIST\n"), "{text}");
        // The timeline went on: about 3 s + 3 s, not back to 0.
        let total: f64 = m.playlist().segments().map(|(_, s)| s.duration).sum();
        assert!((total - 6.0).abs() < 0.1, "{format:?}: {total} s\n{text}");
        let reparsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).expect("m3u8-rs");
        assert_eq!(reparsed.segments.len(), 6);
        assert!(reparsed.segments[3].discontinuity);
    }
}

#[test]
fn refuses_what_cannot_be_done() {
    assert!(matches!(
        Muxer::new(MuxerOptions {
            part_duration: Some(0.5),
            ..MuxerOptions::new(Format::Ts)
        }),
        Err(MuxError::PartsNeedFmp4)
    ));
    let mut m = muxer(Format::Ts, PlaylistKind::Vod, None);
    assert!(matches!(
        m.push(audio(0)),
        Err(MuxError::MissingConfig(MediaKind::Audio))
    ));
    let av1 = flv::config::Av1Config::parse(&[0x81, 0x00, 0x0c, 0x00]).expect("av1C");
    let error = m.set_config(TrackConfig::Av1(av1)).unwrap_err();
    assert!(error.to_string().contains("fMP4"), "{error}");
    // The refused configuration changed nothing.
    assert_eq!(m.tracks(), &Tracks::default());
}

/// The video sample durations of every fragment, in order (track 1 is
/// video in these tests' init segments).
fn video_durations(out: &[Output]) -> Vec<u32> {
    check_timelines(out)
        .iter()
        .flatten()
        .flatten()
        .filter(|traf| traf.track_id == 1)
        .flat_map(|traf| traf.durations.iter().copied())
        .collect()
}

#[test]
fn thirty_fps_on_the_millisecond_clock_is_written_at_a_constant_rate() {
    let run = |constant: bool| {
        let mut options = MuxerOptions::new(Format::Fmp4);
        options.target_duration = 2.0;
        options.part_duration = Some(0.5);
        options.constant_frame_rate = constant;
        let mut m = Muxer::new(options).expect("options");
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        push_obs_like(&mut m, &[2000; 5]);
        m.finish().unwrap();
        video_durations(&outputs(&mut m))
    };
    let source = run(false);
    assert!(
        source.contains(&2970) && source.contains(&3060),
        "{source:?}"
    );
    let regular = run(true);
    assert_eq!(regular.len(), source.len());
    // The first second is the detector's; from then on 3000 ticks each.
    assert!(regular[30..].iter().all(|&d| d == 3000), "{regular:?}");
}

/// AES-128-CBC with PKCS#7, as a player decrypts.
fn decrypt(key: [u8; 16], msn: u64, data: &[u8]) -> Vec<u8> {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockDecryptMut, KeyIvInit};
    let iv = u128::from(msn).to_be_bytes();
    let mut buffer = data.to_vec();
    cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut buffer)
        .expect("valid padding")
        .to_vec()
}

fn joined(data: &[Bytes]) -> Vec<u8> {
    data.iter().flat_map(|b| b.iter().copied()).collect()
}

#[test]
fn encrypted_segments_and_parts_decrypt_to_the_clear_ones() {
    for (format, part) in [(Format::Ts, None), (Format::Fmp4, Some(0.5))] {
        let run = |encryption: Option<Encryption>| {
            let mut options = MuxerOptions::new(format);
            options.target_duration = 1.0;
            options.part_duration = part;
            options.kind = PlaylistKind::Event;
            options.encryption = encryption;
            let mut m = Muxer::new(options).expect("options");
            m.set_config(avc(true)).unwrap();
            m.set_config(aac()).unwrap();
            push_av(&mut m, 0, 150, 25);
            m.finish().unwrap();
            (outputs(&mut m), m.playlist().render())
        };
        let encryption = Encryption::new([9; 16], 2);
        let (clear, _) = run(None);
        let (sealed, playlist) = run(Some(encryption.clone()));
        assert_eq!(clear.len(), sealed.len());
        let mut segments: usize = 0;
        for (clear, sealed) in clear.iter().zip(&sealed) {
            let (msn, clear_data, sealed_data) = match (clear, sealed) {
                (Output::Segment { msn, data: c, .. }, Output::Segment { data: s, .. }) => {
                    segments += 1;
                    (*msn, c, s)
                }
                (Output::Part { uri, data: c, .. }, Output::Part { data: s, .. }) => {
                    let msn = uri[4..uri.find('.').unwrap()].parse().unwrap();
                    (msn, c, s)
                }
                (Output::Init { data: c, .. }, Output::Init { data: s, .. }) => {
                    assert_eq!(c, s, "init segments stay clear");
                    continue;
                }
                _ => continue,
            };
            let key = encryption.key(encryption.period(msn));
            assert_eq!(decrypt(key, msn, &joined(sealed_data)), joined(clear_data));
        }
        assert!(segments >= 5, "{segments}");
        // A key tag in front of every segment, with its IV; the key changes
        // every two segments.
        let keys: Vec<&str> = playlist
            .lines()
            .filter(|l| l.starts_with("#EXT-X-KEY"))
            .collect();
        assert_eq!(keys.len(), segments, "{playlist}");
        assert_eq!(
            keys[3],
            "#EXT-X-KEY:METHOD=AES-128,URI=\"key1.key\",IV=0x00000000000000000000000000000003"
        );
        // With fMP4, the init segment's EXT-X-MAP comes before the first key.
        if format == Format::Fmp4 {
            assert!(playlist.find("#EXT-X-MAP").unwrap() < playlist.find("#EXT-X-KEY").unwrap());
        }
    }
}

#[test]
fn an_ad_break_cuts_at_key_frames_and_tags_both_ends() {
    for parts in [None, Some(0.5)] {
        let mut options = MuxerOptions::new(Format::Fmp4);
        options.target_duration = 4.0;
        options.part_duration = parts;
        options.kind = PlaylistKind::Event;
        options.cue_tags = true;
        let mut m = Muxer::new(options).expect("options");
        m.set_config(avc(true)).unwrap();
        m.set_config(aac()).unwrap();
        // Refused without a clock, then asked at 1.32 s, where the frames
        // pushed next have a key frame every second (1.32, 2.32, ...).
        assert!(matches!(
            m.insert_ad_break(3.0),
            Err(MuxError::AdBreak { .. })
        ));
        m.set_clock(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        push_av(&mut m, 0, 33, 25);
        let id = m.insert_ad_break(3.0).unwrap();
        assert!(matches!(
            m.insert_ad_break(3.0),
            Err(MuxError::AdBreak { .. })
        ));
        push_av(&mut m, 33 * 40, 250, 25);
        m.finish().unwrap();
        let text = m.playlist().render();
        let ranges: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
            .collect();
        assert_eq!(ranges.len(), 2, "{text}");
        assert!(ranges[0].contains(&format!("ID=\"break-{id}\"")), "{text}");
        assert!(
            ranges[0].contains("PLANNED-DURATION=3.000,SCTE35-OUT=0xFC"),
            "{text}"
        );
        assert!(
            ranges[1].contains("DURATION=3.000,SCTE35-IN=0xFC"),
            "{text}"
        );
        assert!(text.contains("#EXT-X-CUE-OUT:3.000\n") && text.contains("#EXT-X-CUE-IN\n"));
        // Each tag stands right before the segment (or its first part) that
        // starts at the key frame: 1.32 s (the next one) and 4.32 s.
        let durations = segment_durations(&outputs(&mut m));
        let starts: Vec<f64> = durations
            .iter()
            .scan(0.0, |at, d| {
                let start = *at;
                *at += d;
                Some(start)
            })
            .collect();
        let mut extinfs = 0;
        let mut cut_starts = Vec::new();
        for line in text.lines() {
            if line.starts_with("#EXTINF") {
                extinfs += 1;
            } else if line.starts_with("#EXT-X-DATERANGE") {
                cut_starts.push(starts[extinfs]);
            }
        }
        let rounded: Vec<i64> = cut_starts
            .iter()
            .map(|s| (s * 1000.0).round() as i64)
            .collect();
        assert_eq!(rounded, [1320, 4320], "{text}");
    }
}

/// Pushes 25 fps video (key frame every second) and audio from 0 for
/// `seconds`, with the wall clock at each frame's time plus `late(i)` ms
/// of network jitter; returns the segments' program dates in ms.
fn dated_segments(m: &mut Muxer, seconds: i64, late: impl Fn(i64) -> i64) -> Vec<i64> {
    let base = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    for i in 0..seconds * 25 {
        let ms = i * 40;
        let jitter = Duration::from_millis((ms + late(i)).max(0) as u64);
        m.set_clock(base + jitter);
        m.push(video(ms, i % 25 == 0)).expect("video");
        m.push(audio(ms + 10)).expect("audio");
    }
    m.finish().expect("finish");
    m.playlist()
        .segments()
        .map(|(_, s)| {
            let date = s.head.program_date_time.expect("a date on every segment");
            let since = date.duration_since(base).expect("after the base");
            since.as_millis() as i64
        })
        .collect()
}

#[test]
fn program_dates_follow_the_media_timeline_through_arrival_jitter() {
    let mut m = muxer(Format::Fmp4, PlaylistKind::Event, None);
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    // Frames arrive 0 to 90 ms late, a different amount each.
    let dates = dated_segments(&mut m, 6, |i| (i * 37) % 91);
    assert_eq!(dates, [0, 1000, 2000, 3000, 4000, 5000]);
}

#[test]
fn renditions_of_one_encoder_share_their_program_dates() {
    // The high rendition as fMP4, the low one as MPEG-TS (another output
    // shift): the anchor is shared on the frames' own timeline.
    let mut high = muxer(Format::Fmp4, PlaylistKind::Event, None);
    high.set_config(avc(false)).unwrap();
    high.set_config(aac()).unwrap();
    let mut low = muxer(Format::Ts, PlaylistKind::Event, None);
    low.set_config(avc(true)).unwrap();
    low.set_config(aac()).unwrap();
    let high_dates = dated_segments(&mut high, 4, |_| 5);
    let anchor = high.clock_anchor().expect("anchored at its first segment");
    low.suggest_clock_anchor(anchor);
    // The low rendition's frames arrive 60 ms after the high one's.
    let low_dates = dated_segments(&mut low, 4, |_| 65);
    assert_eq!(high_dates, [5, 1005, 2005, 3005]);
    assert_eq!(low_dates, high_dates);
    // Unsuggested, it would have dated its own arrival.
    let mut alone = muxer(Format::Ts, PlaylistKind::Event, None);
    alone.set_config(avc(true)).unwrap();
    alone.set_config(aac()).unwrap();
    assert_eq!(dated_segments(&mut alone, 2, |_| 65), [65, 1065]);
}

#[test]
fn another_muxer_continues_the_playlist_with_one_discontinuity() {
    let mut first = muxer(Format::Fmp4, PlaylistKind::Live { window: 3 }, Some(0.5));
    first.set_config(avc(true)).unwrap();
    first.set_config(aac()).unwrap();
    // 5.2 s: five complete 1 s segments and an open one with parts.
    push_av(&mut first, 0, 130, 25);
    let point = first.continuation();
    let open = first.playlist().next_msn();
    assert_eq!(
        point.next_msn,
        open + 1,
        "the open segment's number is skipped"
    );
    assert_eq!(point.discontinuity_sequence, 0);
    assert_eq!(point.next_init, 1);

    let mut second = muxer(Format::Fmp4, PlaylistKind::Live { window: 3 }, Some(0.5));
    second.set_config(avc(true)).unwrap();
    second.set_config(aac()).unwrap();
    second.continue_from(point).unwrap();
    // The new publisher's timestamps start again at 0.
    push_av(&mut second, 0, 60, 25);
    let uris: Vec<String> = outputs(&mut second)
        .into_iter()
        .filter_map(|o| match o {
            Output::Init { uri, .. } => Some(uri),
            _ => None,
        })
        .collect();
    assert_eq!(uris, ["init1.mp4"], "init URIs are never reused");
    let text = second.playlist().render();
    assert!(
        text.contains(&format!("#EXT-X-MEDIA-SEQUENCE:{}\n", point.next_msn)),
        "{text}"
    );
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
    assert!(!text.contains("#EXT-X-DISCONTINUITY-SEQUENCE"), "{text}");
    // Once the discontinuous segment leaves the window, the count carries it.
    push_av(&mut second, 60 * 40, 150, 25);
    let later = second.continuation();
    assert_eq!(later.discontinuity_sequence, 1);
    assert!(second
        .playlist()
        .render()
        .contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
    // Too late for a second continuation.
    assert!(second.continue_from(point).is_err());
}

/// The start of each segment (ms) whose head has an `EXT-X-DATERANGE`,
/// those tags, and every segment's duration.
fn cue_cuts(m: &mut Muxer) -> (Vec<i64>, Vec<String>, Vec<f64>) {
    let text = m.playlist().render();
    let durations = segment_durations(&outputs(m));
    let mut at = 0.0;
    let mut starts = Vec::new();
    for d in &durations {
        starts.push(at);
        at += d;
    }
    let (mut extinfs, mut cuts, mut tags) = (0, Vec::new(), Vec::new());
    for line in text.lines() {
        if line.starts_with("#EXTINF") {
            extinfs += 1;
        } else if line.starts_with("#EXT-X-DATERANGE") {
            cuts.push((starts[extinfs] * 1000.0).round() as i64);
            tags.push(line.to_owned());
        }
    }
    (cuts, tags, durations)
}

/// 25 fps video with a key frame on every whole second, and audio, over
/// `[from, to)` ms.
fn push_seconds(m: &mut Muxer, from: i64, to: i64) {
    for ms in (from..to).step_by(40) {
        m.push(video(ms, ms % 1000 == 0)).expect("video");
        m.push(audio(ms + 10)).expect("audio");
    }
}

use crate::cue::Cue;

fn cue_muxer() -> Muxer {
    let mut options = MuxerOptions::new(Format::Fmp4);
    options.target_duration = 4.0;
    options.kind = PlaylistKind::Event;
    let mut m = Muxer::new(options).expect("options");
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    m.set_clock(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    m
}

#[test]
fn an_encoder_cue_splices_at_its_time_with_its_section_and_ends_at_its_in_cue() {
    let mut m = cue_muxer();
    push_seconds(&mut m, 0, 400);
    // Announced at 0.4 s for 2.5 s (key frames every whole second): the
    // break starts at the first key frame at or after it, 3 s; it ends at
    // the in cue for 5.2 s, at the key frame at 6 s (before the target
    // duration would have cut, at 7 s).
    let out = crate::scte35::SpliceInsert::out(4242, Some(12345), None).to_bytes();
    let mut cue = Cue::out(4242, None);
    cue.at = Some(2_500 * 90);
    cue.scte35 = Some(out.clone());
    m.insert_cue(cue.clone()).unwrap();
    // A repeat changes nothing; another event's out is refused while this runs.
    m.insert_cue(cue).unwrap();
    assert!(m.insert_cue(Cue::out(1, Some(90_000))).is_err());
    push_seconds(&mut m, 400, 4_400);
    let back = crate::scte35::SpliceInsert::back_in(4242, None).to_bytes();
    let mut end = Cue::back_in(4242);
    end.at = Some(5_200 * 90);
    end.scte35 = Some(back.clone());
    // An in cue for another event is not this break's end.
    m.insert_cue(Cue::back_in(7)).unwrap();
    m.insert_cue(end).unwrap();
    push_seconds(&mut m, 4_400, 12_400);
    m.finish().unwrap();
    let (cuts, tags, _) = cue_cuts(&mut m);
    assert_eq!(cuts, [3_000, 6_000], "{tags:?}");
    let hex = crate::scte35::hex;
    assert!(
        tags[0].contains(&format!("SCTE35-OUT={}", hex(&out))),
        "{tags:?}"
    );
    assert!(!tags[0].contains("PLANNED-DURATION"), "{tags:?}");
    assert!(
        tags[1].contains(&format!("SCTE35-IN={}", hex(&back))),
        "{tags:?}"
    );
    assert!(tags[1].contains("DURATION=3.000"), "{tags:?}");
    assert!(
        tags.iter().all(|t| t.contains("ID=\"splice-4242\"")),
        "{tags:?}"
    );
}

#[test]
fn a_cancelled_cue_cuts_nothing() {
    let mut m = cue_muxer();
    push_seconds(&mut m, 0, 400);
    let mut cue = Cue::out(9, Some(90_000 * 2));
    cue.at = Some(3_000 * 90);
    m.insert_cue(cue).unwrap();
    let mut cancel = Cue::out(9, None);
    cancel.kind = crate::scte35::SignalKind::Cancel;
    m.insert_cue(cancel).unwrap();
    push_seconds(&mut m, 400, 12_400);
    m.finish().unwrap();
    let (cuts, tags, durations) = cue_cuts(&mut m);
    assert!(cuts.is_empty(), "{tags:?}");
    // Segments follow the target alone: every 4 s (the last one shorter).
    assert_eq!(durations.len(), 4, "{durations:?}");
    assert!(
        durations[..3].iter().all(|d| (d - 4.0).abs() < 0.01),
        "{durations:?}"
    );
}

#[test]
fn timed_metadata_goes_in_an_emsg_in_front_of_the_next_fragment() {
    let mut options = MuxerOptions::new(Format::Fmp4);
    options.target_duration = 2.0;
    options.part_duration = Some(0.5);
    let mut m = Muxer::new(options).expect("options");
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    push_seconds(&mut m, 0, 1_000);
    let tag = Bytes::from(crate::id3::txxx("onTextData", "{\"text\":\"hello\"}").unwrap());
    m.push_metadata(1_200 * 90, tag.clone()).unwrap();
    push_seconds(&mut m, 1_000, 4_000);
    m.finish().unwrap();
    let expected = crate::id3::emsg(1_200 * 90, 0, &tag);
    let joined = |data: &[Bytes]| {
        data.iter()
            .flat_map(|b| b.iter().copied())
            .collect::<Vec<u8>>()
    };
    let mut in_parts = 0;
    let mut in_segments = 0;
    for output in outputs(&mut m) {
        match output {
            Output::Part { data, .. } => {
                let bytes = joined(&data);
                if bytes.windows(expected.len()).any(|w| w == expected) {
                    in_parts += 1;
                    // In front of the part's moof.
                    assert_eq!(&bytes[..expected.len()], &expected[..]);
                }
            }
            Output::Segment { data, .. } => {
                let bytes = joined(&data);
                in_segments += bytes
                    .windows(expected.len())
                    .filter(|w| *w == expected)
                    .count();
            }
            _ => {}
        }
    }
    assert_eq!((in_parts, in_segments), (1, 1));
    // MPEG-TS needs its metadata stream declared; the queue is bounded.
    let mut ts = Muxer::new(MuxerOptions::new(Format::Ts)).expect("options");
    assert!(matches!(
        ts.push_metadata(0, tag.clone()),
        Err(MuxError::Metadata { .. })
    ));
    let mut full = Muxer::new(MuxerOptions::new(Format::Fmp4)).expect("options");
    for _ in 0..MAX_PENDING_METADATA {
        full.push_metadata(0, tag.clone()).unwrap();
    }
    assert!(full.push_metadata(0, tag).is_err());
}

#[test]
fn timed_metadata_in_mpeg_ts_is_a_pes_packet_on_the_declared_id3_stream() {
    let mut options = MuxerOptions::new(Format::Ts);
    options.target_duration = 2.0;
    options.timed_metadata = true;
    let mut m = Muxer::new(options).expect("options");
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    push_seconds(&mut m, 0, 1_000);
    let tag = Bytes::from(crate::id3::txxx("onTextData", "{\"text\":\"hello\"}").unwrap());
    m.push_metadata(1_200 * 90, tag.clone()).unwrap();
    push_seconds(&mut m, 1_000, 4_000);
    m.finish().unwrap();
    let mut ts = Vec::new();
    for output in outputs(&mut m) {
        if let Output::Segment { data, .. } = output {
            data.iter().for_each(|piece| ts.extend_from_slice(piece));
        }
    }
    let pid = |p: &[u8]| u16::from_be_bytes([p[1] & 0x1F, p[2]]);
    // The PMT lists stream type 0x15 on PID 0x102 with its ID3 descriptor.
    let pmt = ts
        .chunks(188)
        .find(|p| pid(p) == crate::ts::PMT_PID)
        .expect("a PMT");
    assert!(
        pmt.windows(3).any(|w| w == [0x15, 0xE1, 0x02]),
        "{pmt:02X?}"
    );
    assert!(pmt.windows(4).any(|w| w == b"ID3 "));
    // One PES packet on it: private stream 1, PTS at 1.2 s (plus TS's
    // 1.4 s), the tag whole.
    let packets: Vec<&[u8]> = ts
        .chunks(188)
        .filter(|p| pid(p) == crate::ts::METADATA_PID)
        .collect();
    assert_eq!(packets.len(), 1);
    let payload = &packets[0][4..];
    let start = (payload.windows(4))
        .position(|w| w == [0, 0, 1, 0xBD])
        .expect("a PES header");
    let pes = &payload[start..];
    assert_eq!(pes[7] & 0xC0, 0x80, "PTS only");
    let pts = (u64::from((pes[9] >> 1) & 0x07) << 30)
        | (u64::from(pes[10]) << 22)
        | (u64::from(pes[11] >> 1) << 15)
        | (u64::from(pes[12]) << 7)
        | u64::from(pes[13] >> 1);
    assert_eq!(pts, (1_200 + 1_400) * 90);
    assert_eq!(&pes[14..14 + tag.len()], &tag[..]);
}

/// Pushes 25 fps video and audio for `seconds`, one key frame a second,
/// handing each MPEG-TS segment to `consume` as soon as it is out.
fn ts_segments(seconds: i64, mut consume: impl FnMut(Bytes)) {
    let mut m = muxer(Format::Ts, PlaylistKind::Vod, None);
    m.set_config(avc(true)).unwrap();
    m.set_config(aac()).unwrap();
    for second in 0..seconds {
        push_av(&mut m, second * 1000, 25, 25);
        for output in outputs(&mut m) {
            if let Output::Segment { data, .. } = output {
                assert_eq!(data.len(), 1, "one buffer a TS segment");
                consume(data.into_iter().next().unwrap());
            }
        }
    }
}

#[test]
fn a_ts_segment_s_buffer_is_reused_once_the_consumer_drops_it() {
    let mut addresses = Vec::new();
    ts_segments(8, |segment| addresses.push(segment.as_ptr()));
    assert!(addresses.len() >= 6, "{} segments", addresses.len());
    // Each segment is dropped on arrival; the buffer published two
    // segments before is then free and taken back.
    for k in 2..addresses.len() {
        assert_eq!(addresses[k], addresses[k - 2], "segment {k}");
    }
}

#[test]
fn a_ts_segment_the_consumer_keeps_is_never_written_over() {
    let mut kept = Vec::new();
    ts_segments(8, |segment| kept.push((segment.to_vec(), segment)));
    assert!(kept.len() >= 6, "{} segments", kept.len());
    for (k, (copy, segment)) in kept.iter().enumerate() {
        assert_eq!(
            &copy[..],
            &segment[..],
            "segment {k} changed after it was out"
        );
        assert_eq!(segment.len() % 188, 0);
        assert!(segment.chunks(188).all(|p| p[0] == 0x47), "segment {k}");
    }
    let addresses: std::collections::HashSet<_> = kept.iter().map(|(_, s)| s.as_ptr()).collect();
    assert_eq!(addresses.len(), kept.len(), "each its own buffer");
}
