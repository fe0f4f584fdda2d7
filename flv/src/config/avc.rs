//! H.264 `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 5.3.3.1), the body of an
//! FLV AVC sequence header and of the MP4 `avcC` box.

use bytes::{BufMut, Bytes, BytesMut};
use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::rbsp::{decode_nal, BitReader};

use super::bits::ByteReader;
use super::{put_nal16, ConfigError, FrameRate, VideoInfo};

const RECORD: &str = "avcC";

/// An H.264 decoder configuration record: SPS/PPS lists plus what the first SPS says
/// (parsed by `h264-reader`).
///
/// ```
/// # fn main() -> Result<(), flv::config::ConfigError> {
/// // A 320x240 Baseline SPS (x264) and its PPS, in an avcC.
/// let avcc = [
///     0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05,
///     0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5,
///     0x0a, 0xa8, 0x01, 0x00, 0x04, 0x68, 0xce, 0x0f, 0xc8,
/// ];
/// let config = flv::config::AvcConfig::parse(&avcc)?;
/// assert_eq!(config.codec_string(), "avc1.42c00d");
/// let info = config.video_info();
/// assert_eq!((info.width, info.height), (320, 240));
/// assert_eq!(info.frame_rate.map(|r| (r.num, r.den)), Some((30, 1)));
/// assert_eq!(&config.to_bytes()[..], &avcc);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    profile_idc: u8,
    profile_compatibility: u8,
    level_idc: u8,
    nal_length_size: u8,
    sps: Vec<Bytes>,
    pps: Vec<Bytes>,
    ext: Option<AvcExt>,
    trailing: Bytes,
    info: VideoInfo,
}

/// The high-profile extension of the record (chroma format, bit depths, SPS
/// extensions), present for profiles 100, 110, 122 and 144 when the writer included it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AvcExt {
    chroma_format_idc: u8,
    bit_depth_luma_minus8: u8,
    bit_depth_chroma_minus8: u8,
    sps_ext: Vec<Bytes>,
}

fn has_ext(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 144)
}

