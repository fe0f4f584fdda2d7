//! RTMP messages: what the chunk layer's [`RawMessage`] payloads mean.
//!
//! [`Message::parse`] turns a type id and payload into a typed value and
//! [`Message::to_raw`] turns one back into a [`RawMessage`] for the chunk encoder.
//! Audio, video and aggregate payloads are kept as `Bytes` views of the input:
//! nothing here copies media.

mod aggregate;
mod command;
mod control;
mod error;
mod user_control;

pub use aggregate::{split_aggregate, AggregateIter};
pub use command::{Command, DataMessage};
pub use control::PeerBandwidthLimit;
pub use error::MessageError;
pub use user_control::UserControl;

use bytes::Bytes;

use crate::chunk::RawMessage;

/// Message type ids (RTMP specification 5.4 and 7.1).
pub mod type_id {
    /// Set Chunk Size (protocol control).
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message (protocol control).
    pub const ABORT: u8 = 2;
    /// Acknowledgement (protocol control).
    pub const ACKNOWLEDGEMENT: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size (protocol control).
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth (protocol control).
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio data (an FLV audio tag body).
    pub const AUDIO: u8 = 8;
    /// Video data (an FLV video tag body).
    pub const VIDEO: u8 = 9;
    /// Data message in AMF3 framing (a format byte, then AMF0 in practice).
    pub const DATA_AMF3: u8 = 15;
    /// Shared object message, AMF3.
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    /// Command message in AMF3 framing (a format byte, then AMF0 in practice).
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0 (`@setDataFrame`, `onMetaData`, ...).
    pub const DATA_AMF0: u8 = 18;
    /// Shared object message, AMF0.
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    /// Command message, AMF0 (`connect`, `publish`, `onStatus`, ...).
    pub const COMMAND_AMF0: u8 = 20;
    /// Aggregate message: a run of FLV-tag-shaped sub-messages.
    pub const AGGREGATE: u8 = 22;
}

/// Chunk stream ids this crate uses when it sends, following FFmpeg and nginx-rtmp.
pub mod chunk_stream {
    /// Protocol control and user control messages (required by the specification).
    pub const CONTROL: u32 = 2;
    /// Commands on the NetConnection (`connect`, `createStream`, `_result`).
    pub const COMMAND: u32 = 3;
    /// Audio.
    pub const AUDIO: u32 = 4;
    /// Video.
    pub const VIDEO: u32 = 6;
    /// Commands and data on a NetStream (`publish`, `play`, `onStatus`, metadata).
    pub const STREAM: u32 = 5;
}

/// A parsed RTMP message.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// The sender's chunk size from now on.
    SetChunkSize(u32),
    /// Discard the partial message on this chunk stream.
    Abort {
        /// The chunk stream whose partial message is dropped.
        chunk_stream_id: u32,
    },
    /// The total number of bytes the peer has received so far (mod 2^32).
    Acknowledgement {
        /// Bytes received.
        sequence_number: u32,
    },
    /// A user control event.
    UserControl(UserControl),
    /// How many bytes the sender may receive before it sends an acknowledgement.
    WindowAckSize(u32),
    /// Limits the peer's output bandwidth (in practice: sets its ack window).
    SetPeerBandwidth {
        /// Window size in bytes.
        size: u32,
        /// How to apply it.
        limit: PeerBandwidthLimit,
    },
    /// An FLV audio tag body, untouched.
    Audio(Bytes),
    /// An FLV video tag body, untouched.
    Video(Bytes),
    /// A data message (type 18, or 15 with its format byte).
    Data(DataMessage),
    /// A command message (type 20, or 17 with its format byte).
    Command(Command),
    /// An aggregate message, unsplit: see [`split_aggregate`].
    Aggregate(Bytes),
    /// A message type this crate does not interpret (shared objects, unknown ids).
    Other {
        /// The message type id.
        type_id: u8,
        /// The payload, untouched.
        payload: Bytes,
    },
}

