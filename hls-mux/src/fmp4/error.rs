//! What the fMP4 writer refuses, and why.
//!
//! Every variant names the track and the value that could not be written, so
//! a caller can log it and decide (drop the sample, start a new init segment,
//! shift timestamps) without guessing.

use crate::MediaKind;

/// An error of the fMP4/CMAF writer.
///
/// The writer never wraps, truncates or clamps a value a player would read
/// differently: it returns one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fmp4Error {
    /// [`Fmp4Writer::new`](super::Fmp4Writer::new) was given neither a video
    /// nor an audio track.
    #[error("no tracks: an fMP4 init segment needs a video or an audio track")]
    NoTracks,

    /// The track's configuration is one the init segment cannot describe.
    #[error(
        "the {media:?} track's configuration cannot be described in an init segment: {reason}"
    )]
    UnsupportedConfig {
        /// Which track.
        media: MediaKind,
        /// What is wrong with it.
        reason: String,
    },

    /// A sample belongs to a track the writer was not created with.
    #[error("received a sample for the {media:?} track, but the writer has no {media:?} track")]
    UnknownTrack {
        /// The sample's track.
        media: MediaKind,
    },

    /// [`Fmp4Writer::fragment`](super::Fmp4Writer::fragment) was given no samples.
    #[error("a fragment needs at least one sample")]
    EmptyFragment,

    /// A track's first decode time in the fragment is negative: `tfdt` is
    /// unsigned (shift timestamps to start at zero or later).
    #[error("the {media:?} track's fragment starts at negative dts {dts}: tfdt cannot hold it")]
    NegativeDecodeTime {
        /// Which track.
        media: MediaKind,
        /// The offending dts, 90 kHz.
        dts: i64,
    },

    /// A sample's dts is lower than the previous sample's of the same track.
    #[error("the {media:?} track's dts went backwards from {previous} to {dts} within a fragment")]
    DecodeTimeBackwards {
        /// Which track.
        media: MediaKind,
        /// The previous sample's dts, 90 kHz.
        previous: i64,
        /// The offending dts, 90 kHz.
        dts: i64,
    },

    /// A sample lasts longer than the 32-bit `trun` duration can hold.
    #[error("a {media:?} sample at dts {dts} lasts {ticks} track ticks: more than a 32-bit trun duration holds")]
    DurationTooLong {
        /// Which track.
        media: MediaKind,
        /// The sample's dts, 90 kHz.
        dts: i64,
        /// The duration, in the track's timescale.
        ticks: i64,
    },

    /// `pts - dts` does not fit the signed 32-bit composition offset.
    #[error(
        "a {media:?} sample's composition offset (pts {pts} - dts {dts}) does not fit in 32 bits"
    )]
    CompositionOffsetOutOfRange {
        /// Which track.
        media: MediaKind,
        /// The sample's dts, 90 kHz.
        dts: i64,
        /// The sample's pts, 90 kHz.
        pts: i64,
    },

    /// A sample is larger than the 32-bit `trun` sample size can hold.
    #[error("a {media:?} sample at dts {dts} is {size} bytes: more than a 32-bit trun sample size holds")]
    SampleTooLarge {
        /// Which track.
        media: MediaKind,
        /// The sample's dts, 90 kHz.
        dts: i64,
        /// Its size in bytes.
        size: usize,
    },

    /// The fragment is too large: its `mdat` would pass 4 GiB, its `moof`
    /// 4 GiB, or a track's data would start more than 2 GiB after the `moof`
    /// (the signed 32-bit `trun` data offset).
    #[error("the fragment is too large: {what} would be {size} bytes")]
    FragmentTooLarge {
        /// Which limit was passed.
        what: &'static str,
        /// The size it would have had.
        size: u64,
    },

    /// The box encoder (`mp4-atom`) refused the init segment.
    #[error("could not encode the init segment: {0}")]
    Encode(String),
}
