//! The media playlist of one rendition.

use std::collections::VecDeque;
use std::time::SystemTime;

use super::{check_uri, millis, round_ms_to_seconds, write_date_time, write_ms, PlaylistError};

/// What kind of media playlist, and what leaves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlaylistKind {
    /// A live sliding window of the last `window` complete segments. When a
    /// segment leaves, `EXT-X-MEDIA-SEQUENCE` goes up by one, and
    /// `EXT-X-DISCONTINUITY-SEQUENCE` goes up by one when the segment that
    /// left carried `EXT-X-DISCONTINUITY` (RFC 8216 6.2.2).
    Live {
        /// How many complete segments stay (at least 1). Apple asks for at
        /// least three target durations' worth in a live playlist.
        window: usize,
    },
    /// `EXT-X-PLAYLIST-TYPE:EVENT`: segments are only ever appended.
    /// (Parts still leave: rfc8216bis 6.2.1 allows it.)
    Event,
    /// `EXT-X-PLAYLIST-TYPE:VOD`, always rendered with `EXT-X-ENDLIST`
    /// (no Low-Latency HLS).
    Vod,
}

/// Low-Latency HLS settings (rfc8216bis: parts, blocking reload, delta
/// updates, preload hints).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct LowLatencyOptions {
    /// The part target, seconds (`EXT-X-PART-INF:PART-TARGET`). No part may
    /// be longer ([`PlaylistError::PartTooLong`]). `PART-HOLD-BACK` is
    /// written as three times this (rfc8216bis 4.4.3.8: at least twice,
    /// SHOULD be three times).
    pub part_target: f64,
    /// Advertise `CAN-SKIP-UNTIL` (six target durations, the minimum of
    /// rfc8216bis 4.4.3.8) and answer `_HLS_skip` with delta updates.
    /// Default `true`.
    pub delta_updates: bool,
}

impl LowLatencyOptions {
    /// Parts of at most `part_target` seconds, delta updates on.
    pub fn new(part_target: f64) -> LowLatencyOptions {
        LowLatencyOptions {
            part_target,
            delta_updates: true,
        }
    }

    /// Whether to advertise and serve delta updates.
    pub fn delta_updates(mut self, on: bool) -> LowLatencyOptions {
        self.delta_updates = on;
        self
    }
}

/// How a [`MediaPlaylist`] is set up.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct MediaPlaylistOptions {
    /// Live window, EVENT or VOD.
    pub kind: PlaylistKind,
    /// The target duration the segmenter aims at, seconds. The playlist's
    /// `EXT-X-TARGETDURATION` is at least this, rounded up to whole seconds.
    ///
    /// RFC 8216 4.3.3.1 requires every `EXTINF` rounded to the nearest
    /// integer to be at most `EXT-X-TARGETDURATION`, and 6.2.1 says the
    /// target duration MUST NOT change. Both cannot always hold when the
    /// longest segment is not known in advance (a GOP longer than the
    /// target makes a longer segment). So set this to the longest segment
    /// you expect (for example the encoder's keyframe interval when it is
    /// longer than the segment target); if a longer segment still arrives,
    /// the playlist raises its target duration rather than break the
    /// `EXTINF` rule, because players reject segments longer than the
    /// target duration more readily than a target duration that grew once.
    /// The target never decreases.
    pub target_duration: f64,
    /// Write `EXT-X-INDEPENDENT-SEGMENTS`: every segment starts with a key
    /// frame (true of what the segmenter cuts). Default `true`.
    ///
    /// A playlist that lists parts (Low-Latency HLS) leaves the tag out even
    /// when this is on: video.js (VHS 3, in video.js 8) reads it as "every
    /// *part* is independent" and then starts playback on any part near the
    /// live edge, in the middle of a GOP, where the browser shows nothing until
    /// the next key frame. Without the tag it looks for `INDEPENDENT=YES`,
    /// which the playlist writes on every part that starts with a key frame;
    /// hls.js, Shaka and Safari read those attributes either way.
    pub independent_segments: bool,
    /// Low-Latency HLS, or `None` (default).
    pub low_latency: Option<LowLatencyOptions>,
    /// Beside each ad break's `EXT-X-DATERANGE`, also write the older
    /// `EXT-X-CUE-OUT:DURATION` and `EXT-X-CUE-IN` that many ad inserters
    /// still read. Default `false`.
    pub cue_tags: bool,
}

impl MediaPlaylistOptions {
    /// Options of `kind` with a target duration of `target_duration`
    /// seconds, independent segments, no Low-Latency HLS.
    pub fn new(kind: PlaylistKind, target_duration: f64) -> MediaPlaylistOptions {
        MediaPlaylistOptions {
            kind,
            target_duration,
            independent_segments: true,
            low_latency: None,
            cue_tags: false,
        }
    }

