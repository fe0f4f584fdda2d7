//! Where segments and parts begin: [`Segmenter`].

use crate::media::{Frame, MediaKind, CLOCK};

/// How to cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmenterOptions {
    /// Target segment duration, 90 kHz ticks (default 6 s, Apple's
    /// recommendation). A cut point up to half a frame early (at most
    /// 20 ms and a quarter of this) counts as reaching it.
    pub target_duration: i64,
    /// Part target for Low-Latency HLS, 90 kHz ticks; `None` for no parts.
    pub part_duration: Option<i64>,
    /// A forward DTS step larger than this is a discontinuity, 90 kHz ticks
    /// (default 5 s). Any backward step is one.
    pub jump_threshold: i64,
}

impl Default for SegmenterOptions {
    fn default() -> SegmenterOptions {
        SegmenterOptions {
            target_duration: 6 * i64::from(CLOCK),
            part_duration: None,
            jump_threshold: 5 * i64::from(CLOCK),
        }
    }
}

impl SegmenterOptions {
    /// Options with the target duration in seconds (clamped to at least 1 ms).
    pub fn with_target_seconds(seconds: f64) -> SegmenterOptions {
        SegmenterOptions {
            target_duration: seconds_to_ticks(seconds),
            ..SegmenterOptions::default()
        }
    }
}

pub(crate) fn seconds_to_ticks(seconds: f64) -> i64 {
    let ticks = (seconds * f64::from(CLOCK)).round();
    if ticks.is_finite() {
        (ticks as i64).max(90)
    } else {
        90
    }
}

/// Why a segment starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CutReason {
    /// The first segment.
    Start,
    /// The target duration was reached.
    Duration,
    /// A timestamp jump: `delta` is the DTS step in 90 kHz ticks (negative
    /// backward) of the track that jumped.
    Jump {
        /// The track that jumped first.
        media: MediaKind,
        /// The step, 90 kHz ticks.
        delta: i64,
    },
    /// The configuration changed (new codec parameters or a new track).
    ConfigChange,
    /// The stream went on after a [`Segmenter::restart`] (a new publisher
    /// under the same name, on a timeline of its own).
    Restart,
    /// A cut the application asked for ([`Segmenter::schedule_cut`]): the
    /// start or end of an ad break.
    Cue,
}

impl CutReason {
    /// Whether the segment is discontinuous (EXT-X-DISCONTINUITY).
    pub fn is_discontinuity(self) -> bool {
        matches!(
            self,
            CutReason::Jump { .. } | CutReason::ConfigChange | CutReason::Restart
        )
    }
}

/// What to do with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cut {
    /// Drop it (video before the first key frame).
    Drop,
    /// Write it into the current segment (and part).
    Continue {
        /// Output DTS, 90 kHz ticks.
        dts: i64,
        /// Output PTS, 90 kHz ticks.
        pts: i64,
        /// It starts a new part (only with a part target): the current part
        /// ends before it.
        new_part: bool,
    },
    /// End the current segment (if any) and start a new one with it; it
    /// also starts the segment's first part.
    Segment {
        /// Why.
        reason: CutReason,
        /// Output DTS, 90 kHz ticks.
        dts: i64,
        /// Output PTS, 90 kHz ticks.
        pts: i64,
    },
}

/// Per-track timing.
#[derive(Clone, Copy, Debug, Default)]
struct TrackClock {
    /// Last input DTS.
    last_dts: Option<i64>,
    /// Last output DTS and the step before it (to place a remapped frame one
    /// frame after the last one).
    last_out: Option<i64>,
    last_step: i64,
    /// The step before was taken for a gap and not kept as the frame step.
    gap: bool,
    /// Which remapping epoch the track is in.
    epoch: usize,
}

impl TrackClock {
    /// Keeps `step` as the track's frame step, unless it looks like a gap
    /// (a dropped frame or a stall: more than [`GAP_STEPS`] times the step
    /// before) the first time: a gap is not the frame rate, and taking it
    /// for one would make the parts after it tiny (the part rule adds a
    /// step of slack) and the cut tolerance wide. A second long step in a
    /// row is the new frame rate.
    fn observe_step(&mut self, step: i64) {
        let gap = self.last_step > 0 && step > self.last_step.saturating_mul(GAP_STEPS);
        if gap && !self.gap {
            self.gap = true;
        } else {
            self.gap = false;
            self.last_step = step;
        }
    }
}

/// How many frame steps make a gap (see [`TrackClock::observe_step`]).
const GAP_STEPS: i64 = 4;

