//! One client connection of the relay: a publisher, a player, or (briefly) neither.

use std::io::IoSlice;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::session::status::code;
use rtmp_core::{MediaKind, MediaMessage, ServerConfig, ServerEvent, ServerSession, SessionError};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{debug, info};

use super::hub::{Delivery, Packet, PublishRefused};
use super::{push, stream_key, Relay};

/// Why a connection ended early.
#[derive(Debug)]
pub enum ConnectionError {
    /// The socket failed.
    Io(std::io::Error),
    /// The peer broke the protocol or timed out.
    Session(SessionError),
}

impl std::fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectionError::Io(error) => write!(f, "socket: {error}"),
            ConnectionError::Session(error) => write!(f, "rtmp: {error}"),
        }
    }
}

impl From<std::io::Error> for ConnectionError {
    fn from(error: std::io::Error) -> Self {
        ConnectionError::Io(error)
    }
}

impl From<SessionError> for ConnectionError {
    fn from(error: SessionError) -> Self {
        ConnectionError::Session(error)
    }
}

enum Role {
    None,
    Publisher {
        key: String,
    },
    Player {
        key: String,
        stream_id: u32,
        rx: mpsc::Receiver<Delivery>,
    },
}

/// Runs one connection until the peer leaves or fails.
pub async fn run(socket: TcpStream, relay: Arc<Relay>, id: u64) -> Result<(), ConnectionError> {
    socket.set_nodelay(true)?;
    let (mut reader, mut writer) = socket.into_split();
    let config = session_config(
        relay.config.handshake_timeout,
        relay.config.idle_timeout,
        id,
        nanos_now(),
    );
    let mut session = ServerSession::new(config, Instant::now());
    let mut role = Role::None;
    let mut input = BytesMut::with_capacity(64 * 1024);

    let result = async {
        loop {
            let deadline = session.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                read = reader.read_buf(&mut input) => {
                    if read? == 0 {
                        return Ok(());
                    }
                    session.handle_input(&mut input, Instant::now())?;
                    if input.capacity() - input.len() < 4096 {
                        input.reserve(64 * 1024);
                    }
                }
                delivery = next_delivery(&mut role) => {
                    let Some(mut delivery) = delivery else { return Ok(()) };
                    let notify = relay.config.notify_unpublish;
                    // Batch what is already queued into one write.
                    for _ in 0..256 {
                        if matches!(delivery, Delivery::PublishEnd) {
                            // The end goes out in its own write after the media before it:
                            // GStreamer's rtmp2src loses the last message when both arrive
                            // in one read.
                            write_output(&mut writer, &mut session).await?;
                        }
                        deliver(&mut session, &role, delivery, notify);
                        let Role::Player { rx, .. } = &mut role else { break };
                        let Ok(more) = rx.try_recv() else { break };
                        delivery = more;
                    }
                }
                () = sleep_until(deadline) => session.handle_timeout(Instant::now())?,
            }
            while let Some(event) = session.poll_event() {
                handle_event(&mut session, &relay, id, &mut role, event)?;
            }
            write_output(&mut writer, &mut session).await?;
            if session.is_closed() {
                return Ok(());
            }
        }
    }
    .await;

    match &role {
        Role::Publisher { key } => {
            info!(id, key, "publisher left");
            relay.hub.end_publish(key, id);
        }
        Role::Player { key, .. } => relay.hub.unsubscribe(key, id),
        Role::None => {}
    }
    result
}

