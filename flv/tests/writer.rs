//! The muxer against the demuxer of this crate (property tests: random tags,
//! frames and configurations come back as written), the keyframe index and
//! `onMetaData` patches (against FFmpeg 9's `add_keyframe_index` file), the
//! timestamp wrap, and errors.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use flv::tag::ScriptData;
use flv::{
    read_all, Body, BodyForm, Codec, ConfigChange, ConfigChangeKind, Error, Finish, Frame,
    FrameEvent, FrameReader, MediaEvent, MediaType, Pieces, ReadEvent, Tag, TagType, Writer,
    WriterOptions,
};

fn fixture(name: &str) -> Bytes {
    Bytes::from(
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(name),
        )
        .unwrap(),
    )
}

fn tags(data: Bytes) -> Vec<Tag> {
    read_all(data)
        .filter_map(|e| match e.expect("read") {
            ReadEvent::Tag(tag) => Some(tag),
            _ => None,
        })
        .collect()
}

fn media(data: Bytes) -> Vec<MediaEvent> {
    FrameReader::new(data)
        .filter_map(|e| match e.expect("read") {
            FrameEvent::Media(event) => Some(event),
            _ => None,
        })
        .collect()
}

/// Applies what [`Writer::finish`] says to the output as written.
fn apply(written: &[u8], finish: &Finish) -> Vec<u8> {
    match &finish.rewrite {
        Some(rewrite) => {
            let (start, end) = (rewrite.range.start as usize, rewrite.range.end as usize);
            [&written[..start], &rewrite.bytes[..], &written[end..]].concat()
        }
        None => {
            let mut file = written.to_vec();
            for patch in &finish.patches {
                let at = patch.offset as usize;
                file[at..at + 8].copy_from_slice(&patch.bytes);
            }
            file
        }
    }
}

fn on_metadata(file: &[u8]) -> flv::tag::OnMetaData {
    let tag = tags(Bytes::copy_from_slice(file))
        .into_iter()
        .find(|t| t.tag_type == TagType::Script)
        .expect("script tag");
    ScriptData::parse(&tag.body)
        .unwrap()
        .on_metadata()
        .expect("onMetaData")
}

const VIDEO: [Codec; 9] = [
    Codec::Avc,
    Codec::Hevc,
    Codec::Av1,
    Codec::Vp9,
    Codec::Vp8,
    Codec::Vp6,
    Codec::SorensonH263,
    Codec::ScreenVideo,
    Codec::Mpeg4Part2,
];
const AUDIO: [Codec; 10] = [
    Codec::Aac,
    Codec::Mp3,
    Codec::Opus,
    Codec::Flac,
    Codec::Ac3,
    Codec::Eac3,
    Codec::G711ALaw,
    Codec::Speex,
    Codec::PcmLittleEndian,
    Codec::Nellymoser,
];

fn any_codec() -> impl Strategy<Value = Codec> {
    prop_oneof![
        proptest::sample::select(&VIDEO[..]),
        proptest::sample::select(&AUDIO[..])
    ]
}

fn any_form() -> impl Strategy<Value = BodyForm> {
    prop_oneof![
        Just(BodyForm::Auto),
        Just(BodyForm::Legacy),
        Just(BodyForm::Enhanced)
    ]
}

