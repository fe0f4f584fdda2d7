//! Timed metadata: ID3v2.4 tags, as HLS carries timed metadata (Apple's
//! "Timed Metadata for HTTP Live Streaming"), and the fMP4 `emsg` box that
//! carries one in a CMAF segment (AOM's "Carriage of ID3 Timed Metadata in
//! the Common Media Application Format": scheme `https://aomedia.org/emsg/ID3`),
//! as hls.js, Shaka and AVPlayer read it. [`Muxer::push_metadata`](crate::Muxer::push_metadata)
//! writes one in front of the next fragment.

use crate::CLOCK;

/// The largest tag written (a data message is at most a few KiB; a larger
/// tag is refused, not truncated). It fits one MPEG-TS PES packet.
pub const MAX_TAG: usize = 64_000;

/// The `emsg` `scheme_id_uri` of ID3 timed metadata.
pub const ID3_SCHEME: &str = "https://aomedia.org/emsg/ID3";

/// An ID3v2.4 tag holding one `TXXX` frame (user-defined text, UTF-8):
/// `description` and `value`. `None` when it would pass [`MAX_TAG`].
pub fn txxx(description: &str, value: &str) -> Option<Vec<u8>> {
    let body_len = 1 + description.len() + 1 + value.len();
    if 10 + 10 + body_len > MAX_TAG {
        return None;
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(10 + body_len));
    tag.extend_from_slice(b"TXXX");
    tag.extend_from_slice(&syncsafe(body_len));
    tag.extend_from_slice(&[0, 0]); // frame flags
    tag.push(0x03); // UTF-8
    tag.extend_from_slice(description.as_bytes());
    tag.push(0);
    tag.extend_from_slice(value.as_bytes());
    Some(tag)
}

/// An ID3v2.4 size: 28 bits, seven to a byte (`len` is below [`MAX_TAG`]).
fn syncsafe(len: usize) -> [u8; 4] {
    let n = len as u32;
    [
        ((n >> 21) & 0x7F) as u8,
        ((n >> 14) & 0x7F) as u8,
        ((n >> 7) & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]
}

/// The `emsg` box (version 1: an absolute time) carrying `id3` at
/// `presentation_time` (90 kHz, the media timeline of the fragments'
/// `tfdt`), event `id`, duration unknown.
pub fn emsg(presentation_time: u64, id: u32, id3: &[u8]) -> Vec<u8> {
    let mut body = vec![1, 0, 0, 0]; // version 1, no flags
    body.extend_from_slice(&CLOCK.to_be_bytes());
    body.extend_from_slice(&presentation_time.to_be_bytes());
    body.extend_from_slice(&u32::MAX.to_be_bytes()); // event_duration: unknown
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(ID3_SCHEME.as_bytes());
    body.push(0);
    body.push(0); // value: ""
    body.extend_from_slice(id3);
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(b"emsg");
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_txxx_tag_is_laid_out_as_id3v2_4_says() {
        let tag = txxx("onTextData", "{\"text\":\"hi\"}").unwrap();
        assert_eq!(&tag[..6], b"ID3\x04\x00\x00");
        let body = 1 + 10 + 1 + 13;
        assert_eq!(&tag[6..10], &[0, 0, 0, 10 + body as u8]);
        assert_eq!(&tag[10..14], b"TXXX");
        assert_eq!(&tag[14..18], &[0, 0, 0, body as u8]);
        assert_eq!(&tag[20..], b"\x03onTextData\x00{\"text\":\"hi\"}");
        // Sizes past 127 bytes are seven bits to a byte.
        let long = txxx("d", &"x".repeat(300)).unwrap();
        // The frame header and 1 + 1 + 1 + 300 bytes: 313 = 2 * 128 + 57.
        assert_eq!(&long[6..10], &[0, 0, 2, 57]);
        assert!(txxx("d", &"x".repeat(MAX_TAG)).is_none());
        assert!(txxx("d", &"x".repeat(MAX_TAG - 23)).is_some());
    }

    #[test]
    fn an_emsg_box_carries_the_tag_at_its_time() {
        let tag = txxx("a", "b").unwrap();
        let boxed = emsg(900_000, 7, &tag);
        assert_eq!(
            u32::from_be_bytes(boxed[..4].try_into().unwrap()) as usize,
            boxed.len()
        );
        assert_eq!(&boxed[4..8], b"emsg");
        assert_eq!(boxed[8], 1, "version 1");
        assert_eq!(&boxed[12..16], &90_000u32.to_be_bytes());
        assert_eq!(&boxed[16..24], &900_000u64.to_be_bytes());
        assert_eq!(&boxed[28..32], &7u32.to_be_bytes());
        let scheme_end = 32 + ID3_SCHEME.len();
        assert_eq!(&boxed[32..scheme_end], ID3_SCHEME.as_bytes());
        assert_eq!(&boxed[scheme_end..scheme_end + 2], &[0, 0]);
        assert_eq!(&boxed[scheme_end + 2..], &tag[..]);
    }
}
