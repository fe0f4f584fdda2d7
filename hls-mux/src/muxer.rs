//! The whole repackager for one rendition: [`Muxer`].

use std::collections::VecDeque;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use crate::captions::{CaptionScan, Captions, NalFormat};
use crate::cfr::FrameRateGrid;
use crate::encryption::Encryption;
use crate::fmp4::{Fmp4Writer, Sample};
use crate::media::{Frame, MediaKind, TrackConfig, Tracks, CLOCK};
use crate::playlist::{
    LowLatencyOptions, MediaPlaylist, MediaPlaylistOptions, Segment, SegmentHead,
};
use crate::segmenter::{seconds_to_ticks, Cut, CutReason, Segmenter, SegmenterOptions};
use crate::ts::TsWriter;
use ad_break::AdBreak;
use fragments::{take_audio_from, with_room, Fragment, PendingSample};
pub use options::{Format, MuxerOptions};
pub use output::{Continuation, MuxError, Output};
use ts_buffers::TsBuffers;

/// How many timed metadata tags may wait for the next fragment
/// ([`Muxer::push_metadata`]).
pub const MAX_PENDING_METADATA: usize = 32;

/// The segment being built.
#[derive(Debug)]
struct OpenSegment {
    msn: u64,
    /// Output PTS of its first frame (the key frame, or audio that leads
    /// in): segment times are presentation times, as FFmpeg's HLS muxer
    /// and hls.js count them.
    start: i64,
    discontinuity: bool,
    head: SegmentHead,
    data: Vec<Bytes>,
    ts: BytesMut,
    parts: u32,
    /// Its duration, set at the cut that ends it.
    duration: Option<i64>,
    /// With parts: where its parts' timeline starts (output DTS): the
    /// decode time of its first video frame (of its first frame without
    /// video), or the part target's end when its key frame came later than
    /// that. Part and segment durations are measured on it.
    origin: i64,
    /// The origin is where the segment's first part starts, not to be moved
    /// to its first video frame (see `Muxer::align_origin`).
    origin_fixed: bool,
}

#[derive(Debug)]
enum Writer {
    Ts(TsWriter),
    Fmp4(Fmp4Writer),
}

/// Per-track timing of the last frame written.
#[derive(Clone, Copy, Debug, Default)]
struct Last {
    dts: Option<i64>,
    step: i64,
    /// The latest presentation time so far.
    max_pts: Option<i64>,
}

