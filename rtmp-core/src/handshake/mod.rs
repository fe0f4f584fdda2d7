//! RTMP handshake, server and client, sans-IO.
//!
//! The handshake is three packets each way: C0/S0 (one byte, the version: 3),
//! C1/S1 (1536 bytes: time, version, random) and C2/S2 (1536 bytes, the answer
//! to the peer's C1/S1). Two flavours exist in the wild:
//!
//! * **simple**: C1/S1 carry a zero version and random bytes; C2/S2 echo the
//!   peer's C1/S1.
//! * **FP9 digest** ("complex"): C1/S1 carry a non-zero version and an
//!   HMAC-SHA256 digest of themselves keyed with the Genuine Adobe keys, at a
//!   position given by one of two schemes; C2/S2 end with a signature derived
//!   from the peer's digest. Flash Player 9+ and FFmpeg's client send it, and
//!   FFmpeg as a *player* refuses a server whose S1 has a non-zero version but
//!   no valid digest or whose S2 signature is wrong.
//!
//! [`ServerHandshake`] answers each kind in kind: a digest C1 gets a digest S1
//! (same scheme) and a signed S2, a simple C1 (or a non-zero version without a
//! valid digest, as nginx-rtmp does) gets a zero-version S1 and S2 = C1. It
//! never rejects a peer for its C2 (neither FFmpeg nor nginx-rtmp do); whether
//! C2 checked out is reported by [`ServerHandshake::peer_c2_verified`].
//!
//! [`ClientHandshake`] sends a digest C1 like FFmpeg (version 9.0.124.2,
//! scheme 0) or, with [`ClientHandshake::simple`], a zero-version one. It
//! accepts both kinds of answer: if S1 carries a valid digest and our C1 had
//! one, C2 is signed, otherwise C2 echoes S1. An S2 that does not verify is
//! accepted too (like nginx-rtmp's relay client; FFmpeg and librtmp would
//! abort), and reported by [`ClientHandshake::server_s2_verified`].
//!
//! Version bytes other than 3 are refused on both sides, as FFmpeg, nginx-rtmp
//! and SRS do: 6, 8 and 9 ask for RTMPE (encrypted RTMP), which this crate does
//! not implement; anything else is not RTMP (an HTTP request starts with `G`,
//! 71). Our client also refuses an S0 other than 3, where FFmpeg ignores S0
//! and librtmp only warns: a server that answers 6 encrypts what follows, and
//! nothing after it could be read.
//!
//! Both state machines are fed with whatever bytes arrived, in any split:
//! [`advance`](ServerHandshake::advance) takes what it needs from the front of
//! `input` (copied into fixed 1536-byte buffers: nothing grows with the input)
//! and never takes a byte past the end of the handshake, so the first chunk
//! that arrived in the same read as C2 (or S2) stays in `input` for the chunk
//! decoder. Time and randomness are passed in: `epoch_ms` is the time field of
//! our C1/S1, `seed` seeds the filler bytes (a non-cryptographic generator:
//! the handshake protects nothing).
//!
//! ```
//! use bytes::BytesMut;
//! use rtmp_core::handshake::{ClientHandshake, Progress, ServerHandshake};
//!
//! let mut client = ClientHandshake::new(1, 0);
//! let mut server = ServerHandshake::new(2, 0);
//! let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
//! client.advance(&mut BytesMut::new(), &mut to_server).unwrap(); // C0 + C1
//! server.advance(&mut to_server, &mut to_client).unwrap(); // S0 + S1 + S2
//! assert_eq!(client.advance(&mut to_client, &mut to_server), Ok(Progress::Done)); // C2
//! to_server.extend_from_slice(&[0x03]); // the first chunk, in the same read
//! assert_eq!(server.advance(&mut to_server, &mut to_client), Ok(Progress::Done));
//! assert_eq!(&to_server[..], &[0x03]);
//! assert_eq!(client.server_s2_verified(), Some(true));
//! ```

mod client;
mod digest;
mod server;
#[cfg(test)]
mod tests;

