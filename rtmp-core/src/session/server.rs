//! The server side of an RTMP connection, without IO.

use std::collections::VecDeque;
use std::time::Instant;

use amf0::{Object, Value};
use bytes::BytesMut;

use super::status::{self, code, Level};
use super::transport::Transport;
use super::{
    ConnectRequest, EnhancedCapabilities, MediaKind, MediaMessage, PlayRequest, PublishRequest,
    ServerConfig, SessionError,
};
use crate::chunk::{ChunkOutput, RawMessage};
use crate::handshake::{Progress, ServerHandshake};
use crate::message::{chunk_stream, split_aggregate, Command, DataMessage, Message, UserControl};

/// What a [`ServerSession`] reports to the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The client asks to connect: answer with [`ServerSession::accept_connect`] or
    /// [`ServerSession::reject_connect`].
    Connect(ConnectRequest),
    /// The client asks to publish: answer with [`ServerSession::accept_publish`] or
    /// [`ServerSession::reject_publish`].
    Publish(PublishRequest),
    /// The client asks to play: answer with [`ServerSession::accept_play`] or
    /// [`ServerSession::reject_play`].
    Play(PlayRequest),
    /// Audio, video or data from an accepted publisher.
    Media(MediaMessage),
    /// A publisher stopped (`FCUnpublish`, `closeStream` or `deleteStream`).
    Unpublish {
        /// The message stream.
        stream_id: u32,
        /// The stream name it published.
        name: String,
    },
    /// A player stopped (`closeStream` or `deleteStream`).
    PlayStop {
        /// The message stream.
        stream_id: u32,
        /// The stream name it played.
        name: String,
    },
    /// A player paused or resumed.
    Pause {
        /// The message stream.
        stream_id: u32,
        /// `true` to pause, `false` to resume.
        paused: bool,
        /// The position the player gave, in milliseconds.
        position_ms: f64,
    },
    /// A command this crate does not handle itself (e.g. `_checkbw`, custom RPCs).
    Command {
        /// The message stream it came on (0 for the connection).
        stream_id: u32,
        /// The command.
        command: Command,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Handshake,
    AwaitingConnect,
    Connected,
    Closed,
}

/// A request the application has not answered yet; input is queued meanwhile.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Decision {
    Connect { transaction_id: f64 },
    Publish { stream_id: u32 },
    Play { stream_id: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum StreamState {
    Idle,
    Publishing { name: String },
    Playing { name: String, paused: bool },
}

#[derive(Debug)]
struct Stream {
    id: u32,
    state: StreamState,
    /// The name of a publish or play request awaiting the application's answer.
    requested: Option<String>,
}

/// The server side of one RTMP connection: bytes and time in, bytes, events and a
/// deadline out.
///
/// Feed received bytes to [`handle_input`](Self::handle_input), send what
/// [`output`](Self::output) holds, act on [`poll_event`](Self::poll_event), and call
/// [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout)
/// is reached. Nothing inside reads a clock or owns a socket.
///
/// ```
/// use std::time::Instant;
/// use bytes::BytesMut;
/// use rtmp_core::{ServerConfig, ServerSession};
///
/// let mut session = ServerSession::new(ServerConfig::default(), Instant::now());
/// let mut input = BytesMut::from(&[3u8; 1537][..]); // C0 + a simple C1
/// session.handle_input(&mut input, Instant::now()).unwrap();
/// assert_eq!(session.output().len(), 1 + 1536 + 1536); // S0 + S1 + S2
/// ```
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    handshake: ServerHandshake,
    transport: Transport,
    phase: Phase,
    app: String,
    streams: Vec<Stream>,
    next_stream_id: u32,
    decision: Option<Decision>,
    pending: VecDeque<RawMessage>,
    pending_bytes: usize,
    events: VecDeque<ServerEvent>,
    started: Instant,
    last_input: Instant,
    ping_outstanding: bool,
    enhanced_offered: bool,
    /// The client's Enhanced RTMP `capsEx` from `connect` (0 without).
    peer_caps_ex: u32,
    scratch: BytesMut,
}

