//! The FLV muxer: [`Writer`] (sans-IO), tag bodies from frames ([`Body`]), and
//! what a seekable file needs patched at the end ([`Finish`]).
//!
//! The writer appends bytes to an [`Output`] (a [`BytesMut`], or [`Pieces`]:
//! a list of [`Bytes`] for vectored IO in which payloads are the caller's
//! slices, never copies) and never seeks: a file that wants `duration`,
//! `filesize` and a keyframe index in its `onMetaData` gets them from
//! [`Writer::finish`] as byte patches the application applies (see
//! [`Finish`]).
//!
//! # Timestamps
//!
//! Tags carry 32-bit milliseconds (24 bits, then the extended byte for bits
//! 24-31). A timestamp on the 64-bit timeline is written modulo 2^32: past
//! 4,294,967,295 ms (49.7 days) it wraps to 0 and counts up again, and a
//! negative one is written as 2^32 minus its magnitude. A reader that unwraps
//! as [`Timeline`](crate::Timeline) does (each tag within ±2^31 ms of the one
//! before it) gets the 64-bit values back; FFmpeg and most players do not
//! unwrap, so a file meant for them should start near 0 and stay below 2^32.

use std::ops::Range;

use amf0::{Object, Value};
use bytes::{BufMut as _, Bytes, BytesMut};

use crate::tag::{
    KeyframeIndex, MultichannelConfig, VideoCommand, VideoFrameType, VideoPacketType, VideoTag,
};
use crate::{
    Codec, ConfigChange, ConfigChangeKind, Error, Frame, Header, MediaEvent, MediaType, Tag,
    TagType, HEADER_SIZE, MAX_TAG_DATA_SIZE, PREVIOUS_TAG_SIZE_SIZE, TAG_HEADER_SIZE,
};

/// Where a [`Writer`] appends its bytes.
///
/// Implemented by [`BytesMut`] (everything copied into one buffer) and
/// [`Pieces`] (headers copied, payloads kept as the caller's [`Bytes`]).
pub trait Output {
    /// Appends a few bytes (headers), copied.
    fn put_slice(&mut self, data: &[u8]);
    /// Appends a payload; an implementation may keep the handle instead of copying.
    fn put_bytes(&mut self, data: Bytes);
}

impl Output for BytesMut {
    fn put_slice(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }

    fn put_bytes(&mut self, data: Bytes) {
        self.extend_from_slice(&data);
    }
}

/// Payloads up to this size are copied next to their header rather than kept
/// as a piece of their own (a piece costs more than copying a few bytes).
const SMALL_PAYLOAD: usize = 256;

/// Output as a list of [`Bytes`]: headers and small payloads are copied into
/// a reused buffer, larger payloads are kept as the caller's handles, so the
/// list can be written with vectored IO without copying media data.
///
/// ```
/// use bytes::Bytes;
/// use flv::{Pieces, TagType, Writer, WriterOptions};
///
/// let mut writer = Writer::new(WriterOptions::default());
/// let mut out = Pieces::new();
/// writer.header(false, true, &mut out);
/// let payload = Bytes::from(vec![0x17; 1000]);
/// writer.write(TagType::Video, 40, payload.clone(), &mut out)?;
/// let pieces = out.take();
/// assert_eq!(pieces.len(), 3); // header + tag header, the payload, PreviousTagSize
/// assert_eq!(pieces[1].as_ptr(), payload.as_ptr()); // not copied
/// assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), 13 + 11 + 1000 + 4);
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Pieces {
    pieces: Vec<Bytes>,
    scratch: BytesMut,
    len: u64,
}

impl Pieces {
    /// An empty list.
    pub fn new() -> Pieces {
        Pieces::default()
    }

    /// Total bytes appended and not yet taken.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing is waiting to be taken.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces appended so far, in order; the list is left empty.
    pub fn take(&mut self) -> Vec<Bytes> {
        self.flush();
        self.len = 0;
        std::mem::take(&mut self.pieces)
    }

    fn flush(&mut self) {
        if !self.scratch.is_empty() {
            self.pieces.push(self.scratch.split().freeze());
        }
    }
}

impl Output for Pieces {
    fn put_slice(&mut self, data: &[u8]) {
        self.scratch.extend_from_slice(data);
        self.len += data.len() as u64;
    }

    fn put_bytes(&mut self, data: Bytes) {
        if data.len() <= SMALL_PAYLOAD {
            self.put_slice(&data);
            return;
        }
        self.flush();
        self.len += data.len() as u64;
        self.pieces.push(data);
    }
}

/// Which tag body layout [`Body::from_event`] and [`Writer::write_frame`] use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyForm {
    /// As FFmpeg 9 writes: legacy tags for AVC, AAC, MP3 and every codec that
    /// has no FourCC (VP6, H.263, PCM, G.711, Speex, Nellymoser...);
    /// Enhanced RTMP (FourCC) tags for HEVC, AV1, VP9, VP8, Opus, FLAC, AC-3
    /// and E-AC-3. Enhanced whatever the codec when a packet needs it (a
    /// track id other than 0, a sub-millisecond timestamp, a sequence header
    /// or end of sequence that legacy tags cannot carry, such as MP3's).
    #[default]
    Auto,
    /// Legacy tags only (HEVC with the non-standard codec id 12); a codec or
    /// a packet that needs Enhanced RTMP is an error (a track id, a
    /// sub-millisecond timestamp, a sequence header other than AAC, AVC and
    /// HEVC ones, an audio end of sequence).
    Legacy,
    /// Enhanced RTMP tags for every codec that has a FourCC (AVC as `avc1`,
    /// AAC as `mp4a`, MP3 as `.mp3`); legacy for the others.
    Enhanced,
}

