//! The frame view: what every audio and video tag means for a decoder or a
//! muxer, as [`MediaEvent`]s.
//!
//! For each audio/video tag: the codec, track, DTS, PTS (DTS + composition
//! time), key flag and the payload exactly as FFmpeg hands it out as packet
//! data (and as an MP4 sample holds it); sequence headers become
//! [`ConfigChange`]s. Empty payloads give no frame, as in FFmpeg.

use bytes::{Buf as _, Bytes};

use crate::tag::{
    AudioPacketType, AudioTag, AudioTrack, AudioTracks, MultichannelConfig, VideoCommand,
    VideoFrameType, VideoPacketType, VideoTag, VideoTrack, VideoTracks,
};
use crate::{
    Codec, Error, Header, MediaType, ReadAll, ReadEvent, ReaderOptions, SkipReason, Tag, TagType,
};

/// One coded frame (or, for audio, the frames of one tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Audio or video.
    pub media: MediaType,
    /// The codec.
    pub codec: Codec,
    /// The track id (0 unless Enhanced RTMP multitrack).
    pub track: u8,
    /// Decoding timestamp, ms on the reader's 64-bit timeline (the tag
    /// timestamp, plus whole milliseconds of a ModEx TimestampOffsetNano).
    pub dts: i64,
    /// Presentation timestamp, ms: `dts` + the signed composition time.
    pub pts: i64,
    /// Sub-millisecond part of the timestamps from ModEx TimestampOffsetNano
    /// (0..1,000,000 ns; 0 when absent).
    pub nanos: u32,
    /// A key frame (video frame type 1); every audio frame is one.
    pub key: bool,
    /// The payload: AVC/HEVC length-prefixed NAL units, AV1 OBUs, raw AAC,
    /// an MP3 frame, an Opus packet... A slice of the tag body.
    pub data: Bytes,
    /// Offset of the tag in the input.
    pub offset: u64,
}

/// What kind of configuration a [`ConfigChange`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigChangeKind {
    /// A sequence start / sequence header: the decoder configuration record
    /// (AVCDecoderConfigurationRecord, HEVCDecoderConfigurationRecord,
    /// AV1CodecConfigurationRecord, vpcC, AudioSpecificConfig, OpusHead,
    /// FLAC STREAMINFO...).
    SequenceStart,
    /// An Enhanced RTMP MPEG2TSSequenceStart (the codec's MPEG-TS descriptor).
    Mpeg2TsSequenceStart,
}

/// A configuration change: the decoder configuration to use from now on.
///
/// [`parse`](ConfigChange::parse) reads the record with [`crate::config`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    /// Audio or video.
    pub media: MediaType,
    /// The codec.
    pub codec: Codec,
    /// The track id.
    pub track: u8,
    /// Timestamp, ms.
    pub dts: i64,
    /// What the data is.
    pub kind: ConfigChangeKind,
    /// The record, a slice of the tag body.
    pub data: Bytes,
    /// Offset of the tag in the input.
    pub offset: u64,
}

impl ConfigChange {
    /// The record parsed by [`crate::config`], for a sequence start of a codec
    /// it knows (AVC, HEVC, AV1, VP9, AAC, Opus, FLAC); `None` otherwise.
    pub fn parse(&self) -> Option<Result<crate::config::CodecConfig, crate::config::ConfigError>> {
        if self.kind != ConfigChangeKind::SequenceStart {
            return None;
        }
        let kind = crate::config::ConfigKind::from_fourcc(self.codec.fourcc()?.0)?;
        Some(crate::config::CodecConfig::parse(kind, &self.data))
    }
}

