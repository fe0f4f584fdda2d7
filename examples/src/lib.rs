//! Runnable programs assembled only from the crate family's public API.
//!
//! - [`relay`]: the `rtmp_relay` example, an RTMP server that relays every published
//!   stream to any number of players and, optionally, to upstream servers.
//! - [`rtmp_to_hls`]: the `rtmp_to_hls` example, the ingest server: RTMP in, HLS
//!   (fMP4 with Low-Latency HLS, or MPEG-TS) out over HTTP.
//! - [`rtmp_load`]: the `rtmp_load` example, many real-time RTMP publishers from
//!   one process, for load tests.
//!
//! The examples in this crate's `examples` targets are thin command lines around these
//! modules, so the interop tests can run the same code in-process.

pub mod beat;
pub mod flv_dump;
pub mod flv_tag;
pub mod flv_to_hls;
pub mod relay;
pub mod rtmp_load;
pub mod rtmp_to_hls;
pub mod vectored;

/// The examples' logging: `tracing` to stderr, filtered by `RUST_LOG`, or by
/// `default` (such as `"info"`) when it is not set.
pub fn init_tracing(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .with_writer(std::io::stderr)
        .init();
}
