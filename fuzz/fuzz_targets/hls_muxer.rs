//! `hls_mux::Muxer` with arbitrary frame sequences: any timestamps (jumps
//! forward and back, huge values), key flags, configuration changes, in TS
//! and fMP4, with and without Low-Latency parts, live window or VOD. It
//! never panics, and every output parses back: TS segments are whole
//! 188-byte packets with their sync byte, fMP4 init segments, segments and
//! parts are sequences of well-formed boxes, and m3u8-rs reads the playlist.
#![no_main]

use bytes::Bytes;
use flv::config::{AacConfig, AvcConfig};
use hls_mux::playlist::PlaylistKind;
use hls_mux::{Format, Frame, MediaKind, Mp3Config, Muxer, MuxerOptions, Output, TrackConfig};
use libfuzzer_sys::fuzz_target;

const AVC_SMALL: &str =
    "0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800";
const AVC_LARGE: &str =
    "0164001effe1001a6764001eacd940a02ff970110000030001000003003c0f162d9601000468ef8fcbfdf8f800";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn configs() -> Vec<TrackConfig> {
    vec![
        TrackConfig::Avc(AvcConfig::parse(&hex(AVC_SMALL)).expect("avcC")),
        TrackConfig::Avc(AvcConfig::parse(&hex(AVC_LARGE)).expect("avcC")),
        TrackConfig::Aac(AacConfig::parse(&[0x12, 0x10]).expect("asc")),
        TrackConfig::Aac(AacConfig::parse(&[0x11, 0x90]).expect("asc")),
        TrackConfig::Mp3(Mp3Config {
            sample_rate: 44_100,
            channels: 2,
            mpeg_version: 1,
        }),
    ]
}

/// Top-level boxes cover the bytes exactly, each at least 8 bytes.
fn boxes_well_formed(data: &[u8]) -> bool {
    let mut rest = data;
    while !rest.is_empty() {
        let Some(size) = rest.get(..4) else {
            return false;
        };
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        if size < 8 || size > rest.len() {
            return false;
        }
        rest = &rest[size..];
    }
    true
}

fn check(output: &Output, format: Format) {
    let joined = |parts: &[Bytes]| {
        parts
            .iter()
            .flat_map(|b| b.iter().copied())
            .collect::<Vec<u8>>()
    };
    match output {
        Output::Init { data, .. } => assert!(boxes_well_formed(data), "init"),
        Output::Segment { data, .. } | Output::Part { data, .. } => {
            let bytes = joined(data);
            match format {
                Format::Ts => {
                    assert_eq!(bytes.len() % 188, 0, "TS length");
                    assert!(bytes.chunks(188).all(|p| p[0] == 0x47), "TS sync");
                }
                _ => assert!(boxes_well_formed(&bytes), "fMP4 boxes"),
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, ops)) = data.split_first() else {
        return;
    };
    let format = if setup & 1 == 0 {
        Format::Ts
    } else {
        Format::Fmp4
    };
    let mut options = MuxerOptions::new(format);
    options.target_duration = [0.5, 1.0, 2.0, 6.0][usize::from((setup >> 1) & 3)];
    options.kind = match (setup >> 3) & 3 {
        0 => PlaylistKind::Vod,
        1 => PlaylistKind::Event,
        _ => PlaylistKind::Live { window: 3 },
    };
    if format == Format::Fmp4 && setup & 0x20 != 0 && options.kind != PlaylistKind::Vod {
        options.part_duration = Some(options.target_duration / 4.0);
    }
    let Ok(mut muxer) = Muxer::new(options) else {
        return;
    };
    let configs = configs();
    let mut dts = [0i64; 2];
    let mut failed = false;
    for op in ops.chunks(4) {
        let &[kind, a, b, c] = op else { break };
        let result = match kind % 8 {
            0 => muxer.set_config(configs[usize::from(a) % configs.len()].clone()),
            // The publisher leaves and another takes the stream over (rtmp_to_hls's
            // republish): the playlist ends, then goes on after a discontinuity.
            7 if kind & 0x80 != 0 => {
                let ended = muxer.finish();
                while let Some(output) = muxer.poll_output() {
                    check(&output, format);
                }
                muxer.restart();
                ended
            }
            _ => {
                let media = if kind & 8 == 0 {
                    MediaKind::Video
                } else {
                    MediaKind::Audio
                };
                let slot = usize::from(media == MediaKind::Audio);
                // Mostly small steps; sometimes a jump either way.
                let step = match b >> 6 {
                    0 | 1 => i64::from(b & 0x3f) * 90,
                    2 => i64::from(i8::from_le_bytes([a])) * 90_000,
                    _ => i64::from(i16::from_le_bytes([a, b])) * 9_000_000,
                };
                dts[slot] = dts[slot].saturating_add(step);
                let cts = if media == MediaKind::Video {
                    i64::from(c & 0x0f) * 3_000
                } else {
                    0
                };
                let len = usize::from(c >> 4);
                // One length-prefixed NAL unit for video; raw bytes for audio.
                let payload: Vec<u8> = match media {
                    MediaKind::Video => {
                        [&[0, 0, 0, len as u8 + 1, 0x41][..], &vec![0xAB; len]].concat()
                    }
                    MediaKind::Audio => vec![0x21; len + 1],
                };
                muxer.push(Frame {
                    media,
                    dts: dts[slot],
                    pts: dts[slot].saturating_add(cts),
                    key: kind & 0x10 != 0,
                    data: Bytes::from(payload),
                })
            }
        };
        failed |= result.is_err();
        while let Some(output) = muxer.poll_output() {
            check(&output, format);
        }
        if failed {
            break;
        }
    }
    if !failed && muxer.finish().is_ok() {
        while let Some(output) = muxer.poll_output() {
            check(&output, format);
        }
    }
    let text = muxer.playlist().render();
    assert!(
        m3u8_rs::parse_playlist_res(text.as_bytes()).is_ok(),
        "{text}"
    );
});