/// How a [`Writer`] writes.
///
/// ```
/// let options = flv::WriterOptions::default().keyframe_index(true).form(flv::BodyForm::Enhanced);
/// assert!(options.is_keyframe_index());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterOptions {
    form: BodyForm,
    keyframe_index: bool,
    audio_flags: u8,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            form: BodyForm::Auto,
            keyframe_index: false,
            // 44.1 kHz, 16-bit, stereo.
            audio_flags: 0x0F,
        }
    }
}

impl WriterOptions {
    /// The tag body layout for frames and configurations (default [`BodyForm::Auto`]).
    pub fn form(mut self, form: BodyForm) -> Self {
        self.form = form;
        self
    }

    /// Collect a keyframe index (default off): [`Writer::finish`] then gives
    /// an `onMetaData` with `keyframes` (`times`, `filepositions`) to put at
    /// the head of the file, as FFmpeg's `-flvflags add_keyframe_index` and
    /// flvtool2 write it, for players that seek by byte offset. At most
    /// 800,000 keyframes are indexed (the index must fit one tag: 16 MB).
    pub fn keyframe_index(mut self, keyframe_index: bool) -> Self {
        self.keyframe_index = keyframe_index;
        self
    }

    /// The rate, size and channel bits of legacy audio tags other than AAC
    /// (AAC always says 44.1 kHz, 16-bit, stereo). Default 44,100 Hz, 16
    /// bits, stereo, which FFmpeg also writes for 48 kHz MP3. `sample_rate`
    /// is rounded down to one FLV can say (5,512, 11,025, 22,050, 44,100).
    pub fn legacy_audio(mut self, sample_rate: u32, sample_bits: u8, stereo: bool) -> Self {
        let rate = match sample_rate {
            0..=11_024 => 0,
            11_025..=22_049 => 1,
            22_050..=44_099 => 2,
            _ => 3,
        };
        self.audio_flags = rate << 2 | u8::from(sample_bits >= 16) << 1 | u8::from(stereo);
        self
    }

    /// See [`form`](Self::form).
    pub fn get_form(&self) -> BodyForm {
        self.form
    }

    /// See [`keyframe_index`](Self::keyframe_index).
    pub fn is_keyframe_index(&self) -> bool {
        self.keyframe_index
    }
}

/// The largest header a [`Body`] prefix holds: ModEx with TimestampOffsetNano
/// (5), the first byte (1), multitrack (1), FourCC (4), track id (1) and
/// composition time (3) make 15.
const MAX_PREFIX: usize = 16;

/// A tag body built from a [`MediaEvent`]: a short header (`prefix`) followed
/// by the payload, a handle on the caller's data.
///
/// ```
/// use bytes::Bytes;
/// use flv::{Body, BodyForm, Codec, Frame, MediaEvent, MediaType, TagType, WriterOptions};
///
/// let frame = Frame {
///     media: MediaType::Video, codec: Codec::Hevc, track: 0, dts: 100, pts: 166, nanos: 0,
///     key: false, data: Bytes::from_static(b"\x00\x00\x00\x02\x01\xd0"), offset: 0,
/// };
/// let body = Body::from_event(&MediaEvent::Frame(frame), &WriterOptions::default())?;
/// assert_eq!(body.tag_type(), TagType::Video);
/// // Enhanced RTMP (Auto picks it for HEVC): inter frame, CodedFrames, hvc1, composition time 66.
/// assert_eq!(body.prefix(), b"\xa1hvc1\x00\x00\x42");
/// assert_eq!(&body.to_bytes()[8..], b"\x00\x00\x00\x02\x01\xd0");
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    tag_type: TagType,
    timestamp: i64,
    prefix: [u8; MAX_PREFIX],
    prefix_len: u8,
    payload: Bytes,
    key: bool,
    /// The PTS of a frame (the timestamp otherwise): where the media ends, for the duration.
    end: i64,
}

impl Body {
    /// The tag type: audio or video.
    pub fn tag_type(&self) -> TagType {
        self.tag_type
    }