    /// Whether to write `EXT-X-INDEPENDENT-SEGMENTS`.
    pub fn independent_segments(mut self, on: bool) -> MediaPlaylistOptions {
        self.independent_segments = on;
        self
    }

    /// Turn on Low-Latency HLS.
    pub fn low_latency(mut self, options: LowLatencyOptions) -> MediaPlaylistOptions {
        self.low_latency = Some(options);
        self
    }
}

/// The tags in front of a segment (and in front of its first part).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentHead {
    /// `EXT-X-DISCONTINUITY` before the segment: its timestamps, codec
    /// configuration or encoding differ from the previous segment's.
    pub discontinuity: bool,
    /// URI of the init segment (fMP4) the segment needs, `None` for
    /// MPEG-TS. `EXT-X-MAP` is written where it changes and in front of the
    /// first segment shown.
    pub map: Option<String>,
    /// Wall-clock time of the segment's first sample, as the application
    /// reads it. Give it on every segment: `EXT-X-PROGRAM-DATE-TIME` is
    /// written on the first segment shown and after each discontinuity.
    pub program_date_time: Option<SystemTime>,
    /// URI of the AES-128 key the segment (and its parts) is encrypted with,
    /// `None` for none. `EXT-X-KEY:METHOD=AES-128` is written in front of each
    /// such segment with its `IV`, the media sequence number (see
    /// [`crate::encryption`]). Init segments are never encrypted: a new
    /// `EXT-X-MAP` after a key gets `METHOD=NONE` first.
    pub key: Option<String>,
    /// `EXT-X-DATERANGE` tags written in front of the segment (an ad break's
    /// start or end).
    pub date_ranges: Vec<DateRange>,
}

/// An `EXT-X-DATERANGE` (RFC 8216bis 4.4.5.1) with the SCTE-35 attributes
/// of an ad break (4.4.5.1.1). A playlist with one also needs
/// `EXT-X-PROGRAM-DATE-TIME` (give the segments a date).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DateRange {
    /// `ID`: the same on the tags of one break (its start and its end).
    pub id: String,
    /// `START-DATE`.
    pub start: SystemTime,
    /// `PLANNED-DURATION`, milliseconds.
    pub planned_duration_ms: Option<u64>,
    /// `DURATION`, milliseconds (on the end's tag).
    pub duration_ms: Option<u64>,
    /// `SCTE35-OUT`: the splice_info_section of the break's start.
    pub scte35_out: Option<Vec<u8>>,
    /// `SCTE35-IN`: the splice_info_section of the break's end.
    pub scte35_in: Option<Vec<u8>>,
}

impl DateRange {
    /// A range `id` starting at `start`, with no other attribute yet.
    pub fn new(id: impl Into<String>, start: SystemTime) -> DateRange {
        DateRange {
            id: id.into(),
            start,
            planned_duration_ms: None,
            duration_ms: None,
            scte35_out: None,
            scte35_in: None,
        }
    }
}

impl SegmentHead {
    /// No discontinuity, no init segment, no date.
    pub fn new() -> SegmentHead {
        SegmentHead::default()
    }

    /// Whether a discontinuity comes before the segment.
    pub fn discontinuity(mut self, on: bool) -> SegmentHead {
        self.discontinuity = on;
        self
    }

    /// The init segment's URI.
    pub fn map(mut self, uri: impl Into<String>) -> SegmentHead {
        self.map = Some(uri.into());
        self
    }

    /// The wall-clock time of the first sample.
    pub fn program_date_time(mut self, time: SystemTime) -> SegmentHead {
        self.program_date_time = Some(time);
        self
    }

    /// The AES-128 key's URI.
    pub fn key(mut self, uri: impl Into<String>) -> SegmentHead {
        self.key = Some(uri.into());
        self
    }
}

/// A complete media segment.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Segment {
    /// The URI line.
    pub uri: String,
    /// Duration, seconds (`EXTINF`, written with 3 decimals).
    pub duration: f64,
    /// Size in bytes, for [`MediaPlaylist::bandwidth`].
    pub bytes: u64,
    /// The tags in front of it.
    pub head: SegmentHead,
}

impl Segment {
    /// A segment at `uri` of `duration` seconds, 0 bytes, default head.
    pub fn new(uri: impl Into<String>, duration: f64) -> Segment {
        Segment {
            uri: uri.into(),
            duration,
            bytes: 0,
            head: SegmentHead::default(),
        }
    }

    /// Its size in bytes.
    pub fn bytes(mut self, bytes: u64) -> Segment {
        self.bytes = bytes;
        self
    }

