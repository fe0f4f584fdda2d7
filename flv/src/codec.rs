//! Codecs, FourCCs and media types: the vocabulary shared by tag bodies and
//! the frame view.

use std::fmt;

/// Audio or video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// An audio tag (type 8) or track.
    Audio,
    /// A video tag (type 9) or track.
    Video,
}

/// A four-character code, as Enhanced RTMP/FLV writes codecs (`hvc1`, `Opus`, ...).
///
/// ```
/// use flv::FourCc;
/// assert_eq!(FourCc::HVC1.to_string(), "hvc1");
/// assert_eq!(FourCc::from_u32(0x4f70_7573), FourCc::OPUS);
/// assert_eq!(FourCc(*b"\0\x01ab").to_string(), "0x00016162");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// `avc1`: H.264/AVC.
    pub const AVC1: FourCc = FourCc(*b"avc1");
    /// `hvc1`: H.265/HEVC.
    pub const HVC1: FourCc = FourCc(*b"hvc1");
    /// `av01`: AV1.
    pub const AV01: FourCc = FourCc(*b"av01");
    /// `vp09`: VP9.
    pub const VP09: FourCc = FourCc(*b"vp09");
    /// `vp08`: VP8.
    pub const VP08: FourCc = FourCc(*b"vp08");
    /// `Opus`.
    pub const OPUS: FourCc = FourCc(*b"Opus");
    /// `fLaC`: FLAC.
    pub const FLAC: FourCc = FourCc(*b"fLaC");
    /// `ac-3`: Dolby AC-3.
    pub const AC3: FourCc = FourCc(*b"ac-3");
    /// `ec-3`: Dolby E-AC-3.
    pub const EC3: FourCc = FourCc(*b"ec-3");
    /// `mp4a`: AAC.
    pub const MP4A: FourCc = FourCc(*b"mp4a");
    /// `.mp3`: MP3.
    pub const MP3: FourCc = FourCc(*b".mp3");

    /// The FourCC of a big-endian 32-bit value (as `onMetaData` `videocodecid` holds it).
    pub const fn from_u32(value: u32) -> FourCc {
        FourCc(value.to_be_bytes())
    }

    /// The big-endian 32-bit value of this FourCC.
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            for b in self.0 {
                write!(f, "{}", b as char)?;
            }
            Ok(())
        } else {
            write!(f, "{:#010x}", self.to_u32())
        }
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

/// A codec, from a legacy FLV codec id / sound format or an Enhanced RTMP FourCC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// H.264/AVC: legacy video codec id 7 or FourCC `avc1`.
    Avc,
    /// H.265/HEVC: FourCC `hvc1` or the legacy (non-standard, FFmpeg and Chinese CDNs) codec id 12.
    Hevc,
    /// AV1: FourCC `av01`.
    Av1,
    /// VP9: FourCC `vp09`.
    Vp9,
    /// VP8: FourCC `vp08`.
    Vp8,
    /// Sorenson H.263: legacy video codec id 2.
    SorensonH263,
    /// Screen video: legacy video codec id 3.
    ScreenVideo,
    /// On2 VP6: legacy video codec id 4.
    Vp6,
    /// On2 VP6 with alpha channel: legacy video codec id 5.
    Vp6Alpha,
    /// Screen video version 2: legacy video codec id 6.
    ScreenVideo2,
    /// H.263: legacy video codec id 8 (FFmpeg's "RealH263").
    H263,
    /// MPEG-4 Part 2: legacy video codec id 9 (an FFmpeg extension).
    Mpeg4Part2,
    /// A legacy video codec id this crate does not know.
    UnknownVideo(u8),
    /// A video FourCC this crate does not know.
    UnknownVideoFourCc(FourCc),

    /// AAC: sound format 10 or FourCC `mp4a`.
    Aac,
    /// MP3: sound format 2 or FourCC `.mp3`.
    Mp3,
    /// MP3 at 8 kHz: sound format 14.
    Mp3_8k,
    /// Opus: FourCC `Opus`.
    Opus,
    /// FLAC: FourCC `fLaC`.
    Flac,
    /// AC-3: FourCC `ac-3`.
    Ac3,
    /// E-AC-3: FourCC `ec-3`.
    Eac3,
    /// Linear PCM, platform endian: sound format 0.
    PcmPlatformEndian,
    /// ADPCM (Flash): sound format 1.
    Adpcm,
    /// Linear PCM, little endian: sound format 3.
    PcmLittleEndian,
    /// Nellymoser 16 kHz mono: sound format 4.
    Nellymoser16kMono,
    /// Nellymoser 8 kHz mono: sound format 5.
    Nellymoser8kMono,
    /// Nellymoser: sound format 6.
    Nellymoser,
    /// G.711 A-law: sound format 7.
    G711ALaw,
    /// G.711 mu-law: sound format 8.
    G711MuLaw,
    /// Speex: sound format 11.
    Speex,
    /// Device-specific sound: sound format 15.
    DeviceSpecific,
    /// A legacy sound format this crate does not know (12, 13).
    UnknownAudio(u8),
    /// An audio FourCC this crate does not know.
    UnknownAudioFourCc(FourCc),
}

