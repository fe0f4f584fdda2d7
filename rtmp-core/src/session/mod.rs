//! Server and client sessions in the style of quinn-proto: bytes and the current
//! time in; bytes to send, events and the next deadline out.
//!
//! A [`ServerSession`] answers the handshake, `connect`, `createStream`, `publish`,
//! `play` and the rest, asks the application to accept or reject connects, publishes
//! and plays, and hands out media. A [`ClientSession`] connects and then publishes or
//! plays. Both acknowledge received bytes at the peer's window and answer pings.

mod client;
mod config;
mod error;
mod media;
mod request;
mod server;
pub mod status;
mod transport;
mod url;

pub use client::{ClientEvent, ClientSession};
pub use config::{ClientConfig, EnhancedCapabilities, ServerConfig};
pub use error::{Fault, SessionError};
pub use media::{MediaKind, MediaMessage};
pub use request::{ConnectRequest, PlayRequest, PublishRequest};
pub use server::{ServerEvent, ServerSession};
pub use status::Status;
pub use url::{RtmpUrl, UrlError};

#[cfg(test)]
mod tests;
