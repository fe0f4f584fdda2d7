//! MPEG-DASH over the same fMP4 segments: a dynamic MPD and one
//! representation per track.
//!
//! The HLS segments stay the only media the muxer writes. DASH players want
//! each track on its own (dash.js does not play muxed representations), so
//! [`Dash`] keeps a timeline of the segments the muxer made and answers for
//! two kinds of names:
//!
//! - `dash-ID-P.mp4`: the init segment of representation `ID` (`video` or
//!   `audio`) in period `P`, a single-track `moov` built once per period;
//! - `dash-ID-P-TIME.m4s`: the track's part of the segment starting at
//!   `TIME` (its decode time, in the track's timescale), cut out of the muxed
//!   segment on request by [`track_segment`] with no copy of the media.
//!
//! The MPD ([`Dash::manifest`]) is `type="dynamic"`, one `SegmentTemplate`
//! with a `SegmentTimeline` per representation (the exact decode times and
//! durations read from the segments, so the timeline and the `tfdt`s agree
//! to the tick), `UTCTiming` with the server's clock, and the
//! `availabilityStartTime` fixed when the first segment is complete: a
//! segment is listed once it is, and is available then. When the stream ends
//! the MPD turns `static` with its `mediaPresentationDuration`, so a player
//! or FFmpeg reads it to the end.
//!
//! A discontinuity (new codec configuration, a publisher back after a gap)
//! starts a new period: its times need not follow the last one's, and the
//! wall clock has moved on. Only the current period is listed.
//!
//! The run loop, beside the muxer's: each [`Output::Init`](crate::Output)
//! → [`Dash::set_tracks`] with [`Muxer::tracks`](crate::Muxer::tracks);
//! [`Output::Segment`](crate::Output) → [`Dash::push_segment`] with the wall
//! clock; [`Output::Removed`](crate::Output) → [`Dash::remove`]; the end →
//! [`Dash::finish`].
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use hls_mux::dash::{Dash, DashFile};
//! # use hls_mux::{Format, Muxer, MuxerOptions, Output};
//! # let mut options = MuxerOptions::new(Format::Fmp4);
//! # options.target_duration = 1.0;
//! # let mut muxer = Muxer::new(options).unwrap();
//! # let config = hls_mux::TrackConfig::Aac(flv::config::AacConfig::parse(&[0x12, 0x10]).unwrap());
//! # muxer.set_config(config).unwrap();
//! # for n in 0..100 {
//! #     let dts = n * 2090;
//! #     let data = bytes::Bytes::from_static(&[0x21, 0x10, 0x04]);
//! #     muxer.push(hls_mux::Frame { media: hls_mux::MediaKind::Audio, dts, pts: dts, key: true, data }).unwrap();
//! # }
//! # muxer.finish().unwrap();
//! let mut dash = Dash::new();
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let mut segments = std::collections::HashMap::new();
//! while let Some(output) = muxer.poll_output() {
//!     match output {
//!         Output::Init { .. } => dash.set_tracks(muxer.tracks())?,
//!         Output::Segment { uri, data, discontinuity, .. } => {
//!             dash.push_segment(&uri, &data, discontinuity, now)?;
//!             segments.insert(uri, data);
//!         }
//!         Output::Removed { uris } => dash.remove(&uris),
//!         _ => {}
//!     }
//! }
//! dash.finish();
//! let mpd = dash.manifest(now).unwrap();
//! assert!(mpd.contains(r#"type="static""#));
//! let Some(DashFile::Media { segment, track_id }) = dash.file("dash-audio-0-0.m4s") else {
//!     panic!("the first audio segment");
//! };
//! let audio = hls_mux::dash::track_segment(&segments[&segment], track_id)?;
//! assert!(!audio.is_empty());
//! # Ok::<(), hls_mux::dash::DashError>(())
//! ```

mod mpd;
mod split;

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

pub use split::{track_segment, MAX_MOOF};

use crate::fmp4::{Fmp4Error, Fmp4Writer};
use crate::{MediaKind, TrackConfig, Tracks, CLOCK};

/// Segments a timeline keeps at most (an EVENT playlist's would grow for
/// ever; the oldest leave the MPD first).
pub const MAX_SEGMENTS: usize = 4096;

