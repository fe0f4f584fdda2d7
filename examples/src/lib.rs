//! Runnable programs assembled only from the crate family's public API.
//!
//! - [`relay`]: the `rtmp_relay` example, an RTMP server that relays every published
//!   stream to any number of players and, optionally, to upstream servers.
//!
//! The examples in this crate's `examples` targets are thin command lines around these
//! modules, so the interop tests can run the same code in-process.

pub mod flv_dump;
pub mod flv_tag;
pub mod flv_to_hls;
pub mod relay;
