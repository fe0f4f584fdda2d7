//! The fan-out of every stream to its players: who publishes each key, who
//! plays it (RTMP players, HTTP-FLV readers, upstream pushes), and what a late
//! joiner needs (metadata, sequence headers, the current group of pictures).
//!
//! Each player has a [`queue`] bounded in bytes and age; the publisher never
//! waits for a player. A player whose queue is full skips to the next key frame
//! and is sent the sequence headers again before it.

pub mod queue;
pub mod tag_class;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use rtmp_core::MediaKind;

use crate::config::Limits;
use queue::SendError;
use tag_class::{classify_audio, classify_video, TagClass};

/// One audio, video or data message of a stream, as the publisher sent it.
#[derive(Clone, Debug)]
pub struct Packet {
    /// Audio, video or data.
    pub kind: MediaKind,
    /// Milliseconds on the publisher's timeline.
    pub timestamp: u64,
    /// The payload, untouched (data messages keep a leading `@setDataFrame`).
    pub payload: Bytes,
}

/// What a subscriber's queue carries.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// A message to send.
    Packet(Packet),
    /// The stream got a publisher.
    PublishStart,
    /// The stream lost its publisher.
    PublishEnd,
}

struct Subscriber {
    id: u64,
    tx: queue::Sender,
    /// Sends nothing but headers and metadata until the next keyframe.
    waiting_for_keyframe: bool,
    /// Messages were dropped: resend the headers before the next keyframe.
    dropped: bool,
}

#[derive(Default)]
struct Stream {
    publisher: Option<u64>,
    metadata: Option<Packet>,
    video_header: Option<Packet>,
    audio_headers: Vec<Packet>,
    has_video: bool,
    /// Timestamp of the latest audio or video message.
    last_timestamp: u64,
    /// Messages since the last video keyframe (keyframe first); empty when unusable.
    gop: Vec<Packet>,
    gop_bytes: usize,
    subscribers: Vec<Subscriber>,
}

/// Why a publish was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PublishRefused {
    /// Another connection publishes this key.
    AlreadyPublishing,
}

/// Counters for logs and tests.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Messages not delivered to some subscriber because its queue was full.
    pub dropped: AtomicU64,
}

/// One stream, shared by the hub's map and its publisher's handle.
type Cell = Arc<Mutex<Stream>>;

fn lock_cell(cell: &Cell) -> MutexGuard<'_, Stream> {
    // A panic while holding the lock cannot leave a stream half-updated in a way
    // that matters more than losing the stream; keep serving.
    cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// All streams of one server. The map is locked to find a stream, add or remove
/// one; each stream has its own lock, which its publisher takes for every
/// message through its [`Publishing`] handle, without the map's.
pub struct Hub {
    streams: Mutex<HashMap<String, Cell>>,
    limits: Limits,
    /// Counters.
    pub stats: Arc<HubStats>,
}

/// A publisher's handle on its stream: [`Publishing::publish`] delivers a
/// message to every subscriber without the hub's map lock.
pub struct Publishing {
    cell: Cell,
    publisher: u64,
    limits: Limits,
    stats: Arc<HubStats>,
}

impl Publishing {
    /// Delivers one message of the publisher to every subscriber and updates the
    /// caches; a no-op once the publish has ended.
    pub fn publish(&self, packet: Packet) {
        let mut stream = lock_cell(&self.cell);
        if stream.publisher == Some(self.publisher) {
            stream.deliver(packet, &self.limits, &self.stats);
        }
    }
}

/// Payloads up to this size are copied out of the read buffer before they are
/// kept (GOP cache, HLS segments, player queues). A message that fits one RTMP
/// chunk arrives as a slice of the connection's read buffer (no copy), and keeping
/// it would keep that whole buffer (64 KiB or more) alive for as long as the
/// message is kept: with many streams that doubles the memory held. Larger messages
/// were assembled from several chunks into an allocation of their own already.
/// Publishers' sessions have their decoder make the copy
/// (`ServerConfig::copy_payloads_below`), packed into 14 KiB slabs so that a copy
/// costs no allocation of its own; pulled streams go through [`compact`].
pub const COMPACT_BELOW: usize = 8192;

