//! The whole repackager for one rendition: [`Muxer`].

use std::collections::VecDeque;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use crate::captions::{CaptionScan, Captions, NalFormat};
use crate::cfr::FrameRateGrid;
use crate::encryption::Encryption;
use crate::fmp4::{ticks_for_track_duration, Fmp4Error, Fmp4Writer, Sample};
use crate::media::{Frame, MediaKind, TrackConfig, Tracks, CLOCK};
use crate::playlist::{
    LowLatencyOptions, MediaPlaylist, MediaPlaylistOptions, Part, PlaylistError, PlaylistKind,
    Segment, SegmentHead,
};
use crate::segmenter::{seconds_to_ticks, Cut, CutReason, Segmenter, SegmenterOptions};
use crate::ts::{TsError, TsWriter};
use ad_break::AdBreak;

/// The segment container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// MPEG-TS segments (`.ts`).
    Ts,
    /// fMP4/CMAF: an init segment (`.mp4`) and media segments (`.m4s`).
    Fmp4,
}

/// How to repackage.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MuxerOptions {
    /// The container.
    pub format: Format,
    /// Target segment duration, seconds (default 6).
    pub target_duration: f64,
    /// Part target for Low-Latency HLS, seconds (fMP4 only); `None` (the
    /// default) for none. Rounded to whole milliseconds, as
    /// `PART-TARGET` is written. Parts are cut on the video track's
    /// timeline (see [`Muxer`]).
    pub part_duration: Option<f64>,
    /// Live window, EVENT or VOD (default: a live window of 6 segments).
    pub kind: PlaylistKind,
    /// A forward DTS step longer than this many seconds is a discontinuity
    /// (default 5); any backward step is one.
    pub jump_threshold: f64,
    /// Put video timestamps that are a common constant frame rate rounded
    /// to milliseconds (RTMP's and FLV's clock: 33, 33, 34 ms at 30 fps) on
    /// that rate's exact grid (3000 ticks at 90 kHz; 24, 25, 29.97, 30, 50
    /// and 60 fps), moving none by more than a millisecond, so MP4 tools
    /// see the encoder's constant frame rate. A stream that does not fit
    /// passes through untouched. Default `true`.
    pub constant_frame_rate: bool,
    /// Encrypt every segment and part with AES-128 (`EXT-X-KEY`), keys
    /// derived from the application's master key and rotated every so many
    /// segments (see [`crate::encryption`]); the application serves the keys
    /// at [`Encryption::key_uri`]. Default `None`.
    pub encryption: Option<Encryption>,
    /// Beside each ad break's `EXT-X-DATERANGE`, also write the older
    /// `EXT-X-CUE-OUT`/`EXT-X-CUE-IN` ([`Muxer::insert_ad_break`]). Default
    /// `false`.
    pub cue_tags: bool,
    /// MPEG-TS: declare an ID3 timed metadata stream in every PMT, so that
    /// [`Muxer::push_metadata`] can write to it ([`TsWriter::with_timed_metadata`]).
    /// fMP4 carries timed metadata without it. Default `false` (the PMT
    /// lists the tracks only).
    pub timed_metadata: bool,
}

impl MuxerOptions {
    /// Options for `format` with the defaults above.
    pub fn new(format: Format) -> MuxerOptions {
        MuxerOptions {
            format,
            target_duration: 6.0,
            part_duration: None,
            kind: PlaylistKind::Live { window: 6 },
            jump_threshold: 5.0,
            constant_frame_rate: true,
            encryption: None,
            cue_tags: false,
            timed_metadata: false,
        }
    }
}