    /// Whether a discontinuity comes before it.
    pub fn discontinuity(mut self, on: bool) -> Segment {
        self.head.discontinuity = on;
        self
    }

    /// Its init segment's URI.
    pub fn map(mut self, uri: impl Into<String>) -> Segment {
        self.head.map = Some(uri.into());
        self
    }

    /// The wall-clock time of its first sample.
    pub fn program_date_time(mut self, time: SystemTime) -> Segment {
        self.head.program_date_time = Some(time);
        self
    }

    /// All of its head at once.
    pub fn head(mut self, head: SegmentHead) -> Segment {
        self.head = head;
        self
    }
}

/// A partial segment (Low-Latency HLS).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Part {
    /// Its URI (`EXT-X-PART:URI="..."`).
    pub uri: String,
    /// Duration, seconds; at most the part target.
    pub duration: f64,
    /// It starts with a key frame (`INDEPENDENT=YES`).
    pub independent: bool,
}

impl Part {
    /// A part at `uri` of `duration` seconds, not independent.
    pub fn new(uri: impl Into<String>, duration: f64) -> Part {
        Part {
            uri: uri.into(),
            duration,
            independent: false,
        }
    }

    /// Whether it starts with a key frame.
    pub fn independent(mut self, on: bool) -> Part {
        self.independent = on;
        self
    }
}

#[derive(Clone, Debug)]
pub(super) struct PartEntry {
    pub(super) uri: String,
    pub(super) duration_ms: u64,
    pub(super) independent: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) segment: Segment,
    pub(super) duration_ms: u64,
    /// Its parts while they are near the live edge.
    pub(super) parts: Vec<PartEntry>,
    /// How many parts it had, also after they left.
    pub(super) part_count: usize,
}

/// The segment being built from parts.
#[derive(Clone, Debug)]
pub(super) struct Open {
    pub(super) head: SegmentHead,
    pub(super) parts: Vec<PartEntry>,
}

/// The state of one rendition's media playlist.
///
/// Feed it what the segmenter completes ([`push_segment`], and for
/// Low-Latency HLS [`begin_segment`], [`push_part`] and
/// [`set_preload_hint`]), call [`end`] when the publisher leaves, and
/// [`render`] (or [`answer`] a player's request) whenever the playlist is
/// asked for. Each change bumps [`generation`], so an HTTP server can wake
/// the requests it holds.
///
/// [`push_segment`]: MediaPlaylist::push_segment
/// [`begin_segment`]: MediaPlaylist::begin_segment
/// [`push_part`]: MediaPlaylist::push_part
/// [`set_preload_hint`]: MediaPlaylist::set_preload_hint
/// [`end`]: MediaPlaylist::end
/// [`render`]: MediaPlaylist::render
/// [`answer`]: MediaPlaylist::answer
/// [`generation`]: MediaPlaylist::generation
///
/// ```
/// use hls_mux::playlist::{MediaPlaylist, MediaPlaylistOptions, PlaylistKind, Segment};
///
/// let options = MediaPlaylistOptions::new(PlaylistKind::Live { window: 2 }, 2.0);
/// let mut playlist = MediaPlaylist::new(options)?;
/// playlist.push_segment(Segment::new("seg0.ts", 2.0).bytes(250_000))?;
/// playlist.push_segment(Segment::new("seg1.ts", 2.002).discontinuity(true))?;
/// playlist.push_segment(Segment::new("seg2.ts", 1.96))?;
/// assert_eq!(
///     playlist.render(),
///     "#EXTM3U\n\
///      #EXT-X-VERSION:3\n\
///      #EXT-X-TARGETDURATION:2\n\
///      #EXT-X-MEDIA-SEQUENCE:1\n\
///      #EXT-X-INDEPENDENT-SEGMENTS\n\
///      #EXT-X-DISCONTINUITY\n\
///      #EXTINF:2.002,\n\
///      seg1.ts\n\
///      #EXTINF:1.960,\n\
///      seg2.ts\n"
/// );
/// playlist.end();
/// assert!(playlist.render().ends_with("seg2.ts\n#EXT-X-ENDLIST\n"));
/// # Ok::<(), hls_mux::playlist::PlaylistError>(())
/// ```
#[derive(Clone, Debug)]
pub struct MediaPlaylist {
    pub(super) options: MediaPlaylistOptions,
    /// The configured target, whole seconds.
    configured_target: u64,
    pub(super) part_target_ms: Option<u64>,
    pub(super) segments: VecDeque<Entry>,
    pub(super) media_sequence: u64,
    discontinuity_sequence: u64,
    /// The largest `EXTINF` ever pushed, rounded to the nearest second.
    max_rounded: u64,
    pub(super) open: Option<Open>,
    preload_hint: Option<String>,
    pub(super) ended: bool,
    uses_map: bool,
    last_map: Option<String>,
    /// The key of the last segment pushed, for parts whose segment had no head.
    last_key: Option<String>,
    generation: u64,
    total_bytes: u128,
    total_ms: u128,
    peak_bps: u64,
}