impl ServerSession {
    /// A session for a freshly accepted connection.
    pub fn new(config: ServerConfig, now: Instant) -> ServerSession {
        let mut transport = Transport::new(config.chunk_limits, config.amf_limits);
        transport.decoder.set_copy_below(config.copy_payloads_below);
        ServerSession {
            handshake: ServerHandshake::new(config.seed, 0),
            transport,
            config,
            phase: Phase::Handshake,
            app: String::new(),
            streams: Vec::new(),
            next_stream_id: 1,
            decision: None,
            pending: VecDeque::new(),
            pending_bytes: 0,
            events: VecDeque::new(),
            started: now,
            last_input: now,
            ping_outstanding: false,
            enhanced_offered: false,
            peer_caps_ex: 0,
            scratch: BytesMut::new(),
        }
    }

    /// Processes received bytes, consuming from `input` what it used; an incomplete
    /// message stays in `input` (or in the chunk decoder) until more arrives.
    ///
    /// An error means the connection must be closed; the session is closed after it.
    pub fn handle_input(&mut self, input: &mut BytesMut, now: Instant) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        if !input.is_empty() {
            self.last_input = self.last_input.max(now); // time only moves forward
            self.ping_outstanding = false;
        }
        let result = self.process_input(input);
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn process_input(&mut self, input: &mut BytesMut) -> Result<(), SessionError> {
        if self.phase == Phase::Handshake {
            let progress = self.handshake.advance(input, &mut self.scratch)?;
            self.flush_scratch();
            if progress == Progress::InProgress {
                return Ok(());
            }
            self.phase = Phase::AwaitingConnect;
        }
        while let Some(raw) = self.transport.next_message(input)? {
            if self.decision.is_some() {
                self.queue(raw)?;
            } else {
                self.process_message(raw)?;
            }
        }
        Ok(())
    }

    fn flush_scratch(&mut self) {
        if !self.scratch.is_empty() {
            let bytes = self.scratch.split().freeze();
            self.transport.output.push(bytes);
        }
    }

    fn queue(&mut self, raw: RawMessage) -> Result<(), SessionError> {
        // Empty messages cost memory too: count each one's bookkeeping, or a flood of
        // zero-length chunks could queue millions of them under a byte limit.
        let cost = queued_cost(&raw);
        if self.pending_bytes + cost > self.config.max_pending_bytes {
            return Err(SessionError::PendingLimit {
                limit: self.config.max_pending_bytes,
            });
        }
        self.pending_bytes += cost;
        self.pending.push_back(raw);
        Ok(())
    }

    /// Processes queued messages until another decision is needed.
    fn resume(&mut self) -> Result<(), SessionError> {
        while self.decision.is_none() {
            let Some(raw) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes -= queued_cost(&raw);
            if let Err(error) = self.process_message(raw) {
                self.phase = Phase::Closed;
                return Err(error);
            }
        }
        Ok(())
    }

    fn process_message(&mut self, raw: RawMessage) -> Result<(), SessionError> {
        use crate::message::type_id::{AGGREGATE, AUDIO, VIDEO};
        // Audio, video and aggregates need no parsing to be told apart: skip
        // making a `Message` that clones the payload only to drop it (two atomic
        // reference-count updates per message).
        if matches!(raw.type_id, AUDIO | VIDEO | AGGREGATE) {
            return self.process_media_message(raw);
        }
        let message = self.transport.parse(&raw)?;
        let Some(message) = self.transport.handle_common(message) else {
            return Ok(());
        };
        match message {
            Message::Command(command) => self.process_command(raw.stream_id, command),
            // Audio, video and aggregates went the short way above.
            Message::Data(_) => self.process_media_message(raw),
            // Peer bandwidth, user control events other than ping, shared objects: nothing to do.
            _ => Ok(()),
        }
    }

    /// A media or data message: an error before `connect`, else passed on.
    fn process_media_message(&mut self, raw: RawMessage) -> Result<(), SessionError> {
        if self.phase != Phase::Connected {
            return Err(SessionError::CommandBeforeConnect {
                command: format!("media message type {}", raw.type_id),
            });
        }
        self.process_media(raw)
    }

