//! `AV1CodecConfigurationRecord` (AV1-ISOBMFF 2.3.3), the body of an Enhanced FLV
//! `av01` sequence start and of the MP4 `av1C` box, with the sequence header OBU
//! (AV1 5.5) it carries.

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::{BitReader, ByteReader};
use super::{ConfigError, FrameRate, VideoInfo};

const RECORD: &str = "av1C";
const SEQ: &str = "av1C sequence_header_obu";
const OBU_SEQUENCE_HEADER: u8 = 1;

/// The colour configuration of a sequence header (AV1 5.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ColorConfig {
    /// Bits per sample: 8, 10 or 12.
    pub bit_depth: u8,
    /// `mono_chrome`.
    pub mono_chrome: bool,
    /// `color_primaries` (2, unspecified, when not described).
    pub color_primaries: u8,
    /// `transfer_characteristics` (2 when not described).
    pub transfer_characteristics: u8,
    /// `matrix_coefficients` (2 when not described).
    pub matrix_coefficients: u8,
    /// `color_range`: `true` for full range.
    pub color_range: bool,
    /// `subsampling_x`.
    pub subsampling_x: bool,
    /// `subsampling_y`.
    pub subsampling_y: bool,
    /// `chroma_sample_position` (0 when not coded).
    pub chroma_sample_position: u8,
}

/// What the sequence header OBU says, up to the film grain flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Av1SequenceHeader {
    /// `seq_profile` (0 Main, 1 High, 2 Professional).
    pub seq_profile: u8,
    /// `still_picture`.
    pub still_picture: bool,
    /// `reduced_still_picture_header`.
    pub reduced_still_picture_header: bool,
    /// `seq_level_idx[0]`.
    pub seq_level_idx_0: u8,
    /// `seq_tier[0]`: `true` for the High tier.
    pub seq_tier_0: bool,
    /// `max_frame_width_minus_1 + 1`.
    pub max_frame_width: u32,
    /// `max_frame_height_minus_1 + 1`.
    pub max_frame_height: u32,
    /// Frame rate from `timing_info` when `equal_picture_interval` is set.
    pub frame_rate: Option<FrameRate>,
    /// The colour configuration.
    pub color: ColorConfig,
    /// `film_grain_params_present`.
    pub film_grain_params_present: bool,
}

/// An AV1 codec configuration record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Av1Config {
    seq_profile: u8,
    seq_level_idx_0: u8,
    seq_tier_0: bool,
    high_bitdepth: bool,
    twelve_bit: bool,
    monochrome: bool,
    chroma_subsampling_x: bool,
    chroma_subsampling_y: bool,
    chroma_sample_position: u8,
    initial_presentation_delay_minus_one: Option<u8>,
    config_obus: Bytes,
    sequence_header: Option<Av1SequenceHeader>,
}

