//! The box walker: headers, the `moov`'s tracks and sample tables, the
//! `moof`s' runs. Every read is bounds-checked through [`Cursor`].

use std::io::{Read, Seek, SeekFrom};

use bytes::Bytes;
use flv::{Codec, MediaType};

use super::{invalid, Mp4Error, SampleRef, Samples, TrackInfo};

/// A bounds-checked reader over a box's payload; `base` is the payload's
/// offset in the file, for errors.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8], base: u64) -> Cursor<'a> {
        Cursor { data, at: 0, base }
    }

    fn offset(&self) -> u64 {
        self.base + self.at as u64
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Mp4Error> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(invalid("a box ends inside a field", self.offset()));
        };
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn skip(&mut self, n: usize) -> Result<(), Mp4Error> {
        self.bytes(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, Mp4Error> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Mp4Error> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Mp4Error> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, Mp4Error> {
        let hi = u64::from(self.u32()?);
        Ok((hi << 32) | u64::from(self.u32()?))
    }

    /// A `u32` (version 0) or `u64` (version 1) field.
    fn sized(&mut self, version: u8) -> Result<u64, Mp4Error> {
        if version == 1 {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }

    /// The version and flags of a full box.
    fn full(&mut self) -> Result<(u8, u32), Mp4Error> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00FF_FFFF))
    }

    fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.at..];
        self.at = self.data.len();
        out
    }

    /// A count of entries of `entry` bytes each, checked against what is
    /// left (so no allocation is sized by a lying count).
    fn count(&mut self, entry: usize) -> Result<usize, Mp4Error> {
        let at = self.offset();
        let n = self.u32()? as usize;
        if n.saturating_mul(entry) > self.data.len() - self.at {
            return Err(invalid(
                format!("a count of {n} entries past the box's end"),
                at,
            ));
        }
        Ok(n)
    }
}

/// The child boxes of a payload: (type, payload cursor).
fn children<'a>(c: Cursor<'a>) -> Result<Vec<([u8; 4], Cursor<'a>)>, Mp4Error> {
    let mut c = c;
    let mut out = Vec::new();
    while c.at + 8 <= c.data.len() {
        let start = c.offset();
        let mut size = u64::from(c.u32()?);
        let kind: [u8; 4] = c.bytes(4)?.try_into().unwrap_or([0; 4]);
        let mut header = 8;
        if size == 1 {
            size = c.u64()?;
            header = 16;
        } else if size == 0 {
            size = (c.data.len() - c.at + 8) as u64;
        }
        let body = size
            .checked_sub(header)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| invalid("a box smaller than its header", start))?;
        let payload = c.bytes(body)?;
        out.push((kind, Cursor::new(payload, c.offset() - body as u64)));
    }
    Ok(out)
}

fn child<'a>(c: Cursor<'a>, kind: &[u8; 4]) -> Result<Option<Cursor<'a>>, Mp4Error> {
    Ok(children(c)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, c)| c))
}

/// A top-level box header at `at`: type, header size, box size.
pub(crate) fn read_header(
    input: &mut (impl Read + Seek),
    at: u64,
    len: u64,
) -> Result<([u8; 4], u64, u64), Mp4Error> {
    let mut head = [0u8; 16];
    input.seek(SeekFrom::Start(at))?;
    let n = usize::try_from((len - at).min(16)).unwrap_or(16);
    input.read_exact(&mut head[..n])?;
    let kind: [u8; 4] = head[4..8].try_into().unwrap_or([0; 4]);
    let size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
    let (header, size) = match size {
        0 => (8, len - at),
        1 if n == 16 => (
            16,
            u64::from_be_bytes(head[8..16].try_into().unwrap_or([0; 8])),
        ),
        _ => (8, size),
    };
    if size < header {
        return Err(invalid("a box smaller than its header", at));
    }
    // A box running past the end (a truncated file) ends the walk there.
    Ok((kind, header, size.min(len - at)))
}

