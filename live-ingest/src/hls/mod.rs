//! HLS packaging of every published stream, kept in memory for the HTTP side.
//!
//! - [`stream`]: per stream, FLV tag body → [`flv::MediaEvents`] →
//!   [`hls_mux::FlvAdapter`] → [`hls_mux::Muxer`]; the init segments, segments
//!   and parts it made (bounded by the live window), a [`media_probe::Probe`],
//!   and optionally files on disk ([`disk`]) and an FLV recording ([`record`]).
//! - [`registry`]: the streams by key: one live publisher per key; a stream
//!   whose publisher left keeps its ended playlist for the grace period, and a
//!   publisher that comes back within it continues the same playlist after a
//!   discontinuity ([`hls_mux::Muxer::restart`]).
//! - [`tracks`]: the extra audio tracks of a multitrack publish, each an
//!   audio-only rendition of the stream (`audioN/index.m3u8`).
//! - [`variants`]: groups of streams named `KEY` + a configured suffix: their
//!   multivariant playlist and the rendition reports in their playlists.

pub mod bucket;
pub mod disk;
pub mod metadata;
pub mod record;
pub mod registry;
pub mod stream;
pub mod tracks;
pub mod variants;

pub use registry::Registry;
pub use stream::Stream;
