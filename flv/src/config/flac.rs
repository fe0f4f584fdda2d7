//! FLAC `METADATA_BLOCK_STREAMINFO` (RFC 9639 8.2), the body of an Enhanced FLV
//! `fLaC` sequence start (the 34-byte block without its block header).

use bytes::{BufMut, Bytes, BytesMut};

use super::bits::BitReader;
use super::ConfigError;

const RECORD: &str = "STREAMINFO";
const LEN: usize = 34;

/// A FLAC stream info block.
///
/// Fields are public; [`write`](Self::write) keeps only the bits each field has
/// (`min_frame_size`/`max_frame_size` 24, `sample_rate` 20, `channels - 1` 3,
/// `bits_per_sample - 1` 5, `total_samples` 36).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlacStreamInfo {
    /// Minimum block size in samples.
    pub min_block_size: u16,
    /// Maximum block size in samples.
    pub max_block_size: u16,
    /// Minimum frame size in bytes (0: unknown).
    pub min_frame_size: u32,
    /// Maximum frame size in bytes (0: unknown).
    pub max_frame_size: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels (1..=8).
    pub channels: u8,
    /// Bits per sample (4..=32).
    pub bits_per_sample: u8,
    /// Total samples per channel (0: unknown, e.g. live).
    pub total_samples: u64,
    /// MD5 of the decoded audio (zero: not computed).
    pub md5: [u8; 16],
    /// Bytes after the block, kept verbatim.
    pub trailing: Bytes,
}

impl FlacStreamInfo {
    /// Parses the 34-byte block. The sample rate must not be 0.
    pub fn parse(data: &[u8]) -> Result<FlacStreamInfo, ConfigError> {
        if data.len() < LEN {
            return Err(ConfigError::Truncated {
                record: RECORD,
                field: "METADATA_BLOCK_STREAMINFO",
                offset: 0,
                needed: LEN - data.len(),
            });
        }
        let mut r = BitReader::new(&data[..LEN], 0, RECORD);
        let min_block_size = r.bits(16, "minimum block size")? as u16;
        let max_block_size = r.bits(16, "maximum block size")? as u16;
        let min_frame_size = r.bits(24, "minimum frame size")?;
        let max_frame_size = r.bits(24, "maximum frame size")?;
        let sample_rate = r.bits(20, "sample rate")?;
        if sample_rate == 0 {
            return Err(r.invalid("sample rate", 0));
        }
        let channels = r.bits(3, "number of channels")? as u8 + 1;
        let bits_per_sample = r.bits(5, "bits per sample")? as u8 + 1;
        let hi = r.bits(4, "total samples")?;
        let lo = r.bits(32, "total samples")?;
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&data[18..LEN]);
        Ok(FlacStreamInfo {
            min_block_size,
            max_block_size,
            min_frame_size,
            max_frame_size,
            sample_rate,
            channels,
            bits_per_sample,
            total_samples: (u64::from(hi) << 32) | u64::from(lo),
            md5,
            trailing: Bytes::copy_from_slice(&data[LEN..]),
        })
    }

    /// Appends the block to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u16(self.min_block_size);
        out.put_u16(self.max_block_size);
        out.put_slice(&self.min_frame_size.to_be_bytes()[1..]);
        out.put_slice(&self.max_frame_size.to_be_bytes()[1..]);
        let packed: u64 = (u64::from(self.sample_rate & 0xf_ffff) << 44)
            | (u64::from(self.channels.wrapping_sub(1) & 7) << 41)
            | (u64::from(self.bits_per_sample.wrapping_sub(1) & 0x1f) << 36)
            | (self.total_samples & 0xf_ffff_ffff);
        out.put_u64(packed);
        out.put_slice(&self.md5);
        out.put_slice(&self.trailing);
    }

    /// The serialized block.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }

    /// `fLaC`, the MP4 sample entry name the FLAC-in-ISOBMFF mapping uses as codec
    /// string (FFmpeg writes it lowercase, `flac`).
    pub fn codec_string(&self) -> String {
        "fLaC".to_owned()
    }
}
