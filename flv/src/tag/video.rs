//! Video tag bodies, legacy and Enhanced RTMP.

use bytes::{Buf as _, Bytes};

use super::{read_mod_ex, si24, Cursor, MultitrackType};
use crate::{Codec, Error, FourCc, MediaType};

/// The frame type of a video tag (bits 4-6 of its first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoFrameType {
    /// 1: a key frame (a seekable frame, IDR for AVC).
    Key,
    /// 2: an inter frame.
    Inter,
    /// 3: a disposable inter frame (H.263 only).
    DisposableInter,
    /// 4: a generated key frame (reserved for server use).
    Generated,
    /// 5: video info / command frame.
    Command,
    /// 0, 6, 7: reserved values.
    Reserved(u8),
}

impl VideoFrameType {
    fn from_bits(value: u8) -> VideoFrameType {
        match value {
            1 => VideoFrameType::Key,
            2 => VideoFrameType::Inter,
            3 => VideoFrameType::DisposableInter,
            4 => VideoFrameType::Generated,
            5 => VideoFrameType::Command,
            other => VideoFrameType::Reserved(other),
        }
    }
}

/// What a video tag carries.
///
/// Legacy AVC/HEVC packet types map to the enhanced ones: sequence header to
/// [`SequenceStart`](VideoPacketType::SequenceStart), NALUs to
/// [`CodedFrames`](VideoPacketType::CodedFrames), end of sequence to
/// [`SequenceEnd`](VideoPacketType::SequenceEnd). Other legacy codecs always
/// carry [`CodedFrames`](VideoPacketType::CodedFrames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoPacketType {
    /// 0: the decoder configuration record (AVCDecoderConfigurationRecord,
    /// HEVCDecoderConfigurationRecord, AV1CodecConfigurationRecord, VP9 vpcC).
    SequenceStart,
    /// 1: coded frames (for `avc1`/`hvc1` with a composition time).
    CodedFrames,
    /// 2: end of sequence.
    SequenceEnd,
    /// 3: coded frames with an implied composition time of zero.
    CodedFramesX,
    /// 4: metadata (AMF0, `colorInfo`).
    Metadata,
    /// 5: an MPEG-2 TS sequence start (the codec's TS descriptor).
    Mpeg2TsSequenceStart,
    /// A command frame (frame type 5): no payload, see [`VideoTag::command`].
    Command,
    /// Any other packet type (legacy AVC packet types above 2, enhanced 8-15).
    Other(u8),
}

/// A video command (the byte after the header of a frame-type-5 tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCommand {
    /// 0: start of client-side seeking.
    StartSeek,
    /// 1: end of client-side seeking.
    EndSeek,
    /// Any other value.
    Other(u8),
}

impl VideoCommand {
    fn from_u8(value: u8) -> VideoCommand {
        match value {
            0 => VideoCommand::StartSeek,
            1 => VideoCommand::EndSeek,
            other => VideoCommand::Other(other),
        }
    }
}

/// One track of a video tag: a legacy tag or a single-track enhanced tag has
/// one, with id 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoTrack {
    /// The track id (0 unless multitrack).
    pub track_id: u8,
    /// The codec.
    pub codec: Codec,
    /// Composition time offset in milliseconds (PTS - DTS), a signed 24-bit
    /// value; 0 where the format has none.
    pub composition_time: i32,
    /// The payload after every header field: the configuration record for
    /// sequence starts, the frame data (length-prefixed NAL units for AVC/HEVC,
    /// OBUs for AV1) for coded frames, the AMF0 data for metadata.
    pub data: Bytes,
}

/// A parsed video tag body.
///
/// ```
/// use bytes::Bytes;
/// use flv::tag::{VideoFrameType, VideoPacketType, VideoTag};
///
/// // Legacy AVC NALUs, inter frame, composition time -33 ms (0xFFFFDF).
/// let tag = VideoTag::parse(&Bytes::from_static(b"\x27\x01\xff\xff\xdf\x00\x00\x00\x01\x09"))?;
/// assert_eq!(tag.frame_type, VideoFrameType::Inter);
/// assert_eq!(tag.packet_type, VideoPacketType::CodedFrames);
/// let track = tag.first_track().unwrap();
/// assert_eq!((track.codec, track.composition_time, &track.data[..]), (flv::Codec::Avc, -33, &b"\x00\x00\x00\x01\x09"[..]));
///
/// // Enhanced HEVC CodedFramesX: no composition time.
/// let tag = VideoTag::parse(&Bytes::from_static(b"\x93hvc1\x00\x00\x00\x05\x26"))?;
/// let track = tag.first_track().unwrap();
/// assert_eq!((track.codec, track.composition_time, track.data.len()), (flv::Codec::Hevc, 0, 5));
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoTag {
    /// The frame type.
    pub frame_type: VideoFrameType,
    /// Whether the tag uses the Enhanced RTMP ExVideoTagHeader.
    pub enhanced: bool,
    /// What the tag carries (for a multitrack tag: what every track carries).
    pub packet_type: VideoPacketType,
    /// The multitrack type, for an Enhanced RTMP multitrack tag.
    pub multitrack: Option<MultitrackType>,
    /// The ModEx TimestampOffsetNano: nanoseconds to add to the tag
    /// timestamp (0 when absent).
    pub timestamp_offset_nanos: u32,
    /// The codec of the tag (of its first track); `None` for an enhanced
    /// command frame, which names no codec.
    pub codec: Option<Codec>,
    /// The command of a command frame, if the byte is present.
    pub command: Option<VideoCommand>,
    first: Option<VideoTrack>,
    rest: Bytes,
    rest_offset: usize,
}

