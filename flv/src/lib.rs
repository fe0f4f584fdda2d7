//! FLV: file and stream demux, tag bodies (legacy and Enhanced RTMP/FLV v1
//! and v2), codec configuration records, and mux.
//!
//! Three levels, each usable alone:
//!
//! - **Tags.** [`Reader`] is a sans-IO demuxer: [`push`](Reader::push) bytes
//!   as they arrive, pull [`ReadEvent`]s ([`Header`], [`Tag`], and with
//!   [`ReaderOptions::resync`] the [`Skipped`](ReadEvent::Skipped) ranges of
//!   a broken file). [`read_all`] does the same over a whole file in memory.
//!   Tag bodies are [`Bytes`](bytes::Bytes) slices of the input, never
//!   copies; timestamps are unwrapped onto a 64-bit timeline ([`Timeline`]).
//!   The header's audio/video flags are reported, never trusted.
//! - **Tag bodies.** [`tag::VideoTag`], [`tag::AudioTag`] and
//!   [`tag::ScriptData`] (with [`tag::OnMetaData`] and its keyframe index)
//!   parse legacy tags (AVC and legacy HEVC with the signed 24-bit
//!   composition time, AAC, MP3, G.711, Speex, Nellymoser, ...) and
//!   Enhanced RTMP ones (FourCC `avc1`, `hvc1`, `av01`, `vp09`, `Opus`,
//!   `fLaC`, `ac-3`, `ec-3`, `mp4a`, `.mp3`; ModEx with TimestampOffsetNano;
//!   multitrack, one or many tracks, one or many codecs; metadata; command
//!   frames; multichannel configuration).
//! - **Frames.** [`media_events`] turns one tag into [`MediaEvent`]s: a
//!   [`Frame`] per track (codec, track, DTS, PTS, key flag, payload exactly
//!   as FFmpeg hands it out) and a [`ConfigChange`] for each sequence header
//!   (its record parsed by [`config`]).
//!   [`FrameReader`] does it for a whole file.
//! - **Mux.** [`Writer`] writes the header and tags (as read, or built from
//!   frames and configurations by [`Body`], legacy or Enhanced), script data
//!   and `onMetaData`, and at [`finish`](Writer::finish) the patches that
//!   make a file seekable (duration, file size, keyframe index); sans-IO,
//!   into a `BytesMut` or zero-copy [`Pieces`].
//!
//! Nothing panics on any input, every size is checked before use, and
//! memory is bounded by one tag ([`ReaderOptions::max_tag_size`]).
//!
//! # Example
//!
//! ```
//! use flv::{FrameEvent, FrameReader, MediaEvent};
//!
//! // A header, then one legacy AVC key frame (composition time 66 ms).
//! let file = bytes::Bytes::from_static(b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00\
//!     \x09\x00\x00\x0b\x00\x00\x64\x00\x00\x00\x00\x17\x01\x00\x00\x42\x00\x00\x00\x02\x09\xf0\x00\x00\x00\x16");
//! for event in FrameReader::new(file) {
//!     match event? {
//!         FrameEvent::Header(header) => assert!(header.has_video && !header.has_audio),
//!         FrameEvent::Media(MediaEvent::Frame(frame)) => {
//!             assert_eq!((frame.codec, frame.dts, frame.pts, frame.key), (flv::Codec::Avc, 100, 166, true));
//!             assert_eq!(&frame.data[..], b"\x00\x00\x00\x02\x09\xf0");
//!         }
//!         other => panic!("{other:?}"),
//!     }
//! }
//! # Ok::<(), flv::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod config;
pub mod tag;

mod codec;
mod error;
mod frame;
mod reader;
mod writer;

pub use crate::codec::{Codec, FourCc, MediaType};
pub use crate::error::Error;
pub use crate::frame::{
    media_events, ConfigChange, ConfigChangeKind, Frame, FrameEvent, FrameReader, MediaEvent,
    MediaEvents,
};
pub use crate::reader::{
    read_all, read_all_with, Header, ReadAll, ReadEvent, Reader, ReaderOptions, SkipReason, Tag,
    TagType, Timeline, HEADER_SIZE, MAX_TAG_DATA_SIZE, PREVIOUS_TAG_SIZE_SIZE, TAG_HEADER_SIZE,
};
pub use crate::writer::{
    Body, BodyForm, Finish, Output, Patch, Pieces, Rewrite, Writer, WriterOptions,
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
