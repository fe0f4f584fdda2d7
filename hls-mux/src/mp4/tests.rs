//! Unit tests: files read back by `mp4parse` (an independent reader): every
//! sample's bytes where its offsets say, decode and composition times, sync
//! samples, edit lists; refusals; the 64-bit forms.

use bytes::Bytes;
use flv::config::{AacConfig, AvcConfig, OpusHead};
use mp4parse::unstable::create_sample_table;
use mp4parse::{SampleEntry, TrackType};

use super::*;

const AVC: &[u8] = include_bytes!("../../../flv/tests/data/config/avc_high_640x360.bin");
const AAC: &[u8] = include_bytes!("../../../flv/tests/data/config/aac_lc_44100_stereo.bin");
const OPUS: &[u8] = include_bytes!("../../../flv/tests/data/config/opus_stereo_48000.bin");

fn avc() -> TrackConfig {
    TrackConfig::Avc(AvcConfig::parse(AVC).unwrap())
}
fn aac() -> TrackConfig {
    TrackConfig::Aac(AacConfig::parse(AAC).unwrap())
}

fn frame(media: MediaKind, dts_ms: i64, pts_ms: i64, key: bool, data: Vec<u8>) -> Frame {
    Frame {
        media,
        dts: dts_ms * 90,
        pts: pts_ms * 90,
        key,
        data: Bytes::from(data),
    }
}

/// 30 fps video with B-frames (decode order I P B B P B B..., presented
/// one frame late, as encoders write FLV) and 44.1 kHz AAC, interleaved by
/// dts; each frame's bytes say which it is.
fn stream(video_frames: i64) -> Vec<Frame> {
    let mut frames = Vec::new();
    for i in 0..video_frames {
        let shown = match i % 3 {
            _ if i == 0 => 0,
            1 => i + 2,
            _ => i - 1,
        };
        let dts = i * 100 / 3;
        let pts = (shown + 1) * 100 / 3;
        let data = format!("video {i}")
            .repeat(1 + (i as usize % 5))
            .into_bytes();
        frames.push(frame(MediaKind::Video, dts, pts, i % 30 == 0, data));
    }
    for i in 0..video_frames * 3 / 2 {
        let dts = i * 1024 * 1000 / 44_100;
        frames.push(frame(
            MediaKind::Audio,
            dts,
            dts,
            true,
            format!("audio {i}").into_bytes(),
        ));
    }
    frames.sort_by_key(|f| f.dts);
    frames
}

/// Writes `frames` and returns the file (header, then media data).
fn write(frames: &[Frame], configs: &[TrackConfig]) -> Vec<u8> {
    let mut writer = Mp4Writer::new(Mp4Options::default());
    for config in configs {
        writer.set_config(config.clone()).unwrap();
    }
    let mut media = Vec::new();
    for f in frames {
        media.extend_from_slice(&writer.push(f).unwrap());
    }
    assert_eq!(writer.media_len(), media.len() as u64);
    let mut file = writer.finish().unwrap().to_vec();
    file.extend_from_slice(&media);
    file
}

/// Top-level box types in file order.
fn top_level(file: &[u8]) -> Vec<String> {
    let mut at = 0;
    let mut kinds = Vec::new();
    while at + 8 <= file.len() {
        let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        kinds.push(String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned());
        assert!(size >= 8, "box size {size} at {at}");
        at += size;
    }
    assert_eq!(at, file.len(), "boxes cover the file exactly");
    kinds
}

