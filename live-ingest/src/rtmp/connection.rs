//! One RTMP connection: a publisher, a player, or (briefly) neither.
//!
//! The task moves bytes between the socket and a [`rtmp_core::ServerSession`]. A publish
//! or play goes through the server's rules ([`Server::authorize_publish`],
//! [`Server::authorize_play`]); then a publisher's messages go to the hub
//! (RTMP players, HTTP-FLV, pushes) and to its HLS stream, and a player's
//! queue is written to it.
//!
//! The connection is any byte stream: a `TcpStream` for RTMP, a TLS stream over
//! one for RTMPS. It is not split into halves: the loop never reads and writes
//! at the same time (a `select!` arm runs after the other arms' futures are
//! dropped), so one `&mut` does for both, with no lock between them.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::BytesMut;
use rtmp_core::session::status::code;
use rtmp_core::{
    MediaKind, MediaMessage, PlayRequest, PublishRequest, ServerEvent, ServerSession, SessionError,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info};

use rtmp_core::io::{read_into, sleep_until, write_output};

use super::{cluster, nanos_now, push, session_config, ConnectionError};
use crate::auth::{Event, PlayAttempt, PublishAttempt};
use crate::hls::Stream;
use crate::hub::{queue, strip_set_data_frame, Delivery, Packet, Publishing};
use crate::stall::WriteStall;
use crate::{DrainOrder, Refused, Server};

/// Messages a player's task writes in one go at most.
const BATCH: usize = 256;

enum Role {
    None,
    Publisher {
        key: String,
        hub: Publishing,
        hls: Option<Arc<Stream>>,
    },
    Player {
        key: String,
        stream_id: u32,
        rx: queue::Receiver,
    },
}

struct Connection {
    server: Arc<Server>,
    id: u64,
    peer: SocketAddr,
    session: ServerSession,
    role: Role,
    tc_url: String,
    /// A publisher in a cluster: becomes true when this node lost the key's
    /// lease to another one.
    evicted: Option<tokio::sync::watch::Receiver<bool>>,
    /// When the last socket read returned: the start of the part latency
    /// (`Metrics::part_published`) of the messages it brought.
    read_at: Instant,
    /// Bytes read since the last turn of the loop (`pace` takes them): at most
    /// [`crate::beat::BURST`] a beat, and a publisher that brought
    /// [`crate::beat::BUSY`] or more is read again on the shortest beat.
    beat_bytes: usize,
}

/// How long a closing connection may take to say goodbye (TLS `close_notify`).
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs one connection until the peer leaves or fails; logs how it ended.
///
/// `accepted` is when the connection was accepted: the handshake and `connect`
/// must be done `handshake_timeout` after it, whatever came before (a TLS
/// handshake) included.
pub async fn run<S>(socket: S, peer: SocketAddr, server: Arc<Server>, accepted: Instant)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let id = server.next_id();
    server.metrics.connection_opened();
    let config = session_config(
        server.config.handshake_timeout,
        server.config.idle_timeout,
        id,
        nanos_now() ^ u64::from(peer.port()),
    );
    let mut connection = Connection {
        session: ServerSession::new(config, accepted),
        server: server.clone(),
        id,
        peer,
        role: Role::None,
        tc_url: String::new(),
        evicted: None,
        read_at: accepted,
        beat_bytes: 0,
    };
    // A player whose network vanished fills its socket and would hold this task
    // in a write for good, where the session's idle timer never runs: a write
    // that makes no progress for the idle timeout ends the connection instead.
    let mut socket = WriteStall::new(socket, server.config.idle_timeout);
    let result = connection.serve(&mut socket).await;
    connection.leave();
    // TLS peers expect a close_notify (FFmpeg logs an error without one); for TCP
    // this is the FIN. A peer that does not read gets no more than the limit.
    let _ = tokio::time::timeout(SHUTDOWN_LIMIT, socket.shutdown()).await;
    server.metrics.connection_closed();
    match result {
        Ok(()) => debug!(id, %peer, "rtmp connection closed"),
        Err(error) => info!(id, %peer, %error, "rtmp connection ended with an error"),
    }
}

