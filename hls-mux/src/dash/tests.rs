//! The DASH timeline and the track split on synthetic streams.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use flv::config::{AacConfig, AvcConfig};
use proptest::prelude::*;

use super::*;
use crate::{Format, Frame, Muxer, MuxerOptions, Output};

fn avc() -> TrackConfig {
    let hex =
        "0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    TrackConfig::Avc(AvcConfig::parse(&bytes).expect("avcC"))
}

fn aac() -> TrackConfig {
    TrackConfig::Aac(AacConfig::parse(&[0x12, 0x10]).expect("asc"))
}

/// 25 fps video (a key frame a second, each frame's payload naming it) and
/// AAC at 44.1 kHz, `seconds` long from `start_ms`.
fn push(muxer: &mut Muxer, start_ms: i64, seconds: i64) {
    let mut audio_n = 0i64;
    for i in 0..seconds * 25 {
        let ms = start_ms + i * 40;
        let mut data = b"\x00\x00\x00\x06\x65\x88".to_vec();
        data.extend_from_slice(&(i as u32).to_be_bytes());
        muxer
            .push(Frame {
                media: MediaKind::Video,
                dts: ms * 90,
                pts: ms * 90,
                key: i % 25 == 0,
                data: data.into(),
            })
            .expect("video");
        // AAC frames (1024 samples at 44.1 kHz) up to this video frame.
        while audio_n * 1024 * 1000 / 44_100 <= i * 40 {
            let dts = start_ms * 90 + audio_n * 1024 * 90_000 / 44_100;
            let data = Bytes::from(vec![0x21, (audio_n % 256) as u8, 0x04]);
            muxer
                .push(Frame {
                    media: MediaKind::Audio,
                    dts,
                    pts: dts,
                    key: true,
                    data,
                })
                .expect("audio");
            audio_n += 1;
        }
    }
}

fn muxer(part: Option<f64>) -> Muxer {
    let mut options = MuxerOptions::new(Format::Fmp4);
    options.target_duration = 1.0;
    options.part_duration = part;
    let mut muxer = Muxer::new(options).expect("options");
    muxer.set_config(avc()).expect("avc");
    muxer.set_config(aac()).expect("aac");
    muxer
}

const T0: Duration = Duration::from_secs(1_800_000_000);

/// Feeds the muxer's outputs to `dash` (every segment complete one second
/// after the last); returns the segments by URI.
fn feed(muxer: &mut Muxer, dash: &mut Dash, segments: &mut HashMap<String, Vec<Bytes>>) {
    while let Some(output) = muxer.poll_output() {
        match output {
            Output::Init { .. } => dash.set_tracks(muxer.tracks()).expect("tracks"),
            Output::Segment {
                uri,
                data,
                discontinuity,
                ..
            } => {
                let now = UNIX_EPOCH + T0 + Duration::from_secs(segments.len() as u64);
                dash.push_segment(&uri, &data, discontinuity, now)
                    .expect("segment");
                segments.insert(uri, data);
            }
            Output::Removed { uris } => dash.remove(&uris),
            _ => {}
        }
    }
}

fn concat(data: &[Bytes]) -> Vec<u8> {
    data.iter().flat_map(|b| b.iter().copied()).collect()
}

#[test]
fn a_track_segment_holds_the_tracks_samples_as_track_1() {
    for part in [None, Some(0.3)] {
        let (mut muxer, mut dash, mut segments) = (muxer(part), Dash::new(), HashMap::new());
        push(&mut muxer, 0, 4);
        muxer.finish().expect("finish");
        feed(&mut muxer, &mut dash, &mut segments);
        assert!(segments.len() >= 3, "{part:?}: {} segments", segments.len());
        for data in segments.values() {
            let muxed = split::runs_of(data).expect("muxed runs");
            for track_id in [1, 2] {
                let split = track_segment(data, track_id).expect("split");
                let runs = split::runs_of(&split).expect("split runs");
                let originals: Vec<_> = muxed.iter().filter(|r| r.track_id == track_id).collect();
                assert_eq!(runs.len(), originals.len(), "one fragment per fragment");
                for (run, original) in runs.iter().zip(originals) {
                    assert_eq!(run.track_id, 1);
                    assert_eq!(run.decode_time, original.decode_time);
                    assert_eq!(run.duration, original.duration);
                    assert_eq!(concat(&run.data), concat(&original.data), "the same bytes");
                }
                // The media bytes are the muxed segment's, not copies.
                let pointers: Vec<_> = data
                    .iter()
                    .map(|b| b.as_ptr() as usize..b.as_ptr() as usize + b.len())
                    .collect();
                let shared = runs
                    .iter()
                    .flat_map(|r| &r.data)
                    .all(|b| pointers.iter().any(|p| p.contains(&(b.as_ptr() as usize))));
                assert!(shared, "slices of the segment");
                assert!(concat(&split).starts_with(b"\x00\x00\x00\x18styp"));
            }
        }
    }
}

