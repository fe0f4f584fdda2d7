//! [`FileWriter`]: a single-file fragmented MP4 with `sidx` and `mfra`.

use bytes::{BufMut as _, Bytes, BytesMut};

use super::{rescale, Fmp4Error, Fmp4Writer, Sample};
use crate::{Frame, MediaKind, Tracks, CLOCK};

/// A fragment starts at a sync sample of the reference track only when the
/// current one spans at least this (90 kHz ticks: 1 s), so an all-intra or
/// audio-only stream does not get a fragment per frame.
pub const MIN_FRAGMENT: i64 = CLOCK as i64;

/// A fragment is cut before a frame that would make it hold more bytes than
/// this, key frame or not (32 MiB).
pub const MAX_FRAGMENT_BYTES: u64 = 32 << 20;

/// A fragment is cut before it holds more samples than this.
pub const MAX_FRAGMENT_SAMPLES: u64 = 20_000;

/// The largest frame taken (1 GiB): a `sidx` reference size has 31 bits.
const MAX_FRAME: usize = 1 << 30;

/// The most `sidx` references (its count is 16 bits). A file with more
/// fragments gets no `sidx` (its size is 0); its `mfra` still indexes it.
const MAX_REFERENCES: u64 = u16::MAX as u64;

/// Where fragments start, from the frames alone: the same decisions in a
/// first pass (to count the fragments, see [`FileWriter::sidx_size`]) and inside
/// [`FileWriter`].
#[derive(Clone, Debug)]
pub struct FragmentPlan {
    reference: MediaKind,
    /// The current fragment's first dts, bytes and samples.
    start: Option<i64>,
    bytes: u64,
    samples: u64,
    fragments: u64,
}

impl FragmentPlan {
    /// A plan that cuts at `reference`'s sync samples.
    pub fn new(reference: MediaKind) -> FragmentPlan {
        FragmentPlan {
            reference,
            start: None,
            bytes: 0,
            samples: 0,
            fragments: 0,
        }
    }

    /// Takes the next frame (decode order); true when it starts a fragment.
    pub fn next(&mut self, frame: &Frame) -> bool {
        let size = frame.data.len() as u64;
        let cut = match self.start {
            None => true,
            Some(start) => {
                (frame.media == self.reference
                    && frame.key
                    && frame.dts.saturating_sub(start) >= MIN_FRAGMENT)
                    || self.bytes + size > MAX_FRAGMENT_BYTES
                    || self.samples >= MAX_FRAGMENT_SAMPLES
            }
        };
        if cut {
            self.start = Some(frame.dts);
            self.bytes = 0;
            self.samples = 0;
            self.fragments += 1;
        }
        self.bytes += size;
        self.samples += 1;
        cut
    }

    /// Fragments started so far.
    pub fn fragments(&self) -> u64 {
        self.fragments
    }
}

/// Bytes of one `sidx` for `fragments` fragments (0 when there are more
/// than a `sidx` can list).
fn sidx_size(fragments: u64) -> usize {
    if fragments == 0 || fragments > MAX_REFERENCES {
        return 0;
    }
    SIDX_HEADER + SIDX_ENTRY * fragments as usize
}

const SIDX_HEADER: usize = 40;
const SIDX_ENTRY: usize = 12;

/// What [`FileWriter::finish`] gives: the boxes written at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileIndex {
    /// The `sidx` boxes, one per track, to place right after the init
    /// segment (empty when the file has too many fragments for them, see
    /// [`FileWriter::sidx_size`]).
    pub sidx: Bytes,
    /// The `mfra`, to place after the last fragment.
    pub mfra: Bytes,
    /// Fragments written.
    pub fragments: u64,
}

/// One track's samples in one fragment, as its `sidx` sees them (the
/// track's timescale).
#[derive(Clone, Copy, Debug)]
struct Span {
    /// Earliest presentation time.
    earliest: i128,
    /// End of the last-presented sample.
    end: i128,
    /// The track's first sample here is a sync sample.
    sap: bool,
}

/// One fragment as the index sees it.
#[derive(Clone, Copy, Debug)]
struct Written {
    /// `moof` + `mdat` bytes.
    size: u64,
    /// Per track (video, audio), when it has samples here.
    spans: [Option<Span>; 2],
}

/// One `tfra` entry: a track's first sample in a fragment is a sync sample.
#[derive(Clone, Copy, Debug)]
struct RandomAccess {
    track: usize,
    /// Presentation time, the track's timescale.
    time: u64,
    /// From the first fragment's first byte.
    offset: u64,
    traf_number: u8,
}