    /// The tag timestamp, ms (the event's DTS).
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The header bytes before the payload.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix[..usize::from(self.prefix_len)]
    }

    /// The payload (the frame data, the configuration record...).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Whether this is a video key frame (a keyframe index entry).
    pub fn is_keyframe(&self) -> bool {
        self.key
    }

    /// The size of the body: prefix and payload.
    pub fn len(&self) -> usize {
        usize::from(self.prefix_len) + self.payload.len()
    }

    /// Whether the body is empty (never, for a body built here).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body in one buffer (a copy).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.len());
        out.extend_from_slice(self.prefix());
        out.extend_from_slice(&self.payload);
        out.freeze()
    }

    fn new(tag_type: TagType, timestamp: i64) -> Body {
        Body {
            tag_type,
            timestamp,
            prefix: [0; MAX_PREFIX],
            prefix_len: 0,
            payload: Bytes::new(),
            key: false,
            end: timestamp,
        }
    }

    fn push(&mut self, data: &[u8]) {
        // Callers never exceed MAX_PREFIX (at most 15 bytes per body); `get_mut`
        // keeps this panic-free regardless.
        let at = usize::from(self.prefix_len);
        if let Some(dst) = self.prefix.get_mut(at..at + data.len()) {
            dst.copy_from_slice(data);
            self.prefix_len += data.len() as u8;
        }
    }

    /// The tag body for a media event, as [`Writer::write_media_event`] writes it.
    ///
    /// - [`MediaEvent::Frame`]: a coded frame. Legacy AVC/HEVC: frame type,
    ///   packet type 1 and the composition time (`pts - dts`, which must fit
    ///   24 signed bits). Enhanced `avc1`/`hvc1`: `CodedFrames` with the
    ///   composition time, or `CodedFramesX` when it is 0 (as FFmpeg writes);
    ///   other FourCCs: `CodedFrames`. VP6 gets a zero size-adjustment byte.
    ///   A track id other than 0 gives a one-track multitrack tag; `nanos`
    ///   gives a ModEx TimestampOffsetNano.
    /// - [`MediaEvent::Config`]: a sequence header / `SequenceStart` (or
    ///   `MPEG2TSSequenceStart`), flagged as a key frame.
    /// - [`MediaEvent::EndOfSequence`], [`MediaEvent::VideoMetadata`] (frame
    ///   type 5, `Metadata`, as FFmpeg writes `colorInfo`),
    ///   [`MediaEvent::Channels`] (`MultichannelConfig`), [`MediaEvent::Command`]
    ///   (a legacy frame-type-5 tag of codec id 7).
    ///
    /// Errors ([`Error::InvalidField`], offset 0): a codec the chosen
    /// [`BodyForm`] cannot write, a composition time outside 24 signed bits,
    /// and [`MediaEvent::Encrypted`], whose body is not available.
    pub fn from_event(event: &MediaEvent, options: &WriterOptions) -> Result<Body, Error> {
        match event {
            MediaEvent::Frame(frame) => Body::frame(frame, options),
            MediaEvent::Config(config) => Body::config(config, options),
            MediaEvent::EndOfSequence {
                media,
                codec,
                track,
                dts,
                ..
            } => {
                let (tag_type, mut body) = Body::start(*media, *dts);
                // Legacy tags end a sequence only for AVC-style video (packet type 2).
                let legacy = *media == MediaType::Video && has_packet_type(*codec);
                let layout = Layout::new(*codec, *track, 0, options.form, legacy)?;
                match (media, layout.enhanced) {
                    (MediaType::Video, false) => {
                        body.push(&[0x10 | layout.legacy_id, 2, 0, 0, 0]);
                    }
                    (MediaType::Video, true) => layout.video_header(&mut body, 1, 2),
                    (MediaType::Audio, _) => layout.audio_header(&mut body, 2),
                }
                body.tag_type = tag_type;
                Ok(body)
            }
            MediaEvent::VideoMetadata {
                codec,
                track,
                dts,
                data,
                ..
            } => {
                let (tag_type, mut body) = Body::start(MediaType::Video, *dts);
                let layout = Layout::new(*codec, *track, 0, BodyForm::Enhanced, false)?;
                // Frame type 5 as FFmpeg writes it; in a multitrack tag a
                // frame type 5 would read as a command frame, so 1 there.
                layout.video_header(&mut body, if *track == 0 { 5 } else { 1 }, 4);
                body.tag_type = tag_type;
                body.payload = data.clone();
                Ok(body)
            }
            MediaEvent::Channels {
                codec,
                track,
                dts,
                config,
                ..
            } => {
                let (tag_type, mut body) = Body::start(MediaType::Audio, *dts);
                let layout = Layout::new(*codec, *track, 0, BodyForm::Enhanced, false)?;
                layout.audio_header(&mut body, 4);
                body.tag_type = tag_type;
                body.payload = multichannel_bytes(config);
                Ok(body)
            }
            MediaEvent::Command { command, dts, .. } => {
                let (_, mut body) = Body::start(MediaType::Video, *dts);
                body.push(&[0x57]);
                if let Some(command) = command {
                    body.push(&[match command {
                        VideoCommand::StartSeek => 0,
                        VideoCommand::EndSeek => 1,
                        VideoCommand::Other(other) => *other,
                    }]);
                }
                Ok(body)
            }
            MediaEvent::Encrypted { .. } => Err(Error::InvalidField {
                what: "encrypted media event (its body is not available)",
                offset: 0,
                value: 0,
            }),
            // MediaEvent is non_exhaustive for users, not for this crate; keep a
            // clear error should a variant be added without a layout here.
            #[allow(unreachable_patterns)]
            _ => Err(Error::InvalidField {
                what: "media event without a tag layout",
                offset: 0,
                value: 0,
            }),
        }
    }

    fn start(media: MediaType, dts: i64) -> (TagType, Body) {
        let tag_type = match media {
            MediaType::Audio => TagType::Audio,
            MediaType::Video => TagType::Video,
        };
        (tag_type, Body::new(tag_type, dts))
    }

    fn frame(frame: &Frame, options: &WriterOptions) -> Result<Body, Error> {
        let (tag_type, mut body) = Body::start(frame.media, frame.dts);
        let layout = Layout::new(frame.codec, frame.track, frame.nanos, options.form, true)?;
        body.payload = frame.data.clone();
        match frame.media {
            MediaType::Video => {
                let cts = frame.pts.saturating_sub(frame.dts);
                let cts = i32::try_from(cts)
                    .ok()
                    .filter(|c| (-0x80_0000..0x80_0000).contains(c))
                    .ok_or(Error::InvalidField {
                        what: "composition time (pts - dts, 24 signed bits)",
                        offset: 0,
                        value: cts as u32,
                    })?;
                let frame_type = if frame.key { 1 } else { 2 };
                body.key = frame.key;
                body.end = frame.pts;
                let with_cts = matches!(frame.codec, Codec::Avc | Codec::Hevc);
                if layout.enhanced {
                    let packet_type = if with_cts && cts == 0 { 3 } else { 1 };
                    layout.video_header(&mut body, frame_type, packet_type);
                    if packet_type == 1 && with_cts {
                        body.push(&si24_bytes(cts));
                    }
                } else {
                    body.push(&[frame_type << 4 | layout.legacy_id]);
                    if has_packet_type(frame.codec) {
                        body.push(&[1]);
                        body.push(&si24_bytes(cts));
                    } else if matches!(frame.codec, Codec::Vp6 | Codec::Vp6Alpha) {
                        body.push(&[0]);
                    }
                }
            }
            MediaType::Audio => {
                if layout.enhanced {
                    layout.audio_header(&mut body, 1);
                } else if frame.codec == Codec::Aac {
                    body.push(&[0xAF, 1]);
                } else {
                    body.push(&[layout.legacy_id << 4 | options.audio_flags]);
                }
            }
        }
        body.tag_type = tag_type;
        Ok(body)
    }

    fn config(config: &ConfigChange, options: &WriterOptions) -> Result<Body, Error> {
        let (tag_type, mut body) = Body::start(config.media, config.dts);
        let mpeg2ts = config.kind == ConfigChangeKind::Mpeg2TsSequenceStart;
        let form = if mpeg2ts {
            BodyForm::Enhanced
        } else {
            options.form
        };
        // Legacy sequence headers exist for AAC and AVC-style video only.
        let legacy = !mpeg2ts
            && match config.media {
                MediaType::Audio => config.codec == Codec::Aac,
                MediaType::Video => has_packet_type(config.codec),
            };
        let layout = Layout::new(config.codec, config.track, 0, form, legacy)?;
        body.payload = config.data.clone();
        match (config.media, layout.enhanced) {
            (MediaType::Video, true) => {
                layout.video_header(&mut body, 1, if mpeg2ts { 5 } else { 0 });
            }
            (MediaType::Video, false) => body.push(&[0x10 | layout.legacy_id, 0, 0, 0, 0]),
            (MediaType::Audio, true) => layout.audio_header(&mut body, 0),
            (MediaType::Audio, false) => body.push(&[layout.legacy_id << 4 | 0x0F, 0]),
        }
        body.tag_type = tag_type;
        Ok(body)
    }
}