fn handle_event(
    session: &mut ServerSession,
    relay: &Arc<Relay>,
    id: u64,
    role: &mut Role,
    event: ServerEvent,
) -> Result<(), SessionError> {
    match event {
        ServerEvent::Connect(request) => {
            debug!(id, app = request.app, flash = ?request.flash_version, enhanced = request.is_enhanced(), "connect");
            session.accept_connect()?;
        }
        ServerEvent::Publish(request) => {
            let key = stream_key(&request.app, &request.name);
            if !matches!(role, Role::None) {
                return session.reject_publish(
                    code::PUBLISH_BAD_NAME,
                    "This connection already publishes or plays.",
                );
            }
            match relay.hub.start_publish(&key, id) {
                Ok(()) => {
                    info!(id, key, "publishing");
                    session.accept_publish()?;
                    for upstream in &relay.config.push {
                        push::spawn(
                            relay.clone(),
                            upstream.clone(),
                            key.clone(),
                            request.name.clone(),
                        );
                    }
                    *role = Role::Publisher { key };
                }
                Err(PublishRefused::AlreadyPublishing) => {
                    info!(id, key, "refused a second publisher");
                    session.reject_publish(
                        code::PUBLISH_BAD_NAME,
                        &format!("{key} is already being published."),
                    )?;
                }
            }
        }
        ServerEvent::Play(request) => {
            let key = stream_key(&request.app, &request.name);
            if !matches!(role, Role::None) {
                return session.reject_play(
                    code::PLAY_STREAM_NOT_FOUND,
                    "This connection already publishes or plays.",
                );
            }
            session.accept_play()?;
            let (tx, rx) = mpsc::channel(relay.config.limits.queue);
            let live = relay.hub.subscribe(&key, id, tx);
            info!(id, key, live, "playing");
            *role = Role::Player {
                key,
                stream_id: request.stream_id,
                rx,
            };
        }
        ServerEvent::Media(message) => {
            if let Role::Publisher { key } = role {
                relay.hub.publish(
                    key,
                    Packet {
                        kind: message.kind,
                        timestamp: message.timestamp,
                        payload: message.payload,
                    },
                );
            }
        }
        ServerEvent::Unpublish { .. } => {
            if let Role::Publisher { key } = role {
                info!(id, key, "unpublished");
                relay.hub.end_publish(key, id);
                *role = Role::None;
            }
        }
        ServerEvent::PlayStop { .. } => {
            if let Role::Player { key, .. } = role {
                relay.hub.unsubscribe(key, id);
                *role = Role::None;
            }
        }
        _ => {}
    }
    Ok(())
}

fn deliver(session: &mut ServerSession, role: &Role, delivery: Delivery, notify_unpublish: bool) {
    let Role::Player { stream_id, .. } = role else {
        return;
    };
    match delivery {
        Delivery::Packet(packet) => {
            let payload = if packet.kind == MediaKind::Data {
                strip_set_data_frame(packet.payload)
            } else {
                packet.payload
            };
            session.send_media(&MediaMessage {
                stream_id: *stream_id,
                kind: packet.kind,
                timestamp: packet.timestamp,
                payload,
            });
        }
        Delivery::PublishStart => session.notify_publish_start(*stream_id),
        Delivery::PublishEnd if notify_unpublish => session.notify_publish_end(*stream_id),
        Delivery::PublishEnd => session.send_stream_eof(*stream_id),
    }
}

/// Players get `onMetaData, {...}`; publishers send `@setDataFrame, onMetaData, {...}`.
pub(crate) fn strip_set_data_frame(body: bytes::Bytes) -> bytes::Bytes {
    const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";
    if body.starts_with(SET_DATA_FRAME) {
        body.slice(SET_DATA_FRAME.len()..)
    } else {
        body
    }
}

async fn next_delivery(role: &mut Role) -> Option<Delivery> {
    match role {
        Role::Player { rx, .. } => rx.recv().await,
        _ => std::future::pending().await,
    }
}

/// The session settings of a server connection: the timeouts, a ping at half
/// the idle timeout, and a handshake seed from the connection number `id`
/// and some `entropy`.
pub(crate) fn session_config(
    handshake_timeout: Duration,
    idle_timeout: Duration,
    id: u64,
    entropy: u64,
) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.handshake_timeout = handshake_timeout;
    config.idle_timeout = idle_timeout;
    config.ping_interval = idle_timeout / 2;
    config.seed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ entropy;
    config
}

/// Waits until `deadline`, or forever without one (a `select!` arm).
pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Writes everything the session queued, with vectored writes of its `Bytes` pieces.
pub(crate) async fn write_output<W: AsyncWrite + Unpin>(
    writer: &mut W,
    session: &mut ServerSession,
) -> std::io::Result<()> {
    write_chunks(writer, session.output()).await
}

pub(crate) async fn write_chunks<W: AsyncWrite + Unpin>(
    writer: &mut W,
    output: &mut rtmp_core::ChunkOutput,
) -> std::io::Result<()> {
    while !output.is_empty() {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = output.chunks_vectored(&mut slices);
        let written = writer.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        output.advance(written);
    }
    writer.flush().await
}

fn nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