impl MediaPlaylist {
    /// An empty playlist.
    ///
    /// Fails on a target duration below 1 ms or not finite, a live window of
    /// 0, Low-Latency HLS on a VOD playlist, or a part target that is not
    /// positive or exceeds the target duration.
    pub fn new(options: MediaPlaylistOptions) -> Result<MediaPlaylist, PlaylistError> {
        let target_ms = millis("target", options.target_duration)?;
        if target_ms == 0 {
            return Err(PlaylistError::InvalidOptions("target duration is 0"));
        }
        if options.kind == (PlaylistKind::Live { window: 0 }) {
            return Err(PlaylistError::InvalidOptions("live window of 0 segments"));
        }
        let part_target_ms = match options.low_latency {
            None => None,
            Some(_) if options.kind == PlaylistKind::Vod => {
                return Err(PlaylistError::InvalidOptions(
                    "Low-Latency HLS in a VOD playlist",
                ))
            }
            Some(ll) => {
                let ms = millis("part target", ll.part_target)?;
                if ms == 0 || ms > target_ms {
                    return Err(PlaylistError::InvalidOptions(
                        "part target must be positive and at most the target duration",
                    ));
                }
                Some(ms)
            }
        };
        Ok(MediaPlaylist {
            options,
            configured_target: target_ms.div_ceil(1000),
            part_target_ms,
            segments: VecDeque::new(),
            media_sequence: 0,
            discontinuity_sequence: 0,
            max_rounded: 0,
            open: None,
            preload_hint: None,
            ended: false,
            uses_map: false,
            last_map: None,
            last_key: None,
            generation: 0,
            total_bytes: 0,
            total_ms: 0,
            peak_bps: 0,
        })
    }

    /// The options it was made with.
    pub fn options(&self) -> &MediaPlaylistOptions {
        &self.options
    }

    /// `EXT-X-TARGETDURATION`: the configured target rounded up, or the
    /// largest `EXTINF` ever pushed rounded to the nearest second, whichever
    /// is larger. Never decreases.
    pub fn target_duration(&self) -> u64 {
        self.configured_target.max(self.max_rounded)
    }

    /// `EXT-X-MEDIA-SEQUENCE`: the sequence number of the first segment in
    /// the playlist.
    pub fn media_sequence(&self) -> u64 {
        self.media_sequence
    }

    /// `EXT-X-DISCONTINUITY-SEQUENCE`: how many discontinuities left the
    /// live window.
    pub fn discontinuity_sequence(&self) -> u64 {
        self.discontinuity_sequence
    }

    /// The media sequence number the next complete segment will have (the
    /// segment parts are being added to).
    pub fn next_msn(&self) -> u64 {
        self.media_sequence
            .saturating_add(self.segments.len() as u64)
    }

    /// Where a continuation of this stream elsewhere (another process or
    /// node) starts: the media sequence number after every segment this
    /// playlist has begun (an open segment's number is skipped: its parts
    /// may have been read, and its end never will be), and the
    /// discontinuity sequence number after every discontinuity so far.
    pub fn continuation_point(&self) -> (u64, u64) {
        let window = self.segments.iter();
        let mut discontinuities = window.filter(|e| e.segment.head.discontinuity).count() as u64;
        let mut msn = self.next_msn();
        if let Some(open) = &self.open {
            discontinuities += u64::from(open.head.discontinuity);
            msn = msn.saturating_add(1);
        }
        (
            msn,
            self.discontinuity_sequence.saturating_add(discontinuities),
        )
    }

    /// Starts this empty playlist where another one's
    /// [`continuation_point`](MediaPlaylist::continuation_point) left off:
    /// `EXT-X-MEDIA-SEQUENCE` at `msn` and `EXT-X-DISCONTINUITY-SEQUENCE` at
    /// `discontinuity_sequence`. Push the first segment discontinuous. Fails
    /// once a segment or part was pushed.
    pub fn continue_at(
        &mut self,
        msn: u64,
        discontinuity_sequence: u64,
    ) -> Result<(), PlaylistError> {
        if !self.segments.is_empty() || self.open.is_some() {
            return Err(PlaylistError::InvalidOptions(
                "a playlist continues elsewhere's only before its first segment",
            ));
        }
        self.media_sequence = msn;
        self.discontinuity_sequence = discontinuity_sequence;
        self.generation += 1;
        Ok(())
    }

