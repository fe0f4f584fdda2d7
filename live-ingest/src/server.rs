//! The running server: its shared state, its listeners, and the rules every
//! connection goes through before it publishes or plays.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

use crate::auth::{self, Event, Hooks, NoHooks, PlayAttempt, PublishAttempt};
use crate::hls::Registry;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::{http, rtmp, Config, ConfigError, Refused};

/// The running server's shared state: one per process (or per virtual server).
pub struct Server {
    /// The configuration.
    pub config: Config,
    /// The fan-out to RTMP players, HTTP-FLV readers and pushes.
    pub hub: Hub,
    /// The HLS streams (`None` when `config.hls` is off).
    pub registry: Option<Registry>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// This node's part of a cluster (`config.cluster`).
    #[cfg(feature = "cluster")]
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The keys this node pulls from other nodes for its RTMP players.
    #[cfg(feature = "cluster")]
    pub(crate) pulls: crate::rtmp::pull::Pulls,
    /// The uploader to object storage (`config.store`).
    #[cfg(feature = "store")]
    pub store: Option<Arc<crate::store::Store>>,
    hooks: Box<dyn Hooks>,
    next_id: AtomicU64,
    /// Set by [`Server::drain`]: every publisher connection watches it.
    drain: tokio::sync::watch::Sender<Option<DrainOrder>>,
    /// The runtime's worker threads, which share the publishers' reads.
    workers: usize,
    /// The RTMPS listener's certificate (with `config.rtmps`).
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::Certificates>,
    /// What `rtmps://` pushes trust (with such a push in the config, or `push_ca`).
    #[cfg(feature = "tls")]
    push_tls: Option<Arc<rustls::ClientConfig>>,
}

/// The worker threads of the runtime the server is made in (outside one, the
/// threads the process may run on).
fn worker_threads() -> usize {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.metrics().num_workers(),
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// What [`Server::drain`] asks of publishers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrainOrder {
    /// Where to reconnect; `None`: the URL they used.
    pub tc_url: Option<String>,
}

impl Server {
    /// A server with no streams yet and no hooks of the application's.
    pub fn new(config: Config) -> Result<Arc<Server>, ConfigError> {
        Server::with_hooks(config, NoHooks)
    }

    /// A server whose publishes and plays also go through `hooks`.
    ///
    /// With the `tls` feature, the RTMPS certificate and key and the pushes' CA
    /// file (or the system's roots) are read here: a file that cannot be used is
    /// a [`ConfigError::Tls`] saying which and why.
    pub fn with_hooks(config: Config, hooks: impl Hooks) -> Result<Arc<Server>, ConfigError> {
        config.check()?;
        let metrics = Metrics::new();
        #[cfg(feature = "store")]
        let store = crate::store::Store::new(&config, metrics.store().clone())?;
        let handle = crate::hls::bucket::StoreHandle(
            #[cfg(feature = "store")]
            store.clone(),
        );
        let registry = match config.hls {
            true => {
                Some(Registry::new(&config, metrics.write_failures().clone())?.with_store(handle))
            }
            false => None,
        };
        #[cfg(feature = "tls")]
        let (tls, push_tls) = tls_setup(&config)?;
        #[cfg(feature = "cluster")]
        let cluster = crate::cluster::Cluster::new(&config)?;
        let server = Arc::new(Server {
            #[cfg(feature = "cluster")]
            cluster,
            #[cfg(feature = "cluster")]
            pulls: Default::default(),
            #[cfg(feature = "store")]
            store,
            #[cfg(feature = "tls")]
            tls,
            #[cfg(feature = "tls")]
            push_tls,
            hub: Hub::new(config.limits),
            registry,
            metrics,
            hooks: Box::new(hooks),
            config,
            next_id: AtomicU64::new(1),
            drain: tokio::sync::watch::Sender::new(None),
            workers: worker_threads(),
        });
        server.metrics.read_beat(server.read_beat());
        Ok(server)
    }