/// How one track's header is laid out.
struct Layout {
    enhanced: bool,
    legacy_id: u8,
    fourcc: [u8; 4],
    track: u8,
    nanos: u32,
}

impl Layout {
    /// `legacy_layout`: whether a legacy tag can carry the packet at all.
    fn new(
        codec: Codec,
        track: u8,
        nanos: u32,
        form: BodyForm,
        legacy_layout: bool,
    ) -> Result<Layout, Error> {
        let legacy_id = match codec.media() {
            MediaType::Video => codec.video_codec_id(),
            MediaType::Audio => codec.sound_format(),
        };
        let fourcc = codec.fourcc();
        let needs_enhanced = track != 0 || nanos != 0 || !legacy_layout;
        let enhanced = match form {
            BodyForm::Legacy => false,
            _ if needs_enhanced => true,
            BodyForm::Enhanced => fourcc.is_some(),
            BodyForm::Auto => {
                !matches!(codec, Codec::Avc | Codec::Aac | Codec::Mp3) && fourcc.is_some()
            }
        };
        let invalid = |what| Error::InvalidField {
            what,
            offset: 0,
            value: 0,
        };
        if needs_enhanced && !enhanced {
            return Err(invalid(
                "track id, sub-millisecond timestamp or packet without a legacy layout in a legacy tag",
            ));
        }
        if enhanced {
            let fourcc = fourcc.ok_or(invalid("codec without a FourCC in an enhanced tag"))?;
            return Ok(Layout {
                enhanced,
                legacy_id: 0,
                fourcc: fourcc.0,
                track,
                nanos,
            });
        }
        let legacy_id = legacy_id
            .filter(|id| *id < 16 && !(codec.media() == MediaType::Audio && *id == 9))
            .ok_or(invalid("codec without a legacy FLV codec id"))?;
        Ok(Layout {
            enhanced,
            legacy_id,
            fourcc: [0; 4],
            track,
            nanos,
        })
    }

    /// The first byte's low nibble, then ModEx, multitrack, FourCC and track id.
    fn enhanced_header(&self, body: &mut Body, high: u8, packet_type: u8) {
        let mut packet = packet_type;
        if self.track != 0 {
            packet = if body.tag_type == TagType::Audio {
                5
            } else {
                6
            };
        }
        if self.nanos != 0 {
            let n = self.nanos.min(0xFF_FFFF).to_be_bytes();
            body.push(&[high | 7, 2, n[1], n[2], n[3], packet]);
        } else {
            body.push(&[high | packet]);
        }
        if self.track != 0 {
            // One track: multitrack type 0, the real packet type.
            body.push(&[packet_type]);
        }
        body.push(&self.fourcc);
        if self.track != 0 {
            body.push(&[self.track]);
        }
    }

    fn video_header(&self, body: &mut Body, frame_type: u8, packet_type: u8) {
        body.tag_type = TagType::Video;
        self.enhanced_header(body, 0x80 | frame_type << 4, packet_type);
    }

    fn audio_header(&self, body: &mut Body, packet_type: u8) {
        body.tag_type = TagType::Audio;
        self.enhanced_header(body, 0x90, packet_type);
    }
}

