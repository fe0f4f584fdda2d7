//! Real files (FFmpeg 9's FLV muxer, `tests/data/make.sh`) through the reader,
//! the tag body parsers and the frame view, checked against FFmpeg 9's own
//! demuxer (`-copyts -c copy -f framemd5`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{fixture, tags, FIXTURES};
use flv::tag::{
    AudioPacketType, AudioTag, ChannelOrder, MultitrackType, ScriptData, VideoFrameType,
    VideoPacketType, VideoTag,
};
use flv::{
    Codec, ConfigChangeKind, FrameEvent, FrameReader, MediaEvent, MediaType, ReadEvent, TagType,
};
use md5::Digest as _;

/// (dts, pts, size, md5) of each packet of each (media, track).
type Packets = BTreeMap<(u8, u8), Vec<(i64, i64, usize, String)>>;

fn media_key(media: MediaType) -> u8 {
    match media {
        MediaType::Video => 0,
        MediaType::Audio => 1,
    }
}

/// FFmpeg's packets, its streams mapped to (media, track): the k-th stream of a
/// media type is the k-th track id of that type in our frames.
fn ffmpeg_packets(name: &str, tracks: &BTreeSet<(u8, u8)>) -> Packets {
    let text = String::from_utf8(fixture(&name.replace(".flv", ".framemd5")).to_vec()).unwrap();
    let mut stream_media = BTreeMap::new();
    let mut out = Packets::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#media_type ") {
            let (index, kind) = rest.split_once(": ").unwrap();
            let media = if kind == "video" { 0 } else { 1 };
            let nth = stream_media.values().filter(|(m, _)| *m == media).count();
            let track = tracks
                .iter()
                .filter(|(m, _)| *m == media)
                .nth(nth)
                .map_or(255, |t| t.1);
            stream_media.insert(index.parse::<usize>().unwrap(), (media, track));
        } else if !line.starts_with('#') {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let key = stream_media[&f[0].parse::<usize>().unwrap()];
            out.entry(key).or_default().push((
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].to_string(),
            ));
        }
    }
    out
}

#[test]
fn every_frame_matches_ffmpeg_framemd5() {
    for name in FIXTURES {
        let mut ours = Packets::new();
        for event in FrameReader::new(fixture(name)) {
            if let FrameEvent::Media(MediaEvent::Frame(frame)) = event.unwrap() {
                ours.entry((media_key(frame.media), frame.track))
                    .or_default()
                    .push((
                        frame.dts,
                        frame.pts,
                        frame.data.len(),
                        format!("{:x}", md5::Md5::digest(&frame.data)),
                    ));
            }
        }
        let tracks = ours.keys().copied().collect();
        let theirs = ffmpeg_packets(name, &tracks);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{name}: streams"
        );
        for (key, list) in &theirs {
            assert_eq!(&ours[key], list, "{name}: stream {key:?}");
        }
    }
}

