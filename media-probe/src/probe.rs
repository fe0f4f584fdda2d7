//! The probe: frames and their arrival times in; frame records, interval
//! statistics and events out.

use std::collections::VecDeque;
use std::time::Duration;

use flv::{ConfigChange, ConfigChangeKind, Frame, MediaEvent, MediaType, Tag};

use crate::stats::{Interval, TimeBase, Windows};
use crate::summary::Summary;
use crate::track::Track;
use crate::{Error, Event, EventKind, FrameRecord, ProbeConfig};

/// What the probe hands out, in the order it learns it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// A frame, in decode order, once its duration is known (the next frame of its
    /// track arrived) or the input ended.
    Frame(FrameRecord),
    /// An interval that closed.
    Interval(Interval),
    /// An anomaly.
    Event(Event),
}

/// DTS intervals kept open behind the newest (audio and video interleave a little
/// out of DTS order).
const DTS_INTERVALS_BEHIND: usize = 2;

/// A record waiting for the next DTS of its track.
#[derive(Debug)]
struct Slot {
    record: FrameRecord,
    ready: bool,
}

/// Arrival lag: wall-clock time minus DTS progress, against the smallest lag of
/// the warm-up period.
#[derive(Debug, Default)]
struct Lag {
    /// (first arrival, first DTS), ms.
    origin: Option<(i64, i64)>,
    reference: Option<i64>,
    level: i64,
    last: Option<i64>,
}

/// Video minus audio DTS over one window of DTS time.
#[derive(Debug, Default)]
struct Drift {
    last_video: Option<i64>,
    last_audio: Option<i64>,
    window_start: Option<i64>,
    min: i64,
    max: i64,
    jumped: bool,
    reference: Option<i64>,
    level: i64,
}

/// The frame timing probe.
///
/// Feed it every frame and sequence header with [`push_event`](Self::push_event)
/// (or [`push_frame`](Self::push_frame) / [`push_config`](Self::push_config), or
/// whole tags with [`push_tag`](Self::push_tag)), each with its arrival time on a
/// clock of the caller's choosing (`None` for a file). Drain
/// [`poll_output`](Self::poll_output) after each push; call
/// [`finish`](Self::finish) at the end of input, then drain again. Nothing inside
/// reads a clock, does IO, or panics on any input; memory is bounded by the
/// configured queues whatever the length of the stream.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use flv::{Codec, Frame, MediaType};
/// use media_probe::{EventKind, Output, Probe, ProbeConfig};
///
/// let mut probe = Probe::new(ProbeConfig::default()).unwrap();
/// // MP3 at 30 ms steps, arriving in real time, until 3 s of silence.
/// for (i, arrival_ms) in [0u64, 30, 60, 3060].into_iter().enumerate() {
///     let dts = 30 * i as i64;
///     let frame = Frame {
///         media: MediaType::Audio, codec: Codec::Mp3, track: 0, dts, pts: dts, nanos: 0,
///         key: true, data: Bytes::from_static(&[0xff, 0xfb, 0x90, 0x64]), offset: 0,
///     };
///     probe.push_frame(&frame, Some(Duration::from_millis(arrival_ms)));
/// }
/// probe.finish(None);
/// let stalls: Vec<_> = std::iter::from_fn(|| probe.poll_output())
///     .filter_map(|o| match o {
///         Output::Event(event) => match event.kind {
///             EventKind::Stall { duration_ms, .. } => Some(duration_ms),
///             _ => None,
///         },
///         _ => None,
///     })
///     .collect();
/// assert_eq!(stalls, [3000]);
/// ```
#[derive(Debug)]
pub struct Probe {
    config: ProbeConfig,
    tracks: Vec<Track>,
    pending: VecDeque<Slot>,
    /// Sequence number of `pending[0]`.
    pending_base: u64,
    next_seq: u64,
    out: VecDeque<Output>,
    dts_windows: Windows,
    arrival_windows: Windows,
    closed: Vec<Interval>,
    first_arrival_us: Option<i64>,
    last_arrival_us: Option<i64>,
    lag: Lag,
    drift: Drift,
    /// End (last DTS + its duration) of the newest video frame on the DTS
    /// statistics clock: intervals past it are not fully covered.
    video_end: Option<i64>,
    video_start_interval: Option<i64>,
    /// The DTS statistics clock shift of the track of the frame being pushed.
    shift_now: i64,
    event_counts: [u64; EventKind::NAMES.len()],
    dropped: u64,
    finished: bool,
}