    fn process_media(&mut self, raw: RawMessage) -> Result<(), SessionError> {
        if !self.is_publishing(raw.stream_id) {
            // Media on a stream that is not an accepted publisher: dropped, as nginx-rtmp does.
            return Ok(());
        }
        if raw.type_id == crate::message::type_id::AGGREGATE {
            for sub in split_aggregate(&raw) {
                let sub = sub.map_err(|source| SessionError::Message {
                    chunk_stream_id: raw.chunk_stream_id,
                    type_id: raw.type_id,
                    source,
                })?;
                // Only media may ride in an aggregate; anything else (control, commands,
                // nested aggregates) is dropped, never passed on as data.
                if MediaKind::from_type_id(sub.type_id).is_some() {
                    self.process_media(sub)?;
                }
            }
            return Ok(());
        }
        let Some(kind) = MediaKind::from_type_id(raw.type_id) else {
            return Ok(());
        };
        let payload = match raw.type_id {
            // An AMF3-framed data message: hand out the AMF0 body, like a type 18.
            crate::message::type_id::DATA_AMF3 => raw.payload.slice(1.min(raw.payload.len())..),
            _ => raw.payload,
        };
        self.events.push_back(ServerEvent::Media(MediaMessage {
            stream_id: raw.stream_id,
            kind,
            timestamp: raw.timestamp,
            payload,
        }));
        Ok(())
    }

