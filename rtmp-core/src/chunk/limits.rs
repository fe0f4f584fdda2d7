//! Decoder limits.

/// Bounds on what a peer can make the [`ChunkDecoder`](super::ChunkDecoder) hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderLimits {
    /// Largest message length accepted in a message header (default 8 MiB).
    pub max_message_size: u32,
    /// Most chunk streams live at once, that is with header state or a partial
    /// message (default 64).
    pub max_chunk_streams: usize,
    /// Most bytes held in partial messages over all chunk streams
    /// (default 16 MiB). Buffers are reserved within this budget.
    pub max_buffered: usize,
}

impl DecoderLimits {
    /// Default [`max_message_size`](Self::max_message_size): 8 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = 8 << 20;
    /// Default [`max_chunk_streams`](Self::max_chunk_streams): 64.
    pub const DEFAULT_MAX_CHUNK_STREAMS: usize = 64;
    /// Default [`max_buffered`](Self::max_buffered): 16 MiB.
    pub const DEFAULT_MAX_BUFFERED: usize = 16 << 20;

    /// Returns these limits with `max_message_size` set.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: u32) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Returns these limits with `max_chunk_streams` set.
    #[must_use]
    pub fn with_max_chunk_streams(mut self, streams: usize) -> Self {
        self.max_chunk_streams = streams;
        self
    }

    /// Returns these limits with `max_buffered` set.
    #[must_use]
    pub fn with_max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = bytes;
        self
    }
}

impl Default for DecoderLimits {
    fn default() -> Self {
        Self {
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_chunk_streams: Self::DEFAULT_MAX_CHUNK_STREAMS,
            max_buffered: Self::DEFAULT_MAX_BUFFERED,
        }
    }
}
