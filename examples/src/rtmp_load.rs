//! `rtmp_load`: N real-time RTMP publishers from one process, for measuring
//! how many streams a server takes without N encoder processes.
//!
//! The FLV file is read once; every publisher is a task with its own
//! [`rtmp_core::ClientSession`] that sends the file's tags at their
//! timestamps (real time), in a loop, with the timestamps continued across
//! loops (each loop starts one frame after the previous one ended). Stream
//! `i` publishes to `rtmp://HOST/APP/PREFIXi`.
//!
//! A publisher falls behind real time when a tag goes out later than its
//! time by more than the threshold: the server is not reading fast enough
//! (TCP pushes back) or this process cannot keep up. The lag of each send
//! is measured; reports say how many streams are behind.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use flv::{ReadEvent, TagType};
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, MediaKind, RtmpUrl};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use rtmp_core::io::write_output;

/// The usage text.
pub const USAGE: &str =
    "usage: rtmp_load --streams N --url rtmp://HOST[:PORT]/APP[/PREFIX] --file F.flv \
[--duration S] [--ramp S] [--behind-ms MS] [--send-beat MS] [--report S]

  --streams N      concurrent publishers
  --url URL        server and application; stream i publishes PREFIXi (PREFIX defaults to load)
  --file F.flv     what every publisher sends, in real time, looped
  --duration S     stop after S seconds (default: run until interrupted)
  --ramp S         spread the publishers' starts over S seconds (default N x 20 ms, at most 5 s)
  --behind-ms MS   a send later than its time by more than MS is behind real time (1000)
  --send-beat MS   every publisher sends what is due on a shared MS beat, in one write (10);
                   longer beats cost this process less (fewer TCP segments)
  --report S       print a report every S seconds (5)";

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadArgs {
    /// Publishers.
    pub streams: usize,
    /// Server and application; the key is the name prefix.
    pub url: RtmpUrl,
    /// The FLV file.
    pub file: PathBuf,
    /// How long to run.
    pub duration: Option<Duration>,
    /// Start spread.
    pub ramp: Duration,
    /// Lag above which a publisher is behind.
    pub behind: Duration,
    /// Report interval.
    pub report: Duration,
    /// The shared beat on which publishers send what is due.
    pub send_beat: Duration,
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<LoadArgs, String> {
    let mut streams = None;
    let mut url = None;
    let mut file = None;
    let mut duration = None;
    let mut ramp = None;
    let mut behind = Duration::from_millis(1000);
    let mut report = Duration::from_secs(5);
    let mut send_beat = Duration::from_millis(10);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let seconds = |name: &str, text: String| -> Result<Duration, String> {
            text.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e7)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{name} takes seconds, not {text:?}"))
        };
        match arg.as_str() {
            "--streams" => {
                streams = Some(
                    value("--streams")?
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| (1..=100_000).contains(&n))
                        .ok_or("--streams takes a number from 1 to 100000")?,
                )
            }
            "--url" => {
                let parsed = RtmpUrl::parse(&value("--url")?).map_err(|e| format!("--url: {e}"))?;
                // The load generator measures the server's RTMP path; it has no TLS client.
                if parsed.tls {
                    return Err("--url: expected rtmp://, got rtmps:// (not supported here)".into());
                }
                url = Some(parsed)
            }
            "--file" => file = Some(PathBuf::from(value("--file")?)),
            "--duration" => duration = Some(seconds("--duration", value("--duration")?)?),
            "--ramp" => ramp = Some(seconds("--ramp", value("--ramp")?)?),
            "--behind-ms" => {
                behind = Duration::from_millis(
                    value("--behind-ms")?
                        .parse()
                        .map_err(|_| "--behind-ms takes milliseconds")?,
                )
            }
            "--send-beat" => {
                send_beat = Duration::from_millis(
                    value("--send-beat")?
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| (1..=1000).contains(ms))
                        .ok_or("--send-beat takes milliseconds from 1 to 1000")?,
                )
            }
            "--report" => {
                report = seconds("--report", value("--report")?)?.max(Duration::from_millis(100))
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let streams = streams.ok_or("--streams is required")?;
    let mut url = url.ok_or("--url is required")?;
    if url.key.is_empty() {
        url.key = "load".into();
    }
    Ok(LoadArgs {
        streams,
        url,
        file: file.ok_or("--file is required")?,
        duration,
        ramp: ramp.unwrap_or_else(|| {
            (Duration::from_millis(20) * streams as u32).min(Duration::from_secs(5))
        }),
        behind,
        report,
        send_beat,
    })
}

