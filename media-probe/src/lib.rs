//! A frame timing probe for FLV files and live RTMP streams: what the timestamps
//! of a stream are really doing, and when its frames really arrived.
//!
//! [`Probe`] is sans-IO: it is fed frames and sequence headers (from
//! [`flv::FrameReader`], from RTMP session media messages through
//! [`flv::media_events`], or built by hand), each with its arrival time passed in
//! by the caller (nothing inside reads a clock). It hands out, through
//! [`Probe::poll_output`]:
//!
//! - a [`FrameRecord`] per frame: media type, track, key flag, DTS, PTS, duration
//!   to the next DTS, FFmpeg's nominal duration, size, byte position, picture type
//!   (I/P/B from the H.264 or HEVC slice header), width and height;
//! - an [`Interval`] every N seconds of DTS and every N seconds of arrival time:
//!   frames, frame rate, bitrate, key frames, and the arrival lag;
//! - an [`Event`] for each anomaly, with where it happened and its size: DTS jumps
//!   forward and backward, non-monotonic DTS, PTS before DTS, stalls, arrival lag
//!   changes, frame rate instability, audio/video drift, key frame interval changes,
//!   GOPs over a limit, sequence header changes, missing sequence headers.
//!
//! [`Probe::summary`] gives per-track figures (codec, size, frame rate, bitrate,
//! GOP, picture types) and event counts. Memory is bounded for endless streams:
//! records and intervals stream out, statistics are windows, and the output queue
//! has a limit ([`ProbeConfig::max_queued`]).
//!
//! The `media-probe` command (feature `cli`, on by default) runs it on a file,
//! stdin, an RTMP URL or a publisher it accepts itself. [`mp4::Mp4Reader`]
//! gives the frames of an MP4 file (progressive or fragmented) in the same
//! form, so a file can be probed before and after a remux; it is the one
//! part of the library that reads (any `Read + Seek`, an MP4's index is
//! spread over the file).
//!
//! # The run loop
//!
//! | kind | methods |
//! | --- | --- |
//! | input | [`Probe::push_tag`], [`Probe::push_event`], [`Probe::push_config`], [`Probe::push_frame`], each with its arrival time |
//! | time | arrivals are a `Duration` since the start of the input (the caller's monotonic clock, `Instant::now() - start`), `None` for files; [`Probe::tick`] moves time on when nothing arrives (stalls are seen then) |
//! | output | [`Probe::poll_output`] until `None` after each input; [`Probe::summary`] at any time; [`Probe::finish`] at the end |
//!
//! Arrival times only move forward; an earlier one is taken as the latest seen.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use flv::{Codec, Frame, MediaType};
//! use media_probe::{EventKind, Output, Probe, ProbeConfig};
//!
//! let mut probe = Probe::new(ProbeConfig::default()).unwrap();
//! // 30 fps video whose clock jumps 10 s ahead after the third frame.
//! for (i, dts) in [0, 33, 67, 10_100, 10_133].into_iter().enumerate() {
//!     let frame = Frame {
//!         media: MediaType::Video, codec: Codec::Vp6, track: 0, dts, pts: dts, nanos: 0,
//!         key: i == 0, data: Bytes::from_static(b"frame"), offset: 0,
//!     };
//!     probe.push_frame(&frame, None);
//! }
//! probe.finish(None);
//! let mut frames = 0;
//! while let Some(output) = probe.poll_output() {
//!     match output {
//!         Output::Frame(record) => frames += usize::from(record.size == 5),
//!         Output::Event(event) => {
//!             assert_eq!(event.kind, EventKind::DtsJump { delta_ms: 10_000, step_ms: 10_033 });
//!         }
//!         _ => {}
//!     }
//! }
//! assert_eq!(frames, 5);
//! assert_eq!(probe.summary().event_count("dts_jump"), 1);
//! ```

#![forbid(unsafe_code)]

mod bits;
mod config;
mod error;
mod events;
pub mod mp4;
mod nominal;
mod pict_type;
mod probe;
mod record;
mod stats;
mod summary;
mod track;

pub use crate::config::ProbeConfig;
pub use crate::error::Error;
pub use crate::events::{Event, EventKind};
pub use crate::pict_type::{h264_pict_type, HevcParams, PictType};
pub use crate::probe::{Output, Probe};
pub use crate::record::FrameRecord;
pub use crate::stats::{Interval, MediaCounts, TimeBase};
pub use crate::summary::{GopStats, Summary, TrackSummary};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
