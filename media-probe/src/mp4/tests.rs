//! MP4 files written by `hls-mux` (progressive and fragmented) read back
//! frame for frame; damaged ones give errors, not panics.

use std::io::Cursor;

use bytes::Bytes;
use flv::config::{AacConfig, AvcConfig};
use hls_mux::fmp4::FileWriter;
use hls_mux::mp4::{Mp4Options, Mp4Writer};
use hls_mux::{Frame as MuxFrame, MediaKind, TrackConfig, Tracks};

use super::*;

const AVC: &[u8] = include_bytes!("../../../flv/tests/data/config/avc_high_640x360.bin");

/// 2 s of 25 fps video (B-frame offsets, a key frame every 25) and AAC.
fn frames() -> Vec<MuxFrame> {
    let mut out = Vec::new();
    let (mut video, mut audio, mut n) = (0i64, 0i64, 0u8);
    while video < 180_000 {
        n = n.wrapping_add(1);
        if audio <= video {
            let data = Bytes::from(vec![n; 10 + usize::from(n % 7)]);
            out.push(MuxFrame {
                media: MediaKind::Audio,
                dts: audio,
                pts: audio,
                key: true,
                data,
            });
            audio += 1920; // 1024 samples at 48 kHz
        } else {
            let key = video % 90_000 == 0;
            let data = Bytes::from(vec![n; 100 + usize::from(n)]);
            let pts = video + if key { 7200 } else { 3600 * i64::from(n % 3) };
            out.push(MuxFrame {
                media: MediaKind::Video,
                dts: video,
                pts,
                key,
                data,
            });
            video += 3600;
        }
    }
    out
}

fn tracks() -> Tracks {
    Tracks {
        video: Some(TrackConfig::Avc(AvcConfig::parse(AVC).unwrap())),
        audio: Some(TrackConfig::Aac(AacConfig::parse(&[0x11, 0x90]).unwrap())),
    }
}

fn progressive() -> Vec<u8> {
    let tracks = tracks();
    let mut writer = Mp4Writer::new(Mp4Options::default());
    writer.set_config(tracks.video.unwrap()).unwrap();
    writer.set_config(tracks.audio.unwrap()).unwrap();
    let mut media = Vec::new();
    for frame in frames() {
        media.extend_from_slice(&writer.push(&frame).unwrap());
    }
    let mut file = writer.finish().unwrap().to_vec();
    file.extend_from_slice(&media);
    file
}

fn fragmented() -> Vec<u8> {
    let mut writer = FileWriter::new(&tracks()).unwrap();
    let mut body = Vec::new();
    for frame in frames() {
        writer.push(&frame, &mut body).unwrap();
    }
    let index = writer.finish(&mut body).unwrap();
    let mut file = writer.init_segment().to_vec();
    file.extend_from_slice(&index.sidx);
    body.iter().for_each(|b| file.extend_from_slice(b));
    file.extend_from_slice(&index.mfra);
    file
}

fn read(file: &[u8]) -> Result<(Vec<ConfigChange>, Vec<Frame>), Mp4Error> {
    let mut reader = Mp4Reader::new(Cursor::new(file))?;
    let (mut configs, mut frames) = (Vec::new(), Vec::new());
    while let Some(event) = reader.next_event() {
        match event? {
            Mp4Event::Config(c) => configs.push(c),
            Mp4Event::Frame(f) => frames.push(f),
        }
    }
    Ok((configs, frames))
}

fn check_frames(file: &[u8], fragmented: bool) {
    assert!(is_mp4(file));
    assert_eq!(
        Mp4Reader::new(Cursor::new(file)).unwrap().is_fragmented(),
        fragmented
    );
    let (configs, got) = read(file).unwrap();
    assert_eq!(configs.len(), 2);
    assert_eq!((configs[0].codec, &configs[0].data[..]), (Codec::Avc, AVC));
    assert_eq!(
        (configs[1].codec, &configs[1].data[..]),
        (Codec::Aac, &[0x11, 0x90][..])
    );
    for media in [MediaKind::Video, MediaKind::Audio] {
        let want: Vec<_> = frames().into_iter().filter(|f| f.media == media).collect();
        let kind = match media {
            MediaKind::Video => MediaType::Video,
            MediaKind::Audio => MediaType::Audio,
        };
        let got: Vec<_> = got.iter().filter(|f| f.media == kind).collect();
        assert_eq!(got.len(), want.len(), "{media:?}");
        for (got, want) in got.iter().zip(&want) {
            assert_eq!(got.data, want.data);
            assert_eq!(got.key, want.key);
            // 90 kHz to ms. The progressive file's video edit list (an
            // empty edit of the first pts, then a media time skipping it)
            // gives the input's times back, as FFmpeg applies it.
            assert_eq!(got.dts, want.dts.div_euclid(90), "{media:?}");
            assert_eq!(got.pts, want.pts.div_euclid(90), "{media:?}");
        }
    }
}

#[test]
fn progressive_file_gives_back_every_frame() {
    check_frames(&progressive(), false);
}

#[test]
fn fragmented_file_gives_back_every_frame() {
    check_frames(&fragmented(), true);
}

#[test]
fn damaged_files_give_errors_not_panics() {
    for file in [progressive(), fragmented()] {
        for cut in (0..file.len()).step_by(97) {
            let _ = read(&file[..cut]);
        }
        let mut state = 7u32;
        for round in 0..300 {
            let mut damaged = file.clone();
            for _ in 0..1 + round % 4 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let at = (state >> 8) as usize % damaged.len().min(4000);
                damaged[at] ^= (state >> 24) as u8 | 1;
            }
            let _ = read(&damaged);
        }
    }
    assert!(matches!(
        read(b"\0\0\0\x08free"),
        Err(Mp4Error::Invalid { .. })
    ));
}