    /// Drains the server before a planned shutdown: new publishes are refused
    /// from now on, and every publisher is asked to reconnect (Enhanced RTMP v2
    /// `NetConnection.Connect.ReconnectRequest`) to `tc_url`, or with `None` to
    /// the URL it used (behind a load balancer, another instance answers it). A
    /// publisher that supports the request (OBS 30 and later, among others)
    /// moves without a gap in its stream; one that does not ignores it and
    /// stays until it leaves or the server stops. Players and HLS viewers are
    /// served until then. [`live_publishers`](Self::live_publishers) says how
    /// many are left.
    pub fn drain(&self, tc_url: Option<String>) {
        info!(
            tc_url = tc_url.as_deref().unwrap_or("(the same)"),
            "draining: publishers are asked to reconnect"
        );
        self.drain.send_replace(Some(DrainOrder { tc_url }));
    }

    /// Starts an ad break of `seconds` on the live stream `key` (`APP/NAME`)
    /// at its next key frame: the segment starting there carries an
    /// `EXT-X-DATERANGE` with `SCTE35-OUT` (a SCTE-35 `splice_insert`), and the
    /// first key frame `seconds` later one with `SCTE35-IN` (and, with
    /// `cue_tags`, `EXT-X-CUE-OUT`/`-IN`). Returns the break's event id; `None`
    /// when no such live HLS stream exists.
    pub fn insert_ad_break(
        &self,
        key: &str,
        seconds: f64,
    ) -> Option<Result<u32, hls_mux::MuxError>> {
        let stream = self.registry.as_ref()?.get(key).filter(|s| s.is_live())?;
        Some(stream.insert_ad_break(seconds))
    }

    /// Ends the running ad break of the live stream `key` at its next key
    /// frame, before its duration is up. Returns the break's event id;
    /// `None` when no such live HLS stream exists.
    pub fn end_ad_break(&self, key: &str) -> Option<Result<u32, hls_mux::MuxError>> {
        let stream = self.registry.as_ref()?.get(key).filter(|s| s.is_live())?;
        Some(stream.end_ad_break())
    }

    /// Whether [`drain`](Self::drain) was called.
    pub fn is_draining(&self) -> bool {
        self.drain.borrow().is_some()
    }

    /// How many publishers are live now.
    pub fn live_publishers(&self) -> usize {
        self.metrics.live_publishers()
    }

    /// How long a publisher's task waits between reads now: the configured beat,
    /// grown with the number of live publishers per worker thread (see
    /// [`crate::beat::Pacing`]).
    pub fn read_beat(&self) -> Duration {
        let pacing = crate::beat::Pacing {
            base: self.config.read_pacing,
            max: self.config.read_pacing_max,
            reads_per_second: self.config.reads_per_second,
        };
        pacing.beat(self.live_publishers(), self.workers)
    }

    /// The drain order, for a connection to watch.
    pub(crate) fn drain_orders(&self) -> tokio::sync::watch::Receiver<Option<DrainOrder>> {
        self.drain.subscribe()
    }