/// Why a segment could not be read or split.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DashError {
    /// The bytes end inside a box.
    #[error("truncated at byte {at}: expected {what}")]
    Truncated {
        /// Offset in the segment.
        at: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A box's size is below its header's or past its parent's end.
    #[error("box {kind:?} at byte {at} has size {size}, which does not fit")]
    BadBoxSize {
        /// Its type.
        kind: String,
        /// Offset in the segment.
        at: usize,
        /// Its size field.
        size: u64,
    },
    /// A box the muxer does not write where it was found.
    #[error("at byte {at}: expected {expected}, found {found:?}")]
    Unexpected {
        /// Offset in the segment.
        at: usize,
        /// What may be there.
        expected: &'static str,
        /// The box type found.
        found: String,
    },
    /// A box every fragment has is missing.
    #[error("a fragment has no {what}")]
    Missing {
        /// Which box.
        what: &'static str,
    },
    /// A layout the muxer does not write.
    #[error("at byte {at}: {what} is not supported")]
    Unsupported {
        /// Offset in the segment.
        at: usize,
        /// What was found.
        what: &'static str,
    },
    /// A track run's bytes are not inside the `mdat` after its `moof`.
    #[error("track {track_id}: {len} bytes at {offset} are outside the mdat")]
    RunOutsideMdat {
        /// The track.
        track_id: u32,
        /// Where the run starts in the segment.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// The segment has no sample of the track asked for.
    #[error("no sample of track {track_id} in the segment")]
    NoSamples {
        /// The track.
        track_id: u32,
    },
    /// A track's init segment could not be written.
    #[error("init segment: {0}")]
    Init(#[from] Fmp4Error),
    /// A segment came before [`Dash::set_tracks`] said what the tracks are.
    #[error("a segment came before the tracks were set")]
    NoTracks,
}

/// One representation: a track of the muxed stream.
#[derive(Clone, Debug)]
pub struct Representation {
    /// `video` or `audio` (the `id`, and the name of its files).
    pub id: &'static str,
    /// Its track kind.
    pub media: MediaKind,
    /// Its track id in the muxed segments.
    pub track_id: u32,
    /// Ticks per second of its times (90 kHz for video, the sample rate for
    /// audio, as in the muxed segments).
    pub timescale: u32,
    /// Its codec configuration.
    pub config: TrackConfig,
    /// Its single-track init segment.
    pub init: Bytes,
}

/// One track's span of one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    track_id: u32,
    /// Decode time of its first sample, in the track's timescale.
    start: u64,
    /// Sum of its sample durations.
    duration: u64,
    bytes: u64,
}

#[derive(Clone, Debug)]
struct Entry {
    /// The muxed segment's URI.
    uri: String,
    spans: Vec<Span>,
}

/// What a DASH file name asks for ([`Dash::file`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DashFile {
    /// An init segment, ready to send.
    Init(Bytes),
    /// Track `track_id`'s part of the muxed segment `segment`: send
    /// [`track_segment`] of it.
    Media {
        /// The muxed segment's URI.
        segment: String,
        /// The track in it.
        track_id: u32,
    },
}

/// The DASH timeline of one stream: see the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct Dash {
    tracks: Option<Tracks>,
    representations: Vec<Representation>,
    /// The current period's number (one more for each new period).
    period: u32,
    /// Whether the current period has had a segment (a new period starts on
    /// the next discontinuity or change of tracks).
    period_used: bool,
    /// The current period's start, from the availability start.
    period_start: Duration,
    /// Its first presentation time, 90 kHz (the representations'
    /// `presentationTimeOffset`, each in its timescale).
    origin: i64,
    availability_start: Option<SystemTime>,
    entries: VecDeque<Entry>,
    /// The longest segment seen, seconds.
    longest: f64,
    ended: bool,
}

impl Dash {
    /// An empty timeline.
    pub fn new() -> Dash {
        Dash::default()
    }

    /// The representations of the current period.
    pub fn representations(&self) -> &[Representation] {
        &self.representations
    }

    /// The muxer's tracks, at each of its init segments. New tracks start a
    /// new period.
    pub fn set_tracks(&mut self, tracks: &Tracks) -> Result<(), DashError> {
        if self.tracks.as_ref() == Some(tracks) {
            return Ok(());
        }
        let muxed = Fmp4Writer::new(tracks)?;
        let mut representations = Vec::new();
        for (id, media, config) in [
            ("video", MediaKind::Video, &tracks.video),
            ("audio", MediaKind::Audio, &tracks.audio),
        ] {
            let (Some(config), Some((track_id, timescale)), Some(single)) =
                (config, muxed.track(media), tracks.only(media))
            else {
                continue;
            };
            representations.push(Representation {
                id,
                media,
                track_id,
                timescale,
                config: config.clone(),
                init: Fmp4Writer::new(&single)?.init_segment(),
            });
        }
        self.new_period();
        self.tracks = Some(tracks.clone());
        self.representations = representations;
        Ok(())
    }

