//! The fMP4/CMAF writer: init segment, `styp`, and `moof`/`mdat` fragments.
//!
//! HLS with fMP4 segments (and LL-HLS parts) needs three kinds of bytes:
//!
//! - the **init segment** ([`Fmp4Writer::init_segment`]): `ftyp` + `moov`
//!   with one track per configuration present (video id 1, audio id 2; an
//!   audio-only stream's track is id 1) and `mvex`, built with `mp4-atom`;
//! - the **`styp`** ([`Fmp4Writer::styp`]) that starts each media segment
//!   (brands `msdh`, `msix`, as FFmpeg's HLS muxer writes them);
//! - **fragments** ([`Fmp4Writer::fragment`]): `moof` + `mdat`, written by
//!   hand because they are the hot path. The header is one [`Bytes`]; each
//!   sample's data follows as its own slice, never copied.
//!
//! A single-file fragmented MP4 is the init segment followed by the fragments
//! (no `styp`); FFmpeg plays that back (see `tests/fmp4_ffmpeg.rs`).
//! [`FileWriter`] writes one with a `sidx` and an `mfra` so players can seek
//! in it.
//!
//! Timestamps come in on the 90 kHz [`CLOCK`]. Video tracks keep
//! it as their timescale; audio tracks use their sample rate, and every
//! *absolute* time is converted (rounded to nearest) before durations are taken
//! as differences of converted times, so no rounding error accumulates: the
//! sum of a track's durations always equals the converted distance between
//! its first and last times, and the next fragment's `tfdt` continues exactly.
//!
//! Everything is sans-IO: bytes out, no clock read.
//!
//! ```
//! use bytes::Bytes;
//! use flv::config::AacConfig;
//! use hls_mux::fmp4::{Fmp4Writer, Sample};
//! use hls_mux::{MediaKind, TrackConfig, Tracks};
//!
//! let aac = AacConfig::parse(&[0x12, 0x10]).unwrap(); // LC, 44.1 kHz, stereo
//! let tracks = Tracks { video: None, audio: Some(TrackConfig::Aac(aac)) };
//! let mut writer = Fmp4Writer::new(&tracks)?;
//! let mut file = vec![writer.init_segment()];
//! let frame = Sample {
//!     media: MediaKind::Audio,
//!     dts: 0,
//!     pts: 0,
//!     duration: 2090, // 1024 samples at 44.1 kHz, in 90 kHz ticks
//!     key: true,
//!     data: Bytes::from_static(&[0x21, 0x10, 0x04]),
//! };
//! let written = writer.fragment(1, &[frame], &mut file)?;
//! assert_eq!(written, file[1..].iter().map(Bytes::len).sum::<usize>());
//! # Ok::<(), hls_mux::fmp4::Fmp4Error>(())
//! ```

mod error;
mod file;
mod fragment;
pub(crate) mod init;

use bytes::{Bytes, BytesMut};

pub use error::Fmp4Error;
pub use file::{
    FileIndex, FileWriter, FragmentPlan, MAX_FRAGMENT_BYTES, MAX_FRAGMENT_SAMPLES, MIN_FRAGMENT,
};

use crate::{MediaKind, Tracks, CLOCK};

/// One sample for [`Fmp4Writer::fragment`].
///
/// Times are on the 90 kHz [`CLOCK`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Which track.
    pub media: MediaKind,
    /// Decoding timestamp, 90 kHz ticks.
    pub dts: i64,
    /// Presentation timestamp, 90 kHz ticks (`dts` for audio).
    pub pts: i64,
    /// How long the sample lasts, 90 kHz ticks. Within a fragment a sample's
    /// duration is taken as the distance to the next sample of its track, so
    /// decode times stay exactly those of the input; this value is used for
    /// the last sample of each track in the fragment.
    pub duration: u32,
    /// A sync sample (key frame; every audio frame).
    pub key: bool,
    /// The sample as MP4 stores it (see [`Frame::data`](crate::Frame::data)).
    pub data: Bytes,
}

/// Writes the init segment, `styp` and fragments of one stream.
#[derive(Debug)]
pub struct Fmp4Writer {
    tracks: Vec<init::TrackInfo>,
    init: Bytes,
    buf: BytesMut,
}

/// `styp` as FFmpeg's HLS fMP4 muxer writes it: major `msdh`, minor 0,
/// compatible `msdh msix` (ISO/IEC 14496-12 media segment brands).
const STYP: &[u8] = b"\x00\x00\x00\x18stypmsdh\x00\x00\x00\x00msdhmsix";

