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
mod tests {
    use bytes::Bytes;

    use super::*;

    fn video(ms: i64, key: bool) -> Frame {
        Frame {
            media: MediaKind::Video,
            dts: ms * 90,
            pts: ms * 90,
            key,
            data: Bytes::from_static(b"v"),
        }
    }

    fn audio(ms: i64) -> Frame {
        Frame {
            media: MediaKind::Audio,
            dts: ms * 90,
            pts: ms * 90,
            key: true,
            data: Bytes::from_static(b"a"),
        }
    }

    fn options(target_s: f64) -> SegmenterOptions {
        SegmenterOptions::with_target_seconds(target_s)
    }

    fn reasons(segmenter: &mut Segmenter, frames: &[Frame]) -> Vec<(i64, CutReason)> {
        frames
            .iter()
            .filter_map(|f| match segmenter.push(f) {
                Cut::Segment { reason, dts, .. } => Some((dts / 90, reason)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn cuts_at_keyframes_once_the_target_is_reached() {
        let mut s = Segmenter::new(options(2.0), true);
        // 25 fps, key frames every 1.2 s.
        let frames: Vec<_> = (0..150).map(|i| video(i * 40, i % 30 == 0)).collect();
        let cuts = reasons(&mut s, &frames);
        // Key frames at 0, 1.2, 2.4, 3.6, 4.8 s: cut when 2 s have passed.
        assert_eq!(
            cuts,
            vec![
                (0, CutReason::Start),
                (2400, CutReason::Duration),
                (4800, CutReason::Duration)
            ]
        );
    }

    /// 30 fps video on the millisecond clock whose key frames come after
    /// the given intervals (ms), each GOP's frames at round(i * 1000 / 30)
    /// after its key frame.
    fn obs_like(intervals: &[i64]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut key = 0;
        for &interval in intervals {
            let mut i = 0;
            while (i * 1000 + 15) / 30 < interval {
                frames.push(video(key + (i * 1000 + 15) / 30, i == 0));
                i += 1;
            }
            key += interval;
        }
        frames.push(video(key, true));
        frames
    }

    fn segment_lengths(frames: &[Frame], target_s: f64) -> Vec<i64> {
        let mut s = Segmenter::new(options(target_s), true);
        let starts: Vec<i64> = reasons(&mut s, frames).iter().map(|c| c.0).collect();
        starts.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn key_frames_a_millisecond_early_are_on_time() {
        // OBS with a 2 s key frame interval: every 1999 ms.
        let lengths = segment_lengths(&obs_like(&[1999; 10]), 2.0);
        assert_eq!(lengths, [1999; 10]);
        let lengths = segment_lengths(&obs_like(&[2001; 10]), 2.0);
        assert_eq!(lengths, [2001; 10]);
        // Jitter both ways, 2 ms at most.
        let jitter = [1998, 2002, 1999, 2001, 2000, 1998, 1998, 2002, 2001, 1999];
        assert_eq!(segment_lengths(&obs_like(&jitter), 2.0), jitter);
    }

    #[test]
    fn a_key_frame_a_whole_frame_early_is_not_on_time() {
        // 25 fps with a GOP of 49 frames (1960 ms): one frame short of the
        // 2 s target is the encoder's interval, not rounding; the segment
        // takes two GOPs.
        let frames: Vec<_> = (0..49 * 5).map(|i| video(i * 40, i % 49 == 0)).collect();
        assert_eq!(segment_lengths(&frames, 2.0), [3920, 3920]);
        // The tolerance is at most 20 ms even at 1 fps (500 ms would be
        // half a frame): a key frame 40 ms early waits.
        let frames: Vec<_> = (0..12)
            .map(|i| video(i * 1000 - 40 * (i % 2), true))
            .collect();
        let lengths = segment_lengths(&frames, 2.0);
        assert!(lengths.iter().all(|&l| l >= 1980), "{lengths:?}");
    }

    #[test]
    fn a_long_gop_gives_a_long_segment() {
        let mut s = Segmenter::new(options(2.0), true);
        let frames: Vec<_> = (0..300).map(|i| video(i * 40, i % 250 == 0)).collect();
        assert_eq!(
            reasons(&mut s, &frames),
            vec![(0, CutReason::Start), (10_000, CutReason::Duration)]
        );
    }

    #[test]
    fn video_before_the_first_keyframe_is_dropped_audio_kept_after() {
        let mut s = Segmenter::new(options(2.0), true);
        assert_eq!(s.push(&video(0, false)), Cut::Drop);
        assert_eq!(s.push(&audio(10)), Cut::Drop);
        assert!(matches!(s.push(&video(40, true)), Cut::Segment { .. }));
        assert!(matches!(s.push(&audio(50)), Cut::Continue { .. }));
    }

    #[test]
    fn with_a_lead_in_audio_opens_the_first_segment_and_video_waits_for_a_key() {
        let mut s = Segmenter::new(options(2.0), true);
        s.allow_audio_lead_in();
        assert!(matches!(
            s.push(&audio(0)),
            Cut::Segment {
                reason: CutReason::Start,
                dts: 0,
                ..
            }
        ));
        // Video still starts on its key frame, inside the same segment.
        assert_eq!(s.push(&video(10, false)), Cut::Drop);
        assert!(matches!(s.push(&video(25, true)), Cut::Continue { .. }));
        assert!(matches!(s.push(&video(65, false)), Cut::Continue { .. }));
        assert!(matches!(s.push(&audio(26)), Cut::Continue { .. }));
        // The next cut is measured from the audio that opened the segment.
        assert!(matches!(
            s.push(&video(2000, true)),
            Cut::Segment {
                reason: CutReason::Duration,
                ..
            }
        ));
    }

    #[test]
    fn audio_only_cuts_on_audio_frames() {
        let mut s = Segmenter::new(options(1.0), false);
        let frames: Vec<_> = (0..100).map(|i| audio(i * 23)).collect();
        let cuts = reasons(&mut s, &frames);
        assert_eq!(cuts[0], (0, CutReason::Start));
        // 989 ms is 11 ms short of the target, within half a 23 ms frame:
        // on time (1012 ms, the first frame past it, is 12 ms over).
        assert_eq!(cuts[1], (989, CutReason::Duration));
        assert_eq!(cuts[2], (1978, CutReason::Duration));
        assert_eq!(cuts.len(), 3);
    }

    #[test]
    fn audio_never_cuts_when_there_is_video() {
        let mut s = Segmenter::new(options(1.0), true);
        let mut frames = vec![video(0, true)];
        frames.extend((1..200).map(|i| audio(i * 23)));
        assert_eq!(reasons(&mut s, &frames).len(), 1);
    }

    #[test]
    fn a_forward_jump_is_a_discontinuity_closed_up() {
        let mut s = Segmenter::new(options(2.0), true);
        let mut frames: Vec<_> = (0..50).map(|i| video(i * 40, i % 25 == 0)).collect();
        frames.extend((0..50).map(|i| video(12_000 + i * 40, i % 25 == 0)));
        let cuts = reasons(&mut s, &frames);
        assert_eq!(
            cuts,
            vec![
                (0, CutReason::Start),
                // One frame after 1960 ms, not 12 s.
                (
                    2000,
                    CutReason::Jump {
                        media: MediaKind::Video,
                        delta: (12_000 - 1960) * 90
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_forward_jump_inside_a_gop_leaves_no_hole_and_keeps_av_together() {
        let mut s = Segmenter::new(options(2.0), true);
        let mut out = Vec::new();
        for i in 0..40 {
            out.push(s.push(&video(i * 40, i % 50 == 0)));
            out.push(s.push(&audio(i * 40 + 5)));
        }
        // Both tracks jump 10 s at 1600 ms, in the middle of a GOP.
        for i in 40..100 {
            out.push(s.push(&video(10_000 + i * 40, i % 50 == 0)));
            out.push(s.push(&audio(10_000 + i * 40 + 5)));
        }
        let times: Vec<i64> = out
            .iter()
            .filter_map(|c| match c {
                Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => Some(*dts / 90),
                Cut::Drop => None,
            })
            .collect();
        // Continuous: each pair one 40 ms frame after the last, audio 5 ms
        // after its video.
        let expected: Vec<i64> = (0..100).flat_map(|i| [i * 40, i * 40 + 5]).collect();
        assert_eq!(times, expected);
        // The next key frame (2000 ms out) starts the discontinuous segment.
        assert!(matches!(
            out[100],
            Cut::Segment {
                reason: CutReason::Jump { .. },
                dts: 180_000,
                ..
            }
        ));
    }

    #[test]
    fn one_tracks_gap_is_kept_and_is_no_jump() {
        let mut s = Segmenter::new(options(2.0), true);
        // Audio stops for 8 s (a muted encoder) while video goes on.
        for i in 0..300 {
            s.push(&video(i * 40, i % 50 == 0));
            if !(25..225).contains(&i) {
                let cut = s.push(&audio(i * 40 + 5));
                let Cut::Continue { dts, .. } = cut else {
                    panic!("audio at {i}: {cut:?}");
                };
                // Audio keeps its own time.
                assert_eq!(dts, (i * 40 + 5) * 90);
            }
        }
    }

    #[test]
    fn a_jump_inside_a_gop_waits_for_the_next_keyframe() {
        let mut s = Segmenter::new(options(20.0), true);
        let mut frames: Vec<_> = (0..10).map(|i| video(i * 40, i == 0)).collect();
        frames.push(video(9_000, false));
        frames.push(video(9_040, true));
        let cuts = reasons(&mut s, &frames);
        assert_eq!(cuts.len(), 2);
        // 9000 ms closed up to one frame after 360 ms; the key frame after it.
        assert_eq!(cuts[1].0, 440);
        assert!(cuts[1].1.is_discontinuity());
    }

    #[test]
    fn a_backward_jump_is_remapped_and_both_tracks_stay_together() {
        let mut s = Segmenter::new(options(2.0), true);
        let mut out = Vec::new();
        let mut push = |f: Frame| {
            let cut = s.push(&f);
            out.push((f.media, cut));
        };
        for i in 0..75 {
            push(video(i * 40, i % 25 == 0));
            push(audio(i * 40 + 5));
        }
        // The encoder restarts: both tracks go back to 1000 ms.
        for i in 0..50 {
            push(video(1000 + i * 40, i % 25 == 0));
            push(audio(1000 + i * 40 + 5));
        }
        let dts: Vec<(MediaKind, i64)> = out
            .iter()
            .filter_map(|(m, c)| match c {
                Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => Some((*m, *dts)),
                Cut::Drop => None,
            })
            .collect();
        for media in [MediaKind::Video, MediaKind::Audio] {
            let track: Vec<i64> = dts
                .iter()
                .filter(|(m, _)| *m == media)
                .map(|(_, d)| *d)
                .collect();
            assert!(
                track.windows(2).all(|w| w[1] > w[0]),
                "{media:?} not monotonic"
            );
        }
        // The jump: video continues one frame after 2960 ms; audio keeps its
        // 5 ms distance to the video.
        let jump = out
            .iter()
            .position(|(_, c)| {
                matches!(
                    c,
                    Cut::Segment {
                        reason: CutReason::Jump { .. },
                        ..
                    }
                )
            })
            .expect("a discontinuous segment");
        assert_eq!(dts[jump].1, 3000 * 90);
        assert_eq!(dts[jump + 1], (MediaKind::Audio, 3005 * 90));
    }

    #[test]
    fn a_config_change_cuts_at_the_next_keyframe() {
        let mut s = Segmenter::new(options(10.0), true);
        let frames: Vec<_> = (0..20).map(|i| video(i * 40, i % 10 == 0)).collect();
        let mut cuts = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            if i == 5 {
                s.config_changed();
            }
            if let Cut::Segment { reason, dts, .. } = s.push(f) {
                cuts.push((dts / 90, reason));
            }
        }
        assert_eq!(
            cuts,
            vec![(0, CutReason::Start), (400, CutReason::ConfigChange)]
        );
    }

    #[test]
    fn parts_never_exceed_the_part_target() {
        let mut opts = options(2.0);
        opts.part_duration = Some(seconds_to_ticks(0.5));
        let mut s = Segmenter::new(opts, true);
        let mut starts = vec![];
        for i in 0..100 {
            match s.push(&video(i * 33, i % 30 == 0)) {
                Cut::Segment { dts, .. } => starts.push((dts, true)),
                Cut::Continue {
                    dts,
                    new_part: true,
                    ..
                } => starts.push((dts, false)),
                _ => {}
            }
        }
        starts.push((100 * 33 * 90, true));
        assert_eq!(starts.iter().filter(|s| s.1).count(), 3);
        for w in starts.windows(2) {
            let length = w[1].0 - w[0].0;
            assert!(length <= 45_000, "part of {length} ticks");
            // Only the last part of a segment may be short: others are at
            // least 85% of the part target (rfc8216bis 4.4.4.9).
            assert!(w[1].1 || length >= 38_250, "part of {length} ticks");
        }
    }

    fn with_parts(target_s: f64, part_s: f64) -> Segmenter {
        let mut opts = options(target_s);
        opts.part_duration = Some(seconds_to_ticks(part_s));
        Segmenter::new(opts, true)
    }

    /// (dts ms, part start ms, media) of each frame that starts a part or
    /// a segment, and the segment starts (ms).
    fn part_starts(s: &mut Segmenter, frames: &[Frame]) -> Vec<(i64, i64, MediaKind)> {
        part_and_segment_starts(s, frames).0
    }

    fn part_and_segment_starts(
        s: &mut Segmenter,
        frames: &[Frame],
    ) -> (Vec<(i64, i64, MediaKind)>, Vec<i64>) {
        let mut starts = Vec::new();
        let mut segments = Vec::new();
        for f in frames {
            match s.push(f) {
                Cut::Segment { dts, .. } => {
                    starts.push((dts / 90, s.part_start() / 90, f.media));
                    segments.push(s.part_start() / 90);
                }
                Cut::Continue {
                    dts,
                    new_part: true,
                    ..
                } => {
                    starts.push((dts / 90, s.part_start() / 90, f.media));
                }
                _ => {}
            }
        }
        (starts, segments)
    }

    #[test]
    fn parts_start_at_video_frames_when_audio_is_interleaved() {
        let mut s = with_parts(2.0, 0.5);
        let mut frames = Vec::new();
        for i in 0..120 {
            frames.push(video((i * 1000 + 15) / 30, i % 60 == 0));
            for k in 0..2 {
                let t = ((i * 2 + k) * 1024 * 1000 + 22_050) / 88_200;
                frames.push(audio(t));
            }
        }
        frames.sort_by_key(|f| (f.dts, f.media == MediaKind::Audio)); // video first
        let starts = part_starts(&mut s, &frames);
        assert!(starts.len() >= 8, "{starts:?}");
        // Every part begins with a video frame, at its decode time: the
        // audio between never cuts (it used to, whichever came first).
        assert!(
            starts
                .iter()
                .all(|&(dts, start, media)| media == MediaKind::Video && dts == start),
            "{starts:?}"
        );
        assert!(
            starts.windows(2).all(|w| w[1].1 - w[0].1 <= 500),
            "{starts:?}"
        );
    }

    #[test]
    fn after_a_gap_parts_stay_within_the_target_and_the_key_frame_cuts() {
        let mut s = with_parts(1.0, 0.5);
        // 25 fps, key frames every 1 s; video and audio stop at 880 ms and
        // come back at 1900 ms (a gap under the jump threshold) with a key
        // frame, and the segment's target was reached.
        let mut frames: Vec<Frame> = (0..23).map(|i| video(i * 40, i == 0)).collect();
        frames.extend((0..25).map(|i| video(1900 + i * 40, i % 25 == 0)));
        frames.push(video(2900, true));
        let (starts, segments) = part_and_segment_starts(&mut s, &frames);
        for w in starts.windows(2) {
            assert!(
                w[1].1 - w[0].1 <= 500,
                "a part of {} ms: {starts:?}",
                w[1].1 - w[0].1
            );
        }
        // The key frame after the gap ends the segment (its last part would
        // have been 1420 ms): the last part ends at the part target, 980 ms,
        // and the new segment starts there with the key frame 920 ms in.
        assert!(
            starts.contains(&(1900, 980, MediaKind::Video)),
            "{starts:?}"
        );
        assert_eq!(segments, [0, 980, 2900]);
    }

    #[test]
    fn one_frame_dropped_before_a_key_frame_does_not_double_the_segment() {
        // 30 fps on RTMP's millisecond clock, key frames every 2 s, parts of
        // 0.25 s; the frame before each key frame is lost, so the key frame
        // comes after the open part's target.
        let mut s = with_parts(2.0, 0.25);
        let frames: Vec<Frame> = (0..240)
            .filter(|i| i % 60 != 59)
            .map(|i| video((i * 1000 + 15) / 30, i % 60 == 0))
            .collect();
        let (starts, segments) = part_and_segment_starts(&mut s, &frames);
        assert_eq!(segments.len(), 4, "{segments:?}");
        for w in segments.windows(2) {
            assert!((1990..=2000).contains(&(w[1] - w[0])), "{segments:?}");
        }
        for w in starts.windows(2) {
            assert!(w[1].1 - w[0].1 <= 250, "{starts:?}");
        }
    }

    #[test]
    fn timestamps_past_32_bits_of_ms_stay_monotonic() {
        let mut s = Segmenter::new(options(2.0), true);
        let base = (1i64 << 32) - 1000;
        let mut last = i64::MIN;
        for i in 0..100 {
            match s.push(&video(base + i * 40, i % 25 == 0)) {
                Cut::Continue { dts, .. } | Cut::Segment { dts, .. } => {
                    assert!(dts > last);
                    last = dts;
                }
                Cut::Drop => panic!("dropped"),
            }
        }
        assert_eq!(last, (base + 99 * 40) * 90);
    }
}
