//! The one error type of this crate.

/// Why reading failed, and where.
///
/// Offsets are byte offsets from the start of the input: of the file (or
/// stream) for [`Reader`](crate::Reader) and the frame view, of the tag body
/// for the tag body parsers called directly ([`VideoTag::parse`](crate::tag::VideoTag::parse),
/// [`AudioTag::parse`](crate::tag::AudioTag::parse),
/// [`ScriptData::parse`](crate::tag::ScriptData::parse)).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input does not start with the `FLV` signature.
    #[error("not an FLV file: signature {found:02x?} at offset {offset}, expected \"FLV\"")]
    NotFlv {
        /// Offset of the signature (0).
        offset: u64,
        /// The three bytes found.
        found: [u8; 3],
    },
    /// The header's data offset is below 9, the size of the header itself
    /// (reported with [`ReaderOptions::strict`](crate::ReaderOptions::strict);
    /// otherwise 9 is assumed).
    #[error("FLV header data offset {data_offset} at offset {offset} is below 9")]
    DataOffset {
        /// Offset of the data offset field (5).
        offset: u64,
        /// The value found.
        data_offset: u32,
    },
    /// The input ends inside an item: `needed` more bytes were required to
    /// complete the `what` that starts at `offset`.
    #[error("input ends inside the {what} at offset {offset}: {needed} more bytes needed")]
    Truncated {
        /// What was being read: "FLV header", "tag header", "tag body", "previous tag size".
        what: &'static str,
        /// Offset of the first byte of that item.
        offset: u64,
        /// Bytes missing at the end of the input.
        needed: u64,
    },
    /// A tag declares a data size above [`ReaderOptions::max_tag_size`](crate::ReaderOptions::max_tag_size).
    #[error("tag at offset {offset} declares {size} bytes, above the limit of {limit}")]
    TagTooLarge {
        /// Offset of the tag header.
        offset: u64,
        /// The declared data size.
        size: u32,
        /// The configured limit.
        limit: u32,
    },
    /// A tag header that cannot start a tag: reserved bits set, or a
    /// type other than audio (8), video (9) or script (18), when
    /// [`ReaderOptions::strict`](crate::ReaderOptions::strict) is on.
    #[error("implausible tag header at offset {offset}: first byte {first_byte:#04x}")]
    InvalidTagHeader {
        /// Offset of the tag header.
        offset: u64,
        /// Its first byte (reserved bits, filter bit, tag type).
        first_byte: u8,
    },
    /// A PreviousTagSize field does not match the size of the tag before it
    /// (only with [`ReaderOptions::strict`](crate::ReaderOptions::strict)).
    #[error("previous tag size at offset {offset} is {found}, expected {expected}")]
    PreviousTagSize {
        /// Offset of the PreviousTagSize field.
        offset: u64,
        /// 11 + the data size of the tag before it (0 before the first tag).
        expected: u32,
        /// The value found.
        found: u32,
    },
    /// A tag body is too short for what its header announces.
    #[error("tag body too short: the {what} at offset {offset} needs {needed} bytes, {available} remain")]
    BodyTooShort {
        /// The field or payload being read.
        what: &'static str,
        /// Offset of that field.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes left in the body (or track) from `offset`.
        available: u64,
    },
    /// An Enhanced RTMP field holds a value the specification does not allow.
    #[error("invalid {what} {value:#x} at offset {offset}")]
    InvalidField {
        /// The field: "video packet type", "multitrack type", "ModEx", ...
        what: &'static str,
        /// Offset of the byte holding it.
        offset: u64,
        /// The value found.
        value: u32,
    },
    /// Script data (AMF0) that does not decode.
    #[error("script data at offset {offset}: {source}")]
    Amf {
        /// Offset of the script body the AMF0 offsets are relative to.
        offset: u64,
        /// The AMF0 error, its offset relative to `offset`.
        source: amf0::Error,
    },
}

impl Error {
    /// The byte offset the error refers to.
    ///
    /// ```
    /// let err = flv::tag::VideoTag::parse(&bytes::Bytes::from_static(&[0x17, 0x01])).unwrap_err();
    /// assert_eq!(err.offset(), 2); // the composition time is missing
    /// ```
    pub fn offset(&self) -> u64 {
        match *self {
            Error::NotFlv { offset, .. }
            | Error::DataOffset { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::TagTooLarge { offset, .. }
            | Error::InvalidTagHeader { offset, .. }
            | Error::PreviousTagSize { offset, .. }
            | Error::BodyTooShort { offset, .. }
            | Error::InvalidField { offset, .. } => offset,
            Error::Amf { offset, ref source } => offset + source.offset() as u64,
        }
    }

    /// This error with its offsets moved by `base` (a body offset made a file offset).
    pub(crate) fn shifted(mut self, base: u64) -> Error {
        match &mut self {
            Error::NotFlv { offset, .. }
            | Error::DataOffset { offset, .. }
            | Error::Truncated { offset, .. }
            | Error::TagTooLarge { offset, .. }
            | Error::InvalidTagHeader { offset, .. }
            | Error::PreviousTagSize { offset, .. }
            | Error::BodyTooShort { offset, .. }
            | Error::InvalidField { offset, .. }
            | Error::Amf { offset, .. } => *offset = offset.saturating_add(base),
        }
        self
    }
}
