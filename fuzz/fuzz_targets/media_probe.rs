//! Arbitrary frame sequences through `media_probe::Probe`: as FLV bytes (every tag
//! through `push_tag`) or as frames and sequence headers decoded straight from the
//! input (any codec, track, timestamps, payload, arrival time), with small queues.
//! No panic, no hang; one record per frame, in input order, when nothing was dropped.
#![no_main]

use std::time::Duration;

use bytes::Bytes;
use flv::{
    Codec, ConfigChange, ConfigChangeKind, Frame, MediaType, ReadEvent, Reader, ReaderOptions,
};
use media_probe::{Output, Probe, ProbeConfig};

const CODECS: [(MediaType, Codec); 8] = [
    (MediaType::Video, Codec::Avc),
    (MediaType::Video, Codec::Hevc),
    (MediaType::Video, Codec::Av1),
    (MediaType::Video, Codec::Vp6),
    (MediaType::Audio, Codec::Aac),
    (MediaType::Audio, Codec::Mp3),
    (MediaType::Audio, Codec::Opus),
    (MediaType::Audio, Codec::Flac),
];

fn drain(probe: &mut Probe, records: &mut Vec<i64>) {
    while let Some(output) = probe.poll_output() {
        if let Output::Frame(record) = output {
            records.push(record.dts);
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut config = ProbeConfig::default();
    config.interval_ms = i64::from(control >> 4) * 100 + 1;
    config.max_reorder = usize::from(control & 7) + 1;
    config.pict_type = control & 8 == 0;
    let mut probe = Probe::new(config).expect("valid config");
    let mut records = Vec::new();
    let mut pushed = Vec::new();

    if control & 1 == 0 {
        let mut input = rest.to_vec();
        if input.len() >= 3 {
            input[..3].copy_from_slice(b"FLV");
        }
        let mut reader = Reader::new(ReaderOptions::default().resync(true));
        reader.push(&input);
        reader.finish();
        let mut arrival = 0u64;
        while let Ok(Some(event)) = reader.next_event() {
            if let ReadEvent::Tag(tag) = event {
                arrival += u64::from(tag.raw_timestamp & 0xffff) * 1000;
                let _ = probe.push_tag(&tag, Some(Duration::from_micros(arrival)));
                drain(&mut probe, &mut records);
            }
        }
    } else {
        let input = Bytes::copy_from_slice(rest);
        let mut pos = 0;
        let mut dts: i64 = 0;
        let mut arrival: u64 = 0;
        while pos + 8 <= input.len() {
            let h = &input[pos..pos + 8];
            let (media, codec) = CODECS[usize::from(h[0] & 7)];
            let track = (h[0] >> 3) & 1;
            let step = i64::from(i16::from_be_bytes([h[1], h[2]]));
            dts = if h[0] & 0x80 != 0 {
                i64::from(i32::from_be_bytes([h[1], h[2], h[3], h[4]])) << 8
            } else {
                dts.saturating_add(step)
            };
            let cts = i64::from(h[3] as i8) * 8;
            arrival += u64::from(h[4]) * 1000 * u64::from(h[5] & 0x0f);
            let len = usize::from(h[6]).min(input.len() - pos - 8);
            let payload = input.slice(pos + 8..pos + 8 + len);
            pos += 8 + len;
            let live = h[7] & 1 != 0;
            if h[5] & 0x10 != 0 {
                let change = ConfigChange {
                    media,
                    codec,
                    track,
                    dts,
                    kind: ConfigChangeKind::SequenceStart,
                    data: payload,
                    offset: pos as u64,
                };
                probe.push_config(&change, None);
            } else {
                let frame = Frame {
                    media,
                    codec,
                    track,
                    dts,
                    pts: dts.saturating_add(cts),
                    nanos: 0,
                    key: h[7] & 2 != 0,
                    data: payload,
                    offset: pos as u64,
                };
                pushed.push(dts);
                probe.push_frame(&frame, live.then(|| Duration::from_micros(arrival)));
            }
            if h[7] & 4 != 0 {
                probe.tick(Duration::from_micros(arrival));
            }
            drain(&mut probe, &mut records);
        }
    }
    probe.finish(Some(Duration::from_secs(1 << 20)));
    drain(&mut probe, &mut records);
    let summary = probe.summary();
    if control & 1 != 0 && summary.dropped_outputs == 0 {
        assert_eq!(records, pushed);
    }
});
