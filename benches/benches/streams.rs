//! The server's ingest path for many streams at once, in one process and
//! without sockets: what a frame costs when thousands of streams take turns,
//! against the same frames when each stream's state stays in the caches
//! (issue 14).
//!
//! Each stream has what `live-ingest` gives a publisher: a `ChunkDecoder`
//! (small messages copied out, as the server does) and an HLS
//! `live_ingest::hls::Stream` with its probe, FLV adapter and LL-HLS muxer,
//! the server's default configuration. The input is
//! `benches/data/bench_360p_600k.flv` (640x360 30 fps, 600 kbit/s: the scale
//! runs' stream) looped to `SECONDS` of media with its timestamps continued,
//! as RTMP chunks at 4096 bytes, the same bytes for every stream (as a socket
//! read leaves them: just written, in the cache). The same work is done in
//! three orders:
//!
//! - `stream after stream`: all of one stream's reads, then the next stream's:
//!   each stream's state stays in the caches from read to read;
//! - `round robin, 60 ms reads`: every stream reads 60 ms of media in turn, as
//!   the server does under load (its read beat grows to 60 ms);
//! - `round robin, 120 ms reads`: the same with twice as much in each read
//!   (`--read-pacing-max 120`).
//!
//! The difference between the first and the others is what a stream's state
//! falling out of the caches between its reads costs. Not included: sockets,
//! tokio, the hub, the RTMP session's command handling.
//!
//! `cargo bench -p benches --bench streams [-- STREAMS]` (default 2,000).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use flv::{ReadEvent, TagType};
use live_ingest::hls::stream::StreamOptions;
use live_ingest::hls::Stream;
use live_ingest::Config;
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, RawMessage};
use rtmp_core::MediaKind;

// The server's allocator (so not `common`, whose counting allocator wraps
// glibc's): the cost of a stream's state depends on where it lives.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Media each stream gets, seconds.
const SECONDS: u64 = 40;
/// The first seconds fill each stream's live window and are not timed.
const WARM_SECONDS: u64 = 30;
/// The server's `copy_payloads_below`.
const COPY_BELOW: usize = 8 * 1024;

/// One stream's input: the chunk bytes and where each message ends in them.
struct Input {
    wire: Bytes,
    /// Per media message: its timestamp and the offset in `wire` after it.
    ends: Vec<(u64, usize)>,
}

impl Input {
    fn messages(&self) -> u64 {
        self.ends.len() as u64
    }
}

/// The file as (kind, timestamp, payload), looped to `SECONDS` with its
/// timestamps continued.
fn media(flv: Vec<u8>) -> Vec<(MediaKind, u64, Bytes)> {
    let mut tags = Vec::new();
    let mut reader = flv::Reader::from_bytes(Bytes::from(flv), flv::ReaderOptions::default());
    while let Ok(Some(event)) = reader.next_event() {
        if let ReadEvent::Tag(tag) = event {
            let kind = match tag.tag_type {
                TagType::Audio => MediaKind::Audio,
                TagType::Video => MediaKind::Video,
                _ => continue,
            };
            tags.push((kind, u64::try_from(tag.timestamp).unwrap_or(0), tag.body));
        }
    }
    let span = tags.iter().map(|t| t.1).max().unwrap_or(0) + 33;
    let rounds = (SECONDS * 1000).div_ceil(span);
    (0..rounds)
        .flat_map(|round| {
            tags.iter()
                .map(move |(kind, ts, body)| (*kind, ts + round * span, body.clone()))
        })
        .take_while(|(_, at, _)| *at < SECONDS * 1000)
        .collect()
}

/// The media as one publisher's chunk stream at 4096 bytes.
fn input(media: &[(MediaKind, u64, Bytes)]) -> Input {
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(4096).expect("a valid chunk size");
    let mut out = ChunkOutput::new();
    let mut wire = BytesMut::new();
    let mut ends = Vec::new();
    for (kind, ts, payload) in media {
        let message = RawMessage {
            chunk_stream_id: if *kind == MediaKind::Video { 6 } else { 4 },
            type_id: if *kind == MediaKind::Video { 9 } else { 8 },
            stream_id: 1,
            timestamp: *ts,
            payload: payload.clone(),
        };
        enc.encode(&message, &mut out);
        out.copy_to(&mut wire);
        ends.push((*ts, wire.len()));
    }
    Input {
        wire: wire.freeze(),
        ends,
    }
}

