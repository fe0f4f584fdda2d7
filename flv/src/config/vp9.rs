//! `VPCodecConfigurationRecord` version 1 (VP Codec ISO Media File Format Binding
//! 2.2), as the body of an Enhanced FLV `vp09` sequence start and of the MP4 `vpcC`
//! box: the box's version and flags first, then the record.

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::ByteReader;
use super::ConfigError;

const RECORD: &str = "vpcC";

/// A VP9 codec configuration record (`vpcC` version 1). VP9 carries no picture
/// size here; it is in each key frame.
///
/// Fields are public; [`write`](Self::write) keeps only the bits each field has
/// (`bit_depth` 4, `chroma_subsampling` 3) and at most 65,535 bytes of
/// initialization data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp9Config {
    /// The 24 box flags (0).
    pub flags: u32,
    /// `profile` (0..=3).
    pub profile: u8,
    /// `level` (ten times the VP9 level: 31 is level 3.1).
    pub level: u8,
    /// `bitDepth`: 8, 10 or 12.
    pub bit_depth: u8,
    /// `chromaSubsampling`: 0 4:2:0 vertical, 1 4:2:0 colocated, 2 4:2:2, 3 4:4:4.
    pub chroma_subsampling: u8,
    /// `videoFullRangeFlag`.
    pub video_full_range_flag: bool,
    /// `colourPrimaries` (ISO/IEC 23091-2).
    pub colour_primaries: u8,
    /// `transferCharacteristics`.
    pub transfer_characteristics: u8,
    /// `matrixCoefficients`.
    pub matrix_coefficients: u8,
    /// `codecIntializationData` (empty for VP9).
    pub codec_initialization_data: Bytes,
}

impl Vp9Config {
    /// Parses the box version (must be 1) and flags, then the record. Bytes after
    /// the initialization data are an error.
    pub fn parse(data: &[u8]) -> Result<Vp9Config, ConfigError> {
        let mut r = ByteReader::new(data, RECORD);
        let version = r.u8("version")?;
        if version != 1 {
            return Err(ConfigError::Unsupported {
                record: RECORD,
                field: "version",
                offset: 0,
                value: version.into(),
            });
        }
        let f = r.take(3, "flags")?;
        let flags = u32::from_be_bytes([0, f[0], f[1], f[2]]);
        let profile = r.u8("profile")?;
        let level = r.u8("level")?;
        let at = r.pos();
        let b = r.u8("bitDepth")?;
        let bit_depth = b >> 4;
        if !matches!(bit_depth, 8 | 10 | 12) {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "bitDepth",
                offset: at,
                value: bit_depth.into(),
            });
        }
        let colour_primaries = r.u8("colourPrimaries")?;
        let transfer_characteristics = r.u8("transferCharacteristics")?;
        let matrix_coefficients = r.u8("matrixCoefficients")?;
        let n = r.u16("codecIntializationDataSize")?;
        let init = r.take(n.into(), "codecIntializationData")?;
        if r.remaining() > 0 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "trailing bytes",
                offset: r.pos(),
                value: r.remaining() as u64,
            });
        }
        Ok(Vp9Config {
            flags,
            profile,
            level,
            bit_depth,
            chroma_subsampling: (b >> 1) & 7,
            video_full_range_flag: b & 1 != 0,
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
            codec_initialization_data: Bytes::copy_from_slice(init),
        })
    }

    /// Appends version 1, the flags and the record to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(1);
        out.put_slice(&self.flags.to_be_bytes()[1..]);
        out.put_u8(self.profile);
        out.put_u8(self.level);
        out.put_u8(
            ((self.bit_depth & 0x0f) << 4)
                | ((self.chroma_subsampling & 7) << 1)
                | u8::from(self.video_full_range_flag),
        );
        out.put_u8(self.colour_primaries);
        out.put_u8(self.transfer_characteristics);
        out.put_u8(self.matrix_coefficients);
        let init = &self.codec_initialization_data;
        let init = &init[..init.len().min(usize::from(u16::MAX))];
        out.put_u16(init.len() as u16);
        out.put_slice(init);
    }

    /// The serialized record.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// `vp09.PP.LL.DD` (VP-codec-ISOBMFF "Codecs Parameter String", the short
    /// form FFmpeg writes): two-digit profile, level and bit depth.
    pub fn codec_string(&self) -> String {
        format!(
            "vp09.{:02}.{:02}.{:02}",
            self.profile, self.level, self.bit_depth
        )
    }

    /// The full form `vp09.PP.LL.DD.CC.cp.tc.mc.FF`.
    pub fn codec_string_long(&self) -> String {
        format!(
            "{}.{:02}.{:02}.{:02}.{:02}.{:02}",
            self.codec_string(),
            self.chroma_subsampling,
            self.colour_primaries,
            self.transfer_characteristics,
            self.matrix_coefficients,
            u8::from(self.video_full_range_flag)
        )
    }
}
