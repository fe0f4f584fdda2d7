//! Tests of the whole writer: tracks in, packets out, read back here.

use bytes::{Bytes, BytesMut};
use flv::config::{AacConfig, Av1Config, AvcConfig, FlacStreamInfo, OpusHead, Vp9Config};

use super::*;
use crate::Mp3Config;

/// The 320x240 Baseline avcC of the flv crate's documentation.
const AVCC: [u8; 37] = [
    0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec,
    0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8, 0x01, 0x00,
    0x04, 0x68, 0xce, 0x0f, 0xc8,
];

fn avc() -> TrackConfig {
    TrackConfig::Avc(AvcConfig::parse(&AVCC).unwrap())
}

fn aac() -> TrackConfig {
    TrackConfig::Aac(AacConfig::parse(&[0x12, 0x10]).unwrap())
}

fn tracks(video: Option<TrackConfig>, audio: Option<TrackConfig>) -> Tracks {
    Tracks { video, audio }
}

fn frame(media: MediaKind, dts: i64, pts: i64, key: bool, data: &[u8]) -> Frame {
    Frame {
        media,
        dts,
        pts,
        key,
        data: Bytes::copy_from_slice(data),
    }
}

/// A parsed transport packet.
#[derive(Debug)]
struct Packet {
    pid: u16,
    pusi: bool,
    cc: u8,
    has_payload: bool,
    random_access: bool,
    pcr: Option<u64>,
    payload: Vec<u8>,
}

fn parse(out: &[u8]) -> Vec<Packet> {
    assert_eq!(out.len() % 188, 0, "not whole packets");
    out.chunks(188)
        .map(|p| {
            assert_eq!(p[0], 0x47);
            let control = (p[3] >> 4) & 3;
            let mut at = 4;
            let (mut random_access, mut pcr) = (false, None);
            if control & 2 != 0 {
                let len = usize::from(p[4]);
                if len > 0 {
                    random_access = p[5] & 0x40 != 0;
                    if p[5] & 0x10 != 0 {
                        let b = &p[6..12];
                        pcr = Some(
                            u64::from(b[0]) << 25
                                | u64::from(b[1]) << 17
                                | u64::from(b[2]) << 9
                                | u64::from(b[3]) << 1
                                | u64::from(b[4] >> 7),
                        );
                    }
                }
                at = 5 + len;
            }
            Packet {
                pid: u16::from(p[1] & 0x1F) << 8 | u16::from(p[2]),
                pusi: p[1] & 0x40 != 0,
                cc: p[3] & 0x0F,
                has_payload: control & 1 != 0,
                random_access,
                pcr,
                payload: if control & 1 != 0 {
                    p[at..].to_vec()
                } else {
                    vec![]
                },
            }
        })
        .collect()
}

/// The PES packets of `pid`, reassembled.
fn pes_of(packets: &[Packet], pid: u16) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = Vec::new();
    for p in packets.iter().filter(|p| p.pid == pid && p.has_payload) {
        if p.pusi {
            all.push(Vec::new());
        }
        all.last_mut()
            .expect("starts with a unit start")
            .extend(&p.payload);
    }
    all
}

/// The stream types and PIDs listed in a PMT packet, and the PCR PID.
fn pmt_streams(p: &Packet) -> (u16, Vec<(u8, u16, Vec<u8>)>) {
    let s = &p.payload[1..];
    assert_eq!(s[0], 0x02);
    let section_len = usize::from(s[1] & 0x0F) << 8 | usize::from(s[2]);
    let section = &s[..3 + section_len];
    assert_eq!(psi::crc32(section), 0, "PMT CRC");
    let pcr_pid = u16::from(s[8] & 0x1F) << 8 | u16::from(s[9]);
    let mut at = 12 + (usize::from(s[10] & 0x0F) << 8 | usize::from(s[11]));
    let mut streams = Vec::new();
    while at < section.len() - 4 {
        let pid = u16::from(s[at + 1] & 0x1F) << 8 | u16::from(s[at + 2]);
        let info = usize::from(s[at + 3] & 0x0F) << 8 | usize::from(s[at + 4]);
        streams.push((s[at], pid, s[at + 5..at + 5 + info].to_vec()));
        at += 5 + info;
    }
    (pcr_pid, streams)
}

