//! One fragment (`moof` + `mdat`), written by hand.
//!
//! This is the per-segment (and, with LL-HLS, per-part) hot path, so the
//! boxes are written straight into a reused buffer: the sizes of every box
//! are known from the sample counts before a byte is written, one pass checks
//! every value against the field that will hold it, and the second pass
//! cannot fail. The sample data is never copied: each sample's `Bytes` goes
//! to the output as its own slice after the header.
//!
//! Layout (ISO/IEC 14496-12 8.8), one `traf` per track with samples, in track
//! id order, and the `mdat` holding the tracks' runs in the same order (all
//! video samples, then all audio samples, as FFmpeg groups them):
//!
//! ```text
//! moof
//!   mfhd                 sequence_number
//!   traf
//!     tfhd  flags 0x020000 (default-base-is-moof), track_ID
//!     tfdt  version 1, baseMediaDecodeTime (64 bits)
//!     trun  version 1, flags 0x000F01: data_offset, then per sample
//!           duration, size, flags, signed composition offset
//! mdat
//! ```

use bytes::{BufMut as _, Bytes, BytesMut};

use super::init::TrackInfo;
use super::{rescale, Fmp4Error, Sample};
use crate::MediaKind;

/// `tfhd` flags: default-base-is-moof (offsets count from the `moof`'s first byte).
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// `trun` flags: data-offset, sample-duration, sample-size, sample-flags and
/// sample-composition-time-offset present.
const TRUN_FLAGS: u32 = 0x00_0001 | 0x00_0100 | 0x00_0200 | 0x00_0400 | 0x00_0800;