#[test]
fn each_init_segment_holds_one_track() {
    let (mut muxer, mut dash, mut segments) = (muxer(None), Dash::new(), HashMap::new());
    push(&mut muxer, 0, 2);
    feed(&mut muxer, &mut dash, &mut segments);
    let ids: Vec<_> = dash
        .representations()
        .iter()
        .map(|r| (r.id, r.track_id, r.timescale))
        .collect();
    assert_eq!(ids, [("video", 1, 90_000), ("audio", 2, 44_100)]);
    for representation in dash.representations() {
        let mut reader = std::io::Cursor::new(representation.init.to_vec());
        let context = mp4parse::read_mp4(&mut reader).expect("mp4parse reads the init segment");
        assert_eq!(context.tracks.len(), 1, "{}", representation.id);
        assert_eq!(context.tracks[0].track_id, Some(1));
        assert_eq!(
            dash.file(&format!("dash-{}-0.mp4", representation.id)),
            Some(DashFile::Init(representation.init.clone()))
        );
    }
}

/// A representation as the MPD lists it: id, timescale,
/// presentationTimeOffset and (t, d) per segment.
type Listed = (String, u32, u64, Vec<(u64, u64)>);

/// The `S` elements of each representation, expanded: (t, d) per segment.
fn timelines(mpd: &str) -> Vec<Listed> {
    let doc = roxmltree::Document::parse(mpd).expect("the MPD is XML");
    let mut out = Vec::new();
    for representation in doc
        .descendants()
        .filter(|n| n.has_tag_name("Representation"))
    {
        let template = representation
            .children()
            .find(|n| n.has_tag_name("SegmentTemplate"))
            .expect("SegmentTemplate");
        let attr = |name: &str| {
            template
                .attribute(name)
                .expect(name)
                .parse::<u64>()
                .expect(name)
        };
        let mut segments = Vec::new();
        let mut t = 0;
        for s in template.descendants().filter(|n| n.has_tag_name("S")) {
            let number = |name: &str| s.attribute(name).map(|v| v.parse::<u64>().expect(name));
            t = number("t").unwrap_or(t);
            let d = number("d").expect("d");
            for _ in 0..=number("r").unwrap_or(0) {
                segments.push((t, d));
                t += d;
            }
        }
        out.push((
            representation.attribute("id").expect("id").to_owned(),
            attr("timescale") as u32,
            attr("presentationTimeOffset"),
            segments,
        ));
    }
    out
}

