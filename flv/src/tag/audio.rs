//! Audio tag bodies, legacy and Enhanced RTMP v2.

use bytes::{Buf as _, Bytes};

use super::{read_mod_ex, Cursor, MultitrackType};
use crate::{Codec, Error, FourCc, MediaType};

/// The legacy audio header fields (the first byte of a non-enhanced audio tag).
///
/// For AAC the rate, size and channel bits are fixed (44 kHz, 16-bit,
/// stereo) whatever the stream is: the AudioSpecificConfig is the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LegacyAudio {
    /// The sound format (high 4 bits): 2 MP3, 10 AAC, ...
    pub sound_format: u8,
    /// The sample rate the rate bits say: 5512, 11025, 22050 or 44100.
    pub sample_rate: u32,
    /// Bits per sample the size bit says: 8 or 16.
    pub sample_bits: u8,
    /// The channel bit: stereo (true) or mono.
    pub stereo: bool,
}

/// What an audio tag carries.
///
/// The legacy AAC packet types map to [`SequenceStart`](AudioPacketType::SequenceStart)
/// (sequence header) and [`CodedFrames`](AudioPacketType::CodedFrames) (raw);
/// other legacy formats always carry [`CodedFrames`](AudioPacketType::CodedFrames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioPacketType {
    /// 0: the codec configuration (AudioSpecificConfig, OpusHead, FLAC
    /// STREAMINFO, ...).
    SequenceStart,
    /// 1: coded frames.
    CodedFrames,
    /// 2: end of sequence.
    SequenceEnd,
    /// 4: the channel configuration, see [`MultichannelConfig`].
    MultichannelConfig,
    /// Any other packet type (legacy AAC above 1, enhanced 3, 6, 8-15).
    Other(u8),
}

/// One track of an audio tag: a legacy tag or a single-track enhanced tag has
/// one, with id 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioTrack {
    /// The track id (0 unless multitrack).
    pub track_id: u8,
    /// The codec.
    pub codec: Codec,
    /// The payload after every header field: the configuration for sequence
    /// starts, the frame(s) for coded frames (raw AAC, an MP3 frame, an Opus
    /// packet), the channel configuration for multichannel configs.
    pub data: Bytes,
}

/// A parsed audio tag body.
///
/// ```
/// use bytes::Bytes;
/// use flv::tag::{AudioPacketType, AudioTag};
///
/// // Legacy AAC sequence header (AudioSpecificConfig 0x1210: AAC-LC, 44.1 kHz, stereo).
/// let tag = AudioTag::parse(&Bytes::from_static(b"\xaf\x00\x12\x10"))?;
/// assert_eq!(tag.packet_type, AudioPacketType::SequenceStart);
/// assert_eq!(tag.legacy.unwrap().sample_rate, 44100);
/// assert_eq!(&tag.first_track().unwrap().data[..], b"\x12\x10");
///
/// // Enhanced Opus coded frames.
/// let tag = AudioTag::parse(&Bytes::from_static(b"\x91Opus\xfc\xff\xfe"))?;
/// assert_eq!(tag.codec, flv::Codec::Opus);
/// assert_eq!(&tag.first_track().unwrap().data[..], b"\xfc\xff\xfe");
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioTag {
    /// Whether the tag uses the Enhanced RTMP ExAudioTagHeader (sound format 9).
    pub enhanced: bool,
    /// The legacy header fields (`None` for an enhanced tag).
    pub legacy: Option<LegacyAudio>,
    /// What the tag carries (for a multitrack tag: what every track carries).
    pub packet_type: AudioPacketType,
    /// The multitrack type, for an Enhanced RTMP multitrack tag.
    pub multitrack: Option<MultitrackType>,
    /// The ModEx TimestampOffsetNano (0 when absent).
    pub timestamp_offset_nanos: u32,
    /// The codec of the tag (of its first track).
    pub codec: Codec,
    first: Option<AudioTrack>,
    rest: Bytes,
    rest_offset: usize,
}

impl AudioTag {
    /// Parses an audio tag body (a copy of the [`Bytes`] handle, not of the data).
    pub fn parse(body: &Bytes) -> Result<AudioTag, Error> {
        AudioTag::parse_owned(body.clone())
    }

