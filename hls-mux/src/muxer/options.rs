//! What the muxer is asked to make: [`Format`] and [`MuxerOptions`].

use crate::encryption::Encryption;
use crate::playlist::PlaylistKind;

/// The segment container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// MPEG-TS segments (`.ts`).
    Ts,
    /// fMP4/CMAF: an init segment (`.mp4`) and media segments (`.m4s`).
    Fmp4,
}

/// How to repackage.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MuxerOptions {
    /// The container.
    pub format: Format,
    /// Target segment duration, seconds (default 6).
    pub target_duration: f64,
    /// Part target for Low-Latency HLS, seconds (fMP4 only); `None` (the
    /// default) for none. Rounded to whole milliseconds, as
    /// `PART-TARGET` is written. Parts are cut on the video track's
    /// timeline (see [`Muxer`](super::Muxer)).
    pub part_duration: Option<f64>,
    /// Live window, EVENT or VOD (default: a live window of 6 segments).
    pub kind: PlaylistKind,
    /// A forward DTS step longer than this many seconds is a discontinuity
    /// (default 5); any backward step is one.
    pub jump_threshold: f64,
    /// Put video timestamps that are a common constant frame rate rounded
    /// to milliseconds (RTMP's and FLV's clock: 33, 33, 34 ms at 30 fps) on
    /// that rate's exact grid (3000 ticks at 90 kHz; 24, 25, 29.97, 30, 50
    /// and 60 fps), moving none by more than a millisecond, so MP4 tools
    /// see the encoder's constant frame rate. A stream that does not fit
    /// passes through untouched. Default `true`.
    pub constant_frame_rate: bool,
    /// Encrypt every segment and part with AES-128 (`EXT-X-KEY`), keys
    /// derived from the application's master key and rotated every so many
    /// segments (see [`crate::encryption`]); the application serves the keys
    /// at [`Encryption::key_uri`]. Default `None`.
    pub encryption: Option<Encryption>,
    /// Beside each ad break's `EXT-X-DATERANGE`, also write the older
    /// `EXT-X-CUE-OUT`/`EXT-X-CUE-IN` ([`Muxer::insert_ad_break`](super::Muxer::insert_ad_break)). Default
    /// `false`.
    pub cue_tags: bool,
    /// MPEG-TS: declare an ID3 timed metadata stream in every PMT, so that
    /// [`Muxer::push_metadata`](super::Muxer::push_metadata) can write to it ([`TsWriter::with_timed_metadata`](crate::ts::TsWriter::with_timed_metadata)).
    /// fMP4 carries timed metadata without it. Default `false` (the PMT
    /// lists the tracks only).
    pub timed_metadata: bool,
}

impl MuxerOptions {
    /// Options for `format` with the defaults above.
    pub fn new(format: Format) -> MuxerOptions {
        MuxerOptions {
            format,
            target_duration: 6.0,
            part_duration: None,
            kind: PlaylistKind::Live { window: 6 },
            jump_threshold: 5.0,
            constant_frame_rate: true,
            encryption: None,
            cue_tags: false,
            timed_metadata: false,
        }
    }
}