#[test]
fn legacy_h264_aac() {
    let data = fixture("h264_aac.flv");
    let mut events = flv::read_all(data.clone());
    let Some(Ok(ReadEvent::Header(header))) = events.next() else {
        panic!()
    };
    assert_eq!(
        (
            header.version,
            header.has_audio,
            header.has_video,
            header.data_offset
        ),
        (1, true, true, 9)
    );
    let tags = tags(&data);
    assert_eq!(tags[0].tag_type, TagType::Script);
    assert_eq!(tags[0].offset, 13);

    let script = ScriptData::parse(&tags[0].body).unwrap();
    let meta = script.on_metadata().unwrap();
    assert_eq!(
        (meta.width, meta.height, meta.framerate),
        (Some(320.0), Some(240.0), Some(30.0))
    );
    assert_eq!(
        (meta.video_codec(), meta.audio_codec()),
        (Some(Codec::Avc), Some(Codec::Aac))
    );
    assert_eq!(meta.audio_sample_rate, Some(44100.0));
    assert!(meta.encoder.as_deref().unwrap().starts_with("Lavf"));
    assert!(script.undecoded.is_empty());

    // The AVC sequence header: avcC, and the config module reads it.
    let video = VideoTag::parse(&tags[1].body).unwrap();
    assert_eq!(
        (video.frame_type, video.packet_type, video.enhanced),
        (VideoFrameType::Key, VideoPacketType::SequenceStart, false)
    );
    let avcc = &video.first_track().unwrap().data;
    assert_eq!((avcc[0], avcc.len()), (1, tags[1].body.len() - 5));

    let audio = AudioTag::parse(&tags[2].body).unwrap();
    assert_eq!(audio.packet_type, AudioPacketType::SequenceStart);
    let legacy = audio.legacy.unwrap();
    assert_eq!(
        (
            legacy.sound_format,
            legacy.sample_rate,
            legacy.sample_bits,
            legacy.stereo
        ),
        (10, 44100, 16, true)
    );
    // AudioSpecificConfig: AAC-LC, 44.1 kHz, stereo, then the SBR sync extension.
    assert_eq!(
        &audio.first_track().unwrap().data[..],
        &[0x12, 0x10, 0x56, 0xe5, 0x00]
    );

    // Frames: the first is a key frame, B-frames come with composition times.
    let mut configs = 0;
    let mut cts = Vec::new();
    for event in FrameReader::new(data) {
        match event.unwrap() {
            FrameEvent::Media(MediaEvent::Config(config)) => {
                configs += 1;
                assert_eq!(config.kind, ConfigChangeKind::SequenceStart);
                assert!(config.parse().unwrap().is_ok(), "{config:?}");
            }
            FrameEvent::Media(MediaEvent::Frame(frame)) if frame.media == MediaType::Video => {
                if cts.is_empty() {
                    assert!(frame.key);
                    assert_eq!(frame.offset, tags[3].offset);
                }
                cts.push(frame.pts - frame.dts);
            }
            _ => {}
        }
    }
    assert_eq!(configs, 2);
    assert_eq!(&cts[..4], &[67, 133, 33, 34]);
}

#[test]
fn legacy_mp3() {
    let data = fixture("h264_mp3.flv");
    let mut mp3 = 0;
    for tag in tags(&data).iter().filter(|t| t.tag_type == TagType::Audio) {
        let audio = AudioTag::parse(&tag.body).unwrap();
        assert_eq!(
            (audio.codec, audio.packet_type),
            (Codec::Mp3, AudioPacketType::CodedFrames)
        );
        let track = audio.first_track().unwrap();
        assert_eq!(track.data, tag.body.slice(1..));
        // An MP3 frame header.
        assert_eq!(track.data[0], 0xFF);
        mp3 += 1;
    }
    assert!(mp3 > 5);
}

#[test]
fn enhanced_hevc_with_color_info() {
    let data = fixture("hevc_aac.flv");
    let tags = tags(&data);
    let video: Vec<_> = tags
        .iter()
        .filter(|t| t.tag_type == TagType::Video)
        .map(|t| VideoTag::parse(&t.body).unwrap())
        .collect();
    assert!(video
        .iter()
        .all(|v| v.enhanced && v.codec == Some(Codec::Hevc)));
    assert_eq!(video[0].packet_type, VideoPacketType::SequenceStart);
    // FFmpeg writes colorInfo as a Metadata packet in a command frame.
    assert_eq!(
        (video[1].frame_type, video[1].packet_type),
        (VideoFrameType::Command, VideoPacketType::Metadata)
    );
    let amf = &video[1].first_track().unwrap().data;
    let values = amf0::decode_all(amf).unwrap();
    assert_eq!(values[0].as_str(), Some("colorInfo"));
    assert!(values[1].get("colorConfig").is_some());
    // Coded frames carry the composition time; ones with cts 0 may be CodedFramesX.
    let coded = video[2].first_track().unwrap();
    assert_eq!(
        (video[2].packet_type, coded.composition_time),
        (VideoPacketType::CodedFrames, 67)
    );

    let events: Vec<_> = FrameReader::new(data).map(Result::unwrap).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        FrameEvent::Media(MediaEvent::VideoMetadata {
            codec: Codec::Hevc,
            track: 0,
            ..
        })
    )));
    let hvcc = events.iter().find_map(|e| match e {
        FrameEvent::Media(MediaEvent::Config(c)) if c.media == MediaType::Video => Some(c),
        _ => None,
    });
    assert!(matches!(
        hvcc.unwrap().parse(),
        Some(Ok(flv::config::CodecConfig::Hevc(_)))
    ));
}