/// Where segments and parts begin, and which segments are discontinuous.
///
/// The segmenter sees every frame in decode order and says, before the frame
/// is written, whether it starts a new segment (and why) or a new part, and
/// at which output timestamps it goes. It writes nothing itself: the
/// [`Muxer`](crate::Muxer) turns its decisions into bytes, and an application
/// with its own writer can use it alone.
///
/// The rules:
/// - A segment starts with a video key frame once the target duration is
///   reached; a stream without video is cut on any audio frame. A GOP longer
///   than the target makes a longer segment (never a cut inside a GOP).
///   "Reached" has a tolerance: a cut point up to half a frame early (the
///   cutting track's measured frame step; at most 20 ms and a quarter of
///   the target) is on time, so key frames every 1.999 s on RTMP's
///   millisecond clock give 1.999 s segments with a 2 s target, not
///   3.999 s ones.
/// - Video before the first key frame is dropped: every segment is
///   decodable on its own. Audio before it is dropped too, unless the
///   application says a key frame follows soon
///   ([`Segmenter::allow_audio_lead_in`]): then the first segment starts
///   with that audio, as FFmpeg's HLS muxer does (an encoder's first audio
///   frame often comes a few milliseconds before its first video frame).
/// - A timestamp jump makes the next segment discontinuous: any step
///   backward, or the stream as a whole (the latest frame of any track)
///   going forward by more than [`SegmenterOptions::jump_threshold`]. The
///   jump is closed up: the output goes on one frame after where it was, so
///   it stays monotonic (an fMP4 `tfdt` cannot go back), no segment holds a
///   hole (its `EXTINF` would count the gap and break the target duration),
///   and audio and video, which jump together, keep their distance. Wall
///   time lost in a forward jump is for `EXT-X-PROGRAM-DATE-TIME` to tell,
///   which the new segment carries. One track's gap while the other goes on
///   (audio muted by the encoder) is real and kept as it is.
/// - A change of configuration ([`Segmenter::config_changed`]) starts a new
///   discontinuous segment at the next video key frame (at once for audio
///   only), where a new init segment goes.
/// - Parts (Low-Latency HLS) follow the video track: a part ends before the
///   video frame that would take it past the part target, so each part
///   starts with a video frame, and its duration is the distance between
///   the video decode times that start it and the next. Audio cuts a part
///   only when the video is late (a stall) or absent, so parts never grow
///   without end. No part is longer than the part target: a frame that
///   comes later than that (after a gap) is placed in a part that starts
///   at the target ([`Segmenter::part_start`]). A key frame that ends a
///   segment that late does the same: the segment's last part ends at its
///   target and the new segment starts there ([`Segmenter::part_start`]
///   after the cut), so one dropped frame does not double a segment.
///
/// ```
/// use hls_mux::{Cut, CutReason, Frame, MediaKind, Segmenter, SegmenterOptions};
/// let mut segmenter = Segmenter::new(SegmenterOptions::with_target_seconds(2.0), true);
/// let frame = |ms: i64, key: bool| Frame {
///     media: MediaKind::Video,
///     dts: ms * 90,
///     pts: ms * 90,
///     key,
///     data: bytes::Bytes::from_static(b"x"),
/// };
/// assert!(matches!(segmenter.push(&frame(0, false)), Cut::Drop));
/// assert!(matches!(segmenter.push(&frame(40, true)), Cut::Segment { reason: CutReason::Start, .. }));
/// assert!(matches!(segmenter.push(&frame(2040, false)), Cut::Continue { .. }));
/// assert!(matches!(segmenter.push(&frame(2080, true)), Cut::Segment { reason: CutReason::Duration, .. }));
/// ```
#[derive(Clone, Debug)]
pub struct Segmenter {
    options: SegmenterOptions,
    has_video: bool,
    video: TrackClock,
    audio: TrackClock,
    /// Offsets (output - input) of each remapping epoch.
    epochs: Vec<i64>,
    /// The latest input DTS of any track in the newest epoch.
    stream_last_in: Option<i64>,
    started: bool,
    /// A video key frame went through: video is no longer dropped.
    video_keyed: bool,
    /// Audio may start the first segment before the first video key frame.
    lead_in: bool,
    segment_start: i64,
    part_start: i64,
    pending: Option<CutReason>,
    /// A cut asked for at the first cut point at or after this output DTS.
    scheduled: Option<i64>,
    /// The next segment starts after a [`Segmenter::restart`].
    restarted: bool,
}

/// The largest [`Segmenter::cut_tolerance`]: 20 ms (90 kHz), half a frame
/// at 25 fps. Below 25 fps half a frame would be more than rounding.
const MAX_CUT_TOLERANCE: i64 = 20 * 90;