/// What one audio or video tag means.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// A coded frame.
    Frame(Frame),
    /// A decoder configuration (sequence header).
    Config(ConfigChange),
    /// End of sequence (AVC end of sequence, Enhanced RTMP SequenceEnd).
    EndOfSequence {
        /// Audio or video.
        media: MediaType,
        /// The codec.
        codec: Codec,
        /// The track id.
        track: u8,
        /// Timestamp, ms.
        dts: i64,
        /// Offset of the tag in the input.
        offset: u64,
    },
    /// Enhanced RTMP video metadata (AMF0: `colorInfo` with HDR colour
    /// properties); FFmpeg turns it into stream side data, not a packet.
    VideoMetadata {
        /// The codec.
        codec: Codec,
        /// The track id.
        track: u8,
        /// Timestamp, ms.
        dts: i64,
        /// The AMF0 data, a slice of the tag body.
        data: Bytes,
        /// Offset of the tag in the input.
        offset: u64,
    },
    /// An Enhanced RTMP audio channel configuration.
    Channels {
        /// The codec.
        codec: Codec,
        /// The track id.
        track: u8,
        /// Timestamp, ms.
        dts: i64,
        /// The configuration.
        config: MultichannelConfig,
        /// Offset of the tag in the input.
        offset: u64,
    },
    /// A video command frame (frame type 5), which carries no picture.
    Command {
        /// The command, if the byte is present.
        command: Option<VideoCommand>,
        /// Timestamp, ms.
        dts: i64,
        /// Offset of the tag in the input.
        offset: u64,
    },
    /// An encrypted tag (filter bit set), not parsed.
    Encrypted {
        /// Audio or video.
        media: MediaType,
        /// Timestamp, ms.
        dts: i64,
        /// Offset of the tag in the input.
        offset: u64,
    },
}

/// Tag-level facts shared by every track of one tag.
#[derive(Clone, Copy, Debug)]
struct Shared {
    dts: i64,
    nanos: u32,
    offset: u64,
    body_offset: u64,
}

impl Shared {
    fn new(tag: &Tag, nanos: u32) -> Shared {
        Shared {
            dts: tag.timestamp.saturating_add(i64::from(nanos / 1_000_000)),
            nanos: nanos % 1_000_000,
            offset: tag.offset,
            body_offset: tag.body_offset(),
        }
    }
}

#[derive(Debug)]
enum State {
    Done,
    Failed(Error),
    Single(MediaEvent),
    Video {
        tracks: VideoTracks,
        frame_type: VideoFrameType,
        packet_type: VideoPacketType,
        shared: Shared,
    },
    Audio {
        tracks: AudioTracks,
        packet_type: AudioPacketType,
        shared: Shared,
    },
}

/// The [`MediaEvent`]s of one tag, in track order; see [`media_events`].
///
/// Allocation-free: a single-track tag is parsed into a value on the stack,
/// and the tracks of a multitrack tag are read as the iterator goes.
#[derive(Debug)]
pub struct MediaEvents {
    state: State,
}

/// The media events of one tag (none for script data and other tags).
///
/// Errors name offsets in the input (the tag's offset plus the position in
/// the body). A multitrack tag whose later track is broken yields the earlier
/// tracks' events, then the error.
///
/// ```
/// use bytes::Bytes;
/// use flv::{media_events, MediaEvent, Tag, TagType};
/// let tag = Tag {
///     tag_type: TagType::Video,
///     timestamp: 1000,
///     raw_timestamp: 1000,
///     stream_id: 0,
///     encrypted: false,
///     offset: 13,
///     body: Bytes::from_static(b"\x17\x01\x00\x00\x42\x00\x00\x00\x02\x09\xf0"),
/// };
/// let events: Vec<_> = media_events(&tag).collect::<Result<_, _>>()?;
/// let [MediaEvent::Frame(frame)] = &events[..] else { panic!() };
/// assert_eq!((frame.dts, frame.pts, frame.key, frame.data.len()), (1000, 1066, true, 6));
/// # Ok::<(), flv::Error>(())
/// ```
pub fn media_events(tag: &Tag) -> MediaEvents {
    MediaEvents::new(tag.clone())
}