/// The whole repackager for one rendition: frames in; init segments,
/// segments, parts and the media playlist out.
///
/// [`Muxer`] joins the [`Segmenter`], a writer ([`TsWriter`] or
/// [`Fmp4Writer`]) and a [`MediaPlaylist`]. It is sans-IO: the application
/// pushes configurations and frames, then takes [`Output`]s (bytes to serve
/// or store under a URI, URIs that left the window) and reads the playlist.
///
/// Timing (fMP4):
/// - Parts follow the video track: each part starts with a video frame,
///   its duration runs to the next part's first video frame, in whole
///   milliseconds from the segment's first video frame, so the parts of a
///   segment add up to its `EXTINF` and each part's playlist start is its
///   video `tfdt`. Audio goes in the part (and segment) whose video range
///   it starts in, also when it arrives a little before that video.
/// - Every fragment continues each track's timeline exactly (`tfdt` = the
///   previous `tfdt` plus the durations before it): a last sample whose
///   successor is not known yet gets the track's nominal duration (AAC
///   1024 samples, MP3 1152, else the measured frame step) and the next
///   fragment's first sample starts where that ended.
/// - A fragment waits for its samples' durations at most until the
///   fragment after it is closed: a stalled track delays one part, not all.
///
/// ```
/// use bytes::Bytes;
/// use hls_mux::{Format, Frame, MediaKind, Muxer, MuxerOptions, Output, TrackConfig};
/// use hls_mux::playlist::PlaylistKind;
///
/// let mut options = MuxerOptions::new(Format::Fmp4);
/// options.target_duration = 1.0;
/// options.kind = PlaylistKind::Vod;
/// let mut muxer = Muxer::new(options)?;
/// let asc = flv::config::AacConfig::parse(&[0x12, 0x10])?;
/// muxer.set_config(TrackConfig::Aac(asc))?;
/// for i in 0..100 {
///     let dts = i * 1024 * 90_000 / 44_100;
///     let frame = Frame { media: MediaKind::Audio, dts, pts: dts, key: true, data: Bytes::from_static(b"\x21\x10") };
///     muxer.push(frame)?;
/// }
/// muxer.finish()?;
/// let outputs: Vec<Output> = std::iter::from_fn(|| muxer.poll_output()).collect();
/// assert!(matches!(&outputs[0], Output::Init { uri, .. } if uri == "init0.mp4"));
/// assert_eq!(outputs.iter().filter(|o| matches!(o, Output::Segment { .. })).count(), 3);
/// assert!(muxer.playlist().render().ends_with("#EXT-X-ENDLIST\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Muxer {
    options: MuxerOptions,
    tracks: Tracks,
    config_changed: bool,
    writer: Option<Writer>,
    segmenter: Segmenter,
    playlist: MediaPlaylist,
    outputs: VecDeque<Output>,
    /// Added to every output timestamp (TS: FFmpeg's 1.4 s so PCR stays
    /// below DTS; both: whatever lifts a negative start to 0).
    shift: Option<i64>,
    inits: u32,
    map: Option<String>,
    segment: Option<OpenSegment>,
    fragments: VecDeque<Fragment>,
    fragment_sequence: u32,
    last: [Last; 2],
    clock: Option<SystemTime>,
    /// The segments' `EXT-X-PROGRAM-DATE-TIME`, on the media timeline.
    dates: ProgramDate,
    /// Output minus input presentation time of the last frame pushed.
    input_offset: i64,
    /// The ad break asked for or running.
    ad_break: Option<AdBreak>,
    /// The closed captions seen in the video's SEI.
    captions: CaptionScan,
    /// Timed metadata (output PTS, ID3 tag) for the next fragment.
    metadata: VecDeque<(i64, Bytes)>,
    /// The `emsg` id of the next tag.
    next_metadata_id: u32,
    next_break_id: u32,
    /// Segments in the window with their part counts, for [`Output::Removed`].
    live: VecDeque<(u64, u32)>,
    next_msn: u64,
    /// MPEG-TS: the segments' buffers, made the last segment's size once
    /// instead of doubling (a copy of all it holds at each step, and on
    /// average a quarter of it left unused in the window), and reused once
    /// the consumer has dropped them.
    ts_buffers: TsBuffers,
    /// [`Muxer::continue_from`] was called: the first segment is discontinuous.
    continuing: bool,
    finished: bool,
    /// Frames held until every track is configured (or the probe span
    /// passed), so a sequence header that comes a little after the first
    /// frames of the other track still makes it into the first init.
    probe: VecDeque<Frame>,
    /// The video frame rate grid (`MuxerOptions::constant_frame_rate`).
    grid: FrameRateGrid,
    started: bool,
    /// The tracks the current writer was made for.
    writer_tracks: Tracks,
    /// [`Muxer::restart`] was called: the segmenter gets the new timeline
    /// at the next start.
    restarting: bool,
    /// The part target in whole milliseconds, as the playlist holds it.
    part_target_ms: Option<i64>,
    /// Where each track's written fMP4 timeline ends (90 kHz, output): the
    /// last written sample's decode time plus its duration. The next
    /// fragment's first sample of the track starts there (see
    /// [`Muxer::continue_timeline`]).
    timeline_end: [Option<i64>; 2],
    /// How many samples the last written fragment had: the next one's list
    /// is made that long at once instead of growing by doubling.
    samples_hint: usize,
}

/// How much media (90 kHz) the muxer holds back at the start waiting for
/// the other track's configuration, and how many frames at most.
const PROBE_SPAN: i64 = 90_000;
const PROBE_FRAMES: usize = 512;

const TS_DELAY: i64 = 126_000;

/// A frame duration to assume for a track whose step was never measured
/// (a single frame): 1/30 s.
const FALLBACK_STEP: i64 = 3000;

