//! The running server: its shared state, its listeners, and the rules every
//! connection goes through before it publishes or plays.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
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
    hooks: Box<dyn Hooks>,
    next_id: AtomicU64,
}

impl Server {
    /// A server with no streams yet and no hooks of the application's.
    pub fn new(config: Config) -> Result<Arc<Server>, ConfigError> {
        Server::with_hooks(config, NoHooks)
    }

    /// A server whose publishes and plays also go through `hooks`.
    pub fn with_hooks(config: Config, hooks: impl Hooks) -> Result<Arc<Server>, ConfigError> {
        config.check()?;
        let registry = match config.hls {
            true => Some(Registry::new(&config)?),
            false => None,
        };
        Ok(Arc::new(Server {
            hub: Hub::new(config.limits),
            registry,
            metrics: Metrics::new(),
            hooks: Box::new(hooks),
            config,
            next_id: AtomicU64::new(1),
        }))
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
            auth::ask(url, attempt).await?;
        }
        self.hooks.authorize_publish(attempt).await?;
        Ok(key)
    }

    /// The key of an authorised play, or why it is refused.
    pub async fn authorize_play(&self, attempt: &PlayAttempt<'_>) -> Result<String, Refused> {
        let key = key_of(attempt.app, attempt.name)?;
        self.hooks.authorize_play(attempt).await?;
        Ok(key)
    }
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
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(%error, "rtmp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        tokio::spawn(rtmp::connection::run(socket, peer, server.clone()));
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
