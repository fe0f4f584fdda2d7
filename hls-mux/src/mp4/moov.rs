//! `ftyp` + `moov` + the `mdat` header, built with `mp4-atom` from the
//! sample tables; the sample entries are the fMP4 writer's.

use bytes::Bytes;
use mp4_atom::{
    Co64, Ctts, Edts, Elst, ElstEntry, FixedPoint, Ftyp, Moov, Mvhd, Stco, Stsc, Stss, Stsz,
    StszSamples, Stts, Trak,
};

use super::table::Track;
use super::Mp4Error;
use crate::fmp4::init::{self, TrackInfo};
use crate::fmp4::{rescale, Fmp4Error};
use crate::{MediaKind, TrackConfig, CLOCK};

/// `mvhd` and edit list timescale, as FFmpeg writes it.
const MOVIE_TIMESCALE: u32 = 1000;

/// The track's timescale: 90 kHz for video (the input's clock, no
/// rounding), the sample rate for audio (durations exact in samples).
pub(super) fn timescale(config: &TrackConfig) -> Result<u32, Mp4Error> {
    match config.media() {
        MediaKind::Video => Ok(CLOCK),
        MediaKind::Audio => config.sample_rate().ok_or(Mp4Error::UnsupportedConfig {
            media: MediaKind::Audio,
            reason: "the sample rate is unknown or zero".to_owned(),
        }),
    }
}

/// Refuses at once what [`header`] could not write later.
pub(super) fn check_config(config: &TrackConfig) -> Result<(), Mp4Error> {
    let info = TrackInfo {
        media: config.media(),
        track_id: 1,
        timescale: timescale(config)?,
    };
    init::track(config, &info).map(drop).map_err(from_fmp4)
}

fn from_fmp4(error: Fmp4Error) -> Mp4Error {
    match error {
        Fmp4Error::UnsupportedConfig { media, reason } => {
            Mp4Error::UnsupportedConfig { media, reason }
        }
        other => Mp4Error::Encode(other.to_string()),
    }
}

/// `ftyp` as FFmpeg's `mp4` muxer writes it: major `isom`, minor 512,
/// compatible `isom iso2` plus the codec brand (`avc1`, `av01`) and `mp41`.
fn ftyp(tracks: &[&Track]) -> Ftyp {
    let mut compatible = vec![b"isom".into(), b"iso2".into()];
    for track in tracks {
        match track.configs.first() {
            Some(TrackConfig::Avc(_)) => compatible.push(b"avc1".into()),
            Some(TrackConfig::Av1(_)) => compatible.push(b"av01".into()),
            _ => {}
        }
    }
    compatible.push(b"mp41".into());
    Ftyp {
        major_brand: b"isom".into(),
        minor_version: 512,
        compatible_brands: compatible,
    }
}

/// Serializes the header for `tracks` (video first) before `media_len`
/// bytes of media data.
///
/// Chunk offsets depend on the `moov`'s own size, so the `moov` is encoded
/// once with offsets 0 (to learn its size: `stco` entries are fixed-width)
/// and once with the real offsets; `co64` replaces `stco` when the last
/// offset passes 4 GiB.
pub(super) fn header(tracks: &[&Track], media_len: u64) -> Result<Bytes, Mp4Error> {
    let mut moov = movie(tracks)?;
    let ftyp = encode(&ftyp(tracks))?;
    let mdat_header = mdat_header(media_len);
    let sized = encode(&moov)?;
    let base = (ftyp.len() + sized.len() + mdat_header.len()) as u64;
    let wide = base + media_len > u64::from(u32::MAX);
    for (trak, track) in moov.trak.iter_mut().zip(tracks) {
        let offsets = track.chunks.iter().map(|o| o + base);
        let stbl = &mut trak.mdia.minf.stbl;
        if wide {
            stbl.stco = None;
            stbl.co64 = Some(Co64 {
                entries: offsets.collect(),
            });
        } else {
            stbl.stco = Some(Stco {
                entries: offsets.map(|o| o as u32).collect(),
            });
        }
    }
    let moov = encode(&moov)?;
    // With co64 the moov grew: the offsets must be taken again from it.
    let base_now = (ftyp.len() + moov.len() + mdat_header.len()) as u64;
    if base_now != base {
        return header_wide(tracks, ftyp, mdat_header, base_now);
    }
    Ok([ftyp, moov, mdat_header].concat().into())
}

/// The second encoding when `co64` changed the `moov`'s size: offsets are
/// 64-bit now, so their values no longer change it.
fn header_wide(
    tracks: &[&Track],
    ftyp: Vec<u8>,
    mdat_header: Vec<u8>,
    base: u64,
) -> Result<Bytes, Mp4Error> {
    let mut moov = movie(tracks)?;
    for (trak, track) in moov.trak.iter_mut().zip(tracks) {
        let stbl = &mut trak.mdia.minf.stbl;
        stbl.stco = None;
        stbl.co64 = Some(Co64 {
            entries: track.chunks.iter().map(|o| o + base).collect(),
        });
    }
    let moov = encode(&moov)?;
    if (ftyp.len() + moov.len() + mdat_header.len()) as u64 != base {
        return Err(Mp4Error::Encode(
            "the moov's size changed between two encodings".to_owned(),
        ));
    }
    Ok([ftyp, moov, mdat_header].concat().into())
}

