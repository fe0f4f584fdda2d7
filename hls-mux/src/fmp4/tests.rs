//! Unit tests: fragment bytes field by field, init segments read back by
//! `mp4parse` (an independent reader), timescale conversion.

use bytes::Bytes;
use flv::config::{AacConfig, Av1Config, AvcConfig, FlacStreamInfo, HevcConfig, OpusHead};
use mp4parse::{CodecType, SampleEntry, TrackType};

use super::fragment::{NON_SYNC_SAMPLE, SYNC_SAMPLE};
use super::*;
use crate::{Frame, Mp3Config, TrackConfig};

// Real records made by FFmpeg 9 encoders (the flv crate's fixtures).
const AVC: &[u8] = include_bytes!("../../../flv/tests/data/config/avc_high_640x360.bin");
const HEVC: &[u8] = include_bytes!("../../../flv/tests/data/config/hevc_main_320x240.bin");
const AV1: &[u8] = include_bytes!("../../../flv/tests/data/config/av1_main_320x240.bin");
const AAC: &[u8] = include_bytes!("../../../flv/tests/data/config/aac_lc_44100_stereo.bin");
const OPUS: &[u8] = include_bytes!("../../../flv/tests/data/config/opus_stereo_48000.bin");
const FLAC: &[u8] = include_bytes!("../../../flv/tests/data/config/flac_stereo_44100_start.bin");

fn avc() -> TrackConfig {
    TrackConfig::Avc(AvcConfig::parse(AVC).unwrap())
}
fn aac() -> TrackConfig {
    TrackConfig::Aac(AacConfig::parse(AAC).unwrap())
}

fn tracks(video: Option<TrackConfig>, audio: Option<TrackConfig>) -> Tracks {
    Tracks { video, audio }
}

