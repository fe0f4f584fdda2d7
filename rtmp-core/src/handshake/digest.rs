//! The FP9 ("complex") handshake digest: the Genuine Adobe keys, where the
//! 32-byte digest sits in a C1/S1 packet, and the HMAC-SHA256 computations.
//!
//! A digest C1/S1 (1536 bytes) carries a 32-byte HMAC-SHA256 of all its other
//! bytes, keyed with the first part of the sender's key (30 bytes of the
//! player key, 36 bytes of the server key). Its position is derived from four
//! bytes of the packet itself, in one of two layouts:
//!
//! | scheme | offset bytes | digest position                        |
//! |--------|--------------|----------------------------------------|
//! | 0      | `8..12`      | `sum(bytes 8..12) % 728 + 12`          |
//! | 1      | `772..776`   | `sum(bytes 772..776) % 728 + 776`      |
//!
//! The answer packet (S2/C2) ends with
//! `HMAC(HMAC(full key of the answerer, digest of the peer's C1/S1), packet[..1504])`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::HANDSHAKE_SIZE;

/// Length of an HMAC-SHA256 digest.
pub(crate) const DIGEST_LEN: usize = 32;

/// Where the signature of an S2/C2 starts (it fills the last 32 bytes).
pub(crate) const SIGNATURE_POS: usize = HANDSHAKE_SIZE - DIGEST_LEN;

/// The 32 bytes shared by both keys, after their text part.
const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];

const CLIENT_KEY_TEXT: &[u8; 30] = b"Genuine Adobe Flash Player 001";
const SERVER_KEY_TEXT: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";

const fn concat<const N: usize>(head: &[u8], tail: &[u8; 32]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < head.len() {
        out[i] = head[i];
        i += 1;
    }
    let mut j = 0;
    while j < tail.len() {
        out[head.len() + j] = tail[j];
        j += 1;
    }
    out
}

/// The full player key (62 bytes): text part + shared tail.
pub(crate) const CLIENT_KEY: [u8; 62] = concat(CLIENT_KEY_TEXT, &KEY_TAIL);
/// The full server key (68 bytes): text part + shared tail.
pub(crate) const SERVER_KEY: [u8; 68] = concat(SERVER_KEY_TEXT, &KEY_TAIL);
/// The partial player key that signs a C1 (30 bytes).
pub(crate) const CLIENT_KEY_PARTIAL: &[u8] = CLIENT_KEY_TEXT;
/// The partial server key that signs an S1 (36 bytes).
pub(crate) const SERVER_KEY_PARTIAL: &[u8] = SERVER_KEY_TEXT;

/// The two digest layouts, in the order a C1/S1 is probed.
pub(crate) const SCHEMES: [u8; 2] = [0, 1];

