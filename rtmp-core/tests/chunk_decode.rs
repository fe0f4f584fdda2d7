//! Decoder behaviour on hand-built chunk bytes.

use bytes::{BufMut, Bytes, BytesMut};
use rtmp_core::chunk::{ChunkDecoder, ChunkError, RawMessage};

/// Builds chunk bytes by hand.
#[derive(Default)]
struct Wire(BytesMut);

impl Wire {
    fn basic(&mut self, fmt: u8, csid: u32) -> &mut Self {
        let f = fmt << 6;
        match csid {
            2..=63 => self.0.put_u8(f | csid as u8),
            64..=319 => self.0.put_slice(&[f, (csid - 64) as u8]),
            _ => {
                self.0.put_u8(f | 1);
                self.0.put_u16_le((csid - 64) as u16);
            }
        }
        self
    }
    fn u24(&mut self, v: u32) -> &mut Self {
        self.0.put_uint(u64::from(v), 3);
        self
    }
    /// Type-0 header; `ts` above 0xFFFFFE is written as an extended timestamp.
    fn fmt0(&mut self, csid: u32, ts: u32, len: u32, type_id: u8, msid: u32) -> &mut Self {
        self.basic(0, csid).u24(ts.min(0xFF_FFFF)).u24(len);
        self.0.put_u8(type_id);
        self.0.put_u32_le(msid);
        self.ext(ts)
    }
    fn fmt1(&mut self, csid: u32, delta: u32, len: u32, type_id: u8) -> &mut Self {
        self.basic(1, csid).u24(delta.min(0xFF_FFFF)).u24(len);
        self.0.put_u8(type_id);
        self.ext(delta)
    }
    fn fmt2(&mut self, csid: u32, delta: u32) -> &mut Self {
        self.basic(2, csid).u24(delta.min(0xFF_FFFF)).ext(delta)
    }
    fn fmt3(&mut self, csid: u32) -> &mut Self {
        self.basic(3, csid)
    }
    fn ext(&mut self, v: u32) -> &mut Self {
        if v >= 0xFF_FFFF {
            self.0.put_u32(v);
        }
        self
    }
    fn raw32(&mut self, v: u32) -> &mut Self {
        self.0.put_u32(v);
        self
    }
    fn payload(&mut self, p: &[u8]) -> &mut Self {
        self.0.put_slice(p);
        self
    }
    fn take(&mut self) -> BytesMut {
        std::mem::take(&mut self.0)
    }
}

fn body(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn decode_all(dec: &mut ChunkDecoder, mut input: BytesMut) -> Vec<RawMessage> {
    let mut out = Vec::new();
    while let Some(m) = dec.decode(&mut input).expect("decode") {
        out.push(m);
    }
    assert!(input.is_empty(), "{} bytes left over", input.len());
    out
}

/// Decodes one byte at a time.
fn decode_bytewise(dec: &mut ChunkDecoder, input: &[u8]) -> Vec<RawMessage> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for &b in input {
        buf.put_u8(b);
        while let Some(m) = dec.decode(&mut buf).expect("decode") {
            out.push(m);
        }
    }
    assert!(buf.is_empty());
    out
}

fn msg(csid: u32, type_id: u8, msid: u32, ts: u64, p: &[u8]) -> RawMessage {
    RawMessage {
        chunk_stream_id: csid,
        type_id,
        stream_id: msid,
        timestamp: ts,
        payload: Bytes::copy_from_slice(p),
    }
}

#[test]
fn every_basic_header_size() {
    for csid in [2, 63, 64, 319, 320, 65_599] {
        let p = body(300, 1);
        let mut w = Wire::default();
        w.fmt0(csid, 7, 300, 9, 1).payload(&p[..128]);
        w.fmt3(csid).payload(&p[128..256]);
        w.fmt3(csid).payload(&p[256..]);
        let bytes = w.take();
        let want = vec![msg(csid, 9, 1, 7, &p)];
        assert_eq!(decode_all(&mut ChunkDecoder::new(), bytes.clone()), want);
        assert_eq!(decode_bytewise(&mut ChunkDecoder::new(), &bytes), want);
    }
}