/// Sample sizes: one for all, or one each.
#[derive(Debug, Default)]
enum Sizes {
    #[default]
    None,
    Same(u32, usize),
    Each(Vec<u32>),
}

/// A track's boxes as read from the `moov`.
#[derive(Debug)]
pub(crate) struct TrackBox {
    pub(crate) info: TrackInfo,
    stts: Vec<(u32, u32)>,
    ctts: Vec<(u32, i32)>,
    stss: Option<Vec<u32>>,
    stsc: Vec<(u32, u32)>,
    sizes: Sizes,
    chunks: Vec<u64>,
    /// `trex`: default duration, size, flags.
    defaults: (u32, u32, u32),
    /// Where the next fragment's samples start without a `tfdt`.
    next_dts: i64,
}

/// The tracks of a `moov` (audio and video only).
pub(crate) fn parse_moov(body: &[u8], at: u64) -> Result<Vec<TrackBox>, Mp4Error> {
    let moov = Cursor::new(body, at + 8);
    let mut movie_timescale = 1000;
    let mut tracks = Vec::new();
    let mut trex = Vec::new();
    for (kind, mut c) in children(moov)? {
        match &kind {
            b"mvhd" => {
                let (version, _) = c.full()?;
                c.skip(if version == 1 { 16 } else { 8 })?;
                movie_timescale = c.u32()?.max(1);
            }
            b"trak" => tracks.extend(parse_trak(c)?),
            b"mvex" => {
                for (kind, mut c) in children(c)? {
                    if &kind == b"trex" {
                        c.full()?;
                        let id = c.u32()?;
                        c.u32()?;
                        trex.push((id, (c.u32()?, c.u32()?, c.u32()?)));
                    }
                }
            }
            _ => {}
        }
    }
    for (track, edits) in &mut tracks {
        track.info.shift = edit_shift(edits, movie_timescale, track.info.timescale);
        if let Some((_, d)) = trex.iter().find(|(id, _)| *id == track.info.id) {
            track.defaults = *d;
        }
    }
    if tracks.len() > usize::from(u8::MAX) {
        return Err(invalid("more than 255 tracks", at));
    }
    Ok(tracks.into_iter().map(|(t, _)| t).collect())
}

/// The first edit list as FFmpeg applies it: empty edits (media time -1)
/// delay the track, the first real edit's media time is skipped.
fn edit_shift(edits: &[(u64, i64)], movie_timescale: u32, timescale: u32) -> i64 {
    let mut delay = 0i128;
    for &(duration, media_time) in edits {
        if media_time < 0 {
            delay += i128::from(duration);
            continue;
        }
        let delay = delay * i128::from(timescale) / i128::from(movie_timescale);
        return i64::try_from(delay - i128::from(media_time)).unwrap_or(0);
    }
    0
}

type Edits = Vec<(u64, i64)>;

/// The entries of an `edts`'s `elst`: (segment duration, media time).
fn parse_edts(edts: Cursor<'_>) -> Result<Edits, Mp4Error> {
    let mut edits = Vec::new();
    if let Some(mut elst) = child(edts, b"elst")? {
        let (version, _) = elst.full()?;
        let n = elst.count(if version == 1 { 20 } else { 12 })?;
        for _ in 0..n {
            let duration = elst.sized(version)?;
            let time = elst.sized(version)?;
            // Signed: -1 is an empty edit.
            let time = if version == 1 {
                time as i64
            } else {
                i64::from(time as u32 as i32)
            };
            elst.skip(4)?;
            edits.push((duration, time));
        }
    }
    Ok(edits)
}