/// Per track: the previous frame's dts and the step to it (90 kHz).
#[derive(Clone, Copy, Debug, Default)]
struct Last {
    dts: Option<i64>,
    step: u32,
}

/// A single-file fragmented MP4 that players can seek in: the init segment,
/// a `sidx` (segment index), the `moof`/`mdat` fragments of
/// [`Fmp4Writer`], and an `mfra` (movie fragment random access) at the end.
///
/// The `sidx` is what browsers (MSE players, Chromium's own `<video>`) and
/// FFmpeg read to map a time to a byte range; the `mfra` is what tools that
/// look at the end of the file first read (FFmpeg with `-use_mfra_for`,
/// MP4Box). There is one `sidx` per track, as FFmpeg's `global_sidx` writes
/// them: with a `sidx` for the video track only, Chromium's `<video>` seeking
/// 120 s into the 3-minute bench file read and decoded the file from the
/// start (11 s, 3,500 frames), since its demuxer seeks the audio track too
/// (with both: 0.35 s). They need every fragment's size, so they are built
/// at the end ([`FileWriter::finish`]) while they go *before* the fragments
/// (ISO/IEC 14496-12 8.16.3: a `sidx` indexes what follows it). The caller
/// therefore leaves [`FileWriter::sidx_size`] bytes after the init segment
/// and fills them at the end: the size depends only on the number of tracks
/// and fragments, which [`FragmentPlan`] can count in a first pass without
/// the tracks' configurations.
///
/// Fragments start at the reference track's sync samples (the video track
/// if there is one, else the audio track) at least [`MIN_FRAGMENT`] apart,
/// so every `sidx` entry but a forced one starts with a sync sample; a
/// fragment is also cut when it would hold more than [`MAX_FRAGMENT_BYTES`]
/// or [`MAX_FRAGMENT_SAMPLES`], which bounds the memory held (the pending
/// samples' [`Bytes`]) whatever the input's key frame interval.
#[derive(Debug)]
pub struct FileWriter {
    writer: Fmp4Writer,
    plan: FragmentPlan,
    pending: Vec<Sample>,
    last: [Last; 2],
    sequence: u32,
    /// Fragment bytes handed out so far.
    written: u64,
    fragments: Vec<Written>,
    random_access: Vec<RandomAccess>,
}

fn slot(media: MediaKind) -> usize {
    match media {
        MediaKind::Video => 0,
        MediaKind::Audio => 1,
    }
}