/// One tag of the file, ready to send.
#[derive(Clone, Debug)]
pub struct Item {
    /// Audio, video or data.
    pub kind: MediaKind,
    /// Milliseconds from the file's first tag.
    pub offset: u64,
    /// The tag body.
    pub payload: Bytes,
}

/// The file's tags and the length of one loop.
#[derive(Clone, Debug)]
pub struct Media {
    /// The tags in file order (audio, video and script data).
    pub items: Arc<[Item]>,
    /// Milliseconds from one loop's start to the next's: the last tag's
    /// offset plus one frame.
    pub loop_ms: u64,
}

/// Reads `data` (a whole FLV file) into the tags to send.
pub fn load(data: Bytes) -> Result<Media, String> {
    let mut tags = Vec::new();
    let mut reader = flv::Reader::from_bytes(data, flv::ReaderOptions::default());
    while let Some(event) = reader.next_event().map_err(|e| e.to_string())? {
        if let ReadEvent::Tag(tag) = event {
            let kind = match tag.tag_type {
                TagType::Audio => MediaKind::Audio,
                TagType::Video => MediaKind::Video,
                TagType::Script => MediaKind::Data,
                _ => continue,
            };
            tags.push((kind, tag.timestamp, tag.body));
        }
    }
    let first = tags
        .iter()
        .map(|t| t.1)
        .min()
        .ok_or("the file has no audio, video or data tag")?;
    let mut items: Vec<Item> = tags
        .into_iter()
        .map(|(kind, ts, payload)| Item {
            kind,
            // Timestamps never step below the first one in the offsets.
            offset: u64::try_from(ts - first).unwrap_or(0),
            payload,
        })
        .collect();
    // The file as a publisher would send it: keep order, never go back.
    let mut last = 0;
    for item in &mut items {
        item.offset = item.offset.max(last);
        last = item.offset;
    }
    let media_offsets: Vec<u64> = items
        .iter()
        .filter(|i| i.kind == MediaKind::Video)
        .map(|i| i.offset)
        .collect();
    let step = match media_offsets.as_slice() {
        [.., a, b] if b > a => b - a,
        _ => 40,
    };
    Ok(Media {
        items: items.into(),
        loop_ms: last + step,
    })
}

/// What one publisher is doing.
#[derive(Debug, Default)]
pub struct Counters {
    /// 0 connecting, 1 publishing, 2 failed, 3 done.
    pub state: AtomicU8,
    /// Lag of the latest send, ms.
    pub lag_ms: AtomicU64,
    /// Largest lag so far, ms.
    pub max_lag_ms: AtomicU64,
    /// Payload bytes sent.
    pub bytes: AtomicU64,
    /// Loops of the file started.
    pub loops: AtomicU64,
}

/// Publisher states in [`Counters::state`].
pub mod state {
    /// Connecting.
    pub const CONNECTING: u8 = 0;
    /// Publishing.
    pub const PUBLISHING: u8 = 1;
    /// Failed.
    pub const FAILED: u8 = 2;
    /// Stopped at the end of the run.
    pub const DONE: u8 = 3;
}

/// A report over every publisher.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Seconds since the start.
    pub elapsed: f64,
    /// Publishers.
    pub streams: usize,
    /// Publishing now.
    pub publishing: usize,
    /// Failed.
    pub failed: usize,
    /// Publishers whose latest send was behind.
    pub behind: usize,
    /// Publishers that were behind at some point.
    pub ever_behind: usize,
    /// Largest lag of any publisher so far, ms.
    pub max_lag_ms: u64,
    /// Payload bytes sent by all.
    pub bytes: u64,
}

impl Report {
    /// One line of JSON.
    pub fn json(&self) -> String {
        format!(
            "{{\"elapsed_s\":{:.1},\"streams\":{},\"publishing\":{},\"failed\":{},\"behind\":{},\"ever_behind\":{},\"max_lag_ms\":{},\"bytes\":{}}}",
            self.elapsed, self.streams, self.publishing, self.failed, self.behind, self.ever_behind, self.max_lag_ms, self.bytes
        )
    }
}

fn report(all: &[Arc<Counters>], started: Instant, behind: Duration) -> Report {
    let behind_ms = behind.as_millis() as u64;
    let mut report = Report {
        elapsed: started.elapsed().as_secs_f64(),
        streams: all.len(),
        ..Report::default()
    };
    for c in all {
        match c.state.load(Ordering::Relaxed) {
            state::PUBLISHING | state::DONE => report.publishing += 1,
            state::FAILED => report.failed += 1,
            _ => {}
        }
        if c.lag_ms.load(Ordering::Relaxed) > behind_ms {
            report.behind += 1;
        }
        let max = c.max_lag_ms.load(Ordering::Relaxed);
        if max > behind_ms {
            report.ever_behind += 1;
        }
        report.max_lag_ms = report.max_lag_ms.max(max);
        report.bytes += c.bytes.load(Ordering::Relaxed);
    }
    report
}

