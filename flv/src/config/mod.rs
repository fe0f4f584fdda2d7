//! Codec configuration records: parse, serialize, and the RFC 6381 codec string.
//!
//! One type per record, as FLV and Enhanced FLV carry them in sequence-header tags
//! (and MP4 in the matching sample-entry boxes):
//!
//! | type | record | specification | codec string |
//! |---|---|---|---|
//! | [`AvcConfig`] | `AVCDecoderConfigurationRecord` (`avcC`) | ISO/IEC 14496-15 5.3.3 | `avc1.64000d` |
//! | [`HevcConfig`] | `HEVCDecoderConfigurationRecord` (`hvcC`) | ISO/IEC 14496-15 8.3.3 | `hvc1.1.6.L60.90` |
//! | [`Av1Config`] | `AV1CodecConfigurationRecord` (`av1C`) | AV1-ISOBMFF 2.3 | `av01.0.00M.08` |
//! | [`Vp9Config`] | `VPCodecConfigurationRecord` (`vpcC` v1) | VP-codec-ISOBMFF 2.2 | `vp09.00.20.08` |
//! | [`AacConfig`] | `AudioSpecificConfig` | ISO/IEC 14496-3 1.6.2.1 | `mp4a.40.2` |
//! | [`OpusHead`] | ID header (`dOps` body in Ogg layout) | RFC 7845 5.1 | `opus` |
//! | [`FlacStreamInfo`] | `METADATA_BLOCK_STREAMINFO` | RFC 9639 8.2 | `fLaC` |
//!
//! Each has `parse(&[u8]) -> Result<Self, ConfigError>`, `write(&self, &mut BytesMut)`
//! and `to_bytes(&self) -> Bytes` (which give back the parsed bytes exactly when they
//! were canonical: reserved bits set as the specification says; unknown trailing
//! bytes are kept and written back), `codec_string(&self) -> String`, and accessors
//! for what HLS playlists and probes need. [`CodecConfig`] wraps them all.
//!
//! Parsers are bounded: every length and count is checked against the bytes that
//! are actually there before anything is read or allocated, and no input makes
//! them panic (they are fuzzed). H.264 SPS are parsed by `h264-reader`; everything
//! else by the small parsers here.
//!
//! ```
//! use flv::config::{AacConfig, CodecConfig, ConfigKind};
//!
//! // The AudioSpecificConfig FFmpeg's AAC encoder writes for 44.1 kHz stereo LC.
//! let asc = [0x12, 0x10, 0x56, 0xe5, 0x00];
//! let config = AacConfig::parse(&asc)?;
//! assert_eq!(config.codec_string(), "mp4a.40.2");
//! assert_eq!((config.sample_rate(), config.channels()), (44_100, 2));
//! assert_eq!(&config.to_bytes()[..], &asc);
//!
//! let any = CodecConfig::parse(ConfigKind::Aac, &asc)?;
//! assert_eq!(any.codec_string(), "mp4a.40.2");
//! # Ok::<(), flv::config::ConfigError>(())
//! ```

mod aac;
mod av1;
mod avc;
pub(crate) mod bits;
pub use bits::unescape_rbsp;
mod error;
mod flac;
mod hevc;
mod opus;
mod vp9;

use bytes::{Bytes, BytesMut};

pub use aac::AacConfig;
pub use av1::{Av1Config, Av1SequenceHeader, ColorConfig};
pub use avc::AvcConfig;
pub use error::ConfigError;
pub use flac::FlacStreamInfo;
pub use hevc::{HevcConfig, HevcNalArray};
pub use opus::{OpusChannelMapping, OpusHead};
pub use vp9::Vp9Config;

/// A frame rate as a fraction, reduced to lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    /// Frames per `den` seconds.
    pub num: u32,
    /// Seconds.
    pub den: u32,
}

impl FrameRate {
    /// `num / den` reduced; `None` when either is zero.
    ///
    /// ```
    /// let r = flv::config::FrameRate::new(60_000, 2_002).unwrap();
    /// assert_eq!((r.num, r.den), (30_000, 1_001));
    /// ```
    pub fn new(num: u64, den: u64) -> Option<FrameRate> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        let (num, den) = (num / g, den / g);
        Some(FrameRate {
            num: u32::try_from(num).ok()?,
            den: u32::try_from(den).ok()?,
        })
    }

    /// The rate as a float, for display.
    pub fn as_f64(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// What a video configuration says about the pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct VideoInfo {
    /// Displayed width in luma samples, after conformance-window cropping.
    pub width: u32,
    /// Displayed height in luma samples, after cropping.
    pub height: u32,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// Bits per luma sample.
    pub bit_depth_luma: u8,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u8,
    /// Frame rate, when the bitstream signals one (H.264 VUI timing, HEVC VUI/VPS
    /// timing, AV1 `timing_info` with `equal_picture_interval`).
    pub frame_rate: Option<FrameRate>,
}

/// Which record a [`CodecConfig::parse`] call should expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigKind {
    /// H.264 `avcC`.
    Avc,
    /// H.265 `hvcC`.
    Hevc,
    /// AV1 `av1C`.
    Av1,
    /// VP9 `vpcC` (version 1).
    Vp9,
    /// AAC `AudioSpecificConfig`.
    Aac,
    /// Opus `OpusHead`.
    Opus,
    /// FLAC `STREAMINFO`.
    Flac,
}