    /// The part index the next part will have in segment [`next_msn`].
    ///
    /// [`next_msn`]: MediaPlaylist::next_msn
    pub fn next_part(&self) -> u64 {
        self.open.as_ref().map_or(0, |open| open.parts.len() as u64)
    }

    /// The complete segments in the playlist, with their media sequence
    /// numbers.
    pub fn segments(&self) -> impl Iterator<Item = (u64, &Segment)> + '_ {
        (self.media_sequence..).zip(self.segments.iter().map(|entry| &entry.segment))
    }

    /// The last complete segment and its media sequence number.
    pub fn last_segment(&self) -> Option<(u64, &Segment)> {
        let last = self.segments.back()?;
        Some((self.next_msn() - 1, &last.segment))
    }

    /// Whether [`end`](MediaPlaylist::end) was called (or the playlist is
    /// VOD): it is rendered with `EXT-X-ENDLIST`.
    pub fn is_ended(&self) -> bool {
        self.ended || self.options.kind == PlaylistKind::Vod
    }

    /// A counter that changes with every change of the rendered playlist:
    /// an HTTP server holding blocking requests asks [`answer`] again when
    /// it moves.
    ///
    /// [`answer`]: MediaPlaylist::answer
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Announce the head of the segment the next parts belong to, before its
    /// first part: its `EXT-X-DISCONTINUITY`, `EXT-X-MAP` and date go in
    /// front of that part (rfc8216bis 4.4.4.9), so they must be known then.
    /// Without it, parts open a segment with no discontinuity, the previous
    /// segment's init segment and no date. The segment completed by
    /// [`push_segment`](MediaPlaylist::push_segment) must have the same
    /// discontinuity and init segment.
    ///
    /// Fails if parts of the open segment were already pushed.
    pub fn begin_segment(&mut self, head: SegmentHead) -> Result<(), PlaylistError> {
        if self.ended {
            return Err(PlaylistError::Ended);
        }
        for uri in head.map.iter().chain(&head.key) {
            check_uri(uri)?;
        }
        for range in &head.date_ranges {
            check_uri(&range.id)?;
        }
        if self
            .open
            .as_ref()
            .is_some_and(|open| !open.parts.is_empty())
        {
            return Err(PlaylistError::HeadMismatch {
                msn: self.next_msn(),
            });
        }
        self.open = Some(Open {
            head,
            parts: Vec::new(),
        });
        Ok(())
    }

    /// Add a part to the segment being built (Low-Latency HLS). A preload
    /// hint for the same URI is consumed.
    pub fn push_part(&mut self, part: Part) -> Result<(), PlaylistError> {
        if self.ended {
            return Err(PlaylistError::Ended);
        }
        let part_target_ms = self.part_target_ms.ok_or(PlaylistError::PartsDisabled)?;
        check_uri(&part.uri)?;
        let duration_ms = millis("part", part.duration)?;
        if duration_ms > part_target_ms {
            return Err(PlaylistError::PartTooLong {
                duration_ms,
                part_target_ms,
            });
        }
        let implicit = self.implicit_head();
        let open = self.open.get_or_insert_with(|| Open {
            head: implicit,
            parts: Vec::new(),
        });
        open.parts.push(PartEntry {
            uri: part.uri,
            duration_ms,
            independent: part.independent,
        });
        if self.preload_hint.as_deref() == open.parts.last().map(|p| p.uri.as_str()) {
            self.preload_hint = None;
        }
        self.prune_parts();
        self.generation += 1;
        Ok(())
    }

    /// Add a complete segment. Its parts, if any, are those pushed since the
    /// previous segment; its head is the one announced for them (see
    /// [`begin_segment`](MediaPlaylist::begin_segment)), with the segment's
    /// date used if none was announced.
    ///
    /// In a live playlist the oldest segments leave the window.
    pub fn push_segment(&mut self, segment: Segment) -> Result<(), PlaylistError> {
        if self.ended {
            return Err(PlaylistError::Ended);
        }
        check_uri(&segment.uri)?;
        for uri in segment.head.map.iter().chain(&segment.head.key) {
            check_uri(uri)?;
        }
        for range in &segment.head.date_ranges {
            check_uri(&range.id)?;
        }
        let duration_ms = millis("segment", segment.duration)?;
        let msn = self.next_msn();
        let mut segment = segment;
        let parts = match &self.open {
            Some(open) => {
                if open.head.discontinuity != segment.head.discontinuity
                    || open.head.map != segment.head.map
                    || open.head.key != segment.head.key
                {
                    return Err(PlaylistError::HeadMismatch { msn });
                }
                if open.head.program_date_time.is_some() {
                    segment.head.program_date_time = open.head.program_date_time;
                }
                true
            }
            None => false,
        };
        if segment.head.map.is_none() && self.last_map.is_some() {
            return Err(PlaylistError::MapRemoved { msn });
        }
        let parts = if parts {
            self.open.take().map(|open| open.parts).unwrap_or_default()
        } else {
            Vec::new()
        };

        self.max_rounded = self.max_rounded.max(round_ms_to_seconds(duration_ms));
        self.uses_map |= segment.head.map.is_some();
        self.last_map.clone_from(&segment.head.map);
        self.last_key.clone_from(&segment.head.key);
        self.total_bytes += u128::from(segment.bytes);
        self.total_ms += u128::from(duration_ms);
        if let Some(bps) = super::multivariant::bits_per_second(segment.bytes, duration_ms) {
            self.peak_bps = self.peak_bps.max(bps);
        }
        self.segments.push_back(Entry {
            segment,
            duration_ms,
            part_count: parts.len(),
            parts,
        });
        if let PlaylistKind::Live { window } = self.options.kind {
            while self.segments.len() > window {
                let Some(gone) = self.segments.pop_front() else {
                    break;
                };
                self.media_sequence += 1;
                if gone.segment.head.discontinuity {
                    self.discontinuity_sequence += 1;
                }
            }
        }
        self.prune_parts();
        self.generation += 1;
        Ok(())
    }

    /// Set (or with `None` clear) the `EXT-X-PRELOAD-HINT:TYPE=PART` URI:
    /// the URI the next part will have, which the server must already
    /// accept requests for (rfc8216bis 6.2.6). Pushing a part with this URI
    /// clears it.
    pub fn set_preload_hint(&mut self, uri: Option<String>) -> Result<(), PlaylistError> {
        if self.ended {
            return Err(PlaylistError::Ended);
        }
        if self.part_target_ms.is_none() {
            return Err(PlaylistError::PartsDisabled);
        }
        if let Some(uri) = &uri {
            check_uri(uri)?;
        }
        if self.preload_hint != uri {
            self.preload_hint = uri;
            self.generation += 1;
        }
        Ok(())
    }

    /// The publisher left: `EXT-X-ENDLIST` from now on. Parts of a segment
    /// that was never completed, and the preload hint, are dropped (an
    /// ended playlist MUST NOT hint, rfc8216bis 4.4.5.3). Calling it again
    /// changes nothing.
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.open = None;
        self.preload_hint = None;
        self.generation += 1;
    }

    /// Take back [`end`](MediaPlaylist::end): the stream goes on (a new
    /// publisher under the same name), so `EXT-X-ENDLIST` goes and segments
    /// and parts may be pushed again. Mark the next segment discontinuous.
    /// A client that already read the ended playlist has stopped reloading
    /// it; one that loads it now follows the live stream. Changes nothing
    /// unless ended (a VOD playlist is always rendered ended).
    pub fn resume(&mut self) {
        if !self.ended {
            return;
        }
        self.ended = false;
        self.generation += 1;
    }

    /// The peak and average bit rates of every segment ever pushed (also
    /// those that left the window); `None` before any segment with a
    /// duration.
    pub fn bandwidth(&self) -> Option<super::Bandwidth> {
        if self.total_ms == 0 {
            return None;
        }
        let average = (self.total_bytes * 8000).div_ceil(self.total_ms);
        Some(super::Bandwidth {
            peak: self.peak_bps,
            average: u64::try_from(average).unwrap_or(u64::MAX),
        })
    }

    /// The full playlist text.
    pub fn render(&self) -> String {
        self.render_inner(false)
    }

    /// A Playlist Delta Update (rfc8216bis 6.2.5.1): segments that end more
    /// than the skip boundary (`CAN-SKIP-UNTIL`, six target durations)
    /// before the end of the last complete segment are replaced, with their
    /// tags, by `EXT-X-SKIP:SKIPPED-SEGMENTS=N`.
    ///
    /// `EXT-X-MEDIA-SEQUENCE` and `EXT-X-DISCONTINUITY-SEQUENCE` stay those
    /// of the full playlist ("Replacing segments with the EXT-X-SKIP tag
    /// does not change the value of the EXT-X-DISCONTINUITY-SEQUENCE tag",
    /// rfc8216bis 4.4.5.2): a discontinuity among the skipped segments is
    /// one the client already has. The first segment after the skip carries
    /// its `EXT-X-MAP` and date again (the same values the client has).
    ///
    /// The full playlist when delta updates are off, the playlist has ended,
    /// or nothing is old enough to skip (then no `EXT-X-SKIP` is written).
    pub fn render_delta(&self) -> String {
        self.render_inner(true)
    }

    /// Whether `CAN-SKIP-UNTIL` is advertised and `_HLS_skip` honoured.
    pub(super) fn can_skip(&self) -> bool {
        !self.is_ended() && self.options.low_latency.is_some_and(|ll| ll.delta_updates)
    }

    /// The head parts open a segment with when none was announced.
    fn implicit_head(&self) -> SegmentHead {
        SegmentHead {
            discontinuity: false,
            map: self.last_map.clone(),
            program_date_time: None,
            key: self.last_key.clone(),
            date_ranges: Vec::new(),
        }
    }

    /// Drop the parts of segments that start more than three target
    /// durations before the end of the playlist (rfc8216bis 6.2.2: they
    /// SHOULD be removed then).
    fn prune_parts(&mut self) {
        if self.part_target_ms.is_none() {
            return;
        }
        let keep_ms = self.target_duration() * 3000;
        let mut from_end: u64 = self
            .open
            .as_ref()
            .map_or(0, |open| open.parts.iter().map(|p| p.duration_ms).sum());
        for entry in self.segments.iter_mut().rev() {
            from_end = from_end.saturating_add(entry.duration_ms);
            if from_end > keep_ms {
                entry.parts = Vec::new();
            }
        }
    }

    /// How many leading segments a delta update replaces.
    fn skip_count(&self) -> usize {
        let boundary_ms = self.target_duration() * 6000;
        let total: u64 = self.segments.iter().map(|e| e.duration_ms).sum();
        let mut end = 0u64;
        let mut count = 0;
        for entry in &self.segments {
            end += entry.duration_ms;
            if total - end > boundary_ms {
                count += 1;
            } else {
                break;
            }
        }
        count
    }

    fn render_inner(&self, delta: bool) -> String {
        let target = self.target_duration();
        let skipped = if delta && self.can_skip() {
            self.skip_count()
        } else {
            0
        };
        // RFC 8216 section 7: decimal EXTINF needs version 3; EXT-X-MAP in a
        // playlist without EXT-X-I-FRAMES-ONLY needs 6. rfc8216bis section 8:
        // "A Playlist MUST indicate an EXT-X-VERSION of 9 or higher if it
        // contains: The EXT-X-SKIP tag" (10 only if it replaces
        // EXT-X-DATERANGE tags, which we never write). The other
        // Low-Latency tags (EXT-X-PART, -PART-INF, -SERVER-CONTROL,
        // -PRELOAD-HINT) state no version: Apple's Low-Latency HLS example
        // declares 6 for the full playlist and a higher one only for the
        // delta update. `uses_map` is sticky so the version does not drop
        // when the window slides.
        let mut version = if self.uses_map { 6 } else { 3 };
        if skipped > 0 {
            version = 9;
        }
        let ended = self.is_ended();

        let mut out = String::with_capacity(256 + 48 * self.segments.len());
        out.push_str("#EXTM3U\n");
        out.push_str(&format!("#EXT-X-VERSION:{version}\n"));
        out.push_str(&format!("#EXT-X-TARGETDURATION:{target}\n"));
        if let (Some(ll), Some(part_target_ms)) = (self.options.low_latency, self.part_target_ms) {
            out.push_str("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=");
            write_ms(&mut out, part_target_ms * 3);
            if ll.delta_updates {
                out.push_str(",CAN-SKIP-UNTIL=");
                write_ms(&mut out, target * 6000);
            }
            out.push_str("\n#EXT-X-PART-INF:PART-TARGET=");
            write_ms(&mut out, part_target_ms);
            out.push('\n');
        }
        out.push_str(&format!("#EXT-X-MEDIA-SEQUENCE:{}\n", self.media_sequence));
        if self.discontinuity_sequence > 0 {
            out.push_str(&format!(
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}\n",
                self.discontinuity_sequence
            ));
        }
        match self.options.kind {
            PlaylistKind::Event => out.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n"),
            PlaylistKind::Vod => out.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n"),
            PlaylistKind::Live { .. } => {}
        }
        let lists_parts = self.options.low_latency.is_some() && self.part_target_ms.is_some();
        if self.options.independent_segments && !lists_parts {
            out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
        }
        if skipped > 0 {
            out.push_str(&format!("#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}\n"));
            // Date ranges are not skipped with their segments (only
            // `_HLS_skip=v2` may, and CAN-SKIP-DATERANGES is not offered).
            for entry in self.segments.iter().take(skipped) {
                for range in &entry.segment.head.date_ranges {
                    write_date_range(&mut out, range, false);
                }
            }
        }

        let mut written = Written {
            cue_tags: self.options.cue_tags,
            ..Written::default()
        };
        let mut first = true;
        let mut msn = self.media_sequence + skipped as u64;
        for entry in self.segments.iter().skip(skipped) {
            write_head(&mut out, &entry.segment.head, (first, msn), &mut written);
            msn += 1;
            first = false;
            write_parts(&mut out, &entry.parts);
            out.push_str("#EXTINF:");
            write_ms(&mut out, entry.duration_ms);
            out.push_str(",\n");
            out.push_str(&entry.segment.uri);
            out.push('\n');
        }
        if let Some(open) = self.open.as_ref().filter(|open| !open.parts.is_empty()) {
            write_head(&mut out, &open.head, (first, msn), &mut written);
            write_parts(&mut out, &open.parts);
        }
        if let Some(hint) = &self.preload_hint {
            out.push_str("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"");
            out.push_str(hint);
            out.push_str("\"\n");
        }
        if ended {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }
}