impl Probe {
    /// A probe with `config` (checked with [`ProbeConfig::validate`]).
    pub fn new(config: ProbeConfig) -> Result<Probe, Error> {
        config.validate()?;
        Ok(Probe {
            dts_windows: Windows::new(TimeBase::Dts, config.interval_ms, DTS_INTERVALS_BEHIND),
            arrival_windows: Windows::new(TimeBase::Arrival, config.interval_ms, 0),
            config,
            tracks: Vec::new(),
            pending: VecDeque::new(),
            pending_base: 0,
            next_seq: 0,
            out: VecDeque::new(),
            closed: Vec::new(),
            first_arrival_us: None,
            last_arrival_us: None,
            lag: Lag::default(),
            drift: Drift::default(),
            video_end: None,
            video_start_interval: None,
            shift_now: 0,
            event_counts: [0; EventKind::NAMES.len()],
            dropped: 0,
            finished: false,
        })
    }

    /// Arrival time of the first frame or sequence header (live input).
    pub fn first_arrival(&self) -> Option<Duration> {
        self.first_arrival_us
            .map(|us| Duration::from_micros(us as u64))
    }

    /// The configuration.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    /// The next output, if any. Drain after every push: past
    /// [`ProbeConfig::max_queued`] outputs the oldest are dropped.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Every media event of an FLV tag (script data and other tags give none).
    /// A tag whose body does not parse gives the events before the error, then it.
    pub fn push_tag(&mut self, tag: &Tag, arrival: Option<Duration>) -> Result<(), Error> {
        for event in flv::media_events(tag) {
            self.push_event(&event?, arrival);
        }
        Ok(())
    }

    /// A frame or a sequence header; other media events (end of sequence,
    /// metadata, commands) change nothing.
    pub fn push_event(&mut self, event: &MediaEvent, arrival: Option<Duration>) {
        match event {
            MediaEvent::Frame(frame) => self.push_frame(frame, arrival),
            MediaEvent::Config(config) => self.push_config(config, arrival),
            _ => {}
        }
    }

    /// A sequence header (decoder configuration) of a track.
    pub fn push_config(&mut self, change: &ConfigChange, arrival: Option<Duration>) {
        // An empty sequence header configures nothing (FFmpeg keeps no extradata).
        if self.finished || change.kind != ConfigChangeKind::SequenceStart || change.data.is_empty()
        {
            return;
        }
        self.arrival_us(arrival);
        let index = self.track_index(change.media, change.codec, change.track);
        let track = &mut self.tracks[index];
        let Some(old) = track.set_config(change) else {
            return;
        };
        let kind = EventKind::SequenceHeaderChange {
            from_codec: old.codec_string,
            to_codec: track.info.codec_string.clone(),
            from_size: old.size,
            to_size: track.info.size,
            bytes: change.data.len(),
        };
        let pos = self.config.positions.then_some(change.offset);
        self.event_for_track(index, kind, change.dts, pos, arrival);
    }

    /// A coded frame, arrived at `arrival` (`None` for file input).
    pub fn push_frame(&mut self, frame: &Frame, arrival: Option<Duration>) {
        if self.finished {
            return;
        }
        let arrival_us = self.arrival_us(arrival);
        let arrival = arrival_us.map(|us| Duration::from_micros(us as u64));
        let pos = self.config.positions.then_some(frame.offset);
        let index = self.track_index(frame.media, frame.codec, frame.track);

        let track = &mut self.tracks[index];
        if Track::needs_config(frame.codec) && track.config.is_none() && !track.missing_reported {
            track.missing_reported = true;
            let kind = EventKind::MissingSequenceHeader;
            self.event_for_track(index, kind, frame.dts, pos, arrival);
        }

        let nominal = self.tracks[index].nominal_duration(frame, self.config.nominal_fps);
        let jumped = self.check_dts(index, frame, nominal, pos, arrival);
        self.shift_now = self.tracks[index].stats_shift;
        if frame.pts < frame.dts {
            let kind = EventKind::PtsBeforeDts {
                delta_ms: frame.pts.saturating_sub(frame.dts),
            };
            self.event_for_track(index, kind, frame.dts, pos, arrival);
        }
        if let Some(now) = arrival_us {
            self.check_stall(now, frame, pos, arrival);
        }
        if frame.media == MediaType::Video {
            self.check_gop(index, frame, pos, arrival);
        }

        let pict_type = if self.config.pict_type && frame.media == MediaType::Video {
            self.tracks[index].pict_type(frame)
        } else {
            None
        };
        self.count(index, frame, pict_type);
        if self.config.records {
            self.queue_record(index, frame, nominal, pict_type, pos, arrival);
        }
        if let Some(now) = arrival_us {
            self.check_lag(now, frame, pos, arrival);
        }
        self.count_in_intervals(index, frame, nominal, jumped, arrival_us);
        self.check_drift(frame, jumped);
        self.tracks[index].last_dts = Some(frame.dts);
        if let Some(now) = arrival_us {
            self.last_arrival_us = Some(now);
        }
    }

