//! Chunk codec: the RTMP chunk stream layer.
//!
//! RTMP splits every message into chunks of at most the negotiated chunk size,
//! each prefixed with a basic header (format and chunk stream id, 1 to 3 bytes)
//! and a message header whose size depends on the format:
//!
//! | fmt | message header                                   | bytes |
//! |-----|--------------------------------------------------|-------|
//! | 0   | timestamp, length, type id, message stream id    | 11    |
//! | 1   | timestamp delta, length, type id                 | 7     |
//! | 2   | timestamp delta                                  | 3     |
//! | 3   | nothing: everything is taken from the last header | 0     |
//!
//! A timestamp (or delta) field of `0xFFFFFF` announces a 4-byte extended
//! timestamp after the message header.
//!
//! [`ChunkDecoder`] turns bytes into [`RawMessage`]s and [`ChunkEncoder`] turns
//! messages into chunks queued in a [`ChunkOutput`]. Both are sans-IO.
//!
//! # Timestamps
//!
//! The wire carries 32-bit milliseconds that wrap after about 49.7 days. The
//! decoder unwraps them per chunk stream onto a 64-bit timeline using serial
//! number arithmetic: each new 32-bit value is placed at the candidate nearest
//! the previous timestamp of that chunk stream, so a step back of less than
//! 2^31 ms stays a step back and `0xFFFF_FF00` followed by `0x0000_0100` becomes
//! `0x1_0000_0100`. The timeline of a chunk stream starts at the 32-bit value
//! of its first message.
//!
//! # Interoperability choices
//!
//! * Extended timestamps on type-3 chunks: the specification repeats the
//!   4-byte extended timestamp on every type-3 chunk of a stream whose last
//!   header had one (FFmpeg, librtmp and OBS do so); some encoders omit it. The
//!   decoder accepts both: after a header with an extended timestamp, the four
//!   bytes after a type-3 basic header are taken as the repeated extended
//!   timestamp when they equal the last extended field or the message's own
//!   32-bit timestamp, and as payload otherwise (as SRS does).
//! * A type-3 chunk that starts a new message adds the previous timestamp field
//!   of its chunk stream to the previous timestamp. After a type-1 or type-2
//!   header that field is the delta; after a type-0 header it is that header's
//!   timestamp field (as FFmpeg, librtmp and SRS read it). The encoder never
//!   relies on the latter: it only writes type 3 for a new message after a
//!   type-1, type-2 or type-3 header with the same delta.

mod decoder;
mod encoder;
mod error;
mod header;
mod limits;
mod output;
mod slab;
mod timestamp;

#[cfg(feature = "tokio")]
pub mod codec;

pub use decoder::ChunkDecoder;
pub use encoder::ChunkEncoder;
pub use error::ChunkError;
pub use limits::DecoderLimits;
pub use output::{ChunkOutput, COPY_BELOW};

use bytes::Bytes;

/// Chunk size in effect on both directions until a Set Chunk Size message.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest chunk size allowed by the protocol (the top bit must be zero).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Smallest chunk stream id (0 and 1 are basic-header escapes).
pub const MIN_CHUNK_STREAM_ID: u32 = 2;
/// Largest chunk stream id a 3-byte basic header can carry.
pub const MAX_CHUNK_STREAM_ID: u32 = 65_599;
/// Largest message length a message header can carry (24 bits).
pub const MAX_MESSAGE_LENGTH: u32 = 0x00FF_FFFF;
/// Message type id of Set Chunk Size (protocol control message 1).
pub const TYPE_SET_CHUNK_SIZE: u8 = 1;
/// Message type id of Abort (protocol control message 2).
pub const TYPE_ABORT: u8 = 2;

/// One RTMP message as the chunk layer carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// Chunk stream id the message travelled on, `2..=65599`.
    pub chunk_stream_id: u32,
    /// Message type id (1 Set Chunk Size, 8 audio, 9 video, 20 AMF0 command, ...).
    pub type_id: u8,
    /// Message stream id (little-endian on the wire).
    pub stream_id: u32,
    /// Milliseconds on a 64-bit timeline: the 32-bit wire value unwrapped per
    /// chunk stream (see the [module documentation](self)).
    pub timestamp: u64,
    /// Message body.
    pub payload: Bytes,
}