/// The least slack for jitter in the part rule: frame steps on the
/// millisecond clock vary by a millisecond either way, so a part is closed
/// before a frame whose next step could take the part 2 ms past its
/// target (half a frame when that is more).
const PART_JITTER: i64 = 2 * 90;

/// How far past a part's end audio must be before the video counts as
/// late and audio closes the part (100 ms, 90 kHz): encoders may send audio
/// ahead of the video of the same time (interleaving buffers), and a part
/// closed by audio before its video frame came would no longer start with
/// that frame. In a real stall, parts are then published this much later;
/// their boundaries stay at the part target.
const LATE_VIDEO: i64 = 100 * 90;

/// At most this many remapping epochs are remembered (a stream that jumps
/// back more often reuses the last one: the bound keeps memory fixed).
const MAX_EPOCHS: usize = 64;

impl Segmenter {
    /// A segmenter; `has_video` says whether the stream has a video track
    /// (cuts then wait for video key frames).
    pub fn new(options: SegmenterOptions, has_video: bool) -> Segmenter {
        Segmenter {
            options,
            has_video,
            video: TrackClock::default(),
            audio: TrackClock::default(),
            epochs: vec![0],
            stream_last_in: None,
            started: false,
            video_keyed: false,
            lead_in: false,
            segment_start: 0,
            part_start: 0,
            pending: None,
            scheduled: None,
            restarted: false,
        }
    }

    /// The options.
    pub fn options(&self) -> &SegmenterOptions {
        &self.options
    }

    /// Whether the stream has video (cuts wait for video key frames).
    pub fn has_video(&self) -> bool {
        self.has_video
    }

    /// Say that the tracks changed: video appeared or left.
    pub fn set_has_video(&mut self, has_video: bool) {
        self.has_video = has_video;
    }

    /// Let audio that comes before the first video key frame start the
    /// first segment (the segment's video still begins with a key frame).
    /// For an application that knows a key frame follows soon, such as the
    /// [`Muxer`](crate::Muxer), which holds the first frames back; without
    /// it, that audio is dropped, since the key frame may never come.
    pub fn allow_audio_lead_in(&mut self) {
        self.lead_in = true;
    }

    /// The configuration changed: the next cut point starts a
    /// discontinuous segment.
    pub fn config_changed(&mut self) {
        if self.started {
            self.pending = Some(CutReason::ConfigChange);
        }
    }

    /// The stream starts again on a new timeline (a new publisher under the
    /// same name after the previous one left): `first_dts` (input, 90 kHz)
    /// is the earliest decode time of the new timeline. It is placed one
    /// frame after the latest output of any track, whatever its value, so
    /// the output stays monotonic, and both tracks move to it together. As
    /// at the start, video waits for a key frame; the first segment after
    /// it is discontinuous ([`CutReason::Restart`]). Before any output,
    /// nothing changes.
    pub fn restart(&mut self, first_dts: i64) {
        let end = [self.video, self.audio]
            .iter()
            .filter_map(|t| Some(t.last_out?.saturating_add(t.last_step.max(1))))
            .max();
        let Some(continue_at) = end else {
            return;
        };
        let offset = continue_at.saturating_sub(first_dts);
        if self.epochs.len() < MAX_EPOCHS {
            self.epochs.push(offset);
        } else if let Some(last) = self.epochs.last_mut() {
            *last = offset;
        }
        let newest = self.epochs.len() - 1;
        for track in [&mut self.video, &mut self.audio] {
            track.epoch = newest;
            track.last_dts = None;
        }
        self.stream_last_in = None;
        self.video_keyed = false;
        self.started = false;
        self.pending = None;
        self.restarted = true;
    }

    /// Output DTS of the current segment's first frame (90 kHz).
    pub fn segment_start(&self) -> i64 {
        self.segment_start
    }