/// One stream's server side.
struct Publisher {
    decoder: ChunkDecoder,
    stream: Stream,
    /// Bytes of the input read so far, and the next message's index.
    read: usize,
    next: usize,
    buffer: BytesMut,
}

impl Publisher {
    fn new(index: usize, options: &StreamOptions) -> Publisher {
        let mut decoder = ChunkDecoder::new();
        decoder.set_chunk_size(4096).expect("a valid chunk size");
        decoder.set_copy_below(COPY_BELOW);
        let stream = Stream::new(&format!("live/s{index}"), options, 1, None)
            .expect("the default stream options are valid");
        Publisher {
            decoder,
            stream,
            read: 0,
            next: 0,
            buffer: BytesMut::with_capacity(64 * 1024),
        }
    }

    /// One read: the messages up to media time `until` ms, decoded and
    /// handed to the HLS stream. Returns the messages.
    fn read_until(&mut self, input: &Input, until: u64) -> u64 {
        let end = input.ends[self.next..]
            .iter()
            .take_while(|(ts, _)| *ts < until)
            .last()
            .map_or(self.read, |&(_, end)| end);
        self.buffer.extend_from_slice(&input.wire[self.read..end]);
        self.read = end;
        let mut messages = 0;
        while let Ok(Some(message)) = self.decoder.decode(&mut self.buffer) {
            let kind = if message.type_id == 9 {
                MediaKind::Video
            } else {
                MediaKind::Audio
            };
            self.stream
                .media(1, kind, message.timestamp, message.payload);
            messages += 1;
        }
        self.next += messages as usize;
        messages
    }
}

/// Runs every stream from `from` to `to` ms of media in reads of `read_ms`,
/// in `order`; returns the messages handed on and the time it took.
fn run(
    publishers: &mut [Publisher],
    input: &Input,
    (from, to): (u64, u64),
    read_ms: u64,
    round_robin: bool,
) -> (u64, Duration) {
    let started = Instant::now();
    let mut messages = 0;
    if round_robin {
        let mut at = from;
        while at < to {
            at = (at + read_ms).min(to);
            for p in publishers.iter_mut() {
                messages += p.read_until(input, at);
            }
        }
    } else {
        for p in publishers.iter_mut() {
            let mut at = from;
            while at < to {
                at = (at + read_ms).min(to);
                messages += p.read_until(input, at);
            }
        }
    }
    (messages, started.elapsed())
}

/// The three orders: name, read length (ms), round robin.
const ORDERS: [(&str, u64, bool); 3] = [
    ("stream after stream, 60 ms reads", 60, false),
    ("round robin, 60 ms reads", 60, true),
    ("round robin, 120 ms reads", 120, true),
];

