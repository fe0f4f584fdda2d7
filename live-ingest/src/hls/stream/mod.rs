//! One stream: RTMP media messages in; init segments, segments, parts and the
//! media playlist out, kept in memory for the HTTP side.
//!
//! An RTMP audio or video message payload is an FLV tag body, so each message
//! becomes an [`flv::Tag`] (no copy: the body is the message's `Bytes`), whose
//! [`flv::MediaEvents`] go to the [`media_probe::Probe`] and through the
//! [`FlvAdapter`] into the [`Muxer`]. What the muxer outputs is kept by URI
//! until it leaves the live window; parts are kept for the last
//! [`PART_SEGMENTS`] segments (the playlist lists them for three target
//! durations only). The HTTP side waits on [`Stream::subscribe`] for changes.

mod extra;
mod files;
mod output;
mod snapshot;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use flv::{MediaEvents, Tag, TagType};
use hls_mux::dash::Dash;
use hls_mux::encryption::Encryption;
use hls_mux::playlist::{MediaPlaylist, ReloadAnswer, RenditionReport, Variant};
use hls_mux::{FlvAdapter, FlvInput, Format, Muxer, MuxerOptions, Tracks};
use media_probe::{Probe, ProbeConfig};
use rtmp_core::MediaKind;
use tokio::sync::watch;
use tracing::{info, warn};

pub(crate) use self::output::PartWindow;
use self::output::{drain, drain_probe, write_playlist};
pub use self::snapshot::Snapshot;
use super::bucket::{Bucket, StoreHandle};
use super::disk::StreamDir;
use super::record::Recording;
use super::tracks::{audio_labels, ExtraId, ExtraTrack, TrackLabel};
use super::variants::GroupClock;
use crate::metrics::WriteFailures;
use crate::{Config, ConfigError, Refused};

/// Parts are kept for this many of the latest segments (the playlist lists
/// parts of the segments of the last three target durations).
pub const PART_SEGMENTS: usize = 8;
/// A rendition joins its group's multivariant playlist once its playlist
/// holds this many segments. RFC 8216 6.3.3 has players start three target
/// durations from the end, and players that pick segments to probe from a
/// short LL-HLS playlist fail: Shaka 5.2.12, loading a multivariant playlist,
/// probes segments for closed captions and, with fewer than three complete
/// segments, takes the open segment, which has no URI of its own yet, and
/// stops with a TypeError (Chromium's own HLS refuses fewer than three too).
/// A rendition that comes back within the grace period still has its
/// segments and rejoins at once.
pub const VARIANT_SEGMENTS: usize = 3;
/// Init segments whose tracks are remembered (a configuration change makes
/// a new one; the live window rarely spans more than two).
const KEPT_INITS: usize = 8;
/// Probe events kept for `/stats`.
pub const KEPT_EVENTS: usize = 16;
/// Viewers remembered at most (addresses that loaded the playlist lately).
const MAX_VIEWERS: usize = 4096;

/// An audio track of a multitrack publish ([`Stream::audio_tracks`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    /// Its track id.
    pub track: u8,
    /// Its channel count, when known.
    pub channels: Option<u8>,
    /// Its name and language, where the publisher sends them.
    pub label: TrackLabel,
}

/// What kind of file a URI holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// An fMP4 init segment.
    Init,
    /// A media segment.
    Segment,
    /// An LL-HLS part.
    Part,
}

/// A file served from memory: its pieces, shared with the muxer's output.
#[derive(Clone, Debug)]
pub struct Served {
    /// The bytes, in order (written to the socket with vectored writes).
    pub data: Arc<[Bytes]>,
    /// What it is.
    pub kind: FileKind,
    /// The container.
    pub format: Format,
}

impl Served {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.data.iter().map(Bytes::len).sum()
    }

    /// Whether it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A probe event as `/stats` shows it.
#[derive(Clone, Debug)]
pub struct EventInfo {
    /// The stable name (`dts_jump`, `stall`, ...).
    pub kind: &'static str,
    /// Its details.
    pub detail: String,
    /// DTS where it happened, ms.
    pub dts: i64,
    /// Seconds since the publish started.
    pub at: f64,
}