/// `payload` in an allocation of its own if it is small (see [`COMPACT_BELOW`]).
pub fn compact(payload: Bytes) -> Bytes {
    match payload.len() <= COMPACT_BELOW {
        true => Bytes::copy_from_slice(&payload),
        false => payload,
    }
}

impl Hub {
    /// An empty hub.
    pub fn new(limits: Limits) -> Hub {
        Hub {
            streams: Mutex::new(HashMap::new()),
            limits,
            stats: Arc::new(HubStats::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Cell>> {
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The stream of `key`, if the hub has it.
    fn cell(&self, key: &str) -> Option<Cell> {
        self.lock().get(key).cloned()
    }

    /// Whether `key` has a publisher.
    pub fn is_live(&self, key: &str) -> bool {
        self.cell(key)
            .is_some_and(|cell| lock_cell(&cell).publisher.is_some())
    }

    /// Makes `publisher` the publisher of `key`, unless another one is live, and
    /// returns its handle.
    pub fn start_publish(&self, key: &str, publisher: u64) -> Result<Publishing, PublishRefused> {
        let mut streams = self.lock();
        let cell = streams.entry(key.to_owned()).or_default().clone();
        drop(streams);
        let mut stream = lock_cell(&cell);
        if stream.publisher.is_some() {
            return Err(PublishRefused::AlreadyPublishing);
        }
        stream.publisher = Some(publisher);
        stream.clear_caches();
        for subscriber in &mut stream.subscribers {
            // Waiting players see the stream from its first message: nothing to skip.
            subscriber.waiting_for_keyframe = false;
            subscriber.dropped = false;
            let _ = subscriber
                .tx
                .force_send(Delivery::PublishStart, Instant::now());
        }
        drop(stream);
        Ok(Publishing {
            cell,
            publisher,
            limits: self.limits,
            stats: self.stats.clone(),
        })
    }

    /// Ends the publish of `key` by `publisher` (a no-op for anyone else).
    pub fn end_publish(&self, key: &str, publisher: u64) {
        let mut streams = self.lock();
        let Some(cell) = streams.get(key).cloned() else {
            return;
        };
        let mut stream = lock_cell(&cell);
        if stream.publisher != Some(publisher) {
            return;
        }
        stream.publisher = None;
        stream.clear_caches();
        for subscriber in &stream.subscribers {
            let _ = subscriber
                .tx
                .force_send(Delivery::PublishEnd, Instant::now());
        }
        if stream.subscribers.is_empty() {
            streams.remove(key);
        }
    }

    /// Delivers a publisher's message to every subscriber of `key` and updates the
    /// caches (a publisher's own [`Publishing`] handle does this without the map lock).
    pub fn publish(&self, key: &str, packet: Packet) {
        if let Some(cell) = self.cell(key) {
            lock_cell(&cell).deliver(packet, &self.limits, &self.stats);
        }
    }

    /// Adds the subscriber `id` to `key` and returns its queue and whether the stream
    /// is live. If it is, the queue is primed with the metadata, the sequence headers
    /// and the current GOP, so the subscriber starts on a keyframe.
    pub fn subscribe(&self, key: &str, id: u64) -> (queue::Receiver, bool) {
        let (tx, rx) = queue::channel(self.limits.player_queue_bytes, self.limits.player_queue_age);
        let now = Instant::now();
        let cell = self.lock().entry(key.to_owned()).or_default().clone();
        let mut stream = lock_cell(&cell);
        let live = stream.publisher.is_some();
        let mut waiting_for_keyframe = true;
        if live {
            // Metadata goes first at time 0: FFmpeg's FLV demuxer takes `onMetaData` as
            // stream metadata only at 0 (later, it becomes a data stream without
            // timestamps). The sequence headers follow, stamped with the time the player
            // starts at (the GOP's keyframe, else the latest message), so its timeline
            // begins there instead of jumping from the headers' original time.
            if let Some(metadata) = &stream.metadata {
                let _ = tx.force_send(Delivery::Packet(restamped(metadata, 0)), now);
            }
            let start = stream
                .gop
                .first()
                .map_or(stream.last_timestamp, |p| p.timestamp);
            for packet in stream.video_header.iter().chain(&stream.audio_headers) {
                let _ = tx.force_send(Delivery::Packet(restamped(packet, start)), now);
            }
            for packet in &stream.gop {
                let _ = tx.force_send(Delivery::Packet(packet.clone()), now);
            }
            // With a GOP cache the player is already on a keyframe; an audio-only
            // stream can start anywhere.
            waiting_for_keyframe = stream.gop.is_empty() && stream.has_video;
        }
        stream.subscribers.push(Subscriber {
            id,
            tx,
            waiting_for_keyframe,
            dropped: false,
        });
        (rx, live)
    }

    /// Removes a subscriber.
    pub fn unsubscribe(&self, key: &str, id: u64) {
        let mut streams = self.lock();
        let Some(cell) = streams.get(key).cloned() else {
            return;
        };
        let mut stream = lock_cell(&cell);
        stream.subscribers.retain(|s| s.id != id);
        if stream.subscribers.is_empty() && stream.publisher.is_none() {
            streams.remove(key);
        }
    }

    /// Subscribers of `key` (players, HTTP-FLV readers, pushes).
    pub fn subscribers(&self, key: &str) -> usize {
        self.cell(key)
            .map_or(0, |cell| lock_cell(&cell).subscribers.len())
    }

    /// Bytes queued for the subscribers of `key`, all together.
    pub fn queued_bytes(&self, key: &str) -> usize {
        self.cell(key).map_or(0, |cell| {
            let stream = lock_cell(&cell);
            stream.subscribers.iter().map(|s| s.tx.queued_bytes()).sum()
        })
    }

    /// Number of streams known (live or with waiting players).
    pub fn stream_count(&self) -> usize {
        self.lock().len()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Metadata,
    Header,
    Keyframe,
    Frame,
    Other,
}

impl Stream {
    /// Updates the caches with `packet` and queues it for every subscriber that
    /// can take it (a full queue skips its subscriber to the next key frame).
    fn deliver(&mut self, packet: Packet, limits: &Limits, stats: &HubStats) {
        let class = self.remember(packet.clone(), limits);
        if self.subscribers.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut closed = false;
        for subscriber in &mut self.subscribers {
            let deliver = match class {
                Class::Header | Class::Metadata | Class::Other => true,
                Class::Keyframe => {
                    if subscriber.dropped {
                        // Headers may have been among what was dropped: resend them first,
                        // stamped with the keyframe's time so the timeline does not step back.
                        for header in self.video_header.iter().chain(&self.audio_headers) {
                            let header = restamped(header, packet.timestamp);
                            let _ = subscriber.tx.force_send(Delivery::Packet(header), now);
                        }
                    }
                    subscriber.waiting_for_keyframe = false;
                    subscriber.dropped = false;
                    true
                }
                Class::Frame => !subscriber.waiting_for_keyframe,
            };
            if !deliver {
                continue;
            }
            match subscriber
                .tx
                .try_send(Delivery::Packet(packet.clone()), now)
            {
                Ok(()) => {}
                Err(SendError::Full) => {
                    // A slow subscriber never slows the publisher: skip to the next keyframe.
                    subscriber.waiting_for_keyframe = true;
                    subscriber.dropped = true;
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(SendError::Closed) => closed = true,
            }
        }
        if closed {
            self.subscribers.retain(|s| !s.tx.is_closed());
        }
    }

    fn clear_caches(&mut self) {
        self.metadata = None;
        self.video_header = None;
        self.audio_headers.clear();
        self.has_video = false;
        self.last_timestamp = 0;
        self.gop.clear();
        self.gop_bytes = 0;
    }

    /// Updates the caches with a new message and says what it is.
    fn remember(&mut self, packet: Packet, limits: &Limits) -> Class {
        if packet.kind != MediaKind::Data {
            self.last_timestamp = packet.timestamp;
        }
        let class = match packet.kind {
            MediaKind::Video => {
                self.has_video = true;
                match classify_video(&packet.payload) {
                    TagClass::Header => Class::Header,
                    TagClass::Keyframe => Class::Keyframe,
                    TagClass::Frame => Class::Frame,
                    TagClass::Other => Class::Other,
                }
            }
            MediaKind::Audio => match classify_audio(&packet.payload) {
                TagClass::Header => Class::Header,
                TagClass::Other => Class::Other,
                // Without video, every audio frame is a place to start.
                _ if !self.has_video => Class::Keyframe,
                _ => Class::Frame,
            },
            MediaKind::Data => {
                if is_metadata(&packet.payload) {
                    self.metadata = Some(packet);
                }
                return Class::Metadata;
            }
        };
        match class {
            Class::Header if packet.kind == MediaKind::Video => self.video_header = Some(packet),
            Class::Header => {
                // One header per audio packet kind (e.g. Opus SequenceStart and MultichannelConfig).
                let first = packet.payload.first().copied();
                self.audio_headers
                    .retain(|h| h.payload.first().copied() != first);
                self.audio_headers.push(packet);
            }
            Class::Keyframe if packet.kind == MediaKind::Video || !self.has_video => {
                self.gop.clear();
                self.gop_bytes = packet.payload.len();
                self.gop.push(packet);
            }
            _ => {
                if !self.gop.is_empty() {
                    self.gop_bytes += packet.payload.len();
                    self.gop.push(packet);
                    if self.gop.len() > limits.gop_messages || self.gop_bytes > limits.gop_bytes {
                        // Too long to replay: late joiners wait for the next keyframe.
                        self.gop.clear();
                        self.gop_bytes = 0;
                    }
                }
            }
        }
        if !self.has_video && self.gop.len() > 1 {
            // Audio-only: a joiner can start anywhere; keep only the latest frame.
            self.gop.drain(..self.gop.len() - 1);
        }
        class
    }
}

/// A copy of `packet` (sharing its payload) with another timestamp.
fn restamped(packet: &Packet, timestamp: u64) -> Packet {
    Packet {
        timestamp,
        ..packet.clone()
    }
}

/// Players get `onMetaData, {...}`; publishers send `@setDataFrame, onMetaData, {...}`.
pub fn strip_set_data_frame(body: Bytes) -> Bytes {
    const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";
    if body.starts_with(SET_DATA_FRAME) {
        body.slice(SET_DATA_FRAME.len()..)
    } else {
        body
    }
}

/// Whether an AMF0 data body is metadata (`onMetaData`, or `@setDataFrame` + `onMetaData`).
pub fn is_metadata(body: &Bytes) -> bool {
    let mut values = amf0::Decoder::new(body.clone());
    match values.next() {
        Some(Ok(first)) if first.as_str() == Some("onMetaData") => true,
        Some(Ok(first)) if first.as_str() == Some("@setDataFrame") => {
            matches!(values.next(), Some(Ok(second)) if second.as_str() == Some("onMetaData"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "live/k";

    fn video(timestamp: u64, body: &'static [u8]) -> Packet {
        Packet {
            kind: MediaKind::Video,
            timestamp,
            payload: Bytes::from_static(body),
        }
    }

    fn audio(timestamp: u64, body: &'static [u8]) -> Packet {
        Packet {
            kind: MediaKind::Audio,
            timestamp,
            payload: Bytes::from_static(body),
        }
    }

    const AVC_HEADER: &[u8] = &[0x17, 0x00, 0, 0, 0, 1];
    const AVC_KEY: &[u8] = &[0x17, 0x01, 0, 0, 0, 0xAA];
    const AVC_INTER: &[u8] = &[0x27, 0x01, 0, 0, 0, 0xBB];
    const AAC_HEADER: &[u8] = &[0xAF, 0x00, 0x12, 0x10];
    const AAC_FRAME: &[u8] = &[0xAF, 0x01, 0x21];

    /// What a subscriber received: (timestamp, first bytes) of each packet, and markers.
    fn drain(rx: &mut queue::Receiver) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(delivery) = rx.try_recv() {
            out.push(match delivery {
                Delivery::Packet(p) => format!(
                    "{:?}@{}:{:02x}{:02x}",
                    p.kind, p.timestamp, p.payload[0], p.payload[1]
                ),
                Delivery::PublishStart => "start".into(),
                Delivery::PublishEnd => "end".into(),
            });
        }
        out
    }

    fn publish_intro(hub: &Hub) {
        hub.start_publish(KEY, 1).unwrap();
        hub.publish(KEY, video(0, AVC_HEADER));
        hub.publish(KEY, audio(0, AAC_HEADER));
        hub.publish(KEY, audio(0, AAC_FRAME)); // audio before the first keyframe
        hub.publish(KEY, video(0, AVC_KEY));
        hub.publish(KEY, video(33, AVC_INTER));
    }

    #[test]
    fn a_player_waiting_before_the_publisher_gets_everything() {
        let hub = Hub::new(Limits::default());
        let (mut rx, live) = hub.subscribe(KEY, 7);
        assert!(!live);
        publish_intro(&hub);
        assert_eq!(
            drain(&mut rx),
            [
                "start",
                "Video@0:1700",
                "Audio@0:af00",
                "Audio@0:af01",
                "Video@0:1701",
                "Video@33:2701"
            ]
        );
    }

    #[test]
    fn a_late_joiner_gets_restamped_headers_then_the_gop() {
        let hub = Hub::new(Limits::default());
        publish_intro(&hub);
        hub.publish(KEY, video(4000, AVC_KEY));
        hub.publish(KEY, audio(4001, AAC_FRAME));
        let (mut rx, live) = hub.subscribe(KEY, 7);
        assert!(live);
        assert_eq!(
            drain(&mut rx),
            [
                "Video@4000:1700",
                "Audio@4000:af00",
                "Video@4000:1701",
                "Audio@4001:af01"
            ]
        );
    }

    #[test]
    fn a_slow_player_skips_to_the_next_keyframe_and_gets_headers_again() {
        // Room for four of these 6-byte messages.
        let hub = Hub::new(Limits {
            player_queue_bytes: 4 * (6 + queue::MESSAGE_OVERHEAD),
            ..Limits::default()
        });
        hub.start_publish(KEY, 1).unwrap();
        hub.publish(KEY, video(0, AVC_HEADER));
        hub.publish(KEY, audio(0, AAC_HEADER));
        let (mut rx, _) = hub.subscribe(KEY, 7);
        for ts in [0, 33, 66, 99, 132] {
            hub.publish(KEY, video(ts, if ts == 0 { AVC_KEY } else { AVC_INTER }));
        }
        assert!(hub.stats.dropped.load(Ordering::Relaxed) > 0);
        let before = drain(&mut rx);
        assert_eq!(before.len(), 4, "the queue held what fitted: {before:?}");
        hub.publish(KEY, video(165, AVC_INTER)); // still skipped: not a keyframe
        hub.publish(KEY, video(198, AVC_KEY));
        assert_eq!(
            drain(&mut rx),
            ["Video@198:1700", "Audio@198:af00", "Video@198:1701"]
        );
    }

    #[test]
    fn a_second_publisher_is_refused_until_the_first_leaves() {
        let hub = Hub::new(Limits::default());
        hub.start_publish(KEY, 1).unwrap();
        assert_eq!(
            hub.start_publish(KEY, 2).err(),
            Some(PublishRefused::AlreadyPublishing)
        );
        hub.end_publish(KEY, 2); // not the publisher: no effect
        assert!(hub.is_live(KEY));
        hub.end_publish(KEY, 1);
        assert!(!hub.is_live(KEY));
        assert_eq!(hub.stream_count(), 0);
        hub.start_publish(KEY, 2).unwrap();
    }

    #[test]
    fn audio_only_streams_start_anywhere_and_keep_one_frame() {
        let hub = Hub::new(Limits::default());
        hub.start_publish(KEY, 1).unwrap();
        hub.publish(KEY, audio(0, AAC_HEADER));
        for ts in [0, 23, 46] {
            hub.publish(KEY, audio(ts, AAC_FRAME));
        }
        let (mut rx, _) = hub.subscribe(KEY, 7);
        assert_eq!(drain(&mut rx), ["Audio@46:af00", "Audio@46:af01"]);
        hub.publish(KEY, audio(69, AAC_FRAME));
        assert_eq!(drain(&mut rx), ["Audio@69:af01"]);
    }

    #[test]
    fn metadata_is_recognised_with_and_without_set_data_frame() {
        let mut body = bytes::BytesMut::new();
        amf0::Value::from("@setDataFrame").encode(&mut body);
        amf0::Value::from("onMetaData").encode(&mut body);
        assert!(is_metadata(&body.clone().freeze()));
        let stripped = strip_set_data_frame(body.freeze());
        assert!(is_metadata(&stripped));
        let mut other = bytes::BytesMut::new();
        amf0::Value::from("onTextData").encode(&mut other);
        assert!(!is_metadata(&other.freeze()));
    }
}
