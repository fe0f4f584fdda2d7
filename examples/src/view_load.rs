//! `view_load`: many viewers from one process, each checking that what it
//! reads comes in order with no gap the publisher did not cause.
//!
//! Viewer `i` watches stream `PREFIX(i mod STREAMS)` of the application, as
//! one of three kinds chosen by `--mix` (weights, in turn):
//!
//! - **LL-HLS**: loads `/APP/KEY/index.m3u8` once, then asks for each next
//!   part with a blocking reload (`_HLS_msn`/`_HLS_part`, as hls.js and
//!   Safari do) and fetches it, on one kept-alive HTTP/1.1 connection. Every
//!   part must follow the previous one (the same segment's next part, or
//!   the next segment's first); a part no longer listed when asked for is a
//!   **gap**, unless a publisher change (`EXT-X-DISCONTINUITY` or
//!   `EXT-X-ENDLIST`) lies between. Each part's `tfdt` per track must grow.
//! - **HTTP-FLV**: reads `/APP/KEY.flv`; each track's timestamps must not
//!   go back (within one connection).
//! - **RTMP play**: plays the key over RTMP; the same timestamp check.
//!
//! A stream whose publisher left (404, `EXT-X-ENDLIST`, the FLV or RTMP
//! stream ended) is waited for and read again when it returns: that is the
//! publisher's gap, counted apart (`waits`). The report (every `--report`
//! seconds on stderr, at the end as JSON on stdout) counts viewers, reads,
//! bytes, gaps, order errors and failures; the exit status is 3 when any
//! viewer saw a gap or a read out of order, 1 on failures to read at all.

mod flv_viewer;
mod hls_viewer;
mod http;
mod rtmp_viewer;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The usage text.
pub const USAGE: &str =
    "usage: view_load --http HOST:PORT [--rtmp HOST:PORT] --streams N --viewers V \
[--app APP] [--prefix P] [--mix HLS,FLV,RTMP] [--duration S] [--report S]

  --http ADDR     the server's HTTP address (LL-HLS and HTTP-FLV)
  --rtmp ADDR     its RTMP address (needed when the mix has RTMP viewers)
  --streams N     the keys watched: PREFIX0 .. PREFIX(N-1)
  --viewers V     concurrent viewers, viewer i on key i mod N
  --app APP       the application (live)
  --prefix P      the keys' prefix (load, as rtmp_load names them)
  --mix H,F,R     weights of LL-HLS, HTTP-FLV and RTMP play viewers (1,0,0)
  --duration S    stop after S seconds (default: until interrupted)
  --report S      print a report every S seconds (5)";

/// What to run.
#[derive(Clone, Debug)]
pub struct ViewArgs {
    /// The server's HTTP address.
    pub http: SocketAddr,
    /// Its RTMP address.
    pub rtmp: Option<SocketAddr>,
    /// Keys watched.
    pub streams: usize,
    /// Viewers.
    pub viewers: usize,
    /// Application.
    pub app: String,
    /// Key prefix.
    pub prefix: String,
    /// Weights of the three kinds.
    pub mix: [u32; 3],
    /// How long to run.
    pub duration: Option<Duration>,
    /// Report interval.
    pub report: Duration,
}

/// A viewer's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// LL-HLS parts by blocking reloads.
    Hls,
    /// HTTP-FLV.
    Flv,
    /// RTMP play.
    Rtmp,
}

fn parse_addr(name: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{name}: expected HOST:PORT with an IP address, got {text:?}"))
}

fn parse_count(name: &str, text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| format!("{name}: expected a number from 1 to 1000000, got {text:?}"))
}

fn parse_seconds(name: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e7)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{name}: expected seconds, got {text:?}"))
}

