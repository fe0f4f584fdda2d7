//! Media messages as sessions hand them to the application.

use bytes::Bytes;

use crate::message::type_id;

/// What a media message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// An FLV audio tag body (message type 8).
    Audio,
    /// An FLV video tag body (message type 9).
    Video,
    /// An AMF0 data message body (type 18): metadata, cue points, text.
    Data,
}

impl MediaKind {
    /// The kind a message type id carries: 8 audio, 9 video, 18 and 15 (AMF3-framed)
    /// data; `None` for anything else.
    pub fn from_type_id(type_id: u8) -> Option<MediaKind> {
        match type_id {
            type_id::AUDIO => Some(MediaKind::Audio),
            type_id::VIDEO => Some(MediaKind::Video),
            type_id::DATA_AMF0 | type_id::DATA_AMF3 => Some(MediaKind::Data),
            _ => None,
        }
    }

    /// The RTMP message type id.
    pub fn type_id(self) -> u8 {
        match self {
            MediaKind::Audio => type_id::AUDIO,
            MediaKind::Video => type_id::VIDEO,
            MediaKind::Data => type_id::DATA_AMF0,
        }
    }

    /// The chunk stream this crate sends the kind on (FFmpeg's choice).
    pub fn chunk_stream_id(self) -> u32 {
        match self {
            MediaKind::Audio => crate::message::chunk_stream::AUDIO,
            MediaKind::Video => crate::message::chunk_stream::VIDEO,
            MediaKind::Data => crate::message::chunk_stream::STREAM,
        }
    }
}

/// One audio, video or data message of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaMessage {
    /// The message stream it came on (or goes to).
    pub stream_id: u32,
    /// Audio, video or data.
    pub kind: MediaKind,
    /// Milliseconds on the 64-bit timeline of its chunk stream.
    pub timestamp: u64,
    /// The payload as received: an FLV tag body, or the AMF0 body of a data message.
    pub payload: Bytes,
}
