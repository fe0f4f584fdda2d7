//! What the progressive MP4 writer refuses, and why.

use crate::MediaKind;

/// An error of the progressive MP4 writer ([`Mp4Writer`](super::Mp4Writer)).
///
/// A refused frame or configuration leaves the writer as it was: the caller
/// can drop it (and report that) and go on with the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mp4Error {
    /// The configuration cannot be described by an MP4 sample entry (an audio
    /// track without a sample rate, a picture wider or higher than 65535,
    /// Opus with a channel mapping family other than 0).
    #[error("the {media:?} track's configuration cannot be written: {reason}")]
    UnsupportedConfig {
        /// Which track.
        media: MediaKind,
        /// What is wrong with it.
        reason: String,
    },

    /// A configuration change one track cannot carry: another codec, another
    /// audio sample rate (the track's timescale), or more sample descriptions
    /// than [`Mp4Options::max_sample_descriptions`](super::Mp4Options::max_sample_descriptions).
    #[error("the {media:?} track cannot change its configuration: expected {expected}, got {got}")]
    ConfigChange {
        /// Which track.
        media: MediaKind,
        /// What the track can take.
        expected: String,
        /// What came.
        got: String,
    },

    /// A frame came for a track that has no configuration yet.
    #[error("a {media:?} frame at dts {dts} came before the track's configuration")]
    NoConfig {
        /// The frame's track.
        media: MediaKind,
        /// Its dts, 90 kHz.
        dts: i64,
    },

    /// A frame's dts is lower than the previous frame's of the same track:
    /// sample tables hold durations, which cannot be negative.
    #[error("the {media:?} track's dts went backwards: expected at least {previous}, got {dts}")]
    DecodeTimeBackwards {
        /// Which track.
        media: MediaKind,
        /// The previous frame's dts, 90 kHz.
        previous: i64,
        /// The offending dts, 90 kHz.
        dts: i64,
    },

    /// The step from the previous frame does not fit the 32-bit `stts` delta.
    #[error("a {media:?} frame at dts {dts} comes {ticks} track ticks after the previous one: more than a 32-bit stts delta holds")]
    DurationTooLong {
        /// Which track.
        media: MediaKind,
        /// The frame's dts, 90 kHz.
        dts: i64,
        /// The step, in the track's timescale.
        ticks: i64,
    },

    /// `pts - dts` does not fit the signed 32-bit `ctts` offset.
    #[error(
        "a {media:?} frame's composition offset (pts {pts} - dts {dts}) does not fit in 32 bits"
    )]
    CompositionOffsetOutOfRange {
        /// Which track.
        media: MediaKind,
        /// The frame's dts, 90 kHz.
        dts: i64,
        /// The frame's pts, 90 kHz.
        pts: i64,
    },

    /// A frame larger than the 32-bit `stsz` entry holds.
    #[error(
        "a {media:?} frame at dts {dts} is {size} bytes: at most 4294967295 fit a sample size"
    )]
    SampleTooLarge {
        /// Which track.
        media: MediaKind,
        /// The frame's dts, 90 kHz.
        dts: i64,
        /// Its size in bytes.
        size: usize,
    },

    /// [`Mp4Options::max_samples`](super::Mp4Options::max_samples) frames
    /// were written already.
    #[error("too many samples: the limit is {limit}")]
    TooManySamples {
        /// The limit.
        limit: u64,
    },

    /// [`Mp4Writer::finish`](super::Mp4Writer::finish) was called before any
    /// frame was written: a file without samples plays nothing.
    #[error("no samples: expected at least one frame before finish")]
    NoSamples,

    /// The box encoder (`mp4-atom`) refused the `moov`.
    #[error("could not encode the moov: {0}")]
    Encode(String),
}
