//! Quick encoder -> decoder smoke test.

use bytes::{Bytes, BytesMut};
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, RawMessage};

#[test]
fn smoke() {
    let mut enc = ChunkEncoder::new();
    let mut out = ChunkOutput::new();
    let msgs: Vec<RawMessage> = [
        (3u32, 0u64, 10usize),
        (3, 40, 10),
        (3, 80, 10),
        (64, 5, 300),
        (64, 0x1_0000_0000, 300),
        (320, 0xFFFF_FF00, 1000),
    ]
    .iter()
    .map(|&(c, t, n)| RawMessage {
        chunk_stream_id: c,
        type_id: 9,
        stream_id: 1,
        timestamp: t,
        payload: Bytes::from(vec![7u8; n]),
    })
    .collect();
    for m in &msgs {
        enc.encode(m, &mut out);
    }
    let mut buf = BytesMut::new();
    out.copy_to(&mut buf);
    let mut dec = ChunkDecoder::new();
    let mut got = vec![];
    while let Some(m) = dec.decode(&mut buf).unwrap() {
        got.push(m);
    }
    assert_eq!(got.len(), msgs.len());
    assert_eq!(got[..4], msgs[..4]);
    assert_eq!(got[5], msgs[5]);
}
