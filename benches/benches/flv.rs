//! FLV demux throughput on `bench_720p30.flv` (3 min of 720p30 H.264 + AAC made
//! by FFmpeg 9, about 100 MB): our `flv` crate at two levels, tag walking
//! (`read_all`) and the frame view (`FrameReader`: tag bodies parsed into codec,
//! key flag, composition time and payload slice), against `scuffle-flv` and
//! `xflv` on the same bytes in the same run, plus a bare 11-byte-header loop as
//! the ceiling. Before measuring it checks that every demuxer returns the same
//! tags (type, timestamp, body length and md5), that our frames are FFmpeg's
//! packets, and counts allocations per tag. See benches/README.md.

mod common;

use common::alloc::allocs;

use std::hint::black_box;
use std::io::Cursor;
use std::ops::Range;

use bytes::{Buf as _, Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput};
use flv::{FrameEvent, MediaEvent, MediaType, ReadEvent};
use md5::{Digest, Md5};

// ---- the demuxers -------------------------------------------------------------------------

/// Our tag walk: `flv::read_all` over the whole file; `f(tag)` for every tag.
#[inline(always)]
fn walk_ours(data: &Bytes, mut f: impl FnMut(&flv::Tag)) {
    for event in flv::read_all(data.clone()) {
        if let ReadEvent::Tag(tag) = event.expect("flv read_all") {
            f(&tag);
        }
    }
}

/// Our frame view: `flv::FrameReader` (read_all + `MediaEvents` per tag);
/// `f(frame)` for every frame (sequence headers, end of sequence and script
/// tags are other events).
#[inline(always)]
fn frames_ours(data: &Bytes, mut f: impl FnMut(&flv::Frame)) {
    for event in flv::FrameReader::new(data.clone()) {
        if let FrameEvent::Media(MediaEvent::Frame(frame)) = event.expect("flv FrameReader") {
            f(&frame);
        }
    }
}

type ScuffleTag<'a> = scuffle_flv::tag::FlvTag<'a>;
type ScuffleResult<'a> = Result<ScuffleTag<'a>, scuffle_flv::error::FlvError>;

/// `scuffle-flv`: `FlvHeader::demux`, then PreviousTagSize and `FlvTag::demux`
/// per tag, as its `FlvFile::demux` does but without collecting the tags into a
/// `Vec`. `FlvTag::demux` is its only tag reader and always parses the body
/// (AVC/AAC headers, AVCDecoderConfigurationRecord, AMF0 script data).
/// `f(range of the tag in data, tag)`; a tag it fails on is skipped by its
/// size field and reported as the error.
#[inline(always)]
fn walk_scuffle(data: &Bytes, mut f: impl FnMut(Range<usize>, ScuffleResult<'_>)) {
    let mut r = Cursor::new(data.clone());
    scuffle_flv::header::FlvHeader::demux(&mut r).expect("scuffle_flv header");
    while r.remaining() >= 4 {
        r.advance(4); // PreviousTagSize
        if !r.has_remaining() {
            break;
        }
        let start = r.position() as usize;
        let tag = ScuffleTag::demux(&mut r);
        if tag.is_err() {
            let size = data
                .get(start + 1..start + 4)
                .map_or(0, |s| u32::from_be_bytes([0, s[0], s[1], s[2]]) as usize);
            r.set_position((start + 11 + size) as u64);
        }
        f(start..(r.position() as usize).min(data.len()), tag);
    }
}

type XflvData = xflv::define::FlvData;

/// `xflv`: `FlvDemuxer::read_flv_tag` until it fails at the end of the input.
/// It takes a `BytesMut` (each tag body is split off it) and returns `None` for
/// script tags. `f(tag)`. Returns the demuxer, which holds the last reference
/// to the input buffer, so that the bench frees it outside the timed part.
#[inline(always)]
fn walk_xflv(buf: BytesMut, mut f: impl FnMut(Option<XflvData>)) -> xflv::demuxer::FlvDemuxer {
    let mut d = xflv::demuxer::FlvDemuxer::new(buf);
    d.read_flv_header().expect("xflv header");
    // It has no end-of-input signal: it fails reading the tag header after the
    // last PreviousTagSize (the tag count is checked before measuring).
    while let Ok(tag) = d.read_flv_tag() {
        f(tag);
    }
    d
}

/// The ceiling: read each 11-byte tag header (type, size, timestamp) and skip
/// size + 4, nothing checked or parsed. `f(type, timestamp, body range)`.
#[inline(always)]
fn header_loop(d: &[u8], mut f: impl FnMut(u8, u32, Range<usize>)) {
    let Some(offset) = d.get(5..9) else { return };
    let mut off = u32::from_be_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize + 4;
    while let Some(h) = d.get(off..off + 11) {
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        f(h[0] & 0x1F, timestamp, off + 11..off + 11 + size);
        off += 11 + size + 4;
    }
}

// ---- correctness check ----------------------------------------------------------------------

/// A tag as a demuxer saw it.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Rec {
    type_id: u8,
    timestamp: i64,
    len: usize,
    md5: [u8; 16],
}