impl VideoTag {
    /// Parses a video tag body (a copy of the [`Bytes`] handle, not of the data).
    pub fn parse(body: &Bytes) -> Result<VideoTag, Error> {
        VideoTag::parse_owned(body.clone())
    }

    /// Parses a video tag body, taking the handle.
    pub fn parse_owned(body: Bytes) -> Result<VideoTag, Error> {
        let mut cursor = Cursor::new(&body, 0);
        let first = cursor.u8("video tag header")?;
        let frame_type = VideoFrameType::from_bits((first >> 4) & 0x07);
        if first & 0x80 == 0 {
            return parse_legacy(body, first, frame_type);
        }
        let (packet_type, nanos) = read_mod_ex(&mut cursor, first & 0x0F)?;
        let mut tag = VideoTag {
            frame_type,
            enhanced: true,
            packet_type: VideoPacketType::Other(packet_type),
            multitrack: None,
            timestamp_offset_nanos: nanos,
            codec: None,
            command: None,
            first: None,
            rest: Bytes::new(),
            rest_offset: 0,
        };
        if frame_type == VideoFrameType::Command && packet_type != 4 {
            tag.packet_type = VideoPacketType::Command;
            tag.command = body.get(cursor.pos()).map(|b| VideoCommand::from_u8(*b));
            return Ok(tag);
        }
        let mut packet_type = packet_type;
        if packet_type == 6 {
            let at = cursor.pos();
            let types = cursor.u8("multitrack type")?;
            tag.multitrack = Some(MultitrackType::from_nibble(types >> 4, at)?);
            packet_type = types & 0x0F;
            if packet_type == 6 || packet_type == 7 {
                return Err(Error::InvalidField {
                    what: "video packet type in a multitrack tag",
                    offset: at as u64,
                    value: u32::from(packet_type),
                });
            }
        }
        tag.packet_type = match packet_type {
            0 => VideoPacketType::SequenceStart,
            1 => VideoPacketType::CodedFrames,
            2 => VideoPacketType::SequenceEnd,
            3 => VideoPacketType::CodedFramesX,
            4 => VideoPacketType::Metadata,
            5 => VideoPacketType::Mpeg2TsSequenceStart,
            // An unknown layout: nothing more can be read.
            other => {
                tag.packet_type = VideoPacketType::Other(other);
                return Ok(tag);
            }
        };
        let fourcc = FourCc(
            cursor
                .bytes(4, "video FourCC")?
                .try_into()
                .unwrap_or([0; 4]),
        );
        let codec = Codec::from_fourcc(MediaType::Video, fourcc);
        tag.codec = Some(codec);
        let start = cursor.pos();
        let mut tracks = VideoTracks {
            first: None,
            rest: body,
            rest_offset: 0,
            packet_type: tag.packet_type,
            multitrack: tag.multitrack,
            codec,
        };
        tracks.rest.advance(start);
        tracks.rest_offset = start;
        tag.first = Some(tracks.read_track(true)?);
        tag.rest = tracks.rest;
        tag.rest_offset = tracks.rest_offset;
        Ok(tag)
    }

    /// The first (for most tags, the only) track; `None` for command frames
    /// and unknown packet types.
    pub fn first_track(&self) -> Option<&VideoTrack> {
        self.first.as_ref()
    }

    /// The tracks; the first was checked by [`parse`](VideoTag::parse), the
    /// others of a multitrack tag are read as the iterator goes.
    pub fn tracks(&self) -> VideoTracks {
        self.clone().into_iter()
    }
}