    /// Parses an audio tag body, taking the handle.
    pub fn parse_owned(mut body: Bytes) -> Result<AudioTag, Error> {
        let mut cursor = Cursor::new(&body, 0);
        let first = cursor.u8("audio tag header")?;
        let sound_format = first >> 4;
        if sound_format != 9 {
            let codec = Codec::from_sound_format(sound_format);
            let mut packet_type = AudioPacketType::CodedFrames;
            let mut header_len = 1;
            if codec == Codec::Aac {
                packet_type = match cursor.u8("AAC packet type")? {
                    0 => AudioPacketType::SequenceStart,
                    1 => AudioPacketType::CodedFrames,
                    other => AudioPacketType::Other(other),
                };
                header_len = 2;
            }
            body.advance(header_len);
            return Ok(AudioTag {
                enhanced: false,
                legacy: Some(LegacyAudio {
                    sound_format,
                    sample_rate: [5512, 11025, 22050, 44100][usize::from((first >> 2) & 3)],
                    sample_bits: if first & 2 != 0 { 16 } else { 8 },
                    stereo: first & 1 != 0,
                }),
                packet_type,
                multitrack: None,
                timestamp_offset_nanos: 0,
                codec,
                first: Some(AudioTrack {
                    track_id: 0,
                    codec,
                    data: body,
                }),
                rest: Bytes::new(),
                rest_offset: 0,
            });
        }
        let (mut packet_type, nanos) = read_mod_ex(&mut cursor, first & 0x0F)?;
        let mut multitrack = None;
        if packet_type == 5 {
            let at = cursor.pos();
            let types = cursor.u8("multitrack type")?;
            multitrack = Some(MultitrackType::from_nibble(types >> 4, at)?);
            packet_type = types & 0x0F;
            if packet_type == 5 || packet_type == 7 {
                return Err(Error::InvalidField {
                    what: "audio packet type in a multitrack tag",
                    offset: at as u64,
                    value: u32::from(packet_type),
                });
            }
        }
        let packet_type = match packet_type {
            0 => AudioPacketType::SequenceStart,
            1 => AudioPacketType::CodedFrames,
            2 => AudioPacketType::SequenceEnd,
            4 => AudioPacketType::MultichannelConfig,
            other => AudioPacketType::Other(other),
        };
        let fourcc = cursor.bytes(4, "audio FourCC")?;
        let codec = Codec::from_fourcc(
            MediaType::Audio,
            FourCc([fourcc[0], fourcc[1], fourcc[2], fourcc[3]]),
        );
        let start = cursor.pos();
        let mut tag = AudioTag {
            enhanced: true,
            legacy: None,
            packet_type,
            multitrack,
            timestamp_offset_nanos: nanos,
            codec,
            first: None,
            rest: Bytes::new(),
            rest_offset: 0,
        };
        if let AudioPacketType::Other(_) = packet_type {
            // An unknown layout: nothing more can be read.
            return Ok(tag);
        }
        body.advance(start);
        let mut tracks = AudioTracks {
            first: None,
            rest: body,
            rest_offset: start,
            multitrack,
            codec,
        };
        tag.first = Some(tracks.read_track(true)?);
        tag.rest = tracks.rest;
        tag.rest_offset = tracks.rest_offset;
        Ok(tag)
    }

    /// The first (for most tags, the only) track; `None` for unknown packet types.
    pub fn first_track(&self) -> Option<&AudioTrack> {
        self.first.as_ref()
    }

    /// The tracks; the first was checked by [`parse`](AudioTag::parse), the
    /// others of a multitrack tag are read as the iterator goes.
    pub fn tracks(&self) -> AudioTracks {
        self.clone().into_iter()
    }
}

/// The tracks of an [`AudioTag`], in order.
///
/// Reading a later track of a multitrack tag can fail (a size past the end of
/// the body); the iterator then yields the error and ends.
#[derive(Clone, Debug)]
pub struct AudioTracks {
    first: Option<AudioTrack>,
    rest: Bytes,
    rest_offset: usize,
    multitrack: Option<MultitrackType>,
    codec: Codec,
}