    /// Reads the RTMPS certificate and key files again (what SIGHUP does in the
    /// program). Connections accepted from now on get the new certificate; open
    /// ones, publishers and players alike, keep their TLS session and go on. If
    /// the files cannot be used, the certificate in use stays and the error is
    /// logged and returned.
    #[cfg(feature = "tls")]
    pub fn reload_tls(&self) -> Result<(), crate::tls::TlsError> {
        let Some(certificates) = &self.tls else {
            return Err(crate::tls::TlsError::NotConfigured);
        };
        match certificates.reload() {
            Ok(()) => {
                info!("rtmps: certificate reloaded; new connections get it");
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "rtmps: certificate reload failed, the previous one stays in use");
                self.metrics.tls_reload_failed();
                Err(error)
            }
        }
    }

    /// The RTMPS listener's certificates, if it has one.
    #[cfg(feature = "tls")]
    pub fn tls_certificates(&self) -> Option<&crate::tls::Certificates> {
        self.tls.as_ref()
    }

    /// What `rtmps://` pushes trust, when it was set up at the start (an
    /// `rtmps://` push or `push_ca` in the configuration).
    #[cfg(feature = "tls")]
    pub(crate) fn push_tls(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.push_tls.as_ref()
    }

    /// A number for a new connection (logs, hub subscriber ids).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Tells the hooks and the logs.
    pub(crate) fn event(&self, event: Event) {
        self.hooks.on_event(&event);
    }

    /// The key (`APP/NAME`) of an authorised publish, or why it is refused:
    /// the name rules, the allow list, the publish callback, then the hooks.
    pub async fn authorize_publish(&self, attempt: &PublishAttempt<'_>) -> Result<String, Refused> {
        let key = key_of(attempt.app, attempt.name)?;
        let name = attempt.stream_name();
        if !auth::allowed(&self.config.allow, name) {
            return Err(Refused::NotAllowed(name.to_owned()));
        }
        if let Some(url) = &self.config.on_publish {
            auth::ask(url, attempt, self.config.callback_timeout).await?;
        }
        self.hooks.authorize_publish(attempt).await?;
        Ok(key)
    }

    /// Asks the hooks whether an AES-128 key may be served.
    pub async fn authorize_key(&self, attempt: &crate::KeyAttempt<'_>) -> Result<(), Refused> {
        self.hooks.authorize_key(attempt).await
    }

    /// The key of an authorised play, or why it is refused.
    pub async fn authorize_play(&self, attempt: &PlayAttempt<'_>) -> Result<String, Refused> {
        let key = key_of(attempt.app, attempt.name)?;
        self.hooks.authorize_play(attempt).await?;
        Ok(key)
    }
}

/// The RTMPS listener's certificates and what pushes trust.
#[cfg(feature = "tls")]
type TlsSetup = (
    Option<crate::tls::Certificates>,
    Option<Arc<rustls::ClientConfig>>,
);

/// The RTMPS certificates and the pushes' trust, each read only when the
/// configuration asks for it (the system's store is not read for nothing).
#[cfg(feature = "tls")]
fn tls_setup(config: &Config) -> Result<TlsSetup, ConfigError> {
    let certificates = match (config.rtmps, &config.tls_cert, &config.tls_key) {
        (Some(_), Some(cert), Some(key)) => Some(crate::tls::Certificates::load(cert, key)?),
        _ => None,
    };
    let push = match config.push.iter().any(|url| url.tls) || config.push_ca.is_some() {
        true => Some(crate::tls::client_config(config.push_ca.as_deref())?),
        false => None,
    };
    Ok((certificates, push))
}

/// The key `APP/NAME` (the name without its query string), if both are valid names.
pub fn key_of(app: &str, name: &str) -> Result<String, Refused> {
    let name = name.split_once('?').map_or(name, |(name, _)| name);
    if !valid_name(app) || !valid_name(name) {
        return Err(Refused::BadName {
            app: app.to_owned(),
            name: name.to_owned(),
        });
    }
    Ok(format!("{app}/{name}"))
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

/// The addresses a started server listens on.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// RTMP.
    pub rtmp: SocketAddr,
    /// RTMPS, when `config.rtmps` is set.
    pub rtmps: Option<SocketAddr>,
    /// HTTP.
    pub http: SocketAddr,
}

