//! What the probe measures and when it speaks up: interval length and event thresholds.

use std::time::Duration;

use crate::Error;

/// Settings of a [`Probe`](crate::Probe): the statistics interval, each event's
/// threshold, and how much it may hold.
///
/// Defaults suit a live RTMP ingest: 1 s intervals, jumps of 1 s, stalls of 2 s,
/// lag changes of 1 s, ±10 % frame rate, 500 ms of audio/video drift, GOPs over 10 s.
///
/// ```
/// use std::time::Duration;
/// let config = media_probe::ProbeConfig::default()
///     .interval(Duration::from_secs(5))
///     .stall(Duration::from_millis(1500))
///     .gop_limit(Duration::from_secs(4));
/// assert_eq!(config.interval_ms(), 5000);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProbeConfig {
    /// Length of a statistics interval, ms (in DTS time and in arrival time).
    pub interval_ms: i64,
    /// A DTS step that differs from one frame duration by this much or more is a
    /// `dts_jump` (forward or backward), ms.
    pub jump_ms: i64,
    /// No frame at all for this long of arrival time is a `stall`, ms.
    pub stall_ms: i64,
    /// A change of the arrival lag (wall clock minus DTS) by this much is an
    /// `arrival_lag` event, ms.
    pub lag_ms: i64,
    /// The first this-many ms of arrival time set the lag reference (the smallest lag
    /// seen): a relay that sends its cached GOP in a burst is not a lag change.
    pub lag_warmup_ms: i64,
    /// An interval's video frame rate further than this fraction from the nominal
    /// rate (and by more than one frame) is `fps_unstable`.
    pub fps_tolerance: f64,
    /// The nominal frame rate; `None` takes it from the SPS timing or, failing that,
    /// from the DTS steps of the first frames.
    pub nominal_fps: Option<f64>,
    /// Audio and video DTS drifting apart by this much for a whole interval is `av_drift`, ms.
    pub drift_ms: i64,
    /// A GOP (key frame to key frame) longer than this is `gop_over_limit`, ms.
    pub gop_limit_ms: i64,
    /// A GOP differing from the one before by more than this is a
    /// `keyframe_interval_change`, ms.
    pub gop_change_ms: i64,
    /// Parse H.264/HEVC slice headers for the picture type (I/P/B).
    pub pict_type: bool,
    /// Emit a [`FrameRecord`](crate::FrameRecord) per frame (off: only intervals,
    /// events and the summary, as `--no-frames`).
    pub records: bool,
    /// `Frame::offset` is a byte position in the input (a file); off for live input.
    pub positions: bool,
    /// Outputs held for the caller at most; past it the oldest are dropped and counted
    /// ([`Summary::dropped_outputs`](crate::Summary::dropped_outputs)).
    pub max_queued: usize,
    /// Frame records held while waiting for the next DTS of their track (their
    /// duration) at most; past it the oldest goes out without a duration.
    pub max_reorder: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            interval_ms: 1000,
            jump_ms: 1000,
            stall_ms: 2000,
            lag_ms: 1000,
            lag_warmup_ms: 3000,
            fps_tolerance: 0.10,
            nominal_fps: None,
            drift_ms: 500,
            gop_limit_ms: 10_000,
            gop_change_ms: 100,
            pict_type: true,
            records: true,
            positions: true,
            max_queued: 1 << 16,
            max_reorder: 1024,
        }
    }
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl ProbeConfig {
    /// Sets the statistics interval.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval_ms = ms(interval);
        self
    }

    /// Sets the DTS jump threshold.
    pub fn jump(mut self, threshold: Duration) -> Self {
        self.jump_ms = ms(threshold);
        self
    }

    /// Sets the stall threshold.
    pub fn stall(mut self, threshold: Duration) -> Self {
        self.stall_ms = ms(threshold);
        self
    }

    /// Sets the arrival lag threshold.
    pub fn lag(mut self, threshold: Duration) -> Self {
        self.lag_ms = ms(threshold);
        self
    }

    /// Sets the audio/video drift threshold.
    pub fn drift(mut self, threshold: Duration) -> Self {
        self.drift_ms = ms(threshold);
        self
    }

    /// Sets the GOP length limit.
    pub fn gop_limit(mut self, limit: Duration) -> Self {
        self.gop_limit_ms = ms(limit);
        self
    }

    /// Turns picture type parsing on or off.
    pub fn pict_type(mut self, on: bool) -> Self {
        self.pict_type = on;
        self
    }

    /// Turns per-frame records on or off.
    pub fn records(mut self, on: bool) -> Self {
        self.records = on;
        self
    }

    /// Says whether frame offsets are byte positions (files) or not (live input).
    pub fn positions(mut self, on: bool) -> Self {
        self.positions = on;
        self
    }

    /// The statistics interval, ms.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// Checks every field: durations positive, the tolerance a fraction, the queues
    /// able to hold something.
    pub fn validate(&self) -> Result<(), Error> {
        let positive = [
            ("interval_ms", self.interval_ms),
            ("jump_ms", self.jump_ms),
            ("stall_ms", self.stall_ms),
            ("lag_ms", self.lag_ms),
            ("drift_ms", self.drift_ms),
            ("gop_limit_ms", self.gop_limit_ms),
        ];
        for (field, value) in positive {
            if value <= 0 {
                return Err(Error::InvalidConfig {
                    field,
                    reason: "must be positive",
                });
            }
        }
        if self.lag_warmup_ms < 0 || self.gop_change_ms < 0 {
            return Err(Error::InvalidConfig {
                field: "lag_warmup_ms/gop_change_ms",
                reason: "must not be negative",
            });
        }
        if !(self.fps_tolerance > 0.0 && self.fps_tolerance < 1.0) {
            return Err(Error::InvalidConfig {
                field: "fps_tolerance",
                reason: "must be a fraction between 0 and 1",
            });
        }
        if let Some(fps) = self.nominal_fps {
            if !(fps > 0.0 && fps <= 1000.0) {
                return Err(Error::InvalidConfig {
                    field: "nominal_fps",
                    reason: "must be between 0 and 1000",
                });
            }
        }
        if self.max_queued == 0 || self.max_reorder == 0 {
            return Err(Error::InvalidConfig {
                field: "max_queued/max_reorder",
                reason: "must be at least 1",
            });
        }
        Ok(())
    }
}
