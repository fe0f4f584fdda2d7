//! The MP4 writers of `hls_mux` with arbitrary frames: codec configurations
//! (real records, and arbitrary bytes that the `flv` crate's parsers
//! accept), timestamps going anywhere, any sizes and key flags. Into the
//! progressive writer (`mp4::Mp4Writer`) and the fragmented one
//! (`fmp4::FileWriter`): neither panics, and whenever a writer finishes a
//! file, its boxes cover it exactly, mp4parse reads it back, and
//! media-probe's MP4 reader gives back as many frames as the writer took.
#![no_main]

use bytes::Bytes;
use flv::config::{AacConfig, Av1Config, AvcConfig, FlacStreamInfo, HevcConfig, OpusHead};
use hls_mux::fmp4::FileWriter;
use hls_mux::mp4::{Mp4Options, Mp4Writer};
use hls_mux::{Frame, MediaKind, Mp3Config, TrackConfig, Tracks};
use libfuzzer_sys::fuzz_target;
use media_probe::mp4::{Mp4Event, Mp4Reader};

const AVC: &[u8] = include_bytes!("../../flv/tests/data/config/avc_high_640x360.bin");
const AVC_BASE: &[u8] = include_bytes!("../../flv/tests/data/config/avc_baseline_30fps.bin");
const HEVC: &[u8] = include_bytes!("../../flv/tests/data/config/hevc_main_320x240.bin");
const AV1: &[u8] = include_bytes!("../../flv/tests/data/config/av1_main_320x240.bin");
const AAC: &[u8] = include_bytes!("../../flv/tests/data/config/aac_lc_44100_stereo.bin");
const OPUS: &[u8] = include_bytes!("../../flv/tests/data/config/opus_stereo_48000.bin");
const FLAC: &[u8] = include_bytes!("../../flv/tests/data/config/flac_stereo_44100_start.bin");

/// One step of the input.
enum Op {
    Config(TrackConfig),
    Frame(Frame),
}

/// Reads the input as a list of operations.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken
    }

    fn int(&mut self, n: usize) -> i64 {
        let mut value = 0i64;
        for _ in 0..n {
            value = (value << 8) | i64::from(self.byte().unwrap_or(0));
        }
        value
    }

    fn config(&mut self) -> Option<TrackConfig> {
        let choice = self.byte()?;
        let config = match choice % 10 {
            0 => TrackConfig::Avc(AvcConfig::parse(AVC).ok()?),
            1 => TrackConfig::Avc(AvcConfig::parse(AVC_BASE).ok()?),
            2 => TrackConfig::Hevc(HevcConfig::parse(HEVC).ok()?),
            3 => TrackConfig::Av1(Av1Config::parse(AV1).ok()?),
            4 => TrackConfig::Aac(AacConfig::parse(AAC).ok()?),
            5 => TrackConfig::Opus(OpusHead::parse(OPUS).ok()?),
            6 => TrackConfig::Flac(FlacStreamInfo::parse(FLAC).ok()?),
            7 => TrackConfig::Mp3(Mp3Config {
                sample_rate: [44_100, 48_000, 22_050, 0][usize::from(choice / 10 % 4)],
                channels: 1 + choice % 2,
                mpeg_version: 1,
            }),
            // Arbitrary record bytes the parsers accept.
            8 => {
                let n = usize::from(self.byte()?);
                TrackConfig::Avc(AvcConfig::parse(self.bytes(n)).ok()?)
            }
            _ => {
                let n = usize::from(self.byte()? % 8);
                TrackConfig::Aac(AacConfig::parse(self.bytes(n)).ok()?)
            }
        };
        Some(config)
    }

    fn frame(&mut self, clock: &mut [i64; 2]) -> Option<Frame> {
        let flags = self.byte()?;
        let media = if flags & 1 == 0 {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        let slot = usize::from(flags & 1);
        // Mostly small steps forward, sometimes anywhere.
        let step = match flags >> 5 {
            0 => -self.int(1),
            1 => self.int(4) << 16,
            _ => self.int(2),
        };
        clock[slot] = clock[slot].saturating_add(step);
        let offset = if flags & 4 != 0 {
            self.int(2) - 0x4000
        } else {
            0
        };
        let size = usize::from(self.byte()?) * if flags & 8 != 0 { 64 } else { 1 };
        Some(Frame {
            media,
            dts: clock[slot],
            pts: clock[slot].saturating_add(offset),
            key: flags & 2 != 0,
            data: Bytes::from(vec![flags; size]),
        })
    }
}

