//! Messages into chunks.

use std::collections::HashMap;

use super::error::ChunkError;
use super::header::{HeaderBuf, EXTENDED};
use super::output::ChunkOutput;
use super::{
    RawMessage, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_CHUNK_STREAM_ID, MAX_MESSAGE_LENGTH,
    MIN_CHUNK_STREAM_ID,
};

/// Chunk stream ids below this have their state in a direct-indexed table.
const LOW_IDS: usize = 64;

/// What the peer's decoder knows about one chunk stream.
#[derive(Clone, Copy, Default, Debug)]
struct OutStream {
    live: bool,
    stream_id: u32,
    type_id: u8,
    length: u32,
    timestamp: u64,
    /// Delta of the last header when it was type 1, 2 or 3 (a type-3 new
    /// message may repeat it); `None` after a type-0 header.
    delta: Option<u32>,
}

/// Splits messages into chunks with the smallest header each chunk stream allows.
///
/// Per chunk stream it writes type 0 for the first message, when the message
/// stream id changes, when the timestamp goes backwards or jumps by 2^31 ms
/// or more; type 1 when length or type id changes; type 2 when only the
/// timestamp delta changes; type 3 when the delta repeats the previous one.
/// Extended timestamps are repeated on type-3 chunks. Payloads go out as
/// slices of the message's [`Bytes`](bytes::Bytes), never copied.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    low: [OutStream; LOW_IDS],
    high: HashMap<u32, OutStream>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkEncoder {
    /// Creates an encoder with chunk size 128.
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            low: [OutStream::default(); LOW_IDS],
            high: HashMap::new(),
        }
    }

    /// Current outgoing chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Sets the outgoing chunk size (the caller sends the Set Chunk Size
    /// message first, with the old size). Rejects 0 and sizes above `0x7FFFFFFF`.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(ChunkError::InvalidChunkSize { size });
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Forgets what was sent on every chunk stream, so that the next message on
    /// each is written with a type-0 header.
    pub fn reset(&mut self) {
        self.low = [OutStream::default(); LOW_IDS];
        self.high.clear();
    }

    /// Appends the chunks of `msg` to `out`: header bytes are written into
    /// out's internal `BytesMut`; payload pieces are `Bytes::slice`s of
    /// `msg.payload` (no copy), except pieces under
    /// [`COPY_BELOW`](crate::chunk::COPY_BELOW) bytes, which are cheaper to copy
    /// next to their header.
    ///
    /// A message that cannot be represented (chunk stream id outside
    /// `2..=65599`, payload longer than `0xFFFFFF` bytes) is not written and
    /// leaves the encoder unchanged; [`try_encode`](Self::try_encode) says why.
    pub fn encode(&mut self, msg: &RawMessage, out: &mut ChunkOutput) {
        // The error case writes nothing and is reported by `try_encode`.
        let _ = self.try_encode(msg, out);
    }

    /// Like [`encode`](Self::encode), but reports a message that cannot be
    /// represented instead of skipping it.
    pub fn try_encode(
        &mut self,
        msg: &RawMessage,
        out: &mut ChunkOutput,
    ) -> Result<(), ChunkError> {
        let csid = msg.chunk_stream_id;
        if !(MIN_CHUNK_STREAM_ID..=MAX_CHUNK_STREAM_ID).contains(&csid) {
            return Err(ChunkError::InvalidChunkStreamId {
                chunk_stream_id: csid,
            });
        }
        let len = msg.payload.len();
        if len > MAX_MESSAGE_LENGTH as usize {
            return Err(ChunkError::PayloadTooLarge {
                chunk_stream_id: csid,
                length: len,
            });
        }
        let length = len as u32;
        let chunk_size = self.chunk_size as usize;
        let st = if (csid as usize) < LOW_IDS {
            &mut self.low[csid as usize]
        } else {
            self.high.entry(csid).or_default()
        };

        // Choose the header type and the timestamp field value.
        let step = msg.timestamp.wrapping_sub(st.timestamp);
        let absolute = !st.live
            || st.stream_id != msg.stream_id
            || msg.timestamp < st.timestamp
            || step >= 1 << 31;
        let (fmt, field) = if absolute {
            (0u8, msg.timestamp as u32)
        } else {
            let delta = step as u32;
            if st.length != length || st.type_id != msg.type_id {
                (1, delta)
            } else if st.delta == Some(delta) {
                (3, delta)
            } else {
                (2, delta)
            }
        };
        *st = OutStream {
            live: true,
            stream_id: msg.stream_id,
            type_id: msg.type_id,
            length,
            timestamp: msg.timestamp,
            delta: if fmt == 0 { None } else { Some(field) },
        };
        let ext = field >= EXTENDED;

        let mut h = HeaderBuf::new();
        h.basic(fmt, csid);
        if fmt < 3 {
            h.u24(field.min(EXTENDED));
            if fmt < 2 {
                h.u24(length);
                h.u8(msg.type_id);
                if fmt == 0 {
                    h.u32_le(msg.stream_id);
                }
            }
        }
        if ext {
            h.u32_be(field);
        }
        out.push_copy(h.as_slice());

        // Continuation header: type 3, plus the repeated extended timestamp.
        let mut c = HeaderBuf::new();
        c.basic(3, csid);
        if ext {
            c.u32_be(field);
        }
        let mut off = 0;
        loop {
            let end = len.min(off + chunk_size);
            out.push_payload(&msg.payload, off..end);
            off = end;
            if off >= len {
                break;
            }
            out.push_copy(c.as_slice());
        }
        Ok(())
    }
}
