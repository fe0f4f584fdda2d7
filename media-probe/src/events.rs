//! Anomalies the probe reports, each with where it happened and how large it was.

use std::fmt;
use std::time::Duration;

use flv::MediaType;

/// Something worth a look in a stream's timing or configuration.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// What happened, and its size.
    pub kind: EventKind,
    /// The media it concerns; `None` for the stream as a whole (stalls, lag, drift).
    pub media: Option<MediaType>,
    /// The FLV track id, for track events.
    pub track: Option<u8>,
    /// The FFmpeg stream index of that track, for track events.
    pub stream_index: Option<u32>,
    /// DTS of the frame at which it was seen, ms.
    pub dts: i64,
    /// Where that is on the DTS statistics clock of the [`Interval`](crate::Interval)s
    /// (DTS with backward jumps folded away), ms: where to mark it on a plot.
    pub timeline_ms: i64,
    /// Byte position of that frame's tag, for file input.
    pub pos: Option<u64>,
    /// Arrival time of that frame, for live input.
    pub arrival: Option<Duration>,
}

/// The kinds of [`Event`], with the size of what happened.
///
/// [`name`](Self::name) gives the stable snake_case name used in JSON and by
/// `--fail-on`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// The DTS step from the previous frame of the track differs from one frame
    /// duration by at least the threshold: the stream's clock jumped.
    DtsJump {
        /// How far the DTS landed from where the next frame was due (the step minus
        /// one nominal frame duration), ms: positive forward, negative backward.
        delta_ms: i64,
        /// The raw DTS step from the previous frame, ms.
        step_ms: i64,
    },
    /// The DTS went backwards by less than the jump threshold.
    NonMonotonicDts {
        /// The (negative) DTS step, ms.
        step_ms: i64,
    },
    /// A frame is presented before it is decoded.
    PtsBeforeDts {
        /// PTS minus DTS (negative), ms.
        delta_ms: i64,
    },
    /// No frame arrived for at least the stall threshold of arrival time.
    Stall {
        /// Arrival time between the last frame before and the first frame after, ms
        /// (to the end of input when `ongoing`).
        duration_ms: i64,
        /// The input ended during the stall.
        ongoing: bool,
    },
    /// The arrival lag (wall clock minus DTS, relative to its warm-up minimum)
    /// moved by at least the threshold since it was last reported: DTS advancing
    /// slower (lag grows: a server not reading its socket, a stalled encoder) or
    /// faster (lag shrinks: a burst, a catch-up) than the wall clock.
    ArrivalLag {
        /// The lag now, ms.
        lag_ms: i64,
        /// The change since the last report (or since warm-up), ms.
        change_ms: i64,
    },
    /// An interval's video frame rate (in DTS time) is off the nominal rate.
    FpsUnstable {
        /// Frames per second in the interval.
        fps: f64,
        /// The nominal rate.
        nominal_fps: f64,
        /// Start of the interval, ms of DTS.
        interval_start_ms: i64,
    },
    /// Audio and video DTS drifted apart, for a whole interval, from where they
    /// were at the start.
    AvDrift {
        /// Video DTS minus audio DTS, relative to its start value, ms (the smallest
        /// value it had through the interval).
        drift_ms: i64,
    },
    /// The GOP (key frame to key frame) length changed.
    KeyframeIntervalChange {
        /// The previous GOP, ms.
        from_ms: i64,
        /// This GOP, ms.
        to_ms: i64,
        /// Frames in the previous GOP.
        from_frames: u32,
        /// Frames in this GOP.
        to_frames: u32,
    },
    /// A GOP is longer than the limit.
    GopOverLimit {
        /// The GOP, ms.
        gop_ms: i64,
        /// Frames in it.
        frames: u32,
        /// The limit, ms.
        limit_ms: i64,
    },
    /// A sequence header different from the track's previous one.
    SequenceHeaderChange {
        /// RFC 6381 codec string of the old and the new configuration, when they parse.
        from_codec: Option<String>,
        /// The new codec string.
        to_codec: Option<String>,
        /// Picture size before (video).
        from_size: Option<(u32, u32)>,
        /// Picture size after (video).
        to_size: Option<(u32, u32)>,
        /// Size of the new record, bytes.
        bytes: usize,
    },
    /// A frame of a codec that needs a sequence header came before any.
    MissingSequenceHeader,
}

