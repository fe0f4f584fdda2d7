//! MPEG-4 Audio `AudioSpecificConfig` (ISO/IEC 14496-3 1.6.2.1), the body of an
//! FLV AAC sequence header and of the `DecoderSpecificInfo` in an MP4 `esds`.

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::{BitReader, BitWriter};
use super::ConfigError;

const RECORD: &str = "AudioSpecificConfig";

/// `samplingFrequencyIndex` 0..=12 (13 and 14 are reserved, 15 escapes).
const RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// An AAC `AudioSpecificConfig`.
///
/// The bytes are kept as given and written back unchanged; the fields are what
/// they signal. SBR (HE-AAC) and PS (HE-AAC v2) are reported when explicitly
/// signalled, either hierarchically (object type 5 or 29 first) or with the
/// backward-compatible sync extension (`0x2b7`, and `0x548` for PS); implicit
/// SBR (only visible in the audio frames) cannot be seen here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AacConfig {
    raw: Bytes,
    audio_object_type: u8,
    base_object_type: u8,
    sampling_frequency_index: Option<u8>,
    sampling_frequency: u32,
    channel_configuration: u8,
    channels: u8,
    sbr: Option<bool>,
    ps: Option<bool>,
    extension_sampling_frequency: Option<u32>,
    frame_length_flag: bool,
}

impl AacConfig {
    /// Parses a config. Object types with a `GASpecificConfig` (AAC Main, LC, SSR,
    /// LTP, Scalable, TwinVQ, ER variants, and these behind SBR/PS) are parsed in
    /// full, including a `program_config_element` for the channel count; other
    /// object types are parsed up to the channel configuration. Bits after the
    /// known fields are kept.
    pub fn parse(data: &[u8]) -> Result<AacConfig, ConfigError> {
        let mut r = BitReader::new(data, 0, RECORD);
        let audio_object_type = object_type(&mut r)?;
        if audio_object_type == 0 {
            return Err(r.invalid("audioObjectType", 0));
        }
        let (sampling_frequency_index, sampling_frequency) =
            frequency(&mut r, "samplingFrequencyIndex")?;
        let chan_at = r.offset();
        let channel_configuration = r.bits(4, "channelConfiguration")? as u8;
        let mut sbr = None;
        let mut ps = None;
        let mut extension_sampling_frequency = None;
        let mut base_object_type = audio_object_type;
        if audio_object_type == 5 || audio_object_type == 29 {
            sbr = Some(true);
            ps = (audio_object_type == 29).then_some(true);
            extension_sampling_frequency =
                Some(frequency(&mut r, "extensionSamplingFrequencyIndex")?.1);
            base_object_type = object_type(&mut r)?;
            if base_object_type == 22 {
                r.skip(4, "extensionChannelConfiguration")?;
            }
        }
        let mut channels = match channel_configuration {
            0 => 0,
            1..=6 => channel_configuration,
            7 | 12 | 14 => 8,
            11 => 7,
            13 => 24,
            _ => {
                return Err(ConfigError::InvalidValue {
                    record: RECORD,
                    field: "channelConfiguration",
                    offset: chan_at,
                    value: channel_configuration.into(),
                })
            }
        };
        let mut frame_length_flag = false;
        if matches!(base_object_type, 1..=4 | 6 | 7 | 17 | 19..=23) {
            frame_length_flag = r.flag("frameLengthFlag")?;
            if r.flag("dependsOnCoreCoder")? {
                r.skip(14, "coreCoderDelay")?;
            }
            let extension_flag = r.flag("extensionFlag")?;
            if channel_configuration == 0 {
                channels = program_config_element(&mut r)?;
            }
            if base_object_type == 6 || base_object_type == 20 {
                r.skip(3, "layerNr")?;
            }
            if extension_flag {
                if base_object_type == 22 {
                    r.skip(16, "numOfSubFrame")?;
                }
                if matches!(base_object_type, 17 | 19 | 20 | 23) {
                    r.skip(3, "aacSectionDataResilienceFlag")?;
                }
                r.skip(1, "extensionFlag3")?;
            }
            if matches!(base_object_type, 17 | 19..=23) {
                let at = r.offset();
                let ep = r.bits(2, "epConfig")?;
                if ep >= 2 {
                    return Err(ConfigError::Unsupported {
                        record: RECORD,
                        field: "epConfig",
                        offset: at,
                        value: ep.into(),
                    });
                }
            }
            // Backward-compatible explicit SBR/PS signalling.
            if sbr.is_none() && r.remaining_bits() >= 16 {
                let mut peek = r.clone();
                if peek.bits(11, "syncExtensionType")? == 0x2b7 {
                    r = peek;
                    let ext = object_type(&mut r)?;
                    if ext == 5 {
                        let present = r.flag("sbrPresentFlag")?;
                        sbr = Some(present);
                        if present {
                            extension_sampling_frequency =
                                Some(frequency(&mut r, "extensionSamplingFrequencyIndex")?.1);
                            if r.remaining_bits() >= 12 {
                                let mut peek = r.clone();
                                if peek.bits(11, "syncExtensionType")? == 0x548 {
                                    r = peek;
                                    ps = Some(r.flag("psPresentFlag")?);
                                }
                            }
                        }
                    } else if ext == 22 {
                        let present = r.flag("sbrPresentFlag")?;
                        sbr = Some(present);
                        if present {
                            extension_sampling_frequency =
                                Some(frequency(&mut r, "extensionSamplingFrequencyIndex")?.1);
                        }
                        r.skip(4, "extensionChannelConfiguration")?;
                    }
                }
            }
        }
        Ok(AacConfig {
            raw: Bytes::copy_from_slice(data),
            audio_object_type,
            base_object_type,
            sampling_frequency_index,
            sampling_frequency,
            channel_configuration,
            channels,
            sbr,
            ps,
            extension_sampling_frequency,
            frame_length_flag,
        })
    }

