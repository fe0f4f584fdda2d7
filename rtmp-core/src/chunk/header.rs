//! Wire layout of chunk headers.

/// Timestamp field value announcing a 4-byte extended timestamp.
pub(crate) const EXTENDED: u32 = 0x00FF_FFFF;

/// Largest chunk header: 3-byte basic header, 11-byte message header, 4-byte
/// extended timestamp.
pub(crate) const MAX_HEADER_LEN: usize = 18;

/// Reads a big-endian 24-bit value.
#[inline(always)]
pub(crate) fn be24(b: [u8; 3]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

/// Splits off the first `N` bytes of `d`, if present.
#[inline(always)]
pub(crate) fn take<const N: usize>(d: &[u8]) -> Option<[u8; N]> {
    d.first_chunk::<N>().copied()
}

/// Parses a basic header: `(fmt, chunk stream id, header length)`, or `None`
/// when `d` is too short.
#[inline(always)]
pub(crate) fn parse_basic(d: &[u8]) -> Option<(u8, u32, usize)> {
    let b0 = *d.first()?;
    let fmt = b0 >> 6;
    match b0 & 0x3F {
        0 => Some((fmt, 64 + u32::from(*d.get(1)?), 2)),
        1 => {
            let [_, lo, hi] = take::<3>(d)?;
            Some((fmt, 64 + u32::from(u16::from_le_bytes([lo, hi])), 3))
        }
        c => Some((fmt, u32::from(c), 1)),
    }
}

/// A growable header scratch area on the stack.
pub(crate) struct HeaderBuf {
    buf: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl HeaderBuf {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; MAX_HEADER_LEN],
            len: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        // Callers never exceed MAX_HEADER_LEN; `get_mut` keeps this panic-free.
        if let Some(dst) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Writes a basic header; `csid` must be in `2..=65599`.
    #[inline(always)]
    pub(crate) fn basic(&mut self, fmt: u8, csid: u32) {
        let f = fmt << 6;
        if csid < 64 {
            self.put(&[f | csid as u8]);
        } else if csid < 320 {
            self.put(&[f, (csid - 64) as u8]);
        } else {
            let [lo, hi] = ((csid - 64) as u16).to_le_bytes();
            self.put(&[f | 1, lo, hi]);
        }
    }

    #[inline(always)]
    pub(crate) fn u24(&mut self, v: u32) {
        let [_, a, b, c] = v.to_be_bytes();
        self.put(&[a, b, c]);
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    #[inline(always)]
    pub(crate) fn u32_be(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    #[inline(always)]
    pub(crate) fn u32_le(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_round_trip() {
        for (csid, len) in [(2, 1), (63, 1), (64, 2), (319, 2), (320, 3), (65_599, 3)] {
            for fmt in 0..4 {
                let mut h = HeaderBuf::new();
                h.basic(fmt, csid);
                assert_eq!(h.as_slice().len(), len);
                assert_eq!(parse_basic(h.as_slice()), Some((fmt, csid, len)));
                assert_eq!(parse_basic(&h.as_slice()[..len - 1]), None);
            }
        }
    }
}
