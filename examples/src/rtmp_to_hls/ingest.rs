//! One RTMP connection: a publisher (players are told to use HTTP).
//!
//! The task moves bytes between the socket and a [`ServerSession`], asks
//! [`auth`] before accepting a publish, and hands every media
//! message to the [`Stream`]. When `--push` is set, messages also go to the
//! relay hub that feeds the upstream pushes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use rtmp_core::session::status::code;
use rtmp_core::{ServerEvent, ServerSession};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tracing::{debug, info, warn};

use super::auth::{self, PublishAttempt};
use super::stream::Stream;
use super::{valid_name, Server};
use crate::relay::connection::{session_config, sleep_until, write_output, ConnectionError};
use crate::relay::hub::Packet;
use crate::relay::push;

struct Publishing {
    key: String,
    stream: Arc<Stream>,
}

/// Runs one connection until the peer leaves or fails; logs how it ended.
pub async fn run(socket: TcpStream, peer: SocketAddr, server: Arc<Server>) {
    let id = server.next_id();
    match serve(socket, peer, &server, id).await {
        Ok(()) => debug!(id, %peer, "rtmp connection closed"),
        Err(error) => info!(id, %peer, %error, "rtmp connection ended with an error"),
    }
}

async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    server: &Arc<Server>,
    id: u64,
) -> Result<(), ConnectionError> {
    socket.set_nodelay(true)?;
    let (mut reader, mut writer) = socket.into_split();
    let config = session_config(
        server.config.handshake_timeout,
        server.config.idle_timeout,
        id,
        u64::from(peer.port()),
    );
    let mut session = ServerSession::new(config, Instant::now());
    let mut publishing: Option<Publishing> = None;
    let mut tc_url = String::new();
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
                () = sleep_until(deadline) => session.handle_timeout(Instant::now())?,
            }
            while let Some(event) = session.poll_event() {
                match event {
                    ServerEvent::Connect(request) => {
                        tc_url = request.tc_url.clone().unwrap_or_default();
                        session.accept_connect()?;
                    }
                    ServerEvent::Publish(request) => {
                        if publishing.is_some() {
                            session.reject_publish(
                                code::PUBLISH_BAD_NAME,
                                "This connection already publishes.",
                            )?;
                            continue;
                        }
                        let attempt = PublishAttempt {
                            addr: peer,
                            app: &request.app,
                            name: &request.name,
                            publish_type: &request.publish_type,
                            tc_url: &tc_url,
                        };
                        match authorise(server, &attempt).await {
                            Ok(key) => match server.registry.start_publish(&key, id) {
                                Ok(stream) => {
                                    info!(id, %peer, key, "publishing");
                                    session.accept_publish()?;
                                    start_push(server, &key, &request.name, id);
                                    publishing = Some(Publishing { key, stream });
                                }
                                Err(refused) => {
                                    info!(id, %peer, key, %refused, "publish refused");
                                    session.reject_publish(
                                        code::PUBLISH_BAD_NAME,
                                        &format!("{key} {refused}."),
                                    )?;
                                }
                            },
                            Err(reason) => {
                                info!(id, %peer, app = request.app, name = request.name, reason, "publish refused");
                                session.reject_publish(code::PUBLISH_BAD_NAME, &reason)?;
                            }
                        }
                    }
                    ServerEvent::Play(_) => {
                        session.reject_play(
                            code::PLAY_STREAM_NOT_FOUND,
                            "This server plays streams over HTTP (HLS): /APP/KEY/index.m3u8",
                        )?;
                    }
                    ServerEvent::Media(message) => {
                        if let Some(publishing) = &publishing {
                            if let Some(relay) = &server.relay {
                                relay.hub.publish(
                                    &publishing.key,
                                    Packet {
                                        kind: message.kind,
                                        timestamp: message.timestamp,
                                        payload: message.payload.clone(),
                                    },
                                );
                            }
                            publishing.stream.media(
                                id,
                                message.kind,
                                message.timestamp,
                                message.payload,
                            );
                        }
                    }
                    ServerEvent::Unpublish { .. } => {
                        if let Some(publishing) = publishing.take() {
                            end(server, &publishing, id);
                        }
                    }
                    _ => {}
                }
            }
            write_output(&mut writer, &mut session).await?;
            if session.is_closed() {
                return Ok(());
            }
            if publishing.is_some() && !server.config.read_pacing.is_zero() {
                // Let the socket gather what arrives until the next tick of a grid that
                // every publisher shares: one wake-up then reads many messages for many
                // connections, instead of one wake-up per TCP segment per connection.
                tokio::time::sleep_until(crate::beat::next(server.config.read_pacing, Instant::now()))
                    .await;
            }
        }
    }
    .await;

    if let Some(publishing) = publishing.take() {
        end(server, &publishing, id);
    }
    result
}

/// The stream key of an authorised publish, or why it is refused.
async fn authorise(server: &Server, attempt: &PublishAttempt<'_>) -> Result<String, String> {
    let name = attempt
        .name
        .split_once('?')
        .map_or(attempt.name, |(name, _)| name);
    if !valid_name(attempt.app) || !valid_name(name) {
        return Err(format!(
            "{}/{name}: application and stream names may only hold A-Z a-z 0-9 _ - . (not first)",
            attempt.app
        ));
    }
    if !auth::allowed(&server.config.allow, name) {
        return Err(format!("{name}: not an allowed stream name"));
    }
    if let Some(url) = &server.config.on_publish {
        auth::ask(url, attempt).await?;
    }
    Ok(format!("{}/{name}", attempt.app))
}

fn start_push(server: &Arc<Server>, key: &str, name: &str, id: u64) {
    let Some(relay) = &server.relay else { return };
    if relay.hub.start_publish(key, id).is_err() {
        warn!(key, "push: the relay still has a publisher for this key");
        return;
    }
    let name = name.split_once('?').map_or(name, |(name, _)| name);
    for upstream in &relay.config.push {
        push::spawn(
            relay.clone(),
            upstream.clone(),
            key.to_owned(),
            name.to_owned(),
        );
    }
}

fn end(server: &Server, publishing: &Publishing, id: u64) {
    info!(id, key = publishing.key, "publisher left");
    publishing.stream.end(id);
    if let Some(relay) = &server.relay {
        relay.hub.end_publish(&publishing.key, id);
    }
}