    /// Closes the arrival intervals that ended before `now` (on the arrival clock),
    /// so a live stream's statistics keep coming through silence.
    pub fn tick(&mut self, now: Duration) {
        let (Some(first), false) = (self.first_arrival_us, self.finished) else {
            return;
        };
        let now_ms = (micros(now) - first) / 1000;
        let closed = &mut self.closed;
        self.arrival_windows
            .close_until(now_ms, &mut |interval| closed.push(interval));
        self.drain_closed(false);
    }

    /// The end of input: every waiting record goes out, open intervals close, and a
    /// GOP or stall still open at `end` (arrival clock, live input) is judged.
    /// Pushes after this are ignored.
    pub fn finish(&mut self, end: Option<Duration>) {
        if self.finished {
            return;
        }
        while let Some(slot) = self.pending.pop_front() {
            self.pending_base += 1;
            self.emit(Output::Frame(slot.record));
        }
        for track in &mut self.tracks {
            track.pending = None;
        }
        self.finish_gops();
        let end_us = end.map(micros).or(self.last_arrival_us);
        if let (Some(end_us), Some(last)) = (end_us, self.last_arrival_us) {
            let gap_ms = (end_us - last) / 1000;
            if gap_ms >= self.config.stall_ms {
                let kind = EventKind::Stall {
                    duration_ms: gap_ms,
                    ongoing: true,
                };
                let last = self
                    .tracks
                    .iter()
                    .filter_map(|t| Some((t.last_dts?, t.stats_shift)))
                    .max()
                    .unwrap_or((0, 0));
                self.shift_now = last.1;
                self.event(kind, None, last.0, None, end);
            }
        }
        let dts_end = self.video_end.or_else(|| {
            self.tracks
                .iter()
                .filter_map(|t| t.last_dts.map(|d| d.saturating_add(t.stats_shift)))
                .max()
        });
        let closed = &mut self.closed;
        self.dts_windows
            .finish(dts_end, &mut |interval| closed.push(interval));
        let arrival_end = match (end_us, self.first_arrival_us) {
            (Some(end), Some(first)) => Some((end - first) / 1000),
            _ => None,
        };
        self.arrival_windows
            .finish(arrival_end, &mut |interval| closed.push(interval));
        self.drain_closed(true);
        self.finished = true;
    }

    /// Per-track figures and event counts so far.
    pub fn summary(&self) -> Summary {
        let mut tracks: Vec<_> = self
            .tracks
            .iter()
            .map(|t| {
                let mut summary = t.summary.clone();
                if t.media == MediaType::Video {
                    summary.nominal_fps = t.nominal_fps(self.config.nominal_fps);
                }
                summary
            })
            .collect();
        tracks.sort_by_key(|t| t.stream_index);
        let arrival_span = match (self.first_arrival_us, self.last_arrival_us) {
            (Some(first), Some(last)) => Some(Duration::from_micros((last - first) as u64)),
            _ => None,
        };
        Summary {
            tracks,
            events: self.event_counts,
            arrival_span,
            dropped_outputs: self.dropped,
        }
    }

    fn arrival_us(&mut self, arrival: Option<Duration>) -> Option<i64> {
        let mut us = micros(arrival?);
        if let Some(last) = self.last_arrival_us {
            us = us.max(last); // the caller's clock is taken as monotonic
        }
        self.first_arrival_us.get_or_insert(us);
        Some(us)
    }

