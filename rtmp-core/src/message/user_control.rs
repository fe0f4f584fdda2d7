//! User control messages (type 4): a 16-bit event type and its data.

use bytes::{BufMut, Bytes, BytesMut};

use super::{type_id, MessageError};

/// A user control event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserControl {
    /// The stream is ready to carry data (sent before `onStatus` of publish and play).
    StreamBegin(u32),
    /// Playback of the stream ended.
    StreamEof(u32),
    /// No more data on the stream for now.
    StreamDry(u32),
    /// The client's buffer length for a stream, in milliseconds.
    SetBufferLength {
        /// The message stream.
        stream_id: u32,
        /// Buffer length in milliseconds.
        buffer_ms: u32,
    },
    /// The stream is a recorded one.
    StreamIsRecorded(u32),
    /// A ping: the receiver answers with [`UserControl::PingResponse`] and the same value.
    PingRequest(u32),
    /// The answer to a ping.
    PingResponse(u32),
    /// An event type this crate does not interpret (SWF verification, ...).
    Other {
        /// The event type.
        event_type: u16,
        /// Its data, untouched.
        data: Bytes,
    },
}

mod event {
    pub(super) const STREAM_BEGIN: u16 = 0;
    pub(super) const STREAM_EOF: u16 = 1;
    pub(super) const STREAM_DRY: u16 = 2;
    pub(super) const SET_BUFFER_LENGTH: u16 = 3;
    pub(super) const STREAM_IS_RECORDED: u16 = 4;
    pub(super) const PING_REQUEST: u16 = 6;
    pub(super) const PING_RESPONSE: u16 = 7;
}

impl UserControl {
    /// Parses a user control message payload.
    pub fn parse(payload: &Bytes) -> Result<UserControl, MessageError> {
        let too_short = |needed: usize| MessageError::TooShort {
            type_id: type_id::USER_CONTROL,
            needed,
            got: payload.len(),
        };
        let Some(&[hi, lo]) = payload.get(..2) else {
            return Err(too_short(2));
        };
        let event_type = u16::from_be_bytes([hi, lo]);
        let word = |at: usize| -> Result<u32, MessageError> {
            match payload.get(at..at + 4) {
                Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
                _ => Err(too_short(at + 4)),
            }
        };
        Ok(match event_type {
            event::STREAM_BEGIN => UserControl::StreamBegin(word(2)?),
            event::STREAM_EOF => UserControl::StreamEof(word(2)?),
            event::STREAM_DRY => UserControl::StreamDry(word(2)?),
            event::SET_BUFFER_LENGTH => UserControl::SetBufferLength {
                stream_id: word(2)?,
                buffer_ms: word(6)?,
            },
            event::STREAM_IS_RECORDED => UserControl::StreamIsRecorded(word(2)?),
            event::PING_REQUEST => UserControl::PingRequest(word(2)?),
            event::PING_RESPONSE => UserControl::PingResponse(word(2)?),
            _ => UserControl::Other {
                event_type,
                data: payload.slice(2..),
            },
        })
    }

    /// Serializes the event as a user control message payload.
    pub fn to_payload(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(10);
        let (event_type, words): (u16, &[u32]) = match self {
            UserControl::StreamBegin(id) => (event::STREAM_BEGIN, &[*id][..]),
            UserControl::StreamEof(id) => (event::STREAM_EOF, &[*id][..]),
            UserControl::StreamDry(id) => (event::STREAM_DRY, &[*id][..]),
            UserControl::SetBufferLength {
                stream_id,
                buffer_ms,
            } => (event::SET_BUFFER_LENGTH, &[*stream_id, *buffer_ms][..]),
            UserControl::StreamIsRecorded(id) => (event::STREAM_IS_RECORDED, &[*id][..]),
            UserControl::PingRequest(t) => (event::PING_REQUEST, &[*t][..]),
            UserControl::PingResponse(t) => (event::PING_RESPONSE, &[*t][..]),
            UserControl::Other { event_type, data } => {
                out.put_u16(*event_type);
                out.put_slice(data);
                return out.freeze();
            }
        };
        out.put_u16(event_type);
        for word in words {
            out.put_u32(*word);
        }
        out.freeze()
    }
}