impl Message {
    /// Parses a payload of the given message type.
    ///
    /// AMF values are decoded with `amf_limits`; a malformed payload is an error and
    /// the caller decides whether that ends the session.
    pub fn parse(
        type_id: u8,
        payload: &Bytes,
        amf_limits: &amf0::Limits,
    ) -> Result<Message, MessageError> {
        use type_id::*;
        Ok(match type_id {
            SET_CHUNK_SIZE => Message::SetChunkSize(control::read_u32(type_id, payload)?),
            ABORT => Message::Abort {
                chunk_stream_id: control::read_u32(type_id, payload)?,
            },
            ACKNOWLEDGEMENT => Message::Acknowledgement {
                sequence_number: control::read_u32(type_id, payload)?,
            },
            USER_CONTROL => Message::UserControl(UserControl::parse(payload)?),
            WINDOW_ACK_SIZE => Message::WindowAckSize(control::read_u32(type_id, payload)?),
            SET_PEER_BANDWIDTH => {
                let (size, limit) = control::read_peer_bandwidth(payload)?;
                Message::SetPeerBandwidth { size, limit }
            }
            AUDIO => Message::Audio(payload.clone()),
            VIDEO => Message::Video(payload.clone()),
            DATA_AMF0 => Message::Data(DataMessage::parse(payload.clone(), amf_limits)?),
            DATA_AMF3 => Message::Data(DataMessage::parse(
                command::strip_amf3_format(type_id, payload)?,
                amf_limits,
            )?),
            COMMAND_AMF0 => Message::Command(Command::parse(payload.clone(), amf_limits)?),
            COMMAND_AMF3 => Message::Command(Command::parse(
                command::strip_amf3_format(type_id, payload)?,
                amf_limits,
            )?),
            AGGREGATE => Message::Aggregate(payload.clone()),
            _ => Message::Other {
                type_id,
                payload: payload.clone(),
            },
        })
    }

    /// Parses the payload of a [`RawMessage`].
    pub fn from_raw(raw: &RawMessage, amf_limits: &amf0::Limits) -> Result<Message, MessageError> {
        Message::parse(raw.type_id, &raw.payload, amf_limits)
    }

    /// The message type id this message is sent with.
    ///
    /// Commands and data are always sent as AMF0 (types 20 and 18), as every peer
    /// accepts those.
    pub fn type_id(&self) -> u8 {
        use type_id::*;
        match self {
            Message::SetChunkSize(_) => SET_CHUNK_SIZE,
            Message::Abort { .. } => ABORT,
            Message::Acknowledgement { .. } => ACKNOWLEDGEMENT,
            Message::UserControl(_) => USER_CONTROL,
            Message::WindowAckSize(_) => WINDOW_ACK_SIZE,
            Message::SetPeerBandwidth { .. } => SET_PEER_BANDWIDTH,
            Message::Audio(_) => AUDIO,
            Message::Video(_) => VIDEO,
            Message::Data(_) => DATA_AMF0,
            Message::Command(_) => COMMAND_AMF0,
            Message::Aggregate(_) => AGGREGATE,
            Message::Other { type_id, .. } => *type_id,
        }
    }

    /// Serializes the payload of this message.
    pub fn payload(&self) -> Bytes {
        match self {
            Message::SetChunkSize(size) => control::u32_payload(*size),
            Message::Abort { chunk_stream_id } => control::u32_payload(*chunk_stream_id),
            Message::Acknowledgement { sequence_number } => control::u32_payload(*sequence_number),
            Message::UserControl(event) => event.to_payload(),
            Message::WindowAckSize(size) => control::u32_payload(*size),
            Message::SetPeerBandwidth { size, limit } => {
                control::peer_bandwidth_payload(*size, *limit)
            }
            Message::Audio(payload) | Message::Video(payload) | Message::Aggregate(payload) => {
                payload.clone()
            }
            Message::Data(data) => data.to_payload(),
            Message::Command(command) => command.to_payload(),
            Message::Other { payload, .. } => payload.clone(),
        }
    }

    /// Builds the [`RawMessage`] that carries this message.
    pub fn to_raw(&self, chunk_stream_id: u32, stream_id: u32, timestamp: u64) -> RawMessage {
        RawMessage {
            chunk_stream_id,
            type_id: self.type_id(),
            stream_id,
            timestamp,
            payload: self.payload(),
        }
    }
}

#[cfg(test)]
mod tests;
