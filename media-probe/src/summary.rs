//! Whole-stream figures: per track, and the events counted by kind.

use std::time::Duration;

use flv::{Codec, MediaType};

use crate::EventKind;

/// What one track held, from its first frame to now.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrackSummary {
    /// The FFmpeg stream index.
    pub stream_index: u32,
    /// Audio or video.
    pub media: MediaType,
    /// The codec.
    pub codec: Codec,
    /// The FLV track id.
    pub track: u8,
    /// RFC 6381 codec string of the current sequence header, when it parses.
    pub codec_string: Option<String>,
    /// Picture size (video).
    pub size: Option<(u32, u32)>,
    /// Sample rate and channels (audio).
    pub audio: Option<(u32, u8)>,
    /// The nominal frame rate (SPS timing, the configured one, or estimated).
    pub nominal_fps: Option<f64>,
    /// Frames.
    pub frames: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// Key frames.
    pub keyframes: u64,
    /// First DTS, ms.
    pub first_dts: Option<i64>,
    /// Last DTS, ms.
    pub last_dts: Option<i64>,
    /// Sum of the DTS steps between frames that were neither jumps nor backwards,
    /// ms: the track's duration without its discontinuities.
    pub span_ms: i64,
    /// Sequence headers received (repeats included).
    pub sequence_headers: u32,
    /// Shortest, longest and total GOP duration (ms) and the number of complete GOPs.
    pub gops: GopStats,
    /// Picture types seen: I, P, B, other (SP/SI), unknown.
    pub pict_types: [u64; 5],
}

impl TrackSummary {
    /// Frames per second over [`span_ms`](Self::span_ms).
    pub fn fps(&self) -> Option<f64> {
        (self.span_ms > 0 && self.frames > 1)
            .then(|| (self.frames - 1) as f64 * 1000.0 / self.span_ms as f64)
    }

    /// Payload bits per second over [`span_ms`](Self::span_ms).
    pub fn bitrate(&self) -> Option<f64> {
        (self.span_ms > 0).then(|| self.bytes as f64 * 8000.0 / self.span_ms as f64)
    }
}

/// GOP lengths of a video track.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GopStats {
    /// Complete GOPs (key frame to next key frame, no jump inside).
    pub count: u64,
    /// Shortest, ms.
    pub min_ms: Option<i64>,
    /// Longest, ms.
    pub max_ms: Option<i64>,
    /// Sum, ms (mean = total / count).
    pub total_ms: i64,
    /// Frames in the last complete GOP.
    pub last_frames: u32,
}

impl GopStats {
    pub(crate) fn add(&mut self, gop_ms: i64, frames: u32) {
        self.count += 1;
        self.min_ms = Some(self.min_ms.map_or(gop_ms, |m| m.min(gop_ms)));
        self.max_ms = Some(self.max_ms.map_or(gop_ms, |m| m.max(gop_ms)));
        self.total_ms = self.total_ms.saturating_add(gop_ms);
        self.last_frames = frames;
    }

    /// Mean GOP, ms.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total_ms as f64 / self.count as f64)
    }
}

/// The stream so far.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// Tracks in stream index order.
    pub tracks: Vec<TrackSummary>,
    /// Events by kind, in [`EventKind::NAMES`] order.
    pub events: [u64; EventKind::NAMES.len()],
    /// First to last arrival (live input).
    pub arrival_span: Option<Duration>,
    /// Outputs dropped because the caller did not drain them in time.
    pub dropped_outputs: u64,
}

impl Summary {
    /// How many events of the kind named `name` (see [`EventKind::NAMES`]).
    pub fn event_count(&self, name: &str) -> u64 {
        EventKind::NAMES
            .iter()
            .position(|n| *n == name)
            .map_or(0, |i| self.events[i])
    }

    /// All events.
    pub fn total_events(&self) -> u64 {
        self.events.iter().sum()
    }
}