/// Runs the publishers; calls `on_report` every report interval and
/// returns the final report.
pub async fn run(args: &LoadArgs, mut on_report: impl FnMut(&Report)) -> Result<Report, String> {
    let data = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let media = load(Bytes::from(data))?;
    let started = Instant::now();
    let stop = args.duration.map(|d| started + d);
    let all: Vec<Arc<Counters>> = (0..args.streams)
        .map(|_| Arc::new(Counters::default()))
        .collect();
    let mut tasks = Vec::with_capacity(args.streams);
    for (i, counters) in all.iter().enumerate() {
        let start_at = started + args.ramp.mul_f64(i as f64 / args.streams.max(1) as f64);
        let url = args.url.clone();
        let name = format!("{}{i}", url.key);
        let media = media.clone();
        let counters = counters.clone();
        let beat = args.send_beat;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start_at.into()).await;
            let result = publish(&url, &name, &media, &counters, stop, beat).await;
            counters.state.store(
                if result.is_ok() {
                    state::DONE
                } else {
                    state::FAILED
                },
                Ordering::Relaxed,
            );
            if let Err(error) = result {
                tracing::warn!(name, error, "publisher failed");
            }
        }));
    }
    // Check for the end often; report every `args.report`.
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut next_report = started + args.report;
    loop {
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::select! {
            _ = tick.tick() => {
                if Instant::now() >= next_report {
                    next_report += args.report;
                    on_report(&report(&all, started, args.behind));
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    for task in &tasks {
        task.abort();
    }
    Ok(report(&all, started, args.behind))
}

/// One publisher, until `stop` (or an error).
async fn publish(
    url: &RtmpUrl,
    name: &str,
    media: &Media,
    counters: &Counters,
    stop: Option<Instant>,
    beat: Duration,
) -> Result<(), String> {
    let socket = tokio::time::timeout(
        Duration::from_secs(10),
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?
    .map_err(|e| format!("connect: {e}"))?;
    socket.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = socket.into_split();
    let mut client = ClientSession::new(ClientConfig::new(&url.app, url.tc_url()), Instant::now());
    client.publish(name, "live");
    let mut input = BytesMut::with_capacity(16 * 1024);
    let write = |e: std::io::Error| format!("write: {e}");

    // Until the publish starts (the session fails itself after its start timeout).
    while !client.is_active() {
        write_output(&mut writer, client.output())
            .await
            .map_err(write)?;
        let deadline = client.poll_timeout();
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                if read.map_err(|e| format!("read: {e}"))? == 0 {
                    return Err("the server closed the connection".into());
                }
                client
                    .handle_input(&mut input, Instant::now())
                    .map_err(|e| e.to_string())?;
            }
            () = rtmp_core::io::sleep_until(deadline) => {
                client.handle_timeout(Instant::now()).map_err(|e| e.to_string())?;
            }
        }
        check_events(&mut client)?;
    }
    counters.state.store(state::PUBLISHING, Ordering::Relaxed);

    let begin = Instant::now();
    let mut index = 0usize;
    let mut round: u64 = 0;
    let behind_since = |due_ms: u64| begin + Duration::from_millis(due_ms);
    loop {
        if index == media.items.len() {
            index = 0;
            round += 1;
        }
        if index == 0 {
            counters.loops.fetch_add(1, Ordering::Relaxed);
        }
        let base = round * media.loop_ms;
        let due_ms = base + media.items[index].offset;
        let due = behind_since(due_ms);
        if stop.is_some_and(|stop| due >= stop) {
            client.close();
            let _ = write_output(&mut writer, client.output()).await;
            return Ok(());
        }
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                if read.map_err(|e| format!("read: {e}"))? == 0 {
                    return Err("the server closed the connection".into());
                }
                client.handle_input(&mut input, Instant::now()).map_err(|e| e.to_string())?;
                check_events(&mut client)?;
            }
            () = tokio::time::sleep_until(live_ingest::beat::next(beat, due)) => {
                // Everything due now goes out in one write.
                let mut sent = 0u64;
                while index < media.items.len() {
                    let item = &media.items[index];
                    let at = base + item.offset;
                    if behind_since(at) > Instant::now() {
                        break;
                    }
                    // Metadata once, at the start: a publisher sends it once.
                    if item.kind != MediaKind::Data || round == 0 {
                        client.send_media(item.kind, at, item.payload.clone());
                        sent += item.payload.len() as u64;
                    }
                    index += 1;
                }
                write_output(&mut writer, client.output()).await.map_err(write)?;
                let lag = Instant::now().saturating_duration_since(due).as_millis() as u64;
                counters.lag_ms.store(lag, Ordering::Relaxed);
                counters.max_lag_ms.fetch_max(lag, Ordering::Relaxed);
                counters.bytes.fetch_add(sent, Ordering::Relaxed);
            }
        }
        // Acknowledgements and pong answers the session queued.
        if !client.output().is_empty() {
            write_output(&mut writer, client.output())
                .await
                .map_err(write)?;
        }
    }
}