#[test]
fn enhanced_av1_has_no_composition_time() {
    let data = fixture("av1_aac.flv");
    let mut frames = 0;
    for event in FrameReader::new(data.clone()) {
        if let FrameEvent::Media(MediaEvent::Frame(frame)) = event.unwrap() {
            if frame.codec == Codec::Av1 {
                assert_eq!(frame.pts, frame.dts);
                frames += 1;
            }
        }
    }
    assert!(frames > 3);
    let first = tags(&data)
        .into_iter()
        .find(|t| t.tag_type == TagType::Video)
        .unwrap();
    let video = VideoTag::parse(&first.body).unwrap();
    assert_eq!(video.packet_type, VideoPacketType::SequenceStart);
    assert_eq!(video.first_track().unwrap().data, first.body.slice(5..));
}

#[test]
fn enhanced_opus_with_channel_config() {
    let data = fixture("h264_opus.flv");
    let audio: Vec<_> = tags(&data)
        .into_iter()
        .filter(|t| t.tag_type == TagType::Audio)
        .map(|t| AudioTag::parse(&t.body).unwrap())
        .collect();
    assert_eq!(audio[0].packet_type, AudioPacketType::SequenceStart);
    assert!(audio[0]
        .first_track()
        .unwrap()
        .data
        .starts_with(b"OpusHead"));
    assert_eq!(audio[1].packet_type, AudioPacketType::MultichannelConfig);
    let mut channels = None;
    for event in FrameReader::new(data) {
        if let FrameEvent::Media(MediaEvent::Channels { config, codec, .. }) = event.unwrap() {
            assert_eq!(codec, Codec::Opus);
            channels = Some(config);
        }
    }
    let channels = channels.unwrap();
    assert_eq!(
        (
            channels.order,
            channels.channel_count,
            channels.channel_mask
        ),
        (ChannelOrder::Native, 2, Some(3))
    );
}

#[test]
fn multitrack_tracks_are_streams() {
    let data = fixture("multitrack.flv");
    let mut seen = BTreeSet::new();
    let mut configs = BTreeSet::new();
    for event in FrameReader::new(data.clone()) {
        match event.unwrap() {
            FrameEvent::Media(MediaEvent::Frame(f)) => {
                seen.insert((media_key(f.media), f.track, format!("{:?}", f.codec)));
            }
            FrameEvent::Media(MediaEvent::Config(c)) => {
                assert!(c.parse().unwrap().is_ok());
                configs.insert((media_key(c.media), c.track));
            }
            _ => {}
        }
    }
    let expected: BTreeSet<_> = [(0, 0, "Avc"), (0, 1, "Hevc"), (1, 0, "Aac"), (1, 1, "Opus")]
        .into_iter()
        .map(|(m, t, c)| (m, t, c.to_string()))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(configs.len(), 4);
    // FFmpeg writes the second tracks as one-track multitrack tags.
    let hevc = tags(&data)
        .into_iter()
        .filter(|t| t.tag_type == TagType::Video)
        .map(|t| VideoTag::parse(&t.body).unwrap())
        .find(|v| v.multitrack.is_some())
        .unwrap();
    assert_eq!(hevc.multitrack, Some(MultitrackType::OneTrack));
    assert_eq!(hevc.first_track().unwrap().track_id, 1);
    assert_eq!(hevc.tracks().count(), 1);
}

#[test]
fn keyframe_index_points_at_key_frames() {
    let data = fixture("keyframe_index.flv");
    let tags = tags(&data);
    let script = ScriptData::parse(&tags[0].body).unwrap();
    let index = script.on_metadata().unwrap().keyframes.unwrap();
    assert_eq!(index.times, [0.0, 1.0, 2.0]);
    let keys: Vec<u64> = tags
        .iter()
        .filter(|t| t.tag_type == TagType::Video)
        .filter(|t| VideoTag::parse(&t.body).unwrap().frame_type == VideoFrameType::Key)
        .filter(|t| VideoTag::parse(&t.body).unwrap().packet_type == VideoPacketType::CodedFrames)
        .map(|t| t.offset)
        .collect();
    assert_eq!(index.file_positions, keys);
}

#[test]
fn extended_timestamps_cross_24_bits() {
    let data = fixture("ts_extended.flv");
    let tags = tags(&data);
    let raw: Vec<u32> = tags.iter().map(|t| t.raw_timestamp).collect();
    assert!(raw.iter().any(|&t| t < 0x100_0000 && t > 0xFF_F000));
    assert!(raw.iter().any(|&t| t > 0xFF_FFFF));
    for tag in &tags {
        assert_eq!(tag.timestamp, i64::from(tag.raw_timestamp));
    }
}
