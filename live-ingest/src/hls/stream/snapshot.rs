//! What `/stats`, `/metrics` and the page show of a stream: its viewers
//! (addresses that loaded the playlist lately) and a [`Snapshot`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hls_mux::Tracks;

use super::{EventInfo, Stream, MAX_VIEWERS};

impl Stream {
    /// Notes that `peer` loaded the playlist (for the viewer count).
    pub fn saw_viewer(&self, peer: SocketAddr) {
        let now = Instant::now();
        let horizon = self.viewer_horizon();
        let mut viewers = self.viewers.lock().unwrap_or_else(|p| p.into_inner());
        if viewers.len() >= MAX_VIEWERS && !viewers.contains_key(&peer) {
            viewers.retain(|_, seen| now.duration_since(*seen) < horizon);
            if viewers.len() >= MAX_VIEWERS {
                return;
            }
        }
        viewers.insert(peer, now);
    }

    fn viewer_horizon(&self) -> Duration {
        Duration::from_secs_f64(3.0 * self.options.muxer.target_duration.max(1.0))
    }

    /// Connections that loaded the playlist within the last three target
    /// durations: an estimate of the viewers (players reload that often).
    pub fn viewers(&self) -> usize {
        let now = Instant::now();
        let horizon = self.viewer_horizon();
        let viewers = self.viewers.lock().unwrap_or_else(|p| p.into_inner());
        viewers
            .values()
            .filter(|seen| now.duration_since(**seen) < horizon)
            .count()
    }

    /// A snapshot for `/stats` and the page.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        let playlist = state.muxer.playlist();
        let summary = state.probe.summary();
        Snapshot {
            key: self.key.clone(),
            live: state.publisher.is_some(),
            publishes: state.publishes,
            uptime: state
                .publisher
                .map(|_| state.publish_started.elapsed())
                .unwrap_or_default(),
            age: self.created.elapsed(),
            tracks: state.muxer.tracks().clone(),
            summary,
            events: state.events.iter().cloned().collect(),
            segments: playlist.segments().count(),
            media_sequence: playlist.media_sequence(),
            next_msn: playlist.next_msn(),
            ended: playlist.is_ended(),
            bandwidth: playlist.bandwidth().map(|b| b.average),
            messages: state.messages,
            bytes: state.bytes,
            errors: state.errors,
            last_error: state.last_error.clone(),
            files: state.files.len(),
            viewers: 0,
        }
    }
}

/// What `/stats` shows of a stream.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// `APP/NAME`.
    pub key: String,
    /// A publisher is live.
    pub live: bool,
    /// Publishes so far under this key (this stream's life).
    pub publishes: u32,
    /// Time since the current publish started (zero when not live).
    pub uptime: Duration,
    /// Time since the stream was created.
    pub age: Duration,
    /// The tracks being packaged.
    pub tracks: Tracks,
    /// The probe's summary of the current (or last) publish.
    pub summary: media_probe::Summary,
    /// The latest probe events.
    pub events: Vec<EventInfo>,
    /// Segments in the playlist.
    pub segments: usize,
    /// `EXT-X-MEDIA-SEQUENCE`.
    pub media_sequence: u64,
    /// The next segment's media sequence number.
    pub next_msn: u64,
    /// The playlist has `EXT-X-ENDLIST`.
    pub ended: bool,
    /// Average bit rate of the segments, bits/s.
    pub bandwidth: Option<u64>,
    /// RTMP messages received.
    pub messages: u64,
    /// Payload bytes received.
    pub bytes: u64,
    /// Messages that could not be packaged.
    pub errors: u64,
    /// The last such error.
    pub last_error: Option<String>,
    /// Files held in memory.
    pub files: usize,
    /// Estimated viewers (filled by the caller).
    pub viewers: usize,
}
