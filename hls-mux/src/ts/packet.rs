//! 188-byte transport packets: a PES packet split over as many as it needs
//! (adaptation field with PCR and random access indicator on the first,
//! adaptation-field stuffing on the last), and PCR-only packets.

use bytes::{BufMut, BytesMut};

use super::gather::Gather;

/// Bytes in a transport packet.
pub(crate) const PACKET_SIZE: usize = 188;
/// The first byte of every packet.
pub(crate) const SYNC_BYTE: u8 = 0x47;
/// Bytes after the 4-byte packet header.
const BODY: usize = PACKET_SIZE - 4;

/// The 6 bytes of a `program_clock_reference` for `base` (33 bits, 90 kHz)
/// with extension 0.
pub(crate) fn pcr_bytes(base: u64) -> [u8; 6] {
    let base = base & ((1 << 33) - 1);
    [
        (base >> 25) as u8,
        (base >> 17) as u8,
        (base >> 9) as u8,
        (base >> 1) as u8,
        // Last bit of the base, 6 reserved bits, extension high bit (0).
        ((base & 1) as u8) << 7 | 0x7E,
        0, // extension low bits
    ]
}

/// What the first packet of a PES packet signals in its adaptation field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FirstPacket {
    /// `random_access_indicator`.
    pub(crate) random_access: bool,
    /// A PCR base (90 kHz, 33 bits).
    pub(crate) pcr: Option<u64>,
}

/// Appends a PES packet of `len` bytes, read from `pes`, as transport
/// packets on `pid`.
///
/// `cc` is the PID's last continuity counter; each packet (all carry payload)
/// advances it. The first packet has `payload_unit_start_indicator` set and,
/// when `first` asks for it, an adaptation field with the flags and the PCR;
/// the last is padded to 188 bytes with adaptation-field stuffing.
pub(crate) fn write_pes_packets<'a>(
    out: &mut BytesMut,
    pid: u16,
    cc: &mut u8,
    len: usize,
    pes: impl Iterator<Item = &'a [u8]>,
    first: FirstPacket,
) {
    out.reserve((len / BODY + 2) * PACKET_SIZE);
    let mut pes = Gather::new(pes);
    let mut rest = len;
    let mut is_first = true;
    let [pid_hi, pid_lo] = pid.to_be_bytes();
    let pid_hi = pid_hi & 0x1F;
    while is_first || rest > 0 {
        if !is_first && rest > BODY {
            // A full packet in the middle: no adaptation field.
            *cc = (*cc + 1) & 0x0F;
            out.extend_from_slice(&[SYNC_BYTE, pid_hi, pid_lo, 0x10 | *cc]);
            match pes.next_array::<BODY>() {
                Some(body) => out.extend_from_slice(body),
                None => pes.copy_to(out, BODY),
            }
            rest -= BODY;
            continue;
        }
        let (flags, pcr) = if is_first {
            let rai = if first.random_access { 0x40 } else { 0 };
            let pcr_flag = if first.pcr.is_some() { 0x10 } else { 0 };
            (rai | pcr_flag, first.pcr)
        } else {
            (0, None)
        };
        // Bytes of the adaptation field after its length byte.
        let mut af_len: Option<usize> = (flags != 0).then(|| 1 + if pcr.is_some() { 6 } else { 0 });
        let space = BODY - af_len.map_or(0, |len| 1 + len);
        let take = rest.min(space);
        let stuffing = space - take;
        if stuffing > 0 {
            // A missing field costs its length byte first: one byte of stuffing
            // is an empty adaptation field.
            af_len = Some(match af_len {
                Some(len) => len + stuffing,
                None => stuffing - 1,
            });
        }
        *cc = (*cc + 1) & 0x0F;
        let pusi = if is_first { 0x40 } else { 0 };
        let control = if af_len.is_some() { 0x30 } else { 0x10 };
        out.extend_from_slice(&[SYNC_BYTE, pusi | pid_hi, pid_lo, control | *cc]);
        if let Some(len) = af_len {
            out.put_u8(len as u8);
            if len > 0 {
                out.put_u8(flags);
                let mut used = 1;
                if let Some(base) = pcr {
                    out.extend_from_slice(&pcr_bytes(base));
                    used += 6;
                }
                out.put_bytes(0xFF, len - used);
            }
        }
        pes.copy_to(out, take);
        rest -= take;
        is_first = false;
    }
}

