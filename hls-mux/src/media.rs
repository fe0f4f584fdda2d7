//! The input: frames on the 90 kHz clock and the configuration of each track.

use bytes::Bytes;
use flv::config::{
    AacConfig, Av1Config, AvcConfig, FlacStreamInfo, HevcConfig, OpusHead, Vp9Config,
};

/// Ticks per second of every hls-mux timestamp: the MPEG-TS 90 kHz clock
/// (1 ms is exactly 90 ticks, so FLV/RTMP millisecond timestamps convert
/// without rounding).
pub const CLOCK: u32 = 90_000;

/// Video or audio: the `flv` crate's type, so a frame's kind has one name from
/// the FLV tag to the segment.
pub use flv::MediaType as MediaKind;

/// One coded frame of a track.
///
/// Timestamps are on the [`CLOCK`] (90 kHz) and may be any `i64`: writers
/// take them as they come (the segmenter keeps its output monotonic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Which track.
    pub media: MediaKind,
    /// Decoding timestamp, 90 kHz ticks.
    pub dts: i64,
    /// Presentation timestamp, 90 kHz ticks (`dts` for audio).
    pub pts: i64,
    /// A random access point (IDR/IRAP, AV1 key frame...). Every audio frame
    /// is one.
    pub key: bool,
    /// The payload as an MP4 sample holds it: AVC/HEVC length-prefixed NAL
    /// units (the length size from the configuration record), AV1
    /// low-overhead OBUs, a VP9 frame, a raw AAC frame (no ADTS), an MP3
    /// frame, an Opus packet, a FLAC frame.
    pub data: Bytes,
}

impl Frame {
    /// Milliseconds (FLV/RTMP) to 90 kHz ticks.
    pub fn ticks_from_ms(ms: i64) -> i64 {
        ms.saturating_mul(90)
    }
}

/// MP3 (MPEG-1/2/2.5 audio layer III) has no configuration record: the
/// facts a muxer needs come from a frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mp3Config {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u8,
    /// 1 for MPEG-1, 2 for MPEG-2 and MPEG-2.5 (which change the TS stream type).
    pub mpeg_version: u8,
}

impl Mp3Config {
    /// The configuration from the 4-byte header of an MP3 frame; `None` if
    /// `frame` does not start with a valid layer III header.
    ///
    /// ```
    /// // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo.
    /// let config = hls_mux::Mp3Config::from_frame(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
    /// assert_eq!((config.sample_rate, config.channels, config.mpeg_version), (44_100, 2, 1));
    /// ```
    pub fn from_frame(frame: &[u8]) -> Option<Mp3Config> {
        let &[b0, b1, b2, b3, ..] = frame else {
            return None;
        };
        // 11 sync bits, then version (2 bits), layer (2 bits: 01 is layer III).
        if b0 != 0xFF || b1 & 0xE0 != 0xE0 || (b1 >> 1) & 3 != 1 {
            return None;
        }
        let (mpeg_version, rates) = match (b1 >> 3) & 3 {
            3 => (1, [44_100, 48_000, 32_000]),
            2 => (2, [22_050, 24_000, 16_000]),
            0 => (2, [11_025, 12_000, 8_000]),
            _ => return None,
        };
        let sample_rate = *rates.get(usize::from((b2 >> 2) & 3))?;
        let channels = if b3 >> 6 == 3 { 1 } else { 2 };
        Some(Mp3Config {
            sample_rate,
            channels,
            mpeg_version,
        })
    }
}

/// The decoder configuration of one track.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackConfig {
    /// H.264/AVC (`avcC`).
    Avc(AvcConfig),
    /// H.265/HEVC (`hvcC`).
    Hevc(HevcConfig),
    /// AV1 (`av1C`).
    Av1(Av1Config),
    /// VP9 (`vpcC`).
    Vp9(Vp9Config),
    /// AAC (AudioSpecificConfig).
    Aac(AacConfig),
    /// MP3.
    Mp3(Mp3Config),
    /// Opus (OpusHead).
    Opus(OpusHead),
    /// FLAC (STREAMINFO).
    Flac(FlacStreamInfo),
}

impl TrackConfig {
    /// Which track kind the codec belongs to.
    pub fn media(&self) -> MediaKind {
        match self {
            TrackConfig::Avc(_)
            | TrackConfig::Hevc(_)
            | TrackConfig::Av1(_)
            | TrackConfig::Vp9(_) => MediaKind::Video,
            _ => MediaKind::Audio,
        }
    }

    /// The RFC 6381 codec string for HLS `CODECS` (as FFmpeg writes it).
    pub fn codec_string(&self) -> String {
        match self {
            TrackConfig::Avc(c) => c.codec_string(),
            TrackConfig::Hevc(c) => c.codec_string(),
            TrackConfig::Av1(c) => c.codec_string(),
            TrackConfig::Vp9(c) => c.codec_string(),
            TrackConfig::Aac(c) => c.codec_string(),
            TrackConfig::Mp3(_) => "mp4a.40.34".to_owned(),
            TrackConfig::Opus(c) => c.codec_string(),
            TrackConfig::Flac(c) => c.codec_string(),
        }
    }

    /// Width and height of a video track, when the configuration says.
    pub fn resolution(&self) -> Option<(u32, u32)> {
        match self {
            TrackConfig::Avc(c) => Some((c.width(), c.height())),
            TrackConfig::Hevc(c) => Some((c.width(), c.height())),
            TrackConfig::Av1(c) => Some((c.width()?, c.height()?)),
            _ => None,
        }
        .filter(|&(w, h)| w > 0 && h > 0)
    }

    /// Sample rate of an audio track, Hz.
    pub fn sample_rate(&self) -> Option<u32> {
        match self {
            TrackConfig::Aac(c) => Some(c.sample_rate()),
            TrackConfig::Mp3(c) => Some(c.sample_rate),
            TrackConfig::Opus(c) => Some(c.sample_rate()),
            TrackConfig::Flac(c) => Some(c.sample_rate),
            _ => None,
        }
        .filter(|&rate| rate > 0)
    }

    /// Channel count of an audio track.
    pub fn channels(&self) -> Option<u8> {
        match self {
            TrackConfig::Aac(c) => Some(c.channels()),
            TrackConfig::Mp3(c) => Some(c.channels),
            TrackConfig::Opus(c) => Some(c.channel_count),
            TrackConfig::Flac(c) => Some(c.channels),
            _ => None,
        }
    }
}

/// The tracks of a stream: at most one video and one audio, at least one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tracks {
    /// The video track.
    pub video: Option<TrackConfig>,
    /// The audio track.
    pub audio: Option<TrackConfig>,
}

impl Tracks {
    /// The configuration of `media`'s track.
    pub fn get(&self, media: MediaKind) -> Option<&TrackConfig> {
        match media {
            MediaKind::Video => self.video.as_ref(),
            MediaKind::Audio => self.audio.as_ref(),
        }
    }

    /// `media`'s track alone (a single-track rendition of these tracks);
    /// `None` when there is no such track.
    pub fn only(&self, media: MediaKind) -> Option<Tracks> {
        let config = self.get(media)?.clone();
        Some(match media {
            MediaKind::Video => Tracks {
                video: Some(config),
                audio: None,
            },
            MediaKind::Audio => Tracks {
                video: None,
                audio: Some(config),
            },
        })
    }

    /// The `CODECS` attribute value: the codec strings of the tracks present,
    /// video first, comma-separated.
    pub fn codecs(&self) -> String {
        [&self.video, &self.audio]
            .into_iter()
            .flatten()
            .map(TrackConfig::codec_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}