impl MediaEvents {
    /// The media events of `tag`, taking it (no reference count touched).
    pub fn new(mut tag: Tag) -> MediaEvents {
        if let Some(frame) = legacy_frame(&mut tag) {
            return MediaEvents {
                state: State::Single(MediaEvent::Frame(frame)),
            };
        }
        MediaEvents::general(tag)
    }

    /// Every tag form, through the tag body parsers.
    fn general(tag: Tag) -> MediaEvents {
        let media = match tag.tag_type {
            TagType::Audio => MediaType::Audio,
            TagType::Video => MediaType::Video,
            _ => return MediaEvents { state: State::Done },
        };
        let shared = Shared::new(&tag, 0);
        if tag.encrypted {
            return MediaEvents {
                state: State::Single(MediaEvent::Encrypted {
                    media,
                    dts: shared.dts,
                    offset: shared.offset,
                }),
            };
        }
        let state = match media {
            MediaType::Video => match VideoTag::parse_owned(tag.body) {
                Err(error) => State::Failed(error.shifted(shared.body_offset)),
                Ok(video) => {
                    let shared =
                        Shared::new_with(&shared, video.timestamp_offset_nanos, tag.timestamp);
                    if video.packet_type == VideoPacketType::Command {
                        State::Single(MediaEvent::Command {
                            command: video.command,
                            dts: shared.dts,
                            offset: shared.offset,
                        })
                    } else if video.multitrack.is_none() {
                        // One track at most: no iteration state.
                        let (frame_type, packet_type) = (video.frame_type, video.packet_type);
                        match video.into_iter().next() {
                            Some(Ok(track)) => {
                                match video_event(track, frame_type, packet_type, &shared) {
                                    Some(event) => State::Single(event),
                                    None => State::Done,
                                }
                            }
                            _ => State::Done,
                        }
                    } else {
                        State::Video {
                            frame_type: video.frame_type,
                            packet_type: video.packet_type,
                            tracks: video.into_iter(),
                            shared,
                        }
                    }
                }
            },
            MediaType::Audio => match AudioTag::parse_owned(tag.body) {
                Err(error) => State::Failed(error.shifted(shared.body_offset)),
                Ok(audio) => {
                    let shared =
                        Shared::new_with(&shared, audio.timestamp_offset_nanos, tag.timestamp);
                    let packet_type = audio.packet_type;
                    if audio.multitrack.is_none() {
                        match audio.into_iter().next() {
                            Some(Ok(track)) => match audio_event(track, packet_type, &shared) {
                                Some(Ok(event)) => State::Single(event),
                                Some(Err(error)) => State::Failed(error),
                                None => State::Done,
                            },
                            _ => State::Done,
                        }
                    } else {
                        State::Audio {
                            packet_type,
                            shared,
                            tracks: audio.into_iter(),
                        }
                    }
                }
            },
        };
        MediaEvents { state }
    }
}

