//! Every event kind on synthetic frame sequences: it fires where it should, with
//! the size of what happened, and stays quiet on the regular stream around it.

use std::time::Duration;

use bytes::Bytes;
use flv::{Codec, ConfigChange, ConfigChangeKind, Frame, MediaType};
use media_probe::{Event, EventKind, FrameRecord, Interval, Output, Probe, ProbeConfig, TimeBase};

/// The avcC of a 320x240 Baseline stream (x264), 30 fps in its VUI.
const AVCC: [u8; 37] = [
    0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec,
    0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8, 0x01, 0x00,
    0x04, 0x68, 0xce, 0x0f, 0xc8,
];

/// A stream under test: frames go in, outputs are collected.
struct Run {
    probe: Probe,
    records: Vec<FrameRecord>,
    intervals: Vec<Interval>,
    events: Vec<Event>,
}

impl Run {
    fn new(config: ProbeConfig) -> Run {
        Run {
            probe: Probe::new(config).expect("valid config"),
            records: Vec::new(),
            intervals: Vec::new(),
            events: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.probe.poll_output() {
            match output {
                Output::Frame(r) => self.records.push(r),
                Output::Interval(i) => self.intervals.push(i),
                Output::Event(e) => self.events.push(e),
                _ => {}
            }
        }
    }

    fn frame(
        &mut self,
        media: MediaType,
        codec: Codec,
        dts: i64,
        pts: i64,
        key: bool,
        arrival_ms: Option<u64>,
    ) {
        let frame = Frame {
            media,
            codec,
            track: 0,
            dts,
            pts,
            nanos: 0,
            key,
            data: Bytes::from_static(b"\x00\x00\x00\x02\x09\xf0"),
            offset: 1000 + dts.unsigned_abs(),
        };
        self.probe
            .push_frame(&frame, arrival_ms.map(Duration::from_millis));
        self.drain();
    }

    /// VP6 video (needs no sequence header) at `dts`.
    fn video(&mut self, dts: i64, key: bool) {
        self.frame(MediaType::Video, Codec::Vp6, dts, dts, key, None);
    }

    /// MP3 audio (needs no sequence header) at `dts`.
    fn audio(&mut self, dts: i64) {
        self.frame(MediaType::Audio, Codec::Mp3, dts, dts, true, None);
    }

    fn live(&mut self, media: MediaType, dts: i64, arrival_ms: u64) {
        let codec = match media {
            MediaType::Video => Codec::Vp6,
            MediaType::Audio => Codec::Mp3,
        };
        self.frame(media, codec, dts, dts, false, Some(arrival_ms));
    }

    fn config(&mut self, dts: i64, record: &[u8]) {
        let change = ConfigChange {
            media: MediaType::Video,
            codec: Codec::Avc,
            track: 0,
            dts,
            kind: ConfigChangeKind::SequenceStart,
            data: Bytes::copy_from_slice(record),
            offset: 500,
        };
        self.probe.push_config(&change, None);
        self.drain();
    }

    fn finish(mut self) -> Run {
        self.probe.finish(None);
        self.drain();
        self
    }

    fn kinds(&self, name: &str) -> Vec<&EventKind> {
        self.events
            .iter()
            .filter(|e| e.kind.name() == name)
            .map(|e| &e.kind)
            .collect()
    }

    fn names(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.kind.name()).collect()
    }
}

/// 30 fps video DTS (33/34 ms steps as FLV's milliseconds give them).
fn dts30(i: i64) -> i64 {
    i * 1000 / 30
}

#[test]
fn a_regular_stream_has_no_events_and_records_carry_durations() {
    let mut run = Run::new(ProbeConfig::default());
    for i in 0..300 {
        run.video(dts30(i), i % 60 == 0);
        if i % 3 == 0 {
            run.audio(i * 1000 / 30 + 5);
        }
    }
    let run = run.finish();
    assert_eq!(run.names(), Vec::<&str>::new());
    assert_eq!(run.records.len(), 400);
    // Decode order kept, durations from the next DTS of the same track.
    assert_eq!(run.records[0].dts, 0);
    assert_eq!(run.records[0].duration, Some(33));
    assert_eq!(run.records[1].media, MediaType::Audio);
    assert_eq!(run.records[1].duration, Some(100));
    assert!(run.records.last().unwrap().duration.is_none());
    let summary = run.probe.summary();
    assert_eq!(summary.tracks[0].gops.count, 4);
    assert!((summary.tracks[0].fps().unwrap() - 30.0).abs() < 0.05);
}

