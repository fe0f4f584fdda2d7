//! Reading what a `splice_info_section` says about an ad break: the
//! `splice_insert` command, or a `time_signal` with a segmentation descriptor
//! of an ad or break type (ANSI/SCTE 35 9.7.3, 9.7.4, 10.3.3).
//!
//! Encoders (Elemental, Wirecast, AWS MediaLive) send the section as it came
//! in their transport stream; the muxer passes those bytes on unchanged in
//! `SCTE35-OUT`/`SCTE35-IN` and only needs to know the event, its direction
//! and its duration to cut the segments. Every field is bounds-checked and
//! the CRC is verified: a damaged section is refused, never half-read.

use crate::ts::crc32;

/// A section's length is 12 bits: at most this many bytes in all.
pub const MAX_SECTION: usize = 3 + 0xFFF;

/// What a section says about an ad break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpliceSignal {
    /// `splice_event_id` or `segmentation_event_id`.
    pub event_id: u32,
    /// The break starts, ends, or is cancelled.
    pub kind: SignalKind,
    /// `break_duration` or `segmentation_duration`, 90 kHz ticks.
    pub duration: Option<u64>,
}

/// The direction of a [`SpliceSignal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalKind {
    /// Out of the network: the break starts.
    Out,
    /// Back in: the break ends.
    In,
    /// `splice_event_cancel_indicator`: an announced event is withdrawn.
    Cancel,
}

/// A section that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Scte35Error {
    /// The section ends before a field.
    #[error("SCTE-35 section truncated: expected {needed} bytes for {what}, {had} left")]
    Truncated {
        /// The field.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        had: usize,
    },
    /// Not a splice_info_section.
    #[error("not a SCTE-35 splice_info_section: expected table_id 0xFC, found {found:#04x}")]
    TableId {
        /// The first byte.
        found: u8,
    },
    /// The CRC does not match the bytes.
    #[error("SCTE-35 section CRC mismatch: expected a section whose CRC-32 checks, the remainder is {remainder:#010x}")]
    Crc {
        /// The CRC-32 over the whole section (0 when it checks).
        remainder: u32,
    },
    /// The command is encrypted (we hold no control words).
    #[error("SCTE-35 section encrypted: expected a clear command")]
    Encrypted,
}

/// Reads what `section` (a whole `splice_info_section`, CRC included) says
/// about an ad break: `Ok(None)` for commands and segmentation types that
/// are not about one (`splice_null`, program boundaries, chapters...).
pub fn read_signal(section: &[u8]) -> Result<Option<SpliceSignal>, Scte35Error> {
    let mut r = Reader::new(section);
    let table_id = r.u8("table_id")?;
    if table_id != 0xFC {
        return Err(Scte35Error::TableId { found: table_id });
    }
    let length = usize::from(r.u16("section_length")? & 0x0FFF);
    let section = r
        .take("the section", length)
        .map(|_| &section[..3 + length])?;
    let remainder = crc32(section);
    if remainder != 0 {
        return Err(Scte35Error::Crc { remainder });
    }
    let mut r = Reader::new(&section[3..section.len() - 4]);
    r.u8("protocol_version")?;
    if r.u8("encrypted_packet")? & 0x80 != 0 {
        return Err(Scte35Error::Encrypted);
    }
    r.take("pts_adjustment", 4)?;
    r.u8("cw_index")?;
    let tier_and_length = r.take("tier", 3)?;
    let command_length =
        usize::from(u16::from_be_bytes([tier_and_length[1], tier_and_length[2]]) & 0x0FFF);
    let command_type = r.u8("splice_command_type")?;
    match command_type {
        0x05 => splice_insert(&mut r),
        0x06 => {
            // A length of 0xFFF is "unknown" in old encoders: read it by its type.
            if command_length != 0xFFF {
                r.take("time_signal", command_length)?;
            } else {
                splice_time(&mut r)?;
            }
            let descriptors = usize::from(r.u16("descriptor_loop_length")?);
            segmentation(&mut Reader::new(r.take("descriptors", descriptors)?))
        }
        _ => Ok(None),
    }
}

/// `splice_insert()`, after its type byte.
fn splice_insert(r: &mut Reader) -> Result<Option<SpliceSignal>, Scte35Error> {
    let event_id = r.u32("splice_event_id")?;
    if r.u8("splice_event_cancel_indicator")? & 0x80 != 0 {
        return Ok(Some(signal(event_id, SignalKind::Cancel, None)));
    }
    let flags = r.u8("splice_insert flags")?;
    let out = flags & 0x80 != 0;
    let program = flags & 0x40 != 0;
    let has_duration = flags & 0x20 != 0;
    let immediate = flags & 0x10 != 0;
    if program && !immediate {
        splice_time(r)?;
    }
    if !program {
        let components = r.u8("component_count")?;
        for _ in 0..components {
            r.u8("component_tag")?;
            if !immediate {
                splice_time(r)?;
            }
        }
    }
    let duration = match has_duration {
        true => Some(time33(r.take("break_duration", 5)?)),
        false => None,
    };
    let kind = if out { SignalKind::Out } else { SignalKind::In };
    Ok(Some(signal(event_id, kind, duration)))
}

/// `splice_time()`: a flag byte, and four more bytes when a time is given.
fn splice_time(r: &mut Reader) -> Result<(), Scte35Error> {
    if r.u8("splice_time")? & 0x80 != 0 {
        r.take("pts_time", 4)?;
    }
    Ok(())
}

