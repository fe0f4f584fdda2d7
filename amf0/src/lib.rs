//! AMF0 (Action Message Format 0) values: the encoding of RTMP commands and
//! FLV script data (`onMetaData`).
//!
//! - **Bounded on hostile input.** Decoding never panics, never recurses
//!   (nesting is capped by [`Limits::max_depth`], default 64), checks every
//!   length and element count against the remaining input before allocating,
//!   caps the number of values ([`Limits::max_values`]) and keeps
//!   [`Value::Reference`]s as indices instead of resolving them.
//! - **Zero-copy.** Strings are [`Str`]s: slices of the input [`Bytes`](bytes::Bytes).
//! - **Byte-exact.** Objects keep their property order and duplicates, ECMA
//!   arrays keep the count as written, numbers keep their bits, and string
//!   bytes are not required to be UTF-8, so decoding then encoding gives back
//!   the input (a Boolean byte other than 0 or 1 is the one exception: it is
//!   re-encoded as 1).
//! - **Sans-IO.** Values are decoded from a [`Bytes`](bytes::Bytes) and encoded into a
//!   [`BytesMut`](bytes::BytesMut).
//!
//! AMF3 (the AVM+ marker `0x11`) is recognised and reported as [`Error::Amf3`].
//!
//! # Example
//!
//! ```
//! use amf0::{Object, Value};
//! use bytes::BytesMut;
//!
//! // An RTMP `connect` command: name, transaction id, command object.
//! let mut object = Object::new();
//! object.push("app", "live");
//! object.push("tcUrl", "rtmp://127.0.0.1/live");
//! let command = [Value::from("connect"), Value::from(1.0), Value::Object(object)];
//!
//! let mut out = BytesMut::new();
//! amf0::encode_all(&command, &mut out);
//! let bytes = out.freeze();
//!
//! let values = amf0::decode_all(&bytes)?;
//! assert_eq!(values[0].as_str(), Some("connect"));
//! assert_eq!(values[2].get("app").and_then(Value::as_str), Some("live"));
//! assert_eq!(values, command);
//!
//! // Hostile input is an error, never a crash or a huge allocation.
//! let bomb = bytes::Bytes::from_static(b"\x0a\xff\xff\xff\xff\x05");
//! assert!(matches!(
//!     amf0::decode_all(&bomb),
//!     Err(amf0::Error::UnexpectedEnd { offset: 5, .. })
//! ));
//! # Ok::<(), amf0::Error>(())
//! ```

#![forbid(unsafe_code)]

mod decode;
mod encode;
mod error;
mod limits;
pub mod marker;
mod object;
mod str;
mod value;

pub use crate::decode::{decode_all, decode_all_with, Decoder};
pub use crate::encode::encode_all;
pub use crate::error::Error;
pub use crate::limits::Limits;
pub use crate::object::Object;
pub use crate::str::Str;
pub use crate::value::Value;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