impl EventKind {
    /// Every kind's name, as [`name`](Self::name) gives them.
    pub const NAMES: [&'static str; 11] = [
        "dts_jump",
        "non_monotonic_dts",
        "pts_lt_dts",
        "stall",
        "arrival_lag",
        "fps_unstable",
        "av_drift",
        "keyframe_interval_change",
        "gop_over_limit",
        "sequence_header_change",
        "missing_sequence_header",
    ];

    /// The stable snake_case name: `dts_jump`, `stall`, ...
    pub fn name(&self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// Position of this kind in [`NAMES`](Self::NAMES).
    pub fn index(&self) -> usize {
        match self {
            EventKind::DtsJump { .. } => 0,
            EventKind::NonMonotonicDts { .. } => 1,
            EventKind::PtsBeforeDts { .. } => 2,
            EventKind::Stall { .. } => 3,
            EventKind::ArrivalLag { .. } => 4,
            EventKind::FpsUnstable { .. } => 5,
            EventKind::AvDrift { .. } => 6,
            EventKind::KeyframeIntervalChange { .. } => 7,
            EventKind::GopOverLimit { .. } => 8,
            EventKind::SequenceHeaderChange { .. } => 9,
            EventKind::MissingSequenceHeader => 10,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.name())?;
        if let Some(media) = self.media {
            let media = match media {
                MediaType::Audio => "audio",
                MediaType::Video => "video",
            };
            write!(f, " {media}")?;
            if let Some(track) = self.track.filter(|t| *t != 0) {
                write!(f, "[{track}]")?;
            }
        }
        write!(f, " at dts {} ms", self.dts)?;
        if let Some(pos) = self.pos {
            write!(f, " (pos {pos})")?;
        }
        if let Some(arrival) = self.arrival {
            write!(f, " (arrival {:.3} s)", arrival.as_secs_f64())?;
        }
        match &self.kind {
            EventKind::DtsJump { delta_ms, step_ms } => {
                write!(f, ": {delta_ms:+} ms (step {step_ms:+} ms)")
            }
            EventKind::NonMonotonicDts { step_ms } => write!(f, ": step {step_ms:+} ms"),
            EventKind::PtsBeforeDts { delta_ms } => write!(f, ": pts - dts = {delta_ms} ms"),
            EventKind::Stall {
                duration_ms,
                ongoing,
            } => {
                let ongoing = if *ongoing {
                    ", still stalled at the end"
                } else {
                    ""
                };
                write!(f, ": {duration_ms} ms without a frame{ongoing}")
            }
            EventKind::ArrivalLag { lag_ms, change_ms } => {
                write!(f, ": lag {lag_ms} ms ({change_ms:+} ms)")
            }
            EventKind::FpsUnstable {
                fps, nominal_fps, ..
            } => write!(f, ": {fps:.2} fps, nominal {nominal_fps:.3}"),
            EventKind::AvDrift { drift_ms } => write!(f, ": video - audio {drift_ms:+} ms"),
            EventKind::KeyframeIntervalChange {
                from_ms,
                to_ms,
                from_frames,
                to_frames,
            } => write!(
                f,
                ": GOP {from_ms} ms ({from_frames} frames) -> {to_ms} ms ({to_frames} frames)"
            ),
            EventKind::GopOverLimit {
                gop_ms,
                frames,
                limit_ms,
            } => write!(f, ": GOP {gop_ms} ms ({frames} frames) over {limit_ms} ms"),
            EventKind::SequenceHeaderChange {
                from_codec,
                to_codec,
                from_size,
                to_size,
                bytes,
            } => {
                let codec = |c: &Option<String>| c.clone().unwrap_or_else(|| "?".into());
                let size = |s: &Option<(u32, u32)>| {
                    s.map(|(w, h)| format!(" {w}x{h}")).unwrap_or_default()
                };
                write!(
                    f,
                    ": {}{} -> {}{} ({bytes} bytes)",
                    codec(from_codec),
                    size(from_size),
                    codec(to_codec),
                    size(to_size)
                )
            }
            EventKind::MissingSequenceHeader => write!(f, ": frame before any sequence header"),
        }
    }
}