/// Legacy video codecs whose tags have a packet type and composition time.
fn has_packet_type(codec: Codec) -> bool {
    matches!(codec, Codec::Avc | Codec::Hevc | Codec::Mpeg4Part2)
}

fn si24_bytes(value: i32) -> [u8; 3] {
    let b = value.to_be_bytes();
    [b[1], b[2], b[3]]
}

fn multichannel_bytes(config: &MultichannelConfig) -> Bytes {
    use crate::tag::ChannelOrder;
    let mut out = BytesMut::with_capacity(6 + config.channel_mapping.len());
    let order = match config.order {
        ChannelOrder::Unspecified => 0,
        ChannelOrder::Native => 1,
        ChannelOrder::Custom => 2,
        ChannelOrder::Other(other) => other,
    };
    out.put_u8(order);
    out.put_u8(config.channel_count);
    match config.order {
        ChannelOrder::Native => out.put_u32(config.channel_mask.unwrap_or(0)),
        ChannelOrder::Custom => {
            let n = usize::from(config.channel_count).min(config.channel_mapping.len());
            out.extend_from_slice(&config.channel_mapping[..n]);
            // A mapping shorter than the count is padded so that the reader finds it.
            bytes::BufMut::put_bytes(&mut out, 0, usize::from(config.channel_count) - n);
        }
        _ => {}
    }
    out.freeze()
}

/// An in-place patch: write `bytes` at `offset` of the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Offset in the output as written.
    pub offset: u64,
    /// The bytes to write there (an AMF0 number's 8 bytes).
    pub bytes: [u8; 8],
}

/// A head rewrite: the output's bytes in `range` are to be replaced by `bytes`
/// (which may be longer or shorter), everything after `range.end` following
/// unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// The range of the output as written that `bytes` replaces: the
    /// `onMetaData` tag written by [`Writer::write_metadata`] and its
    /// PreviousTagSize, or an empty range just after the file header
    /// (insertion) when none was written.
    pub range: Range<u64>,
    /// The new `onMetaData` tag with its PreviousTagSize.
    pub bytes: Bytes,
}

/// What [`Writer::finish`] reports: the figures of the file, and how to put
/// them in its `onMetaData`.
///
/// The writer never seeks, so the application does it, one of two ways:
///
/// - **Patches** (no keyframe index): overwrite each [`Patch`] in place
///   (the `duration` and `filesize` numbers of the `onMetaData` written by
///   [`Writer::write_metadata`]); the file size does not change. This is
///   what FFmpeg does at the end of a seekable file.
/// - **Rewrite** (with [`WriterOptions::keyframe_index`]): the index makes
///   `onMetaData` longer, so everything after it moves. Write a new file:
///   the output's bytes before `rewrite.range.start`, then `rewrite.bytes`,
///   then the output's bytes from `rewrite.range.end` (FFmpeg's
///   `add_keyframe_index` shifts the file the same way). The new
///   `onMetaData` already has `duration`, `filesize` and `keyframes` as they
///   are in that new file; do not apply the patches too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Finish {
    /// Seconds: the one given to [`Writer::finish`], or the span of the audio
    /// and video timestamps (the last frame's PTS minus the first DTS; the
    /// duration of the last frame is not known to the writer).
    pub duration: f64,
    /// Bytes written ([`Writer::position`]).
    pub written: u64,
    /// The size of the final file (`written`, or after the rewrite).
    pub file_size: u64,
    /// The video keyframes, as in the final file (empty unless
    /// [`WriterOptions::keyframe_index`]).
    pub keyframes: KeyframeIndex,
    /// In-place patches of `duration` and `filesize` (empty when no
    /// `onMetaData` was written with [`Writer::write_metadata`]).
    pub patches: Vec<Patch>,
    /// The head rewrite, with [`WriterOptions::keyframe_index`].
    pub rewrite: Option<Rewrite>,
}

/// The most keyframes indexed (18 bytes each in `onMetaData`, which must fit
/// one tag); later ones are left out of the index.
const MAX_KEYFRAMES: usize = 800_000;

/// The `onMetaData` written by [`Writer::write_metadata`].
#[derive(Debug, Clone)]
struct Metadata {
    properties: Object,
    timestamp: i64,
    /// Offset of the tag and its size with the PreviousTagSize.
    offset: u64,
    total: u64,
    duration_at: u64,
    filesize_at: u64,
}

/// The sans-IO FLV muxer: header and tags in, bytes out.
///
/// Tags are written in the order given, each an 11-byte header, the body and
/// its PreviousTagSize (11 + body size). The writer keeps its position to
/// collect the keyframe index and the `onMetaData` patches for [`finish`](Writer::finish).
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use flv::{Codec, Frame, MediaType, Writer, WriterOptions};
///
/// let mut writer = Writer::new(WriterOptions::default());
/// let mut out = BytesMut::new();
/// writer.header(false, true, &mut out);
/// let frame = Frame {
///     media: MediaType::Video, codec: Codec::Avc, track: 0, dts: 100, pts: 166, nanos: 0,
///     key: true, data: Bytes::from_static(b"\x00\x00\x00\x02\x09\xf0"), offset: 0,
/// };
/// writer.write_frame(&frame, &mut out)?;
/// // The example file of the crate documentation, byte for byte.
/// assert_eq!(&out[..], b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00\
///     \x09\x00\x00\x0b\x00\x00\x64\x00\x00\x00\x00\x17\x01\x00\x00\x42\x00\x00\x00\x02\x09\xf0\x00\x00\x00\x16");
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Writer {
    options: WriterOptions,
    position: u64,
    header_end: u64,
    first_ts: Option<i64>,
    last_end: Option<i64>,
    keyframes: Vec<(i64, u64)>,
    metadata: Option<Metadata>,
}

