//! `EXT-X-PROGRAM-DATE-TIME` on the media timeline.
//!
//! A segment's date is not the wall clock when its first frame arrived: that
//! jitters with the network by tens of milliseconds, so the date of the
//! window's first segment would disagree with the dates its predecessors'
//! durations imply, and two renditions of one encoder would carry different
//! dates for the same frame. Shaka places every segment by its date (it
//! syncs streams by `EXT-X-PROGRAM-DATE-TIME` by default), and met a 0.1 s
//! gap switching between renditions dated by arrival.
//!
//! So the muxer anchors the media timeline to the wall clock once, at the
//! first segment (as FFmpeg's HLS muxer does), and dates every segment from
//! its presentation time on that anchor. It anchors afresh after a new
//! publisher ([`Muxer::restart`](super::Muxer::restart)), or when arrival
//! drifts more than [`DRIFT_LIMIT`] from the anchor (an encoder clock far
//! off). Renditions of one encoder share an anchor through
//! [`Muxer::suggest_clock_anchor`](super::Muxer::suggest_clock_anchor).

use std::time::{Duration, SystemTime};

use crate::media::CLOCK;

/// Where a stream's timeline meets the wall clock: the frame presented at
/// `pts` (the pushed frames' own timeline, 90 kHz) was live at `wall`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockAnchor {
    /// The wall-clock time of `pts`.
    pub wall: SystemTime,
    /// A presentation time on the timeline of the frames pushed (90 kHz).
    pub pts: i64,
}

impl ClockAnchor {
    /// The wall-clock time of `pts` on this anchor's timeline.
    pub fn date_of(&self, pts: i64) -> SystemTime {
        let ticks = pts.saturating_sub(self.pts);
        let nanos = i128::from(ticks) * 1_000_000_000 / i128::from(CLOCK);
        let offset = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX));
        let date = if nanos >= 0 {
            self.wall.checked_add(offset)
        } else {
            self.wall.checked_sub(offset)
        };
        date.unwrap_or(self.wall)
    }

    /// Whether this anchor dates `pts` within `limit` of `now`.
    fn agrees(&self, pts: i64, now: SystemTime, limit: Duration) -> bool {
        let date = self.date_of(pts);
        let apart = date
            .duration_since(now)
            .or_else(|_| now.duration_since(date))
            .unwrap_or(Duration::MAX);
        apart <= limit
    }
}

/// Arrival this far from the anchor's date re-anchors: more than any
/// encoder's send buffer (a publisher catching up after a stall sends
/// seconds of media early), less than a clock that is simply wrong.
pub const DRIFT_LIMIT: Duration = Duration::from_secs(10);

/// A suggested anchor is taken when it dates the first segment within this
/// of its arrival: renditions of one encoder arrive within milliseconds of
/// each other; two encoders started apart by more are not one timeline.
pub const ALIGN_LIMIT: Duration = Duration::from_secs(2);

/// The muxer's dating state, on its output timeline.
#[derive(Debug, Default)]
pub(super) struct ProgramDate {
    /// The anchor on the output timeline.
    anchor: Option<ClockAnchor>,
    /// Output minus input presentation time at the last anchoring.
    offset: i64,
    /// An anchor offered by a sibling rendition (input timeline).
    suggested: Option<ClockAnchor>,
}

impl ProgramDate {
    /// The date of a segment starting at output time `pts` (input time
    /// `pts - offset`), reached at wall-clock `now`.
    pub(super) fn date(&mut self, now: SystemTime, pts: i64, offset: i64) -> SystemTime {
        let kept = self
            .anchor
            .filter(|anchor| anchor.agrees(pts, now, DRIFT_LIMIT));
        let anchor = kept.unwrap_or_else(|| {
            let input = pts.saturating_sub(offset);
            let wall = self
                .suggested
                .filter(|s| s.agrees(input, now, ALIGN_LIMIT))
                .map_or(now, |s| s.date_of(input));
            ClockAnchor { wall, pts }
        });
        if kept.is_none() {
            self.offset = offset;
        }
        self.anchor = Some(anchor);
        anchor.date_of(pts)
    }

    /// The anchor on the input timeline, for siblings.
    pub(super) fn anchor(&self) -> Option<ClockAnchor> {
        self.anchor.map(|a| ClockAnchor {
            wall: a.wall,
            pts: a.pts.saturating_sub(self.offset),
        })
    }

    /// Offers `anchor` (input timeline) for the next anchoring.
    pub(super) fn suggest(&mut self, anchor: ClockAnchor) {
        self.suggested = Some(anchor);
    }

    /// A new publisher: its own timeline, anchored at its first segment.
    pub(super) fn forget(&mut self) {
        self.anchor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_800_000_000_000 + ms)
    }

    #[test]
    fn dates_follow_the_media_not_the_arrival_jitter() {
        let mut dates = ProgramDate::default();
        assert_eq!(dates.date(at(0), 0, 0), at(0));
        // Two seconds of media later, arriving 40 ms late: dated by media.
        assert_eq!(dates.date(at(2040), 180_000, 0), at(2000));
        assert_eq!(dates.date(at(3990), 360_000, 0), at(4000));
    }

    #[test]
    fn arrival_far_from_the_anchor_re_anchors() {
        let mut dates = ProgramDate::default();
        dates.date(at(0), 0, 0);
        // 2 s of media, 13 s of wall clock: beyond DRIFT_LIMIT.
        assert_eq!(dates.date(at(13_000), 180_000, 0), at(13_000));
        assert_eq!(dates.date(at(15_100), 360_000, 0), at(15_000));
    }

    #[test]
    fn a_restart_anchors_afresh() {
        let mut dates = ProgramDate::default();
        dates.date(at(0), 0, 0);
        dates.forget();
        // The output timeline continues at 4 s; the new publisher came 3 s later.
        assert_eq!(dates.date(at(7_000), 360_000, 360_000), at(7_000));
    }

    #[test]
    fn a_sibling_anchor_close_enough_is_shared_on_the_input_timeline() {
        let mut first = ProgramDate::default();
        first.date(at(0), 126_000, 126_000); // TS shift: input 0
        let anchor = first.anchor().expect("anchored");
        assert_eq!(
            anchor,
            ClockAnchor {
                wall: at(0),
                pts: 0
            }
        );
        let mut second = ProgramDate::default();
        second.suggest(anchor);
        // Its first segment starts at input 0 too, arriving 80 ms later.
        assert_eq!(second.date(at(80), 0, 0), at(0));
        // A sibling three seconds off is another encoder: not shared.
        let mut third = ProgramDate::default();
        third.suggest(anchor);
        assert_eq!(third.date(at(3_000), 0, 0), at(3_000));
    }

    #[test]
    fn dates_before_the_anchor_and_extremes_do_not_panic() {
        let anchor = ClockAnchor {
            wall: at(10_000),
            pts: 900_000,
        };
        assert_eq!(anchor.date_of(0), at(0));
        let _ = anchor.date_of(i64::MIN);
        let _ = anchor.date_of(i64::MAX);
        let mut dates = ProgramDate::default();
        let _ = dates.date(UNIX_EPOCH, i64::MIN, i64::MAX);
        let _ = dates.date(at(0), i64::MAX, i64::MIN);
    }
}
