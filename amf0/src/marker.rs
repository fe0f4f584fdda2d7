//! The AMF0 type markers: the first byte of every encoded value.

/// `0x00`: IEEE 754 double, big-endian.
pub const NUMBER: u8 = 0x00;
/// `0x01`: one byte, zero is false.
pub const BOOLEAN: u8 = 0x01;
/// `0x02`: 16-bit length, then bytes.
pub const STRING: u8 = 0x02;
/// `0x03`: properties until an empty name followed by [`OBJECT_END`].
pub const OBJECT: u8 = 0x03;
/// `0x04`: movie clip, reserved by the specification; never sent.
pub const MOVIE_CLIP: u8 = 0x04;
/// `0x05`: null.
pub const NULL: u8 = 0x05;
/// `0x06`: undefined.
pub const UNDEFINED: u8 = 0x06;
/// `0x07`: 16-bit index of an earlier complex value.
pub const REFERENCE: u8 = 0x07;
/// `0x08`: 32-bit count, then properties until the object end.
pub const ECMA_ARRAY: u8 = 0x08;
/// `0x09`: ends an object, ECMA array or typed object (after an empty name).
pub const OBJECT_END: u8 = 0x09;
/// `0x0A`: 32-bit count, then that many values.
pub const STRICT_ARRAY: u8 = 0x0A;
/// `0x0B`: double (milliseconds since the epoch) then a 16-bit time zone.
pub const DATE: u8 = 0x0B;
/// `0x0C`: 32-bit length, then bytes.
pub const LONG_STRING: u8 = 0x0C;
/// `0x0D`: unsupported.
pub const UNSUPPORTED: u8 = 0x0D;
/// `0x0E`: record set, reserved by the specification; never sent.
pub const RECORD_SET: u8 = 0x0E;
/// `0x0F`: 32-bit length, then the XML text.
pub const XML_DOCUMENT: u8 = 0x0F;
/// `0x10`: class name (16-bit length), then properties until the object end.
pub const TYPED_OBJECT: u8 = 0x10;
/// `0x11`: AVM+; the value that follows is AMF3.
pub const AVMPLUS: u8 = 0x11;
