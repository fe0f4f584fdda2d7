//! Ad breaks: [`Muxer::insert_ad_break`] and the `EXT-X-DATERANGE` tags with
//! SCTE-35 cues that mark their start and end.

use std::time::SystemTime;

use super::{to_ms, MuxError, Muxer};
use crate::playlist::DateRange;
use crate::scte35::SpliceInsert;
use crate::segmenter::seconds_to_ticks;

/// An ad break between [`Muxer::insert_ad_break`] and its end.
#[derive(Clone, Copy, Debug)]
pub(super) enum AdBreak {
    /// Asked for: it starts at the next key frame.
    Asked { id: u32, duration: i64 },
    /// Running since `start` (wall clock) and `origin` (output DTS): it ends
    /// at the first key frame from `origin + duration` on.
    Running {
        id: u32,
        start: SystemTime,
        origin: i64,
    },
}

impl Muxer {
    /// Starts an ad break of `seconds` at the next video key frame (any audio
    /// frame without video): that segment starts there and carries an
    /// `EXT-X-DATERANGE` with `PLANNED-DURATION` and `SCTE35-OUT` (a SCTE-35
    /// `splice_insert`, out of network, with the break's duration and the
    /// segment's presentation time). The break ends at the first key frame
    /// `seconds` later, which starts a segment whose `EXT-X-DATERANGE` (the
    /// same `ID`) has the real `DURATION` and `SCTE35-IN`. Returns the
    /// break's `splice_event_id`.
    ///
    /// Fails without a wall clock ([`set_clock`](Muxer::set_clock): the
    /// tags need dates), for a duration that is not 0.1 s to an hour, or
    /// while another break runs.
    pub fn insert_ad_break(&mut self, seconds: f64) -> Result<u32, MuxError> {
        let refuse = |expected| Err(MuxError::AdBreak { expected });
        if self.clock.is_none() {
            return refuse("a wall clock (Muxer::set_clock) for the tags' dates");
        }
        if !(0.1..=3600.0).contains(&seconds) {
            return refuse("a duration of 0.1 s to an hour");
        }
        if self.ad_break.is_some() {
            return refuse("the running break to end first");
        }
        let id = self.next_break_id;
        self.next_break_id = self.next_break_id.wrapping_add(1).max(1);
        let duration = seconds_to_ticks(seconds);
        self.ad_break = Some(AdBreak::Asked { id, duration });
        self.segmenter.schedule_cut(i64::MIN);
        Ok(id)
    }

    /// The tag of the ad break starting or ending at a cue cut, on the
    /// segment starting at `dts`/`pts` (output, 90 kHz) and dated `now`.
    pub(super) fn ad_break_tag(
        &mut self,
        now: SystemTime,
        dts: i64,
        pts: i64,
    ) -> Option<DateRange> {
        let pts33 = Some(pts.max(0) as u64 & ((1 << 33) - 1));
        match self.ad_break.take()? {
            AdBreak::Asked { id, duration } => {
                let mut range = DateRange::new(format!("break-{id}"), now);
                range.planned_duration_ms = Some(to_ms(duration).max(0) as u64);
                let out = SpliceInsert::out(id, pts33, Some(duration.max(0) as u64));
                range.scte35_out = Some(out.to_bytes());
                self.ad_break = Some(AdBreak::Running {
                    id,
                    start: now,
                    origin: dts,
                });
                self.segmenter.schedule_cut(dts.saturating_add(duration));
                Some(range)
            }
            AdBreak::Running { id, start, origin } => {
                let mut range = DateRange::new(format!("break-{id}"), start);
                range.duration_ms = Some(to_ms(dts.saturating_sub(origin)).max(0) as u64);
                range.scte35_in = Some(SpliceInsert::back_in(id, pts33).to_bytes());
                Some(range)
            }
        }
    }
}