fn parse_trak(trak: Cursor<'_>) -> Result<Option<(TrackBox, Edits)>, Mp4Error> {
    let mut id = 0;
    let mut edits = Vec::new();
    let mut mdia = None;
    for (kind, mut c) in children(trak)? {
        match &kind {
            b"tkhd" => {
                let (version, _) = c.full()?;
                c.skip(if version == 1 { 16 } else { 8 })?;
                id = c.u32()?;
            }
            b"edts" => edits = parse_edts(c)?,
            b"mdia" => mdia = Some(c),
            _ => {}
        }
    }
    let Some(mdia) = mdia else { return Ok(None) };
    let (mut timescale, mut media) = (0, None);
    let mut stbl = None;
    for (kind, mut c) in children(mdia)? {
        match &kind {
            b"mdhd" => {
                let (version, _) = c.full()?;
                c.skip(if version == 1 { 16 } else { 8 })?;
                timescale = c.u32()?;
            }
            b"hdlr" => {
                c.full()?;
                c.skip(4)?;
                media = match c.bytes(4)? {
                    b"vide" => Some(MediaType::Video),
                    b"soun" => Some(MediaType::Audio),
                    _ => None,
                };
            }
            b"minf" => stbl = child(c, b"stbl")?,
            _ => {}
        }
    }
    let (Some(media), Some(stbl)) = (media, stbl) else {
        return Ok(None);
    };
    if timescale == 0 {
        return Err(invalid("a track with timescale 0", stbl.offset()));
    }
    let mut track = TrackBox {
        info: TrackInfo {
            id,
            media,
            codec: Codec::UnknownVideo(0),
            config: None,
            timescale,
            shift: 0,
            number: 0,
        },
        stts: Vec::new(),
        ctts: Vec::new(),
        stss: None,
        stsc: Vec::new(),
        sizes: Sizes::None,
        chunks: Vec::new(),
        defaults: (0, 0, 0),
        next_dts: 0,
    };
    parse_stbl(stbl, &mut track)?;
    Ok(Some((track, edits)))
}

