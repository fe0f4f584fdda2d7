//! `rtmp_to_hls`: an ingest server. Publishers send RTMP to
//! `rtmp://HOST/APP/KEY`; viewers play `http://HOST:PORT/APP/KEY/index.m3u8`
//! (fMP4 with Low-Latency HLS parts by default, or MPEG-TS).
//!
//! Built only from the crate family's public API, with tokio and hyper:
//!
//! - [`ingest`]: one task per RTMP connection drives a
//!   [`rtmp_core::ServerSession`]; a publish is authorised ([`auth`]: an
//!   allow list and/or an HTTP callback), then every audio and video message
//!   goes to its [`stream::Stream`].
//! - [`stream`]: per stream, an FLV tag body → [`flv::MediaEvents`] →
//!   [`hls_mux::FlvAdapter`] → [`hls_mux::Muxer`] pipeline, the init
//!   segments, segments and parts it produced (in memory, bounded by the
//!   live window), a [`media_probe::Probe`] for `/stats`, and optionally an
//!   FLV recording ([`record`]) and files on disk ([`disk`]).
//! - [`registry`]: the streams by key: one live publisher per key; a stream
//!   whose publisher left keeps its ended playlist for a grace period, and a
//!   publisher that comes back within it continues the same playlist after
//!   a discontinuity ([`hls_mux::Muxer::restart`]).
//! - [`http`]: playlists (with the LL-HLS blocking reload answered by
//!   [`hls_mux::playlist::MediaPlaylist::answer`]), init segments,
//!   segments and parts from memory, CORS, `/stats` ([`stats`]) and an HTML
//!   page with an hls.js player ([`page`]).
//!
//! [`start`] runs it all in the current tokio runtime (the tests do that
//! in-process); `examples/rtmp_to_hls.rs` is the command line ([`args`]).

pub mod args;
pub mod auth;
pub mod disk;
pub mod http;
pub mod ingest;
pub mod page;
pub mod record;
pub mod registry;
pub mod stats;
pub mod stream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hls_mux::Format;
use rtmp_core::RtmpUrl;
use tokio::net::TcpListener;
use tracing::warn;

use crate::relay::{Relay, RelayConfig};

pub use registry::Registry;

/// Where hls.js is served from by default: the npm package `install.sh` puts there.
pub const DEFAULT_HLSJS: &str = "/opt/peers/web/node_modules/hls.js/dist/hls.min.js";

/// What the server does.
#[derive(Clone, Debug)]
pub struct Config {
    /// RTMP listen address.
    pub rtmp: SocketAddr,
    /// HTTP listen address.
    pub http: SocketAddr,
    /// Segment container.
    pub format: Format,
    /// Target segment duration, seconds.
    pub target_duration: f64,
    /// LL-HLS part target, seconds (fMP4 only); `None` for no parts.
    pub part_duration: Option<f64>,
    /// Segments in the live playlist; 0 for an EVENT playlist that keeps every segment.
    pub window: usize,
    /// Also write segments and playlists under this directory (`DIR/APP/KEY/`).
    pub out: Option<PathBuf>,
    /// Record each publish as an FLV file in this directory.
    pub record: Option<PathBuf>,
    /// Re-publish every stream to these servers (`rtmp://host/app`, the key appended).
    pub push: Vec<RtmpUrl>,
    /// Stream names allowed to publish (empty: any).
    pub allow: Vec<String>,
    /// `http://` URL asked before each publish (nginx-rtmp's `on_publish`): a 2xx
    /// answer allows it, anything else refuses it.
    pub on_publish: Option<auth::CallbackUrl>,
    /// How long an ended stream keeps its playlist and segments.
    pub grace: Duration,
    /// The hls.js file the page at `/` uses.
    pub hlsjs: PathBuf,
    /// Time allowed for the RTMP handshake and `connect`.
    pub handshake_timeout: Duration,
    /// RTMP silence after which a connection is dropped.
    pub idle_timeout: Duration,
    /// Streams at most (live or in their grace period); publishes past it are refused.
    pub max_streams: usize,
    /// A publisher's socket is read at most once per this period (on a grid shared by
    /// every connection), so what arrives meanwhile is read and packaged in one go: far
    /// fewer wake-ups and system calls per stream, for at most this much more latency.
    /// Zero reads as soon as anything arrives.
    pub read_pacing: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rtmp: SocketAddr::from(([127, 0, 0, 1], 1935)),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            format: Format::Fmp4,
            target_duration: 2.0,
            part_duration: Some(0.5),
            window: 6,
            out: None,
            record: None,
            push: Vec::new(),
            allow: Vec::new(),
            on_publish: None,
            grace: Duration::from_secs(60),
            hlsjs: PathBuf::from(DEFAULT_HLSJS),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_streams: 10_000,
            read_pacing: Duration::from_millis(20),
        }
    }
}

/// The running server's shared state.
pub struct Server {
    /// The configuration.
    pub config: Config,
    /// The streams.
    pub registry: Registry,
    /// The fan-out to `--push` upstreams (only fed when there are any).
    pub relay: Option<Arc<Relay>>,
    next_id: AtomicU64,
}

impl Server {
    /// A server with no streams yet.
    pub fn new(config: Config) -> Arc<Server> {
        let relay = (!config.push.is_empty()).then(|| {
            Relay::new(RelayConfig {
                push: config.push.clone(),
                ..RelayConfig::default()
            })
        });
        Arc::new(Server {
            registry: Registry::new(&config),
            config,
            relay,
            next_id: AtomicU64::new(1),
        })
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// The addresses a started server listens on.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// RTMP.
    pub rtmp: SocketAddr,
    /// HTTP.
    pub http: SocketAddr,
}

/// Binds both listeners of `server.config` and serves them (and the reaper of
/// ended streams) in background tasks of the current runtime.
pub async fn start(server: Arc<Server>) -> std::io::Result<Bound> {
    let rtmp = TcpListener::bind(server.config.rtmp).await?;
    let http = TcpListener::bind(server.config.http).await?;
    let bound = Bound {
        rtmp: rtmp.local_addr()?,
        http: http.local_addr()?,
    };
    tokio::spawn(serve_rtmp(rtmp, server.clone()));
    tokio::spawn(http::serve(http, server.clone()));
    tokio::spawn(reap(server));
    Ok(bound)
}

/// Accepts RTMP connections forever, one task each.
pub async fn serve_rtmp(listener: TcpListener, server: Arc<Server>) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "rtmp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(ingest::run(socket, peer, server));
    }
}

/// Forgets streams whose grace period is over, once a second.
async fn reap(server: Arc<Server>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        server.registry.reap(std::time::Instant::now());
    }
}

/// Whether `part` can be one path segment of a stream key (`APP` or `KEY`):
/// 1 to 128 of `A-Z a-z 0-9 _ - .`, not starting with a dot. Keys become URL
/// paths and directory names, so nothing else is accepted.
pub fn valid_name(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 128
        && !part.starts_with('.')
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}