impl AvcConfig {
    /// Parses a record. The first SPS must parse (its size and timing are what
    /// [`video_info`](Self::video_info) reports); bytes after the record's last
    /// field are kept and written back.
    pub fn parse(data: &[u8]) -> Result<AvcConfig, ConfigError> {
        let mut r = ByteReader::new(data, RECORD);
        let version = r.u8("configurationVersion")?;
        if version != 1 {
            return Err(ConfigError::Unsupported {
                record: RECORD,
                field: "configurationVersion",
                offset: 0,
                value: version.into(),
            });
        }
        let profile_idc = r.u8("AVCProfileIndication")?;
        let profile_compatibility = r.u8("profile_compatibility")?;
        let level_idc = r.u8("AVCLevelIndication")?;
        let at = r.pos();
        let b = r.u8("lengthSizeMinusOne")?;
        let nal_length_size = (b & 3) + 1;
        if nal_length_size == 3 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "lengthSizeMinusOne",
                offset: at,
                value: 2,
            });
        }
        let sps_at = r.pos();
        let n = r.u8("numOfSequenceParameterSets")? & 0x1f;
        let sps = read_nals(&mut r, n.into(), "sequenceParameterSetNALUnit")?;
        let n = r.u8("numOfPictureParameterSets")?;
        let pps = read_nals(&mut r, n.into(), "pictureParameterSetNALUnit")?;
        let ext = if has_ext(profile_idc) && r.remaining() > 0 {
            let c = r.u8("chroma_format")?;
            let l = r.u8("bit_depth_luma_minus8")?;
            let ch = r.u8("bit_depth_chroma_minus8")?;
            let n = r.u8("numOfSequenceParameterSetExt")?;
            let sps_ext = read_nals(&mut r, n.into(), "sequenceParameterSetExtNALUnit")?;
            Some(AvcExt {
                chroma_format_idc: c & 3,
                bit_depth_luma_minus8: l & 7,
                bit_depth_chroma_minus8: ch & 7,
                sps_ext,
            })
        } else {
            None
        };
        let trailing = Bytes::copy_from_slice(r.rest());
        let first = sps.first().ok_or(ConfigError::Missing {
            record: RECORD,
            field: "sequenceParameterSetNALUnit",
            offset: sps_at,
        })?;
        // sps_at + 1 (count byte) + 2 (length) is where the first SPS starts.
        let info = sps_info(first, sps_at + 3)?;
        Ok(AvcConfig {
            profile_idc,
            profile_compatibility,
            level_idc,
            nal_length_size,
            sps,
            pps,
            ext,
            trailing,
            info,
        })
    }

    /// Builds the canonical record for these parameter sets: profile, compatibility
    /// and level from the first SPS, 4-byte NAL lengths, and the high-profile
    /// extension (without SPS extensions) when the profile calls for it.
    pub fn new(sps: Vec<Bytes>, pps: Vec<Bytes>) -> Result<AvcConfig, ConfigError> {
        check_nals(&sps, 31, "numOfSequenceParameterSets")?;
        check_nals(&pps, 255, "numOfPictureParameterSets")?;
        let first = sps.first().ok_or(ConfigError::Missing {
            record: RECORD,
            field: "sequenceParameterSetNALUnit",
            offset: 0,
        })?;
        let info = sps_info(first, 0)?;
        let (profile_idc, profile_compatibility, level_idc) = (first[1], first[2], first[3]);
        let ext = has_ext(profile_idc).then(|| AvcExt {
            chroma_format_idc: info.chroma_format_idc & 3,
            bit_depth_luma_minus8: info.bit_depth_luma.saturating_sub(8) & 7,
            bit_depth_chroma_minus8: info.bit_depth_chroma.saturating_sub(8) & 7,
            sps_ext: Vec::new(),
        });
        Ok(AvcConfig {
            profile_idc,
            profile_compatibility,
            level_idc,
            nal_length_size: 4,
            sps,
            pps,
            ext,
            trailing: Bytes::new(),
            info,
        })
    }

    /// Appends the record to `out`, reserved bits set to one.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(1);
        out.put_u8(self.profile_idc);
        out.put_u8(self.profile_compatibility);
        out.put_u8(self.level_idc);
        out.put_u8(0xfc | (self.nal_length_size - 1));
        out.put_u8(0xe0 | self.sps.len() as u8);
        for nal in &self.sps {
            put_nal16(out, nal);
        }
        out.put_u8(self.pps.len() as u8);
        for nal in &self.pps {
            put_nal16(out, nal);
        }
        if let Some(ext) = &self.ext {
            out.put_u8(0xfc | ext.chroma_format_idc);
            out.put_u8(0xf8 | ext.bit_depth_luma_minus8);
            out.put_u8(0xf8 | ext.bit_depth_chroma_minus8);
            out.put_u8(ext.sps_ext.len() as u8);
            for nal in &ext.sps_ext {
                put_nal16(out, nal);
            }
        }
        out.put_slice(&self.trailing);
    }

    /// The serialized record.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// `avc1.PPCCLL`: profile, compatibility flags and level of the record, as two
    /// lowercase hex digits each (as FFmpeg writes it in HLS `CODECS`).
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.profile_compatibility, self.level_idc
        )
    }

    /// `AVCProfileIndication` (`profile_idc`: 66 Baseline, 77 Main, 100 High, ...).
    pub fn profile_idc(&self) -> u8 {
        self.profile_idc
    }

    /// `profile_compatibility` (the SPS constraint-set flags byte).
    pub fn profile_compatibility(&self) -> u8 {
        self.profile_compatibility
    }

    /// `AVCLevelIndication` (`level_idc`, ten times the level: 31 is level 3.1).
    pub fn level_idc(&self) -> u8 {
        self.level_idc
    }

    /// Bytes in each NAL unit length prefix of the samples (1, 2 or 4).
    pub fn nal_length_size(&self) -> u8 {
        self.nal_length_size
    }

    /// The sequence parameter sets (NAL units with header, no length prefix).
    pub fn sps(&self) -> &[Bytes] {
        &self.sps
    }

    /// The picture parameter sets.
    pub fn pps(&self) -> &[Bytes] {
        &self.pps
    }

    /// The SPS extension NAL units of the high-profile extension, if any.
    pub fn sps_ext(&self) -> &[Bytes] {
        self.ext.as_ref().map_or(&[], |e| &e.sps_ext)
    }

    /// Whether the record carries the high-profile extension fields.
    pub fn has_high_profile_ext(&self) -> bool {
        self.ext.is_some()
    }

    /// Bytes after the last field of the record, kept verbatim.
    pub fn trailing(&self) -> &Bytes {
        &self.trailing
    }

    /// Size, chroma format, bit depth and frame rate from the first SPS.
    pub fn video_info(&self) -> VideoInfo {
        self.info
    }

    /// Displayed width, after cropping.
    pub fn width(&self) -> u32 {
        self.info.width
    }

    /// Displayed height, after cropping.
    pub fn height(&self) -> u32 {
        self.info.height
    }

    /// The frame rate the SPS VUI timing signals (`time_scale / (2 *
    /// num_units_in_tick)`), if it does.
    pub fn frame_rate(&self) -> Option<FrameRate> {
        self.info.frame_rate
    }
}

