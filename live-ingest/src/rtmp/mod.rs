//! RTMP over tokio: the run loop of `rtmp_core`'s sans-IO sessions, written once.
//!
//! - [`connection`]: one accepted connection, a publisher or a player, driving a
//!   [`rtmp_core::ServerSession`].
//! - [`push`]: re-publishing a stream upstream, driving a
//!   [`rtmp_core::ClientSession`].
//!
//! Both follow the sessions' contract: bytes read go to `handle_input` with the
//! time they came; events are polled until none is left; `output()` is written
//! with vectored writes; `handle_timeout` runs at `poll_timeout()`. The reads,
//! writes and deadline waits are `rtmp_core::io`'s, which every tokio loop of the
//! family shares.

mod cluster;
pub mod connection;
#[cfg(feature = "cluster")]
pub mod pull;
pub mod push;

use std::time::Duration;

use rtmp_core::{ServerConfig, SessionError};

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the protocol or timed out.
    #[error("rtmp: {0}")]
    Session(#[from] SessionError),
}

/// The session settings of a server connection: the timeouts, a ping at half
/// the idle timeout, and a handshake seed from the connection number `id`
/// and some `entropy`.
pub fn session_config(
    handshake_timeout: Duration,
    idle_timeout: Duration,
    id: u64,
    entropy: u64,
) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.handshake_timeout = handshake_timeout;
    config.idle_timeout = idle_timeout;
    config.ping_interval = idle_timeout / 2;
    config.seed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ entropy;
    // Small messages come out of the decoder as copies of their own, made once:
    // they are kept (GOP cache, HLS), and a slice would pin the read buffer.
    config.copy_payloads_below = crate::hub::COMPACT_BELOW;
    config
}

/// Some bits that differ between runs, for handshake seeds.
pub(crate) fn nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
