//! An RTMP relay: publishers send to `rtmp://HOST/APP/KEY`, any number of players
//! play the same URL, and every stream can be re-published upstream (`--push`).
//!
//! Built only from `rtmp-core`'s public, sans-IO API: each connection is one tokio
//! task that moves bytes between its socket and a [`rtmp_core::ServerSession`]; the
//! [`hub::Hub`] fans messages out to bounded per-player queues.

pub mod connection;
pub mod hub;
pub mod push;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rtmp_core::RtmpUrl;
use tokio::net::TcpListener;
use tracing::{info, warn};

pub use hub::{Hub, HubLimits};

/// What the relay does.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Upstream servers every published stream is re-published to (`rtmp://host/app`;
    /// the stream's key is appended).
    pub push: Vec<RtmpUrl>,
    /// Per-stream and per-player limits.
    pub limits: HubLimits,
    /// Time allowed for the handshake and `connect`.
    pub handshake_timeout: Duration,
    /// Silence after which a connection is dropped.
    pub idle_timeout: Duration,
    /// Send players `NetStream.Play.UnpublishNotify` when their publisher leaves (FFmpeg
    /// and rtmpdump then end at once). Off by default, as in nginx-rtmp: players get
    /// `StreamEOF` and wait for the next publisher.
    pub notify_unpublish: bool,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            push: Vec::new(),
            limits: HubLimits::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            notify_unpublish: false,
        }
    }
}

/// Shared state of a running relay.
pub struct Relay {
    /// The streams.
    pub hub: Hub,
    /// The configuration.
    pub config: RelayConfig,
    next_id: AtomicU64,
}

impl Relay {
    /// A relay with no streams yet.
    pub fn new(config: RelayConfig) -> Arc<Relay> {
        Arc::new(Relay {
            hub: Hub::new(config.limits),
            config,
            next_id: AtomicU64::new(1),
        })
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Accepts connections on `listener` forever, one task each.
pub async fn serve(listener: TcpListener, relay: Arc<Relay>) -> std::io::Result<()> {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let relay = relay.clone();
        let id = relay.next_id();
        tokio::spawn(async move {
            match connection::run(socket, relay, id).await {
                Ok(()) => info!(id, %peer, "connection closed"),
                Err(error) => warn!(id, %peer, %error, "connection ended with an error"),
            }
        });
    }
}

/// Binds `addr` and serves in a background task; returns the bound address.
pub async fn start(addr: SocketAddr, relay: Arc<Relay>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(serve(listener, relay));
    Ok(local)
}

/// The hub key of a stream: the application and the name without its query string.
pub fn stream_key(app: &str, name: &str) -> String {
    let name = name.split_once('?').map_or(name, |(name, _)| name);
    format!("{app}/{name}")
}