/// Reads what `socket` has ready now into `input`, without waiting: `None`
/// when nothing is. The poll's waker does nothing, so bytes that come later do
/// not wake the task before its beat (the next real poll registers its own).
fn read_ready<S: AsyncRead + Unpin>(
    socket: &mut S,
    input: &mut BytesMut,
) -> Option<std::io::Result<usize>> {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(read_into(socket, input)).poll(&mut context) {
        Poll::Ready(read) => Some(read),
        Poll::Pending => None,
    }
}

impl Connection {
    async fn serve<S>(&mut self, socket: &mut S) -> Result<(), ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut input = BytesMut::with_capacity(64 * 1024);
        let mut drain = self.server.drain_orders();
        let mut drained = false;
        loop {
            let deadline = self.session.poll_timeout();
            tokio::select! {
                order = drain.changed(), if !drained => {
                    // Once: a second order (or the server gone) changes nothing.
                    drained = true;
                    let order = order.ok().and_then(|()| drain.borrow().clone());
                    if let Some(order) = order {
                        self.ask_reconnect(&order)?;
                    }
                }
                read = read_into(socket, &mut input) => {
                    if !self.take_input(read?, socket, &mut input)? {
                        return Ok(());
                    }
                }
                delivery = next_delivery(&mut self.role) => {
                    let Some(delivery) = delivery else { return Ok(()) };
                    self.deliver_batch(delivery, socket).await?;
                }
                () = evicted(&mut self.evicted) => {
                    info!(id = self.id, peer = %self.peer, "publisher stopped: another node took its key");
                    return Ok(());
                }
                () = sleep_until(deadline) => self.session.handle_timeout(Instant::now())?,
            }
            while let Some(event) = self.session.poll_event() {
                self.handle_event(event).await?;
            }
            self.write_output(socket).await?;
            if self.session.is_closed() {
                return Ok(());
            }
            self.pace().await;
        }
    }

    /// Hands `read` bytes of `input` to the session. A publisher's socket is
    /// then read on, as long as it has bytes ready now, up to
    /// [`crate::beat::BURST`] bytes in the beat: one read per beat would cap a
    /// publisher at one buffer a beat (a TLS read brings one record). `false`
    /// when the peer closed the connection.
    fn take_input<S: AsyncRead + Unpin>(
        &mut self,
        mut read: usize,
        socket: &mut S,
        input: &mut BytesMut,
    ) -> Result<bool, ConnectionError> {
        if read == 0 {
            return Ok(false);
        }
        loop {
            self.beat_bytes += read;
            self.server.metrics.bytes_in(read);
            self.read_at = Instant::now();
            self.session.handle_input(input, self.read_at)?;
            if !matches!(self.role, Role::Publisher { .. }) || self.beat_bytes >= crate::beat::BURST
            {
                return Ok(true);
            }
            // The end of the stream or an error waits for the next read, so
            // that the messages read before it are handled first.
            match read_ready(socket, input) {
                Some(Ok(more)) if more > 0 => read = more,
                _ => return Ok(true),
            }
        }
    }

    /// A drain order: a publisher is asked to reconnect (players and
    /// connections that publish nothing are left alone).
    fn ask_reconnect(&mut self, order: &DrainOrder) -> Result<(), SessionError> {
        if !matches!(self.role, Role::Publisher { .. }) {
            return Ok(());
        }
        info!(
            id = self.id,
            peer = %self.peer,
            supported = self.session.peer_supports_reconnect(),
            "draining: asking the publisher to reconnect"
        );
        self.session.request_reconnect(
            order.tc_url.as_deref(),
            "the server is shutting down: reconnect",
        )
    }

    /// A publisher's socket is read on the shared beat: what arrives meanwhile
    /// is read and packaged in one go, one wake-up for many streams. One that
    /// brought [`crate::beat::BUSY`] bytes or more since the last beat is read
    /// on the shortest beat (`read_pacing`) instead of the load's: what one
    /// beat can bring is what the socket's receive window holds.
    async fn pace(&mut self) {
        let brought = std::mem::take(&mut self.beat_bytes);
        if !matches!(self.role, Role::Publisher { .. }) {
            return;
        }
        let beat = match brought >= crate::beat::BUSY {
            true => self.server.config.read_pacing,
            false => self.server.read_beat(),
        };
        if !beat.is_zero() {
            tokio::time::sleep_until(crate::beat::next(beat, Instant::now())).await;
        }
    }

    async fn write_output<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        let written = write_output(writer, self.session.output()).await?;
        self.server.metrics.bytes_out(written);
        Ok(())
    }

    async fn handle_event(&mut self, event: ServerEvent) -> Result<(), SessionError> {
        match event {
            ServerEvent::Connect(request) => {
                debug!(id = self.id, app = request.app, flash = ?request.flash_version, enhanced = request.is_enhanced(), "connect");
                self.tc_url = request.tc_url.clone().unwrap_or_default();
                self.session.accept_connect()?;
            }
            ServerEvent::Publish(request) => self.publish(&request).await?,
            ServerEvent::Play(request) => self.play(&request).await?,
            ServerEvent::Media(message) => self.media(message),
            ServerEvent::Unpublish { .. } if matches!(self.role, Role::Publisher { .. }) => {
                self.leave();
            }
            ServerEvent::PlayStop { .. } if matches!(self.role, Role::Player { .. }) => {
                self.leave();
            }
            _ => {}
        }
        Ok(())
    }

    async fn publish(&mut self, request: &PublishRequest) -> Result<(), SessionError> {
        let tc_url = self.tc_url.clone();
        let attempt = PublishAttempt {
            addr: self.peer,
            app: &request.app,
            name: &request.name,
            publish_type: &request.publish_type,
            tc_url: &tc_url,
        };
        let started = match self.role {
            Role::None => self.start_publish(&attempt).await,
            _ => Err(Refused::Busy),
        };
        match started {
            Ok((key, resumed)) => {
                info!(id = self.id, peer = %self.peer, key, resumed, "publishing");
                self.session.accept_publish()?;
                push::start_all(&self.server, &key, attempt.stream_name());
                self.server.event(Event::PublishStarted {
                    key,
                    addr: self.peer,
                    resumed,
                });
            }
            Err(refused) => {
                info!(id = self.id, peer = %self.peer, app = request.app, name = request.name, %refused, "publish refused");
                self.server.metrics.refused();
                self.session
                    .reject_publish(code::PUBLISH_BAD_NAME, &refused.to_string())?;
            }
        }
        Ok(())
    }

    /// Takes the key in the hub and, with HLS on, in the registry (both or neither).
    async fn start_publish(
        &mut self,
        attempt: &PublishAttempt<'_>,
    ) -> Result<(String, bool), Refused> {
        let server = self.server.clone();
        if server.is_draining() {
            return Err(Refused::Draining);
        }
        let key = server.authorize_publish(attempt).await?;
        if server.hub.is_live(&key) {
            return Err(Refused::AlreadyPublishing(key));
        }
        let lease = cluster::acquire(&server, &key).await?;
        let Ok(hub) = server.hub.start_publish(&key, self.id) else {
            cluster::release(&server, &key);
            return Err(Refused::AlreadyPublishing(key));
        };
        let (hls, resumed) = match &server.registry {
            Some(registry) => match registry.start_publish(&key, self.id) {
                Ok((stream, resumed)) => (Some(stream), resumed),
                Err(refused) => {
                    server.hub.end_publish(&key, self.id);
                    cluster::release(&server, &key);
                    return Err(refused);
                }
            },
            None => (None, false),
        };
        self.evicted = cluster::attach(&server, &key, lease, hls.as_ref());
        server.metrics.publisher_started();
        server.metrics.read_beat(server.read_beat());
        self.role = Role::Publisher {
            key: key.clone(),
            hub,
            hls,
        };
        Ok((key, resumed))
    }

    async fn play(&mut self, request: &PlayRequest) -> Result<(), SessionError> {
        let attempt = PlayAttempt {
            addr: self.peer,
            app: &request.app,
            name: &request.name,
        };
        let key = match self.role {
            Role::None => self.server.authorize_play(&attempt).await,
            _ => Err(Refused::Busy),
        };
        let key = match key {
            Ok(key) => key,
            Err(refused) => {
                info!(id = self.id, peer = %self.peer, app = request.app, name = request.name, %refused, "play refused");
                self.server.metrics.refused();
                return self
                    .session
                    .reject_play(code::PLAY_STREAM_NOT_FOUND, &refused.to_string());
            }
        };
        self.session.accept_play()?;
        let (rx, live) = self.server.hub.subscribe(&key, self.id);
        if !live {
            cluster::pull_if_remote(&self.server, &key).await;
        }
        info!(id = self.id, peer = %self.peer, key, live, "playing");
        self.server.metrics.player_started();
        self.server.event(Event::PlayStarted {
            key: key.clone(),
            addr: self.peer,
        });
        self.role = Role::Player {
            key,
            stream_id: request.stream_id,
            rx,
        };
        Ok(())
    }

    fn media(&mut self, message: MediaMessage) {
        let Role::Publisher { hub, hls, .. } = &self.role else {
            return;
        };
        // Small payloads are already copies of their own (`session_config`), so
        // the hub and HLS share them without pinning the read buffer.
        let payload = message.payload;
        hub.publish(Packet {
            kind: message.kind,
            timestamp: message.timestamp,
            payload: payload.clone(),
        });
        if let Some(stream) = hls {
            if stream.media(self.id, message.kind, message.timestamp, payload) {
                self.server.metrics.part_published(self.read_at.elapsed());
            }
        }
    }

    /// Ends the publish or play of this connection, if any.
    fn leave(&mut self) {
        match std::mem::replace(&mut self.role, Role::None) {
            Role::Publisher { key, hls, .. } => {
                info!(id = self.id, key, "publisher left");
                if let Some(stream) = hls {
                    stream.end(self.id);
                }
                cluster::release(&self.server, &key);
                self.evicted = None;
                self.server.hub.end_publish(&key, self.id);
                self.server.metrics.publisher_ended();
                self.server.metrics.read_beat(self.server.read_beat());
                self.server.event(Event::PublishEnded { key });
            }
            Role::Player { key, .. } => {
                self.server.hub.unsubscribe(&key, self.id);
                self.server.metrics.player_ended();
                self.server.event(Event::PlayEnded { key });
            }
            Role::None => {}
        }
    }

    /// Writes `first` and whatever else is already queued for this player, at most
    /// [`BATCH`] messages (the rest waits for the next turn of the loop).
    async fn deliver_batch<W: AsyncWrite + Unpin>(
        &mut self,
        first: Delivery,
        writer: &mut W,
    ) -> std::io::Result<()> {
        let mut next = Some(first);
        let mut delivered = 0;
        while let Some(delivery) = next.take() {
            if matches!(delivery, Delivery::PublishEnd) {
                // The end goes out in its own write after the media before it:
                // GStreamer's rtmp2src loses the last message when both arrive
                // in one read.
                self.write_output(writer).await?;
            }
            self.deliver(delivery);
            delivered += 1;
            if let (Role::Player { rx, .. }, true) = (&mut self.role, delivered < BATCH) {
                next = rx.try_recv();
            }
        }
        Ok(())
    }

    fn deliver(&mut self, delivery: Delivery) {
        let Role::Player { stream_id, .. } = self.role else {
            return;
        };
        match delivery {
            Delivery::Packet(packet) => {
                let payload = match packet.kind {
                    MediaKind::Data => strip_set_data_frame(packet.payload),
                    _ => packet.payload,
                };
                self.session.send_media(&MediaMessage {
                    stream_id,
                    kind: packet.kind,
                    timestamp: packet.timestamp,
                    payload,
                });
            }
            Delivery::PublishStart => self.session.notify_publish_start(stream_id),
            Delivery::PublishEnd if self.server.config.notify_unpublish => {
                self.session.notify_publish_end(stream_id)
            }
            Delivery::PublishEnd => self.session.send_stream_eof(stream_id),
        }
    }
}

/// Resolves when a publisher's cluster lease was lost (never otherwise).
async fn evicted(evicted: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    if let Some(evicted) = evicted {
        if evicted.wait_for(|lost| *lost).await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}

async fn next_delivery(role: &mut Role) -> Option<Delivery> {
    match role {
        Role::Player { rx, .. } => rx.recv().await,
        _ => std::future::pending().await,
    }
}
