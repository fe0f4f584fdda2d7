//! Tag bodies: [`VideoTag`], [`AudioTag`] and [`ScriptData`], legacy and
//! Enhanced RTMP/FLV (v1 and v2).
//!
//! Parsers take the body of a [`Tag`](crate::Tag) and never copy media data:
//! payloads and configuration records are [`Bytes`](bytes::Bytes) slices of
//! it. Offsets in their errors are relative to the start of the body.
//!
//! Enhanced RTMP layouts (veovera enhanced-rtmp v2):
//!
//! ```text
//! video: [1|frame type:3|packet type:4]
//!        ModEx*:     [size-1:8 (255: then size-1:16)] [data] [mod ex type:4|packet type:4]
//!        Multitrack: [multitrack type:4|packet type:4]
//!        [FourCC:32]
//!        per track:  [track id:8 if multitrack] [size:24 unless one track]
//!                    [composition time:SI24 for avc1/hvc1 CodedFrames] [payload]
//!        next track: [FourCC:32 if many codecs] [track id:8] [size:24] ...
//! audio: [9:4|packet type:4], then the same ModEx, Multitrack, FourCC and tracks
//!        (no composition time).
//! ```

mod audio;
mod script;
mod video;

pub use audio::{
    AudioPacketType, AudioTag, AudioTrack, AudioTracks, ChannelOrder, LegacyAudio,
    MultichannelConfig,
};
pub use script::{KeyframeIndex, OnMetaData, ScriptData};
pub use video::{VideoCommand, VideoFrameType, VideoPacketType, VideoTag, VideoTrack, VideoTracks};

use crate::Error;

/// How many tracks an Enhanced RTMP multitrack tag carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MultitrackType {
    /// One track (with a track id), the payload up to the end of the body.
    OneTrack,
    /// Several tracks of the codec named once, each with an id and a size.
    ManyTracks,
    /// Several tracks, each with its own FourCC, id and size.
    ManyTracksManyCodecs,
}

impl MultitrackType {
    fn from_nibble(value: u8, offset: usize) -> Result<MultitrackType, Error> {
        match value {
            0 => Ok(MultitrackType::OneTrack),
            1 => Ok(MultitrackType::ManyTracks),
            2 => Ok(MultitrackType::ManyTracksManyCodecs),
            other => Err(Error::InvalidField {
                what: "multitrack type",
                offset: offset as u64,
                value: u32::from(other),
            }),
        }
    }
}

/// A bounds-checked reader over a tag body.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        Cursor { data, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn short(&self, what: &'static str, needed: usize) -> Error {
        Error::BodyTooShort {
            what,
            offset: self.pos as u64,
            needed: needed as u64,
            available: self.data.len().saturating_sub(self.pos) as u64,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        match self.data.get(self.pos..self.pos.saturating_add(n)) {
            Some(out) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(out)
            }
            _ => Err(self.short(what, n)),
        }
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(self.bytes(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Error> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self, what: &'static str) -> Result<u32, Error> {
        let b = self.bytes(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A signed 24-bit value (the composition time).
pub(crate) fn si24(value: u32) -> i32 {
    ((value << 8) as i32) >> 8
}

/// Reads the ModEx chain that starts at the cursor when the packet type is 7;
/// returns the final packet type and the TimestampOffsetNano (0 if absent).
pub(crate) fn read_mod_ex(
    cursor: &mut Cursor<'_>,
    mut packet_type: u8,
) -> Result<(u8, u32), Error> {
    const MOD_EX: u8 = 7;
    let mut nanos = 0;
    // Each round consumes at least two bytes, so this ends.
    while packet_type == MOD_EX {
        let mut size = usize::from(cursor.u8("ModEx data size")?) + 1;
        if size == 256 {
            size = usize::from(cursor.u16("ModEx data size")?) + 1;
        }
        let data = cursor.bytes(size, "ModEx data")?;
        let types = cursor.u8("ModEx type")?;
        packet_type = types & 0x0F;
        // TimestampOffsetNano (mod ex type 0) is a UI24; other sizes are ignored as FFmpeg does.
        if types >> 4 == 0 && size == 3 {
            nanos = u32::from_be_bytes([0, data[0], data[1], data[2]]);
        }
    }
    Ok((packet_type, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si24_sign_extends() {
        assert_eq!(si24(0x00_0043), 0x43);
        assert_eq!(si24(0xFF_FFFF), -1);
        assert_eq!(si24(0x80_0000), -0x80_0000);
        assert_eq!(si24(0x7F_FFFF), 0x7F_FFFF);
    }

    #[test]
    fn mod_ex_chain() {
        // Two ModEx entries: an unknown type 1 with 2 bytes, then TimestampOffsetNano 500_000
        // leading to packet type 1.
        let data = [1, 0xAA, 0xBB, 0x17, 2, 0x07, 0xA1, 0x20, 0x01];
        let mut cursor = Cursor::new(&data, 0);
        assert_eq!(read_mod_ex(&mut cursor, 7).unwrap(), (1, 500_000));
        assert_eq!(cursor.pos(), data.len());
        // The 16-bit size form.
        let mut long = vec![255, 0x01, 0x00];
        long.extend(std::iter::repeat_n(0, 257));
        long.push(0x01);
        let mut cursor = Cursor::new(&long, 0);
        assert_eq!(read_mod_ex(&mut cursor, 7).unwrap(), (1, 0));
        let mut cursor = Cursor::new(&long[..100], 0);
        assert!(matches!(
            read_mod_ex(&mut cursor, 7),
            Err(Error::BodyTooShort {
                what: "ModEx data",
                offset: 3,
                needed: 257,
                available: 97
            })
        ));
    }
}