impl FileWriter {
    /// A writer for `tracks` (fails as [`Fmp4Writer::new`] does).
    pub fn new(tracks: &Tracks) -> Result<FileWriter, Fmp4Error> {
        let writer = Fmp4Writer::new(tracks)?;
        let reference = if tracks.video.is_some() {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        Ok(FileWriter {
            writer,
            plan: FragmentPlan::new(reference),
            pending: Vec::new(),
            last: [Last::default(); 2],
            sequence: 1,
            written: 0,
            fragments: Vec::new(),
            random_access: Vec::new(),
        })
    }

    /// The init segment (`ftyp` + `moov`), the start of the file.
    pub fn init_segment(&self) -> Bytes {
        self.writer.init_segment()
    }

    /// Takes one frame (decode order, tracks interleaved); a fragment that
    /// it completes is appended to `out` (header, then each sample's data).
    ///
    /// Fails, changing nothing, for a frame of a track the writer does not
    /// have, a negative dts, a dts lower than its track's previous one, and
    /// values that do not fit a fragment's fields.
    pub fn push(&mut self, frame: &Frame, out: &mut Vec<Bytes>) -> Result<(), Fmp4Error> {
        let step = self.check(frame)?;
        if self.plan.next(frame) && !self.pending.is_empty() {
            self.flush(out)?;
        }
        let last = &mut self.last[slot(frame.media)];
        last.dts = Some(frame.dts);
        if last.step == 0 || step > 0 {
            last.step = step;
        }
        self.pending.push(Sample {
            media: frame.media,
            dts: frame.dts,
            pts: frame.pts,
            // Only a fragment's last sample of a track uses it: the next
            // fragment's tfdt holds the exact time whatever it is.
            duration: last.step,
            key: frame.key,
            data: frame.data.clone(),
        });
        Ok(())
    }

    /// Checks `frame` against every field it goes to; the step from its
    /// track's previous frame (90 kHz).
    fn check(&self, frame: &Frame) -> Result<u32, Fmp4Error> {
        let media = frame.media;
        let (_, timescale) = self
            .writer
            .track(media)
            .ok_or(Fmp4Error::UnknownTrack { media })?;
        if frame.data.len() > MAX_FRAME {
            return Err(Fmp4Error::SampleTooLarge {
                media,
                dts: frame.dts,
                size: frame.data.len(),
            });
        }
        if frame.dts < 0 {
            return Err(Fmp4Error::NegativeDecodeTime {
                media,
                dts: frame.dts,
            });
        }
        let offset = rescale(frame.pts.into(), timescale) - rescale(frame.dts.into(), timescale);
        if i32::try_from(offset).is_err() {
            return Err(Fmp4Error::CompositionOffsetOutOfRange {
                media,
                dts: frame.dts,
                pts: frame.pts,
            });
        }
        let Some(previous) = self.last[slot(media)].dts else {
            return Ok(0);
        };
        if frame.dts < previous {
            return Err(Fmp4Error::DecodeTimeBackwards {
                media,
                previous,
                dts: frame.dts,
            });
        }
        let ticks = rescale(frame.dts.into(), timescale) - rescale(previous.into(), timescale);
        let step = u32::try_from(frame.dts - previous);
        match (u32::try_from(ticks), step) {
            (Ok(_), Ok(step)) => Ok(step),
            _ => Err(Fmp4Error::DurationTooLong {
                media,
                dts: frame.dts,
                ticks: i64::try_from(ticks).unwrap_or(i64::MAX),
            }),
        }
    }

    /// Writes the pending samples as one fragment.
    fn flush(&mut self, out: &mut Vec<Bytes>) -> Result<(), Fmp4Error> {
        let samples = std::mem::take(&mut self.pending);
        let size = self.writer.fragment(self.sequence, &samples, out)? as u64;
        let offset = self.written;
        self.sequence = self.sequence.wrapping_add(1);
        self.written += size;
        let mut spans = [None; 2];
        for media in [MediaKind::Video, MediaKind::Audio] {
            if let Some((_, timescale)) = self.writer.track(media) {
                spans[slot(media)] = span(&samples, media, timescale);
            }
        }
        self.fragments.push(Written { size, spans });
        let mut traf_number = 0u8;
        for media in [MediaKind::Video, MediaKind::Audio] {
            let Some(first) = samples.iter().find(|s| s.media == media) else {
                continue;
            };
            traf_number += 1;
            let (_, track_scale) = self.writer.track(media).unwrap_or((1, CLOCK));
            if first.key {
                self.random_access.push(RandomAccess {
                    track: slot(media),
                    time: u64::try_from(rescale(first.pts.into(), track_scale)).unwrap_or(0),
                    offset,
                    traf_number,
                });
            }
        }
        Ok(())
    }

    /// Writes the last fragment to `out` and returns the `sidx` and `mfra`.
    ///
    /// The `mfra`'s offsets count from the start of the file laid out as
    /// init segment, `sidx`, fragments. Fails with
    /// [`Fmp4Error::EmptyFragment`] when no frame was pushed.
    pub fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<FileIndex, Fmp4Error> {
        if !self.pending.is_empty() {
            self.flush(out)?;
        }
        if self.fragments.is_empty() {
            return Err(Fmp4Error::EmptyFragment);
        }
        let sidx = self.sidx();
        let base = self.writer.init_segment().len() as u64 + sidx.len() as u64;
        Ok(FileIndex {
            mfra: self.mfra(base),
            sidx,
            fragments: self.fragments.len() as u64,
        })
    }

    /// Bytes of the `sidx` boxes of a file of `fragments` fragments (0 when
    /// there are more than a `sidx` can list): the room to leave after the
    /// init segment.
    pub fn sidx_size(&self, fragments: u64) -> usize {
        self.media().count() * sidx_size(fragments)
    }

    /// The writer's tracks, in `trak` order, with their id and timescale.
    fn media(&self) -> impl Iterator<Item = (MediaKind, u32, u32)> + '_ {
        [MediaKind::Video, MediaKind::Audio]
            .into_iter()
            .filter_map(|m| self.writer.track(m).map(|(id, scale)| (m, id, scale)))
    }

    /// The `sidx` boxes (version 1), one per track: one reference per
    /// fragment, in the track's timescale; the first fragment follows the
    /// last `sidx`.
    fn sidx(&self) -> Bytes {
        let one = sidx_size(self.fragments.len() as u64);
        let tracks: Vec<_> = self.media().collect();
        let mut buf = BytesMut::with_capacity(one * tracks.len());
        if one == 0 {
            return buf.freeze();
        }
        for (i, &(media, id, timescale)) in tracks.iter().enumerate() {
            let after = (tracks.len() - 1 - i) * one;
            self.put_sidx(&mut buf, slot(media), id, timescale, after as u64);
        }
        buf.freeze()
    }