#[test]
fn header_types_carry_and_repeat_fields() {
    let (a, b, c) = (body(10, 1), body(20, 2), body(20, 3));
    let mut w = Wire::default();
    w.fmt0(5, 1000, 10, 8, 1).payload(&a);
    w.fmt1(5, 33, 20, 9).payload(&b); // new length and type, msid kept
    w.fmt2(5, 40).payload(&c); // new delta
    w.fmt3(5).payload(&c); // repeats delta 40
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    assert_eq!(
        got,
        vec![
            msg(5, 8, 1, 1000, &a),
            msg(5, 9, 1, 1033, &b),
            msg(5, 9, 1, 1073, &c),
            msg(5, 9, 1, 1113, &c),
        ]
    );
}

#[test]
fn extended_timestamp_type0_with_and_without_repeat_on_type3() {
    let ts = 0x0123_4567;
    let p = body(300, 9);
    // With the 4-byte extended timestamp repeated on each type-3 chunk (FFmpeg, librtmp).
    let mut w = Wire::default();
    w.fmt0(3, ts, 300, 9, 1).payload(&p[..128]);
    w.fmt3(3).raw32(ts).payload(&p[128..256]);
    w.fmt3(3).raw32(ts).payload(&p[256..]);
    let with = w.take();
    // Without it (some encoders).
    w.fmt0(3, ts, 300, 9, 1).payload(&p[..128]);
    w.fmt3(3).payload(&p[128..256]);
    w.fmt3(3).payload(&p[256..]);
    let without = w.take();
    assert_eq!(with.len(), without.len() + 8);
    let want = vec![msg(3, 9, 1, u64::from(ts), &p)];
    for bytes in [with, without] {
        assert_eq!(decode_all(&mut ChunkDecoder::new(), bytes.clone()), want);
        assert_eq!(decode_bytewise(&mut ChunkDecoder::new(), &bytes), want);
    }
}

#[test]
fn extended_timestamp_boundary_value() {
    // 0xFFFFFF itself must be sent as an extended timestamp.
    let mut w = Wire::default();
    w.fmt0(3, 0xFF_FFFF, 4, 9, 1).payload(b"abcd");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    assert_eq!(got, vec![msg(3, 9, 1, 0xFF_FFFF, b"abcd")]);
}

#[test]
fn extended_delta_types_1_and_2() {
    let d1 = 0x0100_0000;
    let d2 = 0x00FF_FFFF;
    let p = body(200, 4);
    let mut w = Wire::default();
    w.fmt0(4, 1000, 10, 9, 1).payload(&p[..10]);
    w.fmt1(4, d1, 200, 9).payload(&p[..128]);
    w.fmt3(4).raw32(d1).payload(&p[128..]);
    w.fmt2(4, d2).payload(&p[..128]);
    w.fmt3(4).payload(&p[128..]); // repeat omitted this time
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let t1 = 1000 + u64::from(d1);
    let t2 = t1 + u64::from(d2);
    assert_eq!(
        got,
        vec![
            msg(4, 9, 1, 1000, &p[..10]),
            msg(4, 9, 1, t1, &p),
            msg(4, 9, 1, t2, &p)
        ]
    );
}

#[test]
fn type3_new_message_adds_the_previous_delta() {
    let p = body(6, 5);
    let mut w = Wire::default();
    w.fmt0(6, 1000, 6, 8, 1).payload(&p);
    w.fmt2(6, 23).payload(&p);
    w.fmt3(6).payload(&p);
    w.fmt3(6).payload(&p);
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [1000, 1023, 1046, 1069]);
    assert!(got
        .iter()
        .all(|m| m.type_id == 8 && m.stream_id == 1 && m.payload == p));
}

