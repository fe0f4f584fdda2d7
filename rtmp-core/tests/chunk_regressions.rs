//! Inputs the fuzzers found, kept as regression tests (the same checks as
//! `fuzz/fuzz_targets/chunk_decoder.rs`).

use bytes::BytesMut;
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, DecoderLimits, RawMessage};

fn drain(decoder: &mut ChunkDecoder, input: &mut BytesMut, out: &mut Vec<RawMessage>) -> bool {
    loop {
        match decoder.decode(input) {
            Ok(Some(message)) => out.push(message),
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// After sending a Set Chunk Size, the sender uses the new size, as the receiver does.
fn follow_set_chunk_size(encoder: &mut ChunkEncoder, message: &RawMessage) {
    if message.type_id == 1 {
        if let Some(&[a, b, c, d]) = message.payload.get(..4) {
            let _ = encoder.set_chunk_size(u32::from_be_bytes([a, b, c, d]) & 0x7FFF_FFFF);
        }
    }
}

/// Decodes `data` (split where its first two bytes say), re-encodes what came out and
/// decodes that again: the messages must come back equal, timestamps included.
fn reencode_round_trip(data: &[u8]) {
    let cut = usize::from(u16::from_le_bytes([data[0], data[1]])) % (data.len() - 1);
    let data = &data[2..];
    let cut = cut.min(data.len());
    let limits = DecoderLimits::default()
        .with_max_message_size(1 << 20)
        .with_max_buffered(1 << 20)
        .with_max_chunk_streams(16);
    let mut decoder = ChunkDecoder::with_limits(limits);
    let mut messages = Vec::new();
    let mut input = BytesMut::from(&data[..cut]);
    if drain(&mut decoder, &mut input, &mut messages) {
        input.extend_from_slice(&data[cut..]);
        drain(&mut decoder, &mut input, &mut messages);
    }
    let mut encoder = ChunkEncoder::new();
    let mut output = ChunkOutput::new();
    let mut expected = Vec::new();
    for message in &messages {
        encoder.encode(message, &mut output);
        expected.push(message.clone());
        follow_set_chunk_size(&mut encoder, message);
    }
    let mut wire = BytesMut::new();
    output.copy_to(&mut wire);
    let mut again = Vec::new();
    assert!(drain(
        &mut ChunkDecoder::with_limits(limits),
        &mut wire,
        &mut again
    ));
    let summary = |m: &[RawMessage]| -> Vec<(u32, u8, u32, u64, usize)> {
        m.iter()
            .map(|m| {
                (
                    m.chunk_stream_id,
                    m.type_id,
                    m.stream_id,
                    m.timestamp,
                    m.payload.len(),
                )
            })
            .collect()
    };
    assert_eq!(summary(&again), summary(&expected));
    assert_eq!(again, expected);
}

/// Abort messages carry timestamps too: they move their chunk stream's timeline, so a
/// re-encoding that leaves them out (as the fuzz target once did) decodes the next
/// delta from another base. Every message is re-encoded now.
#[test]
fn control_messages_move_their_chunk_streams_timeline() {
    reencode_round_trip(include_bytes!("data/fuzz/chunk_reencode_timestamp.bin"));
}