impl AudioTracks {
    fn read_track(&mut self, first: bool) -> Result<AudioTrack, Error> {
        let mut cursor = Cursor::new(&self.rest, 0);
        let result: Result<_, Error> = (|| {
            let mut codec = self.codec;
            let mut track_id = 0;
            let mut size = None;
            if let Some(multitrack) = self.multitrack {
                if !first && multitrack == MultitrackType::ManyTracksManyCodecs {
                    let fourcc = cursor.bytes(4, "track FourCC")?;
                    codec = Codec::from_fourcc(
                        MediaType::Audio,
                        FourCc([fourcc[0], fourcc[1], fourcc[2], fourcc[3]]),
                    );
                }
                track_id = cursor.u8("track id")?;
                if multitrack != MultitrackType::OneTrack {
                    size = Some(cursor.u24("track size")? as usize);
                }
            }
            let start = cursor.pos();
            let end = match size {
                Some(size) => {
                    cursor.bytes(size, "track data")?;
                    start + size
                }
                None => self.rest.len(),
            };
            Ok((track_id, codec, start, end))
        })();
        let (track_id, codec, from, to) = match result {
            Ok(v) => v,
            Err(e) => {
                self.rest = Bytes::new();
                return Err(e.shifted(self.rest_offset as u64));
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
        Ok(AudioTrack {
            track_id,
            codec,
            data,
        })
    }
}

impl Iterator for AudioTracks {
    type Item = Result<AudioTrack, Error>;

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

impl IntoIterator for AudioTag {
    type Item = Result<AudioTrack, Error>;
    type IntoIter = AudioTracks;

    fn into_iter(self) -> AudioTracks {
        AudioTracks {
            first: self.first,
            rest: self.rest,
            rest_offset: self.rest_offset,
            multitrack: self.multitrack,
            codec: self.codec,
        }
    }
}

/// How the channels of a [`MultichannelConfig`] are described.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelOrder {
    /// 0: only the channel count is known.
    Unspecified,
    /// 1: a 32-bit mask of speaker positions (bit 0 front left, 1 front right,
    /// 2 front center, 3 LFE, ...), in that order.
    Native,
    /// 2: one speaker position byte per channel.
    Custom,
    /// Any other value.
    Other(u8),
}

/// An Enhanced RTMP audio MultichannelConfig (the payload of an
/// [`AudioPacketType::MultichannelConfig`] track).
///
/// ```
/// use bytes::Bytes;
/// use flv::tag::{ChannelOrder, MultichannelConfig};
/// // Native order, 2 channels, mask FL|FR (FFmpeg 9 writes this before Opus).
/// let config = MultichannelConfig::parse(&Bytes::from_static(b"\x01\x02\x00\x00\x00\x03"))?;
/// assert_eq!((config.order, config.channel_count, config.channel_mask), (ChannelOrder::Native, 2, Some(3)));
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultichannelConfig {
    /// How the channels are described.
    pub order: ChannelOrder,
    /// Number of channels.
    pub channel_count: u8,
    /// The speaker mask, for [`ChannelOrder::Native`].
    pub channel_mask: Option<u32>,
    /// One speaker position per channel, for [`ChannelOrder::Custom`]
    /// (empty otherwise).
    pub channel_mapping: Bytes,
}

impl MultichannelConfig {
    /// Parses the payload of a MultichannelConfig track.
    pub fn parse(data: &Bytes) -> Result<MultichannelConfig, Error> {
        let mut cursor = Cursor::new(data, 0);
        let order = match cursor.u8("channel order")? {
            0 => ChannelOrder::Unspecified,
            1 => ChannelOrder::Native,
            2 => ChannelOrder::Custom,
            other => ChannelOrder::Other(other),
        };
        let channel_count = cursor.u8("channel count")?;
        let mut channel_mask = None;
        let mut channel_mapping = Bytes::new();
        match order {
            ChannelOrder::Native => channel_mask = Some(cursor.u32("channel mask")?),
            ChannelOrder::Custom => {
                let start = cursor.pos();
                cursor.bytes(usize::from(channel_count), "channel mapping")?;
                channel_mapping = data.slice(start..start + usize::from(channel_count));
            }
            _ => {}
        }
        Ok(MultichannelConfig {
            order,
            channel_count,
            channel_mask,
            channel_mapping,
        })
    }
}
