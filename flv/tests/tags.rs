//! Tag body forms the fixtures do not cover, built around real payloads:
//! negative composition times, ModEx, many-track multitrack, command frames,
//! broken bodies.

mod common;

use bytes::Bytes;
use common::{fixture, tags};
use flv::tag::{
    AudioPacketType, AudioTag, MultitrackType, ScriptData, VideoCommand, VideoFrameType,
    VideoPacketType, VideoTag,
};
use flv::{media_events, Codec, Error, MediaEvent, MediaType, Tag, TagType};
use proptest::prelude::*;

fn video_tag(timestamp: i64, body: Vec<u8>) -> Tag {
    Tag {
        tag_type: TagType::Video,
        timestamp,
        raw_timestamp: timestamp as u32,
        stream_id: 0,
        encrypted: false,
        offset: 1000,
        body: Bytes::from(body),
    }
}

/// (key frame body, inter frame body) of the first coded video frames of a fixture.
fn real_frames(name: &str) -> Vec<Bytes> {
    tags(&fixture(name))
        .into_iter()
        .filter(|t| t.tag_type == TagType::Video)
        .map(|t| VideoTag::parse(&t.body).unwrap())
        .filter(|v| v.packet_type == VideoPacketType::CodedFrames)
        .map(|v| v.first_track().unwrap().data.clone())
        .collect()
}

#[test]
fn negative_composition_time_is_signed_24_bit() {
    // nginx-rtmp and SRS read 0xFFFFDF as +16,777,183 ms; it is -33 ms.
    let nalus = &real_frames("h264_aac.flv")[1];
    let mut body = vec![0x27, 0x01, 0xFF, 0xFF, 0xDF];
    body.extend_from_slice(nalus);
    let tag = video_tag(5000, body);
    let events: Vec<_> = media_events(&tag).collect::<Result<_, _>>().unwrap();
    let [MediaEvent::Frame(frame)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!((frame.dts, frame.pts, frame.key), (5000, 4967, false));
    assert_eq!(&frame.data, nalus);
    // The largest and smallest values.
    for (bytes, cts) in [
        ([0x7F, 0xFF, 0xFF], 0x7F_FFFF),
        ([0x80, 0x00, 0x00], -0x80_0000),
    ] {
        let mut body = vec![0x17, 0x01];
        body.extend_from_slice(&bytes);
        body.push(0);
        let video = VideoTag::parse(&Bytes::from(body)).unwrap();
        assert_eq!(video.first_track().unwrap().composition_time, cts);
    }
}

#[test]
fn legacy_hevc_codec_id_12() {
    // Legacy (non-enhanced) HEVC as Chinese CDNs and FFmpeg before E-FLV wrote it:
    // the AVC layout with codec id 12.
    let frame = &real_frames("hevc_aac.flv")[0];
    let mut body = vec![0x1C, 0x01, 0x00, 0x00, 0x43];
    body.extend_from_slice(frame);
    let video = VideoTag::parse(&Bytes::from(body)).unwrap();
    let track = video.first_track().unwrap();
    assert_eq!(
        (video.enhanced, track.codec, track.composition_time),
        (false, Codec::Hevc, 67)
    );
    assert_eq!(&track.data, frame);
}

#[test]
fn mod_ex_timestamp_offset_nano() {
    let frame = &real_frames("hevc_aac.flv")[1];
    // ModEx (packet type 7), 3 bytes of data = 1,500,000 ns, then type 0 / packet CodedFramesX.
    let mut body = vec![0xA7, 0x02, 0x16, 0xE3, 0x60, 0x03];
    body.extend_from_slice(b"hvc1");
    body.extend_from_slice(frame);
    let video = VideoTag::parse(&Bytes::from(body.clone())).unwrap();
    assert_eq!(video.timestamp_offset_nanos, 1_500_000);
    assert_eq!(video.packet_type, VideoPacketType::CodedFramesX);
    let events: Vec<_> = media_events(&video_tag(40, body))
        .collect::<Result<_, _>>()
        .unwrap();
    let [MediaEvent::Frame(f)] = &events[..] else {
        panic!()
    };
    assert_eq!(
        (f.dts, f.pts, f.nanos, f.codec),
        (41, 41, 500_000, Codec::Hevc)
    );
    assert_eq!(&f.data, frame);
}

/// (FourCC for tracks after the first, track id, track data).
type TrackSpec<'a> = (Option<&'a [u8; 4]>, u8, &'a [u8]);

/// An enhanced multitrack body: header, then (fourcc?, id, data) per track.
fn multitrack(
    first: u8,
    kind: u8,
    packet_type: u8,
    fourcc: &[u8; 4],
    tracks: &[TrackSpec<'_>],
) -> Vec<u8> {
    let mut body = vec![first, kind << 4 | packet_type];
    body.extend_from_slice(fourcc);
    for (i, (codec, id, data)) in tracks.iter().enumerate() {
        if i > 0 {
            if let Some(codec) = codec {
                body.extend_from_slice(*codec);
            }
        }
        body.push(*id);
        body.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        body.extend_from_slice(data);
    }
    body
}

#[test]
fn many_tracks_one_codec() {
    let frames = real_frames("hevc_aac.flv");
    // Key frame (1), multitrack (6), ManyTracks (1), CodedFramesX (3): three hvc1 tracks.
    let body = multitrack(
        0x96,
        1,
        3,
        b"hvc1",
        &[
            (None, 0, &frames[0]),
            (None, 5, &frames[1]),
            (None, 9, &frames[2]),
        ],
    );
    let video = VideoTag::parse(&Bytes::from(body.clone())).unwrap();
    assert_eq!(video.multitrack, Some(MultitrackType::ManyTracks));
    let tracks: Vec<_> = video.tracks().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        tracks.iter().map(|t| t.track_id).collect::<Vec<_>>(),
        [0, 5, 9]
    );
    for (track, frame) in tracks.iter().zip(&frames) {
        assert_eq!((&track.data, track.codec), (frame, Codec::Hevc));
    }
    let events: Vec<_> = media_events(&video_tag(0, body))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| matches!(e, MediaEvent::Frame(f) if f.key && f.media == MediaType::Video)));
}