#[test]
fn every_sample_reads_back_where_and_when_it_was_written() {
    let frames = stream(90);
    let file = write(&frames, &[avc(), aac()]);
    assert_eq!(top_level(&file), ["ftyp", "moov", "mdat"], "faststart");
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(&file)).expect("mp4parse");
    assert_eq!(context.tracks.len(), 2);
    for (track, media) in context
        .tracks
        .iter()
        .zip([MediaKind::Video, MediaKind::Audio])
    {
        let expected: Vec<&Frame> = frames.iter().filter(|f| f.media == media).collect();
        let timescale = track.timescale.as_ref().unwrap().0 as i64;
        let table = create_sample_table(track, 0.into()).expect("sample table");
        assert_eq!(table.len(), expected.len(), "{media:?} samples");
        for (sample, frame) in table.iter().zip(&expected) {
            let (start, end) = (sample.start_offset.0 as usize, sample.end_offset.0 as usize);
            assert_eq!(&file[start..end], &frame.data[..], "{media:?} bytes");
            assert_eq!(sample.sync, frame.key, "{media:?} sync at {}", frame.dts);
            // mp4parse gives times in track ticks from the first sample.
            let first = expected[0].dts;
            let dts = (frame.dts - first) * timescale / 90_000;
            let pts = (frame.pts - first) * timescale / 90_000;
            let got = (sample.start_decode.0, sample.start_composition.0);
            assert!(
                (got.0 - dts).abs() <= 1,
                "{media:?} dts {got:?}, expected {dts}"
            );
            assert!(
                (got.1 - pts).abs() <= 1,
                "{media:?} pts {got:?}, expected {pts}"
            );
        }
    }
    let video = &context.tracks[0];
    assert!(matches!(video.track_type, TrackType::Video));
    // The B-frame delay: media_time is the first presented frame's pts
    // (33 ms at 90 kHz); the audio starts at 0, so the video starts after
    // an empty edit of 33 ms, as in the input.
    assert_eq!(video.media_time.as_ref().map(|t| t.0), Some(33 * 90));
    assert_eq!(video.empty_duration.as_ref().map(|d| d.0), Some(33));
    assert_eq!(
        context.tracks[1].empty_duration.as_ref().map_or(0, |d| d.0),
        0
    );
}

#[test]
fn a_late_track_starts_with_an_empty_edit() {
    let mut frames = stream(30);
    for f in frames.iter_mut().filter(|f| f.media == MediaKind::Audio) {
        f.dts += 500 * 90;
        f.pts += 500 * 90;
    }
    frames.sort_by_key(|f| f.dts);
    let file = write(&frames, &[avc(), aac()]);
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(&file)).expect("mp4parse");
    let audio = &context.tracks[1];
    // The video's first pts is 33 ms, the audio's 500 ms: 467 ms of empty edit.
    assert_eq!(audio.empty_duration.as_ref().map(|d| d.0), Some(467));
    assert_eq!(audio.media_time.as_ref().map(|t| t.0), Some(0));
}

#[test]
fn a_resolution_change_adds_a_sample_description() {
    let mut writer = Mp4Writer::new(Mp4Options::default());
    writer.set_config(avc()).unwrap();
    let a = writer
        .push(&frame(MediaKind::Video, 0, 0, true, vec![1; 10]))
        .unwrap();
    // The same record with another profile byte: a different configuration.
    let mut other = AVC.to_vec();
    other[1] = 0x4d;
    let Ok(changed) = AvcConfig::parse(&other) else {
        return;
    };
    writer.set_config(TrackConfig::Avc(changed)).unwrap();
    let b = writer
        .push(&frame(MediaKind::Video, 33, 33, true, vec![2; 10]))
        .unwrap();
    let mut file = writer.finish().unwrap().to_vec();
    file.extend_from_slice(&a);
    file.extend_from_slice(&b);
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(&file)).expect("mp4parse");
    let track = &context.tracks[0];
    assert_eq!(track.stsd.as_ref().unwrap().descriptions.len(), 2);
    let stsc = &track.stsc.as_ref().unwrap().samples;
    let descriptions: Vec<u32> = stsc.iter().map(|e| e.sample_description_index).collect();
    assert_eq!(descriptions, [1, 2]);
    assert!(matches!(
        track.stsd.as_ref().unwrap().descriptions[1],
        SampleEntry::Video(_)
    ));
}

