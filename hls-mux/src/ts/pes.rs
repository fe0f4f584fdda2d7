//! PES packet headers: stream id, length, PTS/DTS on the 33-bit 90 kHz clock.

/// The 33-bit wrap of the MPEG-TS 90 kHz clock.
pub(crate) const WRAP: i64 = 1 << 33;

/// A timestamp of any `i64` on the 33-bit clock (negative values and values
/// past 2^33 wrap, as the MPEG-TS clock does).
pub(crate) fn ts33(ticks: i64) -> u64 {
    ticks.rem_euclid(WRAP) as u64
}

/// The 5 bytes of a PTS or DTS field: `prefix` (4 bits: `0010` PTS only,
/// `0011` PTS followed by DTS, `0001` that DTS) and 33 bits with marker
/// bits.
pub(crate) fn timestamp_bytes(prefix: u8, ts: u64) -> [u8; 5] {
    [
        (prefix << 4) | (((ts >> 30) as u8 & 0x07) << 1) | 1,
        (ts >> 22) as u8,
        (((ts >> 15) as u8) << 1) | 1,
        (ts >> 7) as u8,
        ((ts as u8) << 1) | 1,
    ]
}

/// The most bytes a PES header takes here (with PTS and DTS).
pub(crate) const HEADER_MAX: usize = 19;

/// The PES header for a payload of `payload_len` bytes: the bytes and how
/// many of them are used (14 or 19).
///
/// `PES_packet_length` is the length after it when that fits 16 bits, else
/// 0 (unbounded, allowed for video only: callers check audio lengths). The
/// DTS is written only when it differs from the PTS (on the 33-bit clock).
/// `data_alignment_indicator` is set: every PES starts an access unit.
pub(crate) fn header(
    stream_id: u8,
    payload_len: usize,
    pts: i64,
    dts: i64,
) -> ([u8; HEADER_MAX], usize) {
    let (pts, dts) = (ts33(pts), ts33(dts));
    let with_dts = pts != dts;
    let header_data_len: u8 = if with_dts { 10 } else { 5 };
    let after_length = (3 + usize::from(header_data_len)).saturating_add(payload_len);
    let [len_hi, len_lo] = u16::try_from(after_length).unwrap_or(0).to_be_bytes();
    let mut h = [0u8; HEADER_MAX];
    h[..9].copy_from_slice(&[
        0,
        0,
        1,
        stream_id,
        len_hi,
        len_lo,
        // '10', not scrambled, priority 0, data_alignment_indicator 1, no
        // copyright, copy.
        0x84,
        if with_dts { 0xC0 } else { 0x80 },
        header_data_len,
    ]);
    if with_dts {
        h[9..14].copy_from_slice(&timestamp_bytes(0b0011, pts));
        h[14..19].copy_from_slice(&timestamp_bytes(0b0001, dts));
    } else {
        h[9..14].copy_from_slice(&timestamp_bytes(0b0010, pts));
    }
    (h, 9 + usize::from(header_data_len))
}

/// [`header`] appended to `out`.
#[cfg(test)]
fn write_header(out: &mut Vec<u8>, stream_id: u8, payload_len: usize, pts: i64, dts: i64) {
    let (h, len) = header(stream_id, payload_len, pts, dts);
    out.extend_from_slice(&h[..len]);
}

/// The largest payload whose PES packet still has a length: 65,535 bytes
/// after the length field, less the 13 bytes of flags and timestamps.
pub(crate) const MAX_BOUNDED_PAYLOAD: usize = 0xFFFF - 13;

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads back a 5-byte timestamp field.
    fn read(b: &[u8]) -> u64 {
        (u64::from(b[0] >> 1) & 7) << 30
            | u64::from(b[1]) << 22
            | u64::from(b[2] >> 1) << 15
            | u64::from(b[3]) << 7
            | u64::from(b[4] >> 1)
    }

    #[test]
    fn timestamps_wrap_at_2_pow_33() {
        assert_eq!(ts33(0), 0);
        assert_eq!(ts33(WRAP - 1), (1 << 33) - 1);
        assert_eq!(ts33(WRAP), 0);
        assert_eq!(ts33(WRAP + 90_000), 90_000);
        assert_eq!(ts33(-1), (1 << 33) - 1);
        assert_eq!(ts33(-3 * WRAP + 5), 5);
        assert_eq!(ts33(i64::MIN), 0);
        assert_eq!(ts33(i64::MAX), (1 << 33) - 1);
        for ts in [0, 1, 90_000, (1 << 32) + 12_345, (1 << 33) - 1] {
            let b = timestamp_bytes(0b0010, ts);
            assert_eq!(read(&b), ts);
            assert_eq!(b[0] >> 4, 0b0010);
            assert_eq!((b[0] & 1, b[2] & 1, b[4] & 1), (1, 1, 1), "marker bits");
        }
        assert_eq!(
            timestamp_bytes(0b0010, (1 << 33) - 1),
            [0x2F, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(timestamp_bytes(0b0010, 0), [0x21, 0x00, 0x01, 0x00, 0x01]);
    }

    #[test]
    fn header_with_and_without_dts() {
        let mut out = Vec::new();
        write_header(&mut out, 0xE0, 100, 3_000, 3_000);
        assert_eq!(&out[..9], &[0, 0, 1, 0xE0, 0, 108, 0x84, 0x80, 5]);
        assert_eq!(read(&out[9..14]), 3_000);
        assert_eq!(out.len(), 14);

        out.clear();
        // PTS past the wrap, DTS before it: both written, both wrapped.
        write_header(&mut out, 0xE0, 1_000_000, WRAP + 100, WRAP - 200);
        assert_eq!(&out[..9], &[0, 0, 1, 0xE0, 0, 0, 0x84, 0xC0, 10]);
        assert_eq!(out[9] >> 4, 0b0011);
        assert_eq!(read(&out[9..14]), 100);
        assert_eq!(out[14] >> 4, 0b0001);
        assert_eq!(read(&out[14..19]), (1 << 33) - 200);

        out.clear();
        // Equal on the 33-bit clock: no DTS.
        write_header(&mut out, 0xC0, 10, WRAP + 7, 7);
        assert_eq!(out[7], 0x80);
        out.clear();
        write_header(&mut out, 0xC0, MAX_BOUNDED_PAYLOAD, 0, 0);
        assert_eq!(&out[4..6], &[0xFF, 0xFF - 5]);
    }
}