#[test]
fn type3_new_message_after_type0_adds_its_timestamp_field() {
    // FFmpeg, librtmp and SRS read the type-0 timestamp field as the delta.
    let mut w = Wire::default();
    w.fmt0(6, 40, 1, 8, 1).payload(b"x");
    w.fmt3(6).payload(b"y");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    assert_eq!(got[1].timestamp, 80);
}

#[test]
fn type3_new_message_with_extended_delta_with_and_without_repeat() {
    let d = 0x0200_0000;
    let p = body(4, 6);
    let mut w = Wire::default();
    w.fmt0(7, 10, 4, 9, 1).payload(&p);
    w.fmt2(7, d).payload(&p);
    w.fmt3(7).raw32(d).payload(&p); // repeated
    w.fmt3(7).payload(&p); // omitted
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    let d = u64::from(d);
    assert_eq!(ts, [10, 10 + d, 10 + 2 * d, 10 + 3 * d]);
    assert!(got.iter().all(|m| m.payload == p));
}

#[test]
fn type3_repeat_holding_the_absolute_timestamp_is_accepted() {
    // Some encoders repeat the message's absolute timestamp instead of the delta.
    let d = 0x0100_0000;
    let p = body(200, 7);
    let mut w = Wire::default();
    w.fmt0(8, 5, 1, 9, 1).payload(&p[..1]);
    w.fmt1(8, d, 200, 9).payload(&p[..128]);
    w.fmt3(8).raw32(5 + d).payload(&p[128..]);
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    assert_eq!(got[1], msg(8, 9, 1, 5 + u64::from(d), &p));
}

#[test]
fn wrap_32_bit_onto_64_bit_timeline() {
    let mut w = Wire::default();
    w.fmt0(3, 0xFFFF_FF00, 1, 9, 1).payload(b"a");
    w.fmt0(3, 0x0000_0100, 1, 9, 1).payload(b"b");
    w.fmt2(3, 0x100).payload(b"c");
    w.fmt0(3, 0xFFFF_FFF0, 1, 9, 1).payload(b"d"); // back 0x210: stays a step back
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [0xFFFF_FF00, 0x1_0000_0100, 0x1_0000_0200, 0xFFFF_FFF0]);
}

#[test]
fn wrap_through_a_delta() {
    let mut w = Wire::default();
    w.fmt0(3, 0xFFFF_FF00, 1, 9, 1).payload(b"a");
    w.fmt2(3, 0x200).payload(b"b");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    assert_eq!(got[1].timestamp, 0x1_0000_0100);
}

#[test]
fn backward_step_stays_backward() {
    let mut w = Wire::default();
    w.fmt0(3, 5000, 1, 9, 1).payload(b"a");
    w.fmt0(3, 4000, 1, 9, 1).payload(b"b");
    w.fmt0(3, 0, 1, 9, 1).payload(b"c");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [5000, 4000, 0]);
}

#[test]
fn chunk_streams_have_their_own_timelines() {
    let mut w = Wire::default();
    w.fmt0(4, 0xFFFF_FFF0, 1, 8, 1).payload(b"a");
    w.fmt0(6, 10, 1, 9, 1).payload(b"b");
    w.fmt2(4, 0x20).payload(b"c");
    w.fmt2(6, 0x20).payload(b"d");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<(u32, u64)> = got
        .iter()
        .map(|m| (m.chunk_stream_id, m.timestamp))
        .collect();
    assert_eq!(
        ts,
        [
            (4, 0xFFFF_FFF0),
            (6, 10),
            (4, 0x1_0000_0010),
            (6, 10 + 0x20)
        ]
    );
}