/// What the muxer produced, in the order to publish it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// An init segment (fMP4), before the first segment that needs it.
    Init {
        /// Its URI, relative to the playlist.
        uri: String,
        /// The bytes.
        data: Bytes,
    },
    /// A part (Low-Latency HLS); the playlist lists it already.
    Part {
        /// Its URI.
        uri: String,
        /// The bytes, in order (headers and frame slices).
        data: Vec<Bytes>,
        /// Seconds, whole milliseconds (its `DURATION`): from its first
        /// video frame's decode time to the next part's. The parts of a
        /// segment add up to the segment's duration.
        duration: f64,
        /// It starts with a key frame.
        independent: bool,
    },
    /// A complete segment; the playlist lists it already.
    Segment {
        /// Its media sequence number.
        msn: u64,
        /// Its URI.
        uri: String,
        /// The bytes, in order (headers and frame slices; for fMP4 with parts,
        /// the concatenation of its parts after a `styp`).
        data: Vec<Bytes>,
        /// Seconds (its `EXTINF`): with parts, the sum of its parts'
        /// durations (the video decode timeline, whole milliseconds);
        /// without, from its first frame's presentation time to the next
        /// segment's.
        duration: f64,
        /// It follows a discontinuity.
        discontinuity: bool,
    },
    /// A segment and its parts left the live window: they may be deleted.
    Removed {
        /// The URIs.
        uris: Vec<String>,
    },
}

/// How many timed metadata tags may wait for the next fragment
/// ([`Muxer::push_metadata`]).
pub const MAX_PENDING_METADATA: usize = 32;

