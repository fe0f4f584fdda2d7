//! FLV → HLS remux throughput on `bench_720p30.flv` (3 min of 720p30 H.264 +
//! AAC made by FFmpeg 9, about 100 MB): the whole path of the crates
//! (`flv::FrameReader` → `hls_mux::FlvAdapter` → `hls_mux::Muxer`, 6 s VOD
//! segments, every output drained) into fMP4 and into MPEG-TS, against
//! `scuffle-transmuxer` (FLV → fMP4) on the same bytes in the same run.
//!
//! Before measuring, FFmpeg 9 reads what each wrote, as one file: our fMP4
//! must hold exactly the FLV's packets (time, size, MD5), our TS the same
//! times and count (its payloads are Annex B and ADTS, so their MD5s
//! differ by design; decoded frames are compared in the interop tests), and
//! for scuffle-transmuxer the packets whose times differ from the FLV's are
//! counted. It also counts allocations per frame. See benches/README.md.

mod common;

use std::hint::black_box;
use std::path::Path;

use bytes::Bytes;
use common::alloc::allocs;
use common::ffmpeg::{self, Packet};
use criterion::{Criterion, Throughput};
use flv::{FrameEvent, FrameReader};
use hls_mux::playlist::PlaylistKind;
use hls_mux::{FlvAdapter, FlvInput, Format, Muxer, MuxerOptions, Output};
use scuffle_transmuxer::{TransmuxResult, Transmuxer};

const FILE: &str = "bench_720p30.flv";
const GROUP: &str = "hls_remux";

/// What a remux produced.
#[derive(Debug, Default)]
struct Remuxed {
    frames: u64,
    segments: u64,
    bytes: u64,
}

/// Our whole path into `format`; `sink` sees every output.
fn remux_ours(data: &Bytes, format: Format, mut sink: impl FnMut(&Output)) -> Remuxed {
    let mut options = MuxerOptions::new(format);
    options.kind = PlaylistKind::Vod;
    options.target_duration = 6.0;
    // The oracle check below holds our packets to the FLV's exact times; the
    // constant-frame-rate grid would move video by up to a millisecond.
    options.constant_frame_rate = false;
    let mut muxer = Muxer::new(options).expect("muxer options");
    let mut adapter = FlvAdapter::new();
    let mut done = Remuxed::default();
    let mut drain = |muxer: &mut Muxer, done: &mut Remuxed| {
        while let Some(output) = muxer.poll_output() {
            match &output {
                Output::Segment { data, .. } => {
                    done.segments += 1;
                    done.bytes += data.iter().map(|d| d.len() as u64).sum::<u64>();
                }
                Output::Init { data, .. } => done.bytes += data.len() as u64,
                _ => {}
            }
            sink(&output);
        }
    };
    for event in FrameReader::new(data.clone()) {
        let FrameEvent::Media(event) = event.expect("the bench FLV reads") else {
            continue;
        };
        for input in adapter.push(event).expect("the bench FLV adapts") {
            match input {
                FlvInput::Config(config) => muxer.set_config(config).expect("config"),
                FlvInput::Frame(frame) => {
                    muxer.push(frame).expect("frame");
                    done.frames += 1;
                }
                _ => {}
            }
        }
        drain(&mut muxer, &mut done);
    }
    muxer.finish().expect("finish");
    drain(&mut muxer, &mut done);
    done
}

/// scuffle-transmuxer over the whole file; `sink` sees every output.
fn remux_scuffle(data: &Bytes, mut sink: impl FnMut(&TransmuxResult)) -> Remuxed {
    let mut transmuxer = Transmuxer::new();
    // It takes the tags after the 9-byte file header.
    transmuxer
        .demux(data.slice(9..))
        .expect("scuffle-transmuxer demuxes");
    let mut done = Remuxed::default();
    while let Some(result) = transmuxer.mux().expect("scuffle-transmuxer muxes") {
        match &result {
            TransmuxResult::InitSegment { data, .. } => done.bytes += data.len() as u64,
            TransmuxResult::MediaSegment(segment) => {
                done.frames += 1;
                done.segments += 1;
                done.bytes += segment.data.len() as u64;
            }
        }
        sink(&result);
    }
    done
}