impl Av1Config {
    /// Parses a record. `configOBUs` may be empty; when they hold a sequence header
    /// OBU it must parse (its size and colour configuration are reported).
    pub fn parse(data: &[u8]) -> Result<Av1Config, ConfigError> {
        let mut r = ByteReader::new(data, RECORD);
        let b0 = r.u8("marker")?;
        if b0 & 0x80 == 0 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "marker",
                offset: 0,
                value: 0,
            });
        }
        if b0 & 0x7f != 1 {
            return Err(ConfigError::Unsupported {
                record: RECORD,
                field: "version",
                offset: 0,
                value: u64::from(b0 & 0x7f),
            });
        }
        let b1 = r.u8("seq_profile")?;
        let b2 = r.u8("seq_tier_0")?;
        let b3 = r.u8("initial_presentation_delay_present")?;
        let config_obus = r.rest();
        let sequence_header = find_sequence_header(config_obus, 4)?;
        Ok(Av1Config {
            seq_profile: b1 >> 5,
            seq_level_idx_0: b1 & 0x1f,
            seq_tier_0: b2 & 0x80 != 0,
            high_bitdepth: b2 & 0x40 != 0,
            twelve_bit: b2 & 0x20 != 0,
            monochrome: b2 & 0x10 != 0,
            chroma_subsampling_x: b2 & 0x08 != 0,
            chroma_subsampling_y: b2 & 0x04 != 0,
            chroma_sample_position: b2 & 3,
            initial_presentation_delay_minus_one: (b3 & 0x10 != 0).then_some(b3 & 0x0f),
            config_obus: Bytes::copy_from_slice(config_obus),
            sequence_header,
        })
    }

    /// Builds the record for a sequence header OBU (`obu` is the whole OBU, header
    /// and `obu_size` included), taking every header field from it.
    pub fn new(obu: Bytes) -> Result<Av1Config, ConfigError> {
        let seq = find_sequence_header(&obu, 0)?.ok_or(ConfigError::Missing {
            record: RECORD,
            field: "sequence_header_obu",
            offset: 0,
        })?;
        let c = seq.color;
        Ok(Av1Config {
            seq_profile: seq.seq_profile,
            seq_level_idx_0: seq.seq_level_idx_0,
            seq_tier_0: seq.seq_tier_0,
            high_bitdepth: c.bit_depth > 8,
            twelve_bit: c.bit_depth == 12,
            monochrome: c.mono_chrome,
            chroma_subsampling_x: c.subsampling_x,
            chroma_subsampling_y: c.subsampling_y,
            chroma_sample_position: c.chroma_sample_position,
            initial_presentation_delay_minus_one: None,
            config_obus: obu,
            sequence_header: Some(seq),
        })
    }

    /// Appends the record to `out` (reserved bits zero).
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(0x81);
        out.put_u8((self.seq_profile << 5) | self.seq_level_idx_0);
        out.put_u8(
            (u8::from(self.seq_tier_0) << 7)
                | (u8::from(self.high_bitdepth) << 6)
                | (u8::from(self.twelve_bit) << 5)
                | (u8::from(self.monochrome) << 4)
                | (u8::from(self.chroma_subsampling_x) << 3)
                | (u8::from(self.chroma_subsampling_y) << 2)
                | self.chroma_sample_position,
        );
        out.put_u8(match self.initial_presentation_delay_minus_one {
            Some(d) => 0x10 | d,
            None => 0,
        });
        out.put_slice(&self.config_obus);
    }

    /// The serialized record.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// `av01.P.LLT.DD` (AV1-ISOBMFF "Codecs Parameter String", the short form
    /// FFmpeg writes): profile, two-digit level, tier `M`/`H`, two-digit bit depth.
    pub fn codec_string(&self) -> String {
        format!(
            "av01.{}.{:02}{}.{:02}",
            self.seq_profile,
            self.seq_level_idx_0,
            if self.seq_tier_0 { 'H' } else { 'M' },
            self.bit_depth()
        )
    }

    /// The long form `av01.P.LLT.DD.M.CCC.cp.tc.mc.F` (monochrome, chroma
    /// subsampling and position, colour primaries, transfer, matrix, full range),
    /// when the record holds a sequence header.
    pub fn codec_string_long(&self) -> Option<String> {
        let c = self.sequence_header?.color;
        Some(format!(
            "{}.{}.{}{}{}.{:02}.{:02}.{:02}.{}",
            self.codec_string(),
            u8::from(c.mono_chrome),
            u8::from(c.subsampling_x),
            u8::from(c.subsampling_y),
            if c.subsampling_x && c.subsampling_y {
                c.chroma_sample_position
            } else {
                0
            },
            c.color_primaries,
            c.transfer_characteristics,
            c.matrix_coefficients,
            u8::from(c.color_range)
        ))
    }

    /// `seq_profile`.
    pub fn seq_profile(&self) -> u8 {
        self.seq_profile
    }

    /// `seq_level_idx_0`.
    pub fn seq_level_idx_0(&self) -> u8 {
        self.seq_level_idx_0
    }

    /// `seq_tier_0`: `true` for the High tier.
    pub fn seq_tier_0(&self) -> bool {
        self.seq_tier_0
    }

    /// Bit depth from `high_bitdepth` and `twelve_bit`: 8, 10 or 12.
    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        }
    }

    /// `monochrome`.
    pub fn monochrome(&self) -> bool {
        self.monochrome
    }

    /// `(chroma_subsampling_x, chroma_subsampling_y)`.
    pub fn chroma_subsampling(&self) -> (bool, bool) {
        (self.chroma_subsampling_x, self.chroma_subsampling_y)
    }

    /// `chroma_sample_position`.
    pub fn chroma_sample_position(&self) -> u8 {
        self.chroma_sample_position
    }

    /// `initial_presentation_delay_minus_one`, when present.
    pub fn initial_presentation_delay_minus_one(&self) -> Option<u8> {
        self.initial_presentation_delay_minus_one
    }

    /// The `configOBUs` bytes.
    pub fn config_obus(&self) -> &Bytes {
        &self.config_obus
    }

    /// The parsed sequence header, if `configOBUs` holds one.
    pub fn sequence_header(&self) -> Option<&Av1SequenceHeader> {
        self.sequence_header.as_ref()
    }

    /// Size, chroma format, bit depth and frame rate, from the sequence header.
    pub fn video_info(&self) -> Option<VideoInfo> {
        let s = self.sequence_header?;
        let c = s.color;
        let chroma_format_idc = match (c.mono_chrome, c.subsampling_x, c.subsampling_y) {
            (true, _, _) => 0,
            (false, true, true) => 1,
            (false, true, false) => 2,
            _ => 3,
        };
        Some(VideoInfo {
            width: s.max_frame_width,
            height: s.max_frame_height,
            chroma_format_idc,
            bit_depth_luma: c.bit_depth,
            bit_depth_chroma: c.bit_depth,
            frame_rate: s.frame_rate,
        })
    }

    /// Maximum frame width from the sequence header.
    pub fn width(&self) -> Option<u32> {
        self.sequence_header.map(|s| s.max_frame_width)
    }

    /// Maximum frame height from the sequence header.
    pub fn height(&self) -> Option<u32> {
        self.sequence_header.map(|s| s.max_frame_height)
    }
}