#[test]
fn the_timeline_lists_each_tracks_exact_times() {
    let (mut muxer, mut dash, mut segments) = (muxer(Some(0.5)), Dash::new(), HashMap::new());
    push(&mut muxer, 10_000, 6);
    feed(&mut muxer, &mut dash, &mut segments);
    let now = UNIX_EPOCH + T0 + Duration::from_secs(10);
    let mpd = dash.manifest(now).expect("an MPD");
    assert!(mpd.contains(r#"type="dynamic""#), "{mpd}");
    let doc = roxmltree::Document::parse(&mpd).expect("XML");
    let root = doc.root_element();
    // The first segment (1 s) was complete at T0: available from T0 - 1 s.
    assert_eq!(
        root.attribute("availabilityStartTime"),
        Some("2027-01-15T07:59:59.000Z")
    );
    assert_eq!(root.attribute("minimumUpdatePeriod"), Some("PT1.000S"));
    for (id, timescale, offset, listed) in timelines(&mpd) {
        // Every listed (t, d) is a segment's track decode time and duration.
        let track_id = if id == "video" { 1 } else { 2 };
        assert_eq!(
            offset,
            (10_000 * u64::from(timescale) + 500) / 1000,
            "{id}: the period starts at 10 s"
        );
        for (t, d) in &listed {
            let Some(DashFile::Media { segment, .. }) = dash.file(&format!("dash-{id}-0-{t}.m4s"))
            else {
                panic!("{id}: no file at {t}");
            };
            let runs = split::runs_of(&segments[&segment]).expect("runs");
            let mine: Vec<_> = runs.iter().filter(|r| r.track_id == track_id).collect();
            assert_eq!(mine[0].decode_time, *t, "{id}");
            let last = mine.last().expect("a run");
            assert_eq!(last.decode_time + last.duration - t, *d, "{id}");
        }
        // One after the other, no gap.
        for pair in listed.windows(2) {
            assert_eq!(pair[0].0 + pair[0].1, pair[1].0, "{id}: contiguous");
        }
        assert_eq!(listed.len(), 5, "{id}: the five complete segments");
    }
    assert!(
        dash.file("dash-video-0-1.m4s").is_none(),
        "no segment starts there"
    );
    assert!(
        dash.file("dash-video-1-900000.m4s").is_none(),
        "not this period"
    );
    assert!(dash.file("dash-subtitles-0.mp4").is_none());
    assert!(dash.file("dash-video-0-+900000.m4s").is_none());
}

#[test]
fn the_end_makes_the_mpd_static_from_what_is_left() {
    let (mut muxer, mut dash, mut segments) = (muxer(None), Dash::new(), HashMap::new());
    push(&mut muxer, 0, 9);
    muxer.finish().expect("finish");
    feed(&mut muxer, &mut dash, &mut segments);
    dash.finish();
    let mpd = dash.manifest(UNIX_EPOCH + T0).expect("MPD");
    let doc = roxmltree::Document::parse(&mpd).expect("XML");
    let root = doc.root_element();
    assert_eq!(root.attribute("type"), Some("static"));
    // The live window keeps six segments: 3 s to 9 s.
    assert_eq!(
        root.attribute("mediaPresentationDuration"),
        Some("PT6.000S"),
        "{mpd}"
    );
    for (id, timescale, offset, listed) in timelines(&mpd) {
        assert_eq!(offset, 3 * u64::from(timescale), "{id}");
        assert_eq!(listed.len(), 6, "{id}");
    }
    assert!(!mpd.contains("UTCTiming"));
}

#[test]
fn a_discontinuity_starts_a_new_period() {
    let (mut muxer, mut dash, mut segments) = (muxer(None), Dash::new(), HashMap::new());
    push(&mut muxer, 0, 3);
    muxer.finish().expect("finish");
    feed(&mut muxer, &mut dash, &mut segments);
    muxer.restart();
    push(&mut muxer, 100_000, 3);
    feed(&mut muxer, &mut dash, &mut segments);
    let mpd = dash
        .manifest(UNIX_EPOCH + T0 + Duration::from_secs(30))
        .expect("MPD");
    let doc = roxmltree::Document::parse(&mpd).expect("XML");
    let period = doc
        .descendants()
        .find(|n| n.has_tag_name("Period"))
        .expect("Period");
    assert_eq!(period.attribute("id"), Some("1"), "{mpd}");
    assert_ne!(period.attribute("start"), Some("PT0.000S"));
    assert!(mpd.contains("dash-$RepresentationID$-1.mp4"));
    for (id, _, _, listed) in timelines(&mpd) {
        assert_eq!(listed.len(), 2, "{id}: only the new period's segments");
    }
    assert!(dash.file("dash-video-0.mp4").is_none());
    assert!(matches!(
        dash.file("dash-video-1.mp4"),
        Some(DashFile::Init(_))
    ));
}

#[test]
fn segments_leave_with_the_live_window() {
    let (mut muxer, mut dash, mut segments) = (muxer(None), Dash::new(), HashMap::new());
    push(&mut muxer, 0, 20);
    feed(&mut muxer, &mut dash, &mut segments);
    let mpd = dash.manifest(SystemTime::now()).expect("MPD");
    for (id, _, _, listed) in timelines(&mpd) {
        assert_eq!(listed.len(), 6, "{id}: the window");
    }
    assert!(dash.file("dash-video-0-0.m4s").is_none(), "left the window");
}

#[test]
fn nothing_to_list_before_the_first_segment() {
    let mut dash = Dash::new();
    assert!(dash.manifest(SystemTime::now()).is_none());
    assert!(matches!(
        dash.push_segment("seg0.m4s", &[], false, SystemTime::now()),
        Err(DashError::NoTracks)
    ));
}

#[test]
fn broken_segments_are_errors() {
    let (mut muxer, mut dash, mut segments) = (muxer(Some(0.5)), Dash::new(), HashMap::new());
    push(&mut muxer, 0, 2);
    muxer.finish().expect("finish");
    feed(&mut muxer, &mut dash, &mut segments);
    let whole = concat(&segments["seg0.m4s"]);
    for cut in [1, 8, 30, 100, whole.len() / 2, whole.len() - 1] {
        let data = [Bytes::copy_from_slice(&whole[..cut])];
        assert!(track_segment(&data, 1).is_err(), "cut at {cut}");
    }
    let unknown = [Bytes::from_static(b"\x00\x00\x00\x08free")];
    assert!(matches!(
        track_segment(&unknown, 1),
        Err(DashError::Unexpected { .. })
    ));
    assert!(matches!(
        track_segment(&segments["seg0.m4s"], 7),
        Err(DashError::NoSamples { track_id: 7 })
    ));
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), split in 0usize..600) {
        let split = split.min(bytes.len());
        let data = [Bytes::copy_from_slice(&bytes[..split]), Bytes::copy_from_slice(&bytes[split..])];
        let _ = track_segment(&data, 1);
        let _ = split::runs_of(&data);
    }

    #[test]
    fn flipped_bytes_of_a_real_segment_do_not_panic(at in 0usize..4000, value: u8) {
        let mut muxer = muxer(Some(0.5));
        push(&mut muxer, 0, 2);
        muxer.finish().expect("finish");
        let segment = std::iter::from_fn(|| muxer.poll_output()).find_map(|o| match o {
            Output::Segment { data, .. } => Some(concat(&data)),
            _ => None,
        }).expect("a segment");
        let mut bytes = segment.clone();
        let at = at % bytes.len();
        bytes[at] = value;
        let _ = track_segment(&[Bytes::from(bytes)], 2);
    }
}
