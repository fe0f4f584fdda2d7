//! One track's segment out of a muxed fMP4 segment.
//!
//! The muxer writes each segment (and part) with one `moof` holding a `traf`
//! per track and one `mdat` holding the tracks' runs. DASH players want one
//! track per representation (dash.js refuses muxed ones), so a track's
//! segment is made from the muxed one on request: per fragment, a `moof`
//! with the `mfhd` and that track's `traf` (its `tfhd` track id set to 1,
//! the id of the single-track init segment, and its `trun` data offset set
//! to the new layout), then an `mdat` of the track's run. The media bytes
//! are slices of the muxed segment's own [`Bytes`], never copied: the live
//! window is held once, and a DASH viewer costs a few hundred header bytes
//! per fragment.
//!
//! The reader is bounded: every box must lie inside its parent, a `moof` is
//! at most [`MAX_MOOF`] bytes, every sample count is checked against the
//! bytes that would hold its entries, and nothing but `styp`, `emsg`,
//! `moof` and `mdat` may appear at the top level.

use bytes::{BufMut as _, Bytes, BytesMut};

use super::DashError;

/// The largest `moof` read (its entries are 16 bytes a sample: far more than
/// any segment of a live stream holds).
pub const MAX_MOOF: usize = 1 << 20;

/// `tfhd` flag: base-data-offset present (the muxer never writes it).
const TFHD_BASE_DATA_OFFSET: u32 = 0x00_0001;
const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x00_0002;
const TFHD_DEFAULT_DURATION: u32 = 0x00_0008;
const TFHD_DEFAULT_SIZE: u32 = 0x00_0010;
const TFHD_DEFAULT_FLAGS: u32 = 0x00_0020;
/// `tfhd` flag: offsets count from the `moof`'s first byte.
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
const TRUN_DATA_OFFSET: u32 = 0x00_0001;
const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x00_0004;
const TRUN_DURATION: u32 = 0x00_0100;
const TRUN_SIZE: u32 = 0x00_0200;
const TRUN_FLAGS: u32 = 0x00_0400;
const TRUN_COMPOSITION: u32 = 0x00_0800;

/// The segment's bytes as one sequence over its pieces.
struct Pieces<'a> {
    data: &'a [Bytes],
    /// The offset of each piece's first byte.
    starts: Vec<usize>,
    len: usize,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [Bytes]) -> Pieces<'a> {
        let mut starts = Vec::with_capacity(data.len());
        let mut len = 0;
        for piece in data {
            starts.push(len);
            len += piece.len();
        }
        Pieces { data, starts, len }
    }

    /// The piece holding byte `at`, and `at`'s offset in it.
    fn locate(&self, at: usize) -> (usize, usize) {
        let index = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
        (index, at - self.starts[index])
    }

    /// `len` bytes from `at`, copied (`at + len <= self.len`).
    fn copy(&self, at: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let (mut index, mut offset) = self.locate(at);
        while out.len() < len {
            let piece = &self.data[index];
            let take = (piece.len() - offset).min(len - out.len());
            out.extend_from_slice(&piece[offset..offset + take]);
            (index, offset) = (index + 1, 0);
        }
        out
    }

    /// `len` bytes from `at` as slices of the pieces (no copy).
    fn slices(&self, at: usize, len: usize, out: &mut Vec<Bytes>) {
        let mut left = len;
        if left == 0 {
            return;
        }
        let (mut index, mut offset) = self.locate(at);
        while left > 0 {
            let piece = &self.data[index];
            let take = (piece.len() - offset).min(left);
            if take > 0 {
                out.push(piece.slice(offset..offset + take));
            }
            left -= take;
            (index, offset) = (index + 1, 0);
        }
    }

    /// The box header at `at`: its type and total size, checked to end by `end`.
    fn header(&self, at: usize, end: usize) -> Result<([u8; 4], usize), DashError> {
        if end - at < 8 {
            return Err(DashError::Truncated {
                at,
                what: "a box header",
            });
        }
        let head = self.copy(at, 8);
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        if size < 8 || size > end - at {
            return Err(DashError::BadBoxSize {
                kind: box_name(kind),
                at,
                size: size as u64,
            });
        }
        Ok((kind, size))
    }
}

fn box_name(kind: [u8; 4]) -> String {
    String::from_utf8_lossy(&kind).into_owned()
}

