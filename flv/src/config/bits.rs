//! Bounded byte and bit readers (with exp-Golomb), a bit writer, and RBSP
//! unescaping, shared by the record parsers.
//!
//! Every read checks the remaining length first and reports
//! [`ConfigError::Truncated`] with the field name and byte offset; nothing here
//! allocates more than its input.

use super::ConfigError;

/// Reads big-endian integers and byte runs from a slice.
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    record: &'static str,
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(data: &'a [u8], record: &'static str) -> Self {
        ByteReader {
            data,
            pos: 0,
            record,
        }
    }

    /// Offset of the next byte.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ConfigError> {
        let rest = &self.data[self.pos..];
        if rest.len() < n {
            return Err(ConfigError::Truncated {
                record: self.record,
                field,
                offset: self.pos,
                needed: n - rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, ConfigError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ConfigError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u16_le(&mut self, field: &'static str) -> Result<u16, ConfigError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ConfigError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u32_le(&mut self, field: &'static str) -> Result<u32, ConfigError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u48(&mut self, field: &'static str) -> Result<u64, ConfigError> {
        let b = self.take(6, field)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }
}

#[derive(Clone)]
/// Reads MSB-first bit fields from a slice. `base` is the offset of the slice in
/// the record, so errors point into the caller's input.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
    base: usize,
    record: &'static str,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8], base: usize, record: &'static str) -> Self {
        BitReader {
            data,
            bit: 0,
            base,
            record,
        }
    }

    /// Record offset of the byte holding the next bit.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.bit / 8
    }

    pub(crate) fn remaining_bits(&self) -> usize {
        self.data.len() * 8 - self.bit
    }

    fn truncated(&self, field: &'static str, bits: usize) -> ConfigError {
        let end_bytes = (self.bit + bits).div_ceil(8);
        ConfigError::Truncated {
            record: self.record,
            field,
            offset: self.offset(),
            needed: end_bytes.saturating_sub(self.data.len()).max(1),
        }
    }

    pub(crate) fn invalid(&self, field: &'static str, value: u64) -> ConfigError {
        ConfigError::InvalidValue {
            record: self.record,
            field,
            offset: self.offset(),
            value,
        }
    }

    /// Reads `n <= 32` bits.
    pub(crate) fn bits(&mut self, n: u32, field: &'static str) -> Result<u32, ConfigError> {
        debug_assert!(n <= 32);
        let n = n.min(32) as usize;
        if self.remaining_bits() < n {
            return Err(self.truncated(field, n));
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            let byte = self.data[self.bit / 8];
            let b = (byte >> (7 - (self.bit % 8))) & 1;
            v = (v << 1) | u64::from(b);
            self.bit += 1;
        }
        Ok(v as u32)
    }

    pub(crate) fn flag(&mut self, field: &'static str) -> Result<bool, ConfigError> {
        Ok(self.bits(1, field)? == 1)
    }

    pub(crate) fn skip(&mut self, n: usize, field: &'static str) -> Result<(), ConfigError> {
        if self.remaining_bits() < n {
            return Err(self.truncated(field, n));
        }
        self.bit += n;
        Ok(())
    }

    /// Skips to the next byte boundary.
    pub(crate) fn align(&mut self) {
        self.bit = self.bit.div_ceil(8) * 8;
    }

    /// Unsigned exp-Golomb `ue(v)` (H.264/H.265 9.2), values up to `u32::MAX - 1`.
    pub(crate) fn ue(&mut self, field: &'static str) -> Result<u32, ConfigError> {
        let start = self.offset();
        let mut zeros = 0u32;
        while !self.flag(field)? {
            zeros += 1;
            if zeros > 31 {
                return Err(ConfigError::InvalidValue {
                    record: self.record,
                    field,
                    offset: start,
                    value: u64::from(zeros),
                });
            }
        }
        if zeros == 0 {
            return Ok(0);
        }
        let rest = self.bits(zeros, field)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }

    /// AV1 `uvlc()` (AV1 4.10.3): values that do not fit 32 bits read as `u32::MAX`.
    pub(crate) fn uvlc(&mut self, field: &'static str) -> Result<u32, ConfigError> {
        let mut zeros = 0u32;
        while !self.flag(field)? {
            zeros += 1;
            if zeros >= 32 {
                // The value is (1 << 32) - 1 by definition; its bits are skipped.
                return Ok(u32::MAX);
            }
        }
        if zeros == 0 {
            return Ok(0);
        }
        let rest = self.bits(zeros, field)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }
}

/// Writes MSB-first bit fields.
#[derive(Default)]
pub(crate) struct BitWriter {
    out: Vec<u8>,
    bit: usize,
}

impl BitWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends the low `n <= 32` bits of `value`.
    pub(crate) fn bits(&mut self, n: u32, value: u32) {
        for i in (0..n.min(32)).rev() {
            if self.bit % 8 == 0 {
                self.out.push(0);
            }
            let b = ((value >> i) & 1) as u8;
            if let Some(last) = self.out.last_mut() {
                *last |= b << (7 - (self.bit % 8));
            }
            self.bit += 1;
        }
    }

    #[cfg(test)]
    pub(crate) fn flag(&mut self, value: bool) {
        self.bits(1, u32::from(value));
    }

    /// The bytes written, the last one zero-padded.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// Removes emulation-prevention bytes (`00 00 03` -> `00 00`) from a NAL unit
/// payload, giving its RBSP. The output is never longer than the input.
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_values() {
        // 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3, 00111 -> 6
        let data = [0b1010_0110, 0b0100_0011, 0b1000_0000];
        let mut r = BitReader::new(&data, 0, "test");
        let got: Vec<u32> = (0..5).map(|_| r.ue("v").unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 6]);
    }

    #[test]
    fn exp_golomb_too_long_is_an_error() {
        let data = [0u8; 8];
        let mut r = BitReader::new(&data, 10, "test");
        assert!(matches!(
            r.ue("v"),
            Err(ConfigError::InvalidValue { offset: 10, .. })
        ));
        let mut r = BitReader::new(&[0u8, 0], 0, "test");
        assert!(matches!(r.ue("v"), Err(ConfigError::Truncated { .. })));
    }

    #[test]
    fn largest_exp_golomb() {
        // 31 zeros, a one, 31 ones: 2^32 - 2.
        let mut w = BitWriter::new();
        w.bits(31, 0);
        w.flag(true);
        w.bits(31, u32::MAX);
        let data = w.finish();
        assert_eq!(BitReader::new(&data, 0, "t").ue("v").unwrap(), u32::MAX - 1);
    }

    #[test]
    fn bit_writer_reader_agree() {
        let mut w = BitWriter::new();
        w.bits(5, 2);
        w.bits(4, 15);
        w.bits(24, 96_000);
        w.flag(true);
        let data = w.finish();
        let mut r = BitReader::new(&data, 0, "t");
        assert_eq!(r.bits(5, "a").unwrap(), 2);
        assert_eq!(r.bits(4, "b").unwrap(), 15);
        assert_eq!(r.bits(24, "c").unwrap(), 96_000);
        assert!(r.flag("d").unwrap());
        assert!(r.remaining_bits() < 8);
    }

    #[test]
    fn rbsp_unescape() {
        assert_eq!(unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3]), [0, 0, 1, 0, 0]);
        assert_eq!(unescape_rbsp(&[0, 0, 0, 3]), [0, 0, 0]);
        assert_eq!(unescape_rbsp(&[1, 2, 3]), [1, 2, 3]);
    }
}