fn sample(media: MediaKind, dts: i64, pts: i64, duration: u32, key: bool, data: &[u8]) -> Sample {
    Sample {
        media,
        dts,
        pts,
        duration,
        key,
        data: Bytes::copy_from_slice(data),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

/// Asserts a box header at `at` and returns its size.
fn expect_box(b: &[u8], at: usize, kind: &[u8; 4]) -> usize {
    assert_eq!(&b[at + 4..at + 8], kind, "box at {at}");
    u32_at(b, at) as usize
}

#[test]
fn tiny_fragment_field_by_field() {
    let mut writer = Fmp4Writer::new(&tracks(Some(avc()), Some(aac()))).unwrap();
    // A non-key video sample presented 2 frames after its decode time and one
    // audio frame, audio first in decode order to check the per-track grouping.
    let samples = [
        sample(MediaKind::Audio, 90_000, 90_000, 2_090, true, b"AUDIO"),
        sample(MediaKind::Video, 90_000, 96_000, 3_000, false, b"VIDEO-1"),
    ];
    let mut out = Vec::new();
    let written = writer.fragment(7, &samples, &mut out).unwrap();
    assert_eq!(out.len(), 3, "header, then one slice per sample");
    assert_eq!(&out[1][..], b"VIDEO-1", "video run first");
    assert_eq!(&out[2][..], b"AUDIO");
    let total: usize = out.iter().map(Bytes::len).sum();
    assert_eq!(written, total);
    let file: Vec<u8> = out.concat();
    let b = &file[..];

    let moof = expect_box(b, 0, b"moof");
    assert_eq!(expect_box(b, 8, b"mfhd"), 16);
    assert_eq!(u32_at(b, 16), 0, "mfhd version/flags");
    assert_eq!(u32_at(b, 20), 7, "sequence number");

    // traf 1: video, track 1, 90 kHz.
    let traf1 = 24;
    let traf1_size = expect_box(b, traf1, b"traf");
    assert_eq!(traf1_size, 8 + 16 + 20 + 20 + 16);
    assert_eq!(expect_box(b, traf1 + 8, b"tfhd"), 16);
    assert_eq!(
        u32_at(b, traf1 + 16),
        0x0002_0000,
        "default-base-is-moof only"
    );
    assert_eq!(u32_at(b, traf1 + 20), 1, "video track id");
    assert_eq!(expect_box(b, traf1 + 24, b"tfdt"), 20);
    assert_eq!(u32_at(b, traf1 + 32), 1 << 24, "tfdt version 1");
    assert_eq!(u64_at(b, traf1 + 36), 90_000);
    let trun1 = traf1 + 44;
    assert_eq!(expect_box(b, trun1, b"trun"), 20 + 16);
    assert_eq!(u32_at(b, trun1 + 8), 0x0100_0F01, "version 1, all fields");
    assert_eq!(u32_at(b, trun1 + 12), 1, "sample count");
    let video_offset = u32_at(b, trun1 + 16) as usize;
    assert_eq!(u32_at(b, trun1 + 20), 3_000, "duration");
    assert_eq!(u32_at(b, trun1 + 24), 7, "size");
    assert_eq!(u32_at(b, trun1 + 28), NON_SYNC_SAMPLE);
    assert_eq!(u32_at(b, trun1 + 28) >> 24 & 3, 1, "sample_depends_on = 1");
    assert_eq!(u32_at(b, trun1 + 28) >> 16 & 1, 1, "non-sync");
    assert_eq!(u32_at(b, trun1 + 32) as i32, 6_000, "pts - dts");

    // traf 2: audio, track 2, 44.1 kHz.
    let traf2 = traf1 + traf1_size;
    let traf2_size = expect_box(b, traf2, b"traf");
    assert_eq!(u32_at(b, traf2 + 20), 2, "audio track id");
    assert_eq!(u64_at(b, traf2 + 36), 44_100, "1 s at 44.1 kHz");
    let trun2 = traf2 + 44;
    let audio_offset = u32_at(b, trun2 + 16) as usize;
    assert_eq!(
        u32_at(b, trun2 + 20),
        1_024,
        "2090 ticks at 90 kHz = 1024 at 44.1 kHz"
    );
    assert_eq!(u32_at(b, trun2 + 24), 5);
    assert_eq!(u32_at(b, trun2 + 28), SYNC_SAMPLE);
    assert_eq!(u32_at(b, trun2 + 28) >> 24 & 3, 2, "sample_depends_on = 2");
    assert_eq!(u32_at(b, trun2 + 32), 0);

    assert_eq!(moof, traf2 + traf2_size);
    let mdat = expect_box(b, moof, b"mdat");
    assert_eq!(mdat, 8 + 7 + 5);
    assert_eq!(moof + mdat, b.len());
    // data_offset counts from the moof's first byte to the sample's first byte.
    assert_eq!(video_offset, moof + 8);
    assert_eq!(&b[video_offset..video_offset + 7], b"VIDEO-1");
    assert_eq!(&b[audio_offset..audio_offset + 5], b"AUDIO");
}

#[test]
fn negative_composition_offset_is_signed() {
    let mut writer = Fmp4Writer::new(&tracks(Some(avc()), None)).unwrap();
    let samples = [sample(MediaKind::Video, 6_000, 3_000, 3_000, true, b"x")];
    let mut out = Vec::new();
    writer.fragment(1, &samples, &mut out).unwrap();
    let b = &out[0][..];
    let trun = 24 + 44;
    assert_eq!(&b[trun + 4..trun + 8], b"trun");
    assert_eq!(u32_at(b, trun + 32) as i32, -3_000);
    assert_eq!(u32_at(b, trun + 28), SYNC_SAMPLE);
}

#[test]
fn errors_instead_of_wrapping() {
    let mut writer = Fmp4Writer::new(&tracks(Some(avc()), None)).unwrap();
    let mut out = Vec::new();
    let negative = [sample(MediaKind::Video, -1, 0, 3_000, true, b"x")];
    assert!(matches!(
        writer.fragment(1, &negative, &mut out),
        Err(Fmp4Error::NegativeDecodeTime { dts: -1, .. })
    ));
    let backwards = [
        sample(MediaKind::Video, 9_000, 9_000, 3_000, true, b"x"),
        sample(MediaKind::Video, 6_000, 6_000, 3_000, false, b"x"),
    ];
    assert!(matches!(
        writer.fragment(1, &backwards, &mut out),
        Err(Fmp4Error::DecodeTimeBackwards { .. })
    ));
    let audio = [sample(MediaKind::Audio, 0, 0, 1, true, b"x")];
    assert!(matches!(
        writer.fragment(1, &audio, &mut out),
        Err(Fmp4Error::UnknownTrack {
            media: MediaKind::Audio
        })
    ));
    assert!(matches!(
        writer.fragment(1, &[], &mut out),
        Err(Fmp4Error::EmptyFragment)
    ));
    let far = [sample(MediaKind::Video, 0, 1 << 40, 3_000, true, b"x")];
    assert!(matches!(
        writer.fragment(1, &far, &mut out),
        Err(Fmp4Error::CompositionOffsetOutOfRange { .. })
    ));
    let long = [
        sample(MediaKind::Video, 0, 0, 3_000, true, b"x"),
        sample(MediaKind::Video, 1 << 40, 1 << 40, 3_000, true, b"x"),
    ];
    assert!(matches!(
        writer.fragment(1, &long, &mut out),
        Err(Fmp4Error::DurationTooLong { .. })
    ));
    assert!(out.is_empty(), "nothing appended on error");
    // Extreme values: no panic.
    let extreme = [
        sample(MediaKind::Video, i64::MAX, i64::MIN, u32::MAX, true, b""),
        sample(MediaKind::Video, i64::MAX, i64::MAX, u32::MAX, false, b""),
    ];
    let _ = writer.fragment(u32::MAX, &extreme, &mut out);
    assert!(matches!(
        Fmp4Writer::new(&Tracks::default()),
        Err(Fmp4Error::NoTracks)
    ));
}

/// 44.1 kHz: durations are differences of converted absolute times, so
/// their sum is exactly the converted span and fragments continue exactly.
#[test]
fn timescale_conversion_keeps_cumulative_time() {
    let mut writer = Fmp4Writer::new(&tracks(None, Some(aac()))).unwrap();
    assert_eq!(writer.track(MediaKind::Audio), Some((1, 44_100)));
    // 1024-sample AAC frames timed in FLV milliseconds (23 or 24 ms each),
    // starting at an odd time.
    let start_ms = 1_234i64;
    let frames: Vec<Sample> = (0..500i64)
        .map(|i| {
            let dts = (start_ms + i * 1024 * 1000 / 44_100) * 90;
            let next = (start_ms + (i + 1) * 1024 * 1000 / 44_100) * 90;
            sample(MediaKind::Audio, dts, dts, (next - dts) as u32, true, b"a")
        })
        .collect();
    let mut next_tfdt = None;
    for (n, chunk) in frames.chunks(97).enumerate() {
        let mut out = Vec::new();
        writer.fragment(n as u32 + 1, chunk, &mut out).unwrap();
        let b = &out[0][..];
        let traf = 24;
        let tfdt = u64_at(b, traf + 36);
        if let Some(expected) = next_tfdt {
            assert_eq!(tfdt, expected, "fragment {n} continues the previous one");
        }
        let trun = traf + 44;
        let count = u32_at(b, trun + 12) as usize;
        assert_eq!(count, chunk.len());
        let sum: u64 = (0..count)
            .map(|i| u64::from(u32_at(b, trun + 20 + 16 * i)))
            .sum();
        let first = chunk.first().unwrap();
        let last = chunk.last().unwrap();
        let converted = |t: i64| ((i128::from(t) * 44_100 + 45_000) / 90_000) as u64;
        assert_eq!(tfdt, converted(first.dts));
        assert_eq!(
            sum,
            converted(last.dts + i64::from(last.duration)) - converted(first.dts)
        );
        // Each sample starts exactly at its converted dts.
        let mut t = tfdt;
        for (i, s) in chunk.iter().enumerate() {
            assert_eq!(t, converted(s.dts));
            t += u64::from(u32_at(b, trun + 20 + 16 * i));
        }
        next_tfdt = Some(tfdt + sum);
    }
}

/// Video, audio, or other: mp4parse's `TrackType` is neither `Copy` nor `Clone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Video,
    Audio,
    Other,
}

fn kind(t: &TrackType) -> Kind {
    match t {
        TrackType::Video => Kind::Video,
        TrackType::Audio => Kind::Audio,
        _ => Kind::Other,
    }
}

/// What mp4parse says of a track: kind, id, timescale, codec.
type ParsedTrack = (Kind, Option<u32>, Option<u64>, Option<CodecType>);

struct Parsed {
    tracks: Vec<ParsedTrack>,
}

fn parse_init(init: &[u8]) -> Parsed {
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(init)).expect("mp4parse reads it");
    assert!(context.mvex.is_some(), "mvex present");
    Parsed {
        tracks: context
            .tracks
            .iter()
            .map(|t| {
                let codec = t.stsd.as_ref().and_then(|s| match s.descriptions.first()? {
                    SampleEntry::Audio(a) => Some(a.codec_type),
                    SampleEntry::Video(v) => Some(v.codec_type),
                    SampleEntry::Unknown => None,
                });
                (
                    kind(&t.track_type),
                    t.track_id,
                    t.timescale.map(|s| s.0),
                    codec,
                )
            })
            .collect(),
    }
}