#[test]
fn refusals_say_what_was_expected_and_change_nothing() {
    let mut writer = Mp4Writer::new(Mp4Options::default());
    let early = writer.push(&frame(MediaKind::Audio, 0, 0, true, vec![1]));
    assert!(matches!(
        early,
        Err(Mp4Error::NoConfig {
            media: MediaKind::Audio,
            ..
        })
    ));
    assert_eq!(writer.finish(), Err(Mp4Error::NoSamples));
    writer.set_config(aac()).unwrap();
    writer
        .push(&frame(MediaKind::Audio, 100, 100, true, vec![1]))
        .unwrap();
    let back = writer.push(&frame(MediaKind::Audio, 50, 50, true, vec![1]));
    assert!(matches!(
        back,
        Err(Mp4Error::DecodeTimeBackwards {
            previous: 9000,
            dts: 4500,
            ..
        })
    ));
    let opus = TrackConfig::Opus(OpusHead::parse(OPUS).unwrap());
    let change = writer.set_config(opus).unwrap_err();
    assert!(change.to_string().contains("mp4a.40.2"), "{change}");
    let far = writer.push(&frame(
        MediaKind::Audio,
        100 + 200_000_000,
        100 + 200_000_000,
        true,
        vec![1],
    ));
    assert!(
        matches!(far, Err(Mp4Error::DurationTooLong { .. })),
        "{far:?}"
    );
    assert_eq!(writer.samples(), 1);
    assert_eq!(writer.media_len(), 1);

    let mut limited = Mp4Writer::new(Mp4Options {
        max_samples: 1,
        ..Mp4Options::default()
    });
    limited.set_config(aac()).unwrap();
    limited
        .push(&frame(MediaKind::Audio, 0, 0, true, vec![1]))
        .unwrap();
    let over = limited.push(&frame(MediaKind::Audio, 23, 23, true, vec![1]));
    assert_eq!(over, Err(Mp4Error::TooManySamples { limit: 1 }));
}

#[test]
fn negative_composition_offsets_are_shifted_into_version_0() {
    // pts before dts (some encoders): ctts v0 after the shift, media_time follows.
    let frames = [
        frame(MediaKind::Video, 0, -33, true, vec![1; 4]),
        frame(MediaKind::Video, 33, 0, false, vec![2; 4]),
        frame(MediaKind::Video, 66, 33, false, vec![3; 4]),
    ];
    let file = write(&frames, &[avc()]);
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(&file)).expect("mp4parse");
    let track = &context.tracks[0];
    // Every offset was -33 ms: after the shift all are 0 and no ctts is needed.
    let offsets: Vec<i64> = track
        .ctts
        .iter()
        .flat_map(|c| c.samples.iter())
        .map(|s| match s.time_offset {
            mp4parse::TimeOffsetVersion::Version0(v) => i64::from(v),
            mp4parse::TimeOffsetVersion::Version1(v) => i64::from(v),
        })
        .collect();
    assert!(offsets.iter().all(|&o| o >= 0), "{offsets:?}");
    assert_eq!(track.media_time.as_ref().map(|t| t.0), Some(0));
}

#[test]
fn large_media_data_gets_a_64_bit_mdat_and_co64() {
    // The tables only: 5 GiB of media data claimed by two 2.5 GiB-ish
    // samples' offsets is too much for a test, so fake the position.
    let mut writer = Mp4Writer::new(Mp4Options::default());
    writer.set_config(aac()).unwrap();
    writer
        .push(&frame(MediaKind::Audio, 0, 0, true, vec![1; 4]))
        .unwrap();
    writer.media_len = 5 << 30;
    writer
        .push(&frame(MediaKind::Audio, 23, 23, true, vec![2; 4]))
        .unwrap();
    let header = writer.finish().unwrap();
    let at = header.len() - 16;
    assert_eq!(&header[at..at + 8], b"\x00\x00\x00\x01mdat");
    let size = u64::from_be_bytes(header[at + 8..].try_into().unwrap());
    assert_eq!(size, (5 << 30) + 4 + 16);
    assert!(header.windows(4).any(|w| w == b"co64"));
    assert!(!header.windows(4).any(|w| w == b"stco"));
}
