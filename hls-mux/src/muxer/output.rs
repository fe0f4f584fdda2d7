//! What the muxer hands out: [`Output`], [`MuxError`] and the
//! [`Continuation`] of a stream for another node.

use bytes::Bytes;

use crate::fmp4::Fmp4Error;
use crate::media::MediaKind;
use crate::playlist::PlaylistError;
use crate::ts::TsError;

/// What the muxer produced, in the order to publish it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// An init segment (fMP4), before the first segment that needs it.
    Init {
        /// Its URI, relative to the playlist.
        uri: String,
        /// The bytes.
        data: Bytes,
    },
    /// A part (Low-Latency HLS); the playlist lists it already.
    Part {
        /// Its URI.
        uri: String,
        /// The bytes, in order (headers and frame slices).
        data: Vec<Bytes>,
        /// Seconds, whole milliseconds (its `DURATION`): from its first
        /// video frame's decode time to the next part's. The parts of a
        /// segment add up to the segment's duration.
        duration: f64,
        /// It starts with a key frame.
        independent: bool,
    },
    /// A complete segment; the playlist lists it already.
    Segment {
        /// Its media sequence number.
        msn: u64,
        /// Its URI.
        uri: String,
        /// The bytes, in order (headers and frame slices; for fMP4 with parts,
        /// the concatenation of its parts after a `styp`).
        data: Vec<Bytes>,
        /// Seconds (its `EXTINF`): with parts, the sum of its parts'
        /// durations (the video decode timeline, whole milliseconds);
        /// without, from its first frame's presentation time to the next
        /// segment's.
        duration: f64,
        /// It follows a discontinuity.
        discontinuity: bool,
    },
    /// A segment and its parts left the live window: they may be deleted.
    Removed {
        /// The URIs.
        uris: Vec<String>,
    },
}

/// Why the muxer cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MuxError {
    /// The MPEG-TS writer refused the tracks or a frame.
    #[error(transparent)]
    Ts(#[from] TsError),
    /// The fMP4 writer refused the tracks or a fragment.
    #[error(transparent)]
    Fmp4(#[from] Fmp4Error),
    /// The playlist refused an update.
    #[error(transparent)]
    Playlist(#[from] PlaylistError),
    /// A frame of a track with no configuration yet.
    #[error("a {0:?} frame came before the {0:?} track's configuration")]
    MissingConfig(MediaKind),
    /// Parts need fMP4.
    #[error("Low-Latency HLS parts need the fMP4 format, not MPEG-TS")]
    PartsNeedFmp4,
    /// An option out of range.
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// An ad break was asked for in a way the muxer cannot honour.
    #[error("ad break refused: expected {expected}")]
    AdBreak {
        /// What it needs (a wall clock, a duration in range, no break running).
        expected: &'static str,
    },
    /// Timed metadata the muxer cannot write.
    #[error("timed metadata refused: expected {expected}")]
    Metadata {
        /// What it needs (fMP4, a tag within the size, room in the queue).
        expected: &'static str,
    },
}

/// Where a stream stands, for another process (or node) to continue its
/// playlist: see [`Muxer::continuation`](super::Muxer::continuation) and [`Muxer::continue_from`](super::Muxer::continue_from).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    /// The media sequence number of the continuation's first segment.
    pub next_msn: u64,
    /// Its `EXT-X-DISCONTINUITY-SEQUENCE` while its first segment (which is
    /// discontinuous) is in the window.
    pub discontinuity_sequence: u64,
    /// The number of its first init segment (`initN.mp4`): init URIs are
    /// never reused, so a cache holding the old one cannot serve it for the
    /// new stream.
    pub next_init: u32,
}