/// What a segment is made of, in order.
enum Piece {
    /// `styp` (or another box every track's segment keeps as it is).
    Shared(Vec<Bytes>),
    /// `emsg`: timed metadata, left out (see [`track_segment`]).
    Event,
    /// One `moof` and its `mdat`.
    Fragment(Fragment),
}

struct Fragment {
    mfhd: Vec<u8>,
    trafs: Vec<Traf>,
}

/// One track's run in a fragment.
pub(crate) struct Traf {
    /// The `traf` box as written.
    bytes: Vec<u8>,
    pub(crate) track_id: u32,
    /// Where in `bytes` the `tfhd` track id and `trun` data offset are.
    track_id_at: usize,
    data_offset_at: usize,
    /// `tfdt`, in the track's timescale.
    pub(crate) decode_time: u64,
    /// The sum of the sample durations.
    pub(crate) duration: u64,
    /// The run's bytes in the `mdat` (slices of the segment).
    pub(crate) data: Vec<Bytes>,
    pub(crate) data_len: usize,
}

/// Reads `data` (a segment or part as the muxer wrote it).
fn read(data: &[Bytes]) -> Result<Vec<Piece>, DashError> {
    let pieces = Pieces::new(data);
    let mut out = Vec::new();
    let mut at = 0;
    while at < pieces.len {
        let (kind, size) = pieces.header(at, pieces.len)?;
        match &kind {
            b"styp" | b"emsg" => {
                out.push(match &kind {
                    b"emsg" => Piece::Event,
                    _ => {
                        let mut bytes = Vec::new();
                        pieces.slices(at, size, &mut bytes);
                        Piece::Shared(bytes)
                    }
                });
            }
            b"moof" => {
                if size > MAX_MOOF {
                    return Err(DashError::BadBoxSize {
                        kind: "moof".into(),
                        at,
                        size: size as u64,
                    });
                }
                let moof = pieces.copy(at, size);
                let mdat_at = at + size;
                let (mdat_kind, mdat_size) = pieces.header(mdat_at, pieces.len)?;
                if &mdat_kind != b"mdat" {
                    return Err(DashError::Unexpected {
                        at: mdat_at,
                        expected: "mdat after moof",
                        found: box_name(mdat_kind),
                    });
                }
                let payload = (mdat_at + 8)..(mdat_at + mdat_size);
                out.push(Piece::Fragment(fragment(&moof, at, payload, &pieces)?));
                at = mdat_at + mdat_size;
                continue;
            }
            _ => {
                return Err(DashError::Unexpected {
                    at,
                    expected: "styp, emsg or moof",
                    found: box_name(kind),
                })
            }
        }
        at += size;
    }
    Ok(out)
}

/// A box inside a copied-out box: its type and range.
type Child = ([u8; 4], std::ops::Range<usize>);

/// The boxes in `bytes[start..end]`: each one's type and range.
fn children(bytes: &[u8], start: usize, end: usize) -> Result<Vec<Child>, DashError> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        if end - at < 8 {
            return Err(DashError::Truncated {
                at,
                what: "a box header",
            });
        }
        let size = read_u32(bytes, at) as usize;
        let kind = [bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]];
        if size < 8 || size > end - at {
            return Err(DashError::BadBoxSize {
                kind: box_name(kind),
                at,
                size: size as u64,
            });
        }
        out.push((kind, at..at + size));
        at += size;
    }
    Ok(out)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A `moof` (copied out, `moof_at` its offset in the segment) and the
/// `mdat` payload range that follows it.
fn fragment(
    moof: &[u8],
    moof_at: usize,
    payload: std::ops::Range<usize>,
    pieces: &Pieces<'_>,
) -> Result<Fragment, DashError> {
    let mut mfhd = None;
    let mut trafs = Vec::new();
    for (kind, range) in children(moof, 8, moof.len())? {
        match &kind {
            b"mfhd" => mfhd = Some(moof[range].to_vec()),
            b"traf" => {
                let mut traf = track_run(&moof[range.clone()], moof_at + range.start)?;
                let start = moof_at + traf.data_offset;
                if start < payload.start || traf.data_len > payload.end.saturating_sub(start) {
                    return Err(DashError::RunOutsideMdat {
                        track_id: traf.run.track_id,
                        offset: start,
                        len: traf.data_len,
                    });
                }
                pieces.slices(start, traf.data_len, &mut traf.run.data);
                traf.run.data_len = traf.data_len;
                trafs.push(traf.run);
            }
            _ => {}
        }
    }
    let mfhd = mfhd.ok_or(DashError::Missing { what: "mfhd" })?;
    Ok(Fragment { mfhd, trafs })
}

