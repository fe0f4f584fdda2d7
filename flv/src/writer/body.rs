//! Tag bodies built from frames and configurations: the header bytes each
//! codec and body form needs, then the caller's payload.

use bytes::{BufMut as _, Bytes, BytesMut};

use super::{BodyForm, WriterOptions};
use crate::tag::{MultichannelConfig, VideoCommand};
use crate::{Codec, ConfigChange, ConfigChangeKind, Error, Frame, MediaEvent, MediaType, TagType};

/// The largest header a [`Body`](crate::Body) prefix holds: ModEx with TimestampOffsetNano
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
    pub(super) tag_type: TagType,
    pub(super) timestamp: i64,
    prefix: [u8; MAX_PREFIX],
    prefix_len: u8,
    pub(super) payload: Bytes,
    pub(super) key: bool,
    /// The PTS of a frame (the timestamp otherwise): where the media ends, for the duration.
    pub(super) end: i64,
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

    /// The tag body for a media event, as [`Writer::write_media_event`](crate::Writer::write_media_event) writes it.
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

    pub(super) fn frame(frame: &Frame, options: &WriterOptions) -> Result<Body, Error> {
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