/// How every stream is packaged.
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// The muxer options.
    pub muxer: MuxerOptions,
    /// Write files under this directory too.
    pub out: Option<std::path::PathBuf>,
    /// Record each publish under this directory.
    pub record: Option<std::path::PathBuf>,
    /// Encrypt with AES-128, a new key every so many segments (`None`: clear).
    pub key_rotation: Option<u64>,
    /// Where failed writes of both are counted.
    pub write_failures: WriteFailures,
    /// The object store segments and recordings are uploaded to, if any.
    pub store: StoreHandle,
    /// Keep a DASH timeline beside the playlist (`--dash`).
    pub dash: bool,
}

impl StreamOptions {
    /// The options of `config`; fails on a combination the muxer refuses.
    pub fn from_config(config: &Config) -> Result<StreamOptions, ConfigError> {
        Ok(StreamOptions {
            muxer: config.muxer_options()?,
            out: config.out.clone(),
            record: config.record.clone(),
            key_rotation: config.encrypt.map(|_| config.key_rotation),
            write_failures: WriteFailures::default(),
            store: StoreHandle::default(),
            dash: config.dash,
        })
    }
}

struct State {
    muxer: Muxer,
    adapter: FlvAdapter,
    files: HashMap<String, Served>,
    /// Parts of the open segment, then of each recent segment.
    parts: PartWindow,
    publisher: Option<u64>,
    publishes: u32,
    publish_started: Instant,
    ended: Option<Instant>,
    probe: Probe,
    events: VecDeque<EventInfo>,
    errors: u64,
    last_error: Option<String>,
    messages: u64,
    bytes: u64,
    disk: Option<StreamDir>,
    recording: Option<Recording>,
    /// With `--encrypt` and `--out`: the next key period to write to disk.
    keys_on_disk: u64,
    /// With a store: the stream's objects there.
    bucket: Option<Bucket>,
    /// With `--dash`: the DASH timeline of the segments in memory.
    dash: Option<Dash>,
    /// The extra tracks of a multitrack publish.
    extra_tracks: Vec<ExtraTrack>,
    /// The tracks of the latest init segments (for their single-track views).
    inits: VecDeque<(String, Tracks)>,
    /// What the publisher's `onMetaData` says of its audio tracks.
    audio_labels: Vec<(u8, TrackLabel)>,
}

/// One stream (a key): see the [module docs](self).
pub struct Stream {
    key: String,
    /// The clock anchor shared with the other renditions of its variant
    /// group (`None` outside a group).
    group: Option<Arc<GroupClock>>,
    /// The AES-128 keys' source (`--encrypt`).
    encryption: Option<Encryption>,
    options: StreamOptions,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    viewers: Mutex<HashMap<SocketAddr, Instant>>,
    created: Instant,
}

fn probe() -> Probe {
    // Live input: no byte positions; no per-frame records or picture types,
    // which `/stats` does not show and which cost time per frame.
    let config = ProbeConfig::default()
        .positions(false)
        .records(false)
        .pict_type(false);
    Probe::new(config).expect("the default probe configuration is valid")
}

