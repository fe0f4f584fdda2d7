//! A live-video ingest and origin server as a library: RTMP publish in; RTMP
//! play, HTTP-FLV and Low-Latency HLS (fMP4 or MPEG-TS) out of every stream at
//! once, without re-encoding. The server program `live-ingest` is a short
//! `main` over it; a downstream project builds its own the same way.
//!
//! This is the IO layer over the family's sans-IO crates, as quinn sits over
//! quinn-proto: it owns the sockets (tokio), the HTTP side (hyper, as a tower
//! service) and the clock, and holds no protocol or format logic of its own.
//!
//! # Build your own server
//!
//! ```no_run
//! use live_ingest::{Config, Server};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::default(); // RTMP 127.0.0.1:1935, HTTP 127.0.0.1:8080
//! config.window = 0;                  // keep every segment (an EVENT playlist)
//! let server = Server::new(config)?;
//! let bound = live_ingest::start(server).await?;
//! println!("publish to rtmp://{}/live/KEY, play http://{}/live/KEY/index.m3u8", bound.rtmp, bound.http);
//! tokio::signal::ctrl_c().await?;
//! # Ok(()) }
//! ```
//!
//! Rules of your own (who may publish or play, what to do when a stream
//! starts) go in a [`Hooks`] implementation given to [`Server::with_hooks`].
//!
//! With the `tls` feature (on with `cli`), `Config::rtmps`, `tls_cert` and
//! `tls_key` add an RTMPS listener beside the RTMP one, `Server::reload_tls`
//! reads the certificate again without dropping a connection, and pushes reach
//! `rtmps://` upstreams (the `tls` module).
//! The HTTP side can be mounted in an existing hyper or axum server as
//! [`http::HttpService`] instead of [`start`]ing its listener.
//!
//! # The run loop of a connection
//!
//! Each RTMP connection is one task ([`rtmp::connection`]) that drives one
//! [`rtmp_core::ServerSession`], in this order, until the session closes:
//!
//! 1. wait for the first of: bytes from the socket (`handle_input(bytes, now)`),
//!    a message queued for this player, or the session's deadline
//!    (`poll_timeout()` → `handle_timeout(now)`);
//! 2. take every event (`poll_event()`): connect, publish and play go through
//!    the rules ([`Server::authorize_publish`], [`Server::authorize_play`]) and
//!    are accepted or rejected; media goes to the [`hub`] and the [`hls`] stream;
//! 3. write `output()` with vectored writes;
//! 4. a publisher then sleeps to the next point of the shared read beat
//!    ([`beat`], `read_pacing`, longer under load: [`Server::read_beat`]), so
//!    one wake-up reads many streams; a publisher's socket is read while it
//!    has bytes ready, up to [`beat::BURST`] bytes a beat.
//!
//! Time is read once per step (`Instant::now()`) and passed in; nothing in the
//! sans-IO crates reads a clock.
//!
//! # One frame, from the socket to its viewers
//!
//! Socket bytes → [`rtmp_core::ServerSession`] → `ServerEvent::Media`
//! ([`rtmp_core::MediaMessage`]: kind, timestamp, payload `Bytes`) →
//! [`hub::Packet`] (the same `Bytes`) → each player's [`hub::queue`] →
//! RTMP player (`send_media`) or HTTP-FLV reader ([`http::flv::tag`]); and →
//! [`hls::Stream::media`] → [`flv::Tag`] → [`flv::MediaEvents`] →
//! [`hls_mux::FlvAdapter`] → [`hls_mux::Muxer`] → `Output::Part`/`Segment` →
//! served from memory by [`http`].

pub mod auth;
pub mod beat;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod config;
pub mod hls;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod rtmp;
pub mod server;
pub mod stall;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "tls")]
pub mod tls;
pub mod vectored;

mod error;

/// The code of the repository's README (the "build your own server" section
/// among it) compiles: it is doc-tested here.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadme;

pub use auth::{Event, HookFuture, Hooks, KeyAttempt, NoHooks, PlayAttempt, PublishAttempt};
pub use config::{ApiToken, Config, Encrypt, Limits, SegmentFormat};
pub use error::{ConfigError, Refused};
pub use server::{key_of, start, valid_name, Bound, DrainOrder, Server};
