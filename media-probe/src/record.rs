//! What the probe says about each frame.

use std::time::Duration;

use flv::{Codec, MediaType};

use crate::PictType;

/// One audio or video frame as the probe saw it, in decode (arrival) order.
///
/// The fields match what `ffprobe -show_packets` / `-show_frames` report for FLV
/// input (see the `--show-frames` output of the command), plus the arrival time
/// and the probe's own duration measure.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameRecord {
    /// Audio or video.
    pub media: MediaType,
    /// The codec.
    pub codec: Codec,
    /// The FLV track id (0 unless Enhanced RTMP multitrack).
    pub track: u8,
    /// The stream index FFmpeg gives this track: tracks numbered in the order their
    /// first tag (sequence header or frame) appeared.
    pub stream_index: u32,
    /// The FLV key frame flag (every audio frame is a key frame).
    pub key: bool,
    /// Decoding timestamp, ms.
    pub dts: i64,
    /// Presentation timestamp, ms.
    pub pts: i64,
    /// DTS of the next frame of the same track minus this DTS, ms; `None` for the
    /// last frame (or when the next one did not come within
    /// [`ProbeConfig::max_reorder`](crate::ProbeConfig::max_reorder) records).
    pub duration: Option<i64>,
    /// The duration FFmpeg reports (`pkt_duration`): samples per frame over the
    /// sample rate for audio, one frame at the nominal rate for video, rounded down
    /// to whole ms.
    pub nominal_duration: Option<i64>,
    /// Payload size, bytes (FFmpeg's packet size).
    pub size: u32,
    /// Byte position of the frame's tag in the input, for file input.
    pub pos: Option<u64>,
    /// Picture type from the first slice header (H.264 and HEVC).
    pub pict_type: Option<PictType>,
    /// Picture width from the current sequence header.
    pub width: Option<u32>,
    /// Picture height from the current sequence header.
    pub height: Option<u32>,
    /// When the frame arrived, on the caller's clock (live input).
    pub arrival: Option<Duration>,
}
