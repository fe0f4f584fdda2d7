use thiserror::Error;

use crate::chunk::ChunkError;
use crate::handshake::HandshakeError;
use crate::message::MessageError;

/// Why a session cannot go on. After any of these the connection should be closed
/// (after sending what [`output`](super::ServerSession::output) still holds).
///
/// [`SessionError::fault`] says whose doing it was: the peer broke the protocol or
/// a limit ([`Fault::Peer`]), time ran out ([`Fault::Timeout`]), or the
/// application called the session in a state that does not allow it
/// ([`Fault::Application`], a bug to fix in the caller, never the peer's doing).
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SessionError {
    /// The handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The chunk stream is malformed or exceeds a limit.
    #[error("chunk stream: {0}")]
    Chunk(#[from] ChunkError),
    /// A message payload is malformed.
    #[error("message on chunk stream {chunk_stream_id} (type {type_id}): {source}")]
    Message {
        /// Chunk stream the message came on.
        chunk_stream_id: u32,
        /// Its type id.
        type_id: u8,
        /// What was wrong.
        source: MessageError,
    },
    /// The peer sent a command that needs a connected session before `connect`.
    #[error("`{command}` received before `connect` succeeded")]
    CommandBeforeConnect {
        /// The command name.
        command: String,
    },
    /// The peer sent a second `connect`.
    #[error("second `connect` on one connection")]
    DuplicateConnect,
    /// The peer created more message streams than allowed.
    #[error("more than {limit} message streams on one connection")]
    TooManyStreams {
        /// The configured limit.
        limit: usize,
    },
    /// Messages kept while the application decides on a request exceeded the limit.
    #[error("{limit} bytes of messages queued while a connect/publish/play decision is pending")]
    PendingLimit {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The handshake did not finish in time.
    #[error("handshake not finished within {seconds} s")]
    HandshakeTimeout {
        /// The configured timeout.
        seconds: u64,
    },
    /// A client session did not start publishing or playing in time.
    #[error("not publishing or playing within {seconds} s")]
    StartTimeout {
        /// The configured timeout.
        seconds: u64,
    },
    /// Nothing arrived from the peer for too long.
    #[error("nothing received for {seconds} s")]
    IdleTimeout {
        /// The configured timeout.
        seconds: u64,
    },
    /// The application asked for something the session's state does not allow.
    #[error("{what}")]
    InvalidState {
        /// What was asked and why it cannot be done.
        what: &'static str,
    },
    /// The session was closed earlier.
    #[error("session is closed")]
    Closed,
}

/// Whose doing a [`SessionError`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The peer sent something malformed, out of order or over a limit.
    Peer,
    /// The peer was too slow or went silent.
    Timeout,
    /// The application misused the API (a call the session's state does not
    /// allow, or a call after the session closed).
    Application,
}

impl SessionError {
    /// Whose doing this error was: the peer's, the clock's, or the application's.
    pub fn fault(&self) -> Fault {
        match self {
            SessionError::Handshake(_)
            | SessionError::Chunk(_)
            | SessionError::Message { .. }
            | SessionError::CommandBeforeConnect { .. }
            | SessionError::DuplicateConnect
            | SessionError::TooManyStreams { .. }
            | SessionError::PendingLimit { .. } => Fault::Peer,
            SessionError::HandshakeTimeout { .. }
            | SessionError::StartTimeout { .. }
            | SessionError::IdleTimeout { .. } => Fault::Timeout,
            SessionError::InvalidState { .. } | SessionError::Closed => Fault::Application,
        }
    }
}
