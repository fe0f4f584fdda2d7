//! `/metrics`: Prometheus text exposition, with `prometheus-client`.
//!
//! Counters and gauges that connections update as they go live in [`Metrics`]
//! (atomics, no lock). Per-stream values (bit rates, viewers, segments, probe
//! events) are read from the streams when the page is asked for, so a stream
//! that is gone leaves no series behind. Each [`crate::Server`] has its own
//! metrics, so several servers (or tests) in one process do not mix.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::hls::stream::Snapshot;

/// Failed writes of `--out` files and `--record` recordings, server-wide.
///
/// Every stream holds a clone (the counters are shared, not copied), so a
/// failure is counted where it happens and shown by `/metrics` as
/// `live_ingest_out_write_failures_total` and
/// `live_ingest_record_write_failures_total`.
#[derive(Clone, Debug, Default)]
pub struct WriteFailures {
    out: Counter,
    record: Counter,
}

impl WriteFailures {
    /// A file under `--out` could not be written, renamed or removed.
    pub fn out_failed(&self) {
        self.out.inc();
    }

    /// A recording's write failed.
    pub fn record_failed(&self) {
        self.record.inc();
    }

    /// `--out` failures so far.
    pub fn out(&self) -> u64 {
        self.out.get()
    }

    /// `--record` failures so far.
    pub fn record(&self) -> u64 {
        self.record.get()
    }
}

/// The object store's counters (`--store`), shared with the uploader:
/// `live_ingest_store_uploads_total`, `..._store_upload_failures_total`
/// (each failed attempt; the object is tried again) and
/// `..._store_dropped_total` (objects given up: the spool was full).
#[derive(Clone, Debug, Default)]
pub struct StoreCounters {
    /// Objects uploaded.
    pub uploaded: Counter,
    /// Upload attempts that failed.
    pub failed: Counter,
    /// Objects dropped.
    pub dropped: Counter,
}

/// The server-wide counters and gauges.
#[derive(Debug, Default)]
pub struct Metrics {
    connections: Gauge,
    publishers: Gauge,
    players: Gauge,
    publishes: Counter,
    plays: Counter,
    refused: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    http_requests: Counter,
    http_flv_readers: Gauge,
    tls_handshake_failures: Counter,
    tls_reload_failures: Counter,
    write_failures: WriteFailures,
    store: StoreCounters,
    part_latency: PartLatency,
    /// The publishers' read beat now (it grows with the load).
    read_beat: Gauge<f64, std::sync::atomic::AtomicU64>,
}

/// From the socket read that brought a media message to the moment the part
/// (or segment) it completed is there for blocking-reload waiters:
/// `live_ingest_part_latency_seconds`. The buckets bracket issue 14's target,
/// p99 within 5 ms.
#[derive(Clone, Debug)]
struct PartLatency(Histogram);

/// Bucket bounds, seconds.
const PART_LATENCY_BUCKETS: [f64; 10] = [
    0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25,
];

impl Default for PartLatency {
    fn default() -> PartLatency {
        PartLatency(Histogram::new(PART_LATENCY_BUCKETS))
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    stream: String,
    kind: String,
}

impl Metrics {
    /// All zero.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// The write failure counters, shared with the streams that count them.
    pub fn write_failures(&self) -> &WriteFailures {
        &self.write_failures
    }

    /// The object store's counters, for the uploader to count into.
    pub fn store(&self) -> &StoreCounters {
        &self.store
    }

    pub(crate) fn connection_opened(&self) {
        self.connections.inc();
    }
    pub(crate) fn connection_closed(&self) {
        self.connections.dec();
    }
    pub(crate) fn publisher_started(&self) {
        self.publishers.inc();
        self.publishes.inc();
    }
    pub(crate) fn publisher_ended(&self) {
        self.publishers.dec();
    }
    /// Live publishers now.
    pub(crate) fn live_publishers(&self) -> usize {
        usize::try_from(self.publishers.get()).unwrap_or(0)
    }
    pub(crate) fn player_started(&self) {
        self.players.inc();
        self.plays.inc();
    }
    pub(crate) fn player_ended(&self) {
        self.players.dec();
    }
    pub(crate) fn refused(&self) {
        self.refused.inc();
    }
    pub(crate) fn bytes_in(&self, bytes: usize) {
        self.bytes_in.inc_by(bytes as u64);
    }
    pub(crate) fn bytes_out(&self, bytes: usize) {
        self.bytes_out.inc_by(bytes as u64);
    }
    pub(crate) fn http_request(&self) {
        self.http_requests.inc();
    }
    pub(crate) fn http_flv_started(&self) {
        self.http_flv_readers.inc();
        self.players.inc();
        self.plays.inc();
    }
    #[cfg(feature = "tls")]
    pub(crate) fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.inc();
    }
    #[cfg(feature = "tls")]
    pub(crate) fn tls_reload_failed(&self) {
        self.tls_reload_failures.inc();
    }
    /// The publishers' read beat changed (a publisher came or went).
    pub(crate) fn read_beat(&self, beat: std::time::Duration) {
        self.read_beat.set(beat.as_secs_f64());
    }
    /// A media message read `since` ago completed a part or a segment.
    pub(crate) fn part_published(&self, since: std::time::Duration) {
        self.part_latency.0.observe(since.as_secs_f64());
    }
    pub(crate) fn http_flv_ended(&self) {
        self.http_flv_readers.dec();
        self.players.dec();
    }