/// The largest difference between where a track's written timeline ended
/// and its next sample that [`Muxer::continue_timeline`] absorbs: 10 s, more
/// than the default jump threshold, so a gap the segmenter keeps is always
/// carried, and the composition offsets it makes stay far from 32 bits.
const MAX_CARRY: i64 = 10 * CLOCK as i64;

/// Timing differences up to this (2 ms, 90 kHz) are the rounding of RTMP's
/// millisecond clock, not meaning: a first sample moved by no more keeps
/// its composition offset (its presentation time moves with it).
const ROUNDING: i64 = 180;

fn index(media: MediaKind) -> usize {
    match media {
        MediaKind::Video => 0,
        MediaKind::Audio => 1,
    }
}

fn seconds(ticks: i64) -> f64 {
    ticks as f64 / f64::from(CLOCK)
}

/// 90 kHz ticks to whole milliseconds, rounded to nearest (halves up).
fn to_ms(ticks: i64) -> i64 {
    ticks.saturating_add(45).div_euclid(90)
}

impl Muxer {
    /// A muxer; fails on options that cannot work together.
    pub fn new(options: MuxerOptions) -> Result<Muxer, MuxError> {
        if !(options.target_duration.is_finite() && options.target_duration > 0.0) {
            return Err(MuxError::InvalidOption(
                "the target duration must be above 0",
            ));
        }
        if let Some(part) = options.part_duration {
            if options.format != Format::Fmp4 {
                return Err(MuxError::PartsNeedFmp4);
            }
            if !(part.is_finite() && part > 0.0 && part <= options.target_duration) {
                return Err(MuxError::InvalidOption(
                    "the part duration must be above 0 and at most the target duration",
                ));
            }
        }
        let mut playlist_options = MediaPlaylistOptions::new(options.kind, options.target_duration);
        if let Some(part) = options.part_duration {
            playlist_options = playlist_options.low_latency(LowLatencyOptions::new(part));
        }
        playlist_options.cue_tags = options.cue_tags;
        let playlist = MediaPlaylist::new(playlist_options)?;
        // Whole milliseconds, rounded as the playlist rounds PART-TARGET, so
        // that a part the segmenter keeps within the target is within it in
        // the playlist too.
        let part_target_ms = options
            .part_duration
            .map(|part| ((part * 1000.0).round() as i64).max(1));
        let segmenter = Segmenter::new(
            SegmenterOptions {
                target_duration: seconds_to_ticks(options.target_duration),
                part_duration: part_target_ms.map(|ms| ms * 90),
                jump_threshold: seconds_to_ticks(options.jump_threshold),
            },
            false,
        );
        Ok(Muxer {
            options,
            tracks: Tracks::default(),
            config_changed: false,
            writer: None,
            segmenter,
            playlist,
            outputs: VecDeque::new(),
            shift: None,
            inits: 0,
            map: None,
            segment: None,
            fragments: VecDeque::new(),
            fragment_sequence: 1,
            ts_buffers: TsBuffers::default(),
            last: [Last::default(); 2],
            clock: None,
            dates: ProgramDate::default(),
            input_offset: 0,
            ad_break: None,
            captions: CaptionScan::default(),
            metadata: VecDeque::new(),
            next_metadata_id: 0,
            next_break_id: 1,
            live: VecDeque::new(),
            next_msn: 0,
            continuing: false,
            finished: false,
            probe: VecDeque::new(),
            grid: FrameRateGrid::new(),
            started: false,
            writer_tracks: Tracks::default(),
            restarting: false,
            timeline_end: [None; 2],
            samples_hint: 0,
            part_target_ms,
        })
    }

    /// The media playlist.
    pub fn playlist(&self) -> &MediaPlaylist {
        &self.playlist
    }

    /// The current track configurations.
    pub fn tracks(&self) -> &Tracks {
        &self.tracks
    }

    /// The next output, in publishing order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Set the wall-clock time of the frames pushed next (for
    /// `EXT-X-PROGRAM-DATE-TIME`); the muxer reads no clock itself.
    pub fn set_clock(&mut self, now: SystemTime) {
        self.clock = Some(now);
    }

