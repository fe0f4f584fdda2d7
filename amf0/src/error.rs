//! The one error type of this crate.

/// Why decoding failed, and where.
///
/// Every offset is a byte offset from the start of the input the
/// [`Decoder`](crate::Decoder) was created with.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ends inside a value: `needed` bytes were required starting at
    /// `offset`, and fewer remain.
    ///
    /// Also reported, before anything is allocated, when a length or element
    /// count claims more than the rest of the input could possibly hold.
    #[error("unexpected end of input: {needed} bytes needed at offset {offset}")]
    UnexpectedEnd {
        /// Offset of the first byte of the item that does not fit.
        offset: usize,
        /// Bytes (at least) the item needs from `offset`.
        needed: usize,
    },
    /// A type marker this crate does not know.
    #[error("unknown AMF0 type marker {marker:#04x} at offset {offset}")]
    UnknownMarker {
        /// The marker byte.
        marker: u8,
        /// Offset of the marker byte.
        offset: usize,
    },
    /// A marker the AMF0 specification reserves and no peer sends:
    /// movie clip (`0x04`) or record set (`0x0E`).
    #[error("reserved AMF0 type marker {marker:#04x} at offset {offset}")]
    ReservedMarker {
        /// The marker byte.
        marker: u8,
        /// Offset of the marker byte.
        offset: usize,
    },
    /// An object-end marker (`0x09`) where a value was expected: at the top
    /// level, in a strict array, or after a non-empty property name.
    #[error("object-end marker 0x09 outside an object end at offset {offset}")]
    UnexpectedObjectEnd {
        /// Offset of the `0x09` byte.
        offset: usize,
    },
    /// The AVM+ marker (`0x11`): the rest of the value is AMF3, which this
    /// crate does not decode.
    #[error("AVM+ marker 0x11 (switch to AMF3) at offset {offset}; AMF3 is not supported")]
    Amf3 {
        /// Offset of the `0x11` byte.
        offset: usize,
    },
    /// Containers are nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("AMF0 nesting deeper than {limit} at offset {offset}")]
    DepthLimit {
        /// The configured limit.
        limit: usize,
        /// Offset of the marker of the container that would exceed it.
        offset: usize,
    },
    /// More values than [`Limits::max_values`](crate::Limits::max_values).
    #[error("more than {limit} AMF0 values, at offset {offset}")]
    TooManyValues {
        /// The configured limit.
        limit: usize,
        /// Offset of the marker of the value that would exceed it.
        offset: usize,
    },
}

impl Error {
    /// The byte offset the error refers to.
    ///
    /// ```
    /// let err = amf0::decode_all(&bytes::Bytes::from_static(&[0x05, 0x11])).unwrap_err();
    /// assert_eq!(err.offset(), 1);
    /// ```
    pub fn offset(&self) -> usize {
        match *self {
            Error::UnexpectedEnd { offset, .. }
            | Error::UnknownMarker { offset, .. }
            | Error::ReservedMarker { offset, .. }
            | Error::UnexpectedObjectEnd { offset }
            | Error::Amf3 { offset }
            | Error::DepthLimit { offset, .. }
            | Error::TooManyValues { offset, .. } => offset,
        }
    }
}