    fn track_index(&mut self, media: MediaType, codec: flv::Codec, track: u8) -> usize {
        if let Some(i) = self
            .tracks
            .iter()
            .position(|t| t.media == media && t.track == track)
        {
            return i;
        }
        let stream_index = self.tracks.len() as u32;
        self.tracks
            .push(Track::new(media, codec, track, stream_index));
        self.tracks.len() - 1
    }

    /// DTS jumps and backward steps. Returns the jump's delta when there was one.
    fn check_dts(
        &mut self,
        index: usize,
        frame: &Frame,
        nominal: Option<i64>,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) -> Option<i64> {
        let track = &mut self.tracks[index];
        let last = track.last_dts?;
        let step = frame.dts.saturating_sub(last);
        let delta = step.saturating_sub(nominal.unwrap_or(0));
        if delta.saturating_abs() >= self.config.jump_ms {
            if delta < 0 {
                // Fold the jump out of the DTS statistics clock: it goes on from
                // where this frame was due.
                track.stats_shift = track.stats_shift.saturating_sub(delta);
            }
            track.break_gop();
            let kind = EventKind::DtsJump {
                delta_ms: delta,
                step_ms: step,
            };
            self.event_for_track(index, kind, frame.dts, pos, arrival);
            return Some(delta);
        }
        if step < 0 {
            let kind = EventKind::NonMonotonicDts { step_ms: step };
            self.event_for_track(index, kind, frame.dts, pos, arrival);
        } else {
            track.regular_step(step);
        }
        None
    }

    fn check_stall(
        &mut self,
        now: i64,
        frame: &Frame,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) {
        let Some(last) = self.last_arrival_us else {
            return;
        };
        let gap_ms = (now - last) / 1000;
        if gap_ms >= self.config.stall_ms {
            let kind = EventKind::Stall {
                duration_ms: gap_ms,
                ongoing: false,
            };
            self.event(kind, None, frame.dts, pos, arrival);
        }
    }

    fn check_gop(
        &mut self,
        index: usize,
        frame: &Frame,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) {
        let Some(gop) = self.tracks[index].gop_frame(frame.dts, frame.key) else {
            return;
        };
        if gop.gop_ms > self.config.gop_limit_ms {
            let kind = EventKind::GopOverLimit {
                gop_ms: gop.gop_ms,
                frames: gop.frames,
                limit_ms: self.config.gop_limit_ms,
            };
            self.event_for_track(index, kind, frame.dts, pos, arrival);
        }
        if let Some((from_ms, from_frames)) = gop.previous {
            if gop.gop_ms.saturating_sub(from_ms).saturating_abs() > self.config.gop_change_ms {
                let kind = EventKind::KeyframeIntervalChange {
                    from_ms,
                    to_ms: gop.gop_ms,
                    from_frames,
                    to_frames: gop.frames,
                };
                self.event_for_track(index, kind, frame.dts, pos, arrival);
            }
        }
    }

    fn finish_gops(&mut self) {
        for index in 0..self.tracks.len() {
            let track = &self.tracks[index];
            let Some(last) = track.last_dts else { continue };
            if track.media != MediaType::Video {
                continue;
            }
            let frame = track.info.frame_rate.and_then(crate::nominal::frame_ms);
            let end = last.saturating_add(frame.unwrap_or(0));
            if let Some((gop_ms, frames)) = track.open_gop(end) {
                if gop_ms > self.config.gop_limit_ms {
                    let kind = EventKind::GopOverLimit {
                        gop_ms,
                        frames,
                        limit_ms: self.config.gop_limit_ms,
                    };
                    self.event_for_track(index, kind, last, None, None);
                }
            }
        }
    }

    fn check_lag(&mut self, now: i64, frame: &Frame, pos: Option<u64>, arrival: Option<Duration>) {
        let now_ms = now / 1000;
        let (arrival0, dts0) = *self.lag.origin.get_or_insert((now_ms, frame.dts));
        let lag = (now_ms - arrival0).saturating_sub(frame.dts.saturating_sub(dts0));
        let warming = now_ms - arrival0 < self.config.lag_warmup_ms;
        let reference = match self.lag.reference {
            Some(r) if warming => r.min(lag),
            Some(r) => r,
            None => lag,
        };
        self.lag.reference = Some(reference);
        let relative = lag.saturating_sub(reference);
        self.lag.last = Some(relative);
        if warming {
            self.lag.level = 0;
            return;
        }
        let change = relative.saturating_sub(self.lag.level);
        if change.saturating_abs() >= self.config.lag_ms {
            self.lag.level = relative;
            let kind = EventKind::ArrivalLag {
                lag_ms: relative,
                change_ms: change,
            };
            self.event(kind, None, frame.dts, pos, arrival);
        }
    }

