//! `tokio_util::codec` glue over the chunk codec (feature `tokio`).
//!
//! [`ChunkCodec`] copies every outgoing chunk into the framed write buffer.
//! The zero-copy path is [`ChunkEncoder`] with a [`ChunkOutput`] written by
//! `write_vectored` (see [`ChunkOutput::chunks_vectored`]).

use bytes::BytesMut;

use super::{ChunkDecoder, ChunkEncoder, ChunkError, ChunkOutput, DecoderLimits, RawMessage};

/// Error of [`ChunkCodec`]: the transport's or the chunk layer's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkCodecError {
    /// The underlying transport failed.
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent malformed chunks or passed a limit, or a message could
    /// not be encoded.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
}

/// A [`tokio_util::codec::Decoder`] and [`tokio_util::codec::Encoder`] of
/// [`RawMessage`]s over the RTMP chunk stream, for use after the handshake.
///
/// Encoding copies payloads into the framed write buffer; for zero-copy
/// writes use [`ChunkEncoder`] and [`ChunkOutput`] with vectored IO instead.
#[derive(Debug, Default)]
pub struct ChunkCodec {
    /// Incoming side: chunk size, limits, partial messages.
    pub decoder: ChunkDecoder,
    /// Outgoing side: chunk size and per-chunk-stream header state.
    pub encoder: ChunkEncoder,
    out: ChunkOutput,
}

impl ChunkCodec {
    /// Creates a codec with chunk size 128 both ways and default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a codec whose decoder has the given limits.
    pub fn with_limits(limits: DecoderLimits) -> Self {
        Self {
            decoder: ChunkDecoder::with_limits(limits),
            ..Self::default()
        }
    }
}

impl tokio_util::codec::Decoder for ChunkCodec {
    type Item = RawMessage;
    type Error = ChunkCodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RawMessage>, ChunkCodecError> {
        Ok(self.decoder.decode(src)?)
    }
}

impl tokio_util::codec::Encoder<RawMessage> for ChunkCodec {
    type Error = ChunkCodecError;

    fn encode(&mut self, msg: RawMessage, dst: &mut BytesMut) -> Result<(), ChunkCodecError> {
        self.encoder.try_encode(&msg, &mut self.out)?;
        self.out.copy_to(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tokio_util::codec::{Decoder, Encoder};

    #[test]
    fn round_trip_through_the_codec() {
        let mut codec = ChunkCodec::new();
        let mut wire = BytesMut::new();
        let msgs: Vec<RawMessage> = (0..5u8)
            .map(|i| RawMessage {
                chunk_stream_id: 6,
                type_id: 9,
                stream_id: 1,
                timestamp: u64::from(i) * 40,
                payload: Bytes::from(vec![i; 300]),
            })
            .collect();
        for m in &msgs {
            codec.encode(m.clone(), &mut wire).unwrap();
        }
        let mut got = Vec::new();
        while let Some(m) = codec.decode(&mut wire).unwrap() {
            got.push(m);
        }
        assert_eq!(got, msgs);
        assert!(wire.is_empty());
        let bad = RawMessage {
            chunk_stream_id: 1,
            ..msgs[0].clone()
        };
        assert!(matches!(
            codec.encode(bad, &mut wire),
            Err(ChunkCodecError::Chunk(ChunkError::InvalidChunkStreamId {
                chunk_stream_id: 1
            }))
        ));
    }
}
