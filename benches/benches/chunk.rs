//! Chunk codec throughput: `rtmp_core` against `rml_rtmp` and `scuffle-rtmp` on the
//! same bytes (what FFmpeg 9 sends after the handshake when publishing
//! `bench_720p30.flv`, at chunk size 4096 and re-chunked at 128), plus a memcpy
//! baseline. Before measuring it checks that every decoder returns the same
//! messages and timestamps, ties ours to the FLV file's tags, and counts
//! allocations per message. See benches/README.md.

mod common;

use common::alloc::allocs;

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput};
use md5::{Digest, Md5};
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, RawMessage};

// ---- feeding the decoders -----------------------------------------------------------------

/// Bytes handed to a decoder at a time, as one socket read would.
///
/// Every decoder gets the capture as `&[u8]` pieces of this size and copies each
/// once into its own buffer: `rtmp_core` and `scuffle-rtmp` take a caller's
/// `BytesMut` (`extend_from_slice` into one reused buffer), `rml_rtmp` takes a
/// slice and copies it into its internal buffer itself.
const READ: usize = 64 * 1024;

const TYPE_SET_CHUNK_SIZE: u8 = 1;

/// The prefix decoded again and again for the in-cache figures: 1 MiB.
const CACHED: usize = 1 << 20;

fn chunk_size_of(payload: &[u8]) -> u32 {
    payload
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b))
}

/// Decodes all of `data` with `rtmp_core`; `f(type, stream id, timestamp, payload)`.
#[inline(always)]
fn decode_ours(data: &[u8], mut f: impl FnMut(u8, u32, u64, &Bytes)) {
    let mut dec = ChunkDecoder::new();
    let mut buf = BytesMut::with_capacity(2 * READ);
    for piece in data.chunks(READ) {
        buf.extend_from_slice(piece);
        // The decoder applies Set Chunk Size itself.
        while let Some(m) = dec.decode(&mut buf).expect("rtmp_core decode") {
            f(m.type_id, m.stream_id, m.timestamp, &m.payload);
        }
    }
    assert!(buf.is_empty(), "rtmp_core: {} bytes left over", buf.len());
}

/// Decodes all of `data` with `rml_rtmp`'s `ChunkDeserializer`.
///
/// Like `rml_rtmp`'s own `ServerSession`, the caller applies a Set Chunk Size
/// message (`set_max_chunk_size`) before the next call.
#[inline(always)]
fn decode_rml(data: &[u8], mut f: impl FnMut(u8, u32, u64, &Bytes)) {
    let mut dec = rml_rtmp::chunk_io::ChunkDeserializer::new();
    for piece in data.chunks(READ) {
        let mut input = piece;
        while let Some(m) = dec.get_next_message(input).expect("rml_rtmp decode") {
            input = &[];
            if m.type_id == TYPE_SET_CHUNK_SIZE {
                dec.set_max_chunk_size(chunk_size_of(&m.data) as usize)
                    .expect("rml_rtmp chunk size");
            }
            f(
                m.type_id,
                m.message_stream_id,
                u64::from(m.timestamp.value),
                &m.data,
            );
        }
    }
}

/// Decodes all of `data` with `scuffle-rtmp`'s `ChunkReader`.
///
/// Like `scuffle-rtmp`'s own `ServerSession`, the caller applies a Set Chunk
/// Size message (`update_max_chunk_size`) before reading on.
#[inline(always)]
fn decode_scuffle(data: &[u8], mut f: impl FnMut(u8, u32, u64, &Bytes)) {
    let mut dec = scuffle_rtmp::chunk::reader::ChunkReader::default();
    let mut buf = BytesMut::with_capacity(2 * READ);
    for piece in data.chunks(READ) {
        buf.extend_from_slice(piece);
        while let Some(c) = dec.read_chunk(&mut buf).expect("scuffle_rtmp decode") {
            let h = &c.message_header;
            let t = h.msg_type_id.0;
            if t == TYPE_SET_CHUNK_SIZE {
                assert!(dec.update_max_chunk_size(chunk_size_of(&c.payload) as usize));
            }
            f(t, h.msg_stream_id, u64::from(h.timestamp), &c.payload);
        }
    }
    assert!(
        buf.is_empty(),
        "scuffle_rtmp: {} bytes left over",
        buf.len()
    );
}

// ---- correctness check ----------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq, Debug)]
struct Rec {
    type_id: u8,
    stream_id: u32,
    timestamp: u64,
    len: usize,
    md5: [u8; 16],
}