fn init_of(video: Option<TrackConfig>, audio: Option<TrackConfig>) -> Bytes {
    let init = Fmp4Writer::new(&tracks(video, audio))
        .unwrap()
        .init_segment();
    assert_eq!(&init[4..8], b"ftyp");
    assert_eq!(&init[8..12], b"iso5");
    init
}

#[test]
fn init_avc_aac() {
    let parsed = parse_init(&init_of(Some(avc()), Some(aac())));
    assert_eq!(
        parsed.tracks,
        vec![
            (Kind::Video, Some(1), Some(90_000), Some(CodecType::H264)),
            (Kind::Audio, Some(2), Some(44_100), Some(CodecType::AAC)),
        ]
    );
}

#[test]
fn init_video_only_and_audio_only() {
    let parsed = parse_init(&init_of(Some(avc()), None));
    assert_eq!(
        parsed.tracks,
        vec![(Kind::Video, Some(1), Some(90_000), Some(CodecType::H264))]
    );
    let parsed = parse_init(&init_of(None, Some(aac())));
    assert_eq!(
        parsed.tracks,
        vec![(Kind::Audio, Some(1), Some(44_100), Some(CodecType::AAC))]
    );
}

#[test]
fn init_hevc() {
    let init = init_of(
        Some(TrackConfig::Hevc(HevcConfig::parse(HEVC).unwrap())),
        Some(aac()),
    );
    let parsed = parse_init(&init);
    // mp4parse has no HEVC codec type: check the track and find the boxes.
    assert_eq!(parsed.tracks.len(), 2);
    assert_eq!(parsed.tracks[0].0, Kind::Video);
    assert_eq!(parsed.tracks[1].3, Some(CodecType::AAC));
    let find = |kind: &[u8]| init.windows(4).position(|w| w == kind);
    let hvcc_at = find(b"hvcC").expect("hvcC");
    assert!(find(b"hvc1").is_some());
    // The record is written back as parsed.
    let size = u32_at(&init, hvcc_at - 4) as usize;
    assert_eq!(
        &init[hvcc_at + 4..hvcc_at - 4 + size],
        &HevcConfig::parse(HEVC).unwrap().to_bytes()[..]
    );
}