impl Writer {
    /// A writer at position 0.
    pub fn new(options: WriterOptions) -> Writer {
        Writer {
            options,
            position: 0,
            header_end: 0,
            first_ts: None,
            last_end: None,
            keyframes: Vec::new(),
            metadata: None,
        }
    }

    /// The options this writer was made with.
    pub fn options(&self) -> &WriterOptions {
        &self.options
    }

    /// Bytes written so far: the offset the next tag will have.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Writes the 9-byte file header (version 1, the audio and video flags,
    /// data offset 9) and PreviousTagSize0. HTTP-FLV and files start with
    /// it; a stream of bare tags does not call it.
    pub fn header(&mut self, has_audio: bool, has_video: bool, out: &mut impl Output) {
        let flags = u8::from(has_audio) << 2 | u8::from(has_video);
        self.write_header(
            &Header {
                version: 1,
                has_audio,
                has_video,
                flags,
                data_offset: HEADER_SIZE as u32,
            },
            out,
        );
    }

    /// Writes a file header as a [`Reader`](crate::Reader) reported it:
    /// version and the whole flags byte as they were, and the data offset
    /// (bytes between 9 and it are written as zeros: the reader does not keep
    /// them), then PreviousTagSize0.
    pub fn write_header(&mut self, header: &Header, out: &mut impl Output) {
        let data_offset = header.data_offset.max(HEADER_SIZE as u32);
        let d = data_offset.to_be_bytes();
        out.put_slice(&[b'F', b'L', b'V', header.version, header.flags]);
        out.put_slice(&d);
        let mut padding = u64::from(data_offset) - HEADER_SIZE as u64;
        while padding > 0 {
            let n = padding.min(64);
            out.put_slice(&[0; 64][..n as usize]);
            padding -= n;
        }
        out.put_slice(&[0; PREVIOUS_TAG_SIZE_SIZE]);
        self.position += u64::from(data_offset) + PREVIOUS_TAG_SIZE_SIZE as u64;
        self.header_end = self.position;
    }

    /// Writes one tag: `body` is kept as a handle by [`Pieces`], copied by a
    /// [`BytesMut`]. Returns the tag's offset.
    ///
    /// Errors (nothing is written): a body over 16,777,215 bytes
    /// ([`Error::TagTooLarge`]), a [`TagType::Other`] above 31
    /// ([`Error::InvalidTagHeader`]); offsets are the writer's position.
    pub fn write(
        &mut self,
        tag_type: TagType,
        timestamp: i64,
        body: Bytes,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        self.write_parts(tag_type, false, 0, timestamp, &[], body, None, out)
    }

    /// Writes a tag as a [`Reader`](crate::Reader) reported it: type, filter
    /// bit, timestamp ([`Tag::timestamp`]), stream id and body. Reading the
    /// output gives the same tags; a file read then written tag by tag is
    /// written back byte for byte (see the crate's round-trip tests).
    ///
    /// Errors: as [`write`](Self::write), and a stream id over 24 bits
    /// ([`Error::InvalidField`]).
    pub fn write_tag(&mut self, tag: &Tag, out: &mut impl Output) -> Result<u64, Error> {
        self.write_parts(
            tag.tag_type,
            tag.encrypted,
            tag.stream_id,
            tag.timestamp,
            &[],
            tag.body.clone(),
            None,
            out,
        )
    }

    /// Writes the tag of a [`Body`] (built with [`Body::from_event`]).
    pub fn write_body(&mut self, body: &Body, out: &mut impl Output) -> Result<u64, Error> {
        self.write_parts(
            body.tag_type,
            false,
            0,
            body.timestamp,
            body.prefix(),
            body.payload.clone(),
            Some((body.key, body.end)),
            out,
        )
    }

    /// Writes a frame as a tag, laid out as [`Body::from_event`] says, with
    /// this writer's [`BodyForm`].
    pub fn write_frame(&mut self, frame: &Frame, out: &mut impl Output) -> Result<u64, Error> {
        let body = Body::frame(frame, &self.options).map_err(|e| e.shifted(self.position))?;
        self.write_body(&body, out)
    }

    /// Writes a media event as a tag (see [`Body::from_event`]): frames,
    /// sequence headers, ends of sequence, video metadata, channel
    /// configurations, commands.
    pub fn write_media_event(
        &mut self,
        event: &MediaEvent,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let body = Body::from_event(event, &self.options).map_err(|e| e.shifted(self.position))?;
        self.write_body(&body, out)
    }

    /// Writes a script data tag: `name` then `values`, AMF0.
    pub fn write_script(
        &mut self,
        timestamp: i64,
        name: &str,
        values: &[Value],
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let mut body = BytesMut::new();
        Value::string(name).encode(&mut body);
        amf0::encode_all(values, &mut body);
        self.write(TagType::Script, timestamp, body.freeze(), out)
    }

