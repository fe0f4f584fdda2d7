//! The Opus identification header `OpusHead` (RFC 7845 5.1), the body of an
//! Enhanced FLV `Opus` sequence start.

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::ByteReader;
use super::ConfigError;

const RECORD: &str = "OpusHead";
const MAGIC: &[u8; 8] = b"OpusHead";

/// The channel mapping table of mapping families other than 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusChannelMapping {
    /// `Stream Count`.
    pub stream_count: u8,
    /// `Coupled Count`.
    pub coupled_count: u8,
    /// `Channel Mapping`, one byte per output channel.
    pub mapping: Vec<u8>,
}

/// An Opus identification header.
///
/// Fields are public; [`write`](Self::write) writes them as they are (keep
/// `mapping.len()` equal to `channel_count` for a valid header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// `Version` (the major version, high nibble, must be 0).
    pub version: u8,
    /// `Output Channel Count`.
    pub channel_count: u8,
    /// `Pre-skip`: samples at 48 kHz to drop at the start.
    pub pre_skip: u16,
    /// `Input Sample Rate` (informational; Opus decodes at 48 kHz).
    pub input_sample_rate: u32,
    /// `Output Gain` in Q7.8 dB.
    pub output_gain: i16,
    /// `Channel Mapping Family`.
    pub mapping_family: u8,
    /// The mapping table, present when `mapping_family != 0`.
    pub mapping: Option<OpusChannelMapping>,
    /// Bytes after the header, kept verbatim.
    pub trailing: Bytes,
}

impl OpusHead {
    /// Parses the header.
    pub fn parse(data: &[u8]) -> Result<OpusHead, ConfigError> {
        let mut r = ByteReader::new(data, RECORD);
        let magic = r.take(8, "Magic Signature")?;
        if magic != MAGIC {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "Magic Signature",
                offset: 0,
                value: u64::from_be_bytes(magic.try_into().unwrap_or([0; 8])),
            });
        }
        let version = r.u8("Version")?;
        if version >> 4 != 0 {
            return Err(ConfigError::Unsupported {
                record: RECORD,
                field: "Version",
                offset: 8,
                value: version.into(),
            });
        }
        let channel_count = r.u8("Output Channel Count")?;
        if channel_count == 0 {
            return Err(ConfigError::InvalidValue {
                record: RECORD,
                field: "Output Channel Count",
                offset: 9,
                value: 0,
            });
        }
        let pre_skip = r.u16_le("Pre-skip")?;
        let input_sample_rate = r.u32_le("Input Sample Rate")?;
        let output_gain = r.u16_le("Output Gain")? as i16;
        let mapping_family = r.u8("Channel Mapping Family")?;
        let mapping = if mapping_family == 0 {
            if channel_count > 2 {
                return Err(ConfigError::InvalidValue {
                    record: RECORD,
                    field: "Output Channel Count",
                    offset: 9,
                    value: channel_count.into(),
                });
            }
            None
        } else {
            let stream_count = r.u8("Stream Count")?;
            let coupled_count = r.u8("Coupled Count")?;
            if stream_count == 0 || coupled_count > stream_count {
                return Err(ConfigError::InvalidValue {
                    record: RECORD,
                    field: "Coupled Count",
                    offset: 20,
                    value: coupled_count.into(),
                });
            }
            let mapping = r.take(channel_count.into(), "Channel Mapping")?.to_vec();
            Some(OpusChannelMapping {
                stream_count,
                coupled_count,
                mapping,
            })
        };
        Ok(OpusHead {
            version,
            channel_count,
            pre_skip,
            input_sample_rate,
            output_gain,
            mapping_family,
            mapping,
            trailing: Bytes::copy_from_slice(r.rest()),
        })
    }

    /// A family-0 header (mono or stereo) with version 1 and no gain.
    pub fn new(channel_count: u8, pre_skip: u16, input_sample_rate: u32) -> OpusHead {
        OpusHead {
            version: 1,
            channel_count,
            pre_skip,
            input_sample_rate,
            output_gain: 0,
            mapping_family: 0,
            mapping: None,
            trailing: Bytes::new(),
        }
    }

    /// Appends the header to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_slice(MAGIC);
        out.put_u8(self.version);
        out.put_u8(self.channel_count);
        out.put_u16_le(self.pre_skip);
        out.put_u32_le(self.input_sample_rate);
        out.put_i16_le(self.output_gain);
        out.put_u8(self.mapping_family);
        if let Some(m) = &self.mapping {
            out.put_u8(m.stream_count);
            out.put_u8(m.coupled_count);
            out.put_slice(&m.mapping);
        }
        out.put_slice(&self.trailing);
    }

    /// The serialized header.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// `opus` (Opus in ISOBMFF 4.4; FFmpeg writes the same).
    pub fn codec_string(&self) -> String {
        "opus".to_owned()
    }

    /// 48,000: Opus always decodes at 48 kHz (the input rate is informational).
    pub fn sample_rate(&self) -> u32 {
        48_000
    }
}