#[test]
fn dts_jumps_forward_and_backward_with_their_size() {
    let mut run = Run::new(ProbeConfig::default());
    for i in 0..10 {
        run.video(i * 40, i == 0);
    }
    // Forward: due at 400, came at 10_400.
    for i in 0..10 {
        run.video(10_400 + i * 40, false);
    }
    // Backward: due at 10_800, came at 7_800.
    for i in 0..10 {
        run.video(7_800 + i * 40, false);
    }
    let run = run.finish();
    let jumps = run.kinds("dts_jump");
    assert_eq!(
        jumps,
        [
            &EventKind::DtsJump {
                delta_ms: 10_000,
                step_ms: 10_040
            },
            &EventKind::DtsJump {
                delta_ms: -3_000,
                step_ms: -2_960
            },
        ]
    );
    assert_eq!(run.events[0].dts, 10_400);
    assert_eq!(run.events[0].pos, Some(1000 + 10_400));
    // The backward jump is folded out of the statistics clock: it sits where the
    // frame was due, and the DTS intervals keep going forward.
    assert_eq!(
        (run.events[1].dts, run.events[1].timeline_ms),
        (7_800, 10_800)
    );
    let dts_intervals: Vec<i64> = run
        .intervals
        .iter()
        .filter(|i| i.base == TimeBase::Dts)
        .map(|i| i.start_ms)
        .collect();
    assert!(
        dts_intervals.windows(2).all(|w| w[0] < w[1]),
        "{dts_intervals:?}"
    );
    assert_eq!(dts_intervals.last(), Some(&11_000));
    // A step under the threshold is no jump.
    let mut run = Run::new(ProbeConfig::default());
    for dts in [0, 40, 80, 1000, 1040] {
        run.video(dts, false);
    }
    assert!(run.finish().kinds("dts_jump").is_empty());
}

#[test]
fn a_small_backward_step_is_non_monotonic() {
    let mut run = Run::new(ProbeConfig::default());
    for dts in [0, 40, 80, 60, 120] {
        run.video(dts, false);
    }
    let run = run.finish();
    assert_eq!(run.names(), ["non_monotonic_dts"]);
    assert_eq!(
        run.kinds("non_monotonic_dts"),
        [&EventKind::NonMonotonicDts { step_ms: -20 }]
    );
}

#[test]
fn pts_before_dts() {
    let mut run = Run::new(ProbeConfig::default());
    run.frame(MediaType::Video, Codec::Vp6, 0, 0, true, None);
    run.frame(MediaType::Video, Codec::Vp6, 40, 20, false, None);
    run.frame(MediaType::Video, Codec::Vp6, 80, 120, false, None);
    let run = run.finish();
    assert_eq!(
        run.kinds("pts_lt_dts"),
        [&EventKind::PtsBeforeDts { delta_ms: -20 }]
    );
}

#[test]
fn a_stall_is_reported_with_its_duration_once() {
    let mut run = Run::new(ProbeConfig::default());
    for i in 0..50u64 {
        // 40 ms apart, except a 4 s hole before frame 25.
        let arrival = i * 40 + if i >= 25 { 4000 } else { 0 };
        run.live(MediaType::Video, i as i64 * 40, arrival);
    }
    let run = run.finish();
    assert_eq!(
        run.kinds("stall"),
        [&EventKind::Stall {
            duration_ms: 4040,
            ongoing: false
        }]
    );
    let stall = run
        .events
        .iter()
        .find(|e| e.kind.name() == "stall")
        .unwrap();
    assert_eq!(stall.arrival, Some(Duration::from_millis(25 * 40 + 4000)));
    assert_eq!(stall.media, None, "a stall is the stream's, not a track's");
    // The arrival intervals show the hole as empty seconds.
    let arrival: Vec<u32> = run
        .intervals
        .iter()
        .filter(|i| i.base == TimeBase::Arrival)
        .map(|i| i.frames())
        .collect();
    assert_eq!(&arrival[..6], [25, 0, 0, 0, 0, 25]);

    // Gaps under the threshold are not stalls; silence at the end is, still ongoing.
    let mut run = Run::new(ProbeConfig::default());
    run.live(MediaType::Audio, 0, 0);
    run.live(MediaType::Audio, 1500, 1500);
    run.probe.finish(Some(Duration::from_millis(4000)));
    run.drain();
    assert_eq!(
        run.kinds("stall"),
        [&EventKind::Stall {
            duration_ms: 2500,
            ongoing: true
        }]
    );
}