/// For Set Chunk Size only the type and timestamp count (its value is the
/// chunk size of the file), as in `tools/rtmp_dump_chunks.py --summary`.
fn rec(type_id: u8, stream_id: u32, timestamp: u64, payload: &[u8]) -> Rec {
    let (len, md5) = if type_id == TYPE_SET_CHUNK_SIZE {
        (0, [0; 16])
    } else {
        (payload.len(), Md5::digest(payload).into())
    };
    Rec {
        type_id,
        stream_id,
        timestamp,
        len,
        md5,
    }
}

/// `msgs` with the Set Chunk Size value set to `size`.
fn at_chunk_size(msgs: &[RawMessage], size: u32) -> Vec<RawMessage> {
    let mut v = msgs.to_vec();
    for m in &mut v {
        if m.type_id == TYPE_SET_CHUNK_SIZE {
            m.payload = Bytes::copy_from_slice(&size.to_be_bytes());
        }
    }
    v
}

/// A decoder under test: feeds the bytes, calls back with (type, stream id, timestamp, payload).
type DecodeFn = fn(&[u8], &mut dyn FnMut(u8, u32, u64, &Bytes));

/// The reference walker's messages, each payload hashed over its chunk bodies.
fn walker_records(data: &[u8]) -> Vec<Rec> {
    let mut v = Vec::new();
    let read = common::walker::walk(data, |type_id, stream_id, timestamp, pieces| {
        let joined: Vec<u8> = pieces.concat();
        v.push(rec(type_id, stream_id, timestamp, &joined));
    });
    assert_eq!(read, data.len(), "the reference walker stopped early");
    v
}

fn records(decode: DecodeFn, data: &[u8]) -> Vec<Rec> {
    let mut v = Vec::new();
    decode(data, &mut |t, s, ts, p| v.push(rec(t, s, ts, p)));
    v
}

/// Compares a peer's message list with ours and prints one line.
fn compare(peer: &str, at: u32, ours: &[Rec], theirs: &[Rec]) {
    let n = ours.len().min(theirs.len());
    let pairs = || ours.iter().zip(theirs);
    let ts = pairs().filter(|(a, b)| a.timestamp != b.timestamp).count();
    let hdr = pairs()
        .filter(|(a, b)| a.type_id != b.type_id || a.stream_id != b.stream_id)
        .count();
    let pay = pairs()
        .filter(|(a, b)| (a.len, a.md5) != (b.len, b.md5))
        .count();
    let count = if ours.len() == theirs.len() {
        String::new()
    } else {
        format!(
            " MESSAGE COUNT {} vs {} (compared the first {n});",
            theirs.len(),
            ours.len()
        )
    };
    let what = |k: usize, s: &str| {
        if k == 0 {
            format!("{s} identical")
        } else {
            format!("{k} {s} differ")
        }
    };
    println!(
        "check @{at}: {peer}:{count} {ts} of {} timestamps differ from rtmp_core; {}; {}",
        ours.len(),
        what(hdr, "type/stream ids"),
        what(pay, "payloads")
    );
    if let Some((i, (a, b))) = pairs()
        .enumerate()
        .find(|(_, (a, b))| a.timestamp != b.timestamp)
    {
        println!(
            "    first timestamp difference: message #{i} type {} ours {} {peer} {}",
            a.type_id, a.timestamp, b.timestamp
        );
    }
}

/// An FLV tag: type, 32-bit timestamp, body.
struct Tag<'a> {
    type_id: u8,
    timestamp: u32,
    body: &'a [u8],
}

/// Minimal FLV reader for the oracle (header, then tag + previous-tag-size).
fn flv_tags(d: &[u8]) -> Result<Vec<Tag<'_>>, String> {
    if d.len() < 13 || &d[..3] != b"FLV" {
        return Err("not an FLV file".into());
    }
    let header = u32::from_be_bytes([d[5], d[6], d[7], d[8]]) as usize;
    let mut off = header + 4;
    let mut tags = Vec::new();
    while off < d.len() {
        let h = d.get(off..off + 11).ok_or("truncated tag header")?;
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let body = d
            .get(off + 11..off + 11 + size)
            .ok_or("truncated tag body")?;
        tags.push(Tag {
            type_id: h[0] & 0x1F,
            timestamp,
            body,
        });
        off += 11 + size + 4;
    }
    Ok(tags)
}