/// A `traf` read, before its run's bytes are taken.
struct ReadTraf {
    run: Traf,
    /// The run's offset from the `moof`'s first byte, and its length.
    data_offset: usize,
    data_len: usize,
}

/// Reads a `traf` (`at`: its offset in the segment, for errors).
fn track_run(traf: &[u8], at: usize) -> Result<ReadTraf, DashError> {
    let mut tfhd = None;
    let mut tfdt = None;
    let mut trun = None;
    for (kind, range) in children(traf, 8, traf.len())? {
        match &kind {
            b"tfhd" => tfhd = Some(range),
            b"tfdt" => tfdt = Some(range),
            b"trun" if trun.is_some() => {
                return Err(DashError::Unsupported {
                    at,
                    what: "a traf with two truns",
                })
            }
            b"trun" => trun = Some(range),
            _ => {}
        }
    }
    let tfhd = tfhd.ok_or(DashError::Missing { what: "tfhd" })?;
    let tfdt = tfdt.ok_or(DashError::Missing { what: "tfdt" })?;
    let trun = trun.ok_or(DashError::Missing { what: "trun" })?;
    let defaults = track_header(traf, tfhd.clone(), at)?;
    let decode_time = decode_time(traf, tfdt, at)?;
    let run = runs(traf, trun, &defaults, at)?;
    Ok(ReadTraf {
        run: Traf {
            bytes: traf.to_vec(),
            track_id: defaults.track_id,
            track_id_at: tfhd.start + 12,
            data_offset_at: run.data_offset_at,
            decode_time,
            duration: run.duration,
            data: Vec::new(),
            data_len: 0,
        },
        data_offset: run.data_offset,
        data_len: run.data_len,
    })
}

struct Defaults {
    track_id: u32,
    duration: Option<u32>,
    size: Option<u32>,
}

fn track_header(
    traf: &[u8],
    range: std::ops::Range<usize>,
    at: usize,
) -> Result<Defaults, DashError> {
    let body = &traf[range];
    if body.len() < 16 {
        return Err(DashError::Truncated { at, what: "tfhd" });
    }
    let flags = read_u32(body, 8) & 0x00FF_FFFF;
    if flags & TFHD_BASE_DATA_OFFSET != 0 || flags & TFHD_DEFAULT_BASE_IS_MOOF == 0 {
        return Err(DashError::Unsupported {
            at,
            what: "a tfhd without default-base-is-moof",
        });
    }
    let track_id = read_u32(body, 12);
    let mut next = 16;
    let mut field = |present: bool| -> Result<Option<u32>, DashError> {
        if !present {
            return Ok(None);
        }
        if body.len() < next + 4 {
            return Err(DashError::Truncated { at, what: "tfhd" });
        }
        next += 4;
        Ok(Some(read_u32(body, next - 4)))
    };
    field(flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0)?;
    let duration = field(flags & TFHD_DEFAULT_DURATION != 0)?;
    let size = field(flags & TFHD_DEFAULT_SIZE != 0)?;
    field(flags & TFHD_DEFAULT_FLAGS != 0)?;
    Ok(Defaults {
        track_id,
        duration,
        size,
    })
}

fn decode_time(traf: &[u8], range: std::ops::Range<usize>, at: usize) -> Result<u64, DashError> {
    let body = &traf[range];
    match body.get(8) {
        Some(1) if body.len() >= 20 => {
            Ok(u64::from(read_u32(body, 12)) << 32 | u64::from(read_u32(body, 16)))
        }
        Some(0) if body.len() >= 16 => Ok(u64::from(read_u32(body, 12))),
        _ => Err(DashError::Truncated { at, what: "tfdt" }),
    }
}

struct Run {
    data_offset_at: usize,
    data_offset: usize,
    data_len: usize,
    duration: u64,
}