    /// The two-byte (or longer, for an escaped object type or explicit rate)
    /// config of a plain object type: `GASpecificConfig` with all flags zero.
    /// `sample_rate` uses an index when it has one, else the explicit 24-bit form.
    pub fn new(
        object_type: u8,
        sample_rate: u32,
        channel_configuration: u8,
    ) -> Result<AacConfig, ConfigError> {
        let mut w = BitWriter::new();
        put_object_type(&mut w, object_type)?;
        put_frequency(&mut w, sample_rate)?;
        w.bits(4, channel_configuration.into());
        if matches!(object_type, 1..=4 | 6 | 7 | 17 | 19..=23) {
            // frameLengthFlag, dependsOnCoreCoder, extensionFlag
            w.bits(3, 0);
            if object_type == 6 || object_type == 20 {
                w.bits(3, 0); // layerNr
            }
            if matches!(object_type, 17 | 19..=23) {
                w.bits(2, 0); // epConfig
            }
        }
        AacConfig::parse(&w.finish())
    }

    /// HE-AAC (`ps == false`, object type 5) or HE-AAC v2 (`ps == true`, object
    /// type 29) with hierarchical signalling: the core runs at `core_sample_rate`,
    /// SBR outputs twice that, over AAC LC.
    pub fn new_he(
        core_sample_rate: u32,
        ps: bool,
        channel_configuration: u8,
    ) -> Result<AacConfig, ConfigError> {
        let mut w = BitWriter::new();
        put_object_type(&mut w, if ps { 29 } else { 5 })?;
        put_frequency(&mut w, core_sample_rate)?;
        w.bits(4, channel_configuration.into());
        put_frequency(&mut w, core_sample_rate.saturating_mul(2))?;
        put_object_type(&mut w, 2)?;
        w.bits(3, 0);
        AacConfig::parse(&w.finish())
    }

    /// Appends the config bytes to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_slice(&self.raw);
    }

    /// The config bytes.
    pub fn to_bytes(&self) -> Bytes {
        self.raw.clone()
    }

    /// `mp4a.40.N`: `N` is 29 when PS is signalled, 5 when SBR is, else the
    /// object type (2 for LC), as FFmpeg and Apple's HLS authoring spec write it.
    pub fn codec_string(&self) -> String {
        format!("mp4a.40.{}", self.codec_object_type())
    }

    fn codec_object_type(&self) -> u8 {
        if self.ps == Some(true) {
            29
        } else if self.sbr == Some(true) {
            5
        } else {
            self.audio_object_type
        }
    }

    /// The first `audioObjectType` (5 or 29 for hierarchical HE-AAC signalling).
    pub fn audio_object_type(&self) -> u8 {
        self.audio_object_type
    }

    /// The object type of the core (2 for LC under SBR).
    pub fn base_object_type(&self) -> u8 {
        self.base_object_type
    }

    /// `samplingFrequencyIndex`, `None` when the rate is explicit.
    pub fn sampling_frequency_index(&self) -> Option<u8> {
        self.sampling_frequency_index
    }

    /// The core sample rate.
    pub fn core_sample_rate(&self) -> u32 {
        self.sampling_frequency
    }

    /// The output sample rate: the SBR rate when SBR is signalled, else the core
    /// rate.
    pub fn sample_rate(&self) -> u32 {
        match (self.sbr, self.extension_sampling_frequency) {
            (Some(true), Some(rate)) => rate,
            _ => self.sampling_frequency,
        }
    }

    /// `channelConfiguration` (0: given by a program config element).
    pub fn channel_configuration(&self) -> u8 {
        self.channel_configuration
    }

    /// Output channels: from the channel configuration or the program config
    /// element, 2 for mono with PS; 0 when not known.
    pub fn channels(&self) -> u8 {
        if self.ps == Some(true) && self.channels == 1 {
            2
        } else {
            self.channels
        }
    }

    /// SBR: `Some(true/false)` when signalled, `None` when not.
    pub fn sbr(&self) -> Option<bool> {
        self.sbr
    }

    /// PS: `Some(true/false)` when signalled, `None` when not.
    pub fn ps(&self) -> Option<bool> {
        self.ps
    }

    /// `frameLengthFlag`: `true` for 960-sample frames (GA object types).
    pub fn frame_length_flag(&self) -> bool {
        self.frame_length_flag
    }
}

