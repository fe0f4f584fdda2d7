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
//! `tokio_util::codec::{Decoder, Encoder}`, and `io` has the run loop's IO steps.
//!
//! # The run loop
//!
//! [`ServerSession`] and [`ClientSession`] have the same contract, in the style of
//! quinn-proto and str0m: one door in for each kind of input, one door out for
//! each kind of output, and time passed in.
//!
//! | kind | methods |
//! | --- | --- |
//! | input | `handle_input(&mut bytes, now)` (bytes from the socket; what it used is consumed), `handle_timeout(now)` |
//! | decisions | server: `accept_*`/`reject_*` after an event; client: `publish`, `play`, `close` |
//! | media in | server: `send_media`; client: `send_media` |
//! | output | `poll_event()` (until `None`), `output()` (bytes to write, a queue of `Bytes` pieces), `poll_timeout()` (the next deadline) |
//!
//! A loop turn, whatever woke it (bytes read, a deadline, media to send):
//!
//! 1. feed what happened: `handle_input(bytes, now)` or `handle_timeout(now)` once
//!    `now >= poll_timeout()`, or `send_media(...)`;
//! 2. take every event with `poll_event()` and act on it (a decision may queue output);
//! 3. write all of `output()` (vectored writes of its pieces);
//! 4. sleep until readable, until `poll_timeout()`, or until there is media to send.
//!
//! Time only moves forward: pass `now` values that never go back (an earlier `now`
//! is treated as the latest one seen). An `Err` from any method means the session is
//! over: write what `output()` still holds and close the connection;
//! [`SessionError::fault`] says whether the peer, the clock or the caller caused it.
//! With the `tokio` feature, `io` holds the loop's reads, vectored writes and
//! deadline waits; `live-ingest`'s `rtmp` module is the whole loop on tokio.
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
#[cfg(feature = "tokio")]
pub mod io;
pub mod message;
pub mod session;

mod error;

pub use chunk::{ChunkDecoder, ChunkEncoder, ChunkError, ChunkOutput, DecoderLimits, RawMessage};
pub use error::Error;
pub use handshake::{ClientHandshake, HandshakeError, ServerHandshake};
pub use message::{Command, DataMessage, Message, MessageError, UserControl};
pub use session::{
    ClientConfig, ClientEvent, ClientSession, ConnectRequest, EnhancedCapabilities, Fault,
    MediaKind, MediaMessage, PlayRequest, PublishRequest, RtmpUrl, ServerConfig, ServerEvent,
    ServerSession, SessionError, Status,
};