    /// Audio/video drift: judged once per interval of DTS, on the smallest
    /// deviation through the interval, so interleaving and the moment between one
    /// track's jump and the other's do not count.
    fn check_drift(&mut self, frame: &Frame, jumped: Option<i64>) {
        let drift = &mut self.drift;
        match frame.media {
            MediaType::Video => drift.last_video = Some(frame.dts),
            MediaType::Audio => drift.last_audio = Some(frame.dts),
        }
        drift.jumped |= jumped.is_some();
        let (Some(video), Some(audio)) = (drift.last_video, drift.last_audio) else {
            return;
        };
        let value = video.saturating_sub(audio);
        let Some(start) = drift.window_start else {
            drift.window_start = Some(frame.dts);
            (drift.min, drift.max) = (value, value);
            return;
        };
        drift.min = drift.min.min(value);
        drift.max = drift.max.max(value);
        let elapsed = frame.dts.saturating_sub(start);
        if elapsed.saturating_abs() < self.config.interval_ms {
            return;
        }
        let (min, max, jumped) = (drift.min, drift.max, drift.jumped);
        drift.window_start = Some(frame.dts);
        (drift.min, drift.max, drift.jumped) = (value, value, false);
        if jumped {
            return;
        }
        let Some(reference) = drift.reference else {
            drift.reference = Some(min.saturating_add(max.saturating_sub(min) / 2));
            return;
        };
        let persistent = if min > reference {
            min.saturating_sub(reference)
        } else if max < reference {
            max.saturating_sub(reference)
        } else {
            0
        };
        if persistent.saturating_sub(drift.level).saturating_abs() >= self.config.drift_ms {
            drift.level = persistent;
            let kind = EventKind::AvDrift {
                drift_ms: persistent,
            };
            self.event(kind, None, frame.dts, None, None);
        }
    }

    fn count(&mut self, index: usize, frame: &Frame, pict_type: Option<crate::PictType>) {
        let summary = &mut self.tracks[index].summary;
        summary.frames += 1;
        summary.bytes += frame.data.len() as u64;
        summary.keyframes += u64::from(frame.key);
        summary.first_dts.get_or_insert(frame.dts);
        summary.last_dts = Some(frame.dts);
        if frame.media == MediaType::Video {
            let slot = match pict_type {
                Some(crate::PictType::I) => 0,
                Some(crate::PictType::P) => 1,
                Some(crate::PictType::B) => 2,
                Some(_) => 3,
                None => 4,
            };
            summary.pict_types[slot] += 1;
        }
    }

    fn queue_record(
        &mut self,
        index: usize,
        frame: &Frame,
        nominal: Option<i64>,
        pict_type: Option<crate::PictType>,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) {
        let track = &mut self.tracks[index];
        if let (Some(seq), Some(last)) = (track.pending, track.last_dts) {
            if let Some(slot) = seq
                .checked_sub(self.pending_base)
                .and_then(|i| self.pending.get_mut(i as usize))
            {
                slot.record.duration = Some(frame.dts.saturating_sub(last));
                slot.ready = true;
            }
        }
        track.pending = Some(self.next_seq);
        self.next_seq += 1;
        let (width, height) = track.info.size.unzip();
        self.pending.push_back(Slot {
            record: FrameRecord {
                media: frame.media,
                codec: frame.codec,
                track: frame.track,
                stream_index: track.stream_index,
                key: frame.key,
                dts: frame.dts,
                pts: frame.pts,
                duration: None,
                nominal_duration: nominal,
                size: u32::try_from(frame.data.len()).unwrap_or(u32::MAX),
                pos,
                pict_type,
                width,
                height,
                arrival,
            },
            ready: false,
        });
        while let Some(front) = self.pending.front() {
            if !front.ready && self.pending.len() <= self.config.max_reorder {
                break;
            }
            if let Some(slot) = self.pending.pop_front() {
                self.pending_base += 1;
                self.emit(Output::Frame(slot.record));
            }
        }
    }