    /// Where this stream's timeline met the wall clock (its frames' own
    /// timeline): `None` before the first segment with a clock. Give it to
    /// the other renditions of the same encoder with
    /// [`suggest_clock_anchor`](Muxer::suggest_clock_anchor).
    pub fn clock_anchor(&self) -> Option<ClockAnchor> {
        self.dates.anchor()
    }

    /// Dates this stream's segments on `anchor` (another rendition's
    /// [`clock_anchor`](Muxer::clock_anchor)) when it next anchors, if
    /// `anchor` dates its first segment within [`ALIGN_LIMIT`] of its
    /// arrival: then renditions of one encoder, whose frames carry the same
    /// timestamps, carry the same `EXT-X-PROGRAM-DATE-TIME` for the same
    /// frame, as players that place segments by date (Shaka) need to
    /// switch between them without a gap (RFC 8216 section 6.2.4).
    pub fn suggest_clock_anchor(&mut self, anchor: ClockAnchor) {
        self.dates.suggest(anchor);
    }

    /// Timed metadata: the ID3 tag `id3` ([`crate::id3`]) at `at` on the
    /// frames' timeline (90 kHz, as pushed). fMP4: in an `emsg` box in
    /// front of the next fragment (part or segment); MPEG-TS (with
    /// [`MuxerOptions::timed_metadata`]): a PES packet on the metadata
    /// stream after the next frame. hls.js, Shaka and AVPlayer fire it when
    /// the playhead reaches it. Fails for MPEG-TS without a metadata
    /// stream, for a tag larger than 64,000 bytes (a TS PES packet holds
    /// 65,522), and while [`MAX_PENDING_METADATA`] wait.
    pub fn push_metadata(&mut self, at: i64, id3: Bytes) -> Result<(), MuxError> {
        let refuse = |expected| Err(MuxError::Metadata { expected });
        if self.options.format == Format::Ts && !self.options.timed_metadata {
            return refuse("a metadata stream (MuxerOptions::timed_metadata) for MPEG-TS");
        }
        if id3.is_empty() || id3.len() > crate::id3::MAX_TAG {
            return refuse("an ID3 tag of 1 to 64,000 bytes");
        }
        if self.metadata.len() >= MAX_PENDING_METADATA {
            return refuse("at most 32 tags waiting for the next fragment");
        }
        let pts = at.saturating_add(self.input_offset);
        self.metadata.push_back((pts, id3));
        Ok(())
    }

    /// The closed captions (CEA-608 channels, CEA-708 data) seen so far in
    /// the video's SEI NAL units (H.264 and HEVC), for the multivariant
    /// playlist's `CLOSED-CAPTIONS` ([`crate::captions`]).
    pub fn captions(&self) -> Captions {
        self.captions.seen()
    }

    /// A track's configuration, new or changed. A change once segments are
    /// out starts a new discontinuous segment (with a new init segment for
    /// fMP4) at the next cut point. Fails, changing nothing, when the
    /// format cannot carry the tracks (AV1 or VP9 in MPEG-TS...).
    pub fn set_config(&mut self, config: TrackConfig) -> Result<(), MuxError> {
        let mut tracks = self.tracks.clone();
        match config.media() {
            MediaKind::Video => tracks.video = Some(config),
            MediaKind::Audio => tracks.audio = Some(config),
        }
        if tracks == self.tracks {
            return Ok(());
        }
        // Check that the writer accepts the tracks before taking them.
        self.make_writer(&tracks)?;
        self.tracks = tracks;
        self.config_changed = true;
        self.segmenter.config_changed();
        Ok(())
    }

    fn make_writer(&self, tracks: &Tracks) -> Result<Writer, MuxError> {
        Ok(match self.options.format {
            Format::Ts => Writer::Ts(TsWriter::with_timed_metadata(
                tracks,
                self.options.timed_metadata,
            )?),
            Format::Fmp4 => Writer::Fmp4(Fmp4Writer::new(tracks)?),
        })
    }