    fn process_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        let name = command.name().unwrap_or_default();
        if self.phase != Phase::Connected && name != "connect" {
            return Err(SessionError::CommandBeforeConnect {
                command: name.to_owned(),
            });
        }
        match name {
            "connect" => {
                if self.phase != Phase::AwaitingConnect {
                    return Err(SessionError::DuplicateConnect);
                }
                let request = ConnectRequest::from_command(&command);
                self.app = request.app.clone();
                self.enhanced_offered = request.is_enhanced();
                self.decision = Some(Decision::Connect {
                    transaction_id: command.transaction_id,
                });
                self.peer_caps_ex = request.caps_ex.unwrap_or(0);
                self.events.push_back(ServerEvent::Connect(request));
            }
            "createStream" => {
                let id = self.create_stream()?;
                self.send_result(command.transaction_id, vec![Value::Number(f64::from(id))]);
            }
            // FMLE-style preparation; answered like SRS does so clients that wait are happy.
            "releaseStream" | "FCPublish" => {
                self.send_result(command.transaction_id, vec![Value::Undefined]);
            }
            "FCUnpublish" => {
                let key = string_argument(&command, 0);
                if let Some(id) = self.find_publisher(&key) {
                    self.end_stream(id);
                }
                self.send_result(command.transaction_id, vec![Value::Undefined]);
            }
            "publish" => {
                let name = string_argument(&command, 0);
                let publish_type = command
                    .argument(1)
                    .and_then(Value::as_str)
                    .unwrap_or("live")
                    .to_owned();
                self.stream_for_request(stream_id)?.requested = Some(name.clone());
                self.decision = Some(Decision::Publish { stream_id });
                self.events.push_back(ServerEvent::Publish(PublishRequest {
                    stream_id,
                    app: self.app.clone(),
                    name,
                    publish_type,
                }));
            }
            "play" => {
                let name = string_argument(&command, 0);
                let number = |i: usize, default: f64| {
                    command
                        .argument(i)
                        .and_then(Value::as_f64)
                        .unwrap_or(default)
                };
                let request = PlayRequest {
                    stream_id,
                    app: self.app.clone(),
                    start: number(1, -2.0),
                    duration: number(2, -1.0),
                    reset: command.argument(3).and_then(Value::as_bool).unwrap_or(true),
                    name: name.clone(),
                };
                self.stream_for_request(stream_id)?.requested = Some(name);
                self.decision = Some(Decision::Play { stream_id });
                self.events.push_back(ServerEvent::Play(request));
            }
            "pause" => {
                let paused = command.argument(0).and_then(Value::as_bool).unwrap_or(true);
                let position_ms = command.argument(1).and_then(Value::as_f64).unwrap_or(0.0);
                if let Some(Stream {
                    state: StreamState::Playing { paused: p, .. },
                    ..
                }) = self.stream_mut(stream_id)
                {
                    *p = paused;
                    let (code, text) = if paused {
                        (code::PAUSE_NOTIFY, "Paused.")
                    } else {
                        (code::UNPAUSE_NOTIFY, "Unpaused.")
                    };
                    self.send_status(stream_id, Level::Status, code, text);
                    self.events.push_back(ServerEvent::Pause {
                        stream_id,
                        paused,
                        position_ms,
                    });
                }
            }
            "closeStream" => self.end_stream(stream_id),
            "deleteStream" => {
                let id = command
                    .argument(0)
                    .and_then(Value::as_f64)
                    .map_or(stream_id, |f| f as u32);
                self.end_stream(id);
                self.streams.retain(|s| s.id != id);
            }
            _ => self
                .events
                .push_back(ServerEvent::Command { stream_id, command }),
        }
        Ok(())
    }

    fn create_stream(&mut self) -> Result<u32, SessionError> {
        if self.streams.len() >= self.config.max_streams {
            return Err(SessionError::TooManyStreams {
                limit: self.config.max_streams,
            });
        }
        let id = self.next_stream_id;
        self.next_stream_id = self.next_stream_id.wrapping_add(1).max(1);
        self.streams.push(Stream {
            id,
            state: StreamState::Idle,
            requested: None,
        });
        Ok(id)
    }

    /// The stream a publish/play arrived on; one that was never created is created
    /// (nginx-rtmp does not check either, and some encoders publish on stream 1 blindly).
    fn stream_for_request(&mut self, stream_id: u32) -> Result<&mut Stream, SessionError> {
        if self.stream_mut(stream_id).is_none() {
            if self.streams.len() >= self.config.max_streams {
                return Err(SessionError::TooManyStreams {
                    limit: self.config.max_streams,
                });
            }
            self.streams.push(Stream {
                id: stream_id,
                state: StreamState::Idle,
                requested: None,
            });
        }
        self.stream_mut(stream_id)
            .ok_or(SessionError::InvalidState {
                what: "stream vanished",
            })
    }

    fn stream_mut(&mut self, stream_id: u32) -> Option<&mut Stream> {
        self.streams.iter_mut().find(|s| s.id == stream_id)
    }

    fn is_publishing(&self, stream_id: u32) -> bool {
        self.streams
            .iter()
            .any(|s| s.id == stream_id && matches!(s.state, StreamState::Publishing { .. }))
    }

    fn find_publisher(&self, key: &str) -> Option<u32> {
        self.streams.iter().find_map(|s| match &s.state {
            StreamState::Publishing { name } if name == key || key.is_empty() => Some(s.id),
            _ => None,
        })
    }

    /// Stops whatever the stream does and tells the application.
    fn end_stream(&mut self, stream_id: u32) {
        let Some(stream) = self.stream_mut(stream_id) else {
            return;
        };
        let event = match std::mem::replace(&mut stream.state, StreamState::Idle) {
            StreamState::Publishing { name } => ServerEvent::Unpublish { stream_id, name },
            StreamState::Playing { name, .. } => ServerEvent::PlayStop { stream_id, name },
            StreamState::Idle => return,
        };
        if matches!(event, ServerEvent::Unpublish { .. }) {
            self.send_status(
                stream_id,
                Level::Status,
                code::UNPUBLISH_SUCCESS,
                "Stopped publishing.",
            );
        }
        self.events.push_back(event);
    }

    fn send_result(&mut self, transaction_id: f64, arguments: Vec<Value>) {
        let command = Command {
            name: "_result".into(),
            transaction_id,
            object: Value::Null,
            arguments,
        };
        self.transport
            .send(chunk_stream::COMMAND, 0, 0, &Message::Command(command));
    }

    fn send_status(&mut self, stream_id: u32, level: Level, code: &str, description: &str) {
        let command = status::on_status(level, code, description);
        self.transport.send(
            chunk_stream::STREAM,
            stream_id,
            0,
            &Message::Command(command),
        );
    }

    fn take_decision(&mut self, expected: fn(&Decision) -> bool) -> Result<Decision, SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        match self.decision {
            Some(decision) if expected(&decision) => {
                self.decision = None;
                Ok(decision)
            }
            _ => Err(SessionError::InvalidState {
                what: "no such request is waiting for an answer",
            }),
        }
    }

    /// Accepts the pending `connect`: announces window, bandwidth and chunk size and
    /// answers `NetConnection.Connect.Success` (with Enhanced RTMP capabilities when the
    /// client offered its own). Then processes input queued meanwhile.
    pub fn accept_connect(&mut self) -> Result<(), SessionError> {
        let Decision::Connect { transaction_id } =
            self.take_decision(|d| matches!(d, Decision::Connect { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no connect pending",
            });
        };
        let window = self.config.window_ack_size;
        self.transport
            .send(chunk_stream::CONTROL, 0, 0, &Message::WindowAckSize(window));
        self.transport.send(
            chunk_stream::CONTROL,
            0,
            0,
            &Message::SetPeerBandwidth {
                size: window,
                limit: crate::message::PeerBandwidthLimit::Dynamic,
            },
        );
        self.transport.set_chunk_size(self.config.chunk_size)?;

        let mut properties = Object::new();
        properties.push("fmsVer", self.config.fms_version.as_str());
        properties.push("capabilities", 31.0);
        properties.push("mode", 1.0);
        if let (Some(ours), true) = (&self.config.enhanced, self.offered_enhanced()) {
            ours.write_result(&mut properties);
        }
        let mut info = status::info(
            Level::Status,
            code::CONNECT_SUCCESS,
            "Connection succeeded.",
        );
        info.push("objectEncoding", 0.0);
        let command = Command {
            name: "_result".into(),
            transaction_id,
            object: Value::Object(properties),
            arguments: vec![Value::Object(info)],
        };
        self.transport
            .send(chunk_stream::COMMAND, 0, 0, &Message::Command(command));
        self.phase = Phase::Connected;
        self.resume()
    }

    fn offered_enhanced(&self) -> bool {
        self.enhanced_offered
    }

    /// Rejects the pending `connect` with `NetConnection.Connect.Rejected`; close the
    /// connection once [`output`](Self::output) is sent.
    pub fn reject_connect(&mut self, description: &str) -> Result<(), SessionError> {
        let Decision::Connect { transaction_id } =
            self.take_decision(|d| matches!(d, Decision::Connect { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no connect pending",
            });
        };
        let command = Command {
            name: "_error".into(),
            transaction_id,
            object: Value::Null,
            arguments: vec![Value::Object(status::info(
                Level::Error,
                code::CONNECT_REJECTED,
                description,
            ))],
        };
        self.transport
            .send(chunk_stream::COMMAND, 0, 0, &Message::Command(command));
        self.phase = Phase::Closed;
        Ok(())
    }

    /// Accepts the pending `publish`: `StreamBegin` and `NetStream.Publish.Start`, then
    /// its media arrives as [`ServerEvent::Media`].
    pub fn accept_publish(&mut self) -> Result<(), SessionError> {
        let Decision::Publish { stream_id } =
            self.take_decision(|d| matches!(d, Decision::Publish { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no publish pending",
            });
        };
        let name = self
            .stream_mut(stream_id)
            .and_then(|s| s.requested.take())
            .unwrap_or_default();
        if let Some(stream) = self.stream_mut(stream_id) {
            stream.state = StreamState::Publishing { name: name.clone() };
        }
        let begin = Message::UserControl(UserControl::StreamBegin(stream_id));
        self.transport.send(chunk_stream::CONTROL, 0, 0, &begin);
        self.send_status(
            stream_id,
            Level::Status,
            code::PUBLISH_START,
            &format!("{name} is now published."),
        );
        self.resume()
    }

    /// Rejects the pending `publish` with an error `onStatus` (`code` is usually
    /// [`code::PUBLISH_BAD_NAME`]). The connection stays open: the client may try
    /// another name, or close.
    pub fn reject_publish(&mut self, code: &str, description: &str) -> Result<(), SessionError> {
        let Decision::Publish { stream_id } =
            self.take_decision(|d| matches!(d, Decision::Publish { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no publish pending",
            });
        };
        if let Some(stream) = self.stream_mut(stream_id) {
            stream.requested = None;
        }
        self.send_status(stream_id, Level::Error, code, description);
        self.resume()
    }

    /// Accepts the pending `play`: `StreamBegin`, `NetStream.Play.Reset`,
    /// `NetStream.Play.Start` and `|RtmpSampleAccess`. Then send media with
    /// [`send_media`](Self::send_media).
    pub fn accept_play(&mut self) -> Result<(), SessionError> {
        let Decision::Play { stream_id } =
            self.take_decision(|d| matches!(d, Decision::Play { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no play pending",
            });
        };
        let name = self
            .stream_mut(stream_id)
            .and_then(|s| s.requested.take())
            .unwrap_or_default();
        if let Some(stream) = self.stream_mut(stream_id) {
            stream.state = StreamState::Playing {
                name: name.clone(),
                paused: false,
            };
        }
        let begin = Message::UserControl(UserControl::StreamBegin(stream_id));
        self.transport.send(chunk_stream::CONTROL, 0, 0, &begin);
        self.send_status(
            stream_id,
            Level::Status,
            code::PLAY_RESET,
            &format!("Playing and resetting {name}."),
        );
        self.send_status(
            stream_id,
            Level::Status,
            code::PLAY_START,
            &format!("Started playing {name}."),
        );
        let access = DataMessage::from_values(vec![
            Value::from("|RtmpSampleAccess"),
            Value::Boolean(true),
            Value::Boolean(true),
        ]);
        self.transport
            .send(chunk_stream::STREAM, stream_id, 0, &Message::Data(access));
        self.resume()
    }

    /// Rejects the pending `play` with an error `onStatus` (usually
    /// [`code::PLAY_STREAM_NOT_FOUND`]).
    pub fn reject_play(&mut self, code: &str, description: &str) -> Result<(), SessionError> {
        let Decision::Play { stream_id } =
            self.take_decision(|d| matches!(d, Decision::Play { .. }))?
        else {
            return Err(SessionError::InvalidState {
                what: "no play pending",
            });
        };
        if let Some(stream) = self.stream_mut(stream_id) {
            stream.requested = None;
        }
        self.send_status(stream_id, Level::Error, code, description);
        self.resume()
    }

    /// Queues a media message for a player. Returns `false` (and sends nothing) when
    /// the stream is not an accepted, unpaused player.
    ///
    /// The payload is not copied: it goes out as `Bytes` slices behind chunk headers.
    pub fn send_media(&mut self, message: &MediaMessage) -> bool {
        let playing = self.streams.iter().any(|s| {
            s.id == message.stream_id
                && matches!(s.state, StreamState::Playing { paused: false, .. })
        });
        if playing {
            self.transport.send_raw(&RawMessage {
                chunk_stream_id: message.kind.chunk_stream_id(),
                type_id: message.kind.type_id(),
                stream_id: message.stream_id,
                timestamp: message.timestamp,
                payload: message.payload.clone(),
            });
        }
        playing
    }

    /// Tells a player its stream got a publisher (`StreamBegin`, `NetStream.Play.PublishNotify`).
    pub fn notify_publish_start(&mut self, stream_id: u32) {
        let begin = Message::UserControl(UserControl::StreamBegin(stream_id));
        self.transport.send(chunk_stream::CONTROL, 0, 0, &begin);
        self.send_status(
            stream_id,
            Level::Status,
            code::PLAY_PUBLISH_NOTIFY,
            "Stream is now published.",
        );
    }

    /// Tells a player its publisher left with `StreamEOF` only, as nginx-rtmp does by
    /// default: players stay connected and wait for the next publisher.
    pub fn send_stream_eof(&mut self, stream_id: u32) {
        let eof = Message::UserControl(UserControl::StreamEof(stream_id));
        self.transport.send(chunk_stream::CONTROL, 0, 0, &eof);
    }

    /// Tells a player its publisher left: `StreamEOF`, then `NetStream.Play.UnpublishNotify`
    /// (nginx-rtmp's `publish_notify on`). FFmpeg and librtmp players end on the status;
    /// GStreamer's rtmp2src ends too but drops the last media message it had received.
    pub fn notify_publish_end(&mut self, stream_id: u32) {
        self.send_stream_eof(stream_id);
        self.send_status(
            stream_id,
            Level::Status,
            code::PLAY_UNPUBLISH_NOTIFY,
            "Stream is now unpublished.",
        );
    }

    /// The next event for the application, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Bytes to send to the peer, as a queue of `Bytes` pieces (for vectored writes).
    pub fn output(&mut self) -> &mut ChunkOutput {
        &mut self.transport.output
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closed => None,
            Phase::Handshake | Phase::AwaitingConnect if self.decision.is_none() => {
                Some(self.started + self.config.handshake_timeout)
            }
            // Pings go only to connected peers; otherwise (a ping already out, or the
            // application still deciding on connect) the next deadline is the idle one,
            // so the deadline always moves past `now` after `handle_timeout`.
            Phase::Connected if !self.ping_outstanding => {
                Some(self.last_input + self.config.ping_interval.min(self.config.idle_timeout))
            }
            _ => Some(self.last_input + self.config.idle_timeout),
        }
    }

    /// Applies the passage of time: fails a handshake or idle connection that took too
    /// long, and pings a silent peer.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        let waiting_for_peer = matches!(self.phase, Phase::Handshake | Phase::AwaitingConnect)
            && self.decision.is_none();
        if waiting_for_peer && now >= self.started + self.config.handshake_timeout {
            self.phase = Phase::Closed;
            return Err(SessionError::HandshakeTimeout {
                seconds: self.config.handshake_timeout.as_secs(),
            });
        }
        let silent = now.saturating_duration_since(self.last_input);
        if silent >= self.config.idle_timeout {
            self.phase = Phase::Closed;
            return Err(SessionError::IdleTimeout {
                seconds: self.config.idle_timeout.as_secs(),
            });
        }
        if self.phase == Phase::Connected
            && silent >= self.config.ping_interval
            && !self.ping_outstanding
        {
            self.ping_outstanding = true;
            // The ping value is the session's age in ms, as nginx-rtmp sends it.
            let millis = now.saturating_duration_since(self.started).as_millis() as u32;
            let ping = Message::UserControl(UserControl::PingRequest(millis));
            self.transport.send(chunk_stream::CONTROL, 0, 0, &ping);
        }
        Ok(())
    }

    /// Whether the client said in `connect` that it handles a reconnect
    /// request (Enhanced RTMP v2 `capsEx` bit 1).
    pub fn peer_supports_reconnect(&self) -> bool {
        self.peer_caps_ex & EnhancedCapabilities::CAPS_RECONNECT != 0
    }

    /// Asks the client to reconnect (Enhanced RTMP v2 "Reconnect Request"),
    /// to `tc_url` or, with `None`, to the same URL: an `onStatus` with
    /// `NetConnection.Connect.ReconnectRequest` on the NetConnection (message
    /// stream 0). A server sends it before a planned shutdown or to move a
    /// publisher to another instance; a client that supports it (see
    /// [`peer_supports_reconnect`](Self::peer_supports_reconnect)) opens the new
    /// connection, moves its stream over at a key frame and closes this one.
    /// Nothing else changes here: the session goes on until the client leaves.
    ///
    /// Fails when the session is not connected (misuse).
    pub fn request_reconnect(
        &mut self,
        tc_url: Option<&str>,
        description: &str,
    ) -> Result<(), SessionError> {
        if self.phase != Phase::Connected {
            return Err(SessionError::InvalidState {
                what: "a reconnect request needs a connected session",
            });
        }
        let mut info = status::info(Level::Status, code::RECONNECT_REQUEST, description);
        if let Some(url) = tc_url {
            info.push("tcUrl", url);
        }
        let command = Command::new("onStatus", 0.0, vec![Value::Object(info)]);
        self.transport
            .send(chunk_stream::COMMAND, 0, 0, &Message::Command(command));
        Ok(())
    }

    /// The application of the connection (empty before `connect`).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// Whether the handshake and `connect` are done.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// Whether the session ended (an error, a rejected connect).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Bytes received since the handshake.
    pub fn bytes_received(&self) -> u64 {
        self.transport.bytes_received()
    }

    /// Bytes held in partial messages by the chunk decoder plus messages queued for a decision.
    pub fn buffered(&self) -> usize {
        self.transport.decoder.buffered() + self.pending_bytes
    }
}

/// What a message queued for a decision counts against `max_pending_bytes`.
fn queued_cost(raw: &RawMessage) -> usize {
    raw.payload.len() + std::mem::size_of::<RawMessage>()
}

fn string_argument(command: &Command, index: usize) -> String {
    command
        .argument(index)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
