//! Which closed-caption channels a video stream carries: CEA-608 inside
//! CEA-708 `cc_data` in H.264 and HEVC SEI messages (ATSC A/53 Part 4:
//! `user_data_registered_itu_t_t35`, provider `GA94`), as encoders and
//! FFmpeg's `-a53cc` write them.
//!
//! Players show embedded captions only when the multivariant playlist
//! declares them (`EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS` and the variant's
//! `CLOSED-CAPTIONS`): ExoPlayer and Safari look for nothing undeclared. The
//! muxer scans every video frame's SEI NAL units (nothing else of the frame
//! is read, and nothing is changed) and [`Muxer::captions`](crate::Muxer::captions)
//! says what was seen.
//!
//! CEA-608 channels: field 1 carries CC1 and CC2, field 2 CC3 and CC4; a
//! control code's first byte (parity removed) 0x10-0x17 selects the first of
//! the pair, 0x18-0x1F the second, and the characters after it belong to it.

use flv::config::unescape_rbsp;

/// The largest SEI NAL unit read (encoders write a few dozen bytes of
/// captions per frame); a larger one is not scanned.
const MAX_SEI: usize = 64 * 1024;

/// The CEA-608 channels seen, and whether CEA-708 service data came too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Captions {
    /// CC1 to CC4: bit `n` for channel `n + 1`.
    channels: u8,
    /// Any valid DTVCC (CEA-708) packet data.
    pub dtvcc: bool,
}

impl Captions {
    /// No captions.
    pub const NONE: Captions = Captions {
        channels: 0,
        dtvcc: false,
    };

    /// Whether CEA-608 channel `channel` (1 to 4: CC1 to CC4) carried text.
    pub fn has_channel(&self, channel: u8) -> bool {
        (1..=4).contains(&channel) && self.channels & (1 << (channel - 1)) != 0
    }

    /// The CEA-608 channels that carried text, as `INSTREAM-ID`s (`"CC1"`...).
    pub fn instream_ids(&self) -> Vec<String> {
        (1..=4)
            .filter(|c| self.has_channel(*c))
            .map(|c| format!("CC{c}"))
            .collect()
    }

    /// Whether any channel carried text.
    pub fn any(&self) -> bool {
        self.channels != 0
    }

    /// What either carries.
    pub fn union(self, other: Captions) -> Captions {
        Captions {
            channels: self.channels | other.channels,
            dtvcc: self.dtvcc || other.dtvcc,
        }
    }

    fn mark(&mut self, channel: u8) {
        self.channels |= 1 << (channel - 1);
    }
}

/// How a video frame's NAL units are framed and typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NalFormat {
    /// H.264 with this length prefix size.
    Avc(u8),
    /// HEVC with this length prefix size.
    Hevc(u8),
}

/// Scans video frames for captions, keeping the 608 channel state of each
/// field between frames (a control code in one frame selects the channel
/// of the characters in the next).
#[derive(Clone, Debug, Default)]
pub(crate) struct CaptionScan {
    seen: Captions,
    /// The channel pair member (0 or 1) each field's text goes to.
    current: [u8; 2],
}

impl CaptionScan {
    pub(crate) fn seen(&self) -> Captions {
        self.seen
    }

    /// Reads the SEI NAL units of one frame (length-prefixed NAL units).
    pub(crate) fn scan(&mut self, frame: &[u8], format: NalFormat) {
        let (length_size, header) = match format {
            NalFormat::Avc(size) => (usize::from(size), 1),
            NalFormat::Hevc(size) => (usize::from(size), 2),
        };
        if !(1..=4).contains(&length_size) {
            return;
        }
        let mut rest = frame;
        while rest.len() > length_size {
            let length = rest[..length_size]
                .iter()
                .fold(0usize, |v, b| (v << 8) | usize::from(*b));
            let Some(nal) = rest.get(length_size..length_size + length) else {
                return;
            };
            rest = &rest[length_size + length..];
            if nal.len() > header && nal.len() <= MAX_SEI && is_sei(nal, format) {
                self.sei(&unescape_rbsp(&nal[header..]));
            }
        }
    }

