//! Encoder -> decoder round trips, header type choice, random input splits.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkError, ChunkOutput, RawMessage};

const CSIDS: [u32; 7] = [2, 3, 63, 64, 319, 320, 65_599];

fn encode_all(enc: &mut ChunkEncoder, msgs: &[RawMessage]) -> BytesMut {
    let mut out = ChunkOutput::new();
    for m in msgs {
        enc.try_encode(m, &mut out).expect("encodable");
    }
    let mut wire = BytesMut::new();
    out.copy_to(&mut wire);
    wire
}

/// Decodes `wire` fed in pieces cut at `cuts` (positions, any order).
fn decode_split(dec: &mut ChunkDecoder, wire: &[u8], cuts: &[usize]) -> Vec<RawMessage> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (wire.len() + 1)).collect();
    cuts.push(wire.len());
    cuts.sort_unstable();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut from = 0;
    for to in cuts {
        buf.extend_from_slice(&wire[from..to]);
        from = to;
        while let Some(m) = dec.decode(&mut buf).expect("decode") {
            out.push(m);
        }
    }
    assert!(buf.is_empty(), "{} bytes left", buf.len());
    assert_eq!(dec.buffered(), 0);
    out
}

fn message(csid: u32, type_id: u8, msid: u32, ts: u64, len: usize) -> RawMessage {
    RawMessage {
        chunk_stream_id: csid,
        type_id,
        stream_id: msid,
        timestamp: ts,
        payload: Bytes::from((0..len).map(|i| (i * 7 + len) as u8).collect::<Vec<u8>>()),
    }
}

/// The fmt bits of the first header of each message, for messages sent one by one.
fn fmts(enc: &mut ChunkEncoder, msgs: &[RawMessage]) -> Vec<u8> {
    msgs.iter()
        .map(|m| {
            let mut out = ChunkOutput::new();
            enc.encode(m, &mut out);
            let header = out.pop_front().expect("header");
            header[0] >> 6
        })
        .collect()
}

#[test]
fn every_basic_header_and_header_type_at_every_chunk_size() {
    for chunk_size in [1u32, 128, 4096, 65_536] {
        for csid in CSIDS {
            let len = (chunk_size as usize * 2 + 3).min(70_000);
            let msgs = vec![
                message(csid, 9, 1, 1000, len),                    // fmt 0
                message(csid, 9, 1, 1040, len),                    // fmt 2
                message(csid, 9, 1, 1080, len),                    // fmt 3
                message(csid, 8, 1, 1090, 5),                      // fmt 1
                message(csid, 8, 1, 0x0200_0000, 5),               // fmt 2, extended delta
                message(csid, 8, 1, 0x0400_0000 - 1090 + 1090, 5), // fmt 3 or 2
                message(csid, 8, 1, 0x0500_0000, len), // fmt 1, extended, type-3 repeats
                message(csid, 8, 1, 10, len),          // fmt 0 (backwards)
                message(csid, 8, 2, 20, len),          // fmt 0 (stream id)
                message(csid, 9, 2, 0x0300_0000, len), // fmt 1, extended
            ];
            let mut enc = ChunkEncoder::new();
            enc.set_chunk_size(chunk_size).unwrap();
            let wire = encode_all(&mut enc, &msgs);
            let mut dec = ChunkDecoder::new();
            dec.set_chunk_size(chunk_size).unwrap();
            assert_eq!(
                decode_split(&mut dec, &wire, &[]),
                msgs,
                "chunk size {chunk_size} csid {csid}"
            );
        }
    }
}

#[test]
fn one_byte_at_a_time() {
    let msgs: Vec<RawMessage> = (0..20u64)
        .map(|i| {
            message(
                CSIDS[i as usize % 7],
                9,
                1,
                0xFD00_0000 + i * 0x0100_0000 / 3,
                300 + i as usize,
            )
        })
        .collect();
    let wire = encode_all(&mut ChunkEncoder::new(), &msgs);
    let cuts: Vec<usize> = (0..wire.len()).collect();
    assert_eq!(decode_split(&mut ChunkDecoder::new(), &wire, &cuts), msgs);
}

/// A message of many chunks in a row is copied chunk after chunk without
/// parsing each header again (one-byte basic headers, no extended timestamp):
/// the input may end anywhere in such a run, and a run stops at the first
/// chunk of another chunk stream or with another header form.
#[test]
fn runs_of_continuation_chunks_stop_at_every_boundary() {
    let msgs = vec![
        message(3, 9, 1, 1000, 1000),        // 8 chunks in a row on csid 3
        message(4, 8, 1, 1000, 300),         // then another stream's
        message(3, 9, 1, 1040, 1000),        // a type-2 then 7 type-3 headers
        message(3, 9, 1, 0x0100_0000, 700),  // extended: type-3 headers repeat it
        message(64, 9, 1, 0x0100_0040, 700), // two-byte basic headers
        message(3, 9, 1, 0x0100_0080, 0),    // empty
        message(3, 9, 1, 0x0100_00C0, 129),  // one byte in its second chunk
    ];
    let wire = encode_all(&mut ChunkEncoder::new(), &msgs);
    for cut in 0..=wire.len() {
        assert_eq!(
            decode_split(&mut ChunkDecoder::new(), &wire, &[cut]),
            msgs,
            "cut at {cut}"
        );
    }
}