    /// Push a frame, in decode order.
    ///
    /// At the start, frames are held (up to 1 s of media) until both
    /// tracks are configured, so that the first init segment and PMT have
    /// both. A frame of a track that appears later is dropped until the
    /// new configuration takes effect at the next cut point.
    pub fn push(&mut self, frame: Frame) -> Result<(), MuxError> {
        let nal_format = match self.tracks.get(frame.media) {
            None => return Err(MuxError::MissingConfig(frame.media)),
            Some(TrackConfig::Avc(c)) => Some(NalFormat::Avc(c.nal_length_size())),
            Some(TrackConfig::Hevc(c)) => Some(NalFormat::Hevc(c.nal_length_size())),
            Some(_) => None,
        };
        if let Some(format) = nal_format {
            self.captions.scan(&frame.data, format);
        }
        let frame = if self.options.constant_frame_rate && frame.media == MediaKind::Video {
            self.grid.apply(frame)
        } else {
            frame
        };
        if self.started {
            return self.push_now(frame);
        }
        self.probe.push_back(frame);
        let span = match (self.probe.front(), self.probe.back()) {
            (Some(first), Some(last)) => last.dts.saturating_sub(first.dts),
            _ => 0,
        };
        let complete = self.tracks.video.is_some() && self.tracks.audio.is_some();
        // With video, also wait for its first key frame, so that audio
        // which comes just before it can open the first segment.
        let keyed = self.probe_key_frame().is_some();
        if (complete && keyed) || span >= PROBE_SPAN || self.probe.len() >= PROBE_FRAMES {
            self.start()?;
        }
        Ok(())
    }

    /// The DTS of the first video key frame held in the probe.
    fn probe_key_frame(&self) -> Option<i64> {
        self.probe
            .iter()
            .find(|f| f.media == MediaKind::Video && f.key)
            .map(|f| f.dts)
    }

    /// Ends the probe: the held frames go through. Audio held before the
    /// first video key frame opens the first segment (FFmpeg's HLS muxer
    /// keeps it too); without a key frame in sight it is dropped.
    fn start(&mut self) -> Result<(), MuxError> {
        self.started = true;
        if std::mem::take(&mut self.restarting) {
            if let Some(first) = self.probe.iter().map(|f| f.dts).min() {
                self.segmenter.restart(first);
            }
        }
        self.segmenter.set_has_video(self.tracks.video.is_some());
        if self.tracks.video.is_none() || self.probe_key_frame().is_some() {
            self.segmenter.allow_audio_lead_in();
        }
        while let Some(frame) = self.probe.pop_front() {
            self.push_now(frame)?;
        }
        Ok(())
    }

    fn push_now(&mut self, frame: Frame) -> Result<(), MuxError> {
        if self.writer.is_some() && self.writer_tracks.get(frame.media).is_none() {
            // A track that appeared after the start: it joins at the next
            // cut point, with the new init segment.
            return Ok(());
        }
        let (dts, pts, segment, new_part) = match self.segmenter.push(&frame) {
            Cut::Drop => return Ok(()),
            Cut::Continue { dts, pts, new_part } => (dts, pts, None, new_part),
            Cut::Segment { reason, dts, pts } => (dts, pts, Some(reason), false),
        };
        let shift = *self.shift.get_or_insert_with(|| {
            let lift = dts.min(pts).saturating_neg().max(0);
            match self.options.format {
                Format::Ts => lift.saturating_add(TS_DELAY),
                Format::Fmp4 => lift,
            }
        });
        let input_pts = frame.pts;
        let frame = Frame {
            dts: dts.saturating_add(shift),
            pts: pts.saturating_add(shift),
            ..frame
        };
        self.input_offset = frame.pts.saturating_sub(input_pts);
        // Where a new part or segment starts: this frame's decode time, or
        // the open part's target when the frame came later than that
        // (after a gap; see `Segmenter::part_start`).
        let boundary = self.segmenter.part_start().saturating_add(shift);
        // The track's previous sample ends where this frame starts: known
        // before a cut, so a segment's last video sample has its exact
        // duration. A video frame late for its part boundary ends the
        // previous sample at the boundary instead, and moves back to it
        // itself (`continue_timeline`; its presentation time stays): so the
        // part's video `tfdt` is where the playlist says the part starts.
        // Shaka sets its timestamp offset from the two, per part.
        let late = frame.media == MediaKind::Video
            && (segment.is_some() || new_part)
            && boundary < frame.dts;
        let previous_end = if late { boundary } else { frame.dts };
        self.resolve_previous(frame.media, previous_end);
        if let Some(reason) = segment {
            self.start_segment(reason, boundary, frame.pts)?;
            if let Some(segment) = self.segment.as_mut() {
                // A segment a video frame starts has its part timeline
                // from the start on (see `align_origin`).
                segment.origin_fixed = frame.media == MediaKind::Video;
            }
        } else if new_part {
            self.close_fragment(boundary, false);
            self.open_fragment(boundary, frame.key);
        }
        self.write(frame)?;
        self.drain_fragments(false)
    }

