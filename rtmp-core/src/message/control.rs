//! Protocol control messages (types 1, 2, 3, 5, 6): fixed-size big-endian fields.

use bytes::{BufMut, Bytes, BytesMut};

use super::{type_id, MessageError};

/// How a Set Peer Bandwidth message asks the peer to apply its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerBandwidthLimit {
    /// Limit output to the window size.
    Hard,
    /// Limit to the window or the current limit, whichever is smaller.
    Soft,
    /// Treat as hard if the previous limit was hard, else ignore.
    Dynamic,
    /// A limit type the specification does not define.
    Other(u8),
}

impl PeerBandwidthLimit {
    fn from_byte(byte: u8) -> Self {
        match byte {
            0 => PeerBandwidthLimit::Hard,
            1 => PeerBandwidthLimit::Soft,
            2 => PeerBandwidthLimit::Dynamic,
            other => PeerBandwidthLimit::Other(other),
        }
    }

    fn to_byte(self) -> u8 {
        match self {
            PeerBandwidthLimit::Hard => 0,
            PeerBandwidthLimit::Soft => 1,
            PeerBandwidthLimit::Dynamic => 2,
            PeerBandwidthLimit::Other(other) => other,
        }
    }
}

pub(super) fn read_u32(type_id: u8, payload: &[u8]) -> Result<u32, MessageError> {
    match payload.get(..4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(MessageError::TooShort {
            type_id,
            needed: 4,
            got: payload.len(),
        }),
    }
}

pub(super) fn read_peer_bandwidth(
    payload: &[u8],
) -> Result<(u32, PeerBandwidthLimit), MessageError> {
    let size = read_u32(type_id::SET_PEER_BANDWIDTH, payload)?;
    // FFmpeg and others sometimes omit the limit byte; treat that as Dynamic like librtmp.
    let limit = payload.get(4).map_or(PeerBandwidthLimit::Dynamic, |&b| {
        PeerBandwidthLimit::from_byte(b)
    });
    Ok((size, limit))
}

pub(super) fn u32_payload(value: u32) -> Bytes {
    Bytes::copy_from_slice(&value.to_be_bytes())
}

pub(super) fn peer_bandwidth_payload(size: u32, limit: PeerBandwidthLimit) -> Bytes {
    let mut out = BytesMut::with_capacity(5);
    out.put_u32(size);
    out.put_u8(limit.to_byte());
    out.freeze()
}
