//! Runnable programs assembled only from the crate family's public API.
//!
//! - [`flv_dump`], [`flv_to_hls`]: the file tools.
//! - [`rtmp_load`]: the `rtmp_load` example, many real-time RTMP publishers from
//!   one process, for load tests.
//!
//! The examples in this crate's `examples` targets are thin command lines around these
//! modules, so the interop tests can run the same code in-process. The servers
//! (`rtmp_relay`, `hls_origin`) are short programs over the `live-ingest` crate.

pub mod flv_dump;
pub mod flv_to_hls;
pub mod rtmp_load;
pub mod view_load;

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
