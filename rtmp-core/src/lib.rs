//! Sans-IO RTMP: handshake, chunk codec, messages, AMF0 commands, and server and
//! client sessions.
//!
//! Nothing here owns a socket, a thread, a clock or a runtime. Each layer is a value
//! fed with bytes (and the current time) that returns bytes to send and events:
//!
//! - [`handshake`]: C0/C1/C2 ⇄ S0/S1/S2, simple and FP9 digest, both sides.
//! - [`chunk`]: the chunk stream ⇄ [`RawMessage`]s, bounded, zero-copy.
//! - [`message`]: what message payloads mean (protocol control, user control,
//!   AMF0 commands and data, audio, video, aggregates).
//! - [`session`]: [`ServerSession`] and [`ClientSession`], the protocol around it.
//!
//! With the `tokio` feature, `chunk::codec::ChunkCodec` implements
//! `tokio_util::codec::{Decoder, Encoder}`.
//!
//! # A server, driven by hand
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use rtmp_core::{ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerEvent, ServerSession};
//!
//! let now = Instant::now();
//! let mut server = ServerSession::new(ServerConfig::default(), now);
//! let mut client = ClientSession::new(ClientConfig::new("live", "rtmp://localhost/live"), now);
//! client.publish("cam1", "live");
//!
//! // Shuttle bytes both ways until the publish is accepted (a socket would do this).
//! let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
//! let mut published = false;
//! for _ in 0..10 {
//!     client.output().copy_to(&mut to_server);
//!     server.handle_input(&mut to_server, now).unwrap();
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             ServerEvent::Connect(request) => {
//!                 assert_eq!(request.app, "live");
//!                 server.accept_connect().unwrap();
//!             }
//!             ServerEvent::Publish(request) => {
//!                 assert_eq!(request.name, "cam1");
//!                 server.accept_publish().unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!     server.output().copy_to(&mut to_client);
//!     client.handle_input(&mut to_client, now).unwrap();
//!     while let Some(event) = client.poll_event() {
//!         published |= matches!(event, ClientEvent::PublishStarted { .. });
//!     }
//! }
//! assert!(published);
//! ```

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod session;

mod error;

pub use chunk::{ChunkDecoder, ChunkEncoder, ChunkError, ChunkOutput, DecoderLimits, RawMessage};
pub use error::Error;
pub use handshake::{ClientHandshake, HandshakeError, ServerHandshake};
pub use message::{Command, DataMessage, Message, MessageError, UserControl};
pub use session::{
    ClientConfig, ClientEvent, ClientSession, ConnectRequest, EnhancedCapabilities, MediaKind,
    MediaMessage, PlayRequest, PublishRequest, RtmpUrl, ServerConfig, ServerEvent, ServerSession,
    SessionError, Status,
};