    /// The stream ended: finish the last segment; a live or event playlist
    /// gets `EXT-X-ENDLIST` (a VOD playlist always has it).
    pub fn finish(&mut self) -> Result<(), MuxError> {
        if self.finished {
            return Ok(());
        }
        if !self.started {
            self.start()?;
        }
        self.finished = true;
        if self.segment.is_some() {
            let (end_dts, end_pts) = self.last_end();
            self.end_segment(end_dts, end_pts)?;
        }
        self.playlist.end();
        Ok(())
    }

    /// Go on after [`finish`](Muxer::finish): a new publisher continues the
    /// stream under the same name. The playlist loses `EXT-X-ENDLIST` (see
    /// [`MediaPlaylist::resume`]) and the next segment is discontinuous,
    /// on an output timeline that continues after the last one whatever
    /// the new frames' timestamps are (they may start again at 0). As at
    /// the start, the first frames are held until both tracks are
    /// configured and video starts at a key frame. The configurations stay;
    /// set the new publisher's with [`set_config`](Muxer::set_config) (a
    /// different one gives a new init segment, as mid-stream). Changes
    /// nothing unless finished.
    pub fn restart(&mut self) {
        if !self.finished {
            return;
        }
        self.finished = false;
        self.started = false;
        self.restarting = true;
        self.probe.clear();
        // A new publisher: its own clock, maybe its own frame rate.
        self.grid = FrameRateGrid::new();
        self.dates.forget();
        self.playlist.resume();
    }

    /// Where this stream stands, for another process to continue it with
    /// [`continue_from`](Muxer::continue_from) (a cluster's node taking a
    /// key over after this one died or the publisher moved): the media
    /// sequence number after every segment begun (an open segment's is
    /// skipped, as it will never end), the discontinuity sequence after
    /// every discontinuity, and the next init segment's number. Cheap: call
    /// it whenever the state is saved.
    pub fn continuation(&self) -> Continuation {
        let (msn, mut discontinuity_sequence) = self.playlist.continuation_point();
        if self.options.part_duration.is_none() {
            // Without parts an open segment is the muxer's alone.
            let open = self.segment.as_ref().is_some_and(|s| s.discontinuity);
            discontinuity_sequence = discontinuity_sequence.saturating_add(u64::from(open));
        }
        Continuation {
            next_msn: msn.max(self.next_msn),
            discontinuity_sequence,
            next_init: self.inits,
        }
    }

    /// Continues another muxer's playlist from its
    /// [`continuation`](Muxer::continuation): the first segment gets number
    /// `next_msn` and `EXT-X-DISCONTINUITY` (the frames come from a new
    /// publisher, with their own timestamps), init segments are numbered
    /// from `next_init`. So viewers reloading the same playlist URL see one
    /// stream with one discontinuity. Fails once a frame was pushed.
    pub fn continue_from(&mut self, from: Continuation) -> Result<(), MuxError> {
        if self.started || !self.probe.is_empty() || self.next_msn != 0 || self.inits != 0 {
            return Err(MuxError::InvalidOption(
                "continue_from before the first frame only",
            ));
        }
        self.playlist
            .continue_at(from.next_msn, from.discontinuity_sequence)?;
        self.next_msn = from.next_msn;
        self.inits = from.next_init;
        self.continuing = true;
        Ok(())
    }

