//! Picture types (I/P/B) from the first slice header of a coded H.264 or HEVC frame.
//!
//! Only the fields before `slice_type` are read: for H.264 two Exp-Golomb codes
//! (`first_mb_in_slice`, `slice_type`), read with `h264-reader`'s RBSP bit reader;
//! for HEVC a few flags, the PPS id and the PPS's `num_extra_slice_header_bits`,
//! read with the small bit reader of [`crate::bits`]. Like FFmpeg's parsers, the
//! frame's type is the type of its first slice.

use std::fmt;

use h264_reader::rbsp::{BitRead as _, BitReader, ByteReader};

use crate::bits::RbspBits;

/// The coding type of a picture, with FFmpeg's letters ([`as_char`](Self::as_char)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PictType {
    /// Intra-coded.
    I,
    /// Predicted.
    P,
    /// Bi-directionally predicted.
    B,
    /// H.264 switching P (FFmpeg prints `p`).
    Sp,
    /// H.264 switching I (FFmpeg prints `i`).
    Si,
}

impl PictType {
    /// The letter `ffprobe -show_frames` prints as `pict_type`.
    pub fn as_char(self) -> char {
        match self {
            PictType::I => 'I',
            PictType::P => 'P',
            PictType::B => 'B',
            PictType::Sp => 'p',
            PictType::Si => 'i',
        }
    }
}

impl fmt::Display for PictType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Enough of a slice header to reach `slice_type`: two Exp-Golomb codes of at most
/// 32 bits each plus HEVC's flags and extra bits, with room for emulation prevention.
const SLICE_HEADER_PREFIX: usize = 24;

/// Length-prefixed NAL units (`nal_length_size` 1, 2 or 4 bytes), as in avcC/hvcC
/// framed samples. Stops at the first length that runs past the end.
pub(crate) struct Nals<'a> {
    data: &'a [u8],
    length_size: usize,
}

impl<'a> Nals<'a> {
    pub(crate) fn new(data: &'a [u8], length_size: u8) -> Nals<'a> {
        let length_size = match length_size {
            1 | 2 | 4 => usize::from(length_size),
            _ => 4,
        };
        Nals { data, length_size }
    }
}

impl<'a> Iterator for Nals<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (prefix, rest) = self.data.split_at_checked(self.length_size)?;
        let len = prefix
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let (nal, rest) = rest.split_at_checked(len)?;
        self.data = rest;
        Some(nal)
    }
}

/// The picture type of an H.264 frame: the `slice_type` of its first slice NAL unit
/// (types 1, 2 and 5); `None` when there is none or it does not parse.
pub fn h264_pict_type(data: &[u8], nal_length_size: u8) -> Option<PictType> {
    let nal = Nals::new(data, nal_length_size).find(|nal| {
        nal.first()
            .is_some_and(|header| matches!(header & 0x1f, 1 | 2 | 5))
    })?;
    let prefix = &nal[..nal.len().min(SLICE_HEADER_PREFIX)];
    let mut bits = BitReader::new(ByteReader::skipping_h264_header(prefix));
    bits.read_ue("first_mb_in_slice").ok()?;
    let slice_type = bits.read_ue("slice_type").ok()?;
    Some(match slice_type % 5 {
        0 => PictType::P,
        1 => PictType::B,
        2 => PictType::I,
        3 => PictType::Sp,
        _ => PictType::Si,
    })
}

/// What HEVC slice headers need from the picture parameter sets: the number of extra
/// slice header bits of each PPS id (0..=63), as they arrive in the hvcC or in band.
#[derive(Clone, Debug)]
pub struct HevcParams {
    extra_bits: [u8; 64],
}

const UNKNOWN_PPS: u8 = u8::MAX;

impl Default for HevcParams {
    fn default() -> Self {
        HevcParams {
            extra_bits: [UNKNOWN_PPS; 64],
        }
    }
}

impl HevcParams {
    /// Reads a PPS NAL unit (type 34, with its 2-byte header); ignores anything else.
    pub fn put_pps(&mut self, nal: &[u8]) {
        if nal.len() < 3 || (nal[0] >> 1) & 0x3f != 34 {
            return;
        }
        let mut bits = RbspBits::new(&nal[2..nal.len().min(2 + SLICE_HEADER_PREFIX)]);
        let parsed = (|| {
            let pps_id = bits.ue()?;
            let _sps_id = bits.ue()?;
            let _dependent_slice_segments_enabled = bits.bit()?;
            let _output_flag_present = bits.bit()?;
            let extra = bits.bits(3)?;
            Some((pps_id, extra))
        })();
        if let Some((pps_id, extra)) = parsed {
            if let Some(slot) = self.extra_bits.get_mut(pps_id as usize) {
                *slot = extra as u8;
            }
        }
    }