/// The `mdat` box header for `len` bytes of payload (the 64-bit form when
/// the box passes 4 GiB).
fn mdat_header(len: u64) -> Vec<u8> {
    if len + 8 <= u64::from(u32::MAX) {
        let mut out = ((len + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(b"mdat");
        out
    } else {
        let mut out = 1u32.to_be_bytes().to_vec();
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&(len + 16).to_be_bytes());
        out
    }
}

fn encode<T: mp4_atom::Encode>(atom: &T) -> Result<Vec<u8>, Mp4Error> {
    let mut out = Vec::new();
    init::encode(atom, &mut out).map_err(from_fmp4)?;
    Ok(out)
}

/// The `moov` with chunk offsets 0 (filled in by [`header`]).
fn movie(tracks: &[&Track]) -> Result<Moov, Mp4Error> {
    let start = tracks.iter().map(|t| t.min_pts).min().unwrap_or(0);
    let mut trak = Vec::with_capacity(tracks.len());
    let mut duration = 0;
    for (index, track) in tracks.iter().enumerate() {
        let info = TrackInfo {
            media: track.media,
            track_id: index as u32 + 1,
            timescale: track.timescale,
        };
        let (built, movie_duration) = track_box(track, &info, start)?;
        duration = duration.max(movie_duration);
        trak.push(built);
    }
    Ok(Moov {
        mvhd: Mvhd {
            timescale: MOVIE_TIMESCALE,
            duration,
            rate: FixedPoint::new(1, 0),
            volume: FixedPoint::new(1, 0),
            next_track_id: tracks.len() as u32 + 1,
            ..Default::default()
        },
        trak,
        ..Default::default()
    })
}

/// One `trak` and its duration in the movie timescale (edits included).
fn track_box(track: &Track, info: &TrackInfo, start: i64) -> Result<(Trak, u64), Mp4Error> {
    let first = track.configs.first().ok_or(Mp4Error::NoSamples)?;
    let mut trak = init::track(first, info).map_err(from_fmp4)?;
    let mut codecs = Vec::with_capacity(track.configs.len());
    for config in &track.configs {
        let (w, h) = config.resolution().unwrap_or((0, 0));
        let (w, h) = (w.min(65_535) as u16, h.min(65_535) as u16);
        codecs.push(init::sample_entry(config, info, w, h).map_err(from_fmp4)?);
    }
    let last = track.last_duration();
    let media_duration = track.last_time as u64 + u64::from(last);
    // ctts version 0: composition offsets shifted to be non-negative, as
    // FFmpeg does by default; the edit's media_time follows the shift.
    let shift = -track.min_offset.min(0);
    let ctts: Vec<_> = track
        .ctts
        .iter()
        .map(|e| mp4_atom::CttsEntry {
            sample_count: e.sample_count,
            sample_offset: e.sample_offset + shift,
        })
        .collect();
    let any_offset = ctts.iter().any(|e| e.sample_offset != 0);
    let mut stts = track.stts.clone();
    stts.push(mp4_atom::SttsEntry {
        sample_count: 1,
        sample_delta: last,
    });
    let media_time = (track.min_ct + shift).max(0) as u64;
    let end = (track.max_ct + shift) as u64 + u64::from(last);
    let edit = end.saturating_sub(media_time);
    // Rounded up, as FFmpeg does: an edit a fraction of a millisecond short
    // would make players trim the last frame's decoded samples.
    let edit_ms = rescale_up(edit, track.timescale, MOVIE_TIMESCALE);
    let delay_ms = (rescale(i128::from(track.min_pts - start), MOVIE_TIMESCALE)).max(0) as u64;
    let mut entries = Vec::with_capacity(2);
    if delay_ms > 0 {
        entries.push(ElstEntry {
            segment_duration: delay_ms,
            media_time: None,
            media_rate: FixedPoint::new(1, 0),
        });
    }
    entries.push(ElstEntry {
        segment_duration: edit_ms,
        media_time: Some(media_time),
        media_rate: FixedPoint::new(1, 0),
    });
    trak.edts = Some(Edts {
        elst: Some(Elst { entries }),
    });
    trak.tkhd.duration = delay_ms + edit_ms;
    trak.mdia.mdhd.duration = media_duration;
    let stbl = &mut trak.mdia.minf.stbl;
    stbl.stsd.codecs = codecs;
    stbl.stts = Stts { entries: stts };
    stbl.ctts = any_offset.then_some(Ctts { entries: ctts });
    stbl.stss = (track.sync.len() < track.count as usize).then(|| Stss {
        entries: track.sync.clone(),
    });
    stbl.stsc = Stsc {
        entries: track.stsc(),
    };
    stbl.stsz = Stsz {
        samples: StszSamples::Different {
            sizes: track.sizes.clone(),
        },
    };
    stbl.stco = Some(Stco {
        entries: vec![0; track.chunks.len()],
    });
    Ok((trak, delay_ms + edit_ms))
}

/// `value` ticks of `from` in `to`, rounded up.
fn rescale_up(value: u64, from: u32, to: u32) -> u64 {
    if from == 0 {
        return 0;
    }
    (u128::from(value) * u128::from(to)).div_ceil(u128::from(from)) as u64
}