    fn new_period(&mut self) {
        if self.period_used {
            self.period += 1;
            self.period_used = false;
        }
        self.entries.clear();
    }

    /// A segment the muxer made (`Output::Segment`), complete at `now`.
    /// Fails when the segment cannot be read; the timeline is unchanged then.
    pub fn push_segment(
        &mut self,
        uri: &str,
        data: &[Bytes],
        discontinuity: bool,
        now: SystemTime,
    ) -> Result<(), DashError> {
        if self.representations.is_empty() {
            return Err(DashError::NoTracks);
        }
        let spans = self.spans(data)?;
        let Some(&first) = spans.first() else {
            return Ok(());
        };
        if discontinuity {
            self.new_period();
        }
        if !self.period_used {
            // The period starts at this segment's first time; the segment
            // was complete at `now`.
            let (start, duration) = self.seconds(&first);
            self.origin = (start * f64::from(CLOCK)).floor() as i64;
            let began = now
                .checked_sub(Duration::from_secs_f64(duration.max(0.0)))
                .unwrap_or(now);
            let availability_start = *self.availability_start.get_or_insert(began);
            self.period_start = began.duration_since(availability_start).unwrap_or_default();
            self.period_used = true;
        }
        for span in &spans {
            self.longest = self.longest.max(self.seconds(span).1);
        }
        self.ended = false;
        self.entries.push_back(Entry {
            uri: uri.to_owned(),
            spans,
        });
        while self.entries.len() > MAX_SEGMENTS {
            self.entries.pop_front();
        }
        Ok(())
    }

    /// Each representation's span of `data`, in representation order.
    fn spans(&self, data: &[Bytes]) -> Result<Vec<Span>, DashError> {
        let runs = split::runs_of(data)?;
        let mut spans = Vec::new();
        for representation in &self.representations {
            let mut mine = runs
                .iter()
                .filter(|r| r.track_id == representation.track_id);
            let Some(first) = mine.next() else {
                continue;
            };
            let mut span = Span {
                track_id: first.track_id,
                start: first.decode_time,
                duration: first.duration,
                bytes: first.data_len as u64,
            };
            for run in mine {
                span.duration = (run.decode_time + run.duration).saturating_sub(span.start);
                span.bytes += run.data_len as u64;
            }
            spans.push(span);
        }
        Ok(spans)
    }

    /// A span's start and duration in seconds.
    fn seconds(&self, span: &Span) -> (f64, f64) {
        let timescale = self.timescale(span.track_id);
        (
            span.start as f64 / timescale,
            span.duration as f64 / timescale,
        )
    }

    fn timescale(&self, track_id: u32) -> f64 {
        self.representations
            .iter()
            .find(|r| r.track_id == track_id)
            .map_or(f64::from(CLOCK), |r| f64::from(r.timescale))
    }

    /// Segments that left the live window (`Output::Removed`).
    pub fn remove(&mut self, uris: &[String]) {
        self.entries.retain(|e| !uris.contains(&e.uri));
    }

    /// The stream ended: the MPD turns static.
    pub fn finish(&mut self) {
        self.ended = true;
    }

    /// The MPD at `now`; `None` before the first segment.
    pub fn manifest(&self, now: SystemTime) -> Option<String> {
        if self.entries.is_empty() {
            return None;
        }
        Some(mpd::render(self, now))
    }

    /// What the file `name` is, if it is one of the current period's.
    pub fn file(&self, name: &str) -> Option<DashFile> {
        let rest = name.strip_prefix("dash-")?;
        let (id, rest) = rest.split_once('-')?;
        let representation = self.representations.iter().find(|r| r.id == id)?;
        if let Some(period) = rest.strip_suffix(".mp4") {
            return (number(period)? == u64::from(self.period))
                .then(|| DashFile::Init(representation.init.clone()));
        }
        let (period, time) = rest.strip_suffix(".m4s")?.split_once('-')?;
        if number(period)? != u64::from(self.period) {
            return None;
        }
        let time = number(time)?;
        let entry = self.entries.iter().find(|e| {
            e.spans
                .iter()
                .any(|s| s.track_id == representation.track_id && s.start == time)
        })?;
        Some(DashFile::Media {
            segment: entry.uri.clone(),
            track_id: representation.track_id,
        })
    }
}

/// Decimal digits only, at most 19 of them.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests;