#[test]
fn init_av1() {
    let config = Av1Config::parse(AV1).unwrap();
    let init = init_of(Some(TrackConfig::Av1(config.clone())), Some(aac()));
    let parsed = parse_init(&init);
    assert_eq!(parsed.tracks[0].3, Some(CodecType::AV1));
    assert_eq!(parsed.tracks[1].3, Some(CodecType::AAC));
    let at = init.windows(4).position(|w| w == b"av1C").unwrap();
    let size = u32_at(&init, at - 4) as usize;
    assert_eq!(&init[at + 4..at - 4 + size], &config.to_bytes()[..]);
}

#[test]
fn init_avc_record_written_back() {
    let init = init_of(Some(avc()), None);
    let at = init.windows(4).position(|w| w == b"avcC").unwrap();
    let size = u32_at(&init, at - 4) as usize;
    assert_eq!(&init[at + 4..at - 4 + size], AVC);
}

#[test]
fn init_opus() {
    let head = OpusHead::parse(OPUS).unwrap();
    let init = init_of(Some(avc()), Some(TrackConfig::Opus(head.clone())));
    let parsed = parse_init(&init);
    assert_eq!(
        parsed.tracks[1],
        (Kind::Audio, Some(2), Some(48_000), Some(CodecType::Opus))
    );
    // dOps: version 0, channels, big-endian pre-skip, rate, gain, family.
    let at = init.windows(4).position(|w| w == b"dOps").unwrap();
    let body = &init[at + 4..at + 4 + 11];
    assert_eq!(body[0], 0, "version 0");
    assert_eq!(body[1], head.channel_count);
    assert_eq!(u16::from_be_bytes([body[2], body[3]]), head.pre_skip);
    assert_eq!(
        u32::from_be_bytes(body[4..8].try_into().unwrap()),
        head.input_sample_rate
    );
    assert_eq!(i16::from_be_bytes([body[8], body[9]]), head.output_gain);
    assert_eq!(body[10], 0);
}