/// Position of the 32-byte digest in `packet` (a C1 or S1) for `scheme`
/// (0 or 1; any other value is read as 1). Always within `12..=1504`.
pub(crate) fn digest_pos(packet: &[u8; HANDSHAKE_SIZE], scheme: u8) -> usize {
    let base = if scheme == 0 { 8 } else { 772 };
    let [a, b, c, d] = [
        packet[base],
        packet[base + 1],
        packet[base + 2],
        packet[base + 3],
    ];
    let sum = usize::from(a) + usize::from(b) + usize::from(c) + usize::from(d);
    sum % 728 + base + 4
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    // HMAC accepts keys of any length (long keys are hashed), so this never
    // fails; the fallback only exists to keep the code free of panics.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; DIGEST_LEN];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The digest a C1/S1 must carry at `pos`: HMAC of every byte but those 32.
fn packet_digest(packet: &[u8; HANDSHAKE_SIZE], pos: usize, key: &[u8]) -> [u8; DIGEST_LEN] {
    let (before, rest) = packet.split_at(pos.min(SIGNATURE_POS));
    let after = rest.get(DIGEST_LEN..).unwrap_or_default();
    hmac_sha256(key, &[before, after])
}

/// Writes the digest of `packet` into it, at the position of `scheme`;
/// returns that position.
pub(crate) fn imprint(packet: &mut [u8; HANDSHAKE_SIZE], scheme: u8, key: &[u8]) -> usize {
    let pos = digest_pos(packet, scheme);
    let digest = packet_digest(packet, pos, key);
    packet[pos..pos + DIGEST_LEN].copy_from_slice(&digest);
    pos
}

/// Finds which scheme's digest validates `packet` under `key`, trying scheme 0
/// then 1. Returns the scheme and the digest position.
pub(crate) fn find(packet: &[u8; HANDSHAKE_SIZE], key: &[u8]) -> Option<(u8, usize)> {
    SCHEMES.into_iter().find_map(|scheme| {
        let pos = digest_pos(packet, scheme);
        let expected = packet_digest(packet, pos, key);
        (packet[pos..pos + DIGEST_LEN] == expected).then_some((scheme, pos))
    })
}

/// The signature that ends an S2/C2: `HMAC(HMAC(full_key, peer_digest), packet[..1504])`.
pub(crate) fn signature(
    full_key: &[u8],
    peer_digest: &[u8],
    packet: &[u8; HANDSHAKE_SIZE],
) -> [u8; DIGEST_LEN] {
    let key = hmac_sha256(full_key, &[peer_digest]);
    hmac_sha256(&key, &[&packet[..SIGNATURE_POS]])
}

/// Writes the signature into the last 32 bytes of `packet`.
pub(crate) fn sign(full_key: &[u8], peer_digest: &[u8], packet: &mut [u8; HANDSHAKE_SIZE]) {
    let sig = signature(full_key, peer_digest, packet);
    packet[SIGNATURE_POS..].copy_from_slice(&sig);
}

/// Whether the last 32 bytes of `packet` are the signature for `peer_digest`.
pub(crate) fn verify_signature(
    full_key: &[u8],
    peer_digest: &[u8],
    packet: &[u8; HANDSHAKE_SIZE],
) -> bool {
    signature(full_key, peer_digest, packet)[..] == packet[SIGNATURE_POS..]
}

/// The filler generator: SplitMix64, seeded by the caller. Not cryptographic;
/// the handshake's random bytes only need to look random to the peer.
#[derive(Clone, Debug)]
pub(crate) struct Filler(u64);

impl Filler {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `buf` with pseudo-random bytes.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_well_known_lengths() {
        assert_eq!(CLIENT_KEY.len(), 62);
        assert_eq!(SERVER_KEY.len(), 68);
        assert_eq!(CLIENT_KEY_PARTIAL.len(), 30);
        assert_eq!(SERVER_KEY_PARTIAL.len(), 36);
        assert_eq!(&CLIENT_KEY[..30], b"Genuine Adobe Flash Player 001");
        assert_eq!(&SERVER_KEY[..36], b"Genuine Adobe Flash Media Server 001");
        assert_eq!(CLIENT_KEY[30..], KEY_TAIL);
        assert_eq!(SERVER_KEY[36..], KEY_TAIL);
        assert_eq!(CLIENT_KEY[30..34], [0xF0, 0xEE, 0xC2, 0x4A]);
        assert_eq!(CLIENT_KEY[61], 0xAE);
    }

    #[test]
    fn digest_positions_scheme_0() {
        let mut p = [0u8; HANDSHAKE_SIZE];
        assert_eq!(digest_pos(&p, 0), 12);
        p[8..12].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(digest_pos(&p, 0), 10 + 12);
        p[8..12].copy_from_slice(&[0xFF; 4]);
        // 1020 % 728 = 292
        assert_eq!(digest_pos(&p, 0), 292 + 12);
        p[8..12].copy_from_slice(&[182, 182, 182, 181]); // 727: the last position
        assert_eq!(digest_pos(&p, 0), 727 + 12);
        p[8..12].copy_from_slice(&[182, 182, 182, 182]); // 728 wraps to 0
        assert_eq!(digest_pos(&p, 0), 12);
        // scheme 0 does not look at scheme 1's bytes
        p[772..776].copy_from_slice(&[9; 4]);
        assert_eq!(digest_pos(&p, 0), 12);
    }

    #[test]
    fn digest_positions_scheme_1() {
        let mut p = [0u8; HANDSHAKE_SIZE];
        assert_eq!(digest_pos(&p, 1), 776);
        p[772..776].copy_from_slice(&[10, 20, 30, 40]);
        assert_eq!(digest_pos(&p, 1), 100 + 776);
        p[772..776].copy_from_slice(&[0xFF; 4]);
        assert_eq!(digest_pos(&p, 1), 292 + 776);
        p[772..776].copy_from_slice(&[182, 182, 182, 181]);
        // the digest then ends exactly at byte 1535
        assert_eq!(digest_pos(&p, 1), 1503);
        assert_eq!(digest_pos(&p, 1) + DIGEST_LEN, HANDSHAKE_SIZE - 1);
        p[8..12].copy_from_slice(&[9; 4]);
        assert_eq!(digest_pos(&p, 1), 1503);
    }

    #[test]
    fn digest_position_stays_inside_the_packet_for_every_offset_sum() {
        let mut p = [0u8; HANDSHAKE_SIZE];
        for scheme in SCHEMES {
            let base = if scheme == 0 { 8 } else { 772 };
            for sum in 0..=1020usize {
                let mut left = sum;
                for i in 0..4 {
                    let b = left.min(255);
                    p[base + i] = b as u8;
                    left -= b;
                }
                let pos = digest_pos(&p, scheme);
                assert!(pos >= base + 4);
                assert!(pos + DIGEST_LEN <= HANDSHAKE_SIZE);
                if scheme == 0 {
                    // never overlaps scheme 1's offset bytes
                    assert!(pos + DIGEST_LEN <= 772);
                }
            }
        }
    }

    #[test]
    fn imprint_then_find() {
        for scheme in SCHEMES {
            let mut p = [0u8; HANDSHAKE_SIZE];
            Filler::new(u64::from(scheme) + 7).fill(&mut p);
            let pos = imprint(&mut p, scheme, CLIENT_KEY_PARTIAL);
            assert_eq!(find(&p, CLIENT_KEY_PARTIAL), Some((scheme, pos)));
            assert_eq!(find(&p, SERVER_KEY_PARTIAL), None);
            // one flipped bit outside the digest breaks it
            let mut r = p;
            r[100 + usize::from(scheme) * 900] ^= 0x80;
            assert_ne!(find(&r, CLIENT_KEY_PARTIAL), Some((scheme, pos)));
        }
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        // RFC 4231 test case 2, HMAC-SHA-256
        assert_eq!(
            mac,
            [
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
                0x64, 0xec, 0x38, 0x43,
            ]
        );
    }

    #[test]
    fn filler_is_deterministic_and_seed_dependent() {
        let (mut a, mut b, mut c) = ([0u8; 37], [0u8; 37], [0u8; 37]);
        Filler::new(1).fill(&mut a);
        Filler::new(1).fill(&mut b);
        Filler::new(2).fill(&mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().any(|&x| x != 0));
    }
}