// ---- the oracle checks --------------------------------------------------------------------

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Our output as one file FFmpeg can read: for fMP4 the init segment and the
/// fragments without their `styp`, for TS the segments end to end.
fn ours_as_file(data: &Bytes, format: Format) -> Vec<u8> {
    let mut file = Vec::new();
    remux_ours(data, format, |output| match output {
        Output::Init { data, .. } => file.extend_from_slice(data),
        Output::Segment { data, .. } => {
            let skip = usize::from(format == Format::Fmp4);
            for piece in data.iter().skip(skip) {
                file.extend_from_slice(piece);
            }
        }
        _ => {}
    });
    file
}

fn scuffle_as_file(data: &Bytes) -> Vec<u8> {
    let mut file = Vec::new();
    remux_scuffle(data, |result| match result {
        TransmuxResult::InitSegment { data, .. } => file.extend_from_slice(data),
        TransmuxResult::MediaSegment(segment) => file.extend_from_slice(&segment.data),
    });
    file
}

fn sorted(mut packets: Vec<Packet>) -> Vec<Packet> {
    packets.sort();
    packets
}

/// Reads `file` with FFmpeg 9 and compares its packets with the source's.
fn check(label: &str, file: &[u8], source: &[Packet], payloads_equal: bool) {
    let path = std::env::temp_dir().join(format!(
        "bench-hls-{}-{}",
        std::process::id(),
        label.replace('/', "_")
    ));
    write(&path, file);
    let theirs = ffmpeg::packets(&path);
    let _ = std::fs::remove_file(&path);
    let theirs = match theirs {
        Ok(packets) => packets,
        Err(e) => {
            println!("check: {label}: FFmpeg 9 cannot read it: {e}");
            return;
        }
    };
    // TS runs on its own clock (FFmpeg's 1.4 s offset): compare times from
    // each side's first packet.
    let origin = |p: &[Packet]| p.iter().map(|p| p.dts).min().unwrap_or(0);
    let shift = origin(&theirs) - origin(source);
    let key = |p: &Packet, shift: i64| {
        (
            p.video,
            p.pts - shift,
            p.dts - shift,
            p.len * usize::from(payloads_equal),
            if payloads_equal { p.md5 } else { [0; 16] },
        )
    };
    let mut want: Vec<_> = source.iter().map(|p| key(p, 0)).collect();
    let mut got: Vec<_> = theirs.iter().map(|p| key(p, shift)).collect();
    want.sort();
    got.sort();
    let pts_differ = |video: bool| {
        let times = |v: &[Packet], shift: i64| {
            let mut t: Vec<(i64, [u8; 16])> = v
                .iter()
                .filter(|p| p.video == video)
                .map(|p| (p.pts - shift, if payloads_equal { p.md5 } else { [0; 16] }))
                .collect();
            t.sort();
            t
        };
        let (a, b) = (times(source, 0), times(&theirs, shift));
        let b: std::collections::BTreeSet<_> = b.into_iter().collect();
        a.iter().filter(|x| !b.contains(x)).count()
    };
    println!(
        "check: {label}: FFmpeg 9 reads {} packets (source {}): {}; video packets whose time \
         or payload differs from the FLV's: {}, audio: {}",
        theirs.len(),
        source.len(),
        if got == want {
            if payloads_equal {
                "EQUAL (times, sizes, MD5s)"
            } else {
                "EQUAL (times)"
            }
        } else {
            "DIFFERENT"
        },
        pts_differ(true),
        pts_differ(false),
    );
}

fn alloc_per_frame(label: &str, frames: u64, run: impl FnOnce()) {
    let before = allocs();
    run();
    let n = allocs() - before;
    println!(
        "allocations: {label}: {n} in all, {:.2} per frame",
        n as f64 / frames.max(1) as f64
    );
}