fn runs(
    traf: &[u8],
    range: std::ops::Range<usize>,
    defaults: &Defaults,
    at: usize,
) -> Result<Run, DashError> {
    let body = &traf[range.clone()];
    if body.len() < 16 {
        return Err(DashError::Truncated { at, what: "trun" });
    }
    let flags = read_u32(body, 8) & 0x00FF_FFFF;
    let count = read_u32(body, 12) as usize;
    if flags & TRUN_DATA_OFFSET == 0 {
        return Err(DashError::Unsupported {
            at,
            what: "a trun without a data offset",
        });
    }
    let mut next = 16;
    let data_offset_at = range.start + next;
    let data_offset = read_i32_at(body, next, at)?;
    next += 4;
    if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 {
        next += 4;
    }
    let fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION];
    let entry = 4 * fields.iter().filter(|&&f| flags & f != 0).count();
    if count.saturating_mul(entry) > body.len().saturating_sub(next) {
        return Err(DashError::Truncated {
            at,
            what: "trun entries",
        });
    }
    let (mut duration, mut data_len) = (0u64, 0usize);
    for _ in 0..count {
        let mut field = 0;
        let mut take = |flag: u32| {
            let value = (flags & flag != 0).then(|| read_u32(body, next + field));
            if value.is_some() {
                field += 4;
            }
            value
        };
        let sample_duration = take(TRUN_DURATION).or(defaults.duration);
        let sample_size = take(TRUN_SIZE).or(defaults.size);
        let (Some(sample_duration), Some(sample_size)) = (sample_duration, sample_size) else {
            return Err(DashError::Unsupported {
                at,
                what: "a sample without a duration or size",
            });
        };
        duration += u64::from(sample_duration);
        data_len = data_len.saturating_add(sample_size as usize);
        next += entry;
    }
    let data_offset = usize::try_from(data_offset).map_err(|_| DashError::Unsupported {
        at,
        what: "a negative data offset",
    })?;
    Ok(Run {
        data_offset_at,
        data_offset,
        data_len,
        duration,
    })
}

fn read_i32_at(body: &[u8], at: usize, box_at: usize) -> Result<i32, DashError> {
    if body.len() < at + 4 {
        return Err(DashError::Truncated {
            at: box_at,
            what: "trun",
        });
    }
    Ok(read_u32(body, at) as i32)
}

/// The runs of each track in `data`, fragment by fragment (for the
/// timeline: each track's first decode time and total duration).
pub(crate) fn runs_of(data: &[Bytes]) -> Result<Vec<Traf>, DashError> {
    let mut out = Vec::new();
    for piece in read(data)? {
        if let Piece::Fragment(fragment) = piece {
            out.extend(fragment.trafs);
        }
    }
    Ok(out)
}

/// Track `track_id`'s segment out of the muxed segment `data`: its
/// fragments re-written as single-track fragments of track 1, the `styp`
/// kept. `emsg` boxes (timed metadata) are left out: the MPD declares no
/// inband event stream, and a player has no use for an undeclared one.
/// Fails on bytes the muxer would not write, or when the track has no
/// sample in `data`.
pub fn track_segment(data: &[Bytes], track_id: u32) -> Result<Vec<Bytes>, DashError> {
    let mut out = Vec::new();
    let mut samples = false;
    for piece in read(data)? {
        match piece {
            Piece::Shared(bytes) => out.extend(bytes),
            Piece::Event => {}
            Piece::Fragment(fragment) => {
                let Some(traf) = fragment.trafs.into_iter().find(|t| t.track_id == track_id) else {
                    continue;
                };
                samples = true;
                out.push(single_track_header(&fragment.mfhd, &traf)?);
                out.extend(traf.data);
            }
        }
    }
    if !samples {
        return Err(DashError::NoSamples { track_id });
    }
    Ok(out)
}

/// `moof` (the `mfhd` and `traf`, track id 1, data offset to the new `mdat`)
/// and the `mdat` header.
fn single_track_header(mfhd: &[u8], traf: &Traf) -> Result<Bytes, DashError> {
    let moof_len = 8 + mfhd.len() + traf.bytes.len();
    let mdat_len = 8 + traf.data_len;
    let (Ok(moof_size), Ok(mdat_size)) = (u32::try_from(moof_len), u32::try_from(mdat_len)) else {
        return Err(DashError::Unsupported {
            at: 0,
            what: "a fragment past 4 GiB",
        });
    };
    let mut traf_bytes = traf.bytes.clone();
    traf_bytes[traf.track_id_at..traf.track_id_at + 4].copy_from_slice(&1u32.to_be_bytes());
    let offset = moof_size + 8;
    traf_bytes[traf.data_offset_at..traf.data_offset_at + 4].copy_from_slice(&offset.to_be_bytes());
    let mut out = BytesMut::with_capacity(moof_len + 8);
    out.put_u32(moof_size);
    out.put_slice(b"moof");
    out.put_slice(mfhd);
    out.put_slice(&traf_bytes);
    out.put_u32(mdat_size);
    out.put_slice(b"mdat");
    Ok(out.freeze())
}