    /// The exposition text: these metrics, `dropped` (messages not delivered to a
    /// slow player) and the per-stream values of `streams`.
    pub fn render(&self, dropped: u64, streams: &[Snapshot]) -> String {
        let mut registry = Registry::with_prefix("live_ingest");
        self.register(&mut registry, dropped);
        register_streams(&mut registry, streams);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }

    fn register(&self, registry: &mut Registry, dropped: u64) {
        let gauges = [
            ("connections", "Open RTMP connections", &self.connections),
            ("publishers", "Live publishers", &self.publishers),
            (
                "players",
                "RTMP players and HTTP-FLV readers",
                &self.players,
            ),
            (
                "http_flv_readers",
                "HTTP-FLV readers",
                &self.http_flv_readers,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        let counters = [
            ("publishes", "Publishes accepted", &self.publishes),
            ("plays", "Plays started (RTMP and HTTP-FLV)", &self.plays),
            ("refusals", "Publishes and plays refused", &self.refused),
            ("received_bytes", "RTMP bytes received", &self.bytes_in),
            ("sent_bytes", "RTMP bytes sent", &self.bytes_out),
            (
                "http_requests",
                "HTTP requests answered",
                &self.http_requests,
            ),
            (
                "tls_handshake_failures",
                "RTMPS connections whose TLS handshake failed or timed out",
                &self.tls_handshake_failures,
            ),
            (
                "tls_reload_failures",
                "Certificate reloads refused (the previous certificate stayed in use)",
                &self.tls_reload_failures,
            ),
            (
                "out_write_failures",
                "Files under --out that could not be written, renamed or removed",
                &self.write_failures.out,
            ),
            (
                "record_write_failures",
                "Recording writes that failed (the file ends at its last whole tag)",
                &self.write_failures.record,
            ),
            (
                "store_uploads",
                "Objects uploaded to the object store",
                &self.store.uploaded,
            ),
            (
                "store_upload_failures",
                "Object store uploads that failed (each is tried again)",
                &self.store.failed,
            ),
            (
                "store_dropped",
                "Objects not uploaded: the spool was full (or their file was gone)",
                &self.store.dropped,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "part_latency_seconds",
            "From the socket read of a media message to its part (or segment) being served",
            self.part_latency.0.clone(),
        );
        registry.register(
            "read_beat_seconds",
            "How long a publisher's socket waits between reads now (longer under load: --reads-per-second)",
            self.read_beat.clone(),
        );
        let skipped = Counter::<u64>::default();
        skipped.inc_by(dropped);
        registry.register(
            "player_skipped_messages",
            "Messages a slow player skipped (its queue was full or too old)",
            skipped,
        );
    }
}

fn register_streams(registry: &mut Registry, streams: &[Snapshot]) {
    let bitrate = Family::<StreamLabels, Gauge>::default();
    let viewers = Family::<StreamLabels, Gauge>::default();
    let segments = Family::<StreamLabels, Counter>::default();
    let live = Family::<StreamLabels, Gauge>::default();
    let errors = Family::<StreamLabels, Counter>::default();
    let events = Family::<EventLabels, Counter>::default();
    for s in streams {
        let labels = StreamLabels {
            stream: s.key.clone(),
        };
        let rate: f64 = s.summary.tracks.iter().filter_map(|t| t.bitrate()).sum();
        bitrate.get_or_create(&labels).set(rate.round() as i64);
        viewers.get_or_create(&labels).set(s.viewers as i64);
        segments.get_or_create(&labels).inc_by(s.next_msn);
        live.get_or_create(&labels).set(i64::from(s.live));
        errors.get_or_create(&labels).inc_by(s.errors);
        let counts = media_probe::EventKind::NAMES.iter().zip(s.summary.events);
        for (kind, count) in counts.filter(|(_, count)| *count > 0) {
            events
                .get_or_create(&EventLabels {
                    stream: s.key.clone(),
                    kind: (*kind).to_owned(),
                })
                .inc_by(count);
        }
    }
    registry.register(
        "stream_bitrate_bps",
        "Bit rate of the stream's media",
        bitrate,
    );
    registry.register(
        "stream_viewers",
        "HLS viewers (playlist loads lately)",
        viewers,
    );
    registry.register("stream_segments", "Segments made", segments);
    registry.register("stream_live", "1 while the stream has a publisher", live);
    registry.register(
        "stream_errors",
        "Messages that could not be packaged",
        errors,
    );
    registry.register("stream_probe_events", "media-probe events", events);
}