#[test]
fn init_mp3_and_flac() {
    let mp3 = Mp3Config::from_frame(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
    let parsed = parse_init(&init_of(None, Some(TrackConfig::Mp3(mp3))));
    assert_eq!(
        parsed.tracks,
        vec![(Kind::Audio, Some(1), Some(44_100), Some(CodecType::MP3))]
    );
    let flac = FlacStreamInfo::parse(FLAC).unwrap();
    let init = init_of(None, Some(TrackConfig::Flac(flac)));
    let parsed = parse_init(&init);
    assert_eq!(parsed.tracks[0].3, Some(CodecType::FLAC));
    let at = init.windows(4).position(|w| w == b"dfLa").unwrap();
    // FullBox header, then the last-block flag with type 0 and length 34.
    assert_eq!(&init[at + 8..at + 12], &[0x80, 0, 0, 34]);
    assert_eq!(&init[at + 12..at + 12 + 34], FLAC);
}

#[test]
fn styp_matches_ffmpeg() {
    let writer = Fmp4Writer::new(&tracks(Some(avc()), None)).unwrap();
    let styp = writer.styp();
    assert_eq!(u32_at(&styp, 0) as usize, styp.len());
    assert_eq!(&styp[4..], b"stypmsdh\0\0\0\0msdhmsix");
}

#[test]
fn init_vp9() {
    let vp9 = flv::config::Vp9Config::parse(VP9).unwrap();
    let parsed = parse_init(&init_of(Some(TrackConfig::Vp9(vp9)), None));
    assert_eq!(
        parsed.tracks,
        vec![(Kind::Video, Some(1), Some(90_000), Some(CodecType::VP9))]
    );
}

const VP9: &[u8] = include_bytes!("../../../flv/tests/data/config/vp9_profile0_8bit.bin");

mod props {
    use mp4_atom::{Decode as _, Moof};
    use proptest::prelude::*;

    use super::*;

    fn converted(t: i64, timescale: u32) -> i64 {
        rescale(t.into(), timescale) as i64
    }

    prop_compose! {
        fn samples()(
            start in 0i64..10_000_000_000,
            steps in prop::collection::vec(
                (any::<bool>(), 0i64..10_000, -5_000i64..20_000, 0u32..5_000, any::<bool>(), 0usize..40),
                1..40,
            ),
        ) -> Vec<Sample> {
            let mut dts = [start, start];
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (video, step, offset, duration, key, len))| {
                    let media = if video { MediaKind::Video } else { MediaKind::Audio };
                    let t = &mut dts[usize::from(video)];
                    *t += step;
                    let pts = if video { *t + offset } else { *t };
                    Sample {
                        media,
                        dts: *t,
                        pts,
                        duration,
                        key,
                        data: Bytes::from(vec![i as u8; len]),
                    }
                })
                .collect()
        }
    }

    proptest! {
        /// mp4-atom, an independent reader, finds in our moof what we put in.
        #[test]
        fn moof_reads_back(samples in samples(), sequence in any::<u32>()) {
            let mut writer = Fmp4Writer::new(&tracks(Some(avc()), Some(aac()))).unwrap();
            let mut out = Vec::new();
            let written = writer.fragment(sequence, &samples, &mut out).unwrap();
            let file: Vec<u8> = out.concat();
            prop_assert_eq!(written, file.len());
            let moof = Moof::decode(&mut &file[..]).unwrap();
            prop_assert_eq!(moof.mfhd.sequence_number, sequence);
            let mut traf = moof.traf.iter();
            for (media, id, timescale) in [(MediaKind::Video, 1, 90_000), (MediaKind::Audio, 2, 44_100)] {
                let mine: Vec<&Sample> = samples.iter().filter(|s| s.media == media).collect();
                if mine.is_empty() {
                    continue;
                }
                let traf = traf.next().unwrap();
                prop_assert_eq!(traf.tfhd.track_id, id);
                prop_assert!(traf.tfhd.default_base_is_moof);
                let base = traf.tfdt.as_ref().unwrap().base_media_decode_time;
                prop_assert_eq!(base as i64, converted(mine[0].dts, timescale));
                prop_assert_eq!(traf.trun.len(), 1);
                let trun = &traf.trun[0];
                prop_assert_eq!(trun.entries.len(), mine.len());
                let mut offset = trun.data_offset.unwrap() as usize;
                let mut time = base as i64;
                for (entry, sample) in trun.entries.iter().zip(&mine) {
                    prop_assert_eq!(time, converted(sample.dts, timescale));
                    time += i64::from(entry.duration.unwrap());
                    let size = entry.size.unwrap() as usize;
                    prop_assert_eq!(&file[offset..offset + size], &sample.data[..]);
                    offset += size;
                    let flags = if sample.key { SYNC_SAMPLE } else { NON_SYNC_SAMPLE };
                    prop_assert_eq!(entry.flags, Some(flags));
                    prop_assert_eq!(
                        i64::from(entry.cts.unwrap()),
                        converted(sample.pts, timescale) - converted(sample.dts, timescale)
                    );
                }
                let last = mine.last().unwrap();
                prop_assert_eq!(time, converted(last.dts + i64::from(last.duration), timescale));
            }
            prop_assert!(traf.next().is_none(), "no traf for a track without samples");
        }

        /// Any values: an error or a fragment, never a panic.
        #[test]
        fn never_panics(
            raw in prop::collection::vec(
                (any::<bool>(), any::<i64>(), any::<i64>(), any::<u32>(), any::<bool>()),
                0..8,
            ),
        ) {
            let samples: Vec<Sample> = raw
                .into_iter()
                .map(|(video, dts, pts, duration, key)| Sample {
                    media: if video { MediaKind::Video } else { MediaKind::Audio },
                    dts,
                    pts,
                    duration,
                    key,
                    data: Bytes::from_static(b"x"),
                })
                .collect();
            let mut writer = Fmp4Writer::new(&tracks(Some(avc()), Some(aac()))).unwrap();
            let mut out = Vec::new();
            if let Ok(written) = writer.fragment(1, &samples, &mut out) {
                prop_assert_eq!(written, out.iter().map(Bytes::len).sum::<usize>());
            } else {
                prop_assert!(out.is_empty());
            }
        }
    }
}