fn rec(type_id: u8, timestamp: i64, body: &[u8]) -> Rec {
    Rec {
        type_id,
        timestamp,
        len: body.len(),
        md5: Md5::digest(body).into(),
    }
}

/// A frame (packet) as a demuxer saw it; `key` is `None` where unknown (FFmpeg's
/// framemd5 does not print flags).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct FrameRec {
    video: bool,
    dts: i64,
    pts: i64,
    len: usize,
    md5: [u8; 16],
    key: Option<bool>,
}

fn tags_ours(data: &Bytes) -> Vec<Rec> {
    let mut v = Vec::new();
    walk_ours(data, |t| {
        v.push(rec(t.tag_type.to_u8(), t.timestamp, &t.body))
    });
    v
}

fn tags_baseline(data: &Bytes) -> Vec<Rec> {
    let mut v = Vec::new();
    header_loop(data, |t, ts, body| {
        v.push(rec(t, i64::from(ts), data.get(body).unwrap_or_default()))
    });
    v
}

fn frame_rec(video: bool, dts: i64, pts: i64, key: Option<bool>, data: &[u8]) -> FrameRec {
    FrameRec {
        video,
        dts,
        pts,
        len: data.len(),
        md5: Md5::digest(data).into(),
        key,
    }
}

fn frames_of_ours(data: &Bytes) -> Vec<FrameRec> {
    let mut v = Vec::new();
    frames_ours(data, |f| {
        v.push(frame_rec(
            f.media == MediaType::Video,
            f.dts,
            f.pts,
            Some(f.key),
            &f.data,
        ))
    });
    v
}

/// A signed 24-bit value (scuffle-flv keeps the composition time unsigned).
fn si24(v: u32) -> i64 {
    i64::from(((v << 8) as i32) >> 8)
}

/// The frame a scuffle-flv legacy AVC/AAC tag carries, if it is one.
fn scuffle_frame(tag: &ScuffleTag<'_>) -> Option<FrameRec> {
    use scuffle_flv::audio::body::legacy::{aac::AacAudioData, LegacyAudioTagBody};
    use scuffle_flv::audio::body::AudioTagBody;
    use scuffle_flv::tag::FlvTagData;
    use scuffle_flv::video::body::{legacy::LegacyVideoTagBody, VideoTagBody};
    use scuffle_flv::video::header::legacy::{LegacyVideoTagHeader, LegacyVideoTagHeaderAvcPacket};
    use scuffle_flv::video::header::{VideoFrameType, VideoTagHeaderData};
    let dts = i64::from(tag.timestamp_ms);
    match &tag.data {
        FlvTagData::Video(v) => {
            let VideoTagHeaderData::Legacy(LegacyVideoTagHeader::AvcPacket(
                LegacyVideoTagHeaderAvcPacket::Nalu {
                    composition_time_offset,
                },
            )) = &v.header.data
            else {
                return None;
            };
            let VideoTagBody::Legacy(LegacyVideoTagBody::Other { data }) = &v.body else {
                return None;
            };
            (!data.is_empty()).then(|| {
                frame_rec(
                    true,
                    dts,
                    dts + si24(*composition_time_offset),
                    Some(v.header.frame_type == VideoFrameType::KeyFrame),
                    data,
                )
            })
        }
        FlvTagData::Audio(a) => match &a.body {
            AudioTagBody::Legacy(LegacyAudioTagBody::Aac(AacAudioData::Raw(data)))
                if !data.is_empty() =>
            {
                Some(frame_rec(false, dts, dts, Some(true), data))
            }
            _ => None,
        },
        _ => None,
    }
}