impl Stream {
    /// A stream published by `publisher`; `group` is the clock of its
    /// variant group, if it is in one.
    pub fn new(
        key: &str,
        options: &StreamOptions,
        publisher: u64,
        group: Option<Arc<GroupClock>>,
    ) -> Result<Stream, Refused> {
        let setup = |reason: String| Refused::Setup {
            key: key.to_owned(),
            reason,
        };
        let mut muxer_options = options.muxer.clone();
        if let Some(rotation) = options.key_rotation {
            // A master key of the stream's own, from the system's random source:
            // one stream's keys tell nothing of another's.
            let mut master = [0u8; 16];
            getrandom::fill(&mut master).map_err(|e| setup(format!("no random key: {e}")))?;
            muxer_options.encryption = Some(Encryption::new(master, rotation));
        }
        let encryption = muxer_options.encryption.clone();
        let muxer = Muxer::new(muxer_options).map_err(|e| setup(e.to_string()))?;
        let disk = match &options.out {
            Some(dir) => Some(
                StreamDir::create(dir, key, options.write_failures.clone())
                    .map_err(|e| setup(e.to_string()))?,
            ),
            None => None,
        };
        let now = Instant::now();
        let mut state = State {
            muxer,
            adapter: FlvAdapter::new(),
            files: HashMap::new(),
            parts: PartWindow::default(),
            publisher: Some(publisher),
            publishes: 1,
            publish_started: now,
            ended: None,
            probe: probe(),
            events: VecDeque::new(),
            errors: 0,
            last_error: None,
            messages: 0,
            bytes: 0,
            disk,
            recording: None,
            keys_on_disk: 0,
            bucket: Bucket::new(&options.store, key, options.muxer.target_duration),
            dash: options.dash.then(Dash::new),
            extra_tracks: Vec::new(),
            inits: VecDeque::new(),
            audio_labels: Vec::new(),
        };
        state.recording = open_recording(options, key);
        Ok(Stream {
            key: key.to_owned(),
            group,
            encryption,
            options: options.clone(),
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            viewers: Mutex::new(HashMap::new()),
            created: now,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key (`APP/NAME`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The container.
    pub fn format(&self) -> Format {
        self.options.muxer.format
    }

    /// Whether a publisher is live.
    pub fn is_live(&self) -> bool {
        self.lock().publisher.is_some()
    }

    /// When the publisher left (`None` while live).
    pub fn ended_at(&self) -> Option<Instant> {
        self.lock().ended
    }

    /// A receiver that sees a change whenever the playlist or the files change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A new publisher takes the key: refused while another one is live.
    /// After an ended publish the playlist goes on ([`Muxer::restart`]).
    pub fn begin(&self, publisher: u64) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.publisher.is_some() {
            return Err(Refused::AlreadyPublishing(self.key.clone()));
        }
        state.publisher = Some(publisher);
        state.publishes += 1;
        state.publish_started = Instant::now();
        state.ended = None;
        state.muxer.restart();
        for extra in &mut state.extra_tracks {
            extra.muxer.restart();
            extra.adapter = FlvAdapter::for_track(extra.id.track);
        }
        state.adapter = FlvAdapter::new();
        state.probe = probe();
        state.events.clear();
        state.recording = open_recording(&self.options, &self.key);
        if let Some(bucket) = state.bucket.as_mut() {
            bucket.resume();
        }
        write_playlist(&mut state);
        drop(state);
        self.notify();
        Ok(())
    }

    /// The publisher `publisher` left: the last segment is completed and the
    /// playlist ends (`EXT-X-ENDLIST`). A no-op for anyone else.
    pub fn end(&self, publisher: u64) {
        let mut state = self.lock();
        if state.publisher != Some(publisher) {
            return;
        }
        state.publisher = None;
        state.ended = Some(Instant::now());
        if let Some(group) = &self.group {
            group.leave(&self.key);
        }
        if let Err(error) = state.muxer.finish() {
            note_error(&mut state, &self.key, format!("finishing: {error}"));
        }
        self.drain(&mut state);
        if let Some(dash) = state.dash.as_mut() {
            dash.finish();
        }
        let state_ref = &mut *state;
        for extra in &mut state_ref.extra_tracks {
            if let Err(error) = extra.muxer.finish() {
                let error = format!("finishing {}: {error}", extra.id.dir());
                state_ref.errors += 1;
                state_ref.last_error = Some(error);
            }
            extra.drain(&mut state_ref.files, self.options.muxer.format);
        }
        let arrival = state.publish_started.elapsed();
        state.probe.finish(Some(arrival));
        drain_probe(&mut state, arrival);
        let recorded = state.recording.take().map(Recording::finish);
        if let Some(bucket) = state.bucket.as_mut() {
            bucket.end();
            for file in recorded.iter().flatten() {
                bucket.recording(file);
            }
        }
        write_playlist(&mut state);
        drop(state);
        self.notify();
    }

    /// One audio, video or data message of the live publisher `publisher`
    /// (timestamps in ms on the RTMP session's 64-bit timeline). The payload is
    /// kept for the live window: pass it through [`crate::hub::compact`] first if
    /// it is a slice of a larger read buffer. Returns whether the message made
    /// a part, a segment or an init segment available (waiters were woken).
    pub fn media(&self, publisher: u64, kind: MediaKind, timestamp: u64, payload: Bytes) -> bool {
        let mut state = self.lock();
        if state.publisher != Some(publisher) {
            return false;
        }
        state.messages += 1;
        state.bytes += payload.len() as u64;
        if let Some(recording) = state.recording.as_mut() {
            if let Err(error) = recording.write(kind, timestamp, &payload) {
                warn!(key = self.key, %error, "recording stopped");
                state.recording = None;
            }
        }
        let tag_type = match kind {
            MediaKind::Audio => TagType::Audio,
            MediaKind::Video => TagType::Video,
            MediaKind::Data => {
                self.data(&mut state, timestamp, &payload);
                return false;
            }
        };
        let tag = Tag {
            tag_type,
            timestamp: i64::try_from(timestamp).unwrap_or(i64::MAX),
            raw_timestamp: timestamp as u32,
            stream_id: 0,
            encrypted: false,
            offset: 0,
            body: payload,
        };
        let arrival = state.publish_started.elapsed();
        let state = &mut *state;
        state.muxer.set_clock(SystemTime::now());
        self.share_clock(&mut state.muxer);
        for event in MediaEvents::new(tag) {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    note_error(state, &self.key, error.to_string());
                    break;
                }
            };
            state.probe.push_event(&event, Some(arrival));
            if let Some(id) = extra_track(&event) {
                self.push_extra(state, id, event);
                continue;
            }
            let inputs = match state.adapter.push(event) {
                Ok(inputs) => inputs,
                Err(error) => {
                    note_error(state, &self.key, error.to_string());
                    continue;
                }
            };
            for input in inputs {
                let result = match input {
                    FlvInput::Config(config) => state.muxer.set_config(config),
                    FlvInput::Frame(frame) => state.muxer.push(frame),
                    _ => Ok(()),
                };
                if let Err(error) = result {
                    note_error(state, &self.key, error.to_string());
                }
            }
        }
        // Again after the push: an anchor made by this tag is offered to the
        // siblings before their own first segment.
        self.share_clock(&mut state.muxer);
        drain_probe(state, arrival);
        let changed = self.drain(state);
        if changed {
            write_playlist(state);
            self.notify();
        }
        changed
    }

    /// A data message: an ad cue (`onAdCue`, `onCuePoint`: [`hls_mux::Cue`])
    /// starts or ends an ad break; timed metadata (`onTextData`, other
    /// `onCuePoint`s) goes into the segments; other messages are not packaged.
    fn data(&self, state: &mut State, timestamp: u64, payload: &Bytes) {
        let Ok(script) = flv::tag::ScriptData::parse(payload) else {
            return;
        };
        if script.name.as_str() == Some("onMetaData") {
            state.audio_labels = audio_labels(&script);
            return;
        }
        let timestamp = i64::try_from(timestamp).unwrap_or(i64::MAX);
        let cue = match hls_mux::Cue::from_script(&script, timestamp) {
            Ok(Some(cue)) => cue,
            Ok(None) => return self.timed_metadata(state, &script, timestamp),
            Err(error) => return note_error(state, &self.key, error.to_string()),
        };
        info!(key = self.key, event = cue.event_id, kind = ?cue.kind, "ad cue from the publisher");
        state.muxer.set_clock(SystemTime::now());
        if let Err(error) = state.muxer.insert_cue(cue) {
            note_error(state, &self.key, error.to_string());
        }
    }

    /// A data message that is timed metadata ([`super::metadata`]), into
    /// the segments.
    fn timed_metadata(&self, state: &mut State, script: &flv::tag::ScriptData, timestamp: i64) {
        let Some(tag) = super::metadata::id3_tag(script) else {
            return;
        };
        let at = timestamp.saturating_mul(90);
        if let Err(error) = state.muxer.push_metadata(at, Bytes::from(tag)) {
            note_error(state, &self.key, error.to_string());
        }
    }

    /// Where the playlist stands, for another node to continue it
    /// ([`hls_mux::Muxer::continuation`]).
    pub fn continuation(&self) -> hls_mux::Continuation {
        self.lock().muxer.continuation()
    }

    /// Continues another node's playlist of this key from `from` (before the
    /// first frame only; later, or on a stream resumed here, it changes
    /// nothing: that playlist goes on as it is).
    pub fn continue_from(&self, from: hls_mux::Continuation) {
        let mut state = self.lock();
        if state.muxer.continue_from(from).is_ok() {
            info!(
                key = self.key,
                msn = from.next_msn,
                "continuing the cluster's playlist"
            );
            if let Some(bucket) = state.bucket.as_mut() {
                bucket.continue_previous();
            }
            write_playlist(&mut state);
        }
    }

    /// Shares the program-date anchor with the variant group, if any.
    fn share_clock(&self, muxer: &mut Muxer) {
        if let Some(group) = &self.group {
            group.share(&self.key, muxer);
        }
    }

    /// The answer to a media playlist request with this query string, for
    /// the stream's playlist (`extra` `None`) or an extra track's; `None`
    /// for a track it does not have.
    pub fn answer(&self, extra: Option<ExtraId>, query: &str) -> Option<ReloadAnswer> {
        self.with_playlist(extra, |playlist| playlist.answer_query(query))
    }

    /// `f` of the playlist of `extra` (`None`: the stream's own).
    fn with_playlist<T>(
        &self,
        extra: Option<ExtraId>,
        f: impl FnOnce(&MediaPlaylist) -> T,
    ) -> Option<T> {
        let state = self.lock();
        let Some(id) = extra else {
            return Some(f(state.muxer.playlist()));
        };
        let extra = state.extra_tracks.iter().find(|e| e.id == id)?;
        Some(f(extra.muxer.playlist()))
    }

    /// The `Cache-Control` of the answer to a playlist request with this
    /// query (see [`MediaPlaylist::cache_max_age`]): a blocking answer is for
    /// shared caches only (`max-age=0, s-maxage=`), a plain playlist without
    /// parts for every cache, the plain LL-HLS playlist `no-cache`.
    ///
    /// [`MediaPlaylist::cache_max_age`]: hls_mux::playlist::MediaPlaylist::cache_max_age
    pub fn cache_control(&self, extra: Option<ExtraId>, query: &str) -> String {
        let Ok(request) = hls_mux::playlist::ReloadRequest::parse(query) else {
            return "no-cache".to_owned();
        };
        let age = self
            .with_playlist(extra, |playlist| playlist.cache_max_age(&request))
            .flatten();
        match (age, request.msn) {
            (None, _) => "no-cache".to_owned(),
            (Some(age), Some(_)) => format!("public, max-age=0, s-maxage={}", age.as_secs()),
            (Some(age), None) => format!("public, max-age={}", age.as_secs()),
        }
    }

    /// This stream as a variant of a multivariant playlist, its media
    /// playlist at `uri`: its measured peak and average bit rates, codecs,
    /// resolution and frame rate. `None` while no publisher is live (an
    /// ended rendition leaves the group at once, see [`super::variants`]),
    /// while its playlist holds fewer than [`VARIANT_SEGMENTS`] segments, or
    /// when `uri` cannot be written.
    pub fn variant(&self, uri: &str) -> Option<Variant> {
        let state = self.lock();
        state.publisher?;
        let playlist = state.muxer.playlist();
        if playlist.segments().count() < VARIANT_SEGMENTS {
            return None;
        }
        let bandwidth = playlist.bandwidth()?;
        let mut variant = Variant::measured(uri, bandwidth);
        let tracks = state.muxer.tracks();
        let codecs = tracks.codecs();
        if !codecs.is_empty() {
            variant = variant.codecs(codecs);
        }
        if let Some((width, height)) = tracks.video.as_ref().and_then(|v| v.resolution()) {
            variant = variant.resolution(width, height);
        }
        let fps = state
            .probe
            .summary()
            .tracks
            .iter()
            .find(|t| t.media == flv::MediaType::Video && t.track == 0)
            .and_then(|t| t.fps())
            .filter(|fps| fps.is_finite() && *fps > 0.0 && *fps < 1000.0);
        if let Some(fps) = fps {
            variant = variant.frame_rate(fps);
        }
        Some(variant)
    }

    /// The closed captions seen in the video ([`hls_mux::captions`]).
    pub fn captions(&self) -> hls_mux::captions::Captions {
        self.lock().muxer.captions()
    }

    /// Where this stream's live edge is, for its siblings' playlists (`uri`
    /// relative to them); `None` while no publisher is live or before its
    /// first part.
    pub fn rendition_report(&self, uri: &str) -> Option<RenditionReport> {
        let state = self.lock();
        state.publisher?;
        state.muxer.playlist().rendition_report(uri).ok().flatten()
    }

    /// How long a blocking playlist request may wait (three target durations).
    pub fn blocking_timeout(&self) -> Duration {
        self.lock().muxer.playlist().blocking_timeout()
    }

    /// Starts an ad break of `seconds` at the stream's next key frame
    /// ([`Muxer::insert_ad_break`]): `EXT-X-DATERANGE` with SCTE-35 at its
    /// start and end. Returns its `splice_event_id`.
    pub fn insert_ad_break(&self, seconds: f64) -> Result<u32, hls_mux::MuxError> {
        let mut state = self.lock();
        state.muxer.set_clock(std::time::SystemTime::now());
        state.muxer.insert_ad_break(seconds)
    }

    /// Ends the running ad break at the next key frame
    /// ([`Muxer::end_ad_break`]). Returns its `splice_event_id`.
    pub fn end_ad_break(&self) -> Result<u32, hls_mux::MuxError> {
        let mut state = self.lock();
        state.muxer.set_clock(std::time::SystemTime::now());
        state.muxer.end_ad_break()
    }

    /// The AES-128 key of rotation period `period`, for a key URI
    /// (`keyN.key`): `None` without encryption, or for a period no segment has
    /// reached yet (keys are not handed out ahead of their media).
    pub fn aes_key(&self, period: u64) -> Option<[u8; 16]> {
        let encryption = self.encryption.as_ref()?;
        let next = self.lock().muxer.playlist().next_msn();
        (period <= encryption.period(next)).then(|| encryption.key(period))
    }

    /// Takes the muxer's outputs (see [`drain`]), noting what DASH could not
    /// read.
    fn drain(&self, state: &mut State) -> bool {
        let format = self.options.muxer.format;
        let (changed, dash_error) = drain(state, format, self.encryption.as_ref());
        if let Some(error) = dash_error {
            note_error(state, &self.key, format!("DASH: {error}"));
        }
        changed
    }
}

fn note_error(state: &mut State, key: &str, error: String) {
    state.errors += 1;
    if state.errors == 1 || state.errors % 1000 == 0 {
        warn!(key, errors = state.errors, %error, "cannot package a message");
    }
    state.last_error = Some(error);
}

fn open_recording(options: &StreamOptions, key: &str) -> Option<Recording> {
    let dir = options.record.as_ref()?;
    match Recording::create(dir, key, options.write_failures.clone()) {
        Ok(recording) => {
            info!(key, path = %recording.path().display(), "recording");
            Some(recording)
        }
        Err(error) => {
            warn!(key, %error, "cannot record");
            None
        }
    }
}

/// The extra track an event is of (a track other than 0 of a multitrack
/// publish), or `None`.
fn extra_track(event: &flv::MediaEvent) -> Option<ExtraId> {
    let (media, track) = match event {
        flv::MediaEvent::Config(change) => (change.media, change.track),
        flv::MediaEvent::Frame(frame) => (frame.media, frame.track),
        _ => return None,
    };
    (track != 0).then_some(ExtraId { media, track })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_leave_with_the_segment_that_leaves_the_window() {
        let mut window = PartWindow::default();
        for msn in 0..=PART_SEGMENTS {
            window.part(format!("part{msn}.0.m4s"));
            window.part(format!("part{msn}.1.m4s"));
            let gone = window.segment();
            match msn {
                PART_SEGMENTS => assert_eq!(gone, ["part0.0.m4s", "part0.1.m4s"]),
                _ => assert!(gone.is_empty(), "{msn}: {gone:?}"),
            }
        }
    }
}