#[test]
fn many_tracks_many_codecs_with_composition_times() {
    let avc = &real_frames("h264_aac.flv")[0];
    let av1 = &real_frames("av1_aac.flv")[0];
    // CodedFrames: avc1 tracks carry a composition time in their data, av01 ones do not.
    let mut avc_track = vec![0x00, 0x00, 0x21];
    avc_track.extend_from_slice(avc);
    let body = multitrack(
        0x96,
        2,
        1,
        b"avc1",
        &[(None, 1, &avc_track), (Some(b"av01"), 2, av1)],
    );
    let events: Vec<_> = media_events(&video_tag(100, body))
        .collect::<Result<_, _>>()
        .unwrap();
    let [MediaEvent::Frame(a), MediaEvent::Frame(b)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (a.codec, a.track, a.dts, a.pts, &a.data),
        (Codec::Avc, 1, 100, 133, avc)
    );
    assert_eq!(
        (b.codec, b.track, b.dts, b.pts, &b.data),
        (Codec::Av1, 2, 100, 100, av1)
    );
}

#[test]
fn audio_many_tracks_many_codecs() {
    let aac_tags: Vec<_> = tags(&fixture("h264_aac.flv"))
        .into_iter()
        .filter(|t| t.tag_type == TagType::Audio)
        .collect();
    let aac = aac_tags[1].body.slice(2..);
    let opus_tags: Vec<_> = tags(&fixture("h264_opus.flv"))
        .into_iter()
        .filter(|t| t.tag_type == TagType::Audio)
        .collect();
    let opus = opus_tags[2].body.slice(5..);
    // Audio multitrack (0x95), ManyTracksManyCodecs, CodedFrames.
    let body = multitrack(
        0x95,
        2,
        1,
        b"mp4a",
        &[(None, 0, &aac), (Some(b"Opus"), 1, &opus)],
    );
    let audio = AudioTag::parse(&Bytes::from(body.clone())).unwrap();
    assert_eq!(
        (audio.enhanced, audio.packet_type, audio.multitrack),
        (
            true,
            AudioPacketType::CodedFrames,
            Some(MultitrackType::ManyTracksManyCodecs)
        )
    );
    let tracks: Vec<_> = audio.tracks().collect::<Result<_, _>>().unwrap();
    assert_eq!((tracks[0].codec, &tracks[0].data), (Codec::Aac, &aac));
    assert_eq!(
        (tracks[1].codec, tracks[1].track_id, &tracks[1].data),
        (Codec::Opus, 1, &opus)
    );
    // A second track whose size runs past the body: the first track, then an error at its offset.
    let mut cut = body.clone();
    cut.truncate(body.len() - 10);
    let mut tag = video_tag(0, cut);
    tag.tag_type = TagType::Audio;
    let events: Vec<_> = media_events(&tag).collect();
    assert!(matches!(events[0], Ok(MediaEvent::Frame(ref f)) if f.codec == Codec::Aac));
    let second_data_at = 1000 + 11 + (2 + 4 + 1 + 3 + aac.len() + 4 + 1 + 3) as u64;
    assert_eq!(
        events[1],
        Err(Error::BodyTooShort {
            what: "track data",
            offset: second_data_at,
            needed: opus.len() as u64,
            available: opus.len() as u64 - 10
        })
    );
    assert_eq!(events.len(), 2);
}