fn check_events(client: &mut ClientSession) -> Result<(), String> {
    while let Some(event) = client.poll_event() {
        match event {
            ClientEvent::ConnectFailed(status) => {
                return Err(format!("connect refused: {}", status.code))
            }
            ClientEvent::Status { status, .. } if status.is_error() => {
                return Err(format!("{}: {}", status.code, status.description))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The command: returns the exit code (0: every stream kept up; 3: some fell
/// behind; 1: some failed; 2: bad arguments). Progress and errors go to
/// `err`, the final report as JSON to `out`.
pub async fn main_with_args(
    args: &[String],
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(err, "rtmp_load: {message}");
            return 2;
        }
    };
    let result = run(&args, |r| {
        let _ = writeln!(
            err,
            "rtmp_load: {:>6.1} s  {} streams  {} publishing  {} failed  {} behind now  {} ever behind  max lag {} ms  {:.1} Mbit/s",
            r.elapsed,
            r.streams,
            r.publishing,
            r.failed,
            r.behind,
            r.ever_behind,
            r.max_lag_ms,
            r.bytes as f64 * 8.0 / r.elapsed.max(0.001) / 1e6
        );
    })
    .await;
    match result {
        Ok(report) => {
            let _ = writeln!(out, "{}", report.json());
            if report.failed > 0 {
                1
            } else if report.ever_behind > 0 {
                3
            } else {
                0
            }
        }
        Err(message) => {
            let _ = writeln!(err, "rtmp_load: {message}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let args = parse_args(&list(&[
            "--streams",
            "40",
            "--url",
            "rtmp://127.0.0.1:1935/live",
            "--file",
            "a.flv",
        ]))
        .unwrap();
        assert_eq!(args.streams, 40);
        assert_eq!(args.url.key, "load");
        assert_eq!(args.ramp, Duration::from_millis(800));
        assert!(parse_args(&list(&[
            "--streams",
            "0",
            "--url",
            "rtmp://h/a",
            "--file",
            "f"
        ]))
        .is_err());
        assert!(parse_args(&list(&["--url", "rtmp://h/a", "--file", "f"]))
            .unwrap_err()
            .contains("--streams"));
        let tls = ["--streams", "1", "--url", "rtmps://h/a", "--file", "f"];
        assert!(parse_args(&list(&tls)).unwrap_err().contains("rtmps://"));
        assert_eq!(args.send_beat, Duration::from_millis(10));
        let beat = ["--streams", "1", "--url", "rtmp://h/a", "--file", "f"];
        let with = |ms: &str| parse_args(&list(&[&beat[..], &["--send-beat", ms]].concat()));
        assert_eq!(with("40").unwrap().send_beat, Duration::from_millis(40));
        assert!(with("0").unwrap_err().contains("--send-beat"));
        assert!(with("1001").is_err());
    }

    #[test]
    fn a_loop_lasts_the_file_and_one_frame() {
        // Header, then video at 0, 40, 80 and audio at 20.
        let mut file = BytesMut::new();
        let mut writer = flv::Writer::new(flv::WriterOptions::default());
        writer.header(true, true, &mut file);
        for (tag_type, ts) in [
            (TagType::Video, 0),
            (TagType::Audio, 20),
            (TagType::Video, 40),
            (TagType::Video, 80),
        ] {
            writer
                .write(
                    tag_type,
                    1000 + ts,
                    Bytes::from_static(b"\x17\x01"),
                    &mut file,
                )
                .unwrap();
        }
        let media = load(file.freeze()).unwrap();
        let offsets: Vec<u64> = media.items.iter().map(|i| i.offset).collect();
        assert_eq!(offsets, [0, 20, 40, 80]);
        assert_eq!(media.loop_ms, 120);
        assert!(load(Bytes::from_static(
            b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"
        ))
        .is_err());
    }
}
