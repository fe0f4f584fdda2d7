//! H.265 `HEVCDecoderConfigurationRecord` (ISO/IEC 14496-15 8.3.3.1), the body of
//! an Enhanced FLV `hvc1` sequence start and of the MP4 `hvcC` box, with a small SPS
//! parser (H.265 7.3.2.2) for picture size, chroma format and bit depth.

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::{unescape_rbsp, BitReader, ByteReader};
use super::{put_nal16, ConfigError, FrameRate, VideoInfo};

const RECORD: &str = "hvcC";
const SPS: &str = "hvcC SPS";

/// NAL unit types of the parameter sets.
const VPS_NUT: u8 = 32;
const SPS_NUT: u8 = 33;
const PPS_NUT: u8 = 34;

/// One array of the record: NAL units of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcNalArray {
    /// `array_completeness`: all NAL units of this type are in the array (none in
    /// the samples).
    pub completeness: bool,
    /// `NAL_unit_type` (32 VPS, 33 SPS, 34 PPS, 39/40 SEI).
    pub nal_unit_type: u8,
    /// The NAL units (with their two-byte header, without a length prefix).
    pub nal_units: Vec<Bytes>,
}

/// An H.265 decoder configuration record.
///
/// Header fields are kept as found; [`video_info`](Self::video_info) comes from the
/// first SPS in the arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    general_profile_space: u8,
    general_tier_flag: bool,
    general_profile_idc: u8,
    general_profile_compatibility_flags: u32,
    general_constraint_indicator_flags: u64,
    general_level_idc: u8,
    min_spatial_segmentation_idc: u16,
    parallelism_type: u8,
    chroma_format_idc: u8,
    bit_depth_luma_minus8: u8,
    bit_depth_chroma_minus8: u8,
    avg_frame_rate: u16,
    constant_frame_rate: u8,
    num_temporal_layers: u8,
    temporal_id_nested: bool,
    nal_length_size: u8,
    arrays: Vec<HevcNalArray>,
    trailing: Bytes,
    info: VideoInfo,
}

