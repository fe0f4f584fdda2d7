//! Per-interval statistics in two time bases: N seconds of DTS (what the encoder
//! stamped) and N seconds of arrival time (what the network delivered). Plotted
//! together they show where a stream's time went.
//!
//! Only a few intervals are open at once (the newest, plus two behind it in DTS
//! time for audio and video interleaved a little out of order); each goes out as
//! soon as it closes, so memory does not grow with the stream.

use std::collections::VecDeque;

use flv::MediaType;

/// Which clock an [`Interval`] is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeBase {
    /// Decoding timestamps (backward jumps folded so the axis keeps going forward;
    /// forward jumps leave empty intervals, as they should).
    Dts,
    /// Arrival time on the caller's clock (live input only).
    Arrival,
}

impl TimeBase {
    /// `dts` or `arrival`.
    pub fn name(self) -> &'static str {
        match self {
            TimeBase::Dts => "dts",
            TimeBase::Arrival => "arrival",
        }
    }
}

/// Frames and bytes of one media type in one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaCounts {
    /// Frames.
    pub frames: u32,
    /// Payload bytes.
    pub bytes: u64,
    /// Key frames.
    pub keyframes: u32,
}

/// The frames of N seconds, on one [`TimeBase`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Interval {
    /// The clock.
    pub base: TimeBase,
    /// Interval number from the first frame (intervals of a long gap are skipped, so
    /// numbers may jump).
    pub index: u64,
    /// Start, ms on that clock (DTS ms, or ms since the first arrival).
    pub start_ms: i64,
    /// Length, ms (the configured interval; the last one may be partial).
    pub duration_ms: i64,
    /// Video frames.
    pub video: MediaCounts,
    /// Audio frames.
    pub audio: MediaCounts,
    /// Events reported while this was the newest interval.
    pub events: u32,
    /// A DTS jump happened in it or it lies in a jump's gap (DTS intervals).
    pub discontinuity: bool,
    /// Closed early by the end of input.
    pub partial: bool,
    /// Arrival intervals: the largest arrival lag of its frames, ms.
    pub lag_ms: Option<i64>,
}

impl Interval {
    fn new(base: TimeBase, index: u64, start_ms: i64, duration_ms: i64) -> Interval {
        Interval {
            base,
            index,
            start_ms,
            duration_ms,
            video: MediaCounts::default(),
            audio: MediaCounts::default(),
            events: 0,
            discontinuity: false,
            partial: false,
            lag_ms: None,
        }
    }

    /// Video frames per second.
    pub fn video_fps(&self) -> f64 {
        self.per_second(f64::from(self.video.frames))
    }

    /// Audio frames per second.
    pub fn audio_fps(&self) -> f64 {
        self.per_second(f64::from(self.audio.frames))
    }

    /// Audio and video payload bits per second.
    pub fn bitrate(&self) -> f64 {
        self.per_second((self.video.bytes + self.audio.bytes) as f64 * 8.0)
    }

    /// All frames.
    pub fn frames(&self) -> u32 {
        self.video.frames + self.audio.frames
    }

    fn per_second(&self, value: f64) -> f64 {
        if self.duration_ms > 0 {
            value * 1000.0 / self.duration_ms as f64
        } else {
            0.0
        }
    }

    fn counts(&mut self, media: MediaType) -> &mut MediaCounts {
        match media {
            MediaType::Video => &mut self.video,
            MediaType::Audio => &mut self.audio,
        }
    }
}

/// Empty intervals emitted for one gap at most; a longer gap (a jump of hours)
/// skips the rest rather than flooding the output.
const MAX_GAP_INTERVALS: u64 = 120;

/// The open intervals of one clock.
#[derive(Debug)]
pub(crate) struct Windows {
    base: TimeBase,
    length: i64,
    /// Intervals kept open behind the newest.
    behind: usize,
    origin: Option<i64>,
    open: VecDeque<Interval>,
}

impl Windows {
    pub(crate) fn new(base: TimeBase, length: i64, behind: usize) -> Windows {
        Windows {
            base,
            length: length.max(1),
            behind,
            origin: None,
            open: VecDeque::with_capacity(behind + 2),
        }
    }

    /// Counts a frame at `time` (ms on this clock), closing the intervals it leaves
    /// behind into `closed`.
    pub(crate) fn add(
        &mut self,
        time: i64,
        media: MediaType,
        bytes: u64,
        key: bool,
        closed: &mut impl FnMut(Interval),
    ) -> &mut Interval {
        let interval = self.interval_at(time, closed);
        let counts = interval.counts(media);
        counts.frames += 1;
        counts.bytes += bytes;
        counts.keyframes += u32::from(key);
        interval
    }

    /// The open interval `time` falls in, opening (and closing) intervals as needed.
    /// Times before the oldest open interval count in it (late frames).
    fn interval_at(&mut self, time: i64, closed: &mut impl FnMut(Interval)) -> &mut Interval {
        let origin = *self.origin.get_or_insert(time);
        let index = u64::try_from(time.saturating_sub(origin).div_euclid(self.length)).unwrap_or(0);
        let newest = self.open.back().map(|i| i.index);
        match newest {
            None => self.open_interval(index, false),
            Some(newest) if index > newest => {
                let gap = index - newest - 1;
                for skipped in (newest + 1..index).take(MAX_GAP_INTERVALS as usize) {
                    self.open_interval(skipped, true);
                    self.close_behind(closed);
                }
                self.open_interval(index, gap > 0);
            }
            Some(_) => {}
        }
        self.close_behind(closed);
        let slot = self
            .open
            .iter()
            .rposition(|i| i.index <= index)
            .unwrap_or(0);
        &mut self.open[slot]
    }