#[test]
fn command_frames() {
    // Legacy: frame type 5, AVC, "end of seek".
    let video = VideoTag::parse(&Bytes::from_static(b"\x57\x01")).unwrap();
    assert_eq!(
        (video.frame_type, video.packet_type, video.command),
        (
            VideoFrameType::Command,
            VideoPacketType::Command,
            Some(VideoCommand::EndSeek)
        )
    );
    // Enhanced: 0xD1 (command frame, CodedFrames packet type) then the command byte.
    let events: Vec<_> = media_events(&video_tag(7, b"\xd1\x00".to_vec()))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        events,
        [MediaEvent::Command {
            command: Some(VideoCommand::StartSeek),
            dts: 7,
            offset: 1000
        }]
    );
}

#[test]
fn legacy_video_codecs_payload_offsets() {
    // VP6: one size-adjustment byte before the frame; Sorenson H.263: none.
    let vp6 = VideoTag::parse(&Bytes::from_static(b"\x14\x00abc")).unwrap();
    assert_eq!(
        (vp6.codec, &vp6.first_track().unwrap().data[..]),
        (Some(Codec::Vp6), &b"abc"[..])
    );
    let h263 = VideoTag::parse(&Bytes::from_static(b"\x22abc")).unwrap();
    assert_eq!(
        (h263.codec, &h263.first_track().unwrap().data[..]),
        (Some(Codec::SorensonH263), &b"abc"[..])
    );
}

#[test]
fn legacy_audio_formats() {
    for (first, codec, rate, stereo) in [
        (0x2F, Codec::Mp3, 44100, true),
        (0x72, Codec::G711ALaw, 5512, false),
        (0x82, Codec::G711MuLaw, 5512, false),
        (0xB6, Codec::Speex, 11025, false),
        (0x6A, Codec::Nellymoser, 22050, false),
        (0x52, Codec::Nellymoser8kMono, 5512, false),
        (0x3F, Codec::PcmLittleEndian, 44100, true),
    ] {
        let audio = AudioTag::parse(&Bytes::from(vec![first, 1, 2, 3])).unwrap();
        let legacy = audio.legacy.unwrap();
        assert_eq!(
            (audio.codec, legacy.sample_rate, legacy.stereo),
            (codec, rate, stereo)
        );
        assert_eq!(&audio.first_track().unwrap().data[..], &[1, 2, 3]);
    }
}

