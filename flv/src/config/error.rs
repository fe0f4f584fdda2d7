//! The error type of the codec configuration record parsers.

/// Why a codec configuration record could not be parsed or built, and where.
///
/// `record` names the record (`"avcC"`, `"hvcC"`, `"av1C"`, `"vpcC"`,
/// `"AudioSpecificConfig"`, `"OpusHead"`, `"STREAMINFO"`, or a parameter set /
/// sequence header inside one), `field` the syntax element as the specification
/// spells it, and `offset` the byte offset from the start of the input given to
/// `parse` (for bit fields: the byte holding the field's first bit).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The input ends inside `field`: `needed` more bytes (at least) were required.
    #[error("{record}: input ends inside {field} at offset {offset} ({needed} more bytes needed)")]
    Truncated {
        /// The record being parsed.
        record: &'static str,
        /// The syntax element that does not fit.
        field: &'static str,
        /// Offset of the element's first byte.
        offset: usize,
        /// Bytes (at least) missing after the end of the input.
        needed: usize,
    },
    /// A field holds a value the specification forbids or reserves.
    #[error("{record}: invalid {field} {value} at offset {offset}")]
    InvalidValue {
        /// The record being parsed.
        record: &'static str,
        /// The syntax element.
        field: &'static str,
        /// Offset of the element's first byte.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// A field holds a legal value this crate does not parse (e.g. a record version
    /// other than 1).
    #[error("{record}: unsupported {field} {value} at offset {offset}")]
    Unsupported {
        /// The record being parsed.
        record: &'static str,
        /// The syntax element.
        field: &'static str,
        /// Offset of the element's first byte.
        offset: usize,
        /// The value found.
        value: u64,
    },
    /// A required element is absent (e.g. an `avcC` without any SPS).
    #[error("{record}: no {field} (expected at offset {offset})")]
    Missing {
        /// The record being parsed.
        record: &'static str,
        /// The element that is missing.
        field: &'static str,
        /// Where it was expected.
        offset: usize,
    },
    /// A nested structure (an H.264 SPS parsed by `h264-reader`) is malformed.
    #[error("{record}: {field} at offset {offset} is malformed: {reason}")]
    Malformed {
        /// The record being parsed.
        record: &'static str,
        /// The nested structure.
        field: &'static str,
        /// Offset of the structure's first byte.
        offset: usize,
        /// What the nested parser reported.
        reason: String,
    },
    /// A value given to a constructor does not fit its field (e.g. a NAL unit
    /// longer than 65,535 bytes, or more than 31 SPS in an `avcC`).
    #[error("{record}: {field} value {value} does not fit (limit {limit})")]
    TooLarge {
        /// The record being built.
        record: &'static str,
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the field can hold.
        limit: u64,
    },
}

impl ConfigError {
    /// The record the error is about.
    ///
    /// ```
    /// let err = flv::config::OpusHead::parse(b"OpusHe").unwrap_err();
    /// assert_eq!(err.record(), "OpusHead");
    /// ```
    pub fn record(&self) -> &'static str {
        match self {
            ConfigError::Truncated { record, .. }
            | ConfigError::InvalidValue { record, .. }
            | ConfigError::Unsupported { record, .. }
            | ConfigError::Missing { record, .. }
            | ConfigError::Malformed { record, .. }
            | ConfigError::TooLarge { record, .. } => record,
        }
    }

    /// The byte offset the error refers to, if it refers to a position in the input.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            ConfigError::Truncated { offset, .. }
            | ConfigError::InvalidValue { offset, .. }
            | ConfigError::Unsupported { offset, .. }
            | ConfigError::Missing { offset, .. }
            | ConfigError::Malformed { offset, .. } => Some(offset),
            ConfigError::TooLarge { .. } => None,
        }
    }
}
