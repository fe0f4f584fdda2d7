//! AES-128 segment encryption (`EXT-X-KEY:METHOD=AES-128`, RFC 8216 5.2).
//!
//! Every segment and every part is encrypted whole with AES-128 in CBC mode
//! and PKCS#7 padding. The key changes every [`Encryption::rotation`] segments;
//! the IV is the segment's media sequence number (a part takes its
//! segment's), what RFC 8216 has players use when the `EXT-X-KEY` tag has no
//! `IV`. The playlist still writes it, in a tag in front of every segment:
//! Shaka Player counts parts as segments when it derives the IV itself.
//!
//! The keys come from one master key and the rotation period's number
//! ([`Encryption::key`]): the muxer never holds a list of keys, and a server
//! can answer a request for any period's key from the master key alone. The
//! master key is the application's secret (random per stream: this crate
//! reads no random source).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use bytes::Bytes;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// AES-128 encryption of a stream's segments and parts.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Encryption {
    /// The secret the keys are derived from.
    master_key: [u8; 16],
    /// Segments per key (at least 1).
    pub rotation: u64,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The master key stays out of logs.
        f.debug_struct("Encryption")
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

impl Encryption {
    /// Encryption with keys derived from `master_key`, a new key every
    /// `rotation` segments (0 is taken as 1).
    pub fn new(master_key: [u8; 16], rotation: u64) -> Encryption {
        Encryption {
            master_key,
            rotation: rotation.max(1),
        }
    }

    /// The rotation period of segment `msn`.
    pub fn period(&self, msn: u64) -> u64 {
        msn / self.rotation
    }

    /// The key of rotation period `period`: the period's number, as a
    /// 128-bit big-endian block, encrypted with the master key. Knowing one
    /// period's key tells nothing of another's or of the master key.
    pub fn key(&self, period: u64) -> [u8; 16] {
        let cipher = aes::Aes128::new(&self.master_key.into());
        let mut block = u128::from(period).to_be_bytes().into();
        cipher.encrypt_block(&mut block);
        block.into()
    }

    /// The URI of period `period`'s key, relative to the playlist.
    pub fn key_uri(period: u64) -> String {
        format!("key{period}.key")
    }

    /// Segment or part `data` of segment `msn`, encrypted: the pieces in
    /// order, AES-128-CBC with the period's key, the IV `msn`, PKCS#7 padding.
    pub fn encrypt(&self, msn: u64, data: &[Bytes]) -> Bytes {
        let len: usize = data.iter().map(Bytes::len).sum();
        // PKCS#7 always pads, 1 to 16 bytes.
        let mut buffer = Vec::with_capacity(len + 16);
        for piece in data {
            buffer.extend_from_slice(piece);
        }
        buffer.resize(len + 16 - len % 16, 0);
        let iv = u128::from(msn).to_be_bytes();
        let key = self.key(self.period(msn));
        let cipher = Aes128CbcEnc::new(&key.into(), &iv.into());
        let written = cipher
            .encrypt_padded_mut::<Pkcs7>(&mut buffer, len)
            .map(|out| out.len())
            .unwrap_or(0);
        // The buffer always has room for the padding: `written` is its length.
        buffer.truncate(written);
        Bytes::from(buffer)
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockDecryptMut;

    use super::*;

    type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

    fn decrypt(key: [u8; 16], msn: u64, data: &[u8]) -> Option<Vec<u8>> {
        let iv = u128::from(msn).to_be_bytes();
        let mut buffer = data.to_vec();
        let cipher = Aes128CbcDec::new(&key.into(), &iv.into());
        let plain = cipher.decrypt_padded_mut::<Pkcs7>(&mut buffer).ok()?;
        Some(plain.to_vec())
    }

    #[test]
    fn segments_decrypt_with_their_periods_key_and_the_msn_as_iv() {
        let encryption = Encryption::new([7; 16], 3);
        let pieces = [
            Bytes::from_static(b"styp moof"),
            Bytes::from(vec![0x47; 1000]),
        ];
        let plain: Vec<u8> = pieces.iter().flat_map(|p| p.iter().copied()).collect();
        for msn in [0, 2, 3, 10] {
            let sealed = encryption.encrypt(msn, &pieces);
            assert_eq!(sealed.len() % 16, 0);
            assert_ne!(&sealed[..], &plain[..sealed.len().min(plain.len())]);
            let key = encryption.key(encryption.period(msn));
            assert_eq!(decrypt(key, msn, &sealed).as_deref(), Some(&plain[..]));
            // Another period's key does not open it.
            let other = encryption.key(encryption.period(msn) + 1);
            assert_ne!(decrypt(other, msn, &sealed).as_deref(), Some(&plain[..]));
        }
        // Keys rotate every 3 segments, and differ between periods.
        assert_eq!(encryption.period(2), 0);
        assert_eq!(encryption.period(3), 1);
        assert_ne!(encryption.key(0), encryption.key(1));
        // A whole block of input gets a whole block of padding; empty input too.
        assert_eq!(encryption.encrypt(0, &[Bytes::from(vec![1; 32])]).len(), 48);
        assert_eq!(encryption.encrypt(0, &[]).len(), 16);
        assert!(!format!("{encryption:?}").contains("7, 7"));
    }
}
