//! 32-bit wire timestamps onto a 64-bit timeline.

/// Places the 32-bit wire timestamp `wire` at the 64-bit value nearest `prev`
/// whose low 32 bits are `wire` (serial number arithmetic). A step of exactly
/// 2^31 counts as a step back. A result below zero falls back to `wire` itself.
#[inline]
pub(crate) fn unwrap(prev: u64, wire: u32) -> u64 {
    let step = i64::from(wire.wrapping_sub(prev as u32) as i32);
    prev.checked_add_signed(step).unwrap_or(u64::from(wire))
}

#[cfg(test)]
mod tests {
    use super::unwrap;

    #[test]
    fn forward_backward_and_wrap() {
        assert_eq!(unwrap(0, 10), 10);
        assert_eq!(unwrap(100, 90), 90);
        assert_eq!(unwrap(0xFFFF_FF00, 0x100), 0x1_0000_0100);
        assert_eq!(unwrap(0x1_0000_0100, 0xFFFF_FF00), 0xFFFF_FF00);
        assert_eq!(unwrap(10, 0xFFFF_FFF0), 0xFFFF_FFF0);
        assert_eq!(unwrap(u64::MAX, 0), 0);
    }
}