impl ConfigKind {
    /// The kind for an Enhanced RTMP/FLV (or MP4 sample entry) FourCC: `avc1`, `hvc1`,
    /// `av01`, `vp09`, `mp4a`, `Opus`, `fLaC`.
    ///
    /// ```
    /// use flv::config::ConfigKind;
    /// assert_eq!(ConfigKind::from_fourcc(*b"hvc1"), Some(ConfigKind::Hevc));
    /// assert_eq!(ConfigKind::from_fourcc(*b"ac-3"), None);
    /// ```
    pub fn from_fourcc(fourcc: [u8; 4]) -> Option<ConfigKind> {
        Some(match &fourcc {
            b"avc1" => ConfigKind::Avc,
            b"hvc1" => ConfigKind::Hevc,
            b"av01" => ConfigKind::Av1,
            b"vp09" => ConfigKind::Vp9,
            b"mp4a" => ConfigKind::Aac,
            b"Opus" => ConfigKind::Opus,
            b"fLaC" => ConfigKind::Flac,
            _ => return None,
        })
    }

    /// The Enhanced RTMP/FLV FourCC of this kind.
    pub fn fourcc(self) -> [u8; 4] {
        *match self {
            ConfigKind::Avc => b"avc1",
            ConfigKind::Hevc => b"hvc1",
            ConfigKind::Av1 => b"av01",
            ConfigKind::Vp9 => b"vp09",
            ConfigKind::Aac => b"mp4a",
            ConfigKind::Opus => b"Opus",
            ConfigKind::Flac => b"fLaC",
        }
    }
}

/// Any of the configuration records of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecConfig {
    /// H.264.
    Avc(AvcConfig),
    /// H.265.
    Hevc(HevcConfig),
    /// AV1.
    Av1(Av1Config),
    /// VP9.
    Vp9(Vp9Config),
    /// AAC.
    Aac(AacConfig),
    /// Opus.
    Opus(OpusHead),
    /// FLAC.
    Flac(FlacStreamInfo),
}

impl CodecConfig {
    /// Parses `data` as the record `kind` names.
    pub fn parse(kind: ConfigKind, data: &[u8]) -> Result<CodecConfig, ConfigError> {
        Ok(match kind {
            ConfigKind::Avc => CodecConfig::Avc(AvcConfig::parse(data)?),
            ConfigKind::Hevc => CodecConfig::Hevc(HevcConfig::parse(data)?),
            ConfigKind::Av1 => CodecConfig::Av1(Av1Config::parse(data)?),
            ConfigKind::Vp9 => CodecConfig::Vp9(Vp9Config::parse(data)?),
            ConfigKind::Aac => CodecConfig::Aac(AacConfig::parse(data)?),
            ConfigKind::Opus => CodecConfig::Opus(OpusHead::parse(data)?),
            ConfigKind::Flac => CodecConfig::Flac(FlacStreamInfo::parse(data)?),
        })
    }

    /// Which record this is.
    pub fn kind(&self) -> ConfigKind {
        match self {
            CodecConfig::Avc(_) => ConfigKind::Avc,
            CodecConfig::Hevc(_) => ConfigKind::Hevc,
            CodecConfig::Av1(_) => ConfigKind::Av1,
            CodecConfig::Vp9(_) => ConfigKind::Vp9,
            CodecConfig::Aac(_) => ConfigKind::Aac,
            CodecConfig::Opus(_) => ConfigKind::Opus,
            CodecConfig::Flac(_) => ConfigKind::Flac,
        }
    }

    /// The RFC 6381 codec string (HLS `CODECS`).
    pub fn codec_string(&self) -> String {
        match self {
            CodecConfig::Avc(c) => c.codec_string(),
            CodecConfig::Hevc(c) => c.codec_string(),
            CodecConfig::Av1(c) => c.codec_string(),
            CodecConfig::Vp9(c) => c.codec_string(),
            CodecConfig::Aac(c) => c.codec_string(),
            CodecConfig::Opus(c) => c.codec_string(),
            CodecConfig::Flac(c) => c.codec_string(),
        }
    }

    /// Appends the serialized record to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        match self {
            CodecConfig::Avc(c) => c.write(out),
            CodecConfig::Hevc(c) => c.write(out),
            CodecConfig::Av1(c) => c.write(out),
            CodecConfig::Vp9(c) => c.write(out),
            CodecConfig::Aac(c) => c.write(out),
            CodecConfig::Opus(c) => c.write(out),
            CodecConfig::Flac(c) => c.write(out),
        }
    }

    /// The serialized record.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// Picture size, bit depth, chroma format and frame rate, for video records
    /// that carry them (VP9's `vpcC` has no picture size; AV1's only when it holds
    /// a sequence header).
    pub fn video_info(&self) -> Option<VideoInfo> {
        match self {
            CodecConfig::Avc(c) => Some(c.video_info()),
            CodecConfig::Hevc(c) => Some(c.video_info()),
            CodecConfig::Av1(c) => c.video_info(),
            _ => None,
        }
    }

    /// Output sample rate in Hz, for audio records.
    pub fn sample_rate(&self) -> Option<u32> {
        match self {
            CodecConfig::Aac(c) => Some(c.sample_rate()),
            CodecConfig::Opus(c) => Some(c.sample_rate()),
            CodecConfig::Flac(c) => Some(c.sample_rate),
            _ => None,
        }
    }

    /// Output channel count, for audio records.
    pub fn channels(&self) -> Option<u8> {
        match self {
            CodecConfig::Aac(c) => Some(c.channels()),
            CodecConfig::Opus(c) => Some(c.channel_count),
            CodecConfig::Flac(c) => Some(c.channels),
            _ => None,
        }
    }
}

/// Appends `nal` with a 16-bit length prefix (callers have checked the length).
fn put_nal16(out: &mut BytesMut, nal: &[u8]) {
    use bytes::BufMut;
    out.put_u16(nal.len() as u16);
    out.put_slice(nal);
}