    /// Writes `onMetaData` (an ECMA array of `properties`, at timestamp 0)
    /// and remembers where its `duration` and `filesize` numbers are, for
    /// [`finish`](Self::finish). Both are added (0) when missing or not
    /// numbers; a `keyframes` property is dropped (the writer makes its own
    /// with [`WriterOptions::keyframe_index`]). Write it before the frames,
    /// once.
    ///
    /// ```
    /// use flv::{Writer, WriterOptions};
    /// let mut properties = amf0::Object::new();
    /// properties.push("width", 1280.0);
    /// let mut writer = Writer::new(WriterOptions::default());
    /// let mut out = bytes::BytesMut::new();
    /// writer.header(true, true, &mut out);
    /// writer.write_metadata(&properties, &mut out)?;
    /// let finish = writer.finish(Some(6.5));
    /// for patch in &finish.patches {
    ///     let at = patch.offset as usize;
    ///     out[at..at + 8].copy_from_slice(&patch.bytes);
    /// }
    /// let tags: Vec<_> = flv::read_all(out.freeze()).collect::<Result<_, _>>()?;
    /// let flv::ReadEvent::Tag(tag) = &tags[1] else { panic!() };
    /// let meta = flv::tag::ScriptData::parse(&tag.body)?.on_metadata().unwrap();
    /// assert_eq!(meta.width, Some(1280.0));
    /// assert_eq!((meta.duration, meta.file_size), (Some(6.5), Some(finish.file_size as f64)));
    /// # Ok::<(), flv::Error>(())
    /// ```
    pub fn write_metadata(
        &mut self,
        properties: &Object,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let properties = metadata_properties(properties);
        let (body, duration_at, filesize_at) = encode_metadata(&properties, None);
        let offset = self.position;
        let body_len = body.len() as u64;
        self.write(TagType::Script, 0, body, out)?;
        let base = offset + TAG_HEADER_SIZE as u64;
        self.metadata = Some(Metadata {
            properties,
            timestamp: 0,
            offset,
            total: TAG_HEADER_SIZE as u64 + body_len + PREVIOUS_TAG_SIZE_SIZE as u64,
            duration_at: base + duration_at as u64,
            filesize_at: base + filesize_at as u64,
        });
        Ok(offset)
    }

    /// What to patch now that the file is complete (see [`Finish`]).
    /// `duration` in seconds, or `None` for the span of the timestamps
    /// written. The writer can go on writing afterwards (a live recording
    /// can be finished at each checkpoint).
    pub fn finish(&self, duration: Option<f64>) -> Finish {
        let span = match (self.first_ts, self.last_end) {
            (Some(first), Some(end)) => end.saturating_sub(first) as f64 / 1000.0,
            _ => 0.0,
        };
        let duration = duration.unwrap_or(span);
        let written = self.position;
        let mut finish = Finish {
            duration,
            written,
            file_size: written,
            keyframes: KeyframeIndex {
                times: Vec::new(),
                file_positions: Vec::new(),
            },
            patches: Vec::new(),
            rewrite: None,
        };
        if !self.options.keyframe_index {
            if let Some(meta) = &self.metadata {
                finish.patches = vec![
                    Patch {
                        offset: meta.duration_at,
                        bytes: duration.to_be_bytes(),
                    },
                    Patch {
                        offset: meta.filesize_at,
                        bytes: (written as f64).to_be_bytes(),
                    },
                ];
            }
            return finish;
        }
        let (properties, timestamp, range) = match &self.metadata {
            Some(meta) => (
                meta.properties.clone(),
                meta.timestamp,
                meta.offset..meta.offset + meta.total,
            ),
            None => (
                metadata_properties(&Object::new()),
                0,
                self.header_end..self.header_end,
            ),
        };
        // Every number is 8 bytes, so the size of the new tag does not depend
        // on the values: encode once with placeholders to learn the shift.
        let n = self.keyframes.len();
        let placeholder = KeyframeIndex {
            times: vec![0.0; n],
            file_positions: vec![0; n],
        };
        let (body, ..) = encode_metadata(&properties, Some(&placeholder));
        let new_total = (TAG_HEADER_SIZE + body.len() + PREVIOUS_TAG_SIZE_SIZE) as u64;
        let old_total = range.end - range.start;
        let shift = |position: u64| {
            if position >= range.end {
                (position + new_total).saturating_sub(old_total)
            } else {
                position
            }
        };
        let file_size = shift(written);
        let index = KeyframeIndex {
            times: self.keyframes.iter().map(|k| k.0 as f64 / 1000.0).collect(),
            file_positions: self.keyframes.iter().map(|k| shift(k.1)).collect(),
        };
        let mut properties = properties;
        set_number(&mut properties, "duration", duration);
        set_number(&mut properties, "filesize", file_size as f64);
        let (body, ..) = encode_metadata(&properties, Some(&index));
        let mut bytes = BytesMut::with_capacity(new_total as usize);
        let mut scratch = Writer::new(self.options);
        // Cannot fail: MAX_KEYFRAMES entries (18 bytes each) keep the body
        // below the tag size limit unless the properties themselves are huge;
        // then there is no rewrite.
        if scratch
            .write(TagType::Script, timestamp, body, &mut bytes)
            .is_ok()
        {
            finish.rewrite = Some(Rewrite {
                range,
                bytes: bytes.freeze(),
            });
            finish.file_size = file_size;
            finish.keyframes = index;
        }
        finish
    }

