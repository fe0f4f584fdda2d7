//! What can go wrong when a playlist is built or asked.

/// An input the playlist cannot take. The playlist is unchanged when a
/// method returns one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlaylistError {
    /// A duration that is negative, not finite or absurdly long.
    #[error("{what} duration {value} s is not a non-negative finite number of seconds")]
    InvalidDuration {
        /// Which duration (segment, part, target...).
        what: &'static str,
        /// The value given, seconds.
        value: f64,
    },
    /// A URI that cannot be written into a playlist.
    #[error("URI {uri:?} cannot go into a playlist: {reason}")]
    InvalidUri {
        /// The URI given.
        uri: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Options that contradict each other or the specification.
    #[error("invalid playlist options: {0}")]
    InvalidOptions(&'static str),
    /// A part was pushed to a playlist without Low-Latency HLS.
    #[error("parts need Low-Latency HLS options")]
    PartsDisabled,
    /// A part longer than the part target (rfc8216bis 4.4.4.9: a part MUST
    /// NOT exceed `PART-TARGET`, and the part target cannot change).
    #[error("part of {duration_ms} ms is longer than the part target of {part_target_ms} ms")]
    PartTooLong {
        /// The part's duration, ms.
        duration_ms: u64,
        /// The part target, ms.
        part_target_ms: u64,
    },
    /// A completed segment whose head (discontinuity, init segment) differs
    /// from what was announced before its parts were published: those tags
    /// are already in front of the parts clients have seen.
    #[error("segment {msn} completes with a different head than its parts were published with")]
    HeadMismatch {
        /// Media sequence number of the segment.
        msn: u64,
    },
    /// A segment without an init segment after one with: `EXT-X-MAP` cannot
    /// be taken back within a playlist.
    #[error("segment {msn} has no init segment but an earlier one had")]
    MapRemoved {
        /// Media sequence number of the segment.
        msn: u64,
    },
    /// The playlist has ended (`EXT-X-ENDLIST`): nothing more goes in.
    #[error("the playlist has ended")]
    Ended,
    /// A blocking-reload query that cannot be read.
    #[error("bad playlist query: {0}")]
    BadQuery(&'static str),
}