/// Appends a packet on `pid` that carries only a PCR (adaptation field only,
/// no payload: the continuity counter `cc`, the PID's last one, is repeated
/// and not advanced, as ISO/IEC 13818-1 2.4.3.3 requires).
pub(crate) fn write_pcr_only(out: &mut BytesMut, pid: u16, cc: u8, pcr_base: u64) {
    out.reserve(PACKET_SIZE);
    out.put_u8(SYNC_BYTE);
    out.put_u8((pid >> 8) as u8 & 0x1F);
    out.put_u8(pid as u8);
    out.put_u8(0x20 | (cc & 0x0F)); // adaptation field only
    out.put_u8((BODY - 1) as u8);
    out.put_u8(0x10); // PCR_flag
    out.put_slice(&pcr_bytes(pcr_base));
    out.put_bytes(0xFF, BODY - 1 - 1 - 6);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `out` into packets, checking the sync byte and the size.
    fn packets(out: &[u8]) -> Vec<&[u8]> {
        assert_eq!(out.len() % PACKET_SIZE, 0, "not a whole number of packets");
        out.chunks(PACKET_SIZE)
            .inspect(|p| assert_eq!(p[0], SYNC_BYTE))
            .collect()
    }

    /// The payload of a packet (after any adaptation field).
    fn payload(p: &[u8]) -> &[u8] {
        match (p[3] >> 4) & 3 {
            1 => &p[4..],
            3 => &p[5 + usize::from(p[4])..],
            _ => &[],
        }
    }

    /// Every PES size around the packet boundaries, with and without the
    /// first packet's adaptation field, reassembles exactly.
    #[test]
    fn boundaries_and_stuffing() {
        for first in [
            FirstPacket::default(),
            FirstPacket {
                random_access: true,
                pcr: None,
            },
            FirstPacket {
                random_access: true,
                pcr: Some(123_456),
            },
        ] {
            for len in (1..=600).chain([BODY * 10 - 1, BODY * 10, BODY * 10 + 1]) {
                let pes: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = BytesMut::new();
                let mut cc = 15;
                // In pieces that end inside and across packets.
                let c1 = len / 3;
                let c2 = (c1 + 1).min(len);
                let cuts = [c1, c2, (len * 2 / 3).max(c2), len];
                let pieces = [0, cuts[0], cuts[1], cuts[2]]
                    .into_iter()
                    .zip(cuts)
                    .map(|(a, b)| &pes[a..b]);
                write_pes_packets(&mut out, 0x100, &mut cc, pes.len(), pieces, first);
                let packets = packets(&out);
                let joined: Vec<u8> = packets.iter().flat_map(|p| payload(p).to_vec()).collect();
                assert_eq!(joined, pes, "len {len}");
                assert_eq!(packets[0][1] & 0x40, 0x40);
                assert!(packets[1..].iter().all(|p| p[1] & 0x40 == 0));
                assert_eq!(usize::from(cc), (packets.len() - 1) % 16);
                if first.random_access {
                    assert_eq!(packets[0][5] & 0x40, 0x40);
                }
                if let Some(base) = first.pcr {
                    assert_eq!(packets[0][5] & 0x10, 0x10);
                    assert_eq!(packets[0][6..12], pcr_bytes(base));
                }
            }
        }
    }

    #[test]
    fn continuity_counter_increments_and_wraps() {
        let mut out = BytesMut::new();
        let mut cc = 13;
        write_pes_packets(
            &mut out,
            0x101,
            &mut cc,
            BODY * 5,
            std::iter::once(&[0; BODY * 5][..]),
            FirstPacket::default(),
        );
        let counters: Vec<u8> = packets(&out).iter().map(|p| p[3] & 0x0F).collect();
        assert_eq!(counters, [14, 15, 0, 1, 2]);
        assert_eq!(cc, 2);
        write_pcr_only(&mut out, 0x101, cc, 0);
        assert_eq!(out[out.len() - PACKET_SIZE + 3], 0x22);
    }

    #[test]
    fn pcr_encoding() {
        // base 2^33 - 1: all 33 bits set, then reserved bits, extension 0.
        assert_eq!(
            pcr_bytes((1 << 33) - 1),
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x00]
        );
        assert_eq!(pcr_bytes(1), [0, 0, 0, 0, 0xFE, 0]);
        assert_eq!(pcr_bytes(2), [0, 0, 0, 1, 0x7E, 0]);
        let mut out = BytesMut::new();
        write_pcr_only(&mut out, 0x100, 7, 90_000);
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(&out[..6], &[0x47, 0x01, 0x00, 0x27, 183, 0x10]);
    }
}