#[test]
fn ticks_for_track_duration_lands_on_whole_track_ticks() {
    // 1024 samples at 44.1 kHz from any 90 kHz start: the writer's rescaled
    // difference is exactly 1024 (at 90 kHz or below every count is
    // reachable).
    for timescale in [8_000, 44_100, 48_000, 90_000] {
        for dts in [0i64, 1, 44, 45, 89, 2089, 2090, 123_456_789] {
            for want in [1, 960, 1024, 1152, 2048] {
                let ticks = ticks_for_track_duration(timescale, dts, want);
                let got = rescale((dts + ticks).into(), timescale) - rescale(dts.into(), timescale);
                assert_eq!(
                    got,
                    i128::from(want),
                    "{timescale} Hz at {dts}: {ticks} ticks"
                );
            }
        }
    }
    // Above 90 kHz: the next reachable count up, never less.
    let ticks = ticks_for_track_duration(192_000, 7, 1);
    let got = rescale((7 + ticks).into(), 192_000) - rescale(7, 192_000);
    assert!((1..=3).contains(&got), "{got}");
    assert_eq!(ticks_for_track_duration(0, 5, 1024), 0);
}

/// Top-level boxes of `file`: (type, offset, size).
fn boxes(file: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at + 8 <= file.len() {
        let size = u32_at(file, at) as usize;
        assert!(size >= 8 && at + size <= file.len(), "box at {at}");
        out.push((file[at + 4..at + 8].try_into().unwrap(), at, size));
        at += size;
    }
    assert_eq!(at, file.len(), "boxes cover the file");
    out
}