    /// Decide for the next frame, in decode order.
    pub fn push(&mut self, frame: &Frame) -> Cut {
        let media = frame.media;
        if media == MediaKind::Video && !self.has_video {
            self.has_video = true;
        }
        if media == MediaKind::Video && !self.video_keyed {
            if !frame.key {
                // Video before the first key frame cannot be decoded.
                return Cut::Drop;
            }
            self.video_keyed = true;
        }
        let (dts, pts) = self.remap(frame);
        let cut_point = if self.has_video {
            media == MediaKind::Video && frame.key
        } else {
            media == MediaKind::Audio
        };
        if !self.started {
            let lead_in = self.lead_in && media == MediaKind::Audio;
            if !cut_point && !lead_in {
                // Audio before the first key frame is kept only without
                // video, or when a key frame is known to follow.
                return Cut::Drop;
            }
            self.started = true;
            self.pending = None;
            let reason = if std::mem::take(&mut self.restarted) {
                CutReason::Restart
            } else {
                CutReason::Start
            };
            return self.start_segment(reason, dts, pts);
        }
        if cut_point {
            if let Some(reason) = self.pending.take() {
                return self.start_segment(reason, dts, pts);
            }
            if self.scheduled.is_some_and(|at| dts >= at) {
                self.scheduled = None;
                return self.start_segment(CutReason::Cue, dts, pts);
            }
            let tolerance = self.cut_tolerance(media);
            let length = dts.saturating_sub(self.segment_start);
            if length >= self.options.target_duration - tolerance {
                let start = self.late_segment_start(dts).unwrap_or(dts);
                self.segment_start = start;
                self.part_start = start;
                return Cut::Segment {
                    reason: CutReason::Duration,
                    dts,
                    pts,
                };
            }
        }
        let boundary = self
            .options
            .part_duration
            .and_then(|part| self.part_boundary(media, dts, part));
        if let Some(boundary) = boundary {
            self.part_start = boundary;
        }
        Cut::Continue {
            dts,
            pts,
            new_part: boundary.is_some(),
        }
    }

    /// Where a new part starts before this frame, if one does.
    ///
    /// Parts follow the video track's timeline: a video frame starts a new
    /// part when the part would otherwise pass its target by the time the
    /// frame ends (its step, plus half a step or at least [`PART_JITTER`]
    /// for jitter), and the boundary is the frame's decode time. So a
    /// part's duration is the distance between the decode times of the
    /// video frames that begin it and the next part, the playlist's part
    /// start times land on the parts' video `tfdt`s, and players that place
    /// parts by the playlist (Shaka, Safari) see no drift.
    ///
    /// Audio follows, except when the video is late: an audio frame starts
    /// a part when it is [`LATE_VIDEO`] past the part's end and no video
    /// frame closed the part (a stall), or, the same way as video, when
    /// there is no video.
    /// The boundary is never later than the part's start plus the target,
    /// so no part is longer than the target whatever the timestamps do
    /// (after a gap, the first part's content starts a little after its
    /// playlist start; the next boundaries catch up).
    fn part_boundary(&self, media: MediaKind, dts: i64, part: i64) -> Option<i64> {
        if dts <= self.part_start {
            return None;
        }
        let track = match media {
            MediaKind::Video => &self.video,
            MediaKind::Audio => &self.audio,
        };
        let step = track.last_step.max(0);
        let cut = if media == MediaKind::Video || !self.has_video {
            // Slack for jitter: half a frame (at least PART_JITTER), so the
            // next frame, a little late, still lands within the target.
            let slack = (step / 2).max(PART_JITTER);
            dts.saturating_add(step)
                .saturating_add(slack)
                .saturating_sub(self.part_start)
                > part
        } else {
            // The video frame that should have closed the part would be
            // at the part's end at the latest; audio that arrives in the
            // same decode order up to LATE_VIDEO after it may only be sent
            // ahead of the video, so only then is the video late.
            dts.saturating_sub(self.part_start) >= part.saturating_add(LATE_VIDEO)
        };
        cut.then(|| dts.min(self.part_start.saturating_add(part)))
    }

    /// Where a segment cut at a key frame at `dts` starts when the key frame
    /// comes after the open part's target (a dropped frame or a stall just
    /// before it): the part then ends at its target, as any late part does,
    /// and the new segment and its first part start there, the key frame a
    /// little into it. `None` when the key frame is on time (or without
    /// parts): the segment starts at the key frame.
    ///
    /// Why not end the segment at the next key frame instead: one frame
    /// dropped before a key frame would double that segment (4 s with a 2 s
    /// target) and raise `EXT-X-TARGETDURATION`, and with it every player's
    /// hold-back, for the rest of the stream.
    fn late_segment_start(&self, dts: i64) -> Option<i64> {
        let part = self.options.part_duration?;
        let end = self.part_start.saturating_add(part);
        (dts > end).then_some(end)
    }

    /// Asks for a segment to start at the first cut point (a video key
    /// frame; any audio frame without video) whose output decode time is at
    /// or after `at` (90 kHz; `i64::MIN` for the next one), with
    /// [`CutReason::Cue`]: where an ad break starts or ends. A later call
    /// replaces an earlier one; a discontinuity's cut comes first.
    pub fn schedule_cut(&mut self, at: i64) {
        self.scheduled = Some(at);
    }

