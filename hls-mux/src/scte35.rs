//! SCTE-35 `splice_insert` cues (ANSI/SCTE 35 9.7.3), for the `SCTE35-OUT` and
//! `SCTE35-IN` attributes of `EXT-X-DATERANGE` (RFC 8216bis 4.4.5.1.1), and
//! [`read_signal`] for the sections encoders send.

use crate::ts::crc32;

mod read;
pub use read::{read_signal, Scte35Error, SignalKind, SpliceSignal, MAX_SECTION};

/// A `splice_insert` command: the start (`out`) or end of an ad break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpliceInsert {
    /// `splice_event_id`: the same for a break's out and in.
    pub event_id: u32,
    /// `out_of_network_indicator`: the break starts (true) or ends.
    pub out_of_network: bool,
    /// `splice_time`: the presentation time (90 kHz, 33 bits) of the splice
    /// point; `None` for `splice_immediate`.
    pub pts: Option<u64>,
    /// `break_duration` (90 kHz, 33 bits), with `auto_return`: the break ends
    /// by itself after it.
    pub duration: Option<u64>,
}

impl SpliceInsert {
    /// The start of a break of `duration` (90 kHz ticks) at `pts`.
    pub fn out(event_id: u32, pts: Option<u64>, duration: Option<u64>) -> SpliceInsert {
        SpliceInsert {
            event_id,
            out_of_network: true,
            pts,
            duration,
        }
    }

    /// The return from break `event_id` at `pts`.
    pub fn back_in(event_id: u32, pts: Option<u64>) -> SpliceInsert {
        SpliceInsert {
            event_id,
            out_of_network: false,
            pts,
            duration: None,
        }
    }

    /// The whole `splice_info_section`, CRC included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let command = self.command();
        let mut section = vec![0xFC, 0, 0];
        section.push(0); // protocol_version
        section.extend_from_slice(&[0; 5]); // not encrypted, pts_adjustment 0
        section.push(0); // cw_index
        let length = command.len() as u16;
        // tier 0xFFF (no tier), splice_command_length, splice_command_type 5.
        section.extend_from_slice(&[0xFF, 0xF0 | (length >> 8) as u8, length as u8, 0x05]);
        section.extend_from_slice(&command);
        section.extend_from_slice(&[0, 0]); // descriptor_loop_length
                                            // section_length: what follows its field, the CRC included.
        let section_length = (section.len() - 3 + 4) as u16;
        section[1] = 0x30 | (section_length >> 8) as u8; // sap_type 3: not specified
        section[2] = section_length as u8;
        let crc = crc32(&section);
        section.extend_from_slice(&crc.to_be_bytes());
        section
    }

    /// The `splice_insert()` bytes.
    fn command(&self) -> Vec<u8> {
        let mut command = self.event_id.to_be_bytes().to_vec();
        command.push(0x7F); // not cancelled
        let flags = u8::from(self.out_of_network) << 7
            | 1 << 6 // program_splice_flag
            | u8::from(self.duration.is_some()) << 5
            | u8::from(self.pts.is_none()) << 4
            | 0x0F;
        command.push(flags);
        if let Some(pts) = self.pts {
            command.extend_from_slice(&time_field(pts)); // time_specified_flag set
        }
        if let Some(duration) = self.duration {
            command.extend_from_slice(&time_field(duration)); // auto_return set
        }
        command.extend_from_slice(&[0, 0, 0, 0]); // unique_program_id, avail 0 of 0
        command
    }
}

/// A flag bit set, six reserved bits, and a 33-bit time: 5 bytes.
fn time_field(ticks: u64) -> [u8; 5] {
    let ticks = ticks & ((1 << 33) - 1);
    let low = (ticks as u32).to_be_bytes();
    [0xFE | (ticks >> 32) as u8, low[0], low[1], low[2], low[3]]
}

/// `0x` and upper-case hex, as `SCTE35-OUT` is written.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for byte in bytes {
        out.push_str(&format!("{byte:02X}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_has_its_length_and_crc_and_the_fields_where_the_standard_puts_them() {
        let out = SpliceInsert::out(7, Some(0x1_2345_6789), Some(30 * 90_000)).to_bytes();
        assert_eq!(out[0], 0xFC);
        let length = usize::from(u16::from_be_bytes([out[1], out[2]]) & 0x0FFF);
        assert_eq!(length + 3, out.len());
        // The CRC of a whole section, CRC included, is 0 (MPEG-2 CRC-32).
        assert_eq!(crc32(&out), 0);
        assert_eq!(out[13], 0x05, "splice_insert");
        assert_eq!(&out[14..18], &7u32.to_be_bytes());
        // out_of_network, program_splice, duration; not immediate.
        assert_eq!(out[19] & 0xF0, 0xE0);
        // The 33-bit PTS: its top bit in the flag byte.
        assert_eq!(&out[20..25], &[0xFF, 0x23, 0x45, 0x67, 0x89]);
        assert_eq!(&out[25..30], &time_field(2_700_000));
        let back = SpliceInsert::back_in(7, None).to_bytes();
        assert_eq!(back[19] & 0xF0, 0x50, "in, program, immediate");
        assert_eq!(crc32(&back), 0);
        assert_eq!(hex(&[0xFC, 0x30]), "0xFC30");
    }
}