/// Binds the listeners of `server.config` (RTMP, RTMPS if set, HTTP) and serves
/// them (and the reaper of ended streams) in background tasks of the current
/// runtime.
pub async fn start(server: Arc<Server>) -> std::io::Result<Bound> {
    let rtmp = TcpListener::bind(server.config.rtmp).await?;
    let rtmps = match server.config.rtmps {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let http = TcpListener::bind(server.config.http).await?;
    let bound = Bound {
        rtmp: rtmp.local_addr()?,
        rtmps: rtmps.as_ref().map(TcpListener::local_addr).transpose()?,
        http: http.local_addr()?,
    };
    tokio::spawn(serve_rtmp(rtmp, server.clone()));
    #[cfg(feature = "tls")]
    if let Some(rtmps) = rtmps {
        tokio::spawn(serve_rtmps(rtmps, server.clone()));
    }
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &server.cluster {
        let (rtmp, http) = server.config.advertised();
        let port = |url: String, bound: SocketAddr| match url.rsplit_once(':') {
            // Port 0 in the URL: the port the listener got.
            Some((head, "0")) => format!("{head}:{}", bound.port()),
            _ => url,
        };
        cluster.advertise(port(rtmp, bound.rtmp), port(http, bound.http));
        tokio::spawn(cluster.clone().run());
    }
    #[cfg(feature = "store")]
    if let Some(store) = &server.store {
        tokio::spawn(store.clone().run());
    }
    tokio::spawn(http::serve(http, server.clone()));
    tokio::spawn(reap(server));
    Ok(bound)
}

/// Accepts RTMP connections forever, one task each.
pub async fn serve_rtmp(listener: TcpListener, server: Arc<Server>) {
    loop {
        let (socket, peer) = accept(&listener, "rtmp").await;
        let accepted = Instant::now();
        tokio::spawn(rtmp::connection::run(
            socket,
            peer,
            server.clone(),
            accepted,
        ));
    }
}

/// Accepts RTMPS connections forever, one task each. Each connection takes the
/// certificate current when it is accepted; the TLS handshake, the RTMP
/// handshake and `connect` together get the server's `handshake_timeout`.
/// A server without certificates ([`Server::tls_certificates`]) accepts nothing.
#[cfg(feature = "tls")]
pub async fn serve_rtmps(listener: TcpListener, server: Arc<Server>) {
    let Some(certificates) = server.tls_certificates() else {
        warn!("rtmps: no certificate configured, the listener is not served");
        return;
    };
    loop {
        let (socket, peer) = accept(&listener, "rtmps").await;
        let accepted = Instant::now();
        let acceptor = certificates.acceptor();
        let server = server.clone();
        tokio::spawn(async move {
            let deadline = accepted + server.config.handshake_timeout;
            let handshake = acceptor.accept(socket);
            match tokio::time::timeout_at(deadline.into(), handshake).await {
                Ok(Ok(stream)) => rtmp::connection::run(stream, peer, server, accepted).await,
                Ok(Err(error)) => {
                    server.metrics.tls_handshake_failed();
                    info!(%peer, %error, "rtmps: TLS handshake failed");
                }
                Err(_) => {
                    server.metrics.tls_handshake_failed();
                    info!(%peer, limit = ?server.config.handshake_timeout, "rtmps: no TLS handshake in time");
                }
            }
        });
    }
}

/// The next connection, with Nagle off (media goes out as soon as it is written).
async fn accept(listener: &TcpListener, what: &str) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                // A socket that refuses this is already broken; its first read will say so.
                let _ = socket.set_nodelay(true);
                return (socket, peer);
            }
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(%error, "{what} accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Forgets streams whose grace period is over, once a second.
async fn reap(server: Arc<Server>) {
    let Some(registry) = &server.registry else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for key in registry.reap(Instant::now()) {
            info!(key, "grace period over: stream forgotten");
            server.event(Event::StreamForgotten { key });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_names() {
        assert_eq!(key_of("live", "cam?token=1").unwrap(), "live/cam");
        assert!(matches!(
            key_of("live", "../etc"),
            Err(Refused::BadName { .. })
        ));
        assert!(key_of("", "a").is_err());
        assert!(key_of("live", &"a".repeat(129)).is_err());
        assert!(key_of("live", ".hidden").is_err());
    }
}