/// Why writing `codec` on `track` with `nanos` in `form` may be refused.
fn refusable(codec: Codec, track: u8, nanos: u32, form: BodyForm) -> bool {
    let needs_enhanced = track != 0 || nanos != 0;
    match form {
        BodyForm::Legacy => {
            needs_enhanced
                || match codec.media() {
                    MediaType::Video => codec.video_codec_id().is_none(),
                    MediaType::Audio => codec.sound_format().is_none(),
                }
        }
        _ => needs_enhanced && codec.fourcc().is_none(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any sequence of tags, timestamps crossing the 32-bit wrap both ways
    /// included, reads back as written, from a `BytesMut` and from `Pieces`.
    #[test]
    fn tags_round_trip(
        first in 0u32..=u32::MAX,
        list in proptest::collection::vec(
            (
                prop_oneof![Just(8u8), Just(9), Just(18), 0u8..32],
                prop_oneof![0i64..100, -(1i64 << 31) + 1..(1i64 << 31)],
                proptest::collection::vec(any::<u8>(), 0..600),
                prop_oneof![Just(0u32), 0u32..0x100_0000],
                any::<bool>(),
            ),
            0..40,
        ),
        header in any::<Option<(bool, bool)>>(),
    ) {
        let mut written = Vec::new();
        let mut ts = i64::from(first);
        for (tag_type, step, body, stream_id, encrypted) in list {
            written.push(Tag {
                tag_type: TagType::from_u8(tag_type),
                timestamp: ts,
                raw_timestamp: ts as u32,
                stream_id,
                encrypted,
                offset: 0,
                body: Bytes::from(body),
            });
            ts += step;
        }
        let mut writer = Writer::new(WriterOptions::default());
        let mut flat = BytesMut::new();
        let mut pieces = Pieces::new();
        let mut other = Writer::new(WriterOptions::default());
        if let Some((audio, video)) = header {
            writer.header(audio, video, &mut flat);
            other.header(audio, video, &mut pieces);
        }
        let mut offsets = Vec::new();
        for tag in &written {
            offsets.push(writer.write_tag(tag, &mut flat).unwrap());
            other.write_tag(tag, &mut pieces).unwrap();
        }
        prop_assert_eq!(writer.position(), flat.len() as u64);
        prop_assert_eq!(pieces.len(), flat.len() as u64);
        prop_assert_eq!(pieces.take().concat(), flat.to_vec());
        let options = flv::ReaderOptions::default().strict(false).expect_header(header.is_some());
        let read: Vec<Tag> = flv::read_all_with(flat.freeze(), options)
            .map(|e| e.unwrap())
            .filter_map(|e| match e { ReadEvent::Tag(t) => Some(t), _ => None })
            .collect();
        prop_assert_eq!(read.len(), written.len());
        for ((a, b), offset) in written.iter().zip(&read).zip(offsets) {
            prop_assert_eq!(
                (a.tag_type, a.timestamp, a.raw_timestamp, a.stream_id, a.encrypted, &a.body, offset),
                (b.tag_type, b.timestamp, b.raw_timestamp, b.stream_id, b.encrypted, &b.body, b.offset)
            );
        }
    }

    /// Any frame the chosen form can carry comes back from the frame view as
    /// it was (codec, track, DTS, PTS, sub-millisecond part, key, data); one it
    /// cannot is refused and nothing is written.
    #[test]
    fn frames_round_trip(
        codec in any_codec(),
        form in any_form(),
        track in prop_oneof![Just(0u8), any::<u8>()],
        nanos in prop_oneof![Just(0u32), 0u32..1_000_000],
        dts in 0i64..(1 << 32),
        cts in prop_oneof![Just(0i32), -0x80_0000i32..0x80_0000],
        key in any::<bool>(),
        data in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        let media = codec.media();
        let cts = if media == MediaType::Video
            && matches!(codec, Codec::Avc | Codec::Hevc | Codec::Mpeg4Part2) { cts } else { 0 };
        // Legacy MPEG-4 part 2 is the only non-AVC/HEVC codec with a composition
        // time, and only in legacy tags; Enhanced has no FourCC for it.
        let frame = Frame {
            media,
            codec,
            track,
            dts,
            pts: dts + i64::from(cts),
            nanos,
            key: key || media == MediaType::Audio,
            data: Bytes::from(data),
            offset: 0,
        };
        let mut writer = Writer::new(WriterOptions::default().form(form));
        let mut out = BytesMut::new();
        writer.header(true, true, &mut out);
        match writer.write_frame(&frame, &mut out) {
            Ok(offset) => {
                prop_assert_eq!(offset, 13);
                let events = media_of(out.freeze());
                prop_assert_eq!(events.len(), 1);
                let MediaEvent::Frame(got) = &events[0] else {
                    return Err(TestCaseError::fail(format!("{:?}", events[0])));
                };
                prop_assert_eq!(got, &Frame { offset: 13, ..frame });
            }
            Err(error) => {
                prop_assert!(refusable(codec, track, nanos, form), "{error} for {frame:?} in {form:?}");
                prop_assert!(matches!(error, Error::InvalidField { offset: 13, .. }), "{error:?}");
                prop_assert_eq!(out.len(), 13);
                prop_assert_eq!(writer.position(), 13);
            }
        }
    }

    /// Sequence headers come back as configuration changes.
    #[test]
    fn configs_round_trip(
        codec in proptest::sample::select(&[Codec::Avc, Codec::Hevc, Codec::Av1, Codec::Vp9, Codec::Aac, Codec::Opus, Codec::Flac, Codec::Mp3][..]),
        form in any_form(),
        track in prop_oneof![Just(0u8), any::<u8>()],
        mpeg2ts in any::<bool>(),
        dts in 0i64..(1 << 32),
        data in proptest::collection::vec(any::<u8>(), 1..100),
    ) {
        let media = codec.media();
        let mpeg2ts = mpeg2ts && media == MediaType::Video;
        let config = ConfigChange {
            media,
            codec,
            track,
            dts,
            kind: if mpeg2ts { ConfigChangeKind::Mpeg2TsSequenceStart } else { ConfigChangeKind::SequenceStart },
            data: Bytes::from(data),
            offset: 13,
        };
        let mut writer = Writer::new(WriterOptions::default().form(form));
        let mut out = BytesMut::new();
        writer.header(true, true, &mut out);
        let event = MediaEvent::Config(config.clone());
        match writer.write_media_event(&event, &mut out) {
            Ok(_) => prop_assert_eq!(media_of(out.freeze()), vec![event]),
            Err(_) => {
                // Only legacy can refuse: a track id, or a codec without a legacy
                // sequence header (MPEG-2 TS sequence starts are Enhanced whatever
                // the form); legacy has sequence headers for AAC, AVC, HEVC only.
                prop_assert!(form == BodyForm::Legacy && !mpeg2ts);
                prop_assert!(track != 0 || !matches!(codec, Codec::Aac | Codec::Avc | Codec::Hevc));
            }
        }
    }
}

fn media_of(data: Bytes) -> Vec<MediaEvent> {
    media(data)
}

#[test]
fn refusals_write_nothing() {
    let mut writer = Writer::new(WriterOptions::default());
    let mut out = BytesMut::new();
    writer.header(true, true, &mut out);
    let big = Bytes::from(vec![0; 0x100_0000]);
    assert_eq!(
        writer.write(TagType::Video, 0, big, &mut out),
        Err(Error::TagTooLarge {
            offset: 13,
            size: 0x100_0000,
            limit: 0xFF_FFFF
        })
    );
    assert_eq!(
        writer.write(TagType::Other(40), 0, Bytes::new(), &mut out),
        Err(Error::InvalidTagHeader {
            offset: 13,
            first_byte: 40
        })
    );
    let mut tag = tags(fixture("h264_aac.flv")).remove(0);
    tag.stream_id = 1 << 24;
    assert!(matches!(
        writer.write_tag(&tag, &mut out),
        Err(Error::InvalidField { offset: 21, .. })
    ));
    let frame = Frame {
        media: MediaType::Video,
        codec: Codec::Avc,
        track: 0,
        dts: 0,
        pts: 0x80_0000,
        nanos: 0,
        key: true,
        data: Bytes::from_static(b"x"),
        offset: 0,
    };
    assert!(matches!(
        writer.write_frame(&frame, &mut out),
        Err(Error::InvalidField { what, offset: 13, value: 0x80_0000 }) if what.starts_with("composition time")
    ));
    let encrypted = MediaEvent::Encrypted {
        media: MediaType::Audio,
        dts: 0,
        offset: 0,
    };
    assert!(writer.write_media_event(&encrypted, &mut out).is_err());
    assert_eq!(out.len(), 13);
    assert_eq!(writer.position(), 13);
    // The largest tag is fine.
    let max = Bytes::from(vec![0; 0xFF_FFFF]);
    writer.write(TagType::Script, 0, max, &mut out).unwrap();
    assert_eq!(out.len(), 13 + 11 + 0xFF_FFFF + 4);
}

/// Timestamps go out modulo 2^32 (24 bits + the extended byte) and a reader
/// that unwraps gets the 64-bit timeline back.
#[test]
fn timestamps_wrap_at_32_bits() {
    let mut writer = Writer::new(WriterOptions::default());
    let mut out = BytesMut::new();
    writer.header(true, false, &mut out);
    let times = [
        0xFF_FFF0,
        0x100_0010,
        0x8000_0000,
        (1i64 << 32) - 10,
        (1i64 << 32) + 5,
        (1 << 32) + 0x7FFF_FFFF,
        (1 << 32) + 0xFFFF_0000,
        (2i64 << 32) + 1,
    ];
    for t in times {
        writer
            .write(
                TagType::Audio,
                t,
                Bytes::from_static(b"\xaf\x01\x21"),
                &mut out,
            )
            .unwrap();
    }
    let read = tags(out.freeze());
    // The 24-bit field and the extended byte, as the reader saw them.
    assert_eq!(
        read.iter().map(|t| t.raw_timestamp).collect::<Vec<_>>(),
        [
            0xFF_FFF0,
            0x100_0010,
            0x8000_0000,
            0xFFFF_FFF6,
            5,
            0x7FFF_FFFF,
            0xFFFF_0000,
            1
        ]
    );
    assert_eq!(read.iter().map(|t| t.timestamp).collect::<Vec<_>>(), times);
}

/// FFmpeg 9's `-flvflags add_keyframe_index` file, rebuilt: its `onMetaData`
/// without `keyframes`, then every other tag, and the writer's index applied
/// at the head: the very same file, byte for byte.
#[test]
fn keyframe_index_matches_ffmpeg() {
    let original = fixture("keyframe_index.flv");
    let all = tags(original.clone());
    let meta = ScriptData::parse(&all[0].body)
        .unwrap()
        .on_metadata()
        .unwrap();
    let ffmpeg_index = meta.keyframes.clone().unwrap();
    let mut writer = Writer::new(WriterOptions::default().keyframe_index(true));
    let mut out = BytesMut::new();
    writer.header(false, true, &mut out);
    writer.write_metadata(&meta.properties, &mut out).unwrap();
    for tag in &all[1..] {
        writer.write_tag(tag, &mut out).unwrap();
    }
    let finish = writer.finish(meta.duration);
    assert!(finish.patches.is_empty());
    let file = apply(&out, &finish);
    assert_eq!(finish.keyframes, ffmpeg_index);
    assert_eq!(finish.file_size, file.len() as u64);
    assert!(file == original[..], "not FFmpeg's file");
}

/// Our own index, on frames written from scratch, with and without an
/// `onMetaData` written first: every position is a keyframe tag at that time.
#[test]
fn keyframe_index_points_at_keyframes() {
    let frames = media(fixture("hevc_aac.flv"));
    for with_metadata in [true, false] {
        let mut writer = Writer::new(WriterOptions::default().keyframe_index(true));
        let mut out = Pieces::new();
        writer.header(true, true, &mut out);
        if with_metadata {
            let mut properties = amf0::Object::new();
            properties.push("duration", 0.0);
            properties.push("width", 320.0);
            properties.push("keyframes", amf0::Value::Null);
            writer.write_metadata(&properties, &mut out).unwrap();
        }
        let mut keyframes = 0;
        for event in &frames {
            writer.write_media_event(event, &mut out).unwrap();
            keyframes += matches!(event, MediaEvent::Frame(f) if f.key && f.media == MediaType::Video)
                as usize;
        }
        let finish = writer.finish(None);
        let written = out.take().concat();
        assert_eq!(finish.written, written.len() as u64);
        let file = apply(&written, &finish);
        let meta = on_metadata(&file);
        let index = meta.keyframes.clone().unwrap();
        assert_eq!(index, finish.keyframes);
        assert_eq!(index.times.len(), keyframes);
        assert!(keyframes >= 1);
        assert_eq!(meta.file_size, Some(file.len() as f64));
        // Span of the timestamps: the last PTS minus the first DTS.
        let last_pts = frames
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Frame(f) => Some(f.pts),
                _ => None,
            })
            .max()
            .unwrap();
        assert_eq!(meta.duration, Some(last_pts as f64 / 1000.0));
        assert_eq!(meta.width, with_metadata.then_some(320.0));
        let read = tags(Bytes::from(file.clone()));
        for (time, position) in index.times.iter().zip(&index.file_positions) {
            let tag = read
                .iter()
                .find(|t| t.offset == *position)
                .expect("a tag at the position");
            assert_eq!(tag.timestamp as f64 / 1000.0, *time);
            let events: Vec<_> = flv::media_events(tag).collect::<Result<_, _>>().unwrap();
            assert!(
                matches!(&events[..], [MediaEvent::Frame(f)] if f.key && f.media == MediaType::Video)
            );
        }
        // Everything but the head is the output as written.
        let rewrite = finish.rewrite.unwrap();
        let moved = rewrite.range.end as usize;
        assert_eq!(
            &file[file.len() - (written.len() - moved)..],
            &written[moved..]
        );
    }
}