    /// One track's `sidx`; `first_offset` skips the `sidx` boxes after it.
    fn put_sidx(&self, buf: &mut BytesMut, track: usize, id: u32, scale: u32, first_offset: u64) {
        let spans: Vec<Option<Span>> = self.fragments.iter().map(|f| f.spans[track]).collect();
        let first = spans
            .iter()
            .flatten()
            .next()
            .map_or(0, |s| s.earliest.max(0));
        buf.put_u32(sidx_size(spans.len() as u64) as u32);
        buf.put_slice(b"sidx");
        buf.put_u32(1 << 24);
        buf.put_u32(id);
        buf.put_u32(scale);
        buf.put_u64(u64::try_from(first).unwrap_or(0));
        buf.put_u64(first_offset);
        buf.put_u16(0);
        buf.put_u16(spans.len() as u16);
        for (i, (fragment, span)) in self.fragments.iter().zip(&spans).enumerate() {
            // A subsegment lasts until the track's next one starts, so the
            // durations add up to its timeline; the last until its end; one
            // without the track's samples lasts nothing.
            let duration = span.map_or(0, |span| {
                let next = spans[i + 1..].iter().flatten().next();
                let stop = next.map_or(span.end, |n| n.earliest);
                (stop - span.earliest.max(first)).max(0)
            });
            // Sizes fit: a fragment holds at most MAX_FRAGMENT_BYTES plus
            // one frame of at most MAX_FRAME, well under 2^31.
            buf.put_u32((fragment.size as u32) & 0x7FFF_FFFF);
            buf.put_u32(u32::try_from(duration).unwrap_or(u32::MAX));
            // starts_with_SAP, SAP_type 1 (a closed GOP's first frame).
            let sap = span.is_some_and(|s| s.sap);
            buf.put_u32(if sap { 0x9000_0000 } else { 0 });
        }
    }

    /// The `mfra`: a `tfra` (version 1, one-byte numbers) per track with a
    /// random access point, then `mfro`.
    fn mfra(&self, base: u64) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_u32(0); // patched below
        buf.put_slice(b"mfra");
        for media in [MediaKind::Video, MediaKind::Audio] {
            let Some((track_id, _)) = self.writer.track(media) else {
                continue;
            };
            let entries: Vec<&RandomAccess> = self
                .random_access
                .iter()
                .filter(|r| r.track == slot(media))
                .collect();
            let size = 24 + 19 * entries.len();
            buf.put_u32(u32::try_from(size).unwrap_or(u32::MAX));
            buf.put_slice(b"tfra");
            buf.put_u32(1 << 24);
            buf.put_u32(track_id);
            buf.put_u32(0); // every number on one byte
            buf.put_u32(entries.len() as u32);
            for entry in entries {
                buf.put_u64(entry.time);
                buf.put_u64(base + entry.offset);
                buf.put_u8(entry.traf_number);
                buf.put_u8(1);
                buf.put_u8(1);
            }
        }
        let total = buf.len() + 16;
        let total = u32::try_from(total).unwrap_or(u32::MAX);
        buf.put_u32(16);
        buf.put_slice(b"mfro");
        buf.put_u32(0);
        buf.put_u32(total);
        buf[..4].copy_from_slice(&total.to_be_bytes());
        buf.freeze()
    }
}

/// `media`'s samples of `samples` as the index sees them: times in the
/// track's timescale, each sample ending where the `trun` says (its dts plus
/// the distance to the next one, the last its own duration, plus its
/// offset).
fn span(samples: &[Sample], media: MediaKind, timescale: u32) -> Option<Span> {
    let track: Vec<&Sample> = samples.iter().filter(|s| s.media == media).collect();
    let first = track.first()?;
    let scaled = |t: i64| rescale(t.into(), timescale);
    let earliest = track.iter().map(|s| scaled(s.pts)).min().unwrap_or(0);
    let end = track
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let next = track.get(i + 1).map_or_else(
                || scaled(s.dts.saturating_add(i64::from(s.duration))),
                |n| scaled(n.dts),
            );
            next + scaled(s.pts) - scaled(s.dts)
        })
        .max()
        .unwrap_or(earliest);
    Some(Span {
        earliest,
        end,
        sap: first.key,
    })
}