    #[allow(clippy::too_many_arguments)]
    fn write_parts(
        &mut self,
        tag_type: TagType,
        encrypted: bool,
        stream_id: u32,
        timestamp: i64,
        prefix: &[u8],
        payload: Bytes,
        known: Option<(bool, i64)>,
        out: &mut impl Output,
    ) -> Result<u64, Error> {
        let offset = self.position;
        let size = prefix.len() as u64 + payload.len() as u64;
        if size > u64::from(MAX_TAG_DATA_SIZE) {
            return Err(Error::TagTooLarge {
                offset,
                size: u32::try_from(size).unwrap_or(u32::MAX),
                limit: MAX_TAG_DATA_SIZE,
            });
        }
        let type_number = tag_type.to_u8();
        if type_number > 0x1F {
            return Err(Error::InvalidTagHeader {
                offset,
                first_byte: type_number,
            });
        }
        if stream_id > 0xFF_FFFF {
            return Err(Error::InvalidField {
                what: "stream id (24 bits)",
                offset: offset + 8,
                value: stream_id,
            });
        }
        let size = size as u32;
        let raw = timestamp as u32; // modulo 2^32, see the module documentation
        let s = size.to_be_bytes();
        let t = raw.to_be_bytes();
        let id = stream_id.to_be_bytes();
        let first = type_number | if encrypted { 0x20 } else { 0 };
        out.put_slice(&[
            first, s[1], s[2], s[3], t[1], t[2], t[3], t[0], id[1], id[2], id[3],
        ]);
        out.put_slice(prefix);
        if !payload.is_empty() {
            out.put_bytes(payload.clone());
        }
        out.put_slice(&(size + TAG_HEADER_SIZE as u32).to_be_bytes());
        self.position += TAG_HEADER_SIZE as u64 + u64::from(size) + PREVIOUS_TAG_SIZE_SIZE as u64;

        if matches!(tag_type, TagType::Audio | TagType::Video) && !encrypted {
            let (key, end) = match known {
                Some(known) => known,
                None if tag_type == TagType::Video => video_facts(timestamp, &payload),
                None => (false, timestamp),
            };
            self.first_ts = Some(self.first_ts.map_or(timestamp, |f| f.min(timestamp)));
            self.last_end = Some(self.last_end.map_or(end, |e| e.max(end)));
            if key
                && tag_type == TagType::Video
                && self.options.keyframe_index
                && self.keyframes.len() < MAX_KEYFRAMES
            {
                self.keyframes.push((timestamp, offset));
            }
        }
        Ok(offset)
    }
}

/// Whether a raw video tag body is a key frame (coded frames of frame type 1),
/// and its PTS (the timestamp plus the composition time).
fn video_facts(timestamp: i64, body: &Bytes) -> (bool, i64) {
    match VideoTag::parse(body) {
        Ok(video) => {
            let cts = video.first_track().map_or(0, |t| t.composition_time);
            let key = video.frame_type == VideoFrameType::Key
                && matches!(
                    video.packet_type,
                    VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX
                );
            (key, timestamp.saturating_add(i64::from(cts)))
        }
        Err(_) => (false, timestamp),
    }
}

/// The properties of a written `onMetaData`: `duration` and `filesize` numbers
/// present, `keyframes` removed.
fn metadata_properties(properties: &Object) -> Object {
    let mut out = Object::with_capacity(properties.len() + 2);
    for (key, value) in properties.iter() {
        if key.as_bytes() != b"keyframes" {
            out.push(key.clone(), value.clone());
        }
    }
    for key in ["duration", "filesize"] {
        if out.get(key).and_then(Value::as_f64).is_none() {
            set_number(&mut out, key, 0.0);
        }
    }
    out
}

/// Sets the first property named `key` to a number, or appends it.
fn set_number(properties: &mut Object, key: &str, value: f64) {
    match properties.get_mut(key) {
        Some(slot) => *slot = Value::Number(value),
        None => properties.push(key, value),
    }
}

/// The body of an `onMetaData` tag: the name, then an ECMA array of the
/// properties (and `keyframes`, if given); with the offsets in the body of
/// the `duration` and `filesize` numbers' 8 bytes.
fn encode_metadata(
    properties: &Object,
    keyframes: Option<&KeyframeIndex>,
) -> (Bytes, usize, usize) {
    let mut body = BytesMut::new();
    Value::string("onMetaData").encode(&mut body);
    let count = properties.len() + usize::from(keyframes.is_some());
    body.put_u8(amf0::marker::ECMA_ARRAY);
    body.put_u32(u32::try_from(count).unwrap_or(u32::MAX));
    let (mut duration_at, mut filesize_at) = (0, 0);
    for (key, value) in properties.iter() {
        put_key(&mut body, key.as_bytes());
        if matches!(value, Value::Number(_)) {
            if key.as_bytes() == b"duration" && duration_at == 0 {
                duration_at = body.len() + 1;
            } else if key.as_bytes() == b"filesize" && filesize_at == 0 {
                filesize_at = body.len() + 1;
            }
        }
        value.encode(&mut body);
    }
    if let Some(index) = keyframes {
        // As FFmpeg writes it: an object of two strict arrays, positions first.
        put_key(&mut body, b"keyframes");
        let mut object = Object::with_capacity(2);
        let numbers = |v: Vec<f64>| Value::StrictArray(v.into_iter().map(Value::Number).collect());
        object.push(
            "filepositions",
            numbers(index.file_positions.iter().map(|p| *p as f64).collect()),
        );
        object.push("times", numbers(index.times.clone()));
        Value::Object(object).encode(&mut body);
    }
    body.extend_from_slice(&[0, 0, amf0::marker::OBJECT_END]);
    (body.freeze(), duration_at, filesize_at)
}

/// An AMF0 property name: 16-bit length, bytes (cut at 65,535 as amf0 does).
fn put_key(body: &mut BytesMut, key: &[u8]) {
    let key = &key[..key.len().min(0xFFFF)];
    body.put_u16(key.len() as u16);
    body.extend_from_slice(key);
}
