//! Aggregate messages (type 22): a run of FLV-tag-shaped sub-messages.
//!
//! Each sub-message is an 11-byte header (type, 24-bit size, 24+8-bit timestamp,
//! 24-bit stream id), its payload and a 4-byte back pointer. Sub-message
//! timestamps are rebased so that the first one equals the aggregate's own
//! timestamp, as FFmpeg and nginx-rtmp do.

use bytes::Bytes;

use super::MessageError;
use crate::chunk::RawMessage;

const HEADER_LEN: usize = 11;
const BACK_POINTER_LEN: usize = 4;

/// Iterates over the sub-messages of an aggregate message.
///
/// Yields an error (and then stops) at the first sub-message that does not fit.
/// The payloads are `Bytes` views of the aggregate's payload.
pub fn split_aggregate(aggregate: &RawMessage) -> AggregateIter {
    AggregateIter {
        payload: aggregate.payload.clone(),
        offset: 0,
        chunk_stream_id: aggregate.chunk_stream_id,
        stream_id: aggregate.stream_id,
        timestamp: aggregate.timestamp,
        first_timestamp: None,
        failed: false,
    }
}

/// The iterator returned by [`split_aggregate`].
#[derive(Debug)]
pub struct AggregateIter {
    payload: Bytes,
    offset: usize,
    chunk_stream_id: u32,
    stream_id: u32,
    timestamp: u64,
    first_timestamp: Option<u32>,
    failed: bool,
}

impl Iterator for AggregateIter {
    type Item = Result<RawMessage, MessageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.payload.len() {
            return None;
        }
        let result = self.next_sub_message();
        self.failed = result.is_err();
        Some(result)
    }
}

impl AggregateIter {
    fn next_sub_message(&mut self) -> Result<RawMessage, MessageError> {
        let start = self.offset;
        let error = |what| MessageError::Aggregate {
            what,
            offset: start,
        };
        let header = self
            .payload
            .get(start..start + HEADER_LEN)
            .ok_or_else(|| error("truncated sub-message header"))?;
        let type_id = header[0];
        let size = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let sub_timestamp = u32::from_be_bytes([header[7], header[4], header[5], header[6]]);
        let data_start = start + HEADER_LEN;
        let data_end = data_start
            .checked_add(size)
            .filter(|&end| end <= self.payload.len())
            .ok_or_else(|| error("sub-message longer than the aggregate"))?;
        // The back pointer is optional at the very end: some senders drop it.
        self.offset = (data_end + BACK_POINTER_LEN).min(self.payload.len());
        let first = *self.first_timestamp.get_or_insert(sub_timestamp);
        let delta = i64::from(sub_timestamp.wrapping_sub(first) as i32);
        Ok(RawMessage {
            chunk_stream_id: self.chunk_stream_id,
            type_id,
            stream_id: self.stream_id,
            timestamp: self.timestamp.saturating_add_signed(delta),
            payload: self.payload.slice(data_start..data_end),
        })
    }
}
