//! Sans-IO RTMP.

pub mod chunk;
pub mod handshake;