/// `leb128()` (AV1 4.10.5): at most 8 bytes, value below 2^32.
fn leb128(r: &mut ByteReader<'_>) -> Result<u64, ConfigError> {
    let at = r.pos();
    let mut value = 0u64;
    for i in 0..8 {
        let b = r.u8("obu_size")?;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                break;
            }
            return Ok(value);
        }
    }
    Err(ConfigError::InvalidValue {
        record: RECORD,
        field: "obu_size",
        offset: at,
        value,
    })
}

/// Walks the OBUs of `data` (at record offset `base`) and parses the first
/// sequence header.
fn find_sequence_header(
    data: &[u8],
    base: usize,
) -> Result<Option<Av1SequenceHeader>, ConfigError> {
    let mut r = ByteReader::new(data, RECORD);
    while r.remaining() > 0 {
        let at = base + r.pos();
        let h = r.u8("obu_header")?;
        if h & 0x80 != 0 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "obu_forbidden_bit",
                offset: at,
                value: 1,
            });
        }
        let obu_type = (h >> 3) & 0x0f;
        if h & 0x04 != 0 {
            r.u8("obu_extension_header")?;
        }
        let size = if h & 0x02 != 0 {
            usize::try_from(leb128(&mut r)?).unwrap_or(usize::MAX)
        } else {
            r.remaining()
        };
        let payload_at = base + r.pos();
        let payload = r.take(size, "obu payload")?;
        if obu_type == OBU_SEQUENCE_HEADER {
            return parse_sequence_header(payload, payload_at).map(Some);
        }
    }
    Ok(None)
}

