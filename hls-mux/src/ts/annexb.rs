//! Length-prefixed H.264/HEVC access units (as MP4 and FLV hold them) to the
//! Annex B byte stream MPEG-TS carries: start codes, an access unit
//! delimiter first, and the parameter sets of the configuration record in
//! front of every key frame that does not carry its own.

use bytes::Bytes;

use super::gather::Piece;
use super::TsError;

/// A 4-byte start code.
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The NAL unit syntax of one codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NalSyntax {
    /// H.264: 1-byte header, type in the low 5 bits.
    Avc,
    /// HEVC: 2-byte header, type in bits 1..7 of the first byte.
    Hevc,
}

impl NalSyntax {
    /// The NAL unit type from the first header byte.
    fn nal_type(self, first: u8) -> u8 {
        match self {
            NalSyntax::Avc => first & 0x1F,
            NalSyntax::Hevc => (first >> 1) & 0x3F,
        }
    }

    /// The access unit delimiter, start code included: H.264 type 9 with
    /// `primary_pic_type` 7 (any slice type); HEVC type 35, layer 0,
    /// temporal id 1, `pic_type` 2 (any).
    fn aud(self) -> &'static [u8] {
        match self {
            NalSyntax::Avc => &[0, 0, 0, 1, 0x09, 0xF0],
            NalSyntax::Hevc => &[0, 0, 0, 1, 0x46, 0x01, 0x50],
        }
    }

    fn aud_type(self) -> u8 {
        match self {
            NalSyntax::Avc => 9,
            NalSyntax::Hevc => 35,
        }
    }
}

/// Converts the frames of one video track.
#[derive(Clone, Debug)]
pub(crate) struct AnnexB {
    syntax: NalSyntax,
    /// Bytes of each length prefix, 1 to 4.
    length_size: u8,
    /// The configuration's parameter sets in Annex B form (SPS then PPS;
    /// VPS, SPS, PPS for HEVC).
    parameter_sets: Vec<u8>,
    /// The NAL unit types in `parameter_sets`, as a bit set.
    parameter_set_types: u64,
}