/// The common case, read without the general parsers' layers: a legacy
/// AVC/HEVC coded frame or a legacy audio frame (raw AAC, MP3...). `None`
/// (and the tag untouched) for anything else, which takes the general path;
/// both give the same frame (a unit test holds them together).
///
/// Why: the general path moves a `VideoTag` into `VideoTracks` into a
/// `VideoTrack` into a `MediaEvent`; measured, those moves cost twice the
/// parsing itself, and nearly every tag of a real stream is one of these.
#[inline]
fn legacy_frame(tag: &mut Tag) -> Option<Frame> {
    if tag.encrypted {
        return None;
    }
    let body = &tag.body;
    let first = *body.first()?;
    let (media, codec, key, composition_time, header_len) = match tag.tag_type {
        TagType::Video => {
            let codec = match first & 0x0F {
                7 => Codec::Avc,
                12 => Codec::Hevc,
                _ => return None,
            };
            let frame_type = (first >> 4) & 0x07;
            // Bit 7 set is an enhanced header; frame type 5 a command.
            if first & 0x80 != 0 || frame_type == 5 || body.len() <= 5 || body[1] != 1 {
                return None;
            }
            let composition_time =
                crate::tag::si24(u32::from_be_bytes([0, body[2], body[3], body[4]]));
            (
                MediaType::Video,
                codec,
                frame_type == 1,
                composition_time,
                5,
            )
        }
        TagType::Audio => {
            let sound_format = first >> 4;
            match sound_format {
                9 => return None,
                10 if body.len() <= 2 || body[1] != 1 => return None,
                10 => (MediaType::Audio, Codec::Aac, true, 0, 2),
                _ if body.len() <= 1 => return None,
                _ => (
                    MediaType::Audio,
                    Codec::from_sound_format(sound_format),
                    true,
                    0,
                    1,
                ),
            }
        }
        _ => return None,
    };
    let dts = tag.timestamp;
    let mut data = std::mem::take(&mut tag.body);
    data.advance(header_len);
    Some(Frame {
        media,
        codec,
        track: 0,
        dts,
        pts: dts.saturating_add(i64::from(composition_time)),
        nanos: 0,
        key,
        data,
        offset: tag.offset,
    })
}

impl Shared {
    fn new_with(base: &Shared, nanos: u32, timestamp: i64) -> Shared {
        Shared {
            dts: timestamp.saturating_add(i64::from(nanos / 1_000_000)),
            nanos: nanos % 1_000_000,
            ..*base
        }
    }
}

fn video_event(
    track: VideoTrack,
    frame_type: VideoFrameType,
    packet_type: VideoPacketType,
    s: &Shared,
) -> Option<MediaEvent> {
    Some(match packet_type {
        VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX => {
            if track.data.is_empty() {
                return None;
            }
            MediaEvent::Frame(Frame {
                media: MediaType::Video,
                codec: track.codec,
                track: track.track_id,
                dts: s.dts,
                pts: s.dts.saturating_add(i64::from(track.composition_time)),
                nanos: s.nanos,
                key: frame_type == VideoFrameType::Key,
                data: track.data,
                offset: s.offset,
            })
        }
        VideoPacketType::SequenceStart | VideoPacketType::Mpeg2TsSequenceStart => {
            MediaEvent::Config(ConfigChange {
                media: MediaType::Video,
                codec: track.codec,
                track: track.track_id,
                dts: s.dts,
                kind: if packet_type == VideoPacketType::SequenceStart {
                    ConfigChangeKind::SequenceStart
                } else {
                    ConfigChangeKind::Mpeg2TsSequenceStart
                },
                data: track.data,
                offset: s.offset,
            })
        }
        VideoPacketType::SequenceEnd => MediaEvent::EndOfSequence {
            media: MediaType::Video,
            codec: track.codec,
            track: track.track_id,
            dts: s.dts,
            offset: s.offset,
        },
        VideoPacketType::Metadata => MediaEvent::VideoMetadata {
            codec: track.codec,
            track: track.track_id,
            dts: s.dts,
            data: track.data,
            offset: s.offset,
        },
        VideoPacketType::Command | VideoPacketType::Other(_) => return None,
    })
}

