//! Constant frame rate from millisecond timestamps.
//!
//! RTMP and FLV carry timestamps in whole milliseconds, so a 30 fps encoder's
//! frames arrive 33, 33, 34 ms apart, and every MP4 written from them has
//! sample durations of 2970 and 3060 ticks (90 kHz): ISO BMFF tools, editors
//! and transcoders then see a variable frame rate where the encoder had a
//! constant one. [`FrameRateGrid`] recognises a stream whose timestamps are
//! a common frame rate rounded to milliseconds and puts them back on that
//! rate's exact grid (3000 ticks at 30 fps, 3003 at 29.97), never moving a
//! timestamp by more than a millisecond; a stream that does not fit (truly
//! variable, or a rate not on the list) passes through untouched.

use crate::media::Frame;

/// The frame periods recognised, 90 kHz ticks: 24, 25, 29.97, 30, 50 and
/// 60 fps (the rates whose period is a whole number of ticks; 23.976 and
/// 59.94 fps are not, and pass through).
const PERIODS: [i64; 6] = [3750, 3600, 3003, 3000, 1800, 1500];

/// How far a timestamp may be from the grid and still be on it: a
/// millisecond (the rounding of the source's clock, plus the anchor's own).
const TOLERANCE: i64 = 90;

/// How many frames in a row must fit a rate before it is used: one second
/// at 30 fps, so a variable stream is not taken for a constant one by luck.
const LOCK_FRAMES: u32 = 30;

/// Puts video timestamps that are a constant frame rate rounded to
/// milliseconds on that rate's exact grid.
///
/// Each frame's decode time is compared with the grid of every candidate
/// rate anchored at the first frame of the current run. Once
/// [`LOCK_FRAMES`] frames in a row fit one rate (a dropped frame is a
/// skipped grid point, which still fits), decode times are moved onto the
/// grid, and presentation times too when they fit it (B-frames' composition
/// offsets are whole frames); a presentation time that does not fit keeps
/// its offset from the decode time. The first frame that does not fit ends
/// the run: it passes through as it came and anchors a new one. So no
/// timestamp moves by more than [`TOLERANCE`], and decode order is kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct FrameRateGrid {
    /// The first decode time of the current run, and the last frame's index
    /// on each candidate grid (`None`: that candidate no longer fits).
    run: Option<Run>,
}

#[derive(Clone, Debug)]
struct Run {
    anchor: i64,
    last: [Option<i64>; PERIODS.len()],
    fitted: u32,
}

impl Run {
    fn new(anchor: i64) -> Run {
        Run {
            anchor,
            last: [Some(0); PERIODS.len()],
            fitted: 1,
        }
    }

    /// The locked rate's period: once enough frames fitted, the one rate
    /// that still fits, not counting rates it is a multiple of (a 30 fps
    /// stream also fits 60 fps, every other grid point skipped). While two
    /// rates still fit (30 and 29.97 fps agree within a millisecond for
    /// about thirty frames), none.
    fn locked(&self) -> Option<i64> {
        if self.fitted < LOCK_FRAMES {
            return None;
        }
        let fitting: Vec<i64> = PERIODS
            .iter()
            .zip(&self.last)
            .filter(|(_, last)| last.is_some())
            .map(|(period, _)| *period)
            .collect();
        let mut rates = fitting
            .iter()
            .filter(|&&p| !fitting.iter().any(|&q| q != p && q % p == 0));
        match (rates.next(), rates.next()) {
            (Some(&period), None) => Some(period),
            _ => None,
        }
    }
}

/// The grid point of `period` from `anchor` nearest to `time`, if it is
/// within the tolerance: (index, time).
fn fit(anchor: i64, period: i64, time: i64) -> Option<(i64, i64)> {
    let offset = time.checked_sub(anchor)?;
    let index = offset.checked_add(period / 2)?.div_euclid(period);
    let point = anchor.checked_add(index.checked_mul(period)?)?;
    ((time - point).abs() <= TOLERANCE).then_some((index, point))
}

impl FrameRateGrid {
    /// A grid with no run yet.
    pub(crate) fn new() -> FrameRateGrid {
        FrameRateGrid::default()
    }