fn object_type(r: &mut BitReader<'_>) -> Result<u8, ConfigError> {
    let t = r.bits(5, "audioObjectType")? as u8;
    Ok(if t == 31 {
        32 + r.bits(6, "audioObjectTypeExt")? as u8
    } else {
        t
    })
}

fn frequency(r: &mut BitReader<'_>, field: &'static str) -> Result<(Option<u8>, u32), ConfigError> {
    let at = r.offset();
    let index = r.bits(4, field)? as u8;
    match index {
        15 => {
            let rate = r.bits(24, "samplingFrequency")?;
            if rate == 0 {
                return Err(r.invalid("samplingFrequency", 0));
            }
            Ok((None, rate))
        }
        13 | 14 => Err(ConfigError::InvalidValue {
            record: RECORD,
            field,
            offset: at,
            value: index.into(),
        }),
        i => Ok((Some(i), RATES[usize::from(i)])),
    }
}

/// `program_config_element()` (ISO/IEC 14496-3 4.4.1.1): returns its channel count.
fn program_config_element(r: &mut BitReader<'_>) -> Result<u8, ConfigError> {
    r.skip(10, "element_instance_tag")?;
    let front = r.bits(4, "num_front_channel_elements")?;
    let side = r.bits(4, "num_side_channel_elements")?;
    let back = r.bits(4, "num_back_channel_elements")?;
    let lfe = r.bits(2, "num_lfe_channel_elements")?;
    let assoc = r.bits(3, "num_assoc_data_elements")?;
    let cc = r.bits(4, "num_valid_cc_elements")?;
    if r.flag("mono_mixdown_present")? {
        r.skip(4, "mono_mixdown_element_number")?;
    }
    if r.flag("stereo_mixdown_present")? {
        r.skip(4, "stereo_mixdown_element_number")?;
    }
    if r.flag("matrix_mixdown_idx_present")? {
        r.skip(3, "matrix_mixdown_idx")?;
    }
    let mut channels = lfe;
    for _ in 0..front + side + back {
        channels += 1 + r.bits(1, "is_cpe")?;
        r.skip(4, "element_tag_select")?;
    }
    r.skip(
        4 * (lfe + assoc) as usize + 5 * cc as usize,
        "element_tag_select",
    )?;
    r.align();
    let n = r.bits(8, "comment_field_bytes")?;
    r.skip(8 * n as usize, "comment_field_data")?;
    Ok(channels as u8)
}

fn put_object_type(w: &mut BitWriter, t: u8) -> Result<(), ConfigError> {
    match t {
        0..=30 => w.bits(5, t.into()),
        31..=95 => {
            w.bits(5, 31);
            w.bits(6, u32::from(t - 32));
        }
        _ => {
            return Err(ConfigError::TooLarge {
                record: RECORD,
                field: "audioObjectType",
                value: t.into(),
                limit: 95,
            })
        }
    }
    Ok(())
}

fn put_frequency(w: &mut BitWriter, rate: u32) -> Result<(), ConfigError> {
    if let Some(i) = RATES.iter().position(|&r| r == rate) {
        w.bits(4, i as u32);
    } else if rate > 0 && rate < 1 << 24 {
        w.bits(4, 15);
        w.bits(24, rate);
    } else {
        return Err(ConfigError::TooLarge {
            record: RECORD,
            field: "samplingFrequency",
            value: rate.into(),
            limit: (1 << 24) - 1,
        });
    }
    Ok(())
}
