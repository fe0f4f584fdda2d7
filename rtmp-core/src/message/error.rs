use thiserror::Error;

/// A message payload that does not have the shape its type requires.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum MessageError {
    /// A fixed-size message was shorter than its type requires.
    #[error("message type {type_id} needs {needed} payload bytes, got {got}")]
    TooShort {
        /// The message type id.
        type_id: u8,
        /// Bytes the type requires.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// An AMF3-framed command or data message whose format byte is not 0 (real AMF3
    /// bodies are not supported).
    #[error("message type {type_id} is AMF3-encoded (format byte {format:#04x}); only AMF0 bodies are supported")]
    Amf3Body {
        /// The message type id (15 or 17).
        type_id: u8,
        /// The leading format byte.
        format: u8,
    },
    /// The AMF0 body of a command or data message did not decode.
    #[error("AMF0 body of a command or data message: {0}")]
    Amf0(#[from] amf0::Error),
    /// A command message whose first value is not a string name.
    #[error("command message has no name (first AMF0 value is {found})")]
    CommandName {
        /// A short description of what came instead.
        found: &'static str,
    },
    /// An aggregate message whose sub-message headers do not fit its payload.
    #[error("aggregate message: {what} at offset {offset}")]
    Aggregate {
        /// What was wrong.
        what: &'static str,
        /// Offset in the aggregate payload.
        offset: usize,
    },
}