fn parse_stbl(stbl: Cursor<'_>, track: &mut TrackBox) -> Result<(), Mp4Error> {
    for (kind, mut c) in children(stbl)? {
        match &kind {
            b"stsd" => {
                c.full()?;
                c.u32()?;
                if let Some((kind, entry)) = children(c)?.into_iter().next() {
                    let (codec, config) = describe(track.info.media, &kind, entry)?;
                    track.info.codec = codec;
                    track.info.config = config.map(Bytes::from);
                }
            }
            b"stts" => {
                c.full()?;
                let n = c.count(8)?;
                track.stts = (0..n)
                    .map(|_| Ok((c.u32()?, c.u32()?)))
                    .collect::<Result<_, Mp4Error>>()?;
            }
            b"ctts" => {
                c.full()?;
                let n = c.count(8)?;
                track.ctts = (0..n)
                    .map(|_| Ok((c.u32()?, c.u32()? as i32)))
                    .collect::<Result<_, Mp4Error>>()?;
            }
            b"stss" => {
                c.full()?;
                let n = c.count(4)?;
                track.stss = Some((0..n).map(|_| c.u32()).collect::<Result<_, _>>()?);
            }
            b"stsc" => {
                c.full()?;
                let n = c.count(12)?;
                track.stsc = (0..n)
                    .map(|_| {
                        let entry = (c.u32()?, c.u32()?);
                        c.u32()?;
                        Ok(entry)
                    })
                    .collect::<Result<_, Mp4Error>>()?;
            }
            b"stsz" => {
                c.full()?;
                let size = c.u32()?;
                let at = c.offset();
                let n = c.u32()? as usize;
                track.sizes = if size != 0 {
                    Sizes::Same(size, n)
                } else {
                    let mut c = Cursor::new(c.rest(), at + 4);
                    if n.saturating_mul(4) > c.data.len() {
                        return Err(invalid("stsz counts more sizes than it holds", at));
                    }
                    Sizes::Each((0..n).map(|_| c.u32()).collect::<Result<_, _>>()?)
                };
            }
            b"stco" => {
                c.full()?;
                let n = c.count(4)?;
                track.chunks = (0..n)
                    .map(|_| c.u32().map(u64::from))
                    .collect::<Result<_, _>>()?;
            }
            b"co64" => {
                c.full()?;
                let n = c.count(8)?;
                track.chunks = (0..n).map(|_| c.u64()).collect::<Result<_, _>>()?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The samples of the `moov`'s tables, appended to `samples`.
pub(crate) fn expand_tables(tracks: &[TrackBox], samples: &mut Samples) -> Result<(), Mp4Error> {
    for (index, track) in tracks.iter().enumerate() {
        let count = match &track.sizes {
            Sizes::None => 0,
            Sizes::Same(_, n) => *n,
            Sizes::Each(v) => v.len(),
        };
        samples.room(count)?;
        let mut deltas = track
            .stts
            .iter()
            .flat_map(|&(n, d)| std::iter::repeat_n(d, n as usize));
        let mut offsets = track
            .ctts
            .iter()
            .flat_map(|&(n, o)| std::iter::repeat_n(o, n as usize));
        let mut chunks = ChunkWalk::new(&track.stsc, &track.chunks);
        let (mut dts, mut sync_at) = (0i64, 0usize);
        for i in 0..count {
            let size = match &track.sizes {
                Sizes::Same(size, _) => *size,
                Sizes::Each(v) => v[i],
                Sizes::None => 0,
            };
            let Some(offset) = chunks.next(size) else {
                return Err(invalid(
                    format!("track {}: sample {} has no chunk", track.info.id, i + 1),
                    0,
                ));
            };
            let number = i as u32 + 1;
            let sync = match &track.stss {
                None => true,
                Some(list) => {
                    while sync_at < list.len() && list[sync_at] < number {
                        sync_at += 1;
                    }
                    list.get(sync_at) == Some(&number)
                }
            };
            samples.push(SampleRef {
                track: index as u16,
                offset,
                size,
                dts,
                cto: offsets.next().unwrap_or(0),
                sync,
            });
            dts = dts.saturating_add(i64::from(deltas.next().unwrap_or(0)));
        }
    }
    Ok(())
}

/// Each sample's file offset from `stsc` and the chunk offsets.
struct ChunkWalk<'a> {
    stsc: &'a [(u32, u32)],
    chunks: &'a [u64],
    /// The current chunk (0-based), its stsc entry, samples left in it,
    /// and the next sample's offset.
    chunk: usize,
    entry: usize,
    left: u32,
    offset: u64,
    started: bool,
}

impl<'a> ChunkWalk<'a> {
    fn new(stsc: &'a [(u32, u32)], chunks: &'a [u64]) -> ChunkWalk<'a> {
        ChunkWalk {
            stsc,
            chunks,
            chunk: 0,
            entry: 0,
            left: 0,
            offset: 0,
            started: false,
        }
    }

    fn next(&mut self, size: u32) -> Option<u64> {
        // Move to the next chunk with samples (an stsc entry may say 0).
        let mut guard = 0usize;
        while self.left == 0 {
            if self.started {
                self.chunk += 1;
            }
            self.started = true;
            while self.entry + 1 < self.stsc.len()
                && self.stsc[self.entry + 1].0 as usize <= self.chunk + 1
            {
                self.entry += 1;
            }
            self.left = self.stsc.get(self.entry)?.1;
            self.offset = *self.chunks.get(self.chunk)?;
            guard += 1;
            if guard > self.chunks.len() {
                return None;
            }
        }
        self.left -= 1;
        let at = self.offset;
        self.offset = self.offset.saturating_add(u64::from(size));
        Some(at)
    }
}

/// The samples of one `moof` (at file offset `at`), appended to `samples`.
pub(crate) fn parse_moof(
    body: &[u8],
    at: u64,
    tracks: &mut [TrackBox],
    samples: &mut Samples,
) -> Result<(), Mp4Error> {
    for (kind, traf) in children(Cursor::new(body, at + 8))? {
        if &kind == b"traf" {
            parse_traf(traf, at, tracks, samples)?;
        }
    }
    Ok(())
}

fn parse_traf(
    traf: Cursor<'_>,
    moof: u64,
    tracks: &mut [TrackBox],
    samples: &mut Samples,
) -> Result<(), Mp4Error> {
    let boxes = children(traf)?;
    let Some((_, mut tfhd)) = boxes.iter().find(|(k, _)| k == b"tfhd").copied() else {
        return Err(invalid("a traf without tfhd", traf.offset()));
    };
    let (_, flags) = tfhd.full()?;
    let id = tfhd.u32()?;
    let Some(index) = tracks.iter().position(|t| t.info.id == id) else {
        return Ok(()); // a track this reader left out
    };
    let track = &mut tracks[index];
    let mut base = moof;
    if flags & 0x01 != 0 {
        base = tfhd.u64()?;
    }
    if flags & 0x02 != 0 {
        tfhd.u32()?;
    }
    let mut defaults = track.defaults;
    if flags & 0x08 != 0 {
        defaults.0 = tfhd.u32()?;
    }
    if flags & 0x10 != 0 {
        defaults.1 = tfhd.u32()?;
    }
    if flags & 0x20 != 0 {
        defaults.2 = tfhd.u32()?;
    }
    if let Some((_, mut tfdt)) = boxes.iter().find(|(k, _)| k == b"tfdt").copied() {
        let (version, _) = tfdt.full()?;
        track.next_dts = i64::try_from(tfdt.sized(version)?).unwrap_or(i64::MAX);
    }
    let mut offset = base;
    for (_, trun) in boxes.iter().filter(|(k, _)| k == b"trun") {
        offset = parse_trun(*trun, base, offset, defaults, index, track, samples)?;
    }
    Ok(())
}

/// One `trun`'s samples; returns where the next run's data starts.
fn parse_trun(
    mut trun: Cursor<'_>,
    base: u64,
    mut offset: u64,
    defaults: (u32, u32, u32),
    index: usize,
    track: &mut TrackBox,
    samples: &mut Samples,
) -> Result<u64, Mp4Error> {
    let (_, flags) = trun.full()?;
    let entry = 4 * [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|f| flags & *f != 0)
        .count();
    let count = trun.u32()? as usize;
    if flags & 0x01 != 0 {
        offset = base.wrapping_add_signed(i64::from(trun.u32()? as i32));
    }
    let first_flags = if flags & 0x04 != 0 {
        Some(trun.u32()?)
    } else {
        None
    };
    if count.saturating_mul(entry) > trun.data.len() - trun.at {
        return Err(invalid(
            "a trun counts more samples than it holds",
            trun.offset(),
        ));
    }
    samples.room(count)?;
    for i in 0..count {
        let duration = if flags & 0x100 != 0 {
            trun.u32()?
        } else {
            defaults.0
        };
        let size = if flags & 0x200 != 0 {
            trun.u32()?
        } else {
            defaults.1
        };
        let mut sample_flags = if flags & 0x400 != 0 {
            trun.u32()?
        } else {
            defaults.2
        };
        if i == 0 {
            sample_flags = first_flags.unwrap_or(sample_flags);
        }
        let cto = if flags & 0x800 != 0 {
            trun.u32()? as i32
        } else {
            0
        };
        samples.push(SampleRef {
            track: index as u16,
            offset,
            size,
            dts: track.next_dts,
            cto,
            // sample_is_non_sync_sample
            sync: sample_flags & 0x0001_0000 == 0,
        });
        offset = offset.saturating_add(u64::from(size));
        track.next_dts = track.next_dts.saturating_add(i64::from(duration));
    }
    Ok(offset)
}

/// The codec of a sample entry and its record as an FLV sequence start
/// carries it.
fn describe(
    media: MediaType,
    kind: &[u8; 4],
    mut entry: Cursor<'_>,
) -> Result<(Codec, Option<Vec<u8>>), Mp4Error> {
    // SampleEntry: 6 reserved, data_reference_index; then the visual (70
    // bytes) or audio (20 bytes, version 0) fields before the child boxes.
    entry.skip(8)?;
    let version = if media == MediaType::Audio {
        let mut peek = entry;
        peek.u16()?
    } else {
        0
    };
    entry.skip(match (media, version) {
        (MediaType::Video, _) => 70,
        (_, 1) => 36,
        (_, 2) => 56,
        _ => 20,
    })?;
    let boxes = children(entry)?;
    let payload = |name: &[u8; 4]| {
        boxes.iter().find(|(k, _)| k == name).map(|(_, c)| {
            let mut c = *c;
            c.rest().to_vec()
        })
    };
    let full_payload =
        |name: &[u8; 4]| payload(name).map(|p| p.get(4..).unwrap_or_default().to_vec());
    Ok(match kind {
        b"avc1" | b"avc3" => (Codec::Avc, payload(b"avcC")),
        b"hvc1" | b"hev1" => (Codec::Hevc, payload(b"hvcC")),
        b"av01" => (Codec::Av1, payload(b"av1C")),
        b"vp09" => (Codec::Vp9, full_payload(b"vpcC")),
        b".mp3" => (Codec::Mp3, None),
        b"Opus" => (Codec::Opus, payload(b"dOps").and_then(|d| opus_head(&d))),
        b"fLaC" => (
            Codec::Flac,
            full_payload(b"dfLa").and_then(|d| d.get(4..38).map(<[u8]>::to_vec)),
        ),
        b"mp4a" => match boxes.iter().find(|(k, _)| k == b"esds") {
            Some((_, esds)) => esds_codec(*esds)?,
            None => (Codec::Aac, None),
        },
        _ if media == MediaType::Video => (Codec::UnknownVideoFourCc(flv::FourCc(*kind)), None),
        _ => (Codec::UnknownAudioFourCc(flv::FourCc(*kind)), None),
    })
}

/// An `OpusHead` (what an FLV Opus sequence start holds) from a `dOps`
/// (the same fields, big-endian, without the magic).
fn opus_head(d: &[u8]) -> Option<Vec<u8>> {
    let mut c = Cursor::new(d, 0);
    c.u8().ok()?;
    let channels = c.u8().ok()?;
    let pre_skip = c.u16().ok()?;
    let rate = c.u32().ok()?;
    let gain = c.u16().ok()?;
    let family = c.u8().ok()?;
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, channels]);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&rate.to_le_bytes());
    head.extend_from_slice(&gain.to_le_bytes());
    head.push(family);
    head.extend_from_slice(c.rest());
    Some(head)
}