/// What the tags written so far leave in force for the next segment.
#[derive(Default)]
struct Written<'a> {
    map: Option<&'a str>,
    key: Option<&'a str>,
    /// Also write `EXT-X-CUE-OUT` / `EXT-X-CUE-IN` for each break.
    cue_tags: bool,
}

/// The tags in front of segment `msn` (`first`: the first one shown).
fn write_head<'a>(
    out: &mut String,
    head: &'a SegmentHead,
    (first, msn): (bool, u64),
    written: &mut Written<'a>,
) {
    if head.discontinuity {
        out.push_str("#EXT-X-DISCONTINUITY\n");
    }
    if let Some(map) = head.map.as_deref() {
        if written.map != Some(map) {
            // A key applies to the EXT-X-MAPs after it too (RFC 8216 4.3.2.4),
            // and init segments are not encrypted.
            if written.key.take().is_some() {
                out.push_str("#EXT-X-KEY:METHOD=NONE\n");
            }
            out.push_str("#EXT-X-MAP:URI=\"");
            out.push_str(map);
            out.push_str("\"\n");
            written.map = Some(map);
        }
    }
    match head.key.as_deref() {
        Some(key) => write_key(out, key, msn, written),
        None if written.key.take().is_some() => out.push_str("#EXT-X-KEY:METHOD=NONE\n"),
        None => {}
    }
    if let Some(time) = head.program_date_time {
        if first || head.discontinuity {
            out.push_str("#EXT-X-PROGRAM-DATE-TIME:");
            write_date_time(out, time);
            out.push('\n');
        }
    }
    for range in &head.date_ranges {
        write_date_range(out, range, written.cue_tags);
    }
}