#[test]
fn no_tracks_and_codecs_without_mapping() {
    assert_eq!(
        TsWriter::new(&Tracks::default()).unwrap_err(),
        TsError::NoTracks
    );
    let av1 = TrackConfig::Av1(Av1Config::parse(&[0x81, 0x00, 0x0C, 0x00]).unwrap());
    let err = TsWriter::new(&tracks(Some(av1), Some(aac()))).unwrap_err();
    assert_eq!(err, TsError::NoMapping { codec: "AV1" });
    assert_eq!(err.to_string(), "AV1 has no MPEG-TS mapping here; use fMP4");
    let vp9 = Vp9Config::parse(&[1, 0, 0, 0, 0, 10, 0x80, 1, 1, 1, 0, 0]).unwrap();
    let err = TsWriter::new(&tracks(Some(TrackConfig::Vp9(vp9)), None)).unwrap_err();
    assert_eq!(err.to_string(), "VP9 has no MPEG-TS mapping here; use fMP4");
    let mut streaminfo = vec![
        0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0x0A, 0xC4, 0x42, 0xF0,
    ];
    streaminfo.resize(34, 0);
    let flac = TrackConfig::Flac(FlacStreamInfo::parse(&streaminfo).unwrap());
    let err = TsWriter::new(&tracks(None, Some(flac))).unwrap_err();
    assert_eq!(err, TsError::NoMapping { codec: "FLAC" });
    // An audio codec as the video track.
    let err = TsWriter::new(&tracks(Some(aac()), None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the video track holds AAC, which is not a video codec"
    );
}

#[test]
fn pmt_lists_only_the_tracks_present() {
    for (video, audio, pcr, expected) in [
        (true, true, 0x100, vec![(0x1B, 0x100), (0x0F, 0x101)]),
        (true, false, 0x100, vec![(0x1B, 0x100)]),
        (false, true, 0x101, vec![(0x0F, 0x101)]),
    ] {
        let mut w = TsWriter::new(&tracks(video.then(avc), audio.then(aac))).unwrap();
        let mut out = BytesMut::new();
        w.begin_segment(&mut out);
        let packets = parse(&out);
        assert_eq!(packets.len(), 2);
        assert_eq!((packets[0].pid, packets[1].pid), (0, 0x1000));
        let (pcr_pid, streams) = pmt_streams(&packets[1]);
        assert_eq!(pcr_pid, pcr);
        let got: Vec<(u8, u16)> = streams.iter().map(|s| (s.0, s.1)).collect();
        assert_eq!(got, expected);
    }
    // MP3: MPEG-1 is 0x03, MPEG-2 is 0x04.
    for (header, stream_type) in [
        ([0xFF, 0xFB, 0x90, 0x64], 0x03),
        ([0xFF, 0xF3, 0x90, 0x64], 0x04),
    ] {
        let mp3 = TrackConfig::Mp3(Mp3Config::from_frame(&header).unwrap());
        let mut w = TsWriter::new(&tracks(None, Some(mp3))).unwrap();
        let mut out = BytesMut::new();
        w.begin_segment(&mut out);
        assert_eq!(pmt_streams(&parse(&out)[1]).1[0].0, stream_type);
    }
}

/// A key frame, then a delta frame with a DTS, then AAC; twice, one segment
/// each: counters continue across segments, PCR and random access on the
/// key frame, AUD and parameter sets in front of it.
#[test]
fn segments_frames_and_counters() {
    let mut w = TsWriter::new(&tracks(Some(avc()), Some(aac()))).unwrap();
    let mut out = BytesMut::new();
    let idr: Vec<u8> = [&[0, 0, 0x01, 0xF5, 0x65][..], &[0xAB; 500]].concat();
    let p_frame = [0, 0, 0, 3, 0x41, 0x9A, 0x02];
    for segment in 0..2i64 {
        let t = segment * 180_000;
        w.begin_segment(&mut out);
        w.write_frame(&frame(MediaKind::Video, t, t + 3_000, true, &idr), &mut out)
            .unwrap();
        w.write_frame(
            &frame(MediaKind::Audio, t, t, true, &[0x21, 0x10, 0x04]),
            &mut out,
        )
        .unwrap();
        w.write_frame(
            &frame(MediaKind::Video, t + 3_000, t + 3_000, false, &p_frame),
            &mut out,
        )
        .unwrap();
    }
    let packets = parse(&out);
    // Continuity: each PID counts 0, 1, 2... over both segments.
    for pid in [0, 0x1000, 0x100, 0x101] {
        let ccs: Vec<u8> = packets
            .iter()
            .filter(|p| p.pid == pid)
            .map(|p| p.cc)
            .collect();
        let expected: Vec<u8> = (0..ccs.len()).map(|i| (i % 16) as u8).collect();
        assert_eq!(ccs, expected, "pid {pid:#x}");
    }
    let video: Vec<&Packet> = packets.iter().filter(|p| p.pid == 0x100).collect();
    // The key frame: 6 + 12 + 19 (PES header) + 505 bytes over 4 packets.
    assert!(video[0].pusi && video[0].random_access);
    assert_eq!(video[0].pcr, Some(0));
    assert!(video[1..4].iter().all(|p| !p.pusi && p.pcr.is_none()));
    // The delta frame: PCR (every video frame), no random access.
    assert!(video[4].pusi && !video[4].random_access);
    assert_eq!(video[4].pcr, Some(0));
    // Second segment: PCR is DTS - 0.7 s.
    assert_eq!(video[5].pcr, Some(180_000 - 63_000));
    let pes = pes_of(&packets, 0x100);
    assert_eq!(pes.len(), 4);
    // Key frame PES: PTS and DTS, AUD, SPS, PPS, the slice.
    let k = &pes[0];
    // 3 + 10 + 545 bytes after the length field.
    assert_eq!(&k[..9], &[0, 0, 1, 0xE0, 0x02, 0x2E, 0x84, 0xC0, 10]);
    let body = &k[19..];
    assert_eq!(&body[..6], &[0, 0, 0, 1, 0x09, 0xF0]);
    assert_eq!(&body[6..11], &[0, 0, 0, 1, 0x67]);
    assert_eq!(&body[6 + 4 + 22..6 + 4 + 22 + 5], &[0, 0, 0, 1, 0x68]);
    assert_eq!(body.len(), 6 + 26 + 8 + 4 + 501);
    // Delta frame: PTS only, length set, AUD and the slice.
    let d = &pes[1];
    assert_eq!(&d[..9], &[0, 0, 1, 0xE0, 0, 8 + 6 + 7, 0x84, 0x80, 5]);
    assert_eq!(
        &d[14..],
        &[0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x9A, 0x02]
    );
    // AAC: ADTS header + raw frame, random access on every audio frame.
    let audio: Vec<&Packet> = packets.iter().filter(|p| p.pid == 0x101).collect();
    assert!(audio
        .iter()
        .all(|p| p.pusi && p.random_access && p.pcr.is_none()));
    let a = &pes_of(&packets, 0x101)[0];
    assert_eq!(&a[..9], &[0, 0, 1, 0xC0, 0, 8 + 7 + 3, 0x84, 0x80, 5]);
    assert_eq!(
        &a[14..],
        &[0xFF, 0xF1, 0x50, 0x80, 0x01, 0x5F, 0xFC, 0x21, 0x10, 0x04]
    );
}

#[test]
fn pcr_only_packets_when_video_lags() {
    let mut w = TsWriter::new(&tracks(Some(avc()), Some(aac()))).unwrap();
    let mut out = BytesMut::new();
    w.begin_segment(&mut out);
    // Audio first in a segment: PCR-only packet on the video PID.
    w.write_frame(
        &frame(MediaKind::Audio, 90_000, 90_000, true, &[1]),
        &mut out,
    )
    .unwrap();
    // 20 ms later: fresh enough.
    w.write_frame(
        &frame(MediaKind::Audio, 91_800, 91_800, true, &[1]),
        &mut out,
    )
    .unwrap();
    // 50 ms after the last PCR: stale, another PCR-only packet.
    w.write_frame(
        &frame(MediaKind::Audio, 94_500, 94_500, true, &[1]),
        &mut out,
    )
    .unwrap();
    // Video slightly behind the audio: its PCR is held, never going back.
    w.write_frame(
        &frame(MediaKind::Video, 93_000, 93_000, true, &[0, 0, 0, 1, 0x65]),
        &mut out,
    )
    .unwrap();
    let packets = parse(&out);
    let pcrs: Vec<(u16, bool, Option<u64>)> = packets
        .iter()
        .filter(|p| p.pcr.is_some())
        .map(|p| (p.pid, p.has_payload, p.pcr))
        .collect();
    assert_eq!(
        pcrs,
        [
            (0x100, false, Some(27_000)),
            (0x100, false, Some(31_500)),
            (0x100, true, Some(31_500)),
        ]
    );
    // The PCR-only packets repeat the counter (15 before any payload), the
    // video PES then starts at 0.
    let video_ccs: Vec<u8> = packets
        .iter()
        .filter(|p| p.pid == 0x100)
        .map(|p| p.cc)
        .collect();
    assert_eq!(video_ccs, [15, 15, 0]);
}

#[test]
fn audio_only_pcr_on_the_audio_pid() {
    let mp3 = [0xFF, 0xFB, 0x90, 0x64];
    let config = TrackConfig::Mp3(Mp3Config::from_frame(&mp3).unwrap());
    let mut w = TsWriter::new(&tracks(None, Some(config))).unwrap();
    let mut out = BytesMut::new();
    w.begin_segment(&mut out);
    let data: Vec<u8> = mp3.iter().copied().chain([7; 413]).collect();
    for i in 0..3 {
        w.write_frame(
            &frame(MediaKind::Audio, i * 2_351, i * 2_351, true, &data),
            &mut out,
        )
        .unwrap();
    }
    let packets = parse(&out);
    let starts: Vec<&Packet> = packets
        .iter()
        .filter(|p| p.pusi && p.pid == 0x101)
        .collect();
    assert_eq!(starts.len(), 3);
    assert!(starts.iter().all(|p| p.random_access && p.pcr == Some(0)));
    assert_eq!(pes_of(&packets, 0x101)[2][14..], data[..]);
}

#[test]
fn timestamps_wrap_at_33_bits() {
    let mut w = TsWriter::new(&tracks(None, Some(aac()))).unwrap();
    let mut out = BytesMut::new();
    for dts in [(1 << 33) - 1_000, (1 << 33) + 1_000, -90_000] {
        w.write_frame(&frame(MediaKind::Audio, dts, dts, true, &[1, 2]), &mut out)
            .unwrap();
    }
    let packets = parse(&out);
    let pes = pes_of(&packets, 0x101);
    let read = |b: &[u8]| {
        (u64::from(b[0] >> 1) & 7) << 30
            | u64::from(b[1]) << 22
            | u64::from(b[2] >> 1) << 15
            | u64::from(b[3]) << 7
            | u64::from(b[4] >> 1)
    };
    let pts: Vec<u64> = pes.iter().map(|p| read(&p[9..14])).collect();
    assert_eq!(pts, [(1 << 33) - 1_000, 1_000, (1 << 33) - 90_000]);
    let pcr: Vec<Option<u64>> = packets.iter().map(|p| p.pcr).collect();
    assert_eq!(
        pcr,
        [
            Some((1 << 33) - 64_000),
            Some((1 << 33) - 62_000),
            // A step back of more than a second is a new timeline.
            Some((1 << 33) - 153_000)
        ]
    );
}

#[test]
fn hostile_and_wrong_frames_are_errors_and_write_nothing() {
    let mut w = TsWriter::new(&tracks(Some(avc()), None)).unwrap();
    let mut out = BytesMut::new();
    let bad = [
        &[0, 0, 0, 200, 0x65][..],
        &[0xFF, 0xFF, 0xFF, 0xFF],
        &[0, 0, 0, 1, 0x65, 0, 0],
        &[0],
    ];
    for data in bad {
        let err = w
            .write_frame(&frame(MediaKind::Video, 0, 0, true, data), &mut out)
            .unwrap_err();
        assert!(
            matches!(
                err,
                TsError::NalPastEnd { .. } | TsError::TruncatedNalLength { .. }
            ),
            "{err}"
        );
    }
    assert_eq!(
        w.write_frame(
            &frame(MediaKind::Video, 0, 0, true, &[0, 0, 0, 9, 1]),
            &mut out
        )
        .unwrap_err()
        .to_string(),
        "NAL unit length 9 at offset 0 runs past the end of the frame (1 bytes left)"
    );
    assert_eq!(
        w.write_frame(&frame(MediaKind::Audio, 0, 0, true, &[1]), &mut out),
        Err(TsError::NoSuchTrack {
            media: MediaKind::Audio
        })
    );
    assert_eq!(
        w.write_frame(&frame(MediaKind::Video, 0, 0, true, &[]), &mut out),
        Err(TsError::EmptyFrame {
            media: MediaKind::Video
        })
    );
    assert!(out.is_empty());
    // Still usable: the next good frame starts at counter 0.
    w.write_frame(
        &frame(MediaKind::Video, 0, 0, true, &[0, 0, 0, 1, 0x65]),
        &mut out,
    )
    .unwrap();
    assert_eq!(parse(&out)[0].cc, 0);

    // An AAC frame longer than ADTS allows.
    let mut w = TsWriter::new(&tracks(None, Some(aac()))).unwrap();
    let err = w
        .write_frame(&frame(MediaKind::Audio, 0, 0, true, &[0; 9000]), &mut out)
        .unwrap_err();
    assert!(matches!(err, TsError::FrameTooLarge { .. }), "{err}");
}

#[test]
fn opus_control_header_and_descriptors() {
    let head = OpusHead::new(2, 312, 48_000);
    let mut w = TsWriter::new(&tracks(None, Some(TrackConfig::Opus(head)))).unwrap();
    let mut out = BytesMut::new();
    w.begin_segment(&mut out);
    let packet: Vec<u8> = (0..300).map(|i| i as u8).collect();
    w.write_frame(&frame(MediaKind::Audio, 0, 0, true, &packet), &mut out)
        .unwrap();
    let packets = parse(&out);
    let (_, streams) = pmt_streams(&packets[1]);
    assert_eq!(
        streams,
        [(
            0x06,
            0x101,
            vec![0x05, 4, b'O', b'p', b'u', b's', 0x7F, 2, 0x80, 2]
        )]
    );
    let pes = &pes_of(&packets, 0x101)[0];
    assert_eq!(&pes[..4], &[0, 0, 1, 0xBD]);
    assert_eq!(usize::from(pes[4]) << 8 | usize::from(pes[5]), 8 + 6 + 300);
    // 0x7FE0 with start_trim_flag, au_size 300 = 255 + 45, start_trim: the
    // 312 pre-skip samples fit in this packet's 480 (TOC 0: one 10 ms SILK frame).
    assert_eq!(&pes[14..20], &[0x7F, 0xF0, 0xFF, 45, 0x01, 0x38]);
    assert_eq!(&pes[20..], &packet[..]);
    // The next packet has no trim.
    let mut out = BytesMut::new();
    w.write_frame(
        &frame(MediaKind::Audio, 900, 900, true, &packet[..255]),
        &mut out,
    )
    .unwrap();
    let pes = &pes_of(&parse(&out), 0x101)[0];
    assert_eq!(&pes[14..18], &[0x7F, 0xE0, 0xFF, 0]);
    assert_eq!(opus_samples(&[0xFF, 0]), 0, "code 3 with no frames");
    assert_eq!(
        opus_samples(&[0x1B, 0x30]),
        0x1FFF,
        "48 SILK frames of 60 ms, capped"
    );
    assert_eq!(opus_samples(&[0xF9]), 1_920, "two CELT 20 ms frames");

    // A rejected frame does not use up the trim.
    let head = OpusHead::new(2, 312, 48_000);
    let mut w = TsWriter::new(&tracks(None, Some(TrackConfig::Opus(head)))).unwrap();
    let mut out = BytesMut::new();
    let err = w
        .write_frame(&frame(MediaKind::Audio, 0, 0, true, &[0; 70_000]), &mut out)
        .unwrap_err();
    assert!(matches!(err, TsError::FrameTooLarge { .. }), "{err}");
    assert!(out.is_empty());
    w.write_frame(&frame(MediaKind::Audio, 0, 0, true, &packet), &mut out)
        .unwrap();
    let pes = &pes_of(&parse(&out), 0x101)[0];
    assert_eq!(&pes[14..20], &[0x7F, 0xF0, 0xFF, 45, 0x01, 0x38]);

    // Family 0 beyond stereo, and a family-1 mapping with no code.
    let mut head = OpusHead::new(3, 312, 48_000);
    assert!(TsWriter::new(&tracks(None, Some(TrackConfig::Opus(head.clone())))).is_err());
    head.mapping_family = 1;
    head.mapping = Some(flv::config::OpusChannelMapping {
        stream_count: 2,
        coupled_count: 1,
        mapping: vec![0, 2, 1],
    });
    assert!(TsWriter::new(&tracks(None, Some(TrackConfig::Opus(head.clone())))).is_ok());
    head.mapping.as_mut().unwrap().mapping = vec![2, 1, 0];
    let err = TsWriter::new(&tracks(None, Some(TrackConfig::Opus(head)))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Opus configuration cannot be carried"),
        "{err}"
    );
}

#[test]
fn large_video_frame_is_unbounded() {
    let mut w = TsWriter::new(&tracks(Some(avc()), None)).unwrap();
    let mut out = BytesMut::new();
    let mut data = vec![0, 1, 0, 0, 0x65];
    data.resize(4 + 0x1_0000, 0x11);
    w.write_frame(&frame(MediaKind::Video, 0, 0, false, &data), &mut out)
        .unwrap();
    let packets = parse(&out);
    let pes = &pes_of(&packets, 0x100)[0];
    assert_eq!(&pes[4..6], &[0, 0], "PES_packet_length 0");
    assert_eq!(pes.len(), 14 + 6 + 4 + 0x1_0000);
}

mod hostile {
    use proptest::prelude::*;

    use super::*;

    fn track() -> impl Strategy<Value = Tracks> {
        let head = OpusHead::new(2, 3_840, 48_000);
        prop_oneof![
            Just(tracks(Some(avc()), Some(aac()))),
            Just(tracks(None, Some(TrackConfig::Opus(head)))),
            Just(tracks(
                None,
                Some(TrackConfig::Mp3(
                    Mp3Config::from_frame(&[0xFF, 0xFB, 0x90, 0x64]).unwrap()
                ))
            )),
        ]
    }

    proptest! {
        /// Any bytes, any timestamps: an error or whole packets, never a panic,
        /// and an error writes nothing.
        #[test]
        fn any_frame_is_packets_or_an_error(
            tracks in track(),
            frames in prop::collection::vec(
                (any::<bool>(), any::<i64>(), any::<i64>(), any::<bool>(),
                 prop::collection::vec(any::<u8>(), 0..600)),
                1..12,
            ),
        ) {
            let mut w = TsWriter::new(&tracks).unwrap();
            let mut out = BytesMut::new();
            w.begin_segment(&mut out);
            for (video, dts, pts, key, data) in frames {
                let media = if video { MediaKind::Video } else { MediaKind::Audio };
                let before = out.len();
                match w.write_frame(&frame(media, dts, pts, key, &data), &mut out) {
                    Ok(()) => prop_assert!(out.len() > before),
                    Err(_) => prop_assert_eq!(out.len(), before),
                }
                prop_assert_eq!(out.len() % 188, 0);
            }
            prop_assert!(out.chunks(188).all(|p| p[0] == 0x47));
        }
    }
}