fn parse_mix(text: &str) -> Result<[u32; 3], String> {
    let weights: Vec<u32> = text
        .split(',')
        .map(|w| w.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--mix: expected three weights like 6,3,1, got {text:?}"))?;
    match weights.as_slice() {
        [h, f, r] if h + f + r > 0 && h + f + r <= 1000 => Ok([*h, *f, *r]),
        _ => Err(format!(
            "--mix: expected three weights (LL-HLS, HTTP-FLV, RTMP) summing to 1..1000, got {text:?}"
        )),
    }
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<ViewArgs, String> {
    let mut parsed = ViewArgs {
        http: SocketAddr::from(([127, 0, 0, 1], 8080)),
        rtmp: None,
        streams: 0,
        viewers: 0,
        app: "live".into(),
        prefix: "load".into(),
        mix: [1, 0, 0],
        duration: None,
        report: Duration::from_secs(5),
    };
    let mut http = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-h" || arg == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = iter
            .next()
            .ok_or_else(|| format!("{arg} needs a value (see --help)"))?;
        match arg.as_str() {
            "--http" => http = Some(parse_addr(arg, value)?),
            "--rtmp" => parsed.rtmp = Some(parse_addr(arg, value)?),
            "--streams" => parsed.streams = parse_count(arg, value)?,
            "--viewers" => parsed.viewers = parse_count(arg, value)?,
            "--app" => parsed.app = value.clone(),
            "--prefix" => parsed.prefix = value.clone(),
            "--mix" => parsed.mix = parse_mix(value)?,
            "--duration" => parsed.duration = Some(parse_seconds(arg, value)?),
            "--report" => parsed.report = parse_seconds(arg, value)?,
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    parsed.http = http.ok_or("--http is required")?;
    if parsed.streams == 0 || parsed.viewers == 0 {
        return Err("--streams and --viewers are required".into());
    }
    if parsed.mix[2] > 0 && parsed.rtmp.is_none() {
        return Err("--rtmp is required when --mix has RTMP viewers".into());
    }
    Ok(parsed)
}

impl ViewArgs {
    /// The kind of viewer `i`: the weights taken in turn.
    pub fn kind(&self, i: usize) -> Kind {
        let total: u32 = self.mix.iter().sum();
        let slot = (i as u64 % u64::from(total.max(1))) as u32;
        if slot < self.mix[0] {
            Kind::Hls
        } else if slot < self.mix[0] + self.mix[1] {
            Kind::Flv
        } else {
            Kind::Rtmp
        }
    }
}

/// Counters every viewer adds to.
#[derive(Debug, Default)]
pub struct Counters {
    /// Viewers reading now.
    pub reading: AtomicU64,
    /// Parts (LL-HLS) or media messages (FLV, RTMP) read.
    pub reads: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Parts no longer listed when asked for, with no publisher change between.
    pub gaps: AtomicU64,
    /// Reads out of order (a part not following the previous one, a
    /// `tfdt` or timestamp going back).
    pub disorder: AtomicU64,
    /// Waits for a publisher that left (404, `EXT-X-ENDLIST`, stream end).
    pub waits: AtomicU64,
    /// Requests or connections that failed (the viewer retries).
    pub failures: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Seconds since the start.
    pub elapsed_ms: u64,
    /// Viewers started.
    pub viewers: usize,
    /// The counters' values.
    pub reading: u64,
    /// Reads.
    pub reads: u64,
    /// Bytes.
    pub bytes: u64,
    /// Gaps.
    pub gaps: u64,
    /// Out of order.
    pub disorder: u64,
    /// Publisher waits.
    pub waits: u64,
    /// Failures.
    pub failures: u64,
}

impl Report {
    fn of(counters: &Counters, viewers: usize, start: Instant) -> Report {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Report {
            elapsed_ms: start.elapsed().as_millis() as u64,
            viewers,
            reading: get(&counters.reading),
            reads: get(&counters.reads),
            bytes: get(&counters.bytes),
            gaps: get(&counters.gaps),
            disorder: get(&counters.disorder),
            waits: get(&counters.waits),
            failures: get(&counters.failures),
        }
    }

    /// The report as one JSON object.
    pub fn json(&self) -> String {
        serde_json::json!({
            "elapsed_s": self.elapsed_ms as f64 / 1000.0,
            "viewers": self.viewers,
            "reading": self.reading,
            "reads": self.reads,
            "bytes": self.bytes,
            "gaps": self.gaps,
            "disorder": self.disorder,
            "waits": self.waits,
            "failures": self.failures,
        })
        .to_string()
    }
}

/// Where a viewer reads and what it counts into.
#[derive(Clone, Debug)]
pub struct Target {
    /// The server's HTTP address.
    pub http: SocketAddr,
    /// Its RTMP address.
    pub rtmp: Option<SocketAddr>,
    /// The application.
    pub app: String,
    /// The key's name.
    pub name: String,
    /// Shared counters.
    pub counters: Arc<Counters>,
}

async fn view(kind: Kind, target: Target) {
    match kind {
        Kind::Hls => hls_viewer::run(target).await,
        Kind::Flv => flv_viewer::run(target).await,
        Kind::Rtmp => rtmp_viewer::run(target).await,
    }
}

/// Runs the viewers until `args.duration` (or forever), calling `report`
/// every `args.report`; returns the final report.
pub async fn run(args: &ViewArgs, mut report: impl FnMut(&Report)) -> Report {
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    // Spread the starts over up to 2 s so the first reloads do not all
    // land in one millisecond.
    let spread =
        Duration::from_millis(2000 / args.viewers.max(1) as u64).min(Duration::from_millis(20));
    for i in 0..args.viewers {
        let target = Target {
            http: args.http,
            rtmp: args.rtmp,
            app: args.app.clone(),
            name: format!("{}{}", args.prefix, i % args.streams),
            counters: counters.clone(),
        };
        let kind = args.kind(i);
        tasks.spawn(async move {
            tokio::time::sleep(spread * i as u32).await;
            view(kind, target).await;
        });
    }
    let mut ticker = tokio::time::interval(args.report);
    ticker.tick().await;
    let stop = async {
        match args.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => report(&Report::of(&counters, args.viewers, start)),
        }
    }
    tasks.abort_all();
    Report::of(&counters, args.viewers, start)
}

/// The program: parses `args`, runs, prints reports on `err` and the final
/// one as JSON on `out`; returns the exit status.
pub async fn main_with_args(
    args: &[String],
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(err, "view_load: {message}");
            return 2;
        }
    };
    let last = run(&args, |r| {
        let _ = writeln!(
            err,
            "view_load: {:>6.1} s  {} viewers  {} reading  {} reads  {:.1} Mbit/s  {} gaps  {} out of order  {} waits  {} failures",
            r.elapsed_ms as f64 / 1000.0,
            r.viewers,
            r.reading,
            r.reads,
            r.bytes as f64 * 8.0 / (r.elapsed_ms.max(1) as f64 / 1000.0) / 1e6,
            r.gaps,
            r.disorder,
            r.waits,
            r.failures,
        );
    })
    .await;
    let _ = writeln!(out, "{}", last.json());
    if last.gaps > 0 || last.disorder > 0 {
        3
    } else if last.reads == 0 {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments() {
        let args = parse_args(&list(&[
            "--http",
            "127.0.0.1:8080",
            "--rtmp",
            "127.0.0.1:1935",
            "--streams",
            "10",
            "--viewers",
            "100",
            "--mix",
            "6,3,1",
        ]))
        .expect("valid");
        assert_eq!(args.mix, [6, 3, 1]);
        let kinds: Vec<Kind> = (0..10).map(|i| args.kind(i)).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Hls).count(), 6);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Flv).count(), 3);
        assert_eq!(kinds[9], Kind::Rtmp);
        for bad in [
            &["--http", "localhost:80", "--streams", "1", "--viewers", "1"][..],
            &["--http", "127.0.0.1:80", "--streams", "0", "--viewers", "1"],
            &[
                "--http",
                "127.0.0.1:80",
                "--streams",
                "1",
                "--viewers",
                "1",
                "--mix",
                "1,1",
            ],
            &[
                "--http",
                "127.0.0.1:80",
                "--streams",
                "1",
                "--viewers",
                "1",
                "--mix",
                "0,0,1",
            ],
            &["--http", "127.0.0.1:80", "--streams", "1"],
            &["--streams"],
        ] {
            assert!(parse_args(&list(bad)).is_err(), "{bad:?}");
        }
        assert!(parse_args(&list(&["--help"]))
            .unwrap_err()
            .contains("usage"));
    }
}
