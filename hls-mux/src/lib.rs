//! Repackaging without re-encoding: frames in, MPEG-TS or fMP4/CMAF segments
//! and HLS playlists out.
//!
//! - [`media`]: the input, [`Frame`]s on the 90 kHz [`CLOCK`] and a
//!   [`TrackConfig`] per track (one video, one audio, or only one of them);
//!   [`FlvAdapter`] builds both from the `flv` crate's frame view.
//! - [`ts`]: the MPEG-TS writer (PAT/PMT, PES, PCR, Annex B, ADTS).
//! - [`fmp4`]: the fMP4/CMAF writer (init segment, `moof`/`mdat` fragments,
//!   and single-file fragmented MP4).
//! - [`mp4`]: the progressive MP4 writer (`moov` first, sample tables in
//!   memory, the media data streamed out as it comes).
//! - [`playlist`]: media playlists (live window, EVENT, VOD, LL-HLS with
//!   parts, delta updates and the sans-IO blocking-reload answer) and the
//!   multivariant playlist.
//! - [`dash`]: MPEG-DASH over the same fMP4 segments (a dynamic MPD with
//!   segment timelines, one representation per track cut out of the muxed
//!   segments without copying the media).
//! - [`Segmenter`]: where segments and parts are cut, and discontinuities.
//! - [`Muxer`]: all of it for one rendition: configurations and frames in,
//!   init segments, segments, parts and the media playlist out.
//!
//! Everything is sans-IO: bytes out as [`bytes::Bytes`], time passed in.
//!
//! The timing rules (segment cut tolerance, parts on the video timeline,
//! exact fMP4 timelines) are in the README and on [`Segmenter`] and
//! [`Muxer`].
//!
//! # The run loop
//!
//! A [`Muxer`] is driven like the family's other state machines: inputs in
//! through one door each, outputs polled out, no clock read inside.
//!
//! | kind | methods |
//! | --- | --- |
//! | input | [`Muxer::set_config`] (a track's codec configuration), [`Muxer::push`] (a frame), [`Muxer::finish`] (the end), [`Muxer::restart`] (a publisher back on an ended stream) |
//! | time | media time is the frames' own 90 kHz timestamps; the wall clock for `EXT-X-PROGRAM-DATE-TIME` is passed in with [`Muxer::set_clock`] (a `SystemTime`, the one wall-clock input of the family) |
//! | output | [`Muxer::poll_output`] until `None` after each input: [`Output::Init`], [`Output::Part`], [`Output::Segment`], [`Output::Removed`]; [`Muxer::playlist`] for the playlist and the blocking-reload answer |
//!
//! A server's turn: `set_clock(now)`, then `set_config`/`push` what arrived,
//! then take every output, store or send it, and wake the playlist's waiters.
//! Errors are values ([`MuxError`]): a frame that cannot be packaged is refused
//! and the muxer goes on with the next one.

pub mod captions;
mod cfr;
pub mod cue;
pub mod dash;
pub mod encryption;
pub mod fmp4;
mod from_flv;
pub mod id3;
pub mod media;
pub mod mp4;
mod muxer;
pub mod playlist;
pub mod scte35;
mod segmenter;
pub mod ts;

pub use cue::{Cue, CueError};
pub use from_flv::{AdapterError, FlvAdapter, FlvInput, Inputs};
pub use media::{Frame, MediaKind, Mp3Config, TrackConfig, Tracks, CLOCK};
pub use muxer::{
    ClockAnchor, Continuation, Format, MuxError, Muxer, MuxerOptions, Output, ALIGN_LIMIT,
    DRIFT_LIMIT, MAX_PENDING_METADATA,
};
pub use segmenter::{Cut, CutReason, Segmenter, SegmenterOptions};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