/// scuffle-flv's tags, its frames, and the errors it returned (tag index, error).
fn records_scuffle(data: &Bytes) -> (Vec<Rec>, Vec<FrameRec>, Vec<(usize, String)>) {
    use scuffle_flv::tag::FlvTagData;
    let (mut tags, mut frames, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    walk_scuffle(data, |range, tag| {
        let body = data.get(range.start + 11..range.end).unwrap_or_default();
        let raw_type = data[range.start] & 0x1F;
        match tag {
            Ok(tag) => {
                let type_id = match &tag.data {
                    FlvTagData::Audio(_) => 8,
                    FlvTagData::Video(_) => 9,
                    FlvTagData::ScriptData(_) => 18,
                    FlvTagData::Encrypted { .. } => raw_type,
                    FlvTagData::Unknown { tag_type, .. } => tag_type.0,
                };
                tags.push(rec(type_id, i64::from(tag.timestamp_ms), body));
                frames.extend(scuffle_frame(&tag));
            }
            Err(e) => {
                errors.push((tags.len(), format!("{e}")));
                let h = &data[range.start..range.start + 11];
                let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
                tags.push(rec(raw_type, i64::from(ts), body));
            }
        }
    });
    (tags, frames, errors)
}

/// xflv's audio/video tags and the number of `None`s (script tags).
fn records_xflv(data: &[u8]) -> (Vec<Rec>, usize) {
    let (mut v, mut none) = (Vec::new(), 0);
    let _ = walk_xflv(BytesMut::from(data), |t| match t {
        Some(XflvData::Video { timestamp, data }) => v.push(rec(9, i64::from(timestamp), &data)),
        Some(XflvData::Audio { timestamp, data }) => v.push(rec(8, i64::from(timestamp), &data)),
        Some(XflvData::MetaData { timestamp, data }) => {
            v.push(rec(18, i64::from(timestamp), &data))
        }
        None => none += 1,
    });
    (v, none)
}

/// Counts and first differences of two tag lists.
fn compare(peer: &str, ours: &[Rec], theirs: &[Rec]) -> bool {
    let pairs = || ours.iter().zip(theirs);
    let types = pairs().filter(|(a, b)| a.type_id != b.type_id).count();
    let ts = pairs().filter(|(a, b)| a.timestamp != b.timestamp).count();
    let bodies = pairs()
        .filter(|(a, b)| (a.len, a.md5) != (b.len, b.md5))
        .count();
    let ok = ours.len() == theirs.len() && types + ts + bodies == 0;
    println!(
        "check: {peer}: {} tags (flv: {}); {types} types, {ts} timestamps, {bodies} body lengths/md5s differ{}",
        theirs.len(),
        ours.len(),
        if ok { ": SAME" } else { ": DIFFERENT" }
    );
    if let Some((i, (a, b))) = pairs().enumerate().find(|(_, (a, b))| a != b) {
        println!("    first difference: tag #{i}: flv {a:?}, {peer} {b:?}");
    }
    ok
}

/// FFmpeg 9's packets (`-copyts -map 0 -c copy -f framemd5`) as frame
/// records, or why not.
fn ffmpeg_packets(path: &std::path::Path) -> Result<Vec<FrameRec>, String> {
    Ok(common::ffmpeg::packets(path)?
        .into_iter()
        .map(|p| FrameRec {
            video: p.video,
            dts: p.dts,
            pts: p.pts,
            len: p.len,
            md5: p.md5,
            key: None,
        })
        .collect())
}

/// Compares frame lists as sorted multisets (FFmpeg's muxer interleaves by dts).
fn compare_frames(peer: &str, ours: &[FrameRec], theirs: &[FrameRec], with_key: bool) -> bool {
    let norm = |v: &[FrameRec]| {
        let mut v: Vec<FrameRec> = v
            .iter()
            .map(|f| FrameRec {
                key: if with_key { f.key } else { None },
                ..f.clone()
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (norm(ours), norm(theirs));
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    let kinds = |v: &[FrameRec]| {
        let video = v.iter().filter(|f| f.video).count();
        (video, v.len() - video)
    };
    let ((ov, oa), (tv, ta)) = (kinds(ours), kinds(theirs));
    let ok = a.len() == b.len() && differ == 0;
    println!(
        "check: flv frame view vs {peer}: {} frames ({ov} video, {oa} audio) vs {} ({tv} video, {ta} audio); \
         {differ} differ in (media, dts, pts, size, md5{}){}",
        ours.len(),
        theirs.len(),
        if with_key { ", key" } else { "" },
        if ok { ": SAME" } else { ": DIFFERENT" }
    );
    if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| x != y) {
        println!("    first difference (sorted): flv {x:?}, {peer} {y:?}");
    }
    ok
}

// ---- allocations ------------------------------------------------------------------------------

/// Allocations of one whole run of `run`, per tag.
fn alloc_per_tag(name: &str, n_tags: u64, run: impl FnOnce()) -> f64 {
    let before = allocs();
    run();
    let a = allocs() - before;
    let per = a as f64 / n_tags as f64;
    println!("allocs: {name}: {a} allocations for {n_tags} tags ({per:.3}/tag)");
    per
}

// ---- the run --------------------------------------------------------------------------------

const FILE: &str = "bench_720p30.flv";
const GROUP_BYTES: &str = "flv_demux_bytes";
const GROUP_TAGS: &str = "flv_demux_tags";

fn main() {
    let Some(raw) = common::load(FILE) else {
        return;
    };
    let data = Bytes::from(raw);

    // 1. Correctness, before measuring.
    let ours = tags_ours(&data);
    let n_tags = ours.len() as u64;
    let count = |t: u8| ours.iter().filter(|r| r.type_id == t).count();
    println!(
        "check: flv read_all: {n_tags} tags ({} audio, {} video, {} script, {} other), {} body bytes, last timestamp {} ms",
        count(8),
        count(9),
        count(18),
        ours.iter().filter(|r| !matches!(r.type_id, 8 | 9 | 18)).count(),
        ours.iter().map(|r| r.len).sum::<usize>(),
        ours.last().map_or(0, |r| r.timestamp)
    );
    compare("baseline/header_loop", &ours, &tags_baseline(&data));
    let (sc_tags, sc_frames, sc_errors) = records_scuffle(&data);
    compare("scuffle_flv", &ours, &sc_tags);
    for (i, e) in &sc_errors {
        println!(
            "    scuffle_flv failed on tag #{i} (type {}): {e}",
            sc_tags[*i].type_id
        );
    }
    let (x_tags, x_none) = records_xflv(&data);
    let ours_av: Vec<Rec> = ours
        .iter()
        .filter(|r| matches!(r.type_id, 8 | 9))
        .cloned()
        .collect();
    compare("xflv (audio/video tags)", &ours_av, &x_tags);
    println!(
        "    xflv returned None (no data) for {x_none} tags; flv has {} non-audio/video tags",
        ours.len() - ours_av.len()
    );

    let our_frames = frames_of_ours(&data);
    let n_frames = our_frames.len() as u64;
    compare_frames("scuffle_flv", &our_frames, &sc_frames, true);
    match ffmpeg_packets(&common::data_dir().join(FILE)) {
        Ok(packets) => {
            println!(
                "check: flv frame view: {n_frames} frames; FFmpeg 9 (-copyts -c copy -f framemd5): {} packets: {}",
                packets.len(),
                if packets.len() as u64 == n_frames {
                    "SAME COUNT"
                } else {
                    "DIFFERENT COUNT"
                }
            );
            compare_frames("FFmpeg 9", &our_frames, &packets, false);
        }
        Err(e) => println!("check: FFmpeg packet count skipped: {e}"),
    }

    alloc_per_tag("flv/walk (read_all)", n_tags, || {
        walk_ours(&data, |t| {
            black_box(t);
        })
    });
    alloc_per_tag("flv/frames (FrameReader)", n_tags, || {
        frames_ours(&data, |f| {
            black_box(f);
        })
    });
    alloc_per_tag("scuffle_flv/walk", n_tags, || {
        walk_scuffle(&data, |_, t| {
            black_box(t.ok());
        })
    });
    let copy = BytesMut::from(&data[..]);
    alloc_per_tag(
        "xflv/walk (the input's BytesMut made before)",
        n_tags,
        || {
            let _ = walk_xflv(copy, |t| {
                black_box(t);
            });
        },
    );

    // 2. Measurements.
    let mut c: Criterion = common::criterion();
    for (group, tp) in [
        (GROUP_BYTES, Throughput::Bytes(data.len() as u64)),
        (GROUP_TAGS, Throughput::Elements(n_tags)),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(tp);
        g.bench_function("baseline/header_loop", |b| {
            b.iter(|| {
                let mut n = 0u64;
                header_loop(black_box(&data), |t, ts, body| {
                    n += 1;
                    black_box((t, ts, body));
                });
                assert_eq!(n, n_tags);
            })
        });
        g.bench_function("flv/walk", |b| {
            b.iter(|| {
                let mut n = 0u64;
                walk_ours(black_box(&data), |t| {
                    n += 1;
                    black_box(t);
                });
                assert_eq!(n, n_tags);
            })
        });
        g.bench_function("flv/frames", |b| {
            b.iter(|| {
                let mut n = 0u64;
                frames_ours(black_box(&data), |f| {
                    n += 1;
                    black_box((f.codec, f.key, f.pts - f.dts, &f.data));
                });
                assert_eq!(n, n_frames);
            })
        });
        g.bench_function("scuffle_flv/walk", |b| {
            b.iter(|| {
                let mut n = 0u64;
                walk_scuffle(black_box(&data), |_, t| {
                    n += 1;
                    black_box(t.ok());
                });
                assert_eq!(n, n_tags);
            })
        });
        // xflv consumes a BytesMut: a fresh copy of the file per iteration, made
        // (and freed) outside the timed part.
        g.bench_function("xflv/walk", |b| {
            b.iter_batched(
                || BytesMut::from(&data[..]),
                |buf| {
                    let mut n = 0u64;
                    let demuxer = walk_xflv(buf, |t| {
                        n += 1;
                        black_box(t);
                    });
                    assert_eq!(n, n_tags);
                    demuxer
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
    c.final_summary();

    // 3. Summary, from criterion's estimates of this run.
    println!("\n== flv demux summary (criterion mean; this run) ==");
    for b in [
        "baseline/header_loop",
        "flv/walk",
        "flv/frames",
        "scuffle_flv/walk",
        "xflv/walk",
    ] {
        match common::mean_ns(GROUP_BYTES, b) {
            Some(ns) => println!(
                "{b:<22} {:>10.3} ms {:>12} {:>16}{}",
                ns / 1e6,
                common::rate(data.len() as f64 / ns * 1e9, "B"),
                common::rate(n_tags as f64 / ns * 1e9, " tags"),
                if b == "flv/frames" {
                    format!(
                        "  {:>16}",
                        common::rate(n_frames as f64 / ns * 1e9, " frames")
                    )
                } else {
                    String::new()
                }
            ),
            None => println!("{b:<22} n/a"),
        }
    }
    let g = GROUP_BYTES;
    common::print_ratio(g, "flv/walk", "scuffle_flv/walk", "tag walk", Some(1.2));
    common::print_ratio(
        g,
        "flv/frames",
        "scuffle_flv/walk",
        "frame view vs its walk",
        Some(1.0),
    );
    common::print_ratio(g, "flv/walk", "xflv/walk", "tag walk", None);
    common::print_ratio(g, "flv/frames", "xflv/walk", "frame view vs its walk", None);
    common::print_ratio(
        g,
        "flv/walk",
        "baseline/header_loop",
        "(header loop time / ours)",
        None,
    );
    common::print_ratio(
        g,
        "flv/frames",
        "baseline/header_loop",
        "(header loop time / ours)",
        None,
    );
}
