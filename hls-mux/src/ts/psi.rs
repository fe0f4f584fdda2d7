//! Program-specific information: the PAT and PMT sections, their CRC-32, and
//! the single TS packet each fits in.

use bytes::{BufMut, BytesMut};

use super::packet::{PACKET_SIZE, SYNC_BYTE};

/// PID of the program association table.
pub(crate) const PAT_PID: u16 = 0x0000;
/// PID of the program map table (FFmpeg's default).
pub(crate) const PMT_PID: u16 = 0x1000;
/// The one program's number (FFmpeg's default service id).
const PROGRAM_NUMBER: u16 = 1;
/// `transport_stream_id` (FFmpeg's default).
const TRANSPORT_STREAM_ID: u16 = 1;

/// CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial
/// value all ones, no reflection, no final XOR.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0xFFFF_FFFF, |crc, &byte| {
        CRC_TABLE[usize::from((crc >> 24) as u8 ^ byte)] ^ (crc << 8)
    })
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// One elementary stream of the PMT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EsInfo {
    /// `stream_type`.
    pub(crate) stream_type: u8,
    /// `elementary_PID`.
    pub(crate) pid: u16,
    /// The descriptors of the ES_info loop, already serialized.
    pub(crate) descriptors: Vec<u8>,
}

/// A section with the long-form header (`section_syntax_indicator` 1,
/// version 0, current, section 0 of 0) around `body`, with its CRC.
fn section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
    // 5 bytes after section_length, the body, 4 of CRC.
    let section_length = 5 + body.len() + 4;
    let mut s = Vec::with_capacity(3 + section_length);
    s.push(table_id);
    // section_syntax_indicator, '0', reserved '11', 12-bit length.
    s.push(0xB0 | ((section_length >> 8) as u8 & 0x0F));
    s.push(section_length as u8);
    s.extend_from_slice(&id.to_be_bytes());
    // reserved '11', version_number 0, current_next_indicator 1.
    s.push(0xC1);
    s.push(0); // section_number
    s.push(0); // last_section_number
    s.extend_from_slice(body);
    let crc = crc32(&s);
    s.extend_from_slice(&crc.to_be_bytes());
    s
}

/// The PAT section: program 1 on [`PMT_PID`].
pub(crate) fn pat_section() -> Vec<u8> {
    let mut body = Vec::with_capacity(4);
    body.extend_from_slice(&PROGRAM_NUMBER.to_be_bytes());
    body.extend_from_slice(&(0xE000 | PMT_PID).to_be_bytes());
    section(0x00, TRANSPORT_STREAM_ID, &body)
}

/// The PMT section of program 1: the PCR PID and one entry per stream.
pub(crate) fn pmt_section(pcr_pid: u16, streams: &[EsInfo]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(0xE000 | pcr_pid).to_be_bytes());
    body.extend_from_slice(&0xF000u16.to_be_bytes()); // program_info_length 0
    for es in streams {
        body.push(es.stream_type);
        body.extend_from_slice(&(0xE000 | es.pid).to_be_bytes());
        let len = es.descriptors.len() as u16 & 0x0FFF;
        body.extend_from_slice(&(0xF000 | len).to_be_bytes());
        body.extend_from_slice(&es.descriptors);
    }
    section(0x02, PROGRAM_NUMBER, &body)
}

/// The largest section one packet carries (after the 4-byte header and the
/// pointer field).
pub(crate) const MAX_SECTION: usize = PACKET_SIZE - 5;

/// Appends `section` as one TS packet on `pid`: payload unit start, pointer
/// field 0, the section, 0xFF stuffing. `cc` is the PID's last continuity
/// counter and is advanced. `section` must fit ([`MAX_SECTION`]); the callers
/// build sections of at most two streams, far below it.
pub(crate) fn write_section_packet(out: &mut BytesMut, pid: u16, cc: &mut u8, section: &[u8]) {
    debug_assert!(section.len() <= MAX_SECTION);
    let section = &section[..section.len().min(MAX_SECTION)];
    *cc = (*cc + 1) & 0x0F;
    out.reserve(PACKET_SIZE);
    out.put_u8(SYNC_BYTE);
    out.put_u8(0x40 | ((pid >> 8) as u8 & 0x1F));
    out.put_u8(pid as u8);
    out.put_u8(0x10 | *cc); // payload only
    out.put_u8(0); // pointer_field
    out.put_slice(section);
    out.put_bytes(0xFF, MAX_SECTION - section.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PAT FFmpeg writes (program 1 on PID 0x1000), byte for byte,
    /// including its CRC.
    #[test]
    fn pat_matches_ffmpeg() {
        let expected = [
            0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
            0x04, 0xB2,
        ];
        assert_eq!(pat_section(), expected);
        assert_eq!(crc32(&expected[..12]), 0x2AB1_04B2);
        // The CRC over a whole section, CRC included, is 0.
        assert_eq!(crc32(&expected), 0);
    }

    /// The PMT FFmpeg's HLS muxer writes for H.264 + AAC (corpus
    /// hls/ts_h264_aac/seg000.ts).
    #[test]
    fn pmt_matches_ffmpeg() {
        let streams = [
            EsInfo {
                stream_type: 0x1B,
                pid: 0x100,
                descriptors: vec![],
            },
            EsInfo {
                stream_type: 0x0F,
                pid: 0x101,
                descriptors: vec![],
            },
        ];
        let expected = [
            0x02, 0xB0, 0x17, 0x00, 0x01, 0xC1, 0x00, 0x00, 0xE1, 0x00, 0xF0, 0x00, 0x1B, 0xE1,
            0x00, 0xF0, 0x00, 0x0F, 0xE1, 0x01, 0xF0, 0x00, 0x2F, 0x44, 0xB9, 0x9B,
        ];
        assert_eq!(pmt_section(0x100, &streams), expected);
    }

    #[test]
    fn crc32_check_value() {
        // The CRC-32/MPEG-2 check value.
        assert_eq!(crc32(b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn section_packet_is_one_stuffed_packet() {
        let mut out = BytesMut::new();
        let mut cc = 15;
        write_section_packet(&mut out, PAT_PID, &mut cc, &pat_section());
        assert_eq!(out.len(), PACKET_SIZE);
        assert_eq!(&out[..5], &[0x47, 0x40, 0x00, 0x10, 0x00]);
        assert_eq!(cc, 0);
        assert!(out[21..].iter().all(|&b| b == 0xFF));
    }
}