/// 3 s of 25 fps video with a key frame every 12 frames (0.48 s) and AAC,
/// through `FileWriter`: what the `sidx` and `mfra` say.
#[test]
fn file_writer_sidx_and_mfra_index_every_fragment() {
    let mut writer = FileWriter::new(&tracks(Some(avc()), Some(aac()))).unwrap();
    let mut plan = FragmentPlan::new(MediaKind::Video);
    let mut body = Vec::new();
    let (mut video, mut audio) = (0i64, 0i64);
    while video < 270_000 {
        let frame = if audio <= video {
            let f = Frame {
                media: MediaKind::Audio,
                dts: audio,
                pts: audio,
                key: true,
                data: Bytes::from_static(b"\x21\x10\x04"),
            };
            audio += 2090;
            f
        } else {
            let key = (video / 3600) % 12 == 0;
            let f = Frame {
                media: MediaKind::Video,
                dts: video,
                pts: video + 7200,
                key,
                data: Bytes::from(vec![key as u8; 100]),
            };
            video += 3600;
            f
        };
        plan.next(&frame);
        writer.push(&frame, &mut body).unwrap();
    }
    // Refused frames change nothing.
    let back = Frame {
        media: MediaKind::Video,
        dts: 0,
        pts: 0,
        key: true,
        data: Bytes::new(),
    };
    assert!(matches!(
        writer.push(&back, &mut body),
        Err(Fmp4Error::DecodeTimeBackwards { .. })
    ));
    let index = writer.finish(&mut body).unwrap();
    // Key frames every 0.48 s, fragments at least 1 s: every third one.
    assert_eq!(index.fragments, 3);
    assert_eq!(plan.fragments(), index.fragments);
    assert_eq!(index.sidx.len(), writer.sidx_size(index.fragments));
    let mut file = writer.init_segment().to_vec();
    file.extend_from_slice(&index.sidx);
    for piece in &body {
        file.extend_from_slice(piece);
    }
    file.extend_from_slice(&index.mfra);
    let top = boxes(&file);
    let kinds: Vec<&[u8; 4]> = top.iter().map(|(k, _, _)| k).collect();
    assert_eq!(
        kinds,
        [
            b"ftyp", b"moov", b"sidx", b"sidx", b"moof", b"mdat", b"moof", b"mdat", b"moof",
            b"mdat", b"mfra"
        ]
    );
    // One sidx per track, each indexing the same fragments on its own
    // timeline: (track id, timescale, first pts, total duration).
    let audio_end = (audio * 44_100 + 45_000) / 90_000;
    let expected = [(1, CLOCK, 7200, 270_000), (2, 44_100, 0, audio_end as u64)];
    for (n, (id, timescale, first, total_duration)) in expected.into_iter().enumerate() {
        let (_, at, size) = top[2 + n];
        let sidx = &file[at..at + size];
        assert_eq!(u32_at(sidx, 12), id);
        assert_eq!(u32_at(sidx, 16), timescale);
        assert_eq!(u64_at(sidx, 20), first, "the track's first pts");
        let mut offset = at + size + u64_at(sidx, 28) as usize;
        assert_eq!(
            offset, top[4].1,
            "track {id}: first_offset skips to the first moof"
        );
        let mut total = 0;
        for i in 0..3 {
            let entry = 40 + 12 * i;
            let size = u32_at(sidx, entry) as usize;
            assert_eq!(
                offset,
                top[4 + 2 * i].1,
                "track {id}: reference {i} on its moof"
            );
            assert_eq!(size, top[4 + 2 * i].2 + top[5 + 2 * i].2, "moof + mdat");
            assert_eq!(u32_at(sidx, entry + 8), 0x9000_0000, "starts with a SAP");
            offset += size;
            total += u64::from(u32_at(sidx, entry + 4));
        }
        assert_eq!(offset, top[10].1, "the references end at the mfra");
        assert_eq!(total, total_duration, "track {id}: the durations add up");
    }
    // mfra: the video tfra points at each moof, mfro gives the mfra size.
    let mfra = &file[top[10].1..];
    assert_eq!(u32_at(mfra, 8 + 20), 3, "three video entries");
    assert_eq!(u64_at(mfra, 8 + 24 + 8) as usize, top[4].1);
    assert_eq!(u32_at(mfra, mfra.len() - 4) as usize, mfra.len());
    let context = mp4parse::read_mp4(&mut std::io::Cursor::new(&file)).expect("mp4parse");
    assert_eq!(context.tracks.len(), 2);
}

#[test]
fn file_writer_refuses_what_a_fragment_cannot_hold() {
    let mut writer = FileWriter::new(&tracks(None, Some(aac()))).unwrap();
    let frame = |media, dts| Frame {
        media,
        dts,
        pts: dts,
        key: true,
        data: Bytes::from_static(b"x"),
    };
    let mut out = Vec::new();
    assert!(matches!(
        writer.push(&frame(MediaKind::Video, 0), &mut out),
        Err(Fmp4Error::UnknownTrack { .. })
    ));
    assert!(matches!(
        writer.push(&frame(MediaKind::Audio, -1), &mut out),
        Err(Fmp4Error::NegativeDecodeTime { .. })
    ));
    assert!(matches!(
        writer.finish(&mut out),
        Err(Fmp4Error::EmptyFragment)
    ));
    writer.push(&frame(MediaKind::Audio, 0), &mut out).unwrap();
    assert!(matches!(
        writer.push(&frame(MediaKind::Audio, i64::MAX), &mut out),
        Err(Fmp4Error::DurationTooLong { .. })
    ));
    let index = writer.finish(&mut out).unwrap();
    assert_eq!(index.fragments, 1);
}