impl AnnexB {
    /// A converter; `parameter_sets` are `(type, NAL unit)` pairs in the order
    /// they go into the stream. Fails for a length size outside 1..=4.
    pub(crate) fn new<'a>(
        syntax: NalSyntax,
        codec: &'static str,
        length_size: u8,
        parameter_sets: impl IntoIterator<Item = &'a Bytes>,
    ) -> Result<AnnexB, TsError> {
        if !(1..=4).contains(&length_size) {
            return Err(TsError::UnsupportedConfig {
                codec,
                reason: format!("NAL unit length size {length_size} (must be 1 to 4 bytes)"),
            });
        }
        let mut bytes = Vec::new();
        let mut types = 0u64;
        for nal in parameter_sets {
            let Some(&first) = nal.first() else { continue };
            types |= 1 << syntax.nal_type(first);
            bytes.extend_from_slice(&START_CODE);
            bytes.extend_from_slice(nal);
        }
        Ok(AnnexB {
            syntax,
            length_size,
            parameter_sets: bytes,
            parameter_set_types: types,
        })
    }

    /// Walks the NAL units of `frame`: calls `each(offset, nal)` for every
    /// non-empty one (`offset` where its bytes start in `frame`), or fails at
    /// the first length prefix that is cut short or runs past the end.
    fn walk<'f>(
        &self,
        frame: &'f [u8],
        mut each: impl FnMut(usize, &'f [u8]),
    ) -> Result<(), TsError> {
        let size = usize::from(self.length_size);
        let mut at = 0;
        while at < frame.len() {
            let Some(prefix) = frame.get(at..at + size) else {
                return Err(TsError::TruncatedNalLength {
                    offset: at,
                    size: self.length_size,
                });
            };
            let length = prefix.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
            let remaining = frame.len() - at - size;
            if length > remaining as u64 {
                return Err(TsError::NalPastEnd {
                    offset: at,
                    length,
                    remaining,
                });
            }
            let start = at + size;
            let end = start + length as usize;
            if end > start {
                each(start, &frame[start..end]);
            }
            at = end;
        }
        Ok(())
    }

    /// The parameter sets in Annex B form, for [`Piece::ParameterSets`].
    pub(crate) fn parameter_sets(&self) -> &[u8] {
        &self.parameter_sets
    }

    /// Appends the pieces of `frame` in Annex B form to `pieces` and returns
    /// their length: an access unit delimiter unless the frame starts with
    /// one, then (for a key frame that lacks any of them) the
    /// configuration's parameter sets, then the frame's NAL units, each
    /// behind a 4-byte start code.
    ///
    /// The parameter sets go right after the delimiter: before the first VCL
    /// NAL unit as required, and before SEI messages (a buffering period SEI
    /// refers to the SPS). Nothing is appended when the frame is malformed.
    pub(crate) fn pieces(
        &self,
        frame: &[u8],
        key: bool,
        pieces: &mut Vec<Piece>,
    ) -> Result<usize, TsError> {
        // First pass: validate, find the types present, size the output.
        let mut types = 0u64;
        let mut first_type = None;
        let mut size = 0usize;
        let mut count = 0usize;
        self.walk(frame, |_, nal| {
            let t = self.syntax.nal_type(nal[0]);
            first_type.get_or_insert(t);
            types |= 1 << t;
            size += START_CODE.len() + nal.len();
            count += 1;
        })?;
        let has_aud = first_type == Some(self.syntax.aud_type());
        let insert_sets = key && self.parameter_set_types & !types != 0;
        pieces.reserve(2 * count + 2);
        if !has_aud {
            pieces.push(Piece::Static(self.syntax.aud()));
            size += self.syntax.aud().len();
        }
        if insert_sets {
            size += self.parameter_sets.len();
        }
        let mut sets_pending = insert_sets;
        if !has_aud && insert_sets {
            pieces.push(Piece::ParameterSets);
            sets_pending = false;
        }
        // Second pass (the frame was validated: this cannot fail).
        self.walk(frame, |start, nal| {
            pieces.push(Piece::Static(&START_CODE));
            pieces.push(Piece::Frame(start, start + nal.len()));
            if sets_pending {
                // Right after the frame's own delimiter.
                pieces.push(Piece::ParameterSets);
                sets_pending = false;
            }
        })?;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::super::gather::{join, Owners};
    use super::*;

    fn avc(length_size: u8) -> AnnexB {
        let sps = Bytes::from_static(&[0x67, 0x42, 0xC0, 0x0D]);
        let pps = Bytes::from_static(&[0x68, 0xCE, 0x0F, 0xC8]);
        AnnexB::new(NalSyntax::Avc, "H.264", length_size, [&sps, &pps]).unwrap()
    }

    fn convert(c: &AnnexB, frame: &[u8], key: bool) -> Result<Vec<u8>, TsError> {
        let mut pieces = Vec::new();
        let len = c.pieces(frame, key, &mut pieces)?;
        let owners = Owners {
            frame,
            local: &[],
            parameter_sets: c.parameter_sets(),
        };
        let out = join(&pieces, owners);
        assert_eq!(out.len(), len, "the length given is the length written");
        Ok(out)
    }

    #[test]
    fn length_size_4_key_frame_gets_aud_and_parameter_sets() {
        let frame = [0, 0, 0, 3, 0x06, 0xAA, 0xBB, 0, 0, 0, 2, 0x65, 0x88];
        let out = convert(&avc(4), &frame, true).unwrap();
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x09, 0xF0, // AUD
                0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x0D, // SPS
                0, 0, 0, 1, 0x68, 0xCE, 0x0F, 0xC8, // PPS
                0, 0, 0, 1, 0x06, 0xAA, 0xBB, // SEI
                0, 0, 0, 1, 0x65, 0x88, // IDR
            ]
        );
        // Not a key frame: AUD only.
        let out = convert(&avc(4), &frame, false).unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x06, 0xAA, 0xBB, 0, 0, 0, 1, 0x65, 0x88]
        );
    }

    #[test]
    fn length_size_2_with_own_aud_and_parameter_sets() {
        // AUD, SPS, PPS, IDR: nothing to add; an empty NAL unit is dropped.
        let frame = [
            0, 2, 0x09, 0x10, 0, 2, 0x67, 0x01, 0, 0, 0, 2, 0x68, 0x02, 0, 1, 0x65,
        ];
        let out = convert(&avc(2), &frame, true).unwrap();
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 0x01, 0, 0, 0, 1, 0x68, 0x02, 0, 0, 0, 1,
                0x65
            ]
        );
        // Own AUD but no parameter sets: they go right after it.
        let frame = [0, 2, 0x09, 0x10, 0, 1, 0x65];
        let out = convert(&avc(2), &frame, true).unwrap();
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x0D, 0, 0, 0, 1, 0x68, 0xCE,
                0x0F, 0xC8, 0, 0, 0, 1, 0x65
            ]
        );
    }

    #[test]
    fn length_sizes_1_and_3() {
        let out = convert(&avc(1), &[1, 0x41, 2, 0x01, 0x02], false).unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0, 0, 0, 1, 0x01, 0x02]
        );
        let out = convert(&avc(3), &[0, 0, 1, 0x41], false).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41]);
    }

    #[test]
    fn hevc_aud_and_parameter_sets() {
        let vps = Bytes::from_static(&[0x40, 0x01, 0xAA]);
        let sps = Bytes::from_static(&[0x42, 0x01, 0xBB]);
        let pps = Bytes::from_static(&[0x44, 0x01, 0xCC]);
        let c = AnnexB::new(NalSyntax::Hevc, "HEVC", 4, [&vps, &sps, &pps]).unwrap();
        // An IDR_W_RADL (type 19) slice.
        let out = convert(&c, &[0, 0, 0, 3, 0x26, 0x01, 0xAF], true).unwrap();
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 0x01, 0xAA, 0, 0, 0, 1, 0x42, 0x01,
                0xBB, 0, 0, 0, 1, 0x44, 0x01, 0xCC, 0, 0, 0, 1, 0x26, 0x01, 0xAF
            ]
        );
        // Has VPS and SPS but not PPS: all three are inserted.
        let frame = [
            0, 0, 0, 3, 0x40, 0x01, 0xAA, 0, 0, 0, 3, 0x42, 0x01, 0xBB, 0, 0, 0, 2, 0x26, 0x01,
        ];
        let out = convert(&c, &frame, true).unwrap();
        assert_eq!(out.len(), 7 + 21 + 7 + 7 + 6);
    }

    #[test]
    fn hostile_lengths_are_errors() {
        let c = avc(4);
        assert_eq!(
            convert(&c, &[0, 0, 0, 9, 0x65, 0x88], true),
            Err(TsError::NalPastEnd {
                offset: 0,
                length: 9,
                remaining: 2
            })
        );
        assert_eq!(
            convert(&c, &[0xFF, 0xFF, 0xFF, 0xFF, 0x65], true),
            Err(TsError::NalPastEnd {
                offset: 0,
                length: 0xFFFF_FFFF,
                remaining: 1
            })
        );
        assert_eq!(
            convert(&c, &[0, 0, 0, 1, 0x65, 0, 0], false),
            Err(TsError::TruncatedNalLength { offset: 5, size: 4 })
        );
        // Nothing is written for a rejected frame.
        let mut pieces = Vec::new();
        assert!(c
            .pieces(&[0, 0, 0, 1, 0x65, 0, 0, 0, 5, 1], true, &mut pieces)
            .is_err());
        assert!(pieces.is_empty());
        for size in [0, 5, 255] {
            assert!(matches!(
                AnnexB::new(NalSyntax::Avc, "H.264", size, []),
                Err(TsError::UnsupportedConfig { .. })
            ));
        }
    }
}