#[test]
fn encoder_picks_the_smallest_header() {
    let mut enc = ChunkEncoder::new();
    let m = |type_id, msid, ts, len| message(3, type_id, msid, ts, len);
    let got = fmts(
        &mut enc,
        &[
            m(9, 1, 100, 10), // first: 0
            m(9, 1, 140, 10), // same length and type, delta 40: 2
            m(9, 1, 180, 10), // same delta: 3
            m(9, 1, 230, 10), // delta 50: 2
            m(9, 1, 230, 11), // length changes: 1
            m(8, 1, 240, 11), // type changes: 1
            m(8, 1, 250, 11), // same delta 10 as the type-1 header: 3
            m(8, 1, 200, 11), // backwards: 0
            m(8, 2, 210, 11), // stream id changes: 0
            m(8, 2, 210, 11), // delta 0 after type 0: 2 (never 3 after type 0)
            m(8, 2, 210, 11), // delta 0 again: 3
        ],
    );
    assert_eq!(got, [0, 2, 3, 2, 1, 1, 3, 0, 0, 2, 3]);
}

#[test]
fn encoder_header_bytes() {
    let mut enc = ChunkEncoder::new();
    let mut out = ChunkOutput::new();
    // 300 bytes on csid 320 at an extended timestamp: type 0 + 2 type-3 chunks,
    // each type-3 header repeating the extended timestamp.
    let m = message(320, 9, 0x0403_0201, 0x0123_4567, 300);
    enc.encode(&m, &mut out);
    let wire: Vec<u8> = out.pieces().flatten().copied().collect();
    let header = [
        0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x2C, 9, 1, 2, 3, 4, 0x01, 0x23, 0x45, 0x67,
    ];
    let continuation = [0xC1, 0x00, 0x01, 0x01, 0x23, 0x45, 0x67];
    let mut expected = header.to_vec();
    expected.extend_from_slice(&m.payload[..128]);
    expected.extend_from_slice(&continuation);
    expected.extend_from_slice(&m.payload[128..256]);
    expected.extend_from_slice(&continuation);
    expected.extend_from_slice(&m.payload[256..]);
    assert_eq!(wire, expected);
    assert_eq!(out.len(), expected.len());
    // At 4096-byte chunks the payload pieces are slices of the message's own buffer.
    let mut enc4096 = ChunkEncoder::new();
    enc4096.set_chunk_size(4096).unwrap();
    let big = message(5, 9, 1, 0, 10_000);
    let mut out = ChunkOutput::new();
    enc4096.encode(&big, &mut out);
    let pieces: Vec<&[u8]> = out.pieces().collect();
    assert_eq!(pieces[1].as_ptr(), big.payload.as_ptr());
    assert_eq!(pieces[3].as_ptr(), big.payload[4096..].as_ptr());
    assert_eq!(out.pieces().map(<[u8]>::len).sum::<usize>(), out.len());
    // A small one on csid 64: 2-byte basic header, type 2 with delta 16.
    let mut out = ChunkOutput::new();
    enc.encode(&message(64, 9, 1, 0, 1), &mut out);
    enc.encode(&message(64, 9, 1, 16, 1), &mut out);
    out.advance(14);
    assert_eq!(
        &out.pop_front().unwrap()[..],
        &[0x80, 0x00, 0x00, 0x00, 0x10, 1]
    );
}

#[test]
fn wrap_and_backward_round_trip() {
    let ts = [
        0xFFFF_FF00u64,
        0x1_0000_0100,
        0x1_0000_0080,
        0x1_0000_0180,
        0xFFFF_FFF0,
        0x1_7FFF_0000,
    ];
    let msgs: Vec<RawMessage> = ts.iter().map(|&t| message(4, 9, 1, t, 3)).collect();
    let wire = encode_all(&mut ChunkEncoder::new(), &msgs);
    assert_eq!(decode_split(&mut ChunkDecoder::new(), &wire, &[]), msgs);
}

#[test]
fn invalid_messages_are_not_encoded() {
    let mut enc = ChunkEncoder::new();
    let mut out = ChunkOutput::new();
    for csid in [0, 1, 65_600] {
        let m = message(csid, 9, 1, 0, 1);
        assert_eq!(
            enc.try_encode(&m, &mut out),
            Err(ChunkError::InvalidChunkStreamId {
                chunk_stream_id: csid
            })
        );
        enc.encode(&m, &mut out);
    }
    let big = message(3, 9, 1, 0, 0x0100_0000);
    assert_eq!(
        enc.try_encode(&big, &mut out),
        Err(ChunkError::PayloadTooLarge {
            chunk_stream_id: 3,
            length: 0x0100_0000
        })
    );
    assert!(out.is_empty());
    assert_eq!(
        enc.set_chunk_size(0),
        Err(ChunkError::InvalidChunkSize { size: 0 })
    );
    assert_eq!(
        enc.set_chunk_size(0x8000_0000),
        Err(ChunkError::InvalidChunkSize { size: 0x8000_0000 })
    );
    assert_eq!(enc.chunk_size(), 128);
}