impl Codec {
    /// Audio or video.
    pub fn media(self) -> MediaType {
        use Codec::*;
        match self {
            Avc
            | Hevc
            | Av1
            | Vp9
            | Vp8
            | SorensonH263
            | ScreenVideo
            | Vp6
            | Vp6Alpha
            | ScreenVideo2
            | H263
            | Mpeg4Part2
            | UnknownVideo(_)
            | UnknownVideoFourCc(_) => MediaType::Video,
            _ => MediaType::Audio,
        }
    }

    /// The codec of a legacy video tag's codec id (the low 4 bits of its first byte).
    ///
    /// ```
    /// assert_eq!(flv::Codec::from_video_codec_id(7), flv::Codec::Avc);
    /// assert_eq!(flv::Codec::from_video_codec_id(12), flv::Codec::Hevc);
    /// ```
    pub fn from_video_codec_id(id: u8) -> Codec {
        match id {
            2 => Codec::SorensonH263,
            3 => Codec::ScreenVideo,
            4 => Codec::Vp6,
            5 => Codec::Vp6Alpha,
            6 => Codec::ScreenVideo2,
            7 => Codec::Avc,
            8 => Codec::H263,
            9 => Codec::Mpeg4Part2,
            12 => Codec::Hevc,
            other => Codec::UnknownVideo(other),
        }
    }

    /// The codec of a legacy audio tag's sound format (the high 4 bits of its first byte).
    ///
    /// ```
    /// assert_eq!(flv::Codec::from_sound_format(10), flv::Codec::Aac);
    /// ```
    pub fn from_sound_format(format: u8) -> Codec {
        match format {
            0 => Codec::PcmPlatformEndian,
            1 => Codec::Adpcm,
            2 => Codec::Mp3,
            3 => Codec::PcmLittleEndian,
            4 => Codec::Nellymoser16kMono,
            5 => Codec::Nellymoser8kMono,
            6 => Codec::Nellymoser,
            7 => Codec::G711ALaw,
            8 => Codec::G711MuLaw,
            10 => Codec::Aac,
            11 => Codec::Speex,
            14 => Codec::Mp3_8k,
            15 => Codec::DeviceSpecific,
            other => Codec::UnknownAudio(other),
        }
    }