#[test]
fn arrival_lag_growing_then_catching_up() {
    let mut run = Run::new(ProbeConfig::default());
    let mut arrival = 0;
    let mut dts = 0;
    // 5 s in real time, then a server reading 30 ms behind per 40 ms frame for 2 s
    // (lag +1.5 s), then a burst that catches up.
    for phase in [(125, 40), (50, 70), (40, 0)] {
        for _ in 0..phase.0 {
            run.live(MediaType::Video, dts, arrival);
            dts += 40;
            arrival += phase.1;
        }
    }
    let run = run.finish();
    let lags = run.kinds("arrival_lag");
    assert_eq!(lags.len(), 2, "{lags:?}");
    let EventKind::ArrivalLag { lag_ms, change_ms } = lags[0] else {
        unreachable!()
    };
    assert!(
        (1000..1100).contains(lag_ms) && lag_ms == change_ms,
        "{lags:?}"
    );
    let EventKind::ArrivalLag { lag_ms, change_ms } = lags[1] else {
        unreachable!()
    };
    assert!(*change_ms <= -1000 && *lag_ms < 600, "{lags:?}");
    // The lag curve is in the arrival intervals.
    let max_lag = run.intervals.iter().filter_map(|i| i.lag_ms).max().unwrap();
    assert!((1450..=1500).contains(&max_lag), "{max_lag}");
}

#[test]
fn a_relay_burst_during_warm_up_is_not_lag() {
    let mut run = Run::new(ProbeConfig::default());
    // A cached GOP of 2 s arrives at once, then real time.
    for i in 0..50 {
        run.live(MediaType::Video, i * 40, 0);
    }
    for i in 50..300 {
        run.live(MediaType::Video, i * 40, (i as u64 - 50) * 40);
    }
    assert!(run.finish().kinds("arrival_lag").is_empty());
}

#[test]
fn frame_rate_instability_against_the_nominal_rate() {
    let mut run = Run::new(ProbeConfig::default());
    let mut dts = 0.0;
    // 30 fps for 4 s, 12 fps for 2 s, 30 fps for 4 s.
    for (frames, step) in [
        (120, 1000.0 / 30.0),
        (24, 1000.0 / 12.0),
        (120, 1000.0 / 30.0),
    ] {
        for _ in 0..frames {
            run.video(dts as i64, false);
            dts += step;
        }
    }
    let run = run.finish();
    let unstable = run.kinds("fps_unstable");
    assert_eq!(unstable.len(), 2, "{unstable:?}");
    for kind in unstable {
        let EventKind::FpsUnstable {
            fps,
            nominal_fps,
            interval_start_ms,
        } = kind
        else {
            unreachable!()
        };
        assert!((fps - 12.0).abs() < 1.01, "{fps}");
        assert!((nominal_fps - 30.0).abs() < 0.5, "{nominal_fps}");
        assert!((4000..6000).contains(interval_start_ms));
    }
    // With the nominal rate given, a 25 fps stream at 25 fps is fine.
    let mut config = ProbeConfig::default();
    config.nominal_fps = Some(25.0);
    let mut run = Run::new(config);
    for i in 0..250 {
        run.video(i * 40, false);
    }
    assert!(run.finish().kinds("fps_unstable").is_empty());
}

#[test]
fn audio_video_drift() {
    let mut run = Run::new(ProbeConfig::default());
    // Video at 25 fps; audio in step for 3 s, then its clock runs 25 % slow.
    let mut audio = 0.0;
    for i in 0..250 {
        run.video(i * 40, i % 50 == 0);
        run.audio(audio as i64);
        audio += if i < 75 { 40.0 } else { 30.0 };
    }
    let run = run.finish();
    let drifts = run.kinds("av_drift");
    assert!(!drifts.is_empty());
    let EventKind::AvDrift { drift_ms } = drifts[0] else {
        unreachable!()
    };
    assert!((500..800).contains(drift_ms), "{drifts:?}");
    // Drift grows by 250 ms/s: reported again at each further 500 ms (twice in 7 s
    // of drifting: the last, partial interval is not judged).
    assert_eq!(drifts.len(), 2, "{drifts:?}");
    let EventKind::AvDrift { drift_ms } = drifts[1] else {
        unreachable!()
    };
    assert!((1000..1300).contains(drift_ms), "{drifts:?}");
}