/// Without an index, `duration` and `filesize` are patched in place.
#[test]
fn metadata_patches_in_place() {
    let mut writer = Writer::new(WriterOptions::default());
    let mut out = BytesMut::new();
    writer.header(true, true, &mut out);
    let mut properties = amf0::Object::new();
    properties.push("duration", "not a number");
    properties.push("encoder", "flv-rs");
    writer.write_metadata(&properties, &mut out).unwrap();
    for event in media(fixture("h264_aac.flv")) {
        writer.write_media_event(&event, &mut out).unwrap();
    }
    let finish = writer.finish(Some(12.25));
    assert!(finish.rewrite.is_none());
    assert_eq!(finish.patches.len(), 2);
    assert_eq!(finish.file_size, out.len() as u64);
    let file = apply(&out, &finish);
    assert_eq!(file.len(), out.len());
    let meta = on_metadata(&file);
    assert_eq!(meta.duration, Some(12.25));
    assert_eq!(meta.file_size, Some(out.len() as f64));
    assert_eq!(meta.encoder.as_deref(), Some("flv-rs"));
    assert_eq!(meta.keyframes, None);
    // No onMetaData written: nothing to patch.
    let writer = Writer::new(WriterOptions::default());
    assert!(writer.finish(None).patches.is_empty());
}