    /// Withdraws the cut [`schedule_cut`](Segmenter::schedule_cut) asked for.
    pub fn cancel_cut(&mut self) {
        self.scheduled = None;
    }

    /// Where the current part starts (output DTS, 90 kHz): the decode time
    /// of the frame that began it, or the part target after the previous
    /// part's start when that frame came later (see the part rules in
    /// [`Segmenter`]).
    pub fn part_start(&self) -> i64 {
        self.part_start
    }

    /// How early a cut point may come and still count as on time: half of
    /// the cutting track's frame step as measured (the step into this
    /// frame), at most [`MAX_CUT_TOLERANCE`] and a quarter of the target.
    ///
    /// Why: encoders place key frames on their own clock and RTMP rounds
    /// every timestamp to the millisecond, so a key frame meant for 2 s
    /// often arrives at 1.999 s. Cutting only at `>= target` skips it and
    /// makes a 3.999 s segment (and `TARGETDURATION:4`, and twice the
    /// latency). Half a frame is the most that can be rounding or jitter:
    /// a key frame a whole frame early is the encoder's real interval
    /// (a GOP one frame shorter), not the target missed by a hair, and
    /// between the two the nearer frame to the target wins. The fixed cap
    /// keeps a slow or stalled track (a step of seconds) from making
    /// segments much shorter than asked; the quarter of the target keeps
    /// tiny targets meaningful.
    fn cut_tolerance(&self, media: MediaKind) -> i64 {
        let step = match media {
            MediaKind::Video => self.video.last_step,
            MediaKind::Audio => self.audio.last_step,
        };
        (step / 2)
            .clamp(0, MAX_CUT_TOLERANCE)
            .min(self.options.target_duration / 4)
    }

    fn start_segment(&mut self, reason: CutReason, dts: i64, pts: i64) -> Cut {
        self.segment_start = dts;
        self.part_start = dts;
        Cut::Segment { reason, dts, pts }
    }

    fn track(&mut self, media: MediaKind) -> &mut TrackClock {
        match media {
            MediaKind::Video => &mut self.video,
            MediaKind::Audio => &mut self.audio,
        }
    }

    /// Detects jumps and maps the frame onto the output timeline.
    fn remap(&mut self, frame: &Frame) -> (i64, i64) {
        let track = *self.track(frame.media);
        let newest = self.epochs.len() - 1;
        let mut epoch = track.epoch;
        if let Some(last) = track.last_dts {
            let delta = frame.dts.saturating_sub(last);
            let own_jump = delta < 0 || delta > self.options.jump_threshold;
            if own_jump && epoch < newest {
                // The other track jumped first: follow it, so both keep
                // the distance they had.
                epoch = newest;
            } else if epoch == newest && (delta < 0 || self.stream_jumps(frame)) {
                if self.started {
                    self.pending = Some(CutReason::Jump {
                        media: frame.media,
                        delta,
                    });
                }
                epoch = self.new_epoch(frame, track);
            }
        }
        let offset = self.epochs[epoch];
        let dts = frame.dts.saturating_add(offset);
        let pts = frame.pts.saturating_add(offset);
        if epoch == self.epochs.len() - 1 {
            self.stream_last_in = Some(self.stream_last_in.map_or(frame.dts, |m| m.max(frame.dts)));
        }
        let track = self.track(frame.media);
        if let Some(last_out) = track.last_out {
            track.observe_step(dts.saturating_sub(last_out));
        }
        track.last_dts = Some(frame.dts);
        track.last_out = Some(dts);
        track.epoch = epoch;
        (dts, pts)
    }

    /// Whether the frame takes the stream as a whole (the latest frame of
    /// any track) forward by more than the threshold. One track's gap (an
    /// encoder that sends no audio while the microphone is muted) is not a
    /// jump: the other track went on, and the gap is real.
    fn stream_jumps(&self, frame: &Frame) -> bool {
        self.stream_last_in
            .is_some_and(|last| frame.dts.saturating_sub(last) > self.options.jump_threshold)
    }

    /// A new epoch that continues the track's output one frame after its
    /// last frame: the jump is closed up.
    fn new_epoch(&mut self, frame: &Frame, track: TrackClock) -> usize {
        let continue_at = track
            .last_out
            .unwrap_or(0)
            .saturating_add(track.last_step.max(1));
        let offset = continue_at.saturating_sub(frame.dts);
        if self.epochs.len() < MAX_EPOCHS {
            self.epochs.push(offset);
        } else if let Some(last) = self.epochs.last_mut() {
            *last = offset;
        }
        self.stream_last_in = None;
        self.epochs.len() - 1
    }
}

#[cfg(test)]
mod tests;