    /// The messages of one SEI RBSP.
    fn sei(&mut self, rbsp: &[u8]) {
        let mut rest = rbsp;
        // Stop at the RBSP trailing bits (a lone 0x80).
        while rest.len() > 1 {
            let Some((kind, after)) = sei_number(rest) else {
                return;
            };
            let Some((size, after)) = sei_number(after) else {
                return;
            };
            let Some(payload) = after.get(..size) else {
                return;
            };
            if kind == 4 {
                self.t35(payload);
            }
            rest = &after[size..];
        }
    }

    /// A `user_data_registered_itu_t_t35` payload: ATSC `GA94` `cc_data`.
    fn t35(&mut self, payload: &[u8]) {
        let Some(data) = payload.strip_prefix(&[0xB5, 0x00, 0x31]) else {
            return;
        };
        let Some(cc) = data.strip_prefix(b"GA94\x03") else {
            return;
        };
        let (Some(&flags), Some(triples)) = (cc.first(), cc.get(2..)) else {
            return;
        };
        if flags & 0x40 == 0 {
            return; // process_cc_data_flag off
        }
        let count = usize::from(flags & 0x1F);
        for triple in triples.chunks_exact(3).take(count) {
            let valid = triple[0] & 0x04 != 0;
            match (valid, triple[0] & 0x03) {
                (true, field @ (0 | 1)) => self.pair(usize::from(field), triple[1], triple[2]),
                (true, _) => self.seen.dtvcc = true,
                (false, _) => {}
            }
        }
    }

    /// A CEA-608 byte pair of field `field` (0 or 1).
    fn pair(&mut self, field: usize, first: u8, second: u8) {
        let (first, second) = (first & 0x7F, second & 0x7F);
        match first {
            // Padding.
            0x00 => {}
            // A control code (or a special or extended character: also
            // sent on the channel it names).
            0x10..=0x1F => {
                self.current[field] = u8::from(first & 0x08 != 0);
                let special = first & 0x07 == 1 && (0x30..=0x3F).contains(&second);
                let extended = matches!(first & 0x07, 2 | 3) && (0x20..=0x3F).contains(&second);
                if special || extended {
                    self.mark(field);
                }
            }
            0x20..=0x7F => self.mark(field),
            _ => {}
        }
    }

    /// Text on field `field`, on its current channel.
    fn mark(&mut self, field: usize) {
        let channel = 1 + 2 * field as u8 + self.current[field];
        self.seen.mark(channel);
    }
}

fn is_sei(nal: &[u8], format: NalFormat) -> bool {
    match format {
        NalFormat::Avc(_) => nal[0] & 0x1F == 6,
        NalFormat::Hevc(_) => matches!((nal[0] >> 1) & 0x3F, 39 | 40),
    }
}

/// An SEI `payloadType` or `payloadSize`: 0xFF bytes add 255 each, the
/// first other byte ends it.
fn sei_number(data: &[u8]) -> Option<(usize, &[u8])> {
    let mut value = 0usize;
    for (at, byte) in data.iter().enumerate() {
        value += usize::from(*byte);
        if *byte != 0xFF {
            return Some((value, &data[at + 1..]));
        }
    }
    None
}

