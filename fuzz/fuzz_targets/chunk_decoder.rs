//! Chunk decoder on arbitrary bytes, fed in two pieces; decoded messages are
//! re-encoded and decoded again, and must come back equal.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, DecoderLimits, RawMessage};

/// Decodes until error or need-more; false on error.
fn drain(dec: &mut ChunkDecoder, buf: &mut BytesMut, out: &mut Vec<RawMessage>) -> bool {
    loop {
        match dec.decode(buf) {
            Ok(Some(m)) => out.push(m),
            Ok(None) => return true,
            Err(_) => return false,
        }
        assert!(dec.buffered() <= dec.limits().max_buffered);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let cut = usize::from(u16::from_le_bytes([data[0], data[1]])) % (data.len() - 1);
    let data = &data[2..];
    let cut = cut.min(data.len());
    let limits = DecoderLimits::default()
        .with_max_message_size(1 << 20)
        .with_max_buffered(1 << 20)
        .with_max_chunk_streams(16);
    let mut dec = ChunkDecoder::with_limits(limits);
    // Copying small messages out must not change what is decoded.
    dec.set_copy_below(usize::from(data.first().copied().unwrap_or(0)) * 64);
    let mut msgs = Vec::new();
    let mut buf = BytesMut::from(&data[..cut]);
    if drain(&mut dec, &mut buf, &mut msgs) {
        buf.extend_from_slice(&data[cut..]);
        drain(&mut dec, &mut buf, &mut msgs);
    }

    // Re-encode everything that was decoded, control messages included (an Abort's
    // timestamp moves its chunk stream's timeline), following Set Chunk Size as the
    // receiver does, and decode again.
    let mut enc = ChunkEncoder::new();
    let mut out = ChunkOutput::new();
    let mut expected = Vec::new();
    for m in &msgs {
        enc.encode(m, &mut out);
        expected.push(m.clone());
        if m.type_id == 1 {
            if let Some(&[a, b, c, d]) = m.payload.get(..4) {
                let _ = enc.set_chunk_size(u32::from_be_bytes([a, b, c, d]) & 0x7FFF_FFFF);
            }
        }
    }
    let mut wire = BytesMut::new();
    out.copy_to(&mut wire);
    let mut dec2 = ChunkDecoder::with_limits(limits);
    let mut again = Vec::new();
    assert!(
        drain(&mut dec2, &mut wire, &mut again),
        "re-encoded bytes must decode"
    );
    assert!(wire.is_empty());
    assert_eq!(again, expected);
});