/// Script data written by name and values reads back.
#[test]
fn script_data() {
    let mut writer = Writer::new(WriterOptions::default());
    let mut out = BytesMut::new();
    writer
        .write_script(
            1234,
            "onCuePoint",
            &[amf0::Value::from("cue"), amf0::Value::from(2.5)],
            &mut out,
        )
        .unwrap();
    let read: Vec<_> = flv::read_all_with(
        out.freeze(),
        flv::ReaderOptions::default().expect_header(false),
    )
    .collect::<Result<_, _>>()
    .unwrap();
    let [ReadEvent::Tag(tag)] = &read[..] else {
        panic!("{read:?}")
    };
    assert_eq!((tag.tag_type, tag.timestamp), (TagType::Script, 1234));
    let script = ScriptData::parse(&tag.body).unwrap();
    assert_eq!(script.name.as_str(), Some("onCuePoint"));
    assert_eq!(
        script.values,
        [amf0::Value::from("cue"), amf0::Value::from(2.5)]
    );
}

/// The layouts FFmpeg 9 writes, from the body builder directly.
#[test]
fn body_layouts() {
    let frame = |codec, track, nanos, cts: i64, key| Frame {
        media: Codec::media(codec),
        codec,
        track,
        dts: 100,
        pts: 100 + cts,
        nanos,
        key,
        data: Bytes::from_static(b"DATA"),
        offset: 0,
    };
    let prefix = |frame: Frame, form| {
        let body = Body::from_event(
            &MediaEvent::Frame(frame),
            &WriterOptions::default().form(form),
        )
        .unwrap();
        assert_eq!(&body.payload()[..], b"DATA");
        body.prefix().to_vec()
    };
    use BodyForm::*;
    assert_eq!(
        prefix(frame(Codec::Avc, 0, 0, 67, true), Auto),
        b"\x17\x01\x00\x00\x43"
    );
    assert_eq!(
        prefix(frame(Codec::Avc, 0, 0, -33, false), Auto),
        b"\x27\x01\xff\xff\xdf"
    );
    assert_eq!(
        prefix(frame(Codec::Avc, 0, 0, 0, true), Enhanced),
        b"\x93avc1"
    );
    assert_eq!(
        prefix(frame(Codec::Hevc, 0, 0, 0, true), Legacy),
        b"\x1c\x01\x00\x00\x00"
    );
    assert_eq!(prefix(frame(Codec::Av1, 0, 0, 0, false), Auto), b"\xa1av01");
    assert_eq!(prefix(frame(Codec::Aac, 0, 0, 0, true), Auto), b"\xaf\x01");
    assert_eq!(
        prefix(frame(Codec::Aac, 0, 0, 0, true), Enhanced),
        b"\x91mp4a"
    );
    assert_eq!(prefix(frame(Codec::Mp3, 0, 0, 0, true), Auto), b"\x2f");
    assert_eq!(prefix(frame(Codec::Opus, 0, 0, 0, true), Auto), b"\x91Opus");
    assert_eq!(prefix(frame(Codec::Vp6, 0, 0, 0, true), Auto), b"\x14\x00");
    // Multitrack, one track; ModEx TimestampOffsetNano before it.
    assert_eq!(
        prefix(frame(Codec::Opus, 2, 0, 0, true), Auto),
        b"\x95\x01Opus\x02"
    );
    assert_eq!(
        prefix(frame(Codec::Hevc, 1, 500_000, 66, false), Auto),
        b"\xa7\x02\x07\xa1\x20\x06\x01hvc1\x01\x00\x00\x42"
    );
    let mp3 = Body::from_event(
        &MediaEvent::Frame(frame(Codec::Mp3, 0, 0, 0, true)),
        &WriterOptions::default().legacy_audio(22_050, 16, false),
    )
    .unwrap();
    assert_eq!(mp3.prefix(), b"\x2a");
}

/// Video metadata (colorInfo) on a track other than 0: a multitrack tag,
/// which must not read back as a command frame (found by the fuzzer).
#[test]
fn video_metadata_on_a_track() {
    for track in [0, 157] {
        let event = MediaEvent::VideoMetadata {
            codec: Codec::Hevc,
            track,
            dts: 40,
            data: Bytes::from_static(b"\x02\x00\x09colorInfo\x03\x00\x00\x09"),
            offset: 13,
        };
        let mut writer = Writer::new(WriterOptions::default());
        let mut out = BytesMut::new();
        writer.header(false, true, &mut out);
        writer.write_media_event(&event, &mut out).unwrap();
        assert_eq!(media(out.freeze()), vec![event]);
    }
}