impl Fmp4Writer {
    /// A writer for `tracks`: builds the init segment once.
    ///
    /// Fails with [`Fmp4Error::NoTracks`] when `tracks` has neither video nor
    /// audio, and [`Fmp4Error::UnsupportedConfig`] for a configuration the
    /// init segment cannot describe (an audio track without a sample rate, a
    /// picture wider or higher than 65535, Opus with a channel mapping family
    /// other than 0).
    pub fn new(tracks: &Tracks) -> Result<Fmp4Writer, Fmp4Error> {
        let infos = init::track_infos(tracks)?;
        let init = init::init_segment(tracks, &infos)?;
        Ok(Fmp4Writer {
            tracks: infos,
            init,
            buf: BytesMut::new(),
        })
    }

    /// The init segment: `ftyp` (major `iso5`, compatible `iso5 iso6 mp41`,
    /// as FFmpeg's HLS fMP4 muxer writes it) and `moov`.
    pub fn init_segment(&self) -> Bytes {
        self.init.clone()
    }

    /// The `styp` box that starts each media segment.
    pub fn styp(&self) -> Bytes {
        Bytes::from_static(STYP)
    }

    /// The track id and timescale of `media`'s track, if the writer has one.
    pub fn track(&self, media: MediaKind) -> Option<(u32, u32)> {
        self.tracks
            .iter()
            .find(|t| t.media == media)
            .map(|t| (t.track_id, t.timescale))
    }

    /// Writes one fragment of `samples` (decode order, tracks interleaved):
    /// `moof` with `sequence_number`, then `mdat` holding each track's
    /// samples together, video first.
    ///
    /// Appends to `out` the header bytes (`moof` and the `mdat` header) as one
    /// [`Bytes`], then each non-empty sample's data as its own slice, and
    /// returns the number of bytes appended. On error nothing is appended.
    ///
    /// Fails on an empty `samples`, a sample of a track the writer does not
    /// have, a track whose first dts here is negative or whose dts goes
    /// backwards, and values that do not fit their fields (sample size,
    /// duration, composition offset, a 4 GiB `mdat`).
    pub fn fragment(
        &mut self,
        sequence_number: u32,
        samples: &[Sample],
        out: &mut Vec<Bytes>,
    ) -> Result<usize, Fmp4Error> {
        fragment::write(&mut self.buf, &self.tracks, sequence_number, samples, out)
    }
}

/// The track id the writer gives `media`'s track of `tracks` (video 1,
/// audio 2 beside video, else 1), without building the init segment;
/// `None` when there is no such track or the writer refuses `tracks`.
pub fn track_id(tracks: &Tracks, media: MediaKind) -> Option<u32> {
    let infos = init::track_infos(tracks).ok()?;
    infos.iter().find(|t| t.media == media).map(|t| t.track_id)
}

/// The duration in 90 kHz ticks that the fragment writer turns into
/// `track_ticks` ticks of `timescale` for a sample at `dts` (90 kHz): the
/// writer takes durations as differences of rescaled times, so the 90 kHz
/// value that gives, say, exactly 1024 ticks at 44.1 kHz depends on where
/// the sample starts. Above 90 kHz not every count is reachable; then the
/// next one up.
pub(crate) fn ticks_for_track_duration(timescale: u32, dts: i64, track_ticks: i64) -> i64 {
    if timescale == 0 {
        return 0;
    }
    let target = rescale(dts.into(), timescale) + i128::from(track_ticks);
    let clock = i128::from(CLOCK);
    let scale = i128::from(timescale);
    // The smallest t with rescale(t) >= target: t * timescale + clock / 2
    // >= target * clock.
    let numerator = target * clock - clock / 2;
    let end = numerator.div_euclid(scale) + i128::from(numerator.rem_euclid(scale) != 0);
    i64::try_from(end - i128::from(dts)).unwrap_or(0).max(0)
}

/// `ticks` (90 kHz) in `timescale`, rounded to nearest (halves up).
pub(crate) fn rescale(ticks: i128, timescale: u32) -> i128 {
    if timescale == CLOCK {
        return ticks;
    }
    let clock = i128::from(CLOCK);
    (ticks * i128::from(timescale) + clock / 2).div_euclid(clock)
}

#[cfg(test)]
mod tests;