fn main() {
    // `[STREAMS] [--order N]`: `--order` runs one order in this process (each
    // gets a fresh process, so one order's freed memory is not the next
    // one's allocator work). `cargo bench` adds `--bench`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let order_at = args.iter().position(|a| a == "--order");
    let streams: usize = args
        .iter()
        .enumerate()
        .filter(|&(i, _)| order_at.is_none_or(|at| i != at + 1))
        .find_map(|(_, a)| a.parse().ok())
        .unwrap_or(2000);
    if let Some(order) = order_at
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
    {
        if let Some(ns) = measure(streams, order) {
            println!("{ns}");
        }
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("benches: cannot find this bench's own executable");
        return;
    };
    let mut results = Vec::new();
    for (order, (name, _, _)) in ORDERS.iter().enumerate() {
        let out = std::process::Command::new(&exe)
            .args([streams.to_string(), "--order".into(), order.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        let Ok(text) = text else {
            eprintln!("benches: cannot run {name}");
            return;
        };
        let mut lines: Vec<&str> = text.lines().collect();
        let Some(ns) = lines.pop().and_then(|l| l.parse::<f64>().ok()) else {
            // The input is missing (said on stderr) or the run failed.
            print!("{text}");
            return;
        };
        lines.iter().for_each(|l| println!("{l}"));
        results.push(ns);
    }
    if let [hot, rr60, rr120] = results[..] {
        println!(
            "ratio round robin 60 ms / stream after stream: {:.2}x (what state out of the caches costs)",
            rr60 / hot
        );
        println!(
            "ratio round robin 120 ms / round robin 60 ms: {:.2}x",
            rr120 / rr60
        );
        let rate = MESSAGES_PER_SECOND;
        println!(
            "per core at 600 kbit/s ({rate:.0} messages/s a stream), this path alone: {:.0} streams round robin at 60 ms, {:.0} at 120 ms",
            1e9 / (rr60 * rate),
            1e9 / (rr120 * rate)
        );
    }
}

/// Media messages a second of the input (30 video frames, 43 AAC frames).
const MESSAGES_PER_SECOND: f64 = 73.1;

/// Runs `ORDERS[order]` for `streams` streams; prints what it did and returns
/// the timed part's nanoseconds per message.
fn measure(streams: usize, order: usize) -> Option<f64> {
    let (name, read_ms, round_robin) = *ORDERS.get(order)?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bench_360p_600k.flv");
    let flv = match std::fs::read(&path) {
        Ok(flv) => flv,
        Err(e) => {
            eprintln!(
                "benches: cannot read {} ({e}); run `benches/setup.sh` first. Skipping this bench.",
                path.display()
            );
            return None;
        }
    };
    let media = media(flv);
    let input = input(&media);
    let rate = input.messages() as f64 / SECONDS as f64;
    assert!(
        (rate - MESSAGES_PER_SECOND).abs() < 1.0,
        "the input has {rate:.1} messages a second, not {MESSAGES_PER_SECOND}"
    );
    let options = StreamOptions::from_config(&Config::default()).expect("the default config");
    if order == 0 {
        println!(
            "streams: {streams} publishers of bench_360p_600k.flv, {SECONDS} s of media each ({} messages, {} bytes of chunks); \
             the first {WARM_SECONDS} s fill the live window, the rest is timed; each order in a fresh process",
            input.messages(),
            input.wire.len()
        );
    }
    let mut publishers: Vec<Publisher> =
        (0..streams).map(|i| Publisher::new(i, &options)).collect();
    let warm = run(
        &mut publishers,
        &input,
        (0, WARM_SECONDS * 1000),
        read_ms,
        round_robin,
    );
    let before = usage();
    let timed = run(
        &mut publishers,
        &input,
        (WARM_SECONDS * 1000, SECONDS * 1000 + 1),
        read_ms,
        round_robin,
    );
    let after = usage();
    assert_eq!(
        warm.0 + timed.0,
        input.messages() * streams as u64,
        "{name}: every message handed on"
    );
    for p in &publishers {
        assert!(
            p.stream.is_live(),
            "{name}: {} has its playlist",
            p.stream.key()
        );
    }
    let ns = timed.1.as_nanos() as f64 / timed.0 as f64;
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "n/a".into());
    let kernel = match (before, after) {
        (Some(b), Some(a)) => format!(
            "{:.0}% in the kernel, {} page faults",
            (a.1 - b.1) as f64 / 100.0 / timed.1.as_secs_f64() * 100.0,
            a.0 - b.0
        ),
        _ => "kernel time n/a".into(),
    };
    println!(
        "streams {name:<34} {:>8.0} ns/message  ({} messages in {:.2} s, {kernel}; warm-up {:.2} s; {rss} resident)",
        ns,
        timed.0,
        timed.1.as_secs_f64(),
        warm.1.as_secs_f64()
    );
    Some(ns)
}

/// This process's minor page faults and system time (in ticks of 1/100 s,
/// Linux's `USER_HZ`), from `/proc/self/stat`.
fn usage() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let minflt = fields.get(7)?.parse().ok()?;
    let stime = fields.get(12)?.parse().ok()?;
    Some((minflt, stime))
}