/// The first segmentation descriptor of an ad or break type in a
/// `time_signal`'s descriptor loop.
fn segmentation(r: &mut Reader) -> Result<Option<SpliceSignal>, Scte35Error> {
    while !r.is_empty() {
        let tag = r.u8("splice_descriptor_tag")?;
        let length = usize::from(r.u8("descriptor_length")?);
        let body = r.take("splice_descriptor", length)?;
        if tag != 0x02 || body.get(..4) != Some(b"CUEI") {
            continue;
        }
        if let Some(signal) = segmentation_descriptor(&mut Reader::new(&body[4..]))? {
            return Ok(Some(signal));
        }
    }
    Ok(None)
}

/// `segmentation_descriptor()` after its identifier.
fn segmentation_descriptor(r: &mut Reader) -> Result<Option<SpliceSignal>, Scte35Error> {
    let event_id = r.u32("segmentation_event_id")?;
    if r.u8("segmentation_event_cancel_indicator")? & 0x80 != 0 {
        return Ok(Some(signal(event_id, SignalKind::Cancel, None)));
    }
    let flags = r.u8("segmentation flags")?;
    if flags & 0x80 == 0 {
        // Not the whole program: a component list, 6 bytes each after its count.
        let components = usize::from(r.u8("component_count")?);
        r.take("components", components * 6)?;
    }
    let duration = match flags & 0x40 != 0 {
        true => {
            let bytes = r.take("segmentation_duration", 5)?;
            Some(bytes.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
        }
        false => None,
    };
    r.u8("segmentation_upid_type")?;
    let upid = usize::from(r.u8("segmentation_upid_length")?);
    r.take("segmentation_upid", upid)?;
    let kind = match r.u8("segmentation_type_id")? {
        // Break, provider and distributor advertisement and placement
        // opportunity starts (0x22, 0x30..=0x37 even); their ends are odd.
        0x22 | 0x30 | 0x32 | 0x34 | 0x36 | 0x38 | 0x3A | 0x44 | 0x46 => SignalKind::Out,
        0x23 | 0x31 | 0x33 | 0x35 | 0x37 | 0x39 | 0x3B | 0x45 | 0x47 => SignalKind::In,
        _ => return Ok(None),
    };
    Ok(Some(signal(event_id, kind, duration)))
}

fn signal(event_id: u32, kind: SignalKind, duration: Option<u64>) -> SpliceSignal {
    SpliceSignal {
        event_id,
        kind,
        duration,
    }
}

/// A flag bit, six reserved bits and a 33-bit time.
fn time33(bytes: &[u8]) -> u64 {
    let high = u64::from(bytes[0] & 1) << 32;
    high | u64::from(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]))
}

/// A bounds-checked cursor.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn take(&mut self, what: &'static str, needed: usize) -> Result<&'a [u8], Scte35Error> {
        if self.data.len() < needed {
            return Err(Scte35Error::Truncated {
                what,
                needed,
                had: self.data.len(),
            });
        }
        let (head, rest) = self.data.split_at(needed);
        self.data = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, Scte35Error> {
        Ok(self.take(what, 1)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, Scte35Error> {
        let bytes = self.take(what, 2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Scte35Error> {
        let bytes = self.take(what, 4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scte35::SpliceInsert;

    #[test]
    fn our_own_splice_inserts_read_back() {
        let out = SpliceInsert::out(42, Some(900_000), Some(2_700_000)).to_bytes();
        assert_eq!(
            read_signal(&out),
            Ok(Some(signal(42, SignalKind::Out, Some(2_700_000))))
        );
        let back = SpliceInsert::back_in(42, None).to_bytes();
        assert_eq!(
            read_signal(&back),
            Ok(Some(signal(42, SignalKind::In, None)))
        );
    }

    #[test]
    fn a_time_signal_with_a_placement_opportunity_start_is_a_break() {
        // Made by threefive (not by us): time_signal, segmentation_descriptor
        // event 0x4800008e, 0x34 (provider placement opportunity start),
        // duration 0x52ccc2 (60.293 s), no upid.
        let section = from_hex(
            "FC302C00000000000000FFF00506FE001EE62800160214435545494800008E7FFF000052CCC20F00340000618EE444",
        );
        let read = read_signal(&section).unwrap().unwrap();
        assert_eq!(read.event_id, 0x4800_008E);
        assert_eq!(read.kind, SignalKind::Out);
        assert_eq!(read.duration, Some(0x0052_CCC2));
    }

    #[test]
    fn damage_is_refused_not_misread() {
        let mut out = SpliceInsert::out(1, None, Some(90_000)).to_bytes();
        let last = out.len() - 1;
        out[last] ^= 1;
        assert!(matches!(read_signal(&out), Err(Scte35Error::Crc { .. })));
        let whole = SpliceInsert::out(1, None, Some(90_000)).to_bytes();
        for cut in 0..whole.len() {
            assert!(read_signal(&whole[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(
            read_signal(&[0x00, 0x30, 0x00]),
            Err(Scte35Error::TableId { found: 0 })
        );
    }

    #[test]
    fn no_input_panics() {
        let whole = SpliceInsert::out(9, Some(1), Some(2)).to_bytes();
        for at in 0..whole.len() {
            for bit in 0..8 {
                let mut bytes = whole.clone();
                bytes[at] ^= 1 << bit;
                let _ = read_signal(&bytes);
            }
        }
    }

    fn from_hex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}