/// Test and fixture support: the bytes of an H.264 SEI NAL unit (without
/// its length prefix) carrying `pairs` CEA-608 byte pairs on field 1, as an
/// encoder writes them (parity added, emulation prevention applied).
#[doc(hidden)]
pub fn h264_sei_with_608(pairs: &[[u8; 2]]) -> Vec<u8> {
    let mut payload = vec![0xB5, 0x00, 0x31];
    payload.extend_from_slice(b"GA94\x03");
    payload.push(0x40 | pairs.len().min(31) as u8); // process_cc_data_flag, cc_count
    payload.push(0xFF); // em_data
    for pair in pairs.iter().take(31) {
        payload.extend_from_slice(&[0xFC, odd_parity(pair[0]), odd_parity(pair[1])]);
    }
    payload.push(0xFF); // marker_bits
    let mut rbsp = vec![4u8]; // payloadType: user_data_registered_itu_t_t35
    let mut size = payload.len();
    while size >= 255 {
        rbsp.push(0xFF);
        size -= 255;
    }
    rbsp.push(size as u8);
    rbsp.extend_from_slice(&payload);
    rbsp.push(0x80); // rbsp_trailing_bits
    let mut nal = vec![0x06];
    let mut zeros = 0;
    for byte in rbsp {
        if zeros >= 2 && byte <= 0x03 {
            nal.push(0x03);
            zeros = 0;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        nal.push(byte);
    }
    nal
}

/// A 7-bit CEA-608 byte with its odd parity bit.
fn odd_parity(byte: u8) -> u8 {
    let byte = byte & 0x7F;
    if byte.count_ones() % 2 == 0 {
        byte | 0x80
    } else {
        byte
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(nals: &[&[u8]]) -> Vec<u8> {
        let mut frame = Vec::new();
        for nal in nals {
            frame.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            frame.extend_from_slice(nal);
        }
        frame
    }

    #[test]
    fn text_after_a_cc1_control_code_is_cc1_and_after_a_cc2_one_cc2() {
        let mut scan = CaptionScan::default();
        // Resume caption loading (CC1), "HI", then the same on CC2.
        let cc1 = h264_sei_with_608(&[[0x14, 0x20], [b'H', b'I']]);
        let slice = [0x65, 0x88, 0x80];
        scan.scan(&framed(&[&cc1, &slice]), NalFormat::Avc(4));
        assert_eq!(scan.seen().instream_ids(), ["CC1"]);
        let cc2 = h264_sei_with_608(&[[0x1C, 0x20], [b'O', b'K']]);
        scan.scan(&framed(&[&cc2]), NalFormat::Avc(4));
        assert_eq!(scan.seen().instream_ids(), ["CC1", "CC2"]);
        assert!(!scan.seen().dtvcc);
    }

    #[test]
    fn padding_alone_is_no_captions() {
        let mut scan = CaptionScan::default();
        let padding = h264_sei_with_608(&[[0x00, 0x00], [0x00, 0x00]]);
        scan.scan(&framed(&[&padding]), NalFormat::Avc(4));
        assert_eq!(scan.seen(), Captions::NONE);
    }

    #[test]
    fn emulation_prevention_is_undone_before_reading() {
        assert_eq!(
            unescape_rbsp(&[0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03]),
            [0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03]
        );
        // Control codes alone (erase displayed memory) are not text.
        let mut scan = CaptionScan::default();
        let erase = h264_sei_with_608(&[[0x14, 0x2C], [0x14, 0x2C]]);
        scan.scan(&framed(&[&erase]), NalFormat::Avc(4));
        assert!(!scan.seen().any());
        // A special character is (the musical note, CC2).
        let note = h264_sei_with_608(&[[0x19, 0x37]]);
        scan.scan(&framed(&[&note]), NalFormat::Avc(4));
        assert_eq!(scan.seen().instream_ids(), ["CC2"]);
    }

    #[test]
    fn truncated_and_hostile_frames_are_read_safely() {
        let sei = h264_sei_with_608(&[[0x14, 0x20], [b'H', b'I']]);
        let whole = framed(&[&sei]);
        for cut in 0..whole.len() {
            let mut scan = CaptionScan::default();
            scan.scan(&whole[..cut], NalFormat::Avc(4));
            scan.scan(&whole[..cut], NalFormat::Hevc(2));
            scan.scan(&whole[..cut], NalFormat::Avc(0));
        }
        let mut scan = CaptionScan::default();
        scan.scan(&[0xFF; 64], NalFormat::Avc(4));
        scan.scan(&[0x00, 0x00, 0x00, 0x02, 0x06, 0xFF], NalFormat::Avc(4));
        assert_eq!(scan.seen(), Captions::NONE);
    }

    #[test]
    fn hevc_prefix_sei_is_read_too() {
        let avc = h264_sei_with_608(&[[0x15, 0x20], [b'X', b'Y']]);
        // The same payload behind an HEVC prefix SEI header (type 39).
        let mut hevc = vec![39 << 1, 0x01];
        hevc.extend_from_slice(&avc[1..]);
        let mut scan = CaptionScan::default();
        scan.scan(&framed(&[&hevc]), NalFormat::Hevc(4));
        // 0x15 is field 1's first channel: CC1 (0x15 0x20 is "resume
        // caption loading" as some encoders write it for field 2 too).
        assert_eq!(scan.seen().instream_ids(), ["CC1"]);
    }
}