use bytes::{Buf, BytesMut};

pub use client::ClientHandshake;
pub use server::ServerHandshake;

/// The only RTMP version spoken: byte C0/S0 of a plain (unencrypted) session.
pub const RTMP_VERSION: u8 = 3;

/// Size of C1, S1, C2 and S2.
pub const HANDSHAKE_SIZE: usize = 1536;

/// Version bytes (C1 bytes 4..8) of the digest C1 sent by [`ClientHandshake::new`]:
/// 9.0.124.2, the value FFmpeg sends.
pub const CLIENT_VERSION: [u8; 4] = [9, 0, 124, 2];

/// Version bytes (S1 bytes 4..8) of the digest S1 sent by [`ServerHandshake`]
/// to a digest C1. The first byte is at least 3, so FFmpeg as a player checks
/// our digest and signature (it skips the check below 3).
pub const SERVER_VERSION: [u8; 4] = [4, 5, 0, 1];

/// Which handshake the peer used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeKind {
    /// Zero version, or no valid digest: C2/S2 echo the peer's packet.
    Simple,
    /// FP9 digest handshake.
    Digest {
        /// Digest layout: 0 (offset bytes 8..12) or 1 (offset bytes 772..776).
        scheme: u8,
    },
}

/// Where a handshake stands after [`ServerHandshake::advance`] or
/// [`ClientHandshake::advance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Progress {
    /// More bytes from the peer are needed.
    InProgress,
    /// The handshake is complete; any byte still in `input` belongs to the
    /// chunk stream.
    Done,
}

/// What went wrong in a handshake. Once an error is returned, every later
/// call to `advance` returns it again.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// C0 (byte 0 of what the client sent) is not 3.
    #[error("C0 (byte 0 from the client) asks for RTMP version {version}: {}", version_hint(*.version))]
    UnsupportedVersion {
        /// The version byte received.
        version: u8,
    },
    /// S0 (byte 0 of what the server sent) is not 3.
    #[error("S0 (byte 0 from the server) answers RTMP version {version}: {}", version_hint(*.version))]
    UnsupportedServerVersion {
        /// The version byte received.
        version: u8,
    },
}

impl HandshakeError {
    /// Whether the peer asked for (or answered with) RTMPE, encrypted RTMP
    /// (version byte 6, 8 or 9).
    pub fn is_encrypted_rtmp(&self) -> bool {
        match self {
            Self::UnsupportedVersion { version } | Self::UnsupportedServerVersion { version } => {
                is_rtmpe(*version)
            }
        }
    }
}

fn is_rtmpe(version: u8) -> bool {
    matches!(version, 6 | 8 | 9)
}

fn version_hint(version: u8) -> &'static str {
    if is_rtmpe(version) {
        "that is RTMPE (encrypted RTMP), which is not supported; only plain RTMP (version 3) is"
    } else {
        "not RTMP; only version 3 (plain RTMP) is supported"
    }
}

/// Copies bytes from the front of `input` into `buf[*filled..]`, no more than
/// fit; returns whether `buf` is now full.
fn fill(buf: &mut [u8; HANDSHAKE_SIZE], filled: &mut usize, input: &mut BytesMut) -> bool {
    let start = (*filled).min(HANDSHAKE_SIZE);
    let take = (HANDSHAKE_SIZE - start).min(input.len());
    buf[start..start + take].copy_from_slice(&input[..take]);
    input.advance(take);
    *filled = start + take;
    *filled == HANDSHAKE_SIZE
}

/// The big-endian time field (bytes 0..4) of a C1/S1/C2/S2.
fn time_field(packet: &[u8; HANDSHAKE_SIZE]) -> u32 {
    u32::from_be_bytes([packet[0], packet[1], packet[2], packet[3]])
}

/// The version field (bytes 4..8) of a C1/S1.
fn version_field(packet: &[u8; HANDSHAKE_SIZE]) -> [u8; 4] {
    [packet[4], packet[5], packet[6], packet[7]]
}
