//! A small MSB-first bit reader over an RBSP: it drops the emulation prevention
//! byte (`00 00 03`) as it goes, so callers read NAL unit payloads in place.

/// Reads bits from a NAL unit payload (after its header).
pub(crate) struct RbspBits<'a> {
    data: &'a [u8],
    /// Index of the next byte to load.
    next: usize,
    /// Zero bytes seen just before `next` (for emulation prevention).
    zeros: u8,
    /// Loaded bits, MSB first, `count` of them valid at the top.
    cache: u64,
    count: u32,
}

impl<'a> RbspBits<'a> {
    pub(crate) fn new(data: &'a [u8]) -> RbspBits<'a> {
        RbspBits {
            data,
            next: 0,
            zeros: 0,
            cache: 0,
            count: 0,
        }
    }

    /// Loads bytes until at least 33 bits are cached or the data ends.
    fn refill(&mut self) {
        while self.count <= 56 {
            let Some(&byte) = self.data.get(self.next) else {
                return;
            };
            self.next += 1;
            if self.zeros >= 2 && byte == 3 {
                self.zeros = 0;
                continue;
            }
            self.zeros = if byte == 0 { self.zeros + 1 } else { 0 };
            self.cache |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` bits (0..=32), or `None` past the end.
    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        if n == 0 {
            return Some(0);
        }
        if n > 32 {
            return None;
        }
        if self.count < n {
            self.refill();
            if self.count < n {
                return None;
            }
        }
        let value = (self.cache >> (64 - n)) as u32;
        self.cache <<= n;
        self.count -= n;
        Some(value)
    }

    pub(crate) fn bit(&mut self) -> Option<bool> {
        self.bits(1).map(|b| b == 1)
    }

    /// An unsigned Exp-Golomb code (`ue(v)`), up to 32 bits of value.
    pub(crate) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::RbspBits;

    #[test]
    fn reads_bits_and_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 0 -> ue 0, 1, 2, 3, then a zero bit.
        let data = [0b1010_0110, 0b0100_0000];
        let mut bits = RbspBits::new(&data);
        assert_eq!(bits.ue(), Some(0));
        assert_eq!(bits.ue(), Some(1));
        assert_eq!(bits.ue(), Some(2));
        assert_eq!(bits.ue(), Some(3));
        assert_eq!(bits.bit(), Some(false));
        assert_eq!(bits.bits(3), Some(0));
        assert_eq!(bits.bit(), None);
    }

    #[test]
    fn skips_emulation_prevention() {
        let data = [0x00, 0x00, 0x03, 0x01, 0xff];
        let mut bits = RbspBits::new(&data);
        assert_eq!(bits.bits(24), Some(0x000001));
        assert_eq!(bits.bits(8), Some(0xff));
        assert_eq!(bits.bits(1), None);
    }

    #[test]
    fn ue_longer_than_32_bits_is_refused() {
        let data = [0u8; 10];
        assert_eq!(RbspBits::new(&data).ue(), None);
    }
}