impl HevcConfig {
    /// Parses a record. It must hold an SPS that parses up to the bit depths.
    pub fn parse(data: &[u8]) -> Result<HevcConfig, ConfigError> {
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
        let b = r.u8("general_profile_idc")?;
        let general_profile_compatibility_flags = r.u32("general_profile_compatibility_flags")?;
        let general_constraint_indicator_flags = r.u48("general_constraint_indicator_flags")?;
        let general_level_idc = r.u8("general_level_idc")?;
        let min_spatial_segmentation_idc = r.u16("min_spatial_segmentation_idc")? & 0x0fff;
        let parallelism_type = r.u8("parallelismType")? & 3;
        let chroma_format_idc = r.u8("chromaFormat")? & 3;
        let bit_depth_luma_minus8 = r.u8("bitDepthLumaMinus8")? & 7;
        let bit_depth_chroma_minus8 = r.u8("bitDepthChromaMinus8")? & 7;
        let avg_frame_rate = r.u16("avgFrameRate")?;
        let at = r.pos();
        let flags = r.u8("lengthSizeMinusOne")?;
        let nal_length_size = (flags & 3) + 1;
        if nal_length_size == 3 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "lengthSizeMinusOne",
                offset: at,
                value: 2,
            });
        }
        let num_arrays = r.u8("numOfArrays")?;
        let mut arrays = Vec::new();
        let mut sps_loc = None;
        for _ in 0..num_arrays {
            let t = r.u8("NAL_unit_type")?;
            let n = r.u16("numNalus")?;
            let mut nal_units = Vec::new();
            for _ in 0..n {
                let len = r.u16("nalUnitLength")?;
                let at = r.pos();
                let nal = r.take(len.into(), "nalUnit")?;
                if t & 0x3f == SPS_NUT && sps_loc.is_none() {
                    sps_loc = Some((nal, at));
                }
                nal_units.push(Bytes::copy_from_slice(nal));
            }
            arrays.push(HevcNalArray {
                completeness: t & 0x80 != 0,
                nal_unit_type: t & 0x3f,
                nal_units,
            });
        }
        let end = r.pos();
        let trailing = Bytes::copy_from_slice(r.rest());
        let (sps, sps_at) = sps_loc.ok_or(ConfigError::Missing {
            record: RECORD,
            field: "SPS NAL unit",
            offset: end,
        })?;
        let parsed = parse_sps(sps, sps_at)?;
        Ok(HevcConfig {
            general_profile_space: b >> 6,
            general_tier_flag: b & 0x20 != 0,
            general_profile_idc: b & 0x1f,
            general_profile_compatibility_flags,
            general_constraint_indicator_flags,
            general_level_idc,
            min_spatial_segmentation_idc,
            parallelism_type,
            chroma_format_idc,
            bit_depth_luma_minus8,
            bit_depth_chroma_minus8,
            avg_frame_rate,
            constant_frame_rate: flags >> 6,
            num_temporal_layers: (flags >> 3) & 7,
            temporal_id_nested: flags & 4 != 0,
            nal_length_size,
            arrays,
            trailing,
            info: parsed.info,
        })
    }

    /// Builds the canonical record for these parameter sets (each array complete),
    /// header fields from the first SPS: profile/tier/level, chroma format, bit
    /// depths, temporal layers; 4-byte NAL lengths; no segmentation/parallelism
    /// or frame-rate hints.
    pub fn new(
        vps: Vec<Bytes>,
        sps: Vec<Bytes>,
        pps: Vec<Bytes>,
    ) -> Result<HevcConfig, ConfigError> {
        for nal in vps.iter().chain(&sps).chain(&pps) {
            if nal.len() > usize::from(u16::MAX) {
                return Err(ConfigError::TooLarge {
                    record: RECORD,
                    field: "nalUnitLength",
                    value: nal.len() as u64,
                    limit: u16::MAX.into(),
                });
            }
        }
        for list in [&vps, &sps, &pps] {
            if list.len() > usize::from(u16::MAX) {
                return Err(ConfigError::TooLarge {
                    record: RECORD,
                    field: "numNalus",
                    value: list.len() as u64,
                    limit: u16::MAX.into(),
                });
            }
        }
        let first = sps.first().ok_or(ConfigError::Missing {
            record: RECORD,
            field: "SPS NAL unit",
            offset: 0,
        })?;
        let p = parse_sps(first, 0)?;
        let arrays = [(VPS_NUT, vps), (SPS_NUT, sps), (PPS_NUT, pps)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(t, nal_units)| HevcNalArray {
                completeness: true,
                nal_unit_type: t,
                nal_units,
            })
            .collect();
        Ok(HevcConfig {
            general_profile_space: p.profile_space,
            general_tier_flag: p.tier_flag,
            general_profile_idc: p.profile_idc,
            general_profile_compatibility_flags: p.compatibility_flags,
            general_constraint_indicator_flags: p.constraint_flags,
            general_level_idc: p.level_idc,
            min_spatial_segmentation_idc: 0,
            parallelism_type: 0,
            chroma_format_idc: p.info.chroma_format_idc,
            bit_depth_luma_minus8: p.info.bit_depth_luma.saturating_sub(8) & 7,
            bit_depth_chroma_minus8: p.info.bit_depth_chroma.saturating_sub(8) & 7,
            avg_frame_rate: 0,
            constant_frame_rate: 0,
            num_temporal_layers: p.max_sub_layers,
            temporal_id_nested: p.temporal_id_nesting,
            nal_length_size: 4,
            arrays,
            trailing: Bytes::new(),
            info: p.info,
        })
    }

    /// Appends the record to `out`, reserved bits set to one.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(1);
        out.put_u8(
            (self.general_profile_space << 6)
                | (u8::from(self.general_tier_flag) << 5)
                | self.general_profile_idc,
        );
        out.put_u32(self.general_profile_compatibility_flags);
        out.put_slice(&self.general_constraint_indicator_flags.to_be_bytes()[2..]);
        out.put_u8(self.general_level_idc);
        out.put_u16(0xf000 | self.min_spatial_segmentation_idc);
        out.put_u8(0xfc | self.parallelism_type);
        out.put_u8(0xfc | self.chroma_format_idc);
        out.put_u8(0xf8 | self.bit_depth_luma_minus8);
        out.put_u8(0xf8 | self.bit_depth_chroma_minus8);
        out.put_u16(self.avg_frame_rate);
        out.put_u8(
            (self.constant_frame_rate << 6)
                | (self.num_temporal_layers << 3)
                | (u8::from(self.temporal_id_nested) << 2)
                | (self.nal_length_size - 1),
        );
        out.put_u8(self.arrays.len() as u8);
        for a in &self.arrays {
            out.put_u8((u8::from(a.completeness) << 7) | a.nal_unit_type);
            out.put_u16(a.nal_units.len() as u16);
            for nal in &a.nal_units {
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

    /// `hvc1.[A|B|C]P.C.TL.B0[.B1...]` (ISO/IEC 14496-15 E.3): profile space and
    /// profile, the compatibility flags in reverse bit order (hex), tier and level,
    /// then the constraint bytes in hex with trailing zero bytes left out, as FFmpeg
    /// writes it (`hvc1.1.6.L60.90`). The sample entry is assumed to be `hvc1`
    /// (parameter sets out of band), which is what the record is for.
    pub fn codec_string(&self) -> String {
        let space = ["", "A", "B", "C"][usize::from(self.general_profile_space & 3)];
        let mut s = format!(
            "hvc1.{space}{}.{:X}.{}{}",
            self.general_profile_idc,
            self.general_profile_compatibility_flags.reverse_bits(),
            if self.general_tier_flag { 'H' } else { 'L' },
            self.general_level_idc
        );
        let bytes = &self.general_constraint_indicator_flags.to_be_bytes()[2..];
        let keep = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for b in &bytes[..keep] {
            s.push_str(&format!(".{b:X}"));
        }
        s
    }

    /// `general_profile_space` (0 for every profile in use).
    pub fn general_profile_space(&self) -> u8 {
        self.general_profile_space
    }

    /// `general_tier_flag`: `true` for the High tier.
    pub fn general_tier_flag(&self) -> bool {
        self.general_tier_flag
    }

    /// `general_profile_idc` (1 Main, 2 Main 10, 3 Main Still Picture, 4 RExt, ...).
    pub fn general_profile_idc(&self) -> u8 {
        self.general_profile_idc
    }

    /// `general_profile_compatibility_flags`, flag 0 in the most significant bit.
    pub fn general_profile_compatibility_flags(&self) -> u32 {
        self.general_profile_compatibility_flags
    }

    /// The 48 `general_constraint_indicator_flags`, in the low 48 bits.
    pub fn general_constraint_indicator_flags(&self) -> u64 {
        self.general_constraint_indicator_flags
    }

    /// `general_level_idc` (thirty times the level: 93 is level 3.1).
    pub fn general_level_idc(&self) -> u8 {
        self.general_level_idc
    }

    /// `chromaFormat` as the record states it.
    pub fn chroma_format_idc(&self) -> u8 {
        self.chroma_format_idc
    }

    /// Luma bit depth as the record states it.
    pub fn bit_depth_luma(&self) -> u8 {
        self.bit_depth_luma_minus8 + 8
    }

    /// Chroma bit depth as the record states it.
    pub fn bit_depth_chroma(&self) -> u8 {
        self.bit_depth_chroma_minus8 + 8
    }

    /// `min_spatial_segmentation_idc`.
    pub fn min_spatial_segmentation_idc(&self) -> u16 {
        self.min_spatial_segmentation_idc
    }

    /// `parallelismType`.
    pub fn parallelism_type(&self) -> u8 {
        self.parallelism_type
    }

    /// `avgFrameRate` in frames per 256 s (0: unspecified).
    pub fn avg_frame_rate(&self) -> u16 {
        self.avg_frame_rate
    }

    /// `constantFrameRate`.
    pub fn constant_frame_rate(&self) -> u8 {
        self.constant_frame_rate
    }

    /// `numTemporalLayers`.
    pub fn num_temporal_layers(&self) -> u8 {
        self.num_temporal_layers
    }

    /// `temporalIdNested`.
    pub fn temporal_id_nested(&self) -> bool {
        self.temporal_id_nested
    }

    /// Bytes in each NAL unit length prefix of the samples (1, 2 or 4).
    pub fn nal_length_size(&self) -> u8 {
        self.nal_length_size
    }

    /// The NAL unit arrays, in record order.
    pub fn arrays(&self) -> &[HevcNalArray] {
        &self.arrays
    }

    /// All NAL units of one type, across arrays.
    pub fn nal_units(&self, nal_unit_type: u8) -> impl Iterator<Item = &Bytes> {
        self.arrays
            .iter()
            .filter(move |a| a.nal_unit_type == nal_unit_type)
            .flat_map(|a| a.nal_units.iter())
    }

    /// Bytes after the last array, kept verbatim.
    pub fn trailing(&self) -> &Bytes {
        &self.trailing
    }

    /// Size, chroma format and bit depth from the first SPS (no frame rate: the
    /// SPS VUI timing is not parsed).
    pub fn video_info(&self) -> VideoInfo {
        self.info
    }

    /// Displayed width (conformance window applied).
    pub fn width(&self) -> u32 {
        self.info.width
    }

    /// Displayed height (conformance window applied).
    pub fn height(&self) -> u32 {
        self.info.height
    }

    /// A frame rate, from `avgFrameRate` when it is set (frames per 256 s).
    pub fn frame_rate(&self) -> Option<FrameRate> {
        self.info
            .frame_rate
            .or_else(|| FrameRate::new(self.avg_frame_rate.into(), 256))
    }
}

struct ParsedSps {
    profile_space: u8,
    tier_flag: bool,
    profile_idc: u8,
    compatibility_flags: u32,
    constraint_flags: u64,
    level_idc: u8,
    max_sub_layers: u8,
    temporal_id_nesting: bool,
    info: VideoInfo,
}

/// Parses an SPS NAL unit (two-byte header included) up to the bit depths.
fn parse_sps(nal: &[u8], offset: usize) -> Result<ParsedSps, ConfigError> {
    if nal.len() < 2 {
        return Err(ConfigError::Truncated {
            record: SPS,
            field: "nal_unit_header",
            offset,
            needed: 2 - nal.len(),
        });
    }
    let rbsp = unescape_rbsp(&nal[2..]);
    // Offsets inside the RBSP are approximate once emulation bytes were removed.
    let mut r = BitReader::new(&rbsp, offset + 2, SPS);
    let _vps_id = r.bits(4, "sps_video_parameter_set_id")?;
    let max_sub_layers_minus1 = r.bits(3, "sps_max_sub_layers_minus1")? as u8;
    if max_sub_layers_minus1 > 6 {
        return Err(r.invalid("sps_max_sub_layers_minus1", max_sub_layers_minus1.into()));
    }
    let temporal_id_nesting = r.flag("sps_temporal_id_nesting_flag")?;
    // profile_tier_level(1, sps_max_sub_layers_minus1)
    let profile_space = r.bits(2, "general_profile_space")? as u8;
    let tier_flag = r.flag("general_tier_flag")?;
    let profile_idc = r.bits(5, "general_profile_idc")? as u8;
    let compatibility_flags = r.bits(32, "general_profile_compatibility_flag")?;
    let hi = r.bits(16, "general_constraint_indicator_flags")?;
    let lo = r.bits(32, "general_constraint_indicator_flags")?;
    let constraint_flags = (u64::from(hi) << 32) | u64::from(lo);
    let level_idc = r.bits(8, "general_level_idc")? as u8;
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(max_sub_layers_minus1.into()) {
        *p = (
            r.flag("sub_layer_profile_present_flag")?,
            r.flag("sub_layer_level_present_flag")?,
        );
    }
    if max_sub_layers_minus1 > 0 {
        for _ in max_sub_layers_minus1..8 {
            r.skip(2, "reserved_zero_2bits")?;
        }
    }
    for &(profile, level) in present.iter().take(max_sub_layers_minus1.into()) {
        if profile {
            r.skip(88, "sub_layer_profile")?;
        }
        if level {
            r.skip(8, "sub_layer_level_idc")?;
        }
    }
    let _sps_id = r.ue("sps_seq_parameter_set_id")?;
    let chroma_format_idc = r.ue("chroma_format_idc")?;
    if chroma_format_idc > 3 {
        return Err(r.invalid("chroma_format_idc", chroma_format_idc.into()));
    }
    let separate_colour_plane = chroma_format_idc == 3 && r.flag("separate_colour_plane_flag")?;
    let pic_width = r.ue("pic_width_in_luma_samples")?;
    let pic_height = r.ue("pic_height_in_luma_samples")?;
    let (sub_w, sub_h) = match (chroma_format_idc, separate_colour_plane) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let (mut width, mut height) = (u64::from(pic_width), u64::from(pic_height));
    if r.flag("conformance_window_flag")? {
        let left = u64::from(r.ue("conf_win_left_offset")?);
        let right = u64::from(r.ue("conf_win_right_offset")?);
        let top = u64::from(r.ue("conf_win_top_offset")?);
        let bottom = u64::from(r.ue("conf_win_bottom_offset")?);
        let at = r.offset();
        width = width
            .checked_sub(sub_w * (left + right))
            .ok_or_else(|| r.invalid("conf_win_left_offset", left + right))?;
        height = height
            .checked_sub(sub_h * (top + bottom))
            .ok_or(ConfigError::InvalidValue {
                record: SPS,
                field: "conf_win_top_offset",
                offset: at,
                value: top + bottom,
            })?;
    }
    let bit_depth_luma = r.ue("bit_depth_luma_minus8")?;
    let bit_depth_chroma = r.ue("bit_depth_chroma_minus8")?;
    if bit_depth_luma > 8 || bit_depth_chroma > 8 {
        return Err(r.invalid(
            "bit_depth_minus8",
            bit_depth_luma.max(bit_depth_chroma).into(),
        ));
    }
    Ok(ParsedSps {
        profile_space,
        tier_flag,
        profile_idc,
        compatibility_flags,
        constraint_flags,
        level_idc,
        max_sub_layers: max_sub_layers_minus1 + 1,
        temporal_id_nesting,
        info: VideoInfo {
            width: width as u32,
            height: height as u32,
            chroma_format_idc: chroma_format_idc as u8,
            bit_depth_luma: bit_depth_luma as u8 + 8,
            bit_depth_chroma: bit_depth_chroma as u8 + 8,
            frame_rate: None,
        },
    })
}