/// Why the muxer cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MuxError {
    /// The MPEG-TS writer refused the tracks or a frame.
    #[error(transparent)]
    Ts(#[from] TsError),
    /// The fMP4 writer refused the tracks or a fragment.
    #[error(transparent)]
    Fmp4(#[from] Fmp4Error),
    /// The playlist refused an update.
    #[error(transparent)]
    Playlist(#[from] PlaylistError),
    /// A frame of a track with no configuration yet.
    #[error("a {0:?} frame came before the {0:?} track's configuration")]
    MissingConfig(MediaKind),
    /// Parts need fMP4.
    #[error("Low-Latency HLS parts need the fMP4 format, not MPEG-TS")]
    PartsNeedFmp4,
    /// An option out of range.
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// An ad break was asked for in a way the muxer cannot honour.
    #[error("ad break refused: expected {expected}")]
    AdBreak {
        /// What it needs (a wall clock, a duration in range, no break running).
        expected: &'static str,
    },
    /// Timed metadata the muxer cannot write.
    #[error("timed metadata refused: expected {expected}")]
    Metadata {
        /// What it needs (fMP4, a tag within the size, room in the queue).
        expected: &'static str,
    },
}

/// Where a stream stands, for another process (or node) to continue its
/// playlist: see [`Muxer::continuation`] and [`Muxer::continue_from`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    /// The media sequence number of the continuation's first segment.
    pub next_msn: u64,
    /// Its `EXT-X-DISCONTINUITY-SEQUENCE` while its first segment (which is
    /// discontinuous) is in the window.
    pub discontinuity_sequence: u64,
    /// The number of its first init segment (`initN.mp4`): init URIs are
    /// never reused, so a cache holding the old one cannot serve it for the
    /// new stream.
    pub next_init: u32,
}

/// A sample whose duration is known once its track's next frame arrives.
#[derive(Debug)]
struct PendingSample {
    sample: Sample,
    /// `sample.duration` is the distance to the track's next frame; until
    /// then it is 0, and a fragment written before it comes gives the
    /// sample its track's nominal duration ([`Muxer::nominal_duration`]).
    known: bool,
}

/// An fMP4 fragment (a part, or a whole segment without parts).
#[derive(Debug)]
struct Fragment {
    samples: Vec<PendingSample>,
    /// Output DTS of its first frame, 90 kHz.
    start: i64,
    /// Its duration once closed, 90 kHz.
    duration: Option<i64>,
    independent: bool,
    msn: u64,
    part: u32,
    /// The last fragment of its segment.
    ends_segment: bool,
}

/// The largest buffer made ahead for an MPEG-TS segment: 16 MiB, a 6 s
/// segment at about 20 Mbit/s. A larger one grows as it is written.
const MAX_TS_SIZE_HINT: usize = 16 << 20;

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
    /// MPEG-TS: the last segment's size, so the next one's buffer is made
    /// that size once instead of doubling (a copy of all it holds at each
    /// step, and on average a quarter of it left unused in the window).
    ts_size_hint: usize,
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

/// Takes the audio samples of `fragment` that start at or after `start`
/// (in order): they belong to the part or segment starting there. None
/// when that would leave the fragment empty (parts that catch up after a
/// gap start before their content): a part must have bytes.
fn take_audio_from(fragment: &mut Fragment, start: i64) -> Vec<PendingSample> {
    let belongs_later =
        |p: &PendingSample| p.sample.media == MediaKind::Audio && p.sample.dts >= start;
    if !fragment.samples.iter().any(belongs_later) || fragment.samples.iter().all(belongs_later) {
        return Vec::new();
    }
    let (later, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut fragment.samples)
        .into_iter()
        .partition(belongs_later);
    fragment.samples = kept;
    later
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
            ts_size_hint: 0,
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
            ts: BytesMut::with_capacity(self.ts_size_hint),
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

    fn open_fragment(&mut self, start: i64, independent: bool) {
        let Some(segment) = self.segment.as_mut() else {
            return;
        };
        segment.parts += 1;
        // Audio that came before the video frame starting this part but
        // starts at or after it (an encoder that interleaves audio early)
        // belongs to this part: each audio frame goes in the part whose
        // video range it starts in.
        let carried = match self.fragments.back_mut() {
            Some(closing) => take_audio_from(closing, start),
            None => Vec::new(),
        };
        self.fragments.push_back(Fragment {
            samples: carried,
            start,
            duration: None,
            independent,
            msn: segment.msn,
            part: segment.parts,
            ends_segment: false,
        });
    }

    /// Which queued fragment a frame goes in: video in the newest; audio,
    /// with parts, in the newest one that starts at or before it (an audio
    /// frame that comes after the video frame that started a part but
    /// starts before it belongs to the part before, if that is not written
    /// yet).
    fn fragment_for(&mut self, frame: &Frame) -> Option<usize> {
        let newest = self.fragments.len().checked_sub(1)?;
        if frame.media == MediaKind::Video || self.part_target_ms.is_none() {
            return Some(newest);
        }
        Some(
            self.fragments
                .iter()
                .rposition(|f| f.start <= frame.dts)
                .unwrap_or(0),
        )
    }

    /// The first video frame of a segment whose first part began with
    /// audio (audio that leads in before the first key frame) moves the
    /// part's start, and the segment's part timeline, to itself: part start
    /// times are video times.
    fn align_origin(&mut self, index: usize, frame: &Frame) {
        if frame.media != MediaKind::Video || self.part_target_ms.is_none() || index != 0 {
            return;
        }
        let (Some(segment), Some(fragment)) = (self.segment.as_mut(), self.fragments.front_mut())
        else {
            return;
        };
        let has_video = fragment
            .samples
            .iter()
            .any(|p| p.sample.media == MediaKind::Video);
        if fragment.part == 0
            && !segment.origin_fixed
            && fragment.duration.is_none()
            && !has_video
            && segment.msn == fragment.msn
            && frame.dts > fragment.start
        {
            fragment.start = frame.dts;
            segment.origin = frame.dts;
        }
    }

    fn close_fragment(&mut self, end: i64, ends_segment: bool) {
        if let Some(fragment) = self.fragments.back_mut() {
            if fragment.duration.is_none() {
                fragment.duration = Some(end.saturating_sub(fragment.start));
                fragment.ends_segment = ends_segment;
            }
        }
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

    /// The latest sample of `media` not yet written gets its duration:
    /// the distance to `dts`, where the track's next frame starts.
    fn resolve_previous(&mut self, media: MediaKind, dts: i64) {
        let latest = self
            .fragments
            .iter_mut()
            .rev()
            .find_map(|f| f.samples.iter_mut().rev().find(|p| p.sample.media == media));
        if let Some(pending) = latest.filter(|p| !p.known) {
            let step = dts.saturating_sub(pending.sample.dts);
            pending.sample.duration = u32::try_from(step.max(0)).unwrap_or(u32::MAX);
            pending.known = true;
        }
    }

    /// Writes the closed fragments at the front whose samples all have
    /// durations; also, with one missing, once the fragment after it is
    /// closed too (the stream went a whole part further without that
    /// track: a stalled or muted track must not hold back every part after
    /// it), and every one with `force`. A duration still missing is the
    /// track's nominal one.
    fn drain_fragments(&mut self, force: bool) -> Result<(), MuxError> {
        while let Some(fragment) = self.fragments.front() {
            let moved_on = self.fragments.get(1).is_some_and(|f| f.duration.is_some());
            let ready = fragment.duration.is_some()
                && (force || moved_on || fragment.samples.iter().all(|p| p.known));
            if !ready {
                break;
            }
            let Some(fragment) = self.fragments.pop_front() else {
                break;
            };
            self.write_fragment(fragment)?;
        }
        Ok(())
    }

    /// The duration to give a track's last sample when its next frame is
    /// not known yet (90 kHz): what the codec fixes where it does (AAC:
    /// 1024 samples a frame, or 960; MP3: 1152, or 576 for MPEG-2 and 2.5),
    /// exact in the track's timescale; otherwise the track's measured frame
    /// step. Not a guess from the last step of a millisecond clock: AAC at
    /// 44.1 kHz alternates 23 and 24 ms steps (1014 and 1058 ticks), and
    /// one of them is always wrong.
    fn nominal_duration(&self, media: MediaKind, dts: i64) -> i64 {
        let per_frame = match self.writer_tracks.get(media) {
            Some(TrackConfig::Aac(aac)) if aac.core_sample_rate() > 0 => {
                let samples = if aac.frame_length_flag() { 960 } else { 1024 };
                // At the output rate the track's timescale has (twice the
                // core rate with SBR).
                Some(samples * i64::from(aac.sample_rate()) / i64::from(aac.core_sample_rate()))
            }
            Some(TrackConfig::Mp3(mp3)) => Some(if mp3.mpeg_version == 1 { 1152 } else { 576 }),
            _ => None,
        };
        let timescale = match &self.writer {
            Some(Writer::Fmp4(writer)) => writer.track(media).map(|(_, timescale)| timescale),
            _ => None,
        };
        if let (Some(samples), Some(timescale)) = (per_frame, timescale) {
            return ticks_for_track_duration(timescale, dts, samples);
        }
        let measured = self.last[index(media)].step;
        if measured > 0 {
            measured
        } else {
            FALLBACK_STEP
        }
    }

    /// Makes each track's first sample start where the track's written
    /// timeline ended, so that every fragment's `tfdt` is the previous
    /// `tfdt` plus the durations before it (readers warn "tfdt less than
    /// cumulated timing" otherwise, and players see a gap or an overlap).
    ///
    /// The last sample of a fragment written before its track's next frame
    /// came has its nominal duration, which can differ from where the next
    /// frame really starts (RTMP's millisecond rounding, a gap). The
    /// difference is carried into the next fragment: the first sample's
    /// decode time moves to the timeline's end and its duration reaches to
    /// where the sample after it starts, so the timeline is exact again
    /// after one sample. Its presentation time stays (the composition
    /// offset absorbs the move), except for moves within millisecond
    /// rounding, where the presentation time moves too and an audio frame
    /// keeps its zero offset. Nothing moves when the move would pass the
    /// sample's own end or exceed [`MAX_CARRY`].
    fn continue_timeline(&self, samples: &mut [Sample]) {
        for media in [MediaKind::Video, MediaKind::Audio] {
            let Some(end) = self.timeline_end[index(media)] else {
                continue;
            };
            let mut of_track = samples.iter_mut().filter(|s| s.media == media);
            let Some(first) = of_track.next() else {
                continue;
            };
            let next = of_track.next().map(|s| s.dts);
            let shift = first.dts.saturating_sub(end);
            let own_end = next.unwrap_or(first.dts.saturating_add(first.duration.into()));
            if shift == 0 || !(-MAX_CARRY..=MAX_CARRY).contains(&shift) || end >= own_end {
                continue;
            }
            if next.is_none() {
                first.duration =
                    u32::try_from(own_end.saturating_sub(end)).unwrap_or(first.duration);
            }
            if (-ROUNDING..=ROUNDING).contains(&shift) {
                first.pts = first.pts.saturating_sub(shift);
            }
            first.dts = end;
        }
    }

    fn write_fragment(&mut self, mut fragment: Fragment) -> Result<(), MuxError> {
        let duration = self.part_seconds(&fragment);
        let mut samples: Vec<Sample> = Vec::with_capacity(fragment.samples.len());
        for pending in std::mem::take(&mut fragment.samples) {
            let mut sample = pending.sample;
            if !pending.known {
                let nominal = self.nominal_duration(sample.media, sample.dts);
                sample.duration = u32::try_from(nominal.max(0)).unwrap_or(u32::MAX);
            }
            samples.push(sample);
        }
        self.continue_timeline(&mut samples);
        for media in [MediaKind::Video, MediaKind::Audio] {
            if let Some(last) = samples.iter().rev().find(|s| s.media == media) {
                self.timeline_end[index(media)] =
                    Some(last.dts.saturating_add(last.duration.into()));
            }
        }
        let Some(Writer::Fmp4(writer)) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut data = Vec::new();
        let independent = fragment.independent
            && match samples.iter().find(|s| s.media == MediaKind::Video) {
                Some(first_video) => first_video.key,
                None => self.writer_tracks.video.is_none(),
            };
        // Timed metadata goes in front of the fragment's `moof` (CMAF).
        for (pts, id3) in self.metadata.drain(..) {
            let id = self.next_metadata_id;
            self.next_metadata_id = id.wrapping_add(1);
            data.push(Bytes::from(crate::id3::emsg(pts.max(0) as u64, id, &id3)));
        }
        if !samples.is_empty() {
            writer.fragment(self.fragment_sequence, &samples, &mut data)?;
            self.fragment_sequence = self.fragment_sequence.wrapping_add(1);
        }
        if self.options.part_duration.is_some() {
            let uri = format!("part{}.{}.m4s", fragment.msn, fragment.part);
            self.playlist
                .push_part(Part::new(uri.clone(), duration).independent(independent))?;
            self.playlist.set_preload_hint(Some(format!(
                "part{}.{}.m4s",
                fragment.msn,
                fragment.part + 1
            )))?;
            // Encrypted parts are their own resources: the segment keeps the
            // clear bytes and is encrypted whole when it completes.
            let part = match &self.options.encryption {
                Some(encryption) => vec![encryption.encrypt(fragment.msn, &data)],
                None => data.clone(),
            };
            self.outputs.push_back(Output::Part {
                uri,
                data: part,
                duration,
                independent,
            });
        }
        if let Some(segment) = self.segment.as_mut() {
            if segment.msn == fragment.msn {
                segment.data.extend(data);
            }
        }
        Ok(())
    }

    /// A part's duration, seconds, in whole milliseconds: the difference of
    /// its end and start, each rounded to the millisecond from the
    /// segment's origin, so that the playlist's part durations add up to
    /// the segment's exactly and each part's start (the sum of the
    /// durations before it) is its video `tfdt` to the millisecond. At most
    /// the part target: the segmenter keeps parts within it, and the clamp
    /// only keeps an unforeseen case from ending the stream.
    fn part_seconds(&self, fragment: &Fragment) -> f64 {
        let origin = self
            .segment
            .as_ref()
            .filter(|s| s.msn == fragment.msn)
            .map_or(fragment.start, |s| s.origin);
        let start = fragment.start.saturating_sub(origin);
        let end = start.saturating_add(fragment.duration.unwrap_or(0));
        let ms = (to_ms(end) - to_ms(start)).clamp(0, self.part_target_ms.unwrap_or(i64::MAX));
        ms as f64 / 1000.0
    }

    /// Publishes the open segment (its duration set, its fragments written).
    fn complete_segment(&mut self) -> Result<(), MuxError> {
        let Some(mut segment) = self.segment.take() else {
            return Ok(());
        };
        if !segment.ts.is_empty() {
            let len = segment.ts.len();
            // A little over the last size, so a slightly larger segment
            // still fits; bounded, so one huge segment does not make every
            // later buffer huge.
            self.ts_size_hint = (len + len / 16).min(MAX_TS_SIZE_HINT);
            segment.data.push(segment.ts.split().freeze());
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
mod program_date;

use program_date::ProgramDate;
pub use program_date::{ClockAnchor, ALIGN_LIMIT, DRIFT_LIMIT};
#[cfg(test)]
mod tests;
