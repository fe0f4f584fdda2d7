//! Hostile inputs: every one ends in a clear error or bounded memory.

use bytes::{BufMut, BytesMut};
use rtmp_core::chunk::{
    ChunkDecoder, ChunkEncoder, ChunkError, ChunkOutput, DecoderLimits, RawMessage,
};

fn fmt0(out: &mut BytesMut, csid: u32, len: u32, type_id: u8) {
    match csid {
        2..=63 => out.put_u8(csid as u8),
        64..=319 => out.put_slice(&[0, (csid - 64) as u8]),
        _ => {
            out.put_u8(1);
            out.put_u16_le((csid - 64) as u16);
        }
    }
    out.put_uint(0, 3);
    out.put_uint(u64::from(len), 3);
    out.put_u8(type_id);
    out.put_u32_le(1);
}

#[test]
fn default_limits() {
    let l = DecoderLimits::default();
    assert_eq!(l.max_message_size, 8 << 20);
    assert_eq!(l.max_chunk_streams, 64);
    assert_eq!(l.max_buffered, 16 << 20);
    assert_eq!(ChunkDecoder::new().limits(), l);
}

#[test]
fn claimed_16_mib_message_is_rejected_by_default() {
    let mut input = BytesMut::new();
    fmt0(&mut input, 3, 0xFF_FFFF, 9);
    input.put_slice(&[0; 128]);
    let mut dec = ChunkDecoder::new();
    assert_eq!(
        dec.decode(&mut input),
        Err(ChunkError::MessageTooLarge {
            chunk_stream_id: 3,
            length: 0xFF_FFFF,
            limit: 8 << 20
        })
    );
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn claimed_16_mib_message_never_sent_stays_within_the_budget() {
    let limits = DecoderLimits::default()
        .with_max_message_size(0xFF_FFFF)
        .with_max_buffered(1 << 20);
    let mut dec = ChunkDecoder::with_limits(limits);
    let mut input = BytesMut::new();
    fmt0(&mut input, 3, 0xFF_FFFF, 9);
    input.put_slice(&[0; 128]);
    assert_eq!(dec.decode(&mut input), Ok(None));
    assert_eq!(dec.buffered(), 128);
    // Keep sending continuation chunks: the budget, not the claim, bounds memory.
    let mut err = None;
    for _ in 0..20_000 {
        input.put_u8(0xC3);
        input.put_slice(&[0; 128]);
        match dec.decode(&mut input) {
            Ok(None) => assert!(dec.buffered() <= 1 << 20),
            Ok(Some(_)) => panic!("message cannot be complete"),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert_eq!(err, Some(ChunkError::BufferLimit { limit: 1 << 20 }));
    assert!(dec.buffered() <= 1 << 20);
}

#[test]
fn many_partial_messages_share_one_budget() {
    let limits = DecoderLimits::default().with_max_buffered(64 << 10);
    let mut dec = ChunkDecoder::with_limits(limits);
    let mut input = BytesMut::new();
    let mut err = None;
    for csid in 3..64 {
        fmt0(&mut input, csid, 8 << 20, 9);
        input.put_slice(&[0; 128]);
        if let Err(e) = dec.decode(&mut input) {
            err = Some(e);
            break;
        }
    }
    // 61 streams x 128 bytes fit in 64 KiB: all accepted, each reserved within the budget.
    assert_eq!(err, None);
    assert_eq!(dec.buffered(), 61 * 128);
}

#[test]
fn the_budget_stops_a_run_of_chunks_at_the_chunk_that_passes_it() {
    let limits = DecoderLimits::default().with_max_buffered(300);
    let mut dec = ChunkDecoder::with_limits(limits);
    let mut input = BytesMut::new();
    fmt0(&mut input, 3, 1000, 9);
    input.put_slice(&[7; 128]);
    for _ in 0..7 {
        input.put_u8(0xC3); // type 3, csid 3
        input.put_slice(&[7; 128]);
    }
    let total = input.len();
    // Chunks 1 and 2 (256 bytes) fit; the third would hold 384 > 300.
    assert_eq!(
        dec.decode(&mut input),
        Err(ChunkError::BufferLimit { limit: 300 })
    );
    assert_eq!(
        total - input.len(),
        12 + 128 + 1 + 128,
        "consumed up to the third chunk"
    );
    assert_eq!(dec.buffered(), 256);
}

#[test]
fn opening_65599_chunk_streams_hits_the_limit() {
    let mut dec = ChunkDecoder::new();
    let mut input = BytesMut::new();
    let mut opened = 0;
    let mut result = Ok(());
    for csid in 2..=65_599 {
        fmt0(&mut input, csid, 1, 9);
        input.put_u8(0);
        match dec.decode(&mut input) {
            Ok(Some(_)) => opened += 1,
            Ok(None) => panic!("message is complete"),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    assert_eq!(opened, 64);
    assert_eq!(result, Err(ChunkError::TooManyChunkStreams { limit: 64 }));
    assert_eq!(dec.live_chunk_streams(), 64);
}

#[test]
fn chunk_stream_limit_is_configurable() {
    let mut dec = ChunkDecoder::with_limits(DecoderLimits::default().with_max_chunk_streams(3));
    let mut input = BytesMut::new();
    for csid in [3, 400, 5] {
        fmt0(&mut input, csid, 1, 9);
        input.put_u8(0);
    }
    fmt0(&mut input, 70, 1, 9);
    input.put_u8(0);
    for _ in 0..3 {
        assert!(dec.decode(&mut input).unwrap().is_some());
    }
    assert_eq!(
        dec.decode(&mut input),
        Err(ChunkError::TooManyChunkStreams { limit: 3 })
    );
}

#[test]
fn chunk_size_1_works() {
    let msgs: Vec<RawMessage> = (0..3u8)
        .map(|i| RawMessage {
            chunk_stream_id: 300,
            type_id: 9,
            stream_id: 1,
            timestamp: 0x0100_0000 * u64::from(i),
            payload: (0..5000u32)
                .map(|j| (j as u8) ^ i)
                .collect::<Vec<u8>>()
                .into(),
        })
        .collect();
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(1).unwrap();
    let mut out = ChunkOutput::new();
    for m in &msgs {
        enc.encode(m, &mut out);
    }
    let mut input = BytesMut::new();
    out.copy_to(&mut input);
    let mut dec = ChunkDecoder::new();
    dec.set_chunk_size(1).unwrap();
    let mut got = Vec::new();
    while let Some(m) = dec.decode(&mut input).unwrap() {
        got.push(m);
    }
    assert_eq!(got, msgs);
}

#[test]
fn set_chunk_size_0_and_too_large_are_errors() {
    for size in [0u32, 0x8000_0000] {
        let mut input = BytesMut::new();
        fmt0(&mut input, 2, 4, 1);
        input.put_u32(size);
        assert_eq!(
            ChunkDecoder::new().decode(&mut input),
            Err(ChunkError::InvalidChunkSize { size })
        );
    }
}

#[test]
fn zero_length_flood_makes_progress() {
    let mut input = BytesMut::new();
    fmt0(&mut input, 3, 0, 9);
    for _ in 0..10_000 {
        input.put_u8(0xC3);
    }
    let mut dec = ChunkDecoder::new();
    let mut n = 0;
    while let Some(m) = dec.decode(&mut input).unwrap() {
        assert!(m.payload.is_empty());
        n += 1;
    }
    assert_eq!(n, 10_001);
    assert!(input.is_empty());
}
