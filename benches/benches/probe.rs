//! `media_probe::Probe` analysis throughput: frames (and their payload bytes)
//! per second through `push_event` + draining every output, on frames read
//! beforehand (the FLV demux is `flv.rs`'s bench, not this one). Input:
//! `bench_720p30.flv` (made by `benches/setup.sh`) or, without it, the H.264
//! files of the peer corpus (`/tmp/peers/corpus`, `PEERS_CORPUS`). Two runs:
//! without picture type parsing (target >= 10 M frames/s) and with it
//! (H.264 slice headers; target >= 2 M frames/s). Arrival times are passed (the
//! live path, which does more than the file path). See benches/README.md.

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use criterion::Throughput;
use flv::{FrameEvent, FrameReader, MediaEvent};
use media_probe::{Output, Probe, ProbeConfig};

const FILE: &str = "bench_720p30.flv";
const GROUP_FRAMES: &str = "media_probe_frames";
const GROUP_BYTES: &str = "media_probe_bytes";
const CORPUS_FILES: [&str; 6] = [
    "a_h264high_bf_aac.flv",
    "b_h264base_mp3.flv",
    "j_h264_25fps.flv",
    "j_h264_29.97fps.flv",
    "k_h264_gop250.flv",
    "k_h264_gop30.flv",
];

/// Media events with their arrival times.
type Events = Vec<(MediaEvent, Option<Duration>)>;

/// The media events of `data`, with DTS/PTS moved by `shift` ms.
fn events_of(data: Vec<u8>, shift: i64, out: &mut Events) -> i64 {
    let mut last = shift;
    for event in FrameReader::new(Bytes::from(data)) {
        let Ok(FrameEvent::Media(mut media)) = event else {
            continue;
        };
        let dts = match &mut media {
            MediaEvent::Frame(frame) => {
                frame.dts += shift;
                frame.pts += shift;
                frame.dts
            }
            MediaEvent::Config(config) => {
                config.dts += shift;
                config.dts
            }
            _ => continue,
        };
        last = last.max(dts);
        out.push((media, Some(Duration::from_millis(dts.max(0) as u64))));
    }
    last
}

/// The bench input and a name for it.
fn input() -> Option<(String, Events)> {
    let mut events = Vec::new();
    if common::data_dir().join(FILE).exists() {
        let data = common::load(FILE)?;
        events_of(data, 0, &mut events);
        return Some((FILE.to_string(), events));
    }
    let corpus = std::env::var_os("PEERS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/corpus"));
    let mut shift = 0;
    for name in CORPUS_FILES {
        let Ok(data) = std::fs::read(corpus.join(name)) else {
            eprintln!(
                "benches: neither benches/data/{FILE} (benches/setup.sh) nor the corpus \
                 ({}, ../shared/peers/make-corpus.sh) is there; skipping this bench.",
                corpus.display()
            );
            return None;
        };
        // Files one after the other on one timeline, 1 s apart.
        shift = events_of(data, shift, &mut events) + 1000;
    }
    Some((format!("{} corpus files", CORPUS_FILES.len()), events))
}

fn analyse(events: &[(MediaEvent, Option<Duration>)], config: &ProbeConfig) -> usize {
    let mut probe = Probe::new(config.clone()).expect("valid config");
    let mut outputs = 0;
    for (event, arrival) in events {
        probe.push_event(event, *arrival);
        while let Some(output) = probe.poll_output() {
            outputs += 1;
            black_box(output);
        }
    }
    probe.finish(None);
    while let Some(output) = probe.poll_output() {
        outputs += 1;
        black_box(output);
    }
    outputs
}

fn main() {
    let Some((name, events)) = input() else {
        return;
    };
    let frames: Vec<&flv::Frame> = events
        .iter()
        .filter_map(|(e, _)| match e {
            MediaEvent::Frame(f) => Some(f),
            _ => None,
        })
        .collect();
    let n_frames = frames.len() as u64;
    let n_bytes: u64 = frames.iter().map(|f| f.data.len() as u64).sum();

    // Before measuring: the probe sees every frame, and what it says about them.
    let mut probe = Probe::new(ProbeConfig::default()).expect("valid config");
    let mut records = 0;
    let mut pict = 0;
    for (event, arrival) in &events {
        probe.push_event(event, *arrival);
        while let Some(output) = probe.poll_output() {
            if let Output::Frame(record) = output {
                records += 1;
                pict += usize::from(record.pict_type.is_some());
            }
        }
    }
    probe.finish(None);
    while let Some(output) = probe.poll_output() {
        if let Output::Frame(record) = output {
            records += 1;
            pict += usize::from(record.pict_type.is_some());
        }
    }
    let summary = probe.summary();
    println!(
        "check: {name}: {n_frames} frames, {n_bytes} payload bytes; probe: {records} records, {pict} with a picture type, {} events",
        summary.total_events()
    );
    assert_eq!(records as u64, n_frames, "one record per frame");

    let without = ProbeConfig::default().pict_type(false);
    let with = ProbeConfig::default().pict_type(true);
    let mut c = common::criterion();
    for (group, throughput) in [
        (GROUP_FRAMES, Throughput::Elements(n_frames)),
        (GROUP_BYTES, Throughput::Bytes(n_bytes)),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(throughput);
        g.bench_function("analysis/no_pict_type", |b| {
            b.iter(|| analyse(black_box(&events), &without))
        });
        g.bench_function("analysis/pict_type", |b| {
            b.iter(|| analyse(black_box(&events), &with))
        });
        g.finish();
    }
    c.final_summary();

    for (bench, target) in [("analysis/no_pict_type", 10e6), ("analysis/pict_type", 2e6)] {
        match common::mean_ns(GROUP_FRAMES, bench) {
            Some(ns) if ns > 0.0 => {
                let per_s = n_frames as f64 / (ns / 1e9);
                let bytes = common::mean_ns(GROUP_BYTES, bench)
                    .map(|ns| common::rate(n_bytes as f64 / (ns / 1e9), "B"))
                    .unwrap_or_else(|| "n/a".into());
                println!(
                    "media_probe {bench}: {} ({bytes}) (target >= {}: {})",
                    common::rate(per_s, " frames"),
                    common::rate(target, " frames"),
                    if per_s >= target { "met" } else { "MISSED" }
                );
            }
            _ => println!("media_probe {bench}: n/a (no criterion estimate; run the whole bench)"),
        }
    }
}