#[test]
fn keyframe_interval_change_and_gop_over_limit() {
    let mut run = Run::new(ProbeConfig::default());
    let mut i = 0;
    // GOPs of 60 frames (2 s), 60, 30 (1 s), then one of 12 s.
    for gop in [60, 60, 30, 360, 1] {
        for n in 0..gop {
            run.video(dts30(i), n == 0);
            i += 1;
        }
    }
    let run = run.finish();
    assert_eq!(
        run.kinds("keyframe_interval_change"),
        [
            &EventKind::KeyframeIntervalChange {
                from_ms: 2000,
                to_ms: 1000,
                from_frames: 60,
                to_frames: 30
            },
            &EventKind::KeyframeIntervalChange {
                from_ms: 1000,
                to_ms: 12000,
                from_frames: 30,
                to_frames: 360
            },
        ]
    );
    assert_eq!(
        run.kinds("gop_over_limit"),
        [&EventKind::GopOverLimit {
            gop_ms: 12000,
            frames: 360,
            limit_ms: 10_000
        }]
    );
}

#[test]
fn sequence_header_change_and_repeats() {
    let mut run = Run::new(ProbeConfig::default());
    run.config(0, &AVCC);
    run.frame(MediaType::Video, Codec::Avc, 0, 0, true, None);
    run.config(33, &AVCC); // a repeat: not a change
    run.frame(MediaType::Video, Codec::Avc, 33, 33, false, None);
    let mut other = AVCC;
    other[3] = 0x1e; // level 3.0 in the record
    run.config(67, &other);
    run.frame(MediaType::Video, Codec::Avc, 67, 67, true, None);
    let run = run.finish();
    assert_eq!(
        run.kinds("sequence_header_change"),
        [&EventKind::SequenceHeaderChange {
            from_codec: Some("avc1.42c00d".into()),
            to_codec: Some("avc1.42c01e".into()),
            from_size: Some((320, 240)),
            to_size: Some((320, 240)),
            bytes: AVCC.len(),
        }]
    );
    assert_eq!(run.records[0].width, Some(320));
    assert_eq!(
        run.records[0].nominal_duration,
        Some(33),
        "30 fps from the SPS"
    );
    assert_eq!(run.probe.summary().tracks[0].sequence_headers, 3);
}

#[test]
fn missing_sequence_header_once_per_track() {
    let mut run = Run::new(ProbeConfig::default());
    for i in 0..5 {
        run.frame(MediaType::Video, Codec::Avc, i * 40, i * 40, i == 0, None);
        run.frame(MediaType::Audio, Codec::Aac, i * 40, i * 40, true, None);
    }
    run.config(200, &AVCC);
    run.frame(MediaType::Video, Codec::Avc, 200, 200, true, None);
    let run = run.finish();
    let missing: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.kind == EventKind::MissingSequenceHeader)
        .map(|e| (e.media, e.dts))
        .collect();
    assert_eq!(
        missing,
        [(Some(MediaType::Video), 0), (Some(MediaType::Audio), 0)]
    );
}

#[test]
fn memory_stays_bounded_when_nobody_drains() {
    let mut config = ProbeConfig::default();
    config.max_queued = 1000;
    let mut probe = Probe::new(config).unwrap();
    for i in 0..100_000i64 {
        let frame = Frame {
            media: MediaType::Video,
            codec: Codec::Vp6,
            track: 0,
            dts: i * 40,
            pts: i * 40,
            nanos: 0,
            key: i % 50 == 0,
            data: Bytes::from_static(b"x"),
            offset: 0,
        };
        probe.push_frame(&frame, Some(Duration::from_millis(i as u64 * 40)));
    }
    let summary = probe.summary();
    assert_eq!(summary.tracks[0].frames, 100_000);
    assert!(summary.dropped_outputs > 100_000);
    assert_eq!(std::iter::from_fn(|| probe.poll_output()).count(), 1000);
}