/// An MPEG-4 descriptor's tag and length (up to four 7-bit bytes).
fn descriptor(c: &mut Cursor<'_>) -> Result<(u8, usize), Mp4Error> {
    let tag = c.u8()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = c.u8()?;
        len = (len << 7) | usize::from(b & 0x7F);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, len))
}

/// The codec and AudioSpecificConfig of an `esds`.
fn esds_codec(mut c: Cursor<'_>) -> Result<(Codec, Option<Vec<u8>>), Mp4Error> {
    c.full()?;
    let (tag, _) = descriptor(&mut c)?;
    if tag != 3 {
        return Err(invalid("an esds without an ES descriptor", c.offset()));
    }
    c.u16()?;
    let flags = c.u8()?;
    if flags & 0x80 != 0 {
        c.u16()?;
    }
    if flags & 0x40 != 0 {
        let n = c.u8()?;
        c.skip(usize::from(n))?;
    }
    if flags & 0x20 != 0 {
        c.u16()?;
    }
    let (tag, _) = descriptor(&mut c)?;
    if tag != 4 {
        return Err(invalid(
            "an esds without a decoder configuration",
            c.offset(),
        ));
    }
    let object_type = c.u8()?;
    c.skip(12)?;
    let config = match descriptor(&mut c) {
        Ok((5, len)) => Some(c.bytes(len)?.to_vec()),
        _ => None,
    };
    Ok(match object_type {
        0x69 | 0x6B => (Codec::Mp3, None),
        _ => (Codec::Aac, config),
    })
}