    /// The video frame with its timestamps on the grid when the run is
    /// locked; other frames (and audio) unchanged.
    pub(crate) fn apply(&mut self, frame: Frame) -> Frame {
        let run = match self.run.as_mut() {
            Some(run) => run,
            None => {
                self.run = Some(Run::new(frame.dts));
                return frame;
            }
        };
        let mut any = false;
        for (period, last) in PERIODS.iter().zip(run.last.iter_mut()) {
            let fits = last.and_then(|previous| {
                let (index, _) = fit(run.anchor, *period, frame.dts)?;
                (index > previous).then_some(index)
            });
            *last = fits;
            any |= fits.is_some();
        }
        if !any {
            self.run = Some(Run::new(frame.dts));
            return frame;
        }
        run.fitted = run.fitted.saturating_add(1);
        let Some(period) = run.locked() else {
            return frame;
        };
        let Some((_, dts)) = fit(run.anchor, period, frame.dts) else {
            return frame;
        };
        let pts = match fit(run.anchor, period, frame.pts) {
            Some((_, pts)) if pts >= dts => pts,
            _ => frame.pts.saturating_sub(frame.dts).saturating_add(dts),
        };
        Frame { dts, pts, ..frame }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::media::MediaKind;

    fn video(ms: i64, cts_ms: i64) -> Frame {
        Frame {
            media: MediaKind::Video,
            dts: ms * 90,
            pts: (ms + cts_ms) * 90,
            key: false,
            data: Bytes::new(),
        }
    }

    /// The decode-time steps after the grid, for frames at `times` (ms).
    fn steps(times: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut grid = FrameRateGrid::new();
        let out: Vec<Frame> = times.into_iter().map(|t| grid.apply(video(t, 0))).collect();
        out.windows(2).map(|w| w[1].dts - w[0].dts).collect()
    }

    #[test]
    fn thirty_fps_rounded_to_milliseconds_becomes_3000_ticks() {
        let steps = steps((0..300).map(|i| (i * 1000 + 15) / 30));
        // Before the lock, the source's own steps; after it, exactly 3000.
        assert!(
            steps[LOCK_FRAMES as usize..].iter().all(|&s| s == 3000),
            "{steps:?}"
        );
    }

    #[test]
    fn ntsc_rates_and_dropped_frames_stay_on_the_grid() {
        // 29.97 fps (33.367 ms), frame 100 dropped.
        let times = (0..300)
            .filter(|&i| i != 100)
            .map(|i| (i * 1_001_000 + 15_000) / 30_000);
        let steps = steps(times);
        let after: Vec<i64> = steps[LOCK_FRAMES as usize..].to_vec();
        assert!(after.iter().all(|&s| s == 3003 || s == 6006), "{after:?}");
        assert_eq!(after.iter().filter(|&&s| s == 6006).count(), 1);
    }

    #[test]
    fn a_variable_stream_passes_through_and_nothing_moves_more_than_a_millisecond() {
        // Steps of 30-37 ms, as a screen capture at a variable rate sends.
        let mut t = 0;
        let times: Vec<i64> = (0..300)
            .map(|i| {
                t += 30 + (i * 7 % 8);
                t
            })
            .collect();
        let mut grid = FrameRateGrid::new();
        for &ms in &times {
            let out = grid.apply(video(ms, 0));
            assert!((out.dts - ms * 90).abs() <= TOLERANCE);
        }
        let passed: Vec<i64> = steps(times.iter().copied());
        let source: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]) * 90).collect();
        assert_eq!(passed, source);
    }

    #[test]
    fn b_frame_offsets_land_on_the_grid_and_order_is_kept() {
        let mut grid = FrameRateGrid::new();
        let mut last_dts = i64::MIN;
        for i in 0..200i64 {
            let dts = (i * 1000 + 15) / 30;
            let pts = ((i + 2) * 1000 + 15) / 30; // two frames of delay
            let out = grid.apply(video(dts, pts - dts));
            assert!(out.dts > last_dts);
            last_dts = out.dts;
            assert!((out.pts - pts * 90).abs() <= TOLERANCE, "frame {i}");
            if i >= i64::from(LOCK_FRAMES) {
                assert_eq!(out.pts - out.dts, 6000, "frame {i}");
            }
        }
    }

    #[test]
    fn a_jump_starts_a_new_run() {
        let mut times: Vec<i64> = (0..100).map(|i| (i * 1000 + 15) / 30).collect();
        times.extend((0..100).map(|i| 50_007 + (i * 1000 + 15) / 30));
        let steps = steps(times);
        assert_eq!(steps[99], (50_007 - 3300) * 90);
        assert!(steps[100 + LOCK_FRAMES as usize..]
            .iter()
            .all(|&s| s == 3000));
    }
}