#[test]
fn interleaved_chunk_streams() {
    let a = body(300, 1);
    let v = body(200, 2);
    let mut w = Wire::default();
    w.fmt0(4, 0, 300, 8, 1).payload(&a[..128]);
    w.fmt0(6, 0, 200, 9, 1).payload(&v[..128]);
    w.fmt3(4).payload(&a[128..256]);
    w.fmt3(6).payload(&v[128..]);
    w.fmt3(4).payload(&a[256..]);
    let bytes = w.take();
    let want = vec![msg(6, 9, 1, 0, &v), msg(4, 8, 1, 0, &a)];
    assert_eq!(decode_all(&mut ChunkDecoder::new(), bytes.clone()), want);
    assert_eq!(decode_bytewise(&mut ChunkDecoder::new(), &bytes), want);
}

#[test]
fn set_chunk_size_is_applied_mid_buffer() {
    let p = body(1000, 3);
    let mut w = Wire::default();
    w.fmt0(2, 0, 4, 1, 0).raw32(4096);
    w.fmt0(3, 0, 1000, 20, 0).payload(&p); // one chunk at the new size
    let mut dec = ChunkDecoder::new();
    let got = decode_all(&mut dec, w.take());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].type_id, 1);
    assert_eq!(&got[0].payload[..], &4096u32.to_be_bytes());
    assert_eq!(got[1].payload, p);
    assert_eq!(dec.chunk_size(), 4096);
}

#[test]
fn invalid_set_chunk_size_is_rejected() {
    for size in [0, 0x8000_0000, u32::MAX] {
        let mut w = Wire::default();
        w.fmt0(2, 0, 4, 1, 0).raw32(size);
        let mut dec = ChunkDecoder::new();
        assert_eq!(
            dec.decode(&mut w.take()),
            Err(ChunkError::InvalidChunkSize { size })
        );
        assert_eq!(dec.chunk_size(), 128);
        assert_eq!(
            dec.set_chunk_size(size),
            Err(ChunkError::InvalidChunkSize { size })
        );
    }
    let mut dec = ChunkDecoder::new();
    assert_eq!(dec.set_chunk_size(0x7FFF_FFFF), Ok(()));
    assert_eq!(dec.set_chunk_size(1), Ok(()));
    let mut w = Wire::default();
    w.fmt0(2, 0, 2, 1, 0).payload(&[0, 1]);
    let mut dec = ChunkDecoder::new();
    assert!(matches!(
        dec.decode(&mut w.take()),
        Err(ChunkError::ShortControlMessage {
            chunk_stream_id: 2,
            type_id: 1,
            length: 2
        })
    ));
}

#[test]
fn abort_discards_a_partial_message() {
    let p = body(300, 8);
    let mut w = Wire::default();
    w.fmt0(4, 0, 300, 9, 1).payload(&p[..128]);
    let mut dec = ChunkDecoder::new();
    assert_eq!(dec.decode(&mut w.take()), Ok(None));
    assert_eq!(dec.buffered(), 128);
    w.fmt0(2, 0, 4, 2, 0).raw32(4); // Abort chunk stream 4
    let abort = dec.decode(&mut w.take()).unwrap().unwrap();
    assert_eq!(abort.type_id, 2);
    assert_eq!(dec.buffered(), 0);
    // Chunk stream 4 starts over; its header state survives, so type 1 works.
    w.fmt1(4, 10, 3, 9).payload(b"new");
    let got = dec.decode(&mut w.take()).unwrap().unwrap();
    assert_eq!(got, msg(4, 9, 1, 10, b"new"));
    // Abort of an unknown or idle chunk stream is harmless.
    w.fmt0(2, 0, 4, 2, 0).raw32(60_000);
    w.fmt0(2, 0, 4, 2, 0).raw32(4);
    assert_eq!(decode_all(&mut dec, w.take()).len(), 2);
}

#[test]
fn state_after_a_message_allows_types_1_2_3() {
    let mut w = Wire::default();
    w.fmt0(300, 100, 3, 8, 1).payload(b"abc");
    w.fmt1(300, 1, 2, 9).payload(b"de");
    w.fmt2(300, 2).payload(b"fg");
    w.fmt3(300).payload(b"hi");
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [100, 101, 103, 105]);
}