fn parse_sequence_header(data: &[u8], base: usize) -> Result<Av1SequenceHeader, ConfigError> {
    let mut r = BitReader::new(data, base, SEQ);
    let seq_profile = r.bits(3, "seq_profile")? as u8;
    if seq_profile > 2 {
        return Err(r.invalid("seq_profile", seq_profile.into()));
    }
    let still_picture = r.flag("still_picture")?;
    let reduced = r.flag("reduced_still_picture_header")?;
    let mut frame_rate = None;
    let seq_level_idx_0;
    let mut seq_tier_0 = false;
    if reduced {
        seq_level_idx_0 = r.bits(5, "seq_level_idx")? as u8;
    } else {
        let mut decoder_model_info_present = false;
        let mut buffer_delay_length = 0;
        if r.flag("timing_info_present_flag")? {
            let num_units = r.bits(32, "num_units_in_display_tick")?;
            let time_scale = r.bits(32, "time_scale")?;
            if r.flag("equal_picture_interval")? {
                let ticks = u64::from(r.uvlc("num_ticks_per_picture_minus_1")?) + 1;
                frame_rate = FrameRate::new(time_scale.into(), u64::from(num_units) * ticks);
            }
            decoder_model_info_present = r.flag("decoder_model_info_present_flag")?;
            if decoder_model_info_present {
                buffer_delay_length = r.bits(5, "buffer_delay_length_minus_1")? + 1;
                r.skip(32, "num_units_in_decoding_tick")?;
                r.skip(10, "buffer_removal_time_length_minus_1")?;
            }
        }
        let initial_display_delay_present = r.flag("initial_display_delay_present_flag")?;
        let count = r.bits(5, "operating_points_cnt_minus_1")? + 1;
        let mut first = None;
        for _ in 0..count {
            r.skip(12, "operating_point_idc")?;
            let level = r.bits(5, "seq_level_idx")? as u8;
            let tier = level > 7 && r.flag("seq_tier")?;
            first.get_or_insert((level, tier));
            if decoder_model_info_present && r.flag("decoder_model_present_for_this_op")? {
                r.skip(
                    2 * buffer_delay_length as usize + 1,
                    "operating_parameters_info",
                )?;
            }
            if initial_display_delay_present
                && r.flag("initial_display_delay_present_for_this_op")?
            {
                r.skip(4, "initial_display_delay_minus_1")?;
            }
        }
        let (level, tier) = first.unwrap_or((0, false));
        seq_level_idx_0 = level;
        seq_tier_0 = tier;
    }
    let wbits = r.bits(4, "frame_width_bits_minus_1")? + 1;
    let hbits = r.bits(4, "frame_height_bits_minus_1")? + 1;
    let max_frame_width = r.bits(wbits, "max_frame_width_minus_1")? as u64 + 1;
    let max_frame_height = r.bits(hbits, "max_frame_height_minus_1")? as u64 + 1;
    if !reduced && r.flag("frame_id_numbers_present_flag")? {
        r.skip(7, "delta_frame_id_length_minus_2")?;
    }
    r.skip(3, "use_128x128_superblock")?;
    if !reduced {
        r.skip(4, "enable_interintra_compound")?;
        let order_hint = r.flag("enable_order_hint")?;
        if order_hint {
            r.skip(2, "enable_jnt_comp")?;
        }
        let force_screen_content_tools = if r.flag("seq_choose_screen_content_tools")? {
            2
        } else {
            r.bits(1, "seq_force_screen_content_tools")?
        };
        if force_screen_content_tools > 0 && !r.flag("seq_choose_integer_mv")? {
            r.skip(1, "seq_force_integer_mv")?;
        }
        if order_hint {
            r.skip(3, "order_hint_bits_minus_1")?;
        }
    }
    r.skip(3, "enable_superres")?;
    let color = parse_color_config(&mut r, seq_profile)?;
    let film_grain_params_present = r.flag("film_grain_params_present")?;
    Ok(Av1SequenceHeader {
        seq_profile,
        still_picture,
        reduced_still_picture_header: reduced,
        seq_level_idx_0,
        seq_tier_0,
        max_frame_width: max_frame_width as u32,
        max_frame_height: max_frame_height as u32,
        frame_rate,
        color,
        film_grain_params_present,
    })
}

fn parse_color_config(r: &mut BitReader<'_>, seq_profile: u8) -> Result<ColorConfig, ConfigError> {
    let high_bitdepth = r.flag("high_bitdepth")?;
    let bit_depth = if seq_profile == 2 && high_bitdepth {
        if r.flag("twelve_bit")? {
            12
        } else {
            10
        }
    } else if high_bitdepth {
        10
    } else {
        8
    };
    let mono_chrome = seq_profile != 1 && r.flag("mono_chrome")?;
    let (mut cp, mut tc, mut mc) = (2, 2, 2);
    if r.flag("color_description_present_flag")? {
        cp = r.bits(8, "color_primaries")? as u8;
        tc = r.bits(8, "transfer_characteristics")? as u8;
        mc = r.bits(8, "matrix_coefficients")? as u8;
    }
    let mut c = ColorConfig {
        bit_depth,
        mono_chrome,
        color_primaries: cp,
        transfer_characteristics: tc,
        matrix_coefficients: mc,
        color_range: false,
        subsampling_x: true,
        subsampling_y: true,
        chroma_sample_position: 0,
    };
    if mono_chrome {
        c.color_range = r.flag("color_range")?;
        return Ok(c);
    }
    if cp == 1 && tc == 13 && mc == 0 {
        c.color_range = true;
        c.subsampling_x = false;
        c.subsampling_y = false;
    } else {
        c.color_range = r.flag("color_range")?;
        match seq_profile {
            0 => {}
            1 => {
                c.subsampling_x = false;
                c.subsampling_y = false;
            }
            _ if bit_depth == 12 => {
                c.subsampling_x = r.flag("subsampling_x")?;
                c.subsampling_y = c.subsampling_x && r.flag("subsampling_y")?;
            }
            _ => c.subsampling_y = false,
        }
        if c.subsampling_x && c.subsampling_y {
            c.chroma_sample_position = r.bits(2, "chroma_sample_position")? as u8;
        }
    }
    r.skip(1, "separate_uv_delta_q")?;
    Ok(c)
}