    fn count_in_intervals(
        &mut self,
        index: usize,
        frame: &Frame,
        nominal: Option<i64>,
        jumped: Option<i64>,
        arrival_us: Option<i64>,
    ) {
        let bytes = frame.data.len() as u64;
        let stats_dts = frame.dts.saturating_add(self.tracks[index].stats_shift);
        let closed = &mut self.closed;
        if jumped.is_some_and(|delta| delta > 0) {
            // The intervals before a forward jump end early: not a frame rate.
            self.dts_windows.mark_open_discontinuous();
        }
        let interval = self
            .dts_windows
            .add(stats_dts, frame.media, bytes, frame.key, &mut |i| {
                closed.push(i)
            });
        if jumped.is_some() {
            interval.discontinuity = true;
        }
        if frame.media == MediaType::Video {
            let end = stats_dts.saturating_add(nominal.unwrap_or(0));
            self.video_end = Some(self.video_end.map_or(end, |e| e.max(end)));
            self.video_start_interval.get_or_insert(interval.start_ms);
        }
        if let (Some(now), Some(first)) = (arrival_us, self.first_arrival_us) {
            let lag = self.lag.last;
            let interval = self.arrival_windows.add(
                (now - first) / 1000,
                frame.media,
                bytes,
                frame.key,
                &mut |i| closed.push(i),
            );
            interval.lag_ms = match (interval.lag_ms, lag) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        self.drain_closed(false);
    }

    /// Sends closed intervals out, judging the frame rate of each DTS interval
    /// that video covered from start to end without a discontinuity.
    fn drain_closed(&mut self, at_end: bool) {
        let mut closed = std::mem::take(&mut self.closed);
        for interval in closed.drain(..) {
            if interval.base == TimeBase::Dts {
                self.check_fps(&interval, at_end);
            }
            self.emit(Output::Interval(interval));
        }
        self.closed = closed;
    }

    fn check_fps(&mut self, interval: &Interval, at_end: bool) {
        let covered = self
            .video_start_interval
            .is_some_and(|start| interval.start_ms > start)
            && (!at_end
                || self.video_end.is_some_and(|end| {
                    interval.start_ms.saturating_add(interval.duration_ms) <= end
                }));
        if !covered || interval.discontinuity || interval.partial {
            return;
        }
        let Some(nominal) = self
            .tracks
            .iter()
            .find(|t| t.media == MediaType::Video)
            .and_then(|t| t.nominal_fps(self.config.nominal_fps))
        else {
            return;
        };
        let fps = interval.video_fps();
        let one_frame = 1500.0 / interval.duration_ms as f64;
        let allowed = (nominal * self.config.fps_tolerance).max(one_frame);
        if (fps - nominal).abs() > allowed {
            let kind = EventKind::FpsUnstable {
                fps,
                nominal_fps: nominal,
                interval_start_ms: interval.start_ms,
            };
            // The interval's start is on the statistics clock already.
            self.shift_now = 0;
            self.event(kind, Some(MediaType::Video), interval.start_ms, None, None);
        }
    }

    fn event_for_track(
        &mut self,
        index: usize,
        kind: EventKind,
        dts: i64,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) {
        let track = &self.tracks[index];
        let event = Event {
            kind,
            media: Some(track.media),
            track: Some(track.track),
            stream_index: Some(track.stream_index),
            dts,
            timeline_ms: dts.saturating_add(track.stats_shift),
            pos,
            arrival,
        };
        self.push_out_event(event);
    }

    fn event(
        &mut self,
        kind: EventKind,
        media: Option<MediaType>,
        dts: i64,
        pos: Option<u64>,
        arrival: Option<Duration>,
    ) {
        let event = Event {
            kind,
            media,
            track: None,
            stream_index: None,
            dts,
            timeline_ms: dts.saturating_add(self.shift_now),
            pos,
            arrival,
        };
        self.push_out_event(event);
    }

    fn push_out_event(&mut self, event: Event) {
        self.event_counts[event.kind.index()] += 1;
        if let Some(interval) = self.dts_windows.newest() {
            interval.events += 1;
        }
        if event.arrival.is_some() {
            if let Some(interval) = self.arrival_windows.newest() {
                interval.events += 1;
            }
        }
        self.emit(Output::Event(event));
    }

    fn emit(&mut self, output: Output) {
        if self.out.len() >= self.config.max_queued {
            self.out.pop_front();
            self.dropped += 1;
        }
        self.out.push_back(output);
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
