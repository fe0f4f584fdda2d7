use thiserror::Error;

use crate::{ChunkError, HandshakeError, MessageError, SessionError};

/// Any error of this crate, for applications that want one type.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// See [`HandshakeError`].
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// See [`ChunkError`].
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    /// See [`MessageError`].
    #[error(transparent)]
    Message(#[from] MessageError),
    /// See [`SessionError`].
    #[error(transparent)]
    Session(#[from] SessionError),
    /// See [`UrlError`](crate::session::UrlError).
    #[error(transparent)]
    Url(#[from] crate::session::UrlError),
}
