//! The segmenter's tests: cuts, tolerances, parts, jumps and gaps.

use bytes::Bytes;

use super::*;

fn video(ms: i64, key: bool) -> Frame {
    Frame {
        media: MediaKind::Video,
        dts: ms * 90,
        pts: ms * 90,
        key,
        data: Bytes::from_static(b"v"),
    }
}

fn audio(ms: i64) -> Frame {
    Frame {
        media: MediaKind::Audio,
        dts: ms * 90,
        pts: ms * 90,
        key: true,
        data: Bytes::from_static(b"a"),
    }
}

fn options(target_s: f64) -> SegmenterOptions {
    SegmenterOptions::with_target_seconds(target_s)
}

fn reasons(segmenter: &mut Segmenter, frames: &[Frame]) -> Vec<(i64, CutReason)> {
    frames
        .iter()
        .filter_map(|f| match segmenter.push(f) {
            Cut::Segment { reason, dts, .. } => Some((dts / 90, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn cuts_at_keyframes_once_the_target_is_reached() {
    let mut s = Segmenter::new(options(2.0), true);
    // 25 fps, key frames every 1.2 s.
    let frames: Vec<_> = (0..150).map(|i| video(i * 40, i % 30 == 0)).collect();
    let cuts = reasons(&mut s, &frames);
    // Key frames at 0, 1.2, 2.4, 3.6, 4.8 s: cut when 2 s have passed.
    assert_eq!(
        cuts,
        vec![
            (0, CutReason::Start),
            (2400, CutReason::Duration),
            (4800, CutReason::Duration)
        ]
    );
}

/// 30 fps video on the millisecond clock whose key frames come after
/// the given intervals (ms), each GOP's frames at round(i * 1000 / 30)
/// after its key frame.
fn obs_like(intervals: &[i64]) -> Vec<Frame> {
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
    frames.push(video(key, true));
    frames
}

fn segment_lengths(frames: &[Frame], target_s: f64) -> Vec<i64> {
    let mut s = Segmenter::new(options(target_s), true);
    let starts: Vec<i64> = reasons(&mut s, frames).iter().map(|c| c.0).collect();
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn key_frames_a_millisecond_early_are_on_time() {
    // OBS with a 2 s key frame interval: every 1999 ms.
    let lengths = segment_lengths(&obs_like(&[1999; 10]), 2.0);
    assert_eq!(lengths, [1999; 10]);
    let lengths = segment_lengths(&obs_like(&[2001; 10]), 2.0);
    assert_eq!(lengths, [2001; 10]);
    // Jitter both ways, 2 ms at most.
    let jitter = [1998, 2002, 1999, 2001, 2000, 1998, 1998, 2002, 2001, 1999];
    assert_eq!(segment_lengths(&obs_like(&jitter), 2.0), jitter);
}

#[test]
fn a_key_frame_a_whole_frame_early_is_not_on_time() {
    // 25 fps with a GOP of 49 frames (1960 ms): one frame short of the
    // 2 s target is the encoder's interval, not rounding; the segment
    // takes two GOPs.
    let frames: Vec<_> = (0..49 * 5).map(|i| video(i * 40, i % 49 == 0)).collect();
    assert_eq!(segment_lengths(&frames, 2.0), [3920, 3920]);
    // The tolerance is at most 20 ms even at 1 fps (500 ms would be
    // half a frame): a key frame 40 ms early waits.
    let frames: Vec<_> = (0..12)
        .map(|i| video(i * 1000 - 40 * (i % 2), true))
        .collect();
    let lengths = segment_lengths(&frames, 2.0);
    assert!(lengths.iter().all(|&l| l >= 1980), "{lengths:?}");
}

#[test]
fn a_long_gop_gives_a_long_segment() {
    let mut s = Segmenter::new(options(2.0), true);
    let frames: Vec<_> = (0..300).map(|i| video(i * 40, i % 250 == 0)).collect();
    assert_eq!(
        reasons(&mut s, &frames),
        vec![(0, CutReason::Start), (10_000, CutReason::Duration)]
    );
}

#[test]
fn video_before_the_first_keyframe_is_dropped_audio_kept_after() {
    let mut s = Segmenter::new(options(2.0), true);
    assert_eq!(s.push(&video(0, false)), Cut::Drop);
    assert_eq!(s.push(&audio(10)), Cut::Drop);
    assert!(matches!(s.push(&video(40, true)), Cut::Segment { .. }));
    assert!(matches!(s.push(&audio(50)), Cut::Continue { .. }));
}

#[test]
fn with_a_lead_in_audio_opens_the_first_segment_and_video_waits_for_a_key() {
    let mut s = Segmenter::new(options(2.0), true);
    s.allow_audio_lead_in();
    assert!(matches!(
        s.push(&audio(0)),
        Cut::Segment {
            reason: CutReason::Start,
            dts: 0,
            ..
        }
    ));
    // Video still starts on its key frame, inside the same segment.
    assert_eq!(s.push(&video(10, false)), Cut::Drop);
    assert!(matches!(s.push(&video(25, true)), Cut::Continue { .. }));
    assert!(matches!(s.push(&video(65, false)), Cut::Continue { .. }));
    assert!(matches!(s.push(&audio(26)), Cut::Continue { .. }));
    // The next cut is measured from the audio that opened the segment.
    assert!(matches!(
        s.push(&video(2000, true)),
        Cut::Segment {
            reason: CutReason::Duration,
            ..
        }
    ));
}

#[test]
fn audio_only_cuts_on_audio_frames() {
    let mut s = Segmenter::new(options(1.0), false);
    let frames: Vec<_> = (0..100).map(|i| audio(i * 23)).collect();
    let cuts = reasons(&mut s, &frames);
    assert_eq!(cuts[0], (0, CutReason::Start));
    // 989 ms is 11 ms short of the target, within half a 23 ms frame:
    // on time (1012 ms, the first frame past it, is 12 ms over).
    assert_eq!(cuts[1], (989, CutReason::Duration));
    assert_eq!(cuts[2], (1978, CutReason::Duration));
    assert_eq!(cuts.len(), 3);
}

#[test]
fn audio_never_cuts_when_there_is_video() {
    let mut s = Segmenter::new(options(1.0), true);
    let mut frames = vec![video(0, true)];
    frames.extend((1..200).map(|i| audio(i * 23)));
    assert_eq!(reasons(&mut s, &frames).len(), 1);
}

#[test]
fn a_forward_jump_is_a_discontinuity_closed_up() {
    let mut s = Segmenter::new(options(2.0), true);
    let mut frames: Vec<_> = (0..50).map(|i| video(i * 40, i % 25 == 0)).collect();
    frames.extend((0..50).map(|i| video(12_000 + i * 40, i % 25 == 0)));
    let cuts = reasons(&mut s, &frames);
    assert_eq!(
        cuts,
        vec![
            (0, CutReason::Start),
            // One frame after 1960 ms, not 12 s.
            (
                2000,
                CutReason::Jump {
                    media: MediaKind::Video,
                    delta: (12_000 - 1960) * 90
                }
            ),
        ]
    );
}

#[test]
fn a_forward_jump_inside_a_gop_leaves_no_hole_and_keeps_av_together() {
    let mut s = Segmenter::new(options(2.0), true);
    let mut out = Vec::new();
    for i in 0..40 {
        out.push(s.push(&video(i * 40, i % 50 == 0)));
        out.push(s.push(&audio(i * 40 + 5)));
    }
    // Both tracks jump 10 s at 1600 ms, in the middle of a GOP.
    for i in 40..100 {
        out.push(s.push(&video(10_000 + i * 40, i % 50 == 0)));
        out.push(s.push(&audio(10_000 + i * 40 + 5)));
    }
    let times: Vec<i64> = out
        .iter()
        .filter_map(|c| match c {
            Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => Some(*dts / 90),
            Cut::Drop => None,
        })
        .collect();
    // Continuous: each pair one 40 ms frame after the last, audio 5 ms
    // after its video.
    let expected: Vec<i64> = (0..100).flat_map(|i| [i * 40, i * 40 + 5]).collect();
    assert_eq!(times, expected);
    // The next key frame (2000 ms out) starts the discontinuous segment.
    assert!(matches!(
        out[100],
        Cut::Segment {
            reason: CutReason::Jump { .. },
            dts: 180_000,
            ..
        }
    ));
}

#[test]
fn one_tracks_gap_is_kept_and_is_no_jump() {
    let mut s = Segmenter::new(options(2.0), true);
    // Audio stops for 8 s (a muted encoder) while video goes on.
    for i in 0..300 {
        s.push(&video(i * 40, i % 50 == 0));
        if !(25..225).contains(&i) {
            let cut = s.push(&audio(i * 40 + 5));
            let Cut::Continue { dts, .. } = cut else {
                panic!("audio at {i}: {cut:?}");
            };
            // Audio keeps its own time.
            assert_eq!(dts, (i * 40 + 5) * 90);
        }
    }
}

#[test]
fn a_jump_inside_a_gop_waits_for_the_next_keyframe() {
    let mut s = Segmenter::new(options(20.0), true);
    let mut frames: Vec<_> = (0..10).map(|i| video(i * 40, i == 0)).collect();
    frames.push(video(9_000, false));
    frames.push(video(9_040, true));
    let cuts = reasons(&mut s, &frames);
    assert_eq!(cuts.len(), 2);
    // 9000 ms closed up to one frame after 360 ms; the key frame after it.
    assert_eq!(cuts[1].0, 440);
    assert!(cuts[1].1.is_discontinuity());
}

#[test]
fn a_backward_jump_is_remapped_and_both_tracks_stay_together() {
    let mut s = Segmenter::new(options(2.0), true);
    let mut out = Vec::new();
    let mut push = |f: Frame| {
        let cut = s.push(&f);
        out.push((f.media, cut));
    };
    for i in 0..75 {
        push(video(i * 40, i % 25 == 0));
        push(audio(i * 40 + 5));
    }
    // The encoder restarts: both tracks go back to 1000 ms.
    for i in 0..50 {
        push(video(1000 + i * 40, i % 25 == 0));
        push(audio(1000 + i * 40 + 5));
    }
    let dts: Vec<(MediaKind, i64)> = out
        .iter()
        .filter_map(|(m, c)| match c {
            Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => Some((*m, *dts)),
            Cut::Drop => None,
        })
        .collect();
    for media in [MediaKind::Video, MediaKind::Audio] {
        let track: Vec<i64> = dts
            .iter()
            .filter(|(m, _)| *m == media)
            .map(|(_, d)| *d)
            .collect();
        assert!(
            track.windows(2).all(|w| w[1] > w[0]),
            "{media:?} not monotonic"
        );
    }
    // The jump: video continues one frame after 2960 ms; audio keeps its
    // 5 ms distance to the video.
    let jump = out
        .iter()
        .position(|(_, c)| {
            matches!(
                c,
                Cut::Segment {
                    reason: CutReason::Jump { .. },
                    ..
                }
            )
        })
        .expect("a discontinuous segment");
    assert_eq!(dts[jump].1, 3000 * 90);
    assert_eq!(dts[jump + 1], (MediaKind::Audio, 3005 * 90));
}

#[test]
fn a_config_change_cuts_at_the_next_keyframe() {
    let mut s = Segmenter::new(options(10.0), true);
    let frames: Vec<_> = (0..20).map(|i| video(i * 40, i % 10 == 0)).collect();
    let mut cuts = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i == 5 {
            s.config_changed();
        }
        if let Cut::Segment { reason, dts, .. } = s.push(f) {
            cuts.push((dts / 90, reason));
        }
    }
    assert_eq!(
        cuts,
        vec![(0, CutReason::Start), (400, CutReason::ConfigChange)]
    );
}

#[test]
fn parts_never_exceed_the_part_target() {
    let mut opts = options(2.0);
    opts.part_duration = Some(seconds_to_ticks(0.5));
    let mut s = Segmenter::new(opts, true);
    let mut starts = vec![];
    for i in 0..100 {
        match s.push(&video(i * 33, i % 30 == 0)) {
            Cut::Segment { dts, .. } => starts.push((dts, true)),
            Cut::Continue {
                dts,
                new_part: true,
                ..
            } => starts.push((dts, false)),
            _ => {}
        }
    }
    starts.push((100 * 33 * 90, true));
    assert_eq!(starts.iter().filter(|s| s.1).count(), 3);
    for w in starts.windows(2) {
        let length = w[1].0 - w[0].0;
        assert!(length <= 45_000, "part of {length} ticks");
        // Only the last part of a segment may be short: others are at
        // least 85% of the part target (rfc8216bis 4.4.4.9).
        assert!(w[1].1 || length >= 38_250, "part of {length} ticks");
    }
}

fn with_parts(target_s: f64, part_s: f64) -> Segmenter {
    let mut opts = options(target_s);
    opts.part_duration = Some(seconds_to_ticks(part_s));
    Segmenter::new(opts, true)
}

/// (dts ms, part start ms, media) of each frame that starts a part or
/// a segment, and the segment starts (ms).
fn part_starts(s: &mut Segmenter, frames: &[Frame]) -> Vec<(i64, i64, MediaKind)> {
    part_and_segment_starts(s, frames).0
}

fn part_and_segment_starts(
    s: &mut Segmenter,
    frames: &[Frame],
) -> (Vec<(i64, i64, MediaKind)>, Vec<i64>) {
    let mut starts = Vec::new();
    let mut segments = Vec::new();
    for f in frames {
        match s.push(f) {
            Cut::Segment { dts, .. } => {
                starts.push((dts / 90, s.part_start() / 90, f.media));
                segments.push(s.part_start() / 90);
            }
            Cut::Continue {
                dts,
                new_part: true,
                ..
            } => {
                starts.push((dts / 90, s.part_start() / 90, f.media));
            }
            _ => {}
        }
    }
    (starts, segments)
}

#[test]
fn parts_start_at_video_frames_when_audio_is_interleaved() {
    let mut s = with_parts(2.0, 0.5);
    let mut frames = Vec::new();
    for i in 0..120 {
        frames.push(video((i * 1000 + 15) / 30, i % 60 == 0));
        for k in 0..2 {
            let t = ((i * 2 + k) * 1024 * 1000 + 22_050) / 88_200;
            frames.push(audio(t));
        }
    }
    frames.sort_by_key(|f| (f.dts, f.media == MediaKind::Audio)); // video first
    let starts = part_starts(&mut s, &frames);
    assert!(starts.len() >= 8, "{starts:?}");
    // Every part begins with a video frame, at its decode time: the
    // audio between never cuts (it used to, whichever came first).
    assert!(
        starts
            .iter()
            .all(|&(dts, start, media)| media == MediaKind::Video && dts == start),
        "{starts:?}"
    );
    assert!(
        starts.windows(2).all(|w| w[1].1 - w[0].1 <= 500),
        "{starts:?}"
    );
}

#[test]
fn after_a_gap_parts_stay_within_the_target_and_the_key_frame_cuts() {
    let mut s = with_parts(1.0, 0.5);
    // 25 fps, key frames every 1 s; video and audio stop at 880 ms and
    // come back at 1900 ms (a gap under the jump threshold) with a key
    // frame, and the segment's target was reached.
    let mut frames: Vec<Frame> = (0..23).map(|i| video(i * 40, i == 0)).collect();
    frames.extend((0..25).map(|i| video(1900 + i * 40, i % 25 == 0)));
    frames.push(video(2900, true));
    let (starts, segments) = part_and_segment_starts(&mut s, &frames);
    for w in starts.windows(2) {
        assert!(
            w[1].1 - w[0].1 <= 500,
            "a part of {} ms: {starts:?}",
            w[1].1 - w[0].1
        );
    }
    // The key frame after the gap ends the segment (its last part would
    // have been 1420 ms): the last part ends at the part target, 980 ms,
    // and the new segment starts there with the key frame 920 ms in.
    assert!(
        starts.contains(&(1900, 980, MediaKind::Video)),
        "{starts:?}"
    );
    assert_eq!(segments, [0, 980, 2900]);
}

#[test]
fn one_frame_dropped_before_a_key_frame_does_not_double_the_segment() {
    // 30 fps on RTMP's millisecond clock, key frames every 2 s, parts of
    // 0.25 s; the frame before each key frame is lost, so the key frame
    // comes after the open part's target.
    let mut s = with_parts(2.0, 0.25);
    let frames: Vec<Frame> = (0..240)
        .filter(|i| i % 60 != 59)
        .map(|i| video((i * 1000 + 15) / 30, i % 60 == 0))
        .collect();
    let (starts, segments) = part_and_segment_starts(&mut s, &frames);
    assert_eq!(segments.len(), 4, "{segments:?}");
    for w in segments.windows(2) {
        assert!((1990..=2000).contains(&(w[1] - w[0])), "{segments:?}");
    }
    for w in starts.windows(2) {
        assert!(w[1].1 - w[0].1 <= 250, "{starts:?}");
    }
}

#[test]
fn timestamps_past_32_bits_of_ms_stay_monotonic() {
    let mut s = Segmenter::new(options(2.0), true);
    let base = (1i64 << 32) - 1000;
    let mut last = i64::MIN;
    for i in 0..100 {
        match s.push(&video(base + i * 40, i % 25 == 0)) {
            Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => {
                assert!(dts > last);
                last = dts;
            }
            Cut::Drop => panic!("dropped"),
        }
    }
    assert_eq!(last, (base + 99 * 40) * 90);
}
