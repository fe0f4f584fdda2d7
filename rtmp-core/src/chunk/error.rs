//! Errors of the chunk layer.

/// What went wrong in the chunk layer, and where.
///
/// After an error from [`ChunkDecoder::decode`](super::ChunkDecoder::decode)
/// the stream is out of sync; the connection should be closed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkError {
    /// A message header announced a message longer than the configured limit.
    #[error("chunk stream {chunk_stream_id}: message length {length} exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Chunk stream id of the header.
        chunk_stream_id: u32,
        /// Length field of the message header.
        length: u32,
        /// Configured [`DecoderLimits::max_message_size`](super::DecoderLimits::max_message_size).
        limit: u32,
    },
    /// A new chunk stream was opened while the configured number were live.
    #[error("too many live chunk streams (limit {limit})")]
    TooManyChunkStreams {
        /// Configured [`DecoderLimits::max_chunk_streams`](super::DecoderLimits::max_chunk_streams).
        limit: usize,
    },
    /// Partial messages would hold more bytes than the configured limit.
    #[error("partial messages would buffer more than {limit} bytes")]
    BufferLimit {
        /// Configured [`DecoderLimits::max_buffered`](super::DecoderLimits::max_buffered).
        limit: usize,
    },
    /// A chunk size of 0 or above `0x7FFFFFFF` was set or received.
    #[error("invalid chunk size {size} (must be 1..=0x7FFFFFFF)")]
    InvalidChunkSize {
        /// The rejected size.
        size: u32,
    },
    /// A type 1, 2 or 3 chunk arrived on a chunk stream without a previous header.
    #[error("chunk stream {chunk_stream_id}: type {fmt} chunk without a previous header")]
    NoPreviousHeader {
        /// Chunk stream id of the chunk.
        chunk_stream_id: u32,
        /// Chunk type (`fmt` of the basic header).
        fmt: u8,
    },
    /// A type 0, 1 or 2 chunk arrived on a chunk stream whose message was not complete.
    #[error("chunk stream {chunk_stream_id}: type {fmt} header while {received} of {length} bytes of a message were received")]
    InterruptedMessage {
        /// Chunk stream id of the chunk.
        chunk_stream_id: u32,
        /// Chunk type (`fmt` of the basic header).
        fmt: u8,
        /// Bytes of the unfinished message received so far.
        received: u32,
        /// Length of the unfinished message.
        length: u32,
    },
    /// A protocol control message (Set Chunk Size, Abort) had a payload shorter than 4 bytes.
    #[error("chunk stream {chunk_stream_id}: control message type {type_id} has a {length}-byte payload, 4 needed")]
    ShortControlMessage {
        /// Chunk stream id of the message.
        chunk_stream_id: u32,
        /// Message type id.
        type_id: u8,
        /// Payload length.
        length: usize,
    },
    /// The encoder was given a chunk stream id outside `2..=65599`.
    #[error("chunk stream id {chunk_stream_id} outside 2..=65599")]
    InvalidChunkStreamId {
        /// The rejected id.
        chunk_stream_id: u32,
    },
    /// The encoder was given a payload longer than a message header can carry.
    #[error("chunk stream {chunk_stream_id}: payload of {length} bytes exceeds 0xFFFFFF")]
    PayloadTooLarge {
        /// Chunk stream id of the message.
        chunk_stream_id: u32,
        /// Payload length.
        length: usize,
    },
}