#[derive(Debug, Clone)]
enum Step {
    Msg {
        csid: u32,
        type_id: u8,
        msid: u32,
        ts: TsStep,
        len: usize,
    },
    SetChunkSize(u32),
}

#[derive(Debug, Clone, Copy)]
enum TsStep {
    Same,
    Forward(u64),
    Extended(u64),
    Back(u64),
}

fn ts_step() -> impl Strategy<Value = TsStep> {
    prop_oneof![
        2 => Just(TsStep::Same),
        6 => (0u64..100).prop_map(TsStep::Forward),
        1 => (0xFF_FFF0u64..0x0200_0000).prop_map(TsStep::Extended),
        1 => (1u64..100_000).prop_map(TsStep::Back),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        20 => (
            prop::sample::select(CSIDS.to_vec()),
            prop::sample::select(vec![4u8, 8, 9, 18, 20]),
            0u32..3,
            ts_step(),
            prop_oneof![3 => 0usize..200, 1 => 0usize..1500],
        )
            .prop_map(|(csid, type_id, msid, ts, len)| Step::Msg { csid, type_id, msid, ts, len }),
        1 => prop::sample::select(vec![1u32, 7, 128, 4096, 65_536]).prop_map(Step::SetChunkSize),
    ]
}

/// Encodes the steps (a Set Chunk Size goes out with the old size, then the
/// encoder switches) and returns the wire bytes and the messages expected.
fn run_steps(chunk_size: u32, start: u32, steps: &[Step]) -> (BytesMut, Vec<RawMessage>) {
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(chunk_size).unwrap();
    let mut out = ChunkOutput::new();
    let mut last = std::collections::HashMap::new();
    let mut msgs = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let m = match *s {
            Step::Msg {
                csid,
                type_id,
                msid,
                ts,
                len,
            } => {
                let prev = last.get(&csid).copied();
                let t = match (prev, ts) {
                    (None, _) => u64::from(start),
                    (Some(p), TsStep::Same) => p,
                    (Some(p), TsStep::Forward(d) | TsStep::Extended(d)) => p + d,
                    (Some(p), TsStep::Back(d)) => p.saturating_sub(d),
                };
                last.insert(csid, t);
                message(csid, type_id, msid, t, len + i % 3)
            }
            Step::SetChunkSize(size) => {
                let t = last.get(&2).copied().unwrap_or(0);
                last.insert(2, t);
                RawMessage {
                    chunk_stream_id: 2,
                    type_id: 1,
                    stream_id: 0,
                    timestamp: t,
                    payload: Bytes::copy_from_slice(&size.to_be_bytes()),
                }
            }
        };
        enc.try_encode(&m, &mut out).unwrap();
        if let Step::SetChunkSize(size) = *s {
            enc.set_chunk_size(size).unwrap();
        }
        msgs.push(m);
    }
    let mut wire = BytesMut::new();
    out.copy_to(&mut wire);
    (wire, msgs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_with_random_splits(
        chunk_size in prop::sample::select(vec![1u32, 128, 4096, 65_536]),
        start in prop_oneof![Just(0u32), Just(0xFFFF_FF00), any::<u32>()],
        steps in prop::collection::vec(step(), 1..40),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let (wire, msgs) = run_steps(chunk_size, start, &steps);
        let mut dec = ChunkDecoder::new();
        dec.set_chunk_size(chunk_size).unwrap();
        prop_assert_eq!(decode_split(&mut dec, &wire, &cuts), msgs);
    }

    #[test]
    fn round_trip_one_byte_at_a_time(
        chunk_size in prop::sample::select(vec![1u32, 128, 4096]),
        start in any::<u32>(),
        steps in prop::collection::vec(step(), 1..8),
    ) {
        let (wire, msgs) = run_steps(chunk_size, start, &steps);
        let cuts: Vec<usize> = (0..wire.len()).collect();
        let mut dec = ChunkDecoder::new();
        dec.set_chunk_size(chunk_size).unwrap();
        prop_assert_eq!(decode_split(&mut dec, &wire, &cuts), msgs);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000), cut in any::<usize>()) {
        let mut dec = ChunkDecoder::new();
        let cut = cut % (data.len() + 1);
        let mut buf = BytesMut::from(&data[..cut]);
        let mut ok = true;
        while ok {
            match dec.decode(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) => ok = false,
                Err(_) => return Ok(()),
            }
        }
        buf.extend_from_slice(&data[cut..]);
        while let Ok(Some(_)) = dec.decode(&mut buf) {}
        prop_assert!(dec.buffered() <= 16 << 20);
    }
}