    /// Whether [`finish`](Muxer::finish) was called (and no
    /// [`restart`](Muxer::restart) since).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Where the stream ends: the last decode time of any track plus its
    /// frame step (for the fragments), and the latest presentation time
    /// plus its track's step (for the segment).
    fn last_end(&self) -> (i64, i64) {
        let end = |time: fn(&Last) -> Option<i64>| {
            self.last
                .iter()
                .filter_map(|l| time(l).map(|t| t.saturating_add(l.step.max(0))))
                .max()
                .unwrap_or(0)
        };
        (end(|l| l.dts), end(|l| l.max_pts))
    }

    fn start_segment(&mut self, reason: CutReason, dts: i64, pts: i64) -> Result<(), MuxError> {
        // Audio that came before the key frame starting this segment but
        // starts at or after it belongs to this segment, as to a part (see
        // `open_fragment`).
        let carried = match self.fragments.back_mut() {
            Some(closing) if self.segment.is_some() => take_audio_from(closing, dts),
            _ => Vec::new(),
        };
        let carried = with_room(carried, self.samples_hint);
        if self.segment.is_some() {
            self.end_segment(dts, pts)?;
        }
        let new_writer = self.writer.is_none() || self.config_changed;
        if new_writer {
            self.writer = Some(self.make_writer(&self.tracks)?);
            self.writer_tracks = self.tracks.clone();
            self.config_changed = false;
            // A new init segment starts the tracks' timelines afresh.
            self.timeline_end = [None; 2];
            if let Some(Writer::Fmp4(writer)) = &self.writer {
                let uri = format!("init{}.mp4", self.inits);
                self.inits += 1;
                self.outputs.push_back(Output::Init {
                    uri: uri.clone(),
                    data: writer.init_segment(),
                });
                self.map = Some(uri);
            }
        }
        let discontinuity = reason.is_discontinuity() || std::mem::take(&mut self.continuing);
        let mut head = SegmentHead::new().discontinuity(discontinuity);
        if let Some(map) = &self.map {
            head = head.map(map.clone());
        }
        let date = self
            .clock
            .map(|now| self.dates.date(now, pts, self.input_offset));
        if let Some(date) = date {
            head = head.program_date_time(date);
        }
        if let Some(encryption) = &self.options.encryption {
            head = head.key(Encryption::key_uri(encryption.period(self.next_msn)));
        }
        if reason == CutReason::Cue {
            head.date_ranges
                .extend(date.and_then(|d| self.ad_break_tag(d, dts, pts)));
        }
        if self.options.part_duration.is_some() {
            self.playlist.begin_segment(head.clone())?;
        }
        let mut segment = OpenSegment {
            msn: self.next_msn,
            start: pts,
            discontinuity,
            head,
            data: Vec::new(),
            ts: self.ts_buffers.take(),
            parts: 0,
            duration: None,
            origin: dts,
            origin_fixed: false,
        };
        self.next_msn += 1;
        match self.writer.as_mut() {
            Some(Writer::Ts(writer)) => writer.begin_segment(&mut segment.ts),
            Some(Writer::Fmp4(writer)) => segment.data.push(writer.styp()),
            None => {}
        }
        let msn = segment.msn;
        self.segment = Some(segment);
        if self.options.format == Format::Fmp4 {
            self.fragments.push_back(Fragment {
                samples: carried,
                start: dts,
                duration: None,
                independent: true,
                msn,
                part: 0,
                ends_segment: false,
            });
        }
        Ok(())
    }

    /// Ends the open segment where the next one starts: its fragments at
    /// `end_dts`, the segment itself at `end_pts` (output, 90 kHz).
    fn end_segment(&mut self, end_dts: i64, end_pts: i64) -> Result<(), MuxError> {
        let Some(segment) = self.segment.as_mut() else {
            return Ok(());
        };
        // With parts, the segment lasts what its parts last: from its
        // timeline's origin to where the next segment's first part starts.
        segment.duration = Some(if self.part_target_ms.is_some() {
            end_dts.saturating_sub(segment.origin)
        } else {
            end_pts.saturating_sub(segment.start)
        });
        if self.options.format == Format::Fmp4 {
            self.close_fragment(end_dts, true);
            // A segment boundary writes what is pending at once: the next
            // frames may belong to a new configuration or timeline, so
            // durations of last samples are their track's last step.
            self.drain_fragments(true)?;
        }
        self.complete_segment()
    }