    /// The codec of an Enhanced RTMP FourCC in a tag of the given media type.
    ///
    /// ```
    /// use flv::{Codec, FourCc, MediaType};
    /// assert_eq!(Codec::from_fourcc(MediaType::Video, FourCc::AV01), Codec::Av1);
    /// assert_eq!(Codec::from_fourcc(MediaType::Audio, FourCc::MP4A), Codec::Aac);
    /// ```
    pub fn from_fourcc(media: MediaType, fourcc: FourCc) -> Codec {
        match (media, fourcc) {
            (MediaType::Video, FourCc::AVC1) => Codec::Avc,
            (MediaType::Video, FourCc::HVC1) => Codec::Hevc,
            (MediaType::Video, FourCc::AV01) => Codec::Av1,
            (MediaType::Video, FourCc::VP09) => Codec::Vp9,
            (MediaType::Video, FourCc::VP08) => Codec::Vp8,
            (MediaType::Video, other) => Codec::UnknownVideoFourCc(other),
            (MediaType::Audio, FourCc::OPUS) => Codec::Opus,
            (MediaType::Audio, FourCc::FLAC) => Codec::Flac,
            (MediaType::Audio, FourCc::AC3) => Codec::Ac3,
            (MediaType::Audio, FourCc::EC3) => Codec::Eac3,
            (MediaType::Audio, FourCc::MP4A) => Codec::Aac,
            (MediaType::Audio, FourCc::MP3) => Codec::Mp3,
            (MediaType::Audio, other) => Codec::UnknownAudioFourCc(other),
        }
    }

    /// The Enhanced RTMP FourCC of this codec, if it has one.
    pub fn fourcc(self) -> Option<FourCc> {
        Some(match self {
            Codec::Avc => FourCc::AVC1,
            Codec::Hevc => FourCc::HVC1,
            Codec::Av1 => FourCc::AV01,
            Codec::Vp9 => FourCc::VP09,
            Codec::Vp8 => FourCc::VP08,
            Codec::Opus => FourCc::OPUS,
            Codec::Flac => FourCc::FLAC,
            Codec::Ac3 => FourCc::AC3,
            Codec::Eac3 => FourCc::EC3,
            Codec::Aac => FourCc::MP4A,
            Codec::Mp3 => FourCc::MP3,
            Codec::UnknownVideoFourCc(f) | Codec::UnknownAudioFourCc(f) => f,
            _ => return None,
        })
    }

    /// The legacy FLV video codec id of this codec, if it has one (AVC: 7, HEVC: 12).
    pub fn video_codec_id(self) -> Option<u8> {
        Some(match self {
            Codec::SorensonH263 => 2,
            Codec::ScreenVideo => 3,
            Codec::Vp6 => 4,
            Codec::Vp6Alpha => 5,
            Codec::ScreenVideo2 => 6,
            Codec::Avc => 7,
            Codec::H263 => 8,
            Codec::Mpeg4Part2 => 9,
            Codec::Hevc => 12,
            Codec::UnknownVideo(id) => id,
            _ => return None,
        })
    }

    /// The legacy FLV sound format of this codec, if it has one (MP3: 2, AAC: 10).
    pub fn sound_format(self) -> Option<u8> {
        Some(match self {
            Codec::PcmPlatformEndian => 0,
            Codec::Adpcm => 1,
            Codec::Mp3 => 2,
            Codec::PcmLittleEndian => 3,
            Codec::Nellymoser16kMono => 4,
            Codec::Nellymoser8kMono => 5,
            Codec::Nellymoser => 6,
            Codec::G711ALaw => 7,
            Codec::G711MuLaw => 8,
            Codec::Aac => 10,
            Codec::Speex => 11,
            Codec::Mp3_8k => 14,
            Codec::DeviceSpecific => 15,
            Codec::UnknownAudio(id) => id,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in 0..16 {
            assert_eq!(Codec::from_video_codec_id(id).video_codec_id(), Some(id));
            assert_eq!(Codec::from_video_codec_id(id).media(), MediaType::Video);
            if id != 9 {
                assert_eq!(Codec::from_sound_format(id).sound_format(), Some(id));
                assert_eq!(Codec::from_sound_format(id).media(), MediaType::Audio);
            }
        }
        for f in [
            FourCc::AVC1,
            FourCc::HVC1,
            FourCc::AV01,
            FourCc::VP09,
            FourCc::VP08,
        ] {
            assert_eq!(Codec::from_fourcc(MediaType::Video, f).fourcc(), Some(f));
        }
        for f in [
            FourCc::OPUS,
            FourCc::FLAC,
            FourCc::AC3,
            FourCc::EC3,
            FourCc::MP4A,
            FourCc::MP3,
        ] {
            assert_eq!(Codec::from_fourcc(MediaType::Audio, f).fourcc(), Some(f));
        }
    }
}