fn parse_legacy(mut body: Bytes, first: u8, frame_type: VideoFrameType) -> Result<VideoTag, Error> {
    let codec = Codec::from_video_codec_id(first & 0x0F);
    let mut tag = VideoTag {
        frame_type,
        enhanced: false,
        packet_type: VideoPacketType::CodedFrames,
        multitrack: None,
        timestamp_offset_nanos: 0,
        codec: Some(codec),
        command: None,
        first: None,
        rest: Bytes::new(),
        rest_offset: 0,
    };
    if frame_type == VideoFrameType::Command {
        tag.packet_type = VideoPacketType::Command;
        tag.command = body.get(1).map(|b| VideoCommand::from_u8(*b));
        return Ok(tag);
    }
    let mut composition_time = 0;
    let header_len = match codec {
        Codec::Avc | Codec::Hevc | Codec::Mpeg4Part2 => {
            let mut cursor = Cursor::new(&body, 1);
            let packet_type = cursor.u8("AVC packet type")?;
            composition_time = si24(cursor.u24("composition time")?);
            tag.packet_type = match packet_type {
                0 => VideoPacketType::SequenceStart,
                1 => VideoPacketType::CodedFrames,
                2 => VideoPacketType::SequenceEnd,
                other => VideoPacketType::Other(other),
            };
            5
        }
        // One byte of size adjustment (FFmpeg keeps it as extradata, not in the packet).
        Codec::Vp6 | Codec::Vp6Alpha => {
            Cursor::new(&body, 1).u8("VP6 size adjustment")?;
            2
        }
        _ => 1,
    };
    body.advance(header_len);
    tag.first = Some(VideoTrack {
        track_id: 0,
        codec,
        composition_time,
        data: body,
    });
    Ok(tag)
}

/// The tracks of a [`VideoTag`], in order.
///
/// Reading a later track of a multitrack tag can fail (a size past the end of
/// the body); the iterator then yields the error and ends.
#[derive(Clone, Debug)]
pub struct VideoTracks {
    first: Option<VideoTrack>,
    rest: Bytes,
    /// Offset of `rest` in the body.
    rest_offset: usize,
    packet_type: VideoPacketType,
    multitrack: Option<MultitrackType>,
    codec: Codec,
}

impl VideoTracks {
    /// Reads one track from `rest`. The first track's FourCC was read with the header.
    fn read_track(&mut self, first: bool) -> Result<VideoTrack, Error> {
        let mut cursor = Cursor::new(&self.rest, 0);
        let result: Result<_, Error> = (|| {
            let mut codec = self.codec;
            let mut track_id = 0;
            let mut size = None;
            if let Some(multitrack) = self.multitrack {
                if !first && multitrack == MultitrackType::ManyTracksManyCodecs {
                    let fourcc = cursor.bytes(4, "track FourCC")?;
                    codec = Codec::from_fourcc(
                        MediaType::Video,
                        FourCc([fourcc[0], fourcc[1], fourcc[2], fourcc[3]]),
                    );
                }
                track_id = cursor.u8("track id")?;
                if multitrack != MultitrackType::OneTrack {
                    size = Some(cursor.u24("track size")? as usize);
                }
            }
            let start = cursor.pos();
            let len = match size {
                Some(size) => {
                    cursor.bytes(size, "track data")?;
                    size
                }
                None => self.rest.len() - start,
            };
            let mut composition_time = 0;
            let mut skip = 0;
            if self.packet_type == VideoPacketType::CodedFrames
                && matches!(codec, Codec::Avc | Codec::Hevc)
            {
                let mut inner = Cursor::new(&self.rest[..start + len], start);
                composition_time = si24(inner.u24("composition time")?);
                skip = 3;
            }
            Ok((track_id, codec, composition_time, start + skip, start + len))
        })();
        let (track_id, codec, composition_time, from, to) = match result {
            Ok(v) => v,
            Err(e) => {
                self.rest = Bytes::new();
                return Err(shift(e, self.rest_offset));
            }
        };
        let data = if to == self.rest.len() {
            let mut data = std::mem::take(&mut self.rest);
            data.advance(from);
            data
        } else {
            let data = self.rest.slice(from..to);
            self.rest.advance(to);
            data
        };
        self.rest_offset += to;
        Ok(VideoTrack {
            track_id,
            codec,
            composition_time,
            data,
        })
    }
}

fn shift(error: Error, by: usize) -> Error {
    error.shifted(by as u64)
}

impl Iterator for VideoTracks {
    type Item = Result<VideoTrack, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        if self.rest.is_empty() || self.multitrack.is_none() {
            return None;
        }
        Some(self.read_track(false))
    }
}

impl IntoIterator for VideoTag {
    type Item = Result<VideoTrack, Error>;
    type IntoIter = VideoTracks;

    fn into_iter(self) -> VideoTracks {
        VideoTracks {
            first: self.first,
            rest: self.rest,
            rest_offset: self.rest_offset,
            packet_type: self.packet_type,
            multitrack: self.multitrack,
            codec: self.codec.unwrap_or(Codec::UnknownVideo(0)),
        }
    }
}