/// AMF0 string `@setDataFrame`: what a publisher puts before the script tag body.
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// Whether two onMetaData bodies match except for `duration` and `filesize`,
/// which FFmpeg's FLV muxer patches in at the end of a seekable file and leaves
/// 0 on a live stream.
fn metadata_matches(stream: &[u8], file: &[u8]) -> bool {
    let (Ok(a), Ok(b)) = (
        amf0::decode_all(&Bytes::copy_from_slice(stream)),
        amf0::decode_all(&Bytes::copy_from_slice(file)),
    ) else {
        return false;
    };
    let props = |v: &[amf0::Value]| match v.get(1) {
        Some(amf0::Value::EcmaArray { properties, .. }) => Some(properties.clone()),
        Some(amf0::Value::Object(o)) => Some(o.clone()),
        _ => None,
    };
    let (Some(pa), Some(pb)) = (props(&a), props(&b)) else {
        return false;
    };
    let keep = |o: &amf0::Object| {
        o.iter()
            .filter(|(k, _)| !matches!(k.as_bytes(), b"duration" | b"filesize"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    a.first() == b.first() && keep(&pa) == keep(&pb)
}

/// Compares our message list with the FLV file's tags.
fn check_flv(ours: &[Rec], msgs: &[RawMessage], flv: &[u8]) {
    let tags = match flv_tags(flv) {
        Ok(t) => t,
        Err(e) => {
            println!("check flv: cannot read bench_720p30.flv: {e}");
            return;
        }
    };
    let media: Vec<usize> = (0..ours.len())
        .filter(|&i| matches!(ours[i].type_id, 8 | 9 | 18))
        .collect();
    let mut bad = 0usize;
    let mut first = None;
    for (k, (&i, tag)) in media.iter().zip(&tags).enumerate() {
        let r = &ours[i];
        let ok = r.type_id == tag.type_id
            && r.timestamp == u64::from(tag.timestamp)
            && if r.type_id == 18 {
                let p = &msgs[i].payload;
                p.starts_with(SET_DATA_FRAME)
                    && metadata_matches(&p[SET_DATA_FRAME.len()..], tag.body)
            } else {
                (r.len, r.md5) == (tag.body.len(), Md5::digest(tag.body).into())
            };
        if !ok {
            bad += 1;
            first.get_or_insert(k);
        }
    }
    bad += media.len().abs_diff(tags.len());
    println!(
        "check flv: rtmp_core @4096 vs bench_720p30.flv: {} media messages, {} tags, {bad} mismatches \
         (type, timestamp, payload md5; onMetaData after @setDataFrame, duration/filesize excepted){}",
        media.len(),
        tags.len(),
        first.map_or(String::new(), |k| format!("; first at media message #{k}"))
    );
}

/// Allocations per message of our decoder, split by single- and multi-chunk
/// messages: each message is charged the allocations made inside `decode`
/// calls since the previous message (the copy into the read buffer is not
/// the decoder's and is left out).
fn alloc_report(data: &[u8], at: u32) -> (f64, f64) {
    let mut dec = ChunkDecoder::new();
    let mut buf = BytesMut::with_capacity(2 * READ);
    let (mut single, mut multi, mut a_single, mut a_multi) = (0u64, 0u64, 0u64, 0u64);
    let mut pending = 0u64;
    let mut chunk_size = 128usize;
    for piece in data.chunks(READ) {
        buf.extend_from_slice(piece);
        loop {
            let before = allocs();
            let m = dec.decode(&mut buf).expect("decode");
            pending += allocs() - before;
            let Some(m) = m else { break };
            if m.payload.len() <= chunk_size {
                single += 1;
                a_single += pending;
            } else {
                multi += 1;
                a_multi += pending;
            }
            pending = 0;
            if m.type_id == TYPE_SET_CHUNK_SIZE {
                chunk_size = chunk_size_of(&m.payload) as usize;
            }
            drop(m);
        }
    }
    let per = |a: u64, n: u64| if n == 0 { 0.0 } else { a as f64 / n as f64 };
    println!(
        "allocs @{at}: rtmp_core decode: {single} single-chunk messages, {a_single} allocations \
         ({:.3}/message); {multi} multi-chunk messages, {a_multi} allocations ({:.3}/message)",
        per(a_single, single),
        per(a_multi, multi)
    );
    (per(a_single, single), per(a_multi, multi))
}

/// Allocations per message of a whole decode run (feeding copies included).
fn alloc_total(name: &str, at: u32, data: &[u8], decode: DecodeFn) {
    let mut n = 0u64;
    let before = allocs();
    decode(data, &mut |_, _, _, p| {
        n += 1;
        black_box(p);
    });
    let a = allocs() - before;
    println!(
        "allocs @{at}: {name} whole run: {a} allocations for {n} messages ({:.2}/message)",
        a as f64 / n as f64
    );
}

// ---- encoders --------------------------------------------------------------------------------

fn encode_ours(msgs: &[RawMessage], chunk_size: u32, out: &mut ChunkOutput) {
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(chunk_size).expect("chunk size");
    for m in msgs {
        enc.encode(m, out);
    }
}

fn rml_payloads(msgs: &[RawMessage]) -> Vec<rml_rtmp::messages::MessagePayload> {
    msgs.iter()
        .map(|m| rml_rtmp::messages::MessagePayload {
            timestamp: rml_rtmp::time::RtmpTimestamp::new(m.timestamp as u32),
            type_id: m.type_id,
            message_stream_id: m.stream_id,
            data: m.payload.clone(),
        })
        .collect()
}

fn encode_rml(msgs: &[rml_rtmp::messages::MessagePayload], chunk_size: u32) -> usize {
    let mut enc = rml_rtmp::chunk_io::ChunkSerializer::new();
    let _ = enc
        .set_max_chunk_size(chunk_size, rml_rtmp::time::RtmpTimestamp::new(0))
        .expect("chunk size");
    let mut n = 0;
    for m in msgs {
        let p = enc.serialize(m, false, false).expect("rml_rtmp serialize");
        n += p.bytes.len();
        black_box(p);
    }
    n
}

fn scuffle_chunks(msgs: &[RawMessage]) -> Vec<scuffle_rtmp::chunk::Chunk> {
    msgs.iter()
        .map(|m| {
            scuffle_rtmp::chunk::Chunk::new(
                m.chunk_stream_id,
                m.timestamp as u32,
                scuffle_rtmp::messages::MessageType(m.type_id),
                m.stream_id,
                m.payload.clone(),
            )
        })
        .collect()
}

fn encode_scuffle(chunks: &[scuffle_rtmp::chunk::Chunk], chunk_size: u32, out: &mut Vec<u8>) {
    let mut w = scuffle_rtmp::chunk::writer::ChunkWriter::default();
    w.set_chunk_size(chunk_size as usize);
    for c in chunks {
        w.write_chunk(out, c.clone()).expect("scuffle_rtmp write");
    }
}

// ---- the run --------------------------------------------------------------------------------

struct Input {
    name: &'static str,
    chunk_size: u32,
    data: Vec<u8>,
}

const DECODERS: [(&str, DecodeFn); 3] = [
    ("rtmp_core/decode", |d, f| decode_ours(d, f)),
    ("rml_rtmp/decode", |d, f| decode_rml(d, f)),
    ("scuffle_rtmp/decode", |d, f| decode_scuffle(d, f)),
];

fn main() {
    let (Some(d4096), Some(d128)) = (
        common::load("publish_4096.bin"),
        common::load("publish_128.bin"),
    ) else {
        return;
    };
    let flv = common::load("bench_720p30.flv");
    let inputs = [
        Input {
            name: "4096",
            chunk_size: 4096,
            data: d4096,
        },
        Input {
            name: "128",
            chunk_size: 128,
            data: d128,
        },
    ];

    // 1. Correctness, before measuring.
    let mut msgs = Vec::new();
    decode_ours(&inputs[0].data, |t, s, ts, p| {
        msgs.push(RawMessage {
            chunk_stream_id: 0,
            type_id: t,
            stream_id: s,
            timestamp: ts,
            payload: p.clone(),
        })
    });
    // Chunk stream ids, for re-encoding as FFmpeg sent them.
    {
        let mut dec = ChunkDecoder::new();
        let mut buf = BytesMut::from(&inputs[0].data[..]);
        let mut i = 0;
        while let Some(m) = dec.decode(&mut buf).expect("decode") {
            msgs[i].chunk_stream_id = m.chunk_stream_id;
            i += 1;
        }
    }
    let mut reference: Option<Vec<Rec>> = None;
    for inp in &inputs {
        let ours = records(DECODERS[0].1, &inp.data);
        println!(
            "check @{}: rtmp_core: {} messages, {} payload bytes",
            inp.name,
            ours.len(),
            ours.iter().map(|r| r.len).sum::<usize>()
        );
        for (name, dec) in &DECODERS[1..] {
            let theirs = records(*dec, &inp.data);
            compare(
                name.split('/').next().unwrap_or(name),
                inp.chunk_size,
                &ours,
                &theirs,
            );
        }
        let walked = walker_records(&inp.data);
        println!(
            "check @{}: reference walker: {} messages, {}",
            inp.name,
            walked.len(),
            if walked == ours {
                "the same as rtmp_core's"
            } else {
                "DIFFERENT from rtmp_core's"
            }
        );
        match &reference {
            None => reference = Some(ours),
            Some(r) => println!(
                "check: rtmp_core @128 and @4096 decode {} messages",
                if *r == ours { "the same" } else { "DIFFERENT" }
            ),
        }
    }
    if let (Some(flv), Some(r)) = (&flv, &reference) {
        check_flv(r, &msgs, flv);
    }
    let per_input: Vec<Vec<RawMessage>> = inputs
        .iter()
        .map(|inp| at_chunk_size(&msgs, inp.chunk_size))
        .collect();
    let mut encoded = [0usize; 2];
    for (k, inp) in inputs.iter().enumerate() {
        let mut out = ChunkOutput::new();
        encode_ours(&per_input[k], inp.chunk_size, &mut out);
        encoded[k] = out.len();
        let mut bytes = BytesMut::new();
        out.copy_to(&mut bytes);
        let back = records(DECODERS[0].1, &with_set_chunk_size(&bytes, inp.chunk_size));
        let same = reference
            .as_ref()
            .is_some_and(|r| back.get(1..) == Some(&r[..]));
        println!(
            "check @{}: rtmp_core encode -> {} bytes ({} captured); decodes back to the same messages: {}",
            inp.name,
            encoded[k],
            inp.data.len(),
            if same { "yes" } else { "NO" }
        );
    }
    for inp in &inputs {
        alloc_report(&inp.data, inp.chunk_size);
        for (name, dec) in &DECODERS {
            alloc_total(name, inp.chunk_size, &inp.data, *dec);
        }
    }
    let n_msgs = msgs.len() as u64;

    // 2. Measurements.
    let mut c: Criterion = common::criterion();
    for (k, inp) in inputs.iter().enumerate() {
        let msgs = &per_input[k];
        let rml_msgs = rml_payloads(msgs);
        let sc_chunks = scuffle_chunks(msgs);
        let data = &inp.data[..];
        let cs = inp.chunk_size;
        for (unit, tp) in [
            ("bytes", Throughput::Bytes(data.len() as u64)),
            ("messages", Throughput::Elements(n_msgs)),
        ] {
            let mut g = c.benchmark_group(format!("chunk_{}_{unit}", inp.name));
            g.throughput(tp.clone());
            if unit == "bytes" {
                let mut dst = vec![0u8; data.len()];
                g.bench_function("memcpy", |b| {
                    b.iter(|| {
                        dst.copy_from_slice(black_box(data));
                        black_box(&dst);
                    })
                });
            }
            if unit == "bytes" {
                g.throughput(Throughput::Bytes(CACHED as u64));
                // The first MiB again and again: in the cache, so what is left is
                // the work of each, not the memory's speed (see benches/README.md).
                let head = &data[..CACHED];
                g.bench_function("reference/walk_cached", |b| {
                    b.iter(|| {
                        common::walker::walk(black_box(head), |_, _, ts, p| {
                            black_box((ts, p));
                        })
                    })
                });
                // Its input already in its buffer, as a socket read leaves it
                // (the walker's is in memory too): the copy into the buffer is
                // made outside the timing.
                g.bench_function("rtmp_core/decode_cached", |b| {
                    b.iter_batched_ref(
                        || BytesMut::from(head),
                        |buf| {
                            let mut dec = ChunkDecoder::new();
                            while let Ok(Some(m)) = dec.decode(buf) {
                                black_box((m.timestamp, &m.payload));
                            }
                        },
                        criterion::BatchSize::LargeInput,
                    )
                });
                g.throughput(tp.clone());
            }
            g.bench_function("reference/walk", |b| {
                b.iter(|| {
                    let mut n = 0u32;
                    common::walker::walk(black_box(data), |_, _, ts, p| {
                        n += 1;
                        black_box((ts, p));
                    });
                    assert_eq!(u64::from(n), n_msgs);
                })
            });
            for (name, dec) in DECODERS {
                g.bench_function(name, |b| {
                    b.iter(|| {
                        let mut n = 0u32;
                        dec(black_box(data), &mut |_, _, ts, p| {
                            n += 1;
                            black_box((ts, p));
                        });
                        assert_eq!(u64::from(n), n_msgs);
                    })
                });
            }
            // Encoders: bytes throughput counted as our output's length for all three
            // (scuffle writes type-0 headers only, so its output is larger).
            if unit == "bytes" {
                g.throughput(Throughput::Bytes(encoded[k] as u64));
            }
            let mut out = ChunkOutput::new();
            g.bench_function("rtmp_core/encode", |b| {
                b.iter(|| {
                    encode_ours(black_box(msgs), cs, &mut out);
                    black_box(out.len());
                    out.advance(out.len()); // clear, keeping the queue's capacity
                })
            });
            g.bench_function("rml_rtmp/encode", |b| {
                b.iter(|| black_box(encode_rml(black_box(&rml_msgs), cs)))
            });
            let mut v = Vec::with_capacity(data.len() * 2);
            g.bench_function("scuffle_rtmp/encode", |b| {
                b.iter(|| {
                    encode_scuffle(black_box(&sc_chunks), cs, &mut v);
                    black_box(v.len());
                    v.clear();
                })
            });
            g.finish();
        }
    }
    c.final_summary();

    // 3. Summary, from criterion's estimates of this run.
    println!("\n== chunk summary (criterion mean; this run) ==");
    for (k, inp) in inputs.iter().enumerate() {
        let g = format!("chunk_{}_bytes", inp.name);
        for b in [
            "memcpy",
            "reference/walk_cached",
            "rtmp_core/decode_cached",
            "reference/walk",
            "rtmp_core/decode",
            "rml_rtmp/decode",
            "scuffle_rtmp/decode",
            "rtmp_core/encode",
            "rml_rtmp/encode",
            "scuffle_rtmp/encode",
        ] {
            let bytes = if b.ends_with("encode") {
                encoded[k]
            } else if b.ends_with("cached") {
                CACHED
            } else {
                inp.data.len()
            } as f64;
            match common::mean_ns(&g, b) {
                Some(ns) => println!(
                    "@{:>4} {b:<20} {:>12} {:>16}",
                    inp.name,
                    common::rate(bytes / ns * 1e9, "B"),
                    if b == "memcpy" || b.ends_with("cached") {
                        String::new()
                    } else {
                        common::rate(n_msgs as f64 / ns * 1e9, " msg")
                    }
                ),
                None => println!("@{:>4} {b:<20} n/a", inp.name),
            }
        }
    }
    for inp in &inputs {
        let g = format!("chunk_{}_bytes", inp.name);
        let at = format!("@{}", inp.name);
        let target = match inp.chunk_size {
            128 => Some(3.0),
            _ => Some(1.2),
        };
        common::print_ratio(
            &g,
            "rtmp_core/decode",
            "rml_rtmp/decode",
            &format!("decode {at}"),
            target,
        );
        common::print_ratio(
            &g,
            "rtmp_core/decode",
            "scuffle_rtmp/decode",
            &format!("decode {at}"),
            None,
        );
        // Issue 14: ours within 1.2x of the walker's time at 128-byte chunks.
        common::print_ratio(
            &g,
            "rtmp_core/decode",
            "reference/walk",
            &format!("{at} (walker time / ours; within 1.2x is >= 0.83x)"),
            (inp.chunk_size == 128).then_some(0.83),
        );
        common::print_ratio(
            &g,
            "rtmp_core/decode_cached",
            "reference/walk_cached",
            &format!("{at} in the cache (walker time / ours)"),
            None,
        );
        common::print_ratio(
            &g,
            "rtmp_core/decode",
            "memcpy",
            &format!("{at} (memcpy time / ours)"),
            None,
        );
        common::print_ratio(
            &g,
            "rtmp_core/encode",
            "rml_rtmp/encode",
            &format!("encode {at}"),
            None,
        );
        common::print_ratio(
            &g,
            "rtmp_core/encode",
            "scuffle_rtmp/encode",
            &format!("encode {at}"),
            None,
        );
    }
}

/// Prepends a Set Chunk Size message (sent at 128) so a fresh decoder reads
/// chunks of `size`.
fn with_set_chunk_size(chunks: &[u8], size: u32) -> Vec<u8> {
    let mut v = vec![0x02, 0, 0, 0, 0, 0, 4, TYPE_SET_CHUNK_SIZE, 0, 0, 0, 0];
    v.extend_from_slice(&size.to_be_bytes());
    v.extend_from_slice(chunks);
    v
}