    fn open_interval(&mut self, index: u64, gap: bool) {
        let origin = self.origin.unwrap_or(0);
        let start = origin.saturating_add((index as i64).saturating_mul(self.length));
        let mut interval = Interval::new(self.base, index, start, self.length);
        interval.discontinuity = gap;
        self.open.push_back(interval);
    }

    fn close_behind(&mut self, closed: &mut impl FnMut(Interval)) {
        while self.open.len() > self.behind + 1 {
            if let Some(interval) = self.open.pop_front() {
                closed(interval);
            }
        }
    }

    /// Marks every open interval as cut by a discontinuity.
    pub(crate) fn mark_open_discontinuous(&mut self) {
        for interval in &mut self.open {
            interval.discontinuity = true;
        }
    }

    /// The newest open interval.
    pub(crate) fn newest(&mut self) -> Option<&mut Interval> {
        self.open.back_mut()
    }

    /// Closes every interval at or before `time` (arrival clock ticks).
    pub(crate) fn close_until(&mut self, time: i64, closed: &mut impl FnMut(Interval)) {
        let Some(origin) = self.origin else { return };
        while let Some(front) = self.open.front() {
            if front.start_ms.saturating_add(self.length) > time {
                break;
            }
            let index = front.index;
            if let Some(interval) = self.open.pop_front() {
                closed(interval);
            }
            if self.open.is_empty() {
                // Keep the clock going through silence: open the next interval, or,
                // past a long silence, skip to the last ones before `time`.
                let target =
                    u64::try_from(time.saturating_sub(origin).div_euclid(self.length)).unwrap_or(0);
                let next = (index + 1).max(target.saturating_sub(MAX_GAP_INTERVALS));
                if next <= target {
                    self.open_interval(next, false);
                }
            }
        }
    }

    /// Closes everything: the end of input. The newest interval is partial when
    /// `end` (ms on this clock) falls inside it.
    pub(crate) fn finish(&mut self, end: Option<i64>, closed: &mut impl FnMut(Interval)) {
        let length = self.length;
        while let Some(mut interval) = self.open.pop_front() {
            if self.open.is_empty() {
                if let Some(end) = end {
                    let used = end.saturating_sub(interval.start_ms);
                    if used < length {
                        interval.partial = true;
                        interval.duration_ms = used.max(1);
                    }
                }
            }
            closed(interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(windows: &mut Windows, frames: &[(i64, MediaType)]) -> Vec<Interval> {
        let mut out = Vec::new();
        for &(time, media) in frames {
            windows.add(time, media, 100, false, &mut |i| out.push(i));
        }
        windows.finish(None, &mut |i| out.push(i));
        out
    }

    #[test]
    fn frames_land_in_their_interval_even_slightly_out_of_order() {
        let mut windows = Windows::new(TimeBase::Dts, 1000, 2);
        let v = MediaType::Video;
        let a = MediaType::Audio;
        let out = run(
            &mut windows,
            &[(0, v), (990, a), (1010, v), (980, a), (2100, v), (3100, v)],
        );
        let counts: Vec<_> = out
            .iter()
            .map(|i| (i.index, i.video.frames, i.audio.frames))
            .collect();
        assert_eq!(counts, [(0, 1, 2), (1, 1, 0), (2, 1, 0), (3, 1, 0)]);
        assert_eq!(out[0].bitrate(), 2400.0);
    }

    #[test]
    fn gaps_give_empty_intervals_marked_as_discontinuities_and_long_gaps_are_capped() {
        let mut windows = Windows::new(TimeBase::Dts, 1000, 0);
        let v = MediaType::Video;
        let out = run(&mut windows, &[(0, v), (3500, v)]);
        let shape: Vec<_> = out
            .iter()
            .map(|i| (i.index, i.frames(), i.discontinuity))
            .collect();
        assert_eq!(
            shape,
            [(0, 1, false), (1, 0, true), (2, 0, true), (3, 1, true)]
        );

        let mut windows = Windows::new(TimeBase::Dts, 1000, 0);
        let out = run(&mut windows, &[(0, v), (10_000_000, v)]);
        assert_eq!(out.len(), 2 + MAX_GAP_INTERVALS as usize);
        assert_eq!(out.last().map(|i| i.index), Some(10_000));
    }

    #[test]
    fn ticks_close_intervals_through_silence_and_finish_marks_the_partial_one() {
        let mut windows = Windows::new(TimeBase::Arrival, 1000, 0);
        let mut out = Vec::new();
        windows.add(0, MediaType::Audio, 1, true, &mut |i| out.push(i));
        windows.close_until(2500, &mut |i| out.push(i));
        assert_eq!(out.iter().map(|i| i.index).collect::<Vec<_>>(), [0, 1]);
        windows.finish(Some(2500), &mut |i| out.push(i));
        assert_eq!(out.len(), 3);
        assert!(out[2].partial);
        assert_eq!(out[2].duration_ms, 500);

        // Days of silence give a bounded number of empty intervals.
        let mut windows = Windows::new(TimeBase::Arrival, 1000, 0);
        let mut out = Vec::new();
        windows.add(0, MediaType::Audio, 1, true, &mut |i| out.push(i));
        windows.close_until(1 << 40, &mut |i| out.push(i));
        // The first interval, then the last ones before the time (that one is open).
        assert_eq!(out.len(), 1 + MAX_GAP_INTERVALS as usize);
    }
}