fn check_nals(nals: &[Bytes], max: usize, field: &'static str) -> Result<(), ConfigError> {
    if nals.len() > max {
        return Err(ConfigError::TooLarge {
            record: RECORD,
            field,
            value: nals.len() as u64,
            limit: max as u64,
        });
    }
    for nal in nals {
        if nal.len() > usize::from(u16::MAX) {
            return Err(ConfigError::TooLarge {
                record: RECORD,
                field: "NAL unit length",
                value: nal.len() as u64,
                limit: u16::MAX.into(),
            });
        }
    }
    Ok(())
}

/// Reads `n` 16-bit-length-prefixed NAL units. Grows only as units actually
/// arrive, so a count larger than the input cannot allocate.
fn read_nals(
    r: &mut ByteReader<'_>,
    n: usize,
    field: &'static str,
) -> Result<Vec<Bytes>, ConfigError> {
    let mut out = Vec::new();
    for _ in 0..n {
        let len = r.u16(field)?;
        out.push(Bytes::copy_from_slice(r.take(len.into(), field)?));
    }
    Ok(out)
}

/// Parses an SPS NAL unit (with its one-byte header) starting at `offset`.
fn sps_info(nal: &[u8], offset: usize) -> Result<VideoInfo, ConfigError> {
    if nal.len() < 4 {
        return Err(ConfigError::Truncated {
            record: RECORD,
            field: "seq_parameter_set_rbsp",
            offset,
            needed: 4 - nal.len(),
        });
    }
    if nal[0] & 0x1f != 7 {
        return Err(ConfigError::InvalidValue {
            record: RECORD,
            field: "SPS nal_unit_type",
            offset,
            value: u64::from(nal[0] & 0x1f),
        });
    }
    let malformed = |reason: String| ConfigError::Malformed {
        record: RECORD,
        field: "seq_parameter_set_rbsp",
        offset,
        reason,
    };
    let rbsp = decode_nal(nal).map_err(|e| malformed(e.to_string()))?;
    let sps = SeqParameterSet::from_bits(BitReader::new(&rbsp[..]))
        .map_err(|e| malformed(format!("{e:?}")))?;
    let (width, height) = sps
        .pixel_dimensions()
        .map_err(|e| malformed(format!("{e:?}")))?;
    let chroma = &sps.chroma_info;
    let frame_rate = sps
        .vui_parameters
        .as_ref()
        .and_then(|v| v.timing_info.as_ref())
        .and_then(|t| FrameRate::new(t.time_scale.into(), 2 * u64::from(t.num_units_in_tick)));
    Ok(VideoInfo {
        width,
        height,
        chroma_format_idc: chroma.chroma_format.to_u32().min(3) as u8,
        bit_depth_luma: chroma.bit_depth_luma_minus8.saturating_add(8),
        bit_depth_chroma: chroma.bit_depth_chroma_minus8.saturating_add(8),
        frame_rate,
    })
}
