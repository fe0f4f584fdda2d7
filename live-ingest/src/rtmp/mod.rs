//! RTMP over tokio: the run loop of `rtmp_core`'s sans-IO sessions, written once.
//!
//! - [`connection`]: one accepted connection, a publisher or a player, driving a
//!   [`rtmp_core::ServerSession`].
//! - [`push`]: re-publishing a stream upstream, driving a
//!   [`rtmp_core::ClientSession`].
//!
//! Both follow the sessions' contract: bytes read go to `handle_input` with the
//! time they came; events are polled until none is left; `output()` is written
//! with vectored writes; `handle_timeout` runs at `poll_timeout()`.

pub mod connection;
pub mod push;

use std::io::IoSlice;
use std::time::Duration;

use rtmp_core::{ChunkOutput, ServerConfig, SessionError};
use tokio::io::{AsyncWrite, AsyncWriteExt};

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
    config
}

/// Waits until `deadline`, or forever without one (a `select!` arm).
pub async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Writes everything a session queued, with vectored writes of its `Bytes` pieces.
pub async fn write_chunks<W: AsyncWrite + Unpin>(
    writer: &mut W,
    output: &mut ChunkOutput,
) -> std::io::Result<()> {
    while !output.is_empty() {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = output.chunks_vectored(&mut slices);
        let written = writer.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        output.advance(written);
    }
    writer.flush().await
}

/// Some bits that differ between runs, for handshake seeds.
pub(crate) fn nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
