//! The one error type of this crate.

/// Why the probe could not do what it was asked.
///
/// Nothing a stream contains is an error to the probe: broken timestamps, missing
/// headers and stalls are [`Event`](crate::Event)s. Errors are about the caller's
/// configuration and about input that cannot be read as FLV at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A [`ProbeConfig`](crate::ProbeConfig) field is out of range.
    #[error("invalid probe configuration: {field} {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The FLV input could not be read (the offset is in the error).
    #[error("FLV input: {0}")]
    Flv(#[from] flv::Error),
}