#[test]
fn broken_bodies_name_the_field_and_offset() {
    let cases: &[(&[u8], &str, u64)] = &[
        (b"", "video tag header", 0),
        (b"\x17", "AVC packet type", 1),
        (b"\x17\x01\x00", "composition time", 2),
        (b"\x91hvc", "video FourCC", 1),
        (b"\x91hvc1\x00", "composition time", 5),
        (b"\x96\x10hvc1\x00\x00\x00\x09ab", "track data", 10),
        (b"\x97\x05\x01", "ModEx data", 2),
    ];
    for (body, what, offset) in cases {
        match VideoTag::parse(&Bytes::from_static(body)) {
            Err(Error::BodyTooShort {
                what: w, offset: o, ..
            }) => assert_eq!((w, o), (*what, *offset), "{body:?}"),
            other => panic!("{body:?}: {other:?}"),
        }
    }
    assert_eq!(
        VideoTag::parse(&Bytes::from_static(b"\x96\x30hvc1")),
        Err(Error::InvalidField {
            what: "multitrack type",
            offset: 1,
            value: 3
        })
    );
    assert!(matches!(
        AudioTag::parse(&Bytes::from_static(b"\xaf")),
        Err(Error::BodyTooShort {
            what: "AAC packet type",
            offset: 1,
            ..
        })
    ));
    assert!(matches!(
        ScriptData::parse(&Bytes::from_static(b"\x00\x00")),
        Err(Error::Amf { .. })
    ));
    assert!(matches!(
        ScriptData::parse(&Bytes::from_static(b"\x05")),
        Err(Error::InvalidField {
            what: "script data name marker",
            ..
        })
    ));
}

#[test]
fn script_data_tolerates_trailing_junk_and_set_data_frame() {
    let meta = tags(&fixture("h264_aac.flv"))[0].body.clone();
    // As recorded from RTMP: "@setDataFrame" first, and a stray object end after.
    let mut body = b"\x02\x00\x0d@setDataFrame".to_vec();
    body.extend_from_slice(&meta);
    body.extend_from_slice(b"\x00\x00\x09");
    let script = ScriptData::parse(&Bytes::from(body)).unwrap();
    assert_eq!(script.name.as_str(), Some("onMetaData"));
    assert_eq!(&script.undecoded[..], b"\x00\x00\x09");
    assert_eq!(script.on_metadata().unwrap().width, Some(320.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..64), kind in 0u8..3) {
        let body = Bytes::from(body);
        let mut tag = video_tag(0, body.to_vec());
        tag.tag_type = [TagType::Video, TagType::Audio, TagType::Script][kind as usize];
        for event in media_events(&tag) {
            if let Err(error) = event {
                prop_assert!(error.offset() >= 1011 && error.offset() <= 1011 + body.len() as u64 + 3);
            }
        }
        let _ = ScriptData::parse(&body);
        if let Ok(video) = VideoTag::parse(&body) {
            for track in video.tracks().flatten() {
                prop_assert!(track.data.len() <= body.len());
            }
        }
        if let Ok(audio) = AudioTag::parse(&body) {
            for track in audio.tracks().flatten() {
                prop_assert!(track.data.len() <= body.len());
            }
        }
    }

    /// Enhanced headers with ModEx and multitrack prefixes around real payload bytes.
    #[test]
    fn structured_enhanced_bodies(first in 0x80u8..=0xFF, types in any::<u8>(), sizes in prop::collection::vec(0u32..40, 1..4), tail in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut body = vec![first, types];
        body.extend_from_slice(b"hvc1");
        for size in sizes {
            body.push(1);
            body.extend_from_slice(&size.to_be_bytes()[1..]);
            body.extend(std::iter::repeat_n(0xAB, size as usize));
        }
        body.extend(tail);
        let tag = video_tag(0, body);
        let _ = media_events(&tag).count();
        let mut tag = tag;
        tag.tag_type = TagType::Audio;
        let _ = media_events(&tag).count();
    }
}