    fn write(&mut self, frame: Frame) -> Result<(), MuxError> {
        let last = &mut self.last[index(frame.media)];
        if let Some(previous) = last.dts {
            last.step = frame.dts.saturating_sub(previous);
        }
        last.dts = Some(frame.dts);
        last.max_pts = Some(last.max_pts.map_or(frame.pts, |m| m.max(frame.pts)));
        match self.writer.as_mut() {
            Some(Writer::Ts(writer)) => {
                if let Some(segment) = self.segment.as_mut() {
                    writer.write_frame(&frame, &mut segment.ts)?;
                    for (pts, id3) in self.metadata.drain(..) {
                        writer.write_metadata(pts, &id3, &mut segment.ts)?;
                    }
                }
            }
            Some(Writer::Fmp4(_)) => {
                let Some(index) = self.fragment_for(&frame) else {
                    return Ok(());
                };
                self.align_origin(index, &frame);
                if let Some(fragment) = self.fragments.get_mut(index) {
                    fragment.samples.push(PendingSample {
                        sample: Sample {
                            media: frame.media,
                            dts: frame.dts,
                            pts: frame.pts,
                            duration: 0,
                            key: frame.key,
                            data: frame.data,
                        },
                        known: false,
                    });
                }
            }
            None => {}
        }
        Ok(())
    }

    /// Publishes the open segment (its duration set, its fragments written).
    fn complete_segment(&mut self) -> Result<(), MuxError> {
        let Some(mut segment) = self.segment.take() else {
            return Ok(());
        };
        if !segment.ts.is_empty() {
            segment.data.push(self.ts_buffers.publish(&mut segment.ts));
        }
        let extension = match self.options.format {
            Format::Ts => "ts",
            Format::Fmp4 => "m4s",
        };
        let uri = format!("seg{}.{}", segment.msn, extension);
        let ticks = segment.duration.unwrap_or(0).max(0);
        let duration = if self.part_target_ms.is_some() {
            // The sum of its parts' durations (see `part_seconds`).
            to_ms(ticks) as f64 / 1000.0
        } else {
            seconds(ticks)
        };
        if let Some(encryption) = &self.options.encryption {
            segment.data = vec![encryption.encrypt(segment.msn, &segment.data)];
        }
        let bytes: usize = segment.data.iter().map(Bytes::len).sum();
        let before = self.playlist.media_sequence();
        self.playlist.push_segment(
            Segment::new(uri.clone(), duration)
                .bytes(bytes as u64)
                .head(segment.head.clone()),
        )?;
        if self.options.part_duration.is_some() {
            self.playlist
                .set_preload_hint(Some(format!("part{}.0.m4s", segment.msn + 1)))?;
        }
        self.outputs.push_back(Output::Segment {
            msn: segment.msn,
            uri,
            data: segment.data,
            duration,
            discontinuity: segment.discontinuity,
        });
        self.live.push_back((segment.msn, segment.parts + 1));
        let after = self.playlist.media_sequence();
        let mut uris = Vec::new();
        while let Some(&(msn, parts)) = self.live.front() {
            if msn >= after || after == before {
                break;
            }
            self.live.pop_front();
            uris.push(format!("seg{msn}.{extension}"));
            if self.options.part_duration.is_some() {
                uris.extend((0..parts).map(|p| format!("part{msn}.{p}.m4s")));
            }
        }
        if !uris.is_empty() {
            self.outputs.push_back(Output::Removed { uris });
        }
        Ok(())
    }
}

mod ad_break;
mod fragments;
mod options;
mod output;
mod program_date;
mod ts_buffers;

use program_date::ProgramDate;
pub use program_date::{ClockAnchor, ALIGN_LIMIT, DRIFT_LIMIT};
#[cfg(test)]
mod tests;
