//! The error type of the MPEG-TS writer: what a stream or a frame asks for
//! that MPEG-TS (as this writer maps codecs into it) cannot carry.

use crate::MediaKind;

/// Why [`TsWriter`](super::TsWriter) cannot take a set of tracks or a frame.
///
/// Construction errors ([`TsWriter::new`](super::TsWriter::new)) are about the
/// codecs and their configuration; frame errors
/// ([`TsWriter::write_frame`](super::TsWriter::write_frame)) leave the writer
/// usable: nothing of the rejected frame has been written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsError {
    /// Neither a video nor an audio track.
    #[error("no tracks: an MPEG-TS stream needs a video track, an audio track or both")]
    NoTracks,
    /// A codec with no MPEG-TS stream type in this writer (AV1, VP9, FLAC).
    #[error("{codec} has no MPEG-TS mapping here; use fMP4")]
    NoMapping {
        /// The codec.
        codec: &'static str,
    },
    /// A track in the wrong slot of [`Tracks`](crate::Tracks) (an audio
    /// codec as the video track, or the other way round).
    #[error("the {} track holds {codec}, which is not a {} codec", kind(.slot), kind(.slot))]
    WrongTrackKind {
        /// The slot.
        slot: MediaKind,
        /// The codec found there.
        codec: &'static str,
    },
    /// A configuration this codec's MPEG-TS mapping cannot express (an AAC
    /// object type or sample rate ADTS has no field for, an Opus channel
    /// mapping with no channel configuration code, a bad NAL length size).
    #[error("{codec} configuration cannot be carried in MPEG-TS: {reason}")]
    UnsupportedConfig {
        /// The codec.
        codec: &'static str,
        /// What does not fit, and why.
        reason: String,
    },
    /// A frame for a track the stream was not created with.
    #[error("got a frame for the {} track, which this stream does not have", kind(.media))]
    NoSuchTrack {
        /// The frame's track.
        media: MediaKind,
    },
    /// A frame with no payload.
    #[error("got an empty {} frame: a PES packet needs a payload", kind(.media))]
    EmptyFrame {
        /// The frame's track.
        media: MediaKind,
    },
    /// A NAL unit length prefix cut short by the end of the frame.
    #[error("frame ends inside a {size}-byte NAL unit length prefix at offset {offset}")]
    TruncatedNalLength {
        /// Offset of the prefix in the frame.
        offset: usize,
        /// The configured prefix size (1 to 4 bytes).
        size: u8,
    },
    /// A NAL unit length that runs past the end of the frame.
    #[error(
        "NAL unit length {length} at offset {offset} runs past the end of the frame \
         ({remaining} bytes left)"
    )]
    NalPastEnd {
        /// Offset of the length prefix in the frame.
        offset: usize,
        /// The length read.
        length: u64,
        /// Bytes left in the frame after the prefix.
        remaining: usize,
    },
    /// A frame too large for the field that must hold its length (the
    /// 13-bit ADTS `frame_length`, the 16-bit audio `PES_packet_length`).
    #[error("{} frame of {len} bytes is too large for {field} (at most {limit} bytes)", kind(.media))]
    FrameTooLarge {
        /// The frame's track.
        media: MediaKind,
        /// The frame's length as given.
        len: usize,
        /// The field that cannot hold it.
        field: &'static str,
        /// The largest frame the field allows.
        limit: usize,
    },
    /// Timed metadata this writer cannot carry.
    #[error("timed metadata refused: expected {expected}")]
    Metadata {
        /// What it needs (a metadata stream declared, a tag that fits a PES packet).
        expected: &'static str,
    },
}

fn kind(media: &MediaKind) -> &'static str {
    match media {
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
    }
}