    /// The picture type of an HEVC frame from its first slice segment; PPS units
    /// in the frame are read first (they apply to the slices after them). `None`
    /// when no slice segment starts a picture or the PPS it names is unknown.
    pub fn pict_type(&mut self, data: &[u8], nal_length_size: u8) -> Option<PictType> {
        for nal in Nals::new(data, nal_length_size) {
            let Some(&first) = nal.first() else { continue };
            let nal_type = (first >> 1) & 0x3f;
            match nal_type {
                34 => self.put_pps(nal),
                // VCL NAL units: the slice segments (22..=31 are reserved VCL types).
                0..=31 => return self.slice_type(nal, nal_type),
                _ => {}
            }
        }
        None
    }

    fn slice_type(&self, nal: &[u8], nal_type: u8) -> Option<PictType> {
        let body = nal.get(2..)?;
        let mut bits = RbspBits::new(&body[..body.len().min(SLICE_HEADER_PREFIX)]);
        let first_slice_segment_in_pic = bits.bit()?;
        if !first_slice_segment_in_pic {
            return None;
        }
        if (16..=23).contains(&nal_type) {
            bits.bit()?; // no_output_of_prior_pics_flag
        }
        let pps_id = bits.ue()?;
        let extra = *self.extra_bits.get(pps_id as usize)?;
        if extra == UNKNOWN_PPS {
            return None;
        }
        bits.bits(u32::from(extra))?; // slice_reserved_flag[i]
        Some(match bits.ue()? {
            0 => PictType::B,
            1 => PictType::P,
            2 => PictType::I,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(nals: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in nals {
            out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            out.extend_from_slice(nal);
        }
        out
    }

    #[test]
    fn h264_slice_types_from_the_first_slice() {
        // first_mb_in_slice = 0 ("1"), slice_type ue: 7 = I ("0001000"), 5 = P ("00110"),
        // 6 = B ("00111"), 8 = SP ("0001001"), 9 = SI ("0001010").
        let idr = [0x65, 0b1000_1000, 0x80];
        let p = [0x41, 0b1001_1000];
        let b = [0x01, 0b1001_1100];
        let sp = [0x41, 0b1000_1001, 0x80];
        let si = [0x41, 0b1000_1010, 0x80];
        let sei = [0x06, 0x05, 0x00];
        assert_eq!(h264_pict_type(&framed(&[&sei, &idr]), 4), Some(PictType::I));
        assert_eq!(h264_pict_type(&framed(&[&p]), 4), Some(PictType::P));
        assert_eq!(h264_pict_type(&framed(&[&b, &p]), 4), Some(PictType::B));
        assert_eq!(h264_pict_type(&framed(&[&sp]), 4), Some(PictType::Sp));
        assert_eq!(h264_pict_type(&framed(&[&si]), 4), Some(PictType::Si));
        assert_eq!(h264_pict_type(&framed(&[&sei]), 4), None);
        assert_eq!(h264_pict_type(&[0, 0, 0, 9, 0x65], 4), None); // length past the end
        assert_eq!(h264_pict_type(&[], 4), None);
    }

    #[test]
    fn h264_two_byte_lengths() {
        let mut data = vec![0, 2];
        data.extend_from_slice(&[0x41, 0b1001_1000]);
        assert_eq!(h264_pict_type(&data, 2), Some(PictType::P));
    }

    #[test]
    fn hevc_slice_types_need_the_pps() {
        // PPS: pps_id 0 ("1"), sps_id 0 ("1"), two flags 0, num_extra_slice_header_bits 2.
        let pps = [34 << 1, 1, 0b1100_0101, 0x80];
        // IDR_W_RADL (19): first_slice 1, no_output 0, pps_id 0 ("1"), 2 extra bits 00,
        // slice_type 2 = I ("011").
        let idr = [19 << 1, 1, 0b1010_0011, 0x80];
        // TRAIL_R (1): first 1, pps_id 0, extras 00, slice_type 0 = B ("1").
        let b = [1 << 1, 1, 0b1100_1000];
        // slice_type 1 = P ("010").
        let p = [1 << 1, 1, 0b1100_0101];
        let mut params = HevcParams::default();
        assert_eq!(params.pict_type(&framed(&[&idr]), 4), None);
        assert_eq!(
            params.pict_type(&framed(&[&pps, &idr]), 4),
            Some(PictType::I)
        );
        assert_eq!(params.pict_type(&framed(&[&b]), 4), Some(PictType::B));
        assert_eq!(params.pict_type(&framed(&[&p]), 4), Some(PictType::P));
        // Not the first segment of its picture: no answer rather than a guess.
        assert_eq!(params.pict_type(&framed(&[&[1 << 1, 1, 0x40]]), 4), None);
    }
}