/// Sample flags of a sync sample: sample_depends_on = 2 (depends on no other
/// sample), sample_is_non_sync_sample = 0.
pub(crate) const SYNC_SAMPLE: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample: sample_depends_on = 1 (depends on
/// others), sample_is_non_sync_sample = 1.
pub(crate) const NON_SYNC_SAMPLE: u32 = 0x0101_0000;

const MFHD_SIZE: u64 = 16;
const TFHD_SIZE: u64 = 16;
const TFDT_SIZE: u64 = 20;
const TRUN_HEADER_SIZE: u64 = 20;
const TRUN_ENTRY_SIZE: u64 = 16;
const BOX_HEADER_SIZE: u64 = 8;

/// Per-track facts gathered by the checking pass.
#[derive(Clone, Copy, Default)]
struct Run {
    count: u32,
    bytes: u64,
    first_dts: i64,
    last_dts: i64,
    last_duration: u32,
}

impl Run {
    fn traf_size(&self) -> u64 {
        BOX_HEADER_SIZE
            + TFHD_SIZE
            + TFDT_SIZE
            + TRUN_HEADER_SIZE
            + TRUN_ENTRY_SIZE * u64::from(self.count)
    }
}

/// The duration of a sample from `dts` to `end` (90 kHz) in `timescale`
/// ticks: the difference of the converted times, so that summed durations
/// land exactly on the converted times.
fn duration(media: MediaKind, timescale: u32, dts: i64, end: i128) -> Result<u32, Fmp4Error> {
    let ticks = rescale(end, timescale) - rescale(dts.into(), timescale);
    u32::try_from(ticks).map_err(|_| Fmp4Error::DurationTooLong {
        media,
        dts,
        ticks: i64::try_from(ticks).unwrap_or(i64::MAX),
    })
}

fn composition_offset(timescale: u32, sample: &Sample) -> Result<i32, Fmp4Error> {
    let offset = rescale(sample.pts.into(), timescale) - rescale(sample.dts.into(), timescale);
    i32::try_from(offset).map_err(|_| Fmp4Error::CompositionOffsetOutOfRange {
        media: sample.media,
        dts: sample.dts,
        pts: sample.pts,
    })
}

fn too_large(what: &'static str, size: u64) -> Fmp4Error {
    Fmp4Error::FragmentTooLarge { what, size }
}

/// Writes the fragment of `samples` (see [`super::Fmp4Writer::fragment`]).
pub(crate) fn write(
    buf: &mut BytesMut,
    tracks: &[TrackInfo],
    sequence_number: u32,
    samples: &[Sample],
    out: &mut Vec<Bytes>,
) -> Result<usize, Fmp4Error> {
    if samples.is_empty() {
        return Err(Fmp4Error::EmptyFragment);
    }
    // Pass 1: count, size and check everything the header will hold.
    let mut runs = [Run::default(); 2];
    let runs = &mut runs[..tracks.len().min(2)];
    for sample in samples {
        let index =
            tracks
                .iter()
                .position(|t| t.media == sample.media)
                .ok_or(Fmp4Error::UnknownTrack {
                    media: sample.media,
                })?;
        let (track, run) = (&tracks[index], &mut runs[index]);
        let size = u32::try_from(sample.data.len()).map_err(|_| Fmp4Error::SampleTooLarge {
            media: sample.media,
            dts: sample.dts,
            size: sample.data.len(),
        })?;
        if run.count == 0 {
            if sample.dts < 0 {
                return Err(Fmp4Error::NegativeDecodeTime {
                    media: sample.media,
                    dts: sample.dts,
                });
            }
            run.first_dts = sample.dts;
        } else {
            if sample.dts < run.last_dts {
                return Err(Fmp4Error::DecodeTimeBackwards {
                    media: sample.media,
                    previous: run.last_dts,
                    dts: sample.dts,
                });
            }
            duration(
                sample.media,
                track.timescale,
                run.last_dts,
                sample.dts.into(),
            )?;
        }
        composition_offset(track.timescale, sample)?;
        run.count = run
            .count
            .checked_add(1)
            .ok_or(too_large("the trun sample count", u64::from(u32::MAX) + 1))?;
        run.bytes += u64::from(size);
        run.last_dts = sample.dts;
        run.last_duration = sample.duration;
    }
    for (track, run) in tracks.iter().zip(runs.iter()) {
        if run.count > 0 {
            let end = i128::from(run.last_dts) + i128::from(run.last_duration);
            duration(track.media, track.timescale, run.last_dts, end)?;
        }
    }
    let moof_size = BOX_HEADER_SIZE
        + MFHD_SIZE
        + runs
            .iter()
            .filter(|r| r.count > 0)
            .map(Run::traf_size)
            .sum::<u64>();
    let payload: u64 = runs.iter().map(|r| r.bytes).sum();
    let mdat_size = BOX_HEADER_SIZE + payload;
    let moof_size32 = u32::try_from(moof_size).map_err(|_| too_large("the moof", moof_size))?;
    let mdat_size32 = u32::try_from(mdat_size).map_err(|_| too_large("the mdat", mdat_size))?;
    let total = moof_size + mdat_size;
    let total_usize = usize::try_from(total).map_err(|_| too_large("the fragment", total))?;
    // Each track's data offset, from the moof's first byte to its first sample.
    let mut offsets = [0i32; 2];
    let mut offset = moof_size + BOX_HEADER_SIZE;
    for (run, slot) in runs.iter().zip(offsets.iter_mut()) {
        *slot = i32::try_from(offset).map_err(|_| too_large("a trun data offset", offset))?;
        offset += run.bytes;
    }

    // Pass 2: write. Every value was checked above.
    buf.clear();
    buf.reserve(usize::try_from(moof_size + BOX_HEADER_SIZE).unwrap_or(0));
    buf.put_u32(moof_size32);
    buf.put_slice(b"moof");
    buf.put_u32(MFHD_SIZE as u32);
    buf.put_slice(b"mfhd");
    buf.put_u32(0);
    buf.put_u32(sequence_number);
    for ((track, run), data_offset) in tracks.iter().zip(runs.iter()).zip(offsets) {
        if run.count == 0 {
            continue;
        }
        let timescale = track.timescale;
        buf.put_u32(run.traf_size() as u32);
        buf.put_slice(b"traf");

        buf.put_u32(TFHD_SIZE as u32);
        buf.put_slice(b"tfhd");
        buf.put_u32(TFHD_DEFAULT_BASE_IS_MOOF);
        buf.put_u32(track.track_id);

        buf.put_u32(TFDT_SIZE as u32);
        buf.put_slice(b"tfdt");
        buf.put_u32(1 << 24);
        let base = rescale(run.first_dts.into(), timescale);
        buf.put_u64(u64::try_from(base).unwrap_or(0));

        let trun_size = TRUN_HEADER_SIZE + TRUN_ENTRY_SIZE * u64::from(run.count);
        buf.put_u32(trun_size as u32);
        buf.put_slice(b"trun");
        buf.put_u32((1 << 24) | TRUN_FLAGS);
        buf.put_u32(run.count);
        buf.put_i32(data_offset);
        let mut pending: Option<&Sample> = None;
        for sample in samples.iter().filter(|s| s.media == track.media) {
            if let Some(previous) = pending {
                put_entry(buf, timescale, previous, sample.dts.into())?;
            }
            pending = Some(sample);
        }
        if let Some(last) = pending {
            let end = i128::from(last.dts) + i128::from(last.duration);
            put_entry(buf, timescale, last, end)?;
        }
    }
    buf.put_u32(mdat_size32);
    buf.put_slice(b"mdat");
    out.push(buf.split().freeze());
    for track in tracks {
        out.extend(
            samples
                .iter()
                .filter(|s| s.media == track.media && !s.data.is_empty())
                .map(|s| s.data.clone()),
        );
    }
    Ok(total_usize)
}

/// One `trun` entry: duration (to `end`, 90 kHz), size, flags, composition offset.
fn put_entry(
    buf: &mut BytesMut,
    timescale: u32,
    sample: &Sample,
    end: i128,
) -> Result<(), Fmp4Error> {
    buf.put_u32(duration(sample.media, timescale, sample.dts, end)?);
    buf.put_u32(sample.data.len() as u32);
    buf.put_u32(if sample.key {
        SYNC_SAMPLE
    } else {
        NON_SYNC_SAMPLE
    });
    buf.put_i32(composition_offset(timescale, sample)?);
    Ok(())
}
