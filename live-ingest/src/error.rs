//! The crate's errors: a configuration that cannot work, and why a publish or
//! play was refused (what the peer asked for, kept apart from what failed here).

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field has a value outside what it accepts.
    #[error("{field}: expected {expected}, got {got}")]
    Invalid {
        /// The field (`limits.player_queue_bytes`).
        field: &'static str,
        /// What it accepts.
        expected: &'static str,
        /// What it holds.
        got: String,
    },
    /// The packaging settings are refused by `hls-mux`.
    #[error("packaging: {0}")]
    Packaging(#[source] hls_mux::MuxError),
    /// The RTMPS certificate or key, or the pushes' CA file, cannot be used.
    #[cfg(feature = "tls")]
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// A URL could not be used.
    #[error("{what}: expected {expected}, got {got:?}")]
    Url {
        /// Which setting.
        what: &'static str,
        /// What form it must have.
        expected: &'static str,
        /// What it was.
        got: String,
    },
}

/// Why a connect, publish or play was refused. The peer is told the `Display`
/// text in its `NetStream.Publish.BadName`/`NetStream.Play.StreamNotFound` status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The application or stream name cannot be a key.
    #[error("{app}/{name}: application and stream names may only hold A-Z a-z 0-9 _ - . (not first), 1 to 128 of them")]
    BadName {
        /// The application as sent.
        app: String,
        /// The stream name as sent (without its query string).
        name: String,
    },
    /// The stream name is not on the allow list.
    #[error("{0}: not an allowed stream name")]
    NotAllowed(String),
    /// The publish callback answered with a status other than 2xx.
    #[error("the publish callback answered {0}")]
    CallbackStatus(u16),
    /// The publish callback could not be asked.
    #[error("the publish callback failed: {0}")]
    CallbackFailed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The publish callback did not answer in time.
    #[error("the publish callback did not answer in time")]
    CallbackTimeout,
    /// Another publisher is live on this key.
    #[error("{0} is already being published")]
    AlreadyPublishing(String),
    /// The server is draining before a shutdown ([`Server::drain`](crate::Server::drain)).
    #[error("the server is shutting down: publish to another one")]
    Draining,
    /// The server holds as many streams as it may.
    #[error("the server has too many streams")]
    TooManyStreams,
    /// The stream could not be set up.
    #[error("{key} cannot be set up: {reason}")]
    Setup {
        /// The stream.
        key: String,
        /// What failed.
        reason: String,
    },
    /// The application's [`Hooks`](crate::Hooks) said no.
    #[error("{0}")]
    ByApplication(String),
    /// Another node of the cluster publishes this key ([`crate::Config::cluster`]).
    #[error("{key} is live on another node of the cluster: {node}")]
    LiveElsewhere {
        /// The key.
        key: String,
        /// The node holding it (its id and RTMP URL).
        node: String,
    },
    /// The cluster directory could not be asked, so a second publisher of
    /// the key elsewhere could not be ruled out.
    #[error("the cluster directory cannot be reached (try again): {0}")]
    ClusterUnavailable(String),
    /// This connection already publishes or plays.
    #[error("this connection already publishes or plays")]
    Busy,
}