fn ops(data: &[u8]) -> Vec<Op> {
    let mut input = Input(data);
    let mut clock = [0i64; 2];
    let mut ops = Vec::new();
    while let Some(kind) = input.byte() {
        let op = if kind % 8 == 0 {
            input.config().map(Op::Config)
        } else {
            input.frame(&mut clock).map(Op::Frame)
        };
        ops.extend(op);
    }
    ops
}

/// Top-level boxes cover `data` exactly.
fn boxes_cover(data: &[u8]) -> bool {
    let mut rest = data;
    while !rest.is_empty() {
        let Some(head) = rest.get(..8) else {
            return false;
        };
        let mut size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
        if size == 1 {
            let Some(large) = rest.get(8..16) else {
                return false;
            };
            size = u64::from_be_bytes(large.try_into().unwrap_or([0; 8]));
        }
        if size < 8 || size > rest.len() as u64 {
            return false;
        }
        rest = &rest[size as usize..];
    }
    true
}

/// The file is whole boxes, mp4parse reads it, and media-probe's reader
/// gives back `frames` frames.
fn check(file: &[u8], what: &str, frames: usize) {
    assert!(boxes_cover(file), "{what}: boxes do not cover the file");
    if let Err(e) = mp4parse::read_mp4(&mut std::io::Cursor::new(file)) {
        panic!("{what}: mp4parse cannot read it: {e:?}");
    }
    let mut reader = Mp4Reader::new(std::io::Cursor::new(file))
        .unwrap_or_else(|e| panic!("{what}: media-probe cannot read it: {e}"));
    let mut read = 0;
    while let Some(event) = reader.next_event() {
        match event {
            Ok(Mp4Event::Frame(_)) => read += 1,
            Ok(_) => {}
            Err(e) => panic!("{what}: media-probe cannot read a frame: {e}"),
        }
    }
    assert_eq!(read, frames, "{what}: frames read back");
}

fn progressive(ops: &[Op]) {
    let mut options = Mp4Options::default();
    options.max_samples = 2_000;
    let mut writer = Mp4Writer::new(options);
    let mut media = Vec::new();
    for op in ops {
        match op {
            Op::Config(config) => {
                let _ = writer.set_config(config.clone());
            }
            Op::Frame(frame) => {
                if let Ok(bytes) = writer.push(frame) {
                    media.extend_from_slice(&bytes);
                }
            }
        }
    }
    let frames = writer.samples() as usize;
    assert_eq!(writer.media_len(), media.len() as u64);
    if let Ok(header) = writer.finish() {
        let mut file = header.to_vec();
        file.extend_from_slice(&media);
        check(&file, "progressive", frames);
    }
}

fn fragmented(ops: &[Op]) {
    let mut tracks = Tracks {
        video: None,
        audio: None,
    };
    for op in ops {
        if let Op::Config(config) = op {
            let slot = match config.media() {
                MediaKind::Video => &mut tracks.video,
                MediaKind::Audio => &mut tracks.audio,
            };
            slot.get_or_insert_with(|| config.clone());
        }
    }
    let Ok(mut writer) = FileWriter::new(&tracks) else {
        return;
    };
    let mut body = Vec::new();
    let mut frames = 0;
    for op in ops {
        if let Op::Frame(frame) = op {
            frames += usize::from(writer.push(frame, &mut body).is_ok());
        }
    }
    let Ok(index) = writer.finish(&mut body) else {
        return;
    };
    assert_eq!(index.sidx.len(), writer.sidx_size(index.fragments));
    let mut file = writer.init_segment().to_vec();
    file.extend_from_slice(&index.sidx);
    for piece in &body {
        file.extend_from_slice(piece);
    }
    file.extend_from_slice(&index.mfra);
    check(&file, "fragmented", frames);
}

fuzz_target!(|data: &[u8]| {
    let ops = ops(data);
    progressive(&ops);
    fragmented(&ops);
});