/// An `EXT-X-DATERANGE`, and the older `EXT-X-CUE-OUT`/`-IN` with `cue_tags`.
fn write_date_range(out: &mut String, range: &DateRange, cue_tags: bool) {
    out.push_str("#EXT-X-DATERANGE:ID=\"");
    out.push_str(&range.id);
    out.push_str("\",START-DATE=\"");
    write_date_time(out, range.start);
    out.push('"');
    if let Some(ms) = range.planned_duration_ms {
        out.push_str(",PLANNED-DURATION=");
        write_ms(out, ms);
    }
    if let Some(ms) = range.duration_ms {
        out.push_str(",DURATION=");
        write_ms(out, ms);
    }
    for (name, section) in [
        ("SCTE35-OUT", &range.scte35_out),
        ("SCTE35-IN", &range.scte35_in),
    ] {
        if let Some(section) = section {
            out.push(',');
            out.push_str(name);
            out.push('=');
            out.push_str(&crate::scte35::hex(section));
        }
    }
    out.push('\n');
    if cue_tags {
        match (range.scte35_out.is_some(), range.scte35_in.is_some()) {
            (true, _) => {
                out.push_str("#EXT-X-CUE-OUT:");
                write_ms(out, range.planned_duration_ms.unwrap_or(0));
                out.push('\n');
            }
            (false, true) => out.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
    }
}

/// `EXT-X-KEY` in front of every encrypted segment, with its IV (the media
/// sequence number, what players would take without it): Shaka Player
/// counts a part as a segment when it derives the IV itself, and so
/// decrypted the parts of LL-HLS with the wrong one.
fn write_key<'a>(out: &mut String, key: &'a str, msn: u64, written: &mut Written<'a>) {
    out.push_str("#EXT-X-KEY:METHOD=AES-128,URI=\"");
    out.push_str(key);
    out.push_str(&format!("\",IV=0x{:032X}\n", u128::from(msn)));
    written.key = Some(key);
}

fn write_parts(out: &mut String, parts: &[PartEntry]) {
    for part in parts {
        out.push_str("#EXT-X-PART:DURATION=");
        write_ms(out, part.duration_ms);
        out.push_str(",URI=\"");
        out.push_str(&part.uri);
        out.push('"');
        if part.independent {
            out.push_str(",INDEPENDENT=YES");
        }
        out.push('\n');
    }
}