fn audio_event(
    track: AudioTrack,
    packet_type: AudioPacketType,
    s: &Shared,
) -> Option<Result<MediaEvent, Error>> {
    Some(Ok(match packet_type {
        AudioPacketType::CodedFrames => {
            if track.data.is_empty() {
                return None;
            }
            MediaEvent::Frame(Frame {
                media: MediaType::Audio,
                codec: track.codec,
                track: track.track_id,
                dts: s.dts,
                pts: s.dts,
                nanos: s.nanos,
                key: true,
                data: track.data,
                offset: s.offset,
            })
        }
        AudioPacketType::SequenceStart => MediaEvent::Config(ConfigChange {
            media: MediaType::Audio,
            codec: track.codec,
            track: track.track_id,
            dts: s.dts,
            kind: ConfigChangeKind::SequenceStart,
            data: track.data,
            offset: s.offset,
        }),
        AudioPacketType::SequenceEnd => MediaEvent::EndOfSequence {
            media: MediaType::Audio,
            codec: track.codec,
            track: track.track_id,
            dts: s.dts,
            offset: s.offset,
        },
        AudioPacketType::MultichannelConfig => match MultichannelConfig::parse(&track.data) {
            Ok(config) => MediaEvent::Channels {
                codec: track.codec,
                track: track.track_id,
                dts: s.dts,
                config,
                offset: s.offset,
            },
            // The offset is within the track data; name the tag's body.
            Err(error) => return Some(Err(error.shifted(s.body_offset))),
        },
        AudioPacketType::Other(_) => return None,
    }))
}

impl Iterator for MediaEvents {
    type Item = Result<MediaEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let result = match &mut self.state {
                State::Done => return None,
                State::Failed(_) | State::Single(_) => {
                    return match std::mem::replace(&mut self.state, State::Done) {
                        State::Failed(error) => Some(Err(error)),
                        State::Single(event) => Some(Ok(event)),
                        _ => None,
                    };
                }
                State::Video {
                    tracks,
                    frame_type,
                    packet_type,
                    shared,
                } => match tracks.next() {
                    None => None,
                    Some(Err(error)) => Some(Err(error.shifted(shared.body_offset))),
                    Some(Ok(track)) => {
                        match video_event(track, *frame_type, *packet_type, shared) {
                            Some(event) => return Some(Ok(event)),
                            None => continue,
                        }
                    }
                },
                State::Audio {
                    tracks,
                    packet_type,
                    shared,
                } => match tracks.next() {
                    None => None,
                    Some(Err(error)) => Some(Err(error.shifted(shared.body_offset))),
                    Some(Ok(track)) => match audio_event(track, *packet_type, shared) {
                        Some(event) => return Some(event),
                        None => continue,
                    },
                },
            };
            // The tracks are exhausted or broken: nothing follows.
            self.state = State::Done;
            return result;
        }
    }
}

/// What a [`FrameReader`] produces.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FrameEvent {
    /// The file header.
    Header(Header),
    /// A media event of an audio or video tag.
    Media(MediaEvent),
    /// A script data tag (parse it with [`ScriptData::parse`](crate::tag::ScriptData::parse)).
    Script(Tag),
    /// A tag of another type.
    Other(Tag),
    /// A skipped range (with [`ReaderOptions::resync`]).
    Skipped {
        /// Offset of the first skipped byte.
        offset: u64,
        /// Number of bytes skipped.
        len: u64,
        /// Why.
        reason: SkipReason,
    },
}

/// The frame view of a whole FLV file: [`read_all`](crate::read_all) and
/// [`MediaEvents`] together.
///
/// An error in one tag body is yielded and reading goes on with the next
/// tag; an error of the file structure (truncation, a corrupt tag without
/// resync) ends the iteration.
///
/// ```
/// use flv::{FrameEvent, FrameReader, MediaEvent};
/// let file = bytes::Bytes::from_static(b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00\
///     \x08\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\xaf\x00\x12\x10\x00\x00\x00\x0f\
///     \x08\x00\x00\x05\x00\x00\x17\x00\x00\x00\x00\xaf\x01\x21\x10\x04\x00\x00\x00\x10");
/// let mut frames = 0;
/// for event in FrameReader::new(file) {
///     match event? {
///         FrameEvent::Media(MediaEvent::Config(config)) => assert_eq!(&config.data[..], b"\x12\x10"),
///         FrameEvent::Media(MediaEvent::Frame(frame)) => {
///             assert_eq!((frame.codec, frame.dts, &frame.data[..]), (flv::Codec::Aac, 23, &b"\x21\x10\x04"[..]));
///             frames += 1;
///         }
///         _ => {}
///     }
/// }
/// assert_eq!(frames, 1);
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameReader {
    tags: ReadAll,
    current: MediaEvents,
}

