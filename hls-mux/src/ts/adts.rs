//! ADTS headers (ISO/IEC 13818-7 6.2 / 14496-3 1.A.2) for raw AAC frames,
//! built from the AudioSpecificConfig as FFmpeg's `adtsenc` builds them.

use flv::config::AacConfig;

use super::TsError;
use crate::MediaKind;

/// Bytes of an ADTS header without CRC.
pub(crate) const HEADER_LEN: usize = 7;
/// The largest ADTS frame, header included (13-bit `frame_length`).
const MAX_FRAME: usize = (1 << 13) - 1;

/// The fixed part of the header of one AAC track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Adts {
    /// `profile_ObjectType`: the object type minus 1 (2 bits).
    profile: u8,
    /// `sampling_frequency_index` (4 bits).
    sampling_frequency_index: u8,
    /// `channel_configuration` (3 bits).
    channel_configuration: u8,
}

fn unsupported(reason: String) -> TsError {
    TsError::UnsupportedConfig {
        codec: "AAC",
        reason,
    }
}

impl Adts {
    /// The header fields for `config`, or why ADTS cannot express it.
    ///
    /// HE-AAC (SBR, and PS) is written as its core, AAC LC at the core sample
    /// rate, as FFmpeg does: decoders find the SBR data in the frames
    /// (implicit signalling).
    pub(crate) fn new(config: &AacConfig) -> Result<Adts, TsError> {
        let object_type = config.base_object_type();
        if !(1..=4).contains(&object_type) {
            return Err(unsupported(format!(
                "object type {object_type} does not fit the 2-bit ADTS profile field \
                 (object types 1 to 4 only)"
            )));
        }
        let Some(sampling_frequency_index) = config.sampling_frequency_index() else {
            return Err(unsupported(format!(
                "the explicit sample rate {} Hz has no ADTS sampling frequency index",
                config.core_sample_rate()
            )));
        };
        if sampling_frequency_index > 12 {
            return Err(unsupported(format!(
                "sampling frequency index {sampling_frequency_index} is reserved"
            )));
        }
        let channel_configuration = config.channel_configuration();
        if !(1..=7).contains(&channel_configuration) {
            return Err(unsupported(format!(
                "channel configuration {channel_configuration} does not fit ADTS \
                 (1 to 7; a program config element is not written)"
            )));
        }
        if config.frame_length_flag() {
            return Err(unsupported(
                "960-sample frames (frameLengthFlag) cannot be signalled in ADTS".to_owned(),
            ));
        }
        Ok(Adts {
            profile: object_type - 1,
            sampling_frequency_index,
            channel_configuration,
        })
    }

    /// The header for a raw frame of `payload_len` bytes.
    pub(crate) fn header(&self, payload_len: usize) -> Result<[u8; HEADER_LEN], TsError> {
        let len = payload_len + HEADER_LEN;
        if len > MAX_FRAME {
            return Err(TsError::FrameTooLarge {
                media: MediaKind::Audio,
                len: payload_len,
                field: "the 13-bit ADTS frame_length",
                limit: MAX_FRAME - HEADER_LEN,
            });
        }
        let len = len as u16;
        let fullness: u16 = 0x7FF; // variable bit rate
        Ok([
            0xFF,
            // Rest of the sync word, MPEG-4 (ID 0), layer 0, protection absent.
            0xF1,
            self.profile << 6
                | self.sampling_frequency_index << 2
                | self.channel_configuration >> 2,
            (self.channel_configuration & 3) << 6 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | (fullness >> 6) as u8,
            ((fullness & 0x3F) as u8) << 2, // number_of_raw_data_blocks_in_frame 0
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_44100_stereo() {
        let config = AacConfig::parse(&[0x12, 0x10]).unwrap();
        let adts = Adts::new(&config).unwrap();
        // profile 1 (LC), index 4, 2 channels, frame_length 7 + 371 = 378.
        let h = adts.header(371).unwrap();
        assert_eq!(h, [0xFF, 0xF1, 0x50, 0x80, 0x2F, 0x5F, 0xFC]);
        assert_eq!(h[2] >> 6, 1);
        assert_eq!((h[2] >> 2) & 0x0F, 4);
        assert_eq!((h[2] & 1) << 2 | h[3] >> 6, 2);
        let frame_length = u16::from(h[3] & 3) << 11 | u16::from(h[4]) << 3 | u16::from(h[5] >> 5);
        assert_eq!(frame_length, 378);
    }

    #[test]
    fn he_aac_is_written_as_its_lc_core() {
        // Hierarchical HE-AAC: object type 5, 24 kHz core (index 6), stereo,
        // extension 48 kHz (index 3), core object type 2.
        let config = AacConfig::parse(&[0x2B, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(config.audio_object_type(), 5);
        let h = Adts::new(&config).unwrap().header(100).unwrap();
        assert_eq!(h[2] >> 6, 1, "profile LC");
        assert_eq!((h[2] >> 2) & 0x0F, 6, "core rate index (24 kHz)");
        // HE-AAC v2 (object type 29), mono core at 24 kHz.
        let config = AacConfig::parse(&[0xEB, 0x09, 0x88, 0x00]).unwrap();
        assert_eq!(config.audio_object_type(), 29);
        let h = Adts::new(&config).unwrap().header(100).unwrap();
        assert_eq!(h[2], 0x58);
        assert_eq!(h[3] >> 6, 1, "one channel");
    }

    #[test]
    fn what_adts_cannot_say() {
        // Explicit sample rate (index 15): LC, 0xF, 44100 in 24 bits, stereo.
        let config = AacConfig::parse(&[0x17, 0x80, 0x56, 0x22, 0x10]).unwrap();
        assert_eq!(config.sampling_frequency_index(), None);
        let err = Adts::new(&config).unwrap_err();
        assert!(
            err.to_string().contains("explicit sample rate 44100 Hz"),
            "{err}"
        );
        // Object type 23 (ER AAC LD).
        let config = AacConfig::parse(&[0xBA, 0x10, 0x00]).unwrap();
        assert!(Adts::new(&config)
            .unwrap_err()
            .to_string()
            .contains("object type 23"));
        // A frame longer than 13 bits allow.
        let adts = Adts::new(&AacConfig::parse(&[0x12, 0x10]).unwrap()).unwrap();
        assert!(adts.header(MAX_FRAME - HEADER_LEN).is_ok());
        assert!(matches!(
            adts.header(MAX_FRAME - HEADER_LEN + 1),
            Err(TsError::FrameTooLarge { .. })
        ));
    }
}
