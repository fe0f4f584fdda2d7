//! The client side of an RTMP connection, without IO: connect, then publish or play.

use std::collections::VecDeque;
use std::time::Instant;

use amf0::{Object, Value};
use bytes::BytesMut;

use super::status::{code, Status};
use super::transport::Transport;
use super::{ClientConfig, MediaKind, MediaMessage, SessionError};
use crate::chunk::{ChunkOutput, RawMessage};
use crate::handshake::{ClientHandshake, Progress};
use crate::message::{chunk_stream, type_id, Command, Message, UserControl};

/// What a [`ClientSession`] reports to the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server accepted `connect`. `properties` is its answer's command object
    /// (`fmsVer`, `capabilities`, and Enhanced RTMP capabilities when it has them).
    Connected {
        /// The server's properties object.
        properties: Object,
    },
    /// The server refused `connect`.
    ConnectFailed(Status),
    /// `NetStream.Publish.Start`: media may be sent now.
    PublishStarted {
        /// The message stream media goes on.
        stream_id: u32,
    },
    /// `NetStream.Play.Start`: media will arrive as [`ClientEvent::Media`].
    PlayStarted {
        /// The message stream media comes on.
        stream_id: u32,
    },
    /// Any `onStatus` the server sent (errors such as `NetStream.Publish.BadName` included).
    Status {
        /// The message stream it came on.
        stream_id: u32,
        /// The status.
        status: Status,
    },
    /// The server asks for a reconnect (Enhanced RTMP v2 "Reconnect Request",
    /// `NetConnection.Connect.ReconnectRequest`): open a new connection to
    /// `tc_url` (or, when `None`, to the same URL), move the stream over at a
    /// key frame, then close this one. Also reported as [`ClientEvent::Status`].
    ReconnectRequested {
        /// Where to reconnect, when the server says.
        tc_url: Option<String>,
        /// The server's reason.
        description: String,
    },
    /// Audio, video or data from the server.
    Media(MediaMessage),
    /// A command this crate does not handle itself.
    Command {
        /// The message stream it came on.
        stream_id: u32,
        /// The command.
        command: Command,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Handshake,
    Connecting,
    Connected,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Intent {
    Publish { name: String, publish_type: String },
    Play { name: String },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StreamPhase {
    None,
    Creating { transaction_id: f64 },
    Starting { stream_id: u32 },
    Active { stream_id: u32 },
}

const CONNECT_TRANSACTION: f64 = 1.0;

/// The client side of one RTMP connection: connect, then publish or play one stream.
///
/// ```
/// use std::time::Instant;
/// use rtmp_core::{ClientConfig, ClientSession, RtmpUrl};
///
/// let url = RtmpUrl::parse("rtmp://127.0.0.1/live/cam1").unwrap();
/// let mut client = ClientSession::new(ClientConfig::new(&url.app, url.tc_url()), Instant::now());
/// client.publish(&url.key, "live");
/// assert_eq!(client.output().len(), 1 + 1536); // C0 + C1, ready to send
/// ```
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    handshake: ClientHandshake,
    transport: Transport,
    phase: Phase,
    intent: Option<Intent>,
    stream: StreamPhase,
    next_transaction: f64,
    events: VecDeque<ClientEvent>,
    started: Instant,
    last_input: Instant,
    scratch: BytesMut,
}

impl ClientSession {
    /// A session for a freshly opened connection; C0 and C1 are ready in
    /// [`output`](Self::output) at once.
    pub fn new(config: ClientConfig, now: Instant) -> ClientSession {
        let handshake = if config.digest_handshake {
            ClientHandshake::new(config.seed, 0)
        } else {
            ClientHandshake::simple(config.seed, 0)
        };
        let transport = Transport::new(config.chunk_limits, config.amf_limits);
        let mut session = ClientSession {
            config,
            handshake,
            transport,
            phase: Phase::Handshake,
            intent: None,
            stream: StreamPhase::None,
            next_transaction: CONNECT_TRANSACTION + 1.0,
            events: VecDeque::new(),
            started: now,
            last_input: now,
            scratch: BytesMut::new(),
        };
        let mut nothing = BytesMut::new();
        // Writing C0+C1 cannot fail: no peer bytes are involved yet.
        if session
            .handshake
            .advance(&mut nothing, &mut session.scratch)
            .is_ok()
        {
            session.flush_scratch();
        }
        session
    }

    /// Publishes `name` once connected (`releaseStream`, `FCPublish`, `createStream`,
    /// `publish`, as FFmpeg and OBS send them). `publish_type` is usually `"live"`.
    pub fn publish(&mut self, name: &str, publish_type: &str) {
        self.intent = Some(Intent::Publish {
            name: name.to_owned(),
            publish_type: publish_type.to_owned(),
        });
        if self.phase == Phase::Connected && self.stream == StreamPhase::None {
            self.start_stream();
        }
    }

    /// Plays `name` once connected (`createStream`, `play`, `Set Buffer Length`).
    pub fn play(&mut self, name: &str) {
        self.intent = Some(Intent::Play {
            name: name.to_owned(),
        });
        if self.phase == Phase::Connected && self.stream == StreamPhase::None {
            self.start_stream();
        }
    }

    /// Processes received bytes, consuming from `input` what it used.
    ///
    /// An error means the connection must be closed; the session is closed after it.
    pub fn handle_input(&mut self, input: &mut BytesMut, now: Instant) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        if !input.is_empty() {
            self.last_input = self.last_input.max(now);
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
            self.send_connect()?;
        }
        while let Some(raw) = self.transport.next_message(input)? {
            self.process_message(raw)?;
        }
        Ok(())
    }

    fn flush_scratch(&mut self) {
        if !self.scratch.is_empty() {
            let bytes = self.scratch.split().freeze();
            self.transport.output.push(bytes);
        }
    }

    fn send_connect(&mut self) -> Result<(), SessionError> {
        self.transport.set_chunk_size(self.config.chunk_size)?;
        let mut object = Object::new();
        object.push("app", self.config.app.as_str());
        object.push("type", "nonprivate");
        object.push("flashVer", self.config.flash_version.as_str());
        object.push("tcUrl", self.config.tc_url.as_str());
        if matches!(self.intent, Some(Intent::Play { .. })) {
            // What a player announces (FFmpeg's and Flash's values).
            object.push("fpad", false);
            object.push("capabilities", 15.0);
            object.push("audioCodecs", 4071.0);
            object.push("videoCodecs", 252.0);
            object.push("videoFunction", 1.0);
        }
        if let Some(enhanced) = &self.config.enhanced {
            enhanced.write_connect(&mut object);
        }
        let connect = Command {
            name: "connect".into(),
            transaction_id: CONNECT_TRANSACTION,
            object: Value::Object(object),
            arguments: vec![],
        };
        self.transport
            .send(chunk_stream::COMMAND, 0, 0, &Message::Command(connect));
        self.phase = Phase::Connecting;
        Ok(())
    }

    fn process_message(&mut self, raw: RawMessage) -> Result<(), SessionError> {
        let message = self.transport.parse(&raw)?;
        let Some(message) = self.transport.handle_common(message) else {
            return Ok(());
        };
        match message {
            Message::Command(command) => self.process_command(raw.stream_id, command),
            Message::SetPeerBandwidth { .. } => {
                // Answered with our window, as FFmpeg and librtmp do.
                let window = Message::WindowAckSize(self.config.window_ack_size);
                self.transport.send(chunk_stream::CONTROL, 0, 0, &window);
                Ok(())
            }
            Message::Audio(payload) | Message::Video(payload) => {
                let kind = if raw.type_id == type_id::AUDIO {
                    MediaKind::Audio
                } else {
                    MediaKind::Video
                };
                self.push_media(raw.stream_id, kind, raw.timestamp, payload);
                Ok(())
            }
            Message::Data(data) => {
                self.push_media(raw.stream_id, MediaKind::Data, raw.timestamp, data.body);
                Ok(())
            }
            Message::Aggregate(_) => {
                for sub in crate::message::split_aggregate(&raw) {
                    let sub = sub.map_err(|source| SessionError::Message {
                        chunk_stream_id: raw.chunk_stream_id,
                        type_id: raw.type_id,
                        source,
                    })?;
                    let Some(kind) = MediaKind::from_type_id(sub.type_id) else {
                        continue;
                    };
                    self.push_media(sub.stream_id, kind, sub.timestamp, sub.payload);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn push_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: u64,
        payload: bytes::Bytes,
    ) {
        self.events.push_back(ClientEvent::Media(MediaMessage {
            stream_id,
            kind,
            timestamp,
            payload,
        }));
    }

    fn process_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        match command.name().unwrap_or_default() {
            "_result"
                if command.transaction_id == CONNECT_TRANSACTION
                    && self.phase == Phase::Connecting =>
            {
                self.phase = Phase::Connected;
                let properties = command.object.as_object().cloned().unwrap_or_default();
                self.events.push_back(ClientEvent::Connected { properties });
                if self.intent.is_some() {
                    self.start_stream();
                }
            }
            "_error"
                if command.transaction_id == CONNECT_TRANSACTION
                    && self.phase == Phase::Connecting =>
            {
                let status = Status::from_command(&command).unwrap_or(Status {
                    level: "error".into(),
                    code: "NetConnection.Connect.Rejected".into(),
                    description: String::new(),
                });
                self.phase = Phase::Closed;
                self.events.push_back(ClientEvent::ConnectFailed(status));
            }
            "_result" if matches!(self.stream, StreamPhase::Creating { transaction_id } if transaction_id == command.transaction_id) =>
            {
                let id = command.argument(0).and_then(Value::as_f64).unwrap_or(1.0) as u32;
                self.begin_stream(id);
            }
            "onStatus" => {
                if let Some(status) = Status::from_command(&command) {
                    if let StreamPhase::Starting { stream_id: id } = self.stream {
                        let started = match status.code.as_str() {
                            "NetStream.Publish.Start" => {
                                Some(ClientEvent::PublishStarted { stream_id: id })
                            }
                            "NetStream.Play.Start" => {
                                Some(ClientEvent::PlayStarted { stream_id: id })
                            }
                            _ => None,
                        };
                        if let Some(event) = started {
                            self.stream = StreamPhase::Active { stream_id: id };
                            self.events.push_back(event);
                        }
                    }
                    if status.code == code::RECONNECT_REQUEST {
                        self.events.push_back(ClientEvent::ReconnectRequested {
                            tc_url: reconnect_url(&command),
                            description: status.description.clone(),
                        });
                    }
                    self.events
                        .push_back(ClientEvent::Status { stream_id, status });
                }
            }
            // Answers to releaseStream/FCPublish and other bookkeeping need no action.
            "_result" | "_error" | "onFCPublish" | "onFCUnpublish" | "onBWDone"
            | "|RtmpSampleAccess" => {}
            _ => self
                .events
                .push_back(ClientEvent::Command { stream_id, command }),
        }
        Ok(())
    }

    fn transaction(&mut self) -> f64 {
        let id = self.next_transaction;
        self.next_transaction += 1.0;
        id
    }

    fn send_command(
        &mut self,
        stream_id: u32,
        name: &str,
        transaction_id: f64,
        arguments: Vec<Value>,
    ) {
        let chunk_stream_id = if stream_id == 0 {
            chunk_stream::COMMAND
        } else {
            chunk_stream::STREAM
        };
        let command = Command::new(name, transaction_id, arguments);
        self.transport
            .send(chunk_stream_id, stream_id, 0, &Message::Command(command));
    }

    fn start_stream(&mut self) {
        if let Some(Intent::Publish { name, .. }) = self.intent.clone() {
            let releasing = self.transaction();
            self.send_command(
                0,
                "releaseStream",
                releasing,
                vec![Value::from(name.as_str())],
            );
            let fc = self.transaction();
            self.send_command(0, "FCPublish", fc, vec![Value::from(name.as_str())]);
        }
        let transaction_id = self.transaction();
        self.send_command(0, "createStream", transaction_id, vec![]);
        self.stream = StreamPhase::Creating { transaction_id };
    }

    fn begin_stream(&mut self, stream_id: u32) {
        self.stream = StreamPhase::Starting { stream_id };
        match self.intent.clone() {
            Some(Intent::Publish { name, publish_type }) => {
                self.send_command(
                    stream_id,
                    "publish",
                    0.0,
                    vec![Value::from(name), Value::from(publish_type)],
                );
            }
            Some(Intent::Play { name }) => {
                self.send_command(
                    stream_id,
                    "play",
                    0.0,
                    vec![Value::from(name), Value::Number(-2000.0)],
                );
                let buffer = UserControl::SetBufferLength {
                    stream_id,
                    buffer_ms: self.config.buffer_ms,
                };
                self.transport
                    .send(chunk_stream::CONTROL, 0, 0, &Message::UserControl(buffer));
            }
            None => {}
        }
    }

    /// Queues a media message on the published stream. Returns `false` (and sends
    /// nothing) before `NetStream.Publish.Start`.
    ///
    /// For metadata, send [`MediaKind::Data`] with a body that starts with
    /// `@setDataFrame` (as publishers do) or with `onMetaData`.
    pub fn send_media(&mut self, kind: MediaKind, timestamp: u64, payload: bytes::Bytes) -> bool {
        let (StreamPhase::Active { stream_id }, Some(Intent::Publish { .. })) =
            (self.stream, &self.intent)
        else {
            return false;
        };
        self.transport.send_raw(&RawMessage {
            chunk_stream_id: kind.chunk_stream_id(),
            type_id: kind.type_id(),
            stream_id,
            timestamp,
            payload,
        });
        true
    }

    /// Ends the stream politely (`FCUnpublish` and `deleteStream` when publishing,
    /// `deleteStream` when playing); close the connection once the output is sent.
    pub fn close(&mut self) {
        if let StreamPhase::Active { stream_id } | StreamPhase::Starting { stream_id } = self.stream
        {
            if let Some(Intent::Publish { name, .. }) = self.intent.clone() {
                let id = self.transaction();
                self.send_command(0, "FCUnpublish", id, vec![Value::from(name)]);
            }
            let id = self.transaction();
            self.send_command(
                0,
                "deleteStream",
                id,
                vec![Value::Number(f64::from(stream_id))],
            );
        }
        self.stream = StreamPhase::None;
        self.phase = Phase::Closed;
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next: the
    /// start deadline until publishing or playing has started, then the idle
    /// deadline if there is one.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        if !self.is_active() {
            return Some(self.started + self.config.start_timeout);
        }
        self.config.idle_timeout.map(|idle| self.last_input + idle)
    }

    /// Applies the passage of time: fails a session that did not start in time,
    /// or (with an idle timeout) whose server went silent. The session is closed
    /// after an error.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::Closed);
        }
        let timeout = self.config.start_timeout;
        if !self.is_active() && now.saturating_duration_since(self.started) >= timeout {
            self.phase = Phase::Closed;
            return Err(SessionError::StartTimeout {
                seconds: timeout.as_secs(),
            });
        }
        if let Some(idle) = self.config.idle_timeout {
            if self.is_active() && now.saturating_duration_since(self.last_input) >= idle {
                self.phase = Phase::Closed;
                return Err(SessionError::IdleTimeout {
                    seconds: idle.as_secs(),
                });
            }
        }
        Ok(())
    }

    /// The next event for the application, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Bytes to send to the server, as a queue of `Bytes` pieces.
    pub fn output(&mut self) -> &mut ChunkOutput {
        &mut self.transport.output
    }

    /// The message stream of the publish or play, once created.
    pub fn stream_id(&self) -> Option<u32> {
        match self.stream {
            StreamPhase::Starting { stream_id } | StreamPhase::Active { stream_id } => {
                Some(stream_id)
            }
            _ => None,
        }
    }

    /// Whether publishing or playing has started.
    pub fn is_active(&self) -> bool {
        matches!(self.stream, StreamPhase::Active { .. })
    }

    /// Whether the session ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// When the session was created (for the application's own timeouts).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Bytes received since the handshake.
    pub fn bytes_received(&self) -> u64 {
        self.transport.bytes_received()
    }
}

/// The `tcUrl` of a reconnect request's info object, if it has one.
fn reconnect_url(command: &Command) -> Option<String> {
    let info = command.arguments.iter().find_map(Value::as_object)?;
    info.get("tcUrl")
        .and_then(Value::as_str)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
}