impl FrameReader {
    /// The frame view of `data` with the default [`ReaderOptions`].
    pub fn new(data: Bytes) -> FrameReader {
        FrameReader::with_options(data, ReaderOptions::default())
    }

    /// The frame view of `data` with the given options.
    pub fn with_options(data: Bytes, options: ReaderOptions) -> FrameReader {
        FrameReader {
            tags: crate::read_all_with(data, options),
            current: MediaEvents { state: State::Done },
        }
    }
}

impl Iterator for FrameReader {
    type Item = Result<FrameEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.current.next() {
                return Some(event.map(FrameEvent::Media));
            }
            let event = match self.tags.next()? {
                Ok(event) => event,
                Err(error) => return Some(Err(error)),
            };
            match event {
                ReadEvent::Header(header) => return Some(Ok(FrameEvent::Header(header))),
                ReadEvent::Skipped {
                    offset,
                    len,
                    reason,
                } => {
                    return Some(Ok(FrameEvent::Skipped {
                        offset,
                        len,
                        reason,
                    }))
                }
                ReadEvent::Tag(tag) => match tag.tag_type {
                    TagType::Audio | TagType::Video => {
                        // Nearly every tag has one event: hand it out at once rather than
                        // parking it in `current` and taking it back (a measured cost of
                        // ~100 instructions per tag in the frame-view benchmark).
                        match MediaEvents::new(tag).state {
                            State::Single(event) => return Some(Ok(FrameEvent::Media(event))),
                            State::Failed(error) => return Some(Err(error)),
                            State::Done => {}
                            state => self.current = MediaEvents { state },
                        }
                    }
                    TagType::Script => return Some(Ok(FrameEvent::Script(tag))),
                    TagType::Other(_) => return Some(Ok(FrameEvent::Other(tag))),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(tag_type: TagType, body: Vec<u8>) -> Tag {
        Tag {
            tag_type,
            timestamp: 1_000,
            raw_timestamp: 1_000,
            stream_id: 0,
            encrypted: false,
            offset: 13,
            body: Bytes::from(body),
        }
    }

    /// The fast path for legacy frames gives exactly what the general
    /// parsers give, for every first byte, packet type and short length.
    #[test]
    fn legacy_fast_path_agrees_with_the_general_path() {
        let mut fast_taken = 0;
        for tag_type in [TagType::Audio, TagType::Video] {
            for first in 0..=255u8 {
                for second in [0u8, 1, 2, 3] {
                    for len in 0..9usize {
                        let mut body = vec![first, second, 0xFF, 0xFF, 0xDF, 0, 0, 1, 9];
                        body.truncate(len);
                        let mut probe = tag(tag_type, body.clone());
                        fast_taken += usize::from(legacy_frame(&mut probe).is_some());
                        let fast: Vec<_> = MediaEvents::new(tag(tag_type, body.clone())).collect();
                        let general: Vec<_> = MediaEvents::general(tag(tag_type, body)).collect();
                        assert_eq!(
                            fast, general,
                            "{tag_type:?} {first:#04x} {second} len {len}"
                        );
                    }
                }
            }
        }
        // The comparison means something only if the fast path was taken.
        assert!(fast_taken > 1_000, "fast path taken {fast_taken} times");
    }

    #[test]
    fn legacy_fast_path_reads_negative_composition_times() {
        let frame = legacy_frame(&mut tag(
            TagType::Video,
            b"\x27\x01\xff\xff\xdf\x00\x00\x00\x01\x09".to_vec(),
        ))
        .expect("a legacy AVC frame");
        assert_eq!((frame.dts, frame.pts, frame.key), (1_000, 967, false));
        assert_eq!(&frame.data[..], b"\x00\x00\x00\x01\x09");
    }
}