#[test]
fn headers_without_history_are_rejected() {
    for fmt in 1..4u8 {
        for csid in [3, 100, 1000] {
            let mut w = Wire::default();
            w.basic(fmt, csid).payload(&[0; 16]);
            let err = ChunkDecoder::new().decode(&mut w.take());
            assert_eq!(
                err,
                Err(ChunkError::NoPreviousHeader {
                    chunk_stream_id: csid,
                    fmt
                })
            );
        }
    }
}

#[test]
fn a_new_header_inside_a_message_is_rejected() {
    let mut w = Wire::default();
    w.fmt0(4, 0, 300, 9, 1).payload(&body(128, 0));
    w.fmt1(4, 0, 10, 9).payload(&body(10, 0));
    let mut dec = ChunkDecoder::new();
    let mut input = w.take();
    assert!(matches!(
        dec.decode(&mut input),
        Err(ChunkError::InterruptedMessage {
            chunk_stream_id: 4,
            fmt: 1,
            received: 128,
            length: 300
        })
    ));
}

#[test]
fn partial_headers_are_not_consumed() {
    let mut w = Wire::default();
    w.fmt0(320, 0xFFFF_FFFF, 2, 9, 1).payload(b"ok");
    let all = w.take();
    for cut in 0..all.len() {
        let mut dec = ChunkDecoder::new();
        let mut input = BytesMut::from(&all[..cut]);
        assert_eq!(dec.decode(&mut input), Ok(None));
        assert_eq!(input.len(), cut, "cut {cut}");
        input.extend_from_slice(&all[cut..]);
        let m = dec.decode(&mut input).unwrap().unwrap();
        assert_eq!(m, msg(320, 9, 1, 0xFFFF_FFFF, b"ok"));
    }
}

#[test]
fn single_chunk_messages_are_slices_of_the_input() {
    let mut w = Wire::default();
    w.fmt0(3, 0, 100, 9, 1).payload(&body(100, 0));
    w.fmt2(3, 5).payload(&body(100, 1));
    let mut input = w.take();
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let mut dec = ChunkDecoder::new();
    for _ in 0..2 {
        let m = dec.decode(&mut input).unwrap().unwrap();
        assert!(range.contains(&(m.payload.as_ptr() as usize)));
    }
}

#[test]
fn empty_messages() {
    let mut w = Wire::default();
    w.fmt0(3, 0, 0, 9, 1);
    w.fmt3(3);
    w.fmt2(3, 7);
    let got = decode_all(&mut ChunkDecoder::new(), w.take());
    let ts: Vec<u64> = got.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [0, 0, 7]);
    assert!(got.iter().all(|m| m.payload.is_empty()));
}

#[test]
fn small_single_chunk_messages_are_copied_out_when_asked() {
    let (small, large) = (body(100, 3), body(120, 4));
    let mut w = Wire::default();
    w.fmt0(4, 0, 100, 9, 1).payload(&small);
    w.fmt0(4, 10, 120, 9, 1).payload(&large);
    let wire = w.take();
    for copy_below in [0, 100] {
        let mut dec = ChunkDecoder::new();
        dec.set_copy_below(copy_below);
        let mut input = BytesMut::from(&wire[..]);
        let buffer = input.as_ptr() as usize..input.as_ptr() as usize + input.capacity();
        let first = dec.decode(&mut input).expect("decode").expect("a message");
        let second = dec.decode(&mut input).expect("decode").expect("a message");
        assert_eq!(first, msg(4, 9, 1, 0, &small));
        assert_eq!(second, msg(4, 9, 1, 10, &large));
        // Up to the bound a copy of its own; past it (and with 0) a slice of
        // the input's buffer.
        let sliced = |m: &RawMessage| buffer.contains(&(m.payload.as_ptr() as usize));
        assert_eq!(
            (sliced(&first), sliced(&second)),
            (copy_below == 0, true),
            "copy_below {copy_below}"
        );
    }
}