fn main() {
    let Some(raw) = common::load(FILE) else {
        return;
    };
    let data = Bytes::from(raw);

    // 1. Correctness, before measuring.
    let fmp4 = remux_ours(&data, Format::Fmp4, |_| {});
    let ts = remux_ours(&data, Format::Ts, |_| {});
    let scuffle = remux_scuffle(&data, |_| {});
    println!("check: ours fmp4: {fmp4:?}\ncheck: ours ts:   {ts:?}\ncheck: scuffle:   {scuffle:?}");
    match ffmpeg::packets(&common::data_dir().join(FILE)) {
        Ok(source) => {
            let source = sorted(source);
            check(
                "hls/fmp4",
                &ours_as_file(&data, Format::Fmp4),
                &source,
                true,
            );
            check("hls/ts", &ours_as_file(&data, Format::Ts), &source, false);
            check(
                "scuffle_transmuxer/fmp4",
                &scuffle_as_file(&data),
                &source,
                true,
            );
        }
        Err(e) => println!("check: FFmpeg comparison skipped: {e}"),
    }
    alloc_per_frame("hls/fmp4", fmp4.frames, || {
        remux_ours(&data, Format::Fmp4, |o| {
            black_box(o);
        });
    });
    alloc_per_frame("hls/ts", ts.frames, || {
        remux_ours(&data, Format::Ts, |o| {
            black_box(o);
        });
    });
    alloc_per_frame("scuffle_transmuxer/fmp4", scuffle.frames, || {
        remux_scuffle(&data, |o| {
            black_box(o);
        });
    });

    // 2. Measurements (frames/s by criterion; bytes/s in the summary).
    let mut c: Criterion = common::criterion();
    let mut g = c.benchmark_group(GROUP);
    g.throughput(Throughput::Elements(fmp4.frames));
    g.bench_function("hls/fmp4", |b| {
        b.iter(|| {
            let done = remux_ours(black_box(&data), Format::Fmp4, |o| {
                black_box(o);
            });
            assert_eq!(done.frames, fmp4.frames);
        })
    });
    g.bench_function("hls/ts", |b| {
        b.iter(|| {
            let done = remux_ours(black_box(&data), Format::Ts, |o| {
                black_box(o);
            });
            assert_eq!(done.frames, ts.frames);
        })
    });
    // The floor of any MPEG-TS writer that copies: the file's bytes copied
    // once into 188-byte packets (a 4-byte header and 184 bytes each), in as
    // many buffers as our run makes segments, each made its final size once
    // (as ours are from the previous segment's size), handed out and dropped
    // as a segment is. No demux, no parsing.
    let segments = usize::try_from(ts.segments).unwrap_or(1).max(1);
    g.bench_function("baseline/ts_copy", |b| {
        b.iter(|| {
            let input = black_box(&data[..]);
            for part in input.chunks(input.len().div_ceil(segments)) {
                let mut out = bytes::BytesMut::with_capacity(part.len().div_ceil(184) * 188);
                for chunk in part.chunks(184) {
                    out.extend_from_slice(&[0x47, 0x01, 0x00, 0x10]);
                    out.extend_from_slice(chunk);
                }
                black_box(out.freeze());
            }
        })
    });
    g.bench_function("scuffle_transmuxer/fmp4", |b| {
        b.iter(|| {
            let done = remux_scuffle(black_box(&data), |o| {
                black_box(o);
            });
            assert_eq!(done.frames, scuffle.frames);
        })
    });
    g.finish();
    c.final_summary();

    // 3. Summary, from criterion's estimates of this run.
    println!("\n== FLV -> HLS remux summary (criterion mean; this run) ==");
    for (bench, frames) in [
        ("hls/fmp4", fmp4.frames),
        ("hls/ts", ts.frames),
        ("scuffle_transmuxer/fmp4", scuffle.frames),
        ("baseline/ts_copy", ts.frames),
    ] {
        match common::mean_ns(GROUP, bench) {
            Some(ns) => println!(
                "{bench:<24} {:>9.2} ms {:>12} in {:>18}",
                ns / 1e6,
                common::rate(data.len() as f64 / ns * 1e9, "B"),
                common::rate(frames as f64 / ns * 1e9, " frames"),
            ),
            None => println!("{bench:<24} n/a"),
        }
    }
    if let Some(ns) = common::mean_ns(GROUP, "hls/ts") {
        let rate = ts.frames as f64 / ns * 1e9;
        println!(
            "hls/ts frames/s: {} (target >= 1 M frames/s: {})",
            common::rate(rate, " frames"),
            if rate >= 1e6 { "met" } else { "MISSED" }
        );
    }
    common::print_ratio(
        GROUP,
        "hls/ts",
        "baseline/ts_copy",
        "(copy floor time / ours)",
        None,
    );
    common::print_ratio(
        GROUP,
        "hls/fmp4",
        "scuffle_transmuxer/fmp4",
        "FLV -> fMP4",
        Some(2.0),
    );
}
