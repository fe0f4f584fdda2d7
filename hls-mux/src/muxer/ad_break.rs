//! Ad breaks: [`Muxer::insert_ad_break`] and [`Muxer::insert_cue`], and the
//! `EXT-X-DATERANGE` tags with SCTE-35 cues that mark their start and end.

use std::time::SystemTime;

use super::{to_ms, MuxError, Muxer};
use crate::cue::Cue;
use crate::playlist::DateRange;
use crate::scte35::{SignalKind, SpliceInsert};
use crate::segmenter::seconds_to_ticks;

/// An ad break between its cue and its end.
#[derive(Clone, Debug)]
pub(super) enum AdBreak {
    /// Asked for: it starts at the first key frame from the scheduled cut.
    Asked {
        id: String,
        event_id: u32,
        duration: Option<i64>,
        /// The encoder's section, for `SCTE35-OUT` as sent.
        scte35: Option<Vec<u8>>,
    },
    /// Running since `start` (wall clock) and `origin` (output DTS): it
    /// ends at the scheduled cut (its duration, or an in cue).
    Running {
        id: String,
        event_id: u32,
        start: SystemTime,
        origin: i64,
        /// The in cue's section, once one came.
        scte35_in: Option<Vec<u8>>,
    },
}

impl AdBreak {
    fn event_id(&self) -> u32 {
        match self {
            AdBreak::Asked { event_id, .. } | AdBreak::Running { event_id, .. } => *event_id,
        }
    }
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
        if !(0.1..=3600.0).contains(&seconds) {
            return refuse("a duration of 0.1 s to an hour");
        }
        if self.ad_break.is_some() {
            return refuse("the running break to end first");
        }
        let id = self.next_break_id;
        let mut cue = Cue::out(id, Some(seconds_to_ticks(seconds)));
        cue.id = format!("break-{id}");
        self.insert_cue(cue)?;
        self.next_break_id = self.next_break_id.wrapping_add(1).max(1);
        Ok(id)
    }

    /// Ends the running ad break at the next key frame (before its
    /// duration is up), as an in cue for its event would; a break asked for
    /// that has not started yet is withdrawn. Returns its `splice_event_id`;
    /// fails when no break is asked for or running.
    pub fn end_ad_break(&mut self) -> Result<u32, MuxError> {
        let Some(event_id) = self.ad_break.as_ref().map(AdBreak::event_id) else {
            return refuse("a break asked for or running");
        };
        self.insert_cue(Cue::back_in(event_id))?;
        Ok(event_id)
    }

    /// Takes an ad cue ([`Cue`]: an application's, or an encoder's from
    /// [`Cue::from_script`]). An out cue starts a break at the first key
    /// frame at or after its splice time, as [`insert_ad_break`](Muxer::insert_ad_break)
    /// does, with the encoder's section as `SCTE35-OUT` when it sent one; it
    /// ends after its duration, or at the first key frame at or after the
    /// splice time of an in cue with the same event id (whose section, if
    /// any, becomes `SCTE35-IN`). A cancel withdraws a break not started
    /// yet. An out cue for the break already asked for or running (an
    /// encoder repeating it) and an in or cancel cue for another event
    /// change nothing.
    ///
    /// Fails without a wall clock, for a duration that is not 0.1 s to an
    /// hour, or for an out cue while another event's break runs.
    pub fn insert_cue(&mut self, cue: Cue) -> Result<(), MuxError> {
        if self.clock.is_none() {
            return refuse("a wall clock (Muxer::set_clock) for the tags' dates");
        }
        let same = self
            .ad_break
            .as_ref()
            .is_some_and(|b| b.event_id() == cue.event_id);
        match cue.kind {
            SignalKind::Out if same => Ok(()),
            SignalKind::Out => self.begin_break(cue),
            SignalKind::In if same => {
                let cut = self.cut_time(cue.at);
                match self.ad_break.take() {
                    Some(AdBreak::Running {
                        id,
                        event_id,
                        start,
                        origin,
                        ..
                    }) => {
                        self.ad_break = Some(AdBreak::Running {
                            id,
                            event_id,
                            start,
                            origin,
                            scte35_in: cue.scte35,
                        });
                        self.segmenter.schedule_cut(cut);
                    }
                    // Ended before it began: nothing to mark.
                    _ => self.segmenter.cancel_cut(),
                }
                Ok(())
            }
            SignalKind::Cancel if same => {
                if matches!(self.ad_break, Some(AdBreak::Asked { .. })) {
                    self.ad_break = None;
                    self.segmenter.cancel_cut();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn begin_break(&mut self, cue: Cue) -> Result<(), MuxError> {
        if self.ad_break.is_some() {
            return refuse("the running break to end first");
        }
        if cue
            .duration
            .is_some_and(|d| !(9_000..=3600 * i64::from(crate::CLOCK)).contains(&d))
        {
            return refuse("a duration of 0.1 s to an hour");
        }
        let cut = self.cut_time(cue.at);
        self.ad_break = Some(AdBreak::Asked {
            id: cue.id,
            event_id: cue.event_id,
            duration: cue.duration,
            scte35: cue.scte35,
        });
        self.segmenter.schedule_cut(cut);
        Ok(())
    }

    /// A splice time on the input timeline (`None`: now) on the
    /// segmenter's: the input's offset as of the last frame, without the
    /// output shift.
    fn cut_time(&self, at: Option<i64>) -> i64 {
        match at {
            None => i64::MIN,
            Some(at) => at
                .saturating_add(self.input_offset)
                .saturating_sub(self.shift.unwrap_or(0)),
        }
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
            AdBreak::Asked {
                id,
                event_id,
                duration,
                scte35,
            } => {
                let mut range = DateRange::new(id.clone(), now);
                range.planned_duration_ms = duration.map(|d| to_ms(d).max(0) as u64);
                let made = || {
                    let ticks = duration.map(|d| d.max(0) as u64);
                    SpliceInsert::out(event_id, pts33, ticks).to_bytes()
                };
                range.scte35_out = Some(scte35.unwrap_or_else(made));
                self.ad_break = Some(AdBreak::Running {
                    id,
                    event_id,
                    start: now,
                    origin: dts,
                    scte35_in: None,
                });
                if let Some(duration) = duration {
                    // `dts` is on the output timeline; the segmenter's has
                    // no shift (TS's 1.4 s: the end came that much late).
                    let start = dts.saturating_sub(self.shift.unwrap_or(0));
                    self.segmenter.schedule_cut(start.saturating_add(duration));
                }
                Some(range)
            }
            AdBreak::Running {
                id,
                event_id,
                start,
                origin,
                scte35_in,
            } => {
                let mut range = DateRange::new(id, start);
                range.duration_ms = Some(to_ms(dts.saturating_sub(origin)).max(0) as u64);
                let made = || SpliceInsert::back_in(event_id, pts33).to_bytes();
                range.scte35_in = Some(scte35_in.unwrap_or_else(made));
                Some(range)
            }
        }
    }
}

fn refuse<T>(expected: &'static str) -> Result<T, MuxError> {
    Err(MuxError::AdBreak { expected })
}
