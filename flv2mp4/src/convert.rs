//! One file's conversion: reading passes, the output file, the rename.

use std::fs::File;
use std::io::{BufWriter, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use flv::{Reader, ReaderOptions};
use hls_mux::fmp4::{FileWriter, Fmp4Error, FragmentPlan};
use hls_mux::mp4::{Mp4Error, Mp4Options};
use hls_mux::{Frame, MediaKind, TrackConfig, Tracks};

use crate::repair::{Repairer, Report};

/// How the header gets in front of the media data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Read the input twice: the first pass builds the tables and the
    /// header, the second writes the header then the media data. The
    /// output is written once (the default: the same speed in the page
    /// cache, half the writes and no second file on disk; see the README).
    #[default]
    TwoPass,
    /// Read the input once, the media data to a temporary file, then write
    /// the header and copy the media data behind it (output written twice).
    TempFile,
}

/// How to convert.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Forward timestamp jumps longer than this are closed up (ms).
    pub max_gap_ms: u32,
    /// The writer's limits.
    pub mp4: Mp4Options,
    /// Where the header goes (progressive output only).
    pub strategy: Strategy,
    /// Write a fragmented MP4 (init segment, `sidx`, `moof`/`mdat`
    /// fragments, `mfra`) instead of a progressive one. It is always
    /// written in two passes: the first counts the fragments so the
    /// `sidx` gets its room, which is filled in at the end.
    pub fragmented: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_gap_ms: 5_000,
            mp4: Mp4Options::default(),
            strategy: Strategy::default(),
            fragmented: false,
        }
    }
}

/// Why a file could not be converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// Reading the input or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The input is not FLV (or ends inside its header).
    #[error("{path}: not a readable FLV file: {source}")]
    NotFlv {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: flv::Error,
    },
    /// Nothing could be written (no frame survived).
    #[error("{path}: nothing to write: {source}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What the writer said.
        source: Mp4Error,
    },
    /// The fragment writer refused the tracks or a frame.
    #[error("{path}: cannot write the fragmented MP4: {source}")]
    Fragment {
        /// The file.
        path: PathBuf,
        /// What the writer said.
        source: Fmp4Error,
    },
    /// The two passes over the input did not agree (the input changed
    /// while it was read).
    #[error("{path}: the input changed between the two passes (expected {expected} media bytes, got {got})")]
    Changed {
        /// The file.
        path: PathBuf,
        /// Media bytes of the first pass.
        expected: u64,
        /// Media bytes of the second pass.
        got: u64,
    },
}

/// Bytes read at a time: 256 KiB stays in the CPU cache from the read to
/// the copies out of it (on the 100 MB bench file, 15 runs each: median
/// 0.09 s against 0.10 s with 1 MiB pieces).
const READ_SIZE: usize = 1 << 18;

/// Converts `input` into `output` (written as `output` + a temporary
/// suffix, renamed at the end); `progress` hears the input bytes read.
pub fn convert(
    input: &Path,
    output: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, ConvertError> {
    let temp = temporary(output, "partial");
    let result = match options.strategy {
        _ if options.fragmented => fragmented(input, &temp, options, progress),
        Strategy::TwoPass => two_pass(input, &temp, options, progress),
        Strategy::TempFile => temp_file(input, &temp, options, progress),
    };
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    std::fs::rename(&temp, output).map_err(io(output))?;
    Ok(report)
}

fn temporary(output: &Path, what: &str) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}-{}", std::process::id()));
    output.with_file_name(name)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io {
        path: path.to_owned(),
        source,
    }
}

fn two_pass(
    input: &Path,
    temp: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, ConvertError> {
    let before = std::fs::metadata(input).map_err(io(input))?;
    let mut ranges = Ranges::default();
    let first = pass(input, options, progress, &mut |frame, at| {
        ranges.push(at, frame.data.len());
        Ok(())
    })?;
    let header = header(&first, input)?;
    let file = File::create(temp).map_err(io(temp))?;
    let mut out = BufWriter::with_capacity(READ_SIZE, file);
    out.write_all(&header).map_err(io(temp))?;
    if ranges.complete && ranges.total == first.writer().media_len() {
        // Every frame is a range of the input: the second pass copies the
        // ranges, without reading the tags again.
        let mut file = out.into_inner().map_err(|e| io(temp)(e.into_error()))?;
        copy_ranges(input, &mut file, &ranges.list, progress).map_err(io(temp))?;
        let after = std::fs::metadata(input).map_err(io(input))?;
        if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
            return Err(ConvertError::Changed {
                path: input.to_owned(),
                expected: before.len(),
                got: after.len(),
            });
        }
        return Ok(first.report().clone());
    }
    let second = pass(input, options, progress, &mut |frame, _| {
        out.write_all(&frame.data)
    })
    .map_err(output_error(input, temp))?;
    let (expected, got) = (first.writer().media_len(), second.writer().media_len());
    if expected != got || second.writer().finish().ok().as_ref() != Some(&header) {
        return Err(ConvertError::Changed {
            path: input.to_owned(),
            expected,
            got,
        });
    }
    out.flush().map_err(io(temp))?;
    Ok(first.report().clone())
}

/// Where the written frames' bytes are in the input, in output order: each
/// as the gap from the end of the one before and its length (8 bytes a
/// frame, next to the writer's tables).
#[derive(Debug)]
struct Ranges {
    list: Vec<(u32, u32)>,
    /// The end of the last range.
    end: u64,
    total: u64,
    /// Every frame so far is a range after the one before.
    complete: bool,
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges {
            list: Vec::new(),
            end: 0,
            total: 0,
            complete: true,
        }
    }
}

impl Ranges {
    fn push(&mut self, at: Option<u64>, len: usize) {
        let Some(at) = at.filter(|_| self.complete) else {
            self.complete = false;
            return;
        };
        let gap = at.checked_sub(self.end).and_then(|g| u32::try_from(g).ok());
        match (gap, u32::try_from(len)) {
            (Some(gap), Ok(len)) => {
                self.list.push((gap, len));
                self.end = at + u64::from(len);
                self.total += u64::from(len);
            }
            _ => {
                // Out of order (a restart) or too far: copy frame by frame.
                self.complete = false;
                self.list = Vec::new();
            }
        }
    }
}

/// Most pieces handed to one vectored write (Linux's IOV_MAX is 1024).
const MAX_SLICES: usize = 1024;

/// Appends `ranges` of `input` to `out`: the input is read in pieces and
/// each piece's ranges go out in one vectored write, so each byte is
/// copied into memory once and out once.
fn copy_ranges(
    input: &Path,
    out: &mut File,
    ranges: &[(u32, u32)],
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let mut file = File::open(input)?;
    let mut chunk = vec![0u8; READ_SIZE];
    // The chunk holds input bytes [start, start + filled).
    let (mut start, mut filled) = (0u64, 0usize);
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut next = 0u64;
    for &(gap, len) in ranges {
        let (mut at, mut left) = (next + u64::from(gap), u64::from(len));
        next = at + left;
        while left > 0 {
            let end = start + filled as u64;
            if at >= end {
                write_pieces(out, &chunk, &mut pieces)?;
                if at - end >= READ_SIZE as u64 {
                    file.seek(SeekFrom::Start(at))?;
                    start = at;
                } else {
                    start = end;
                }
                filled = read_full(&mut file, &mut chunk)?;
                progress(filled as u64);
                if filled == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                continue;
            }
            let from = (at - start) as usize;
            let n = left.min((filled - from) as u64) as usize;
            pieces.push((from, from + n));
            if pieces.len() == MAX_SLICES {
                write_pieces(out, &chunk, &mut pieces)?;
            }
            at += n as u64;
            left -= n as u64;
        }
    }
    write_pieces(out, &chunk, &mut pieces)
}

/// Reads until `buf` is full or the input ends.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn write_pieces(
    out: &mut File,
    chunk: &[u8],
    pieces: &mut Vec<(usize, usize)>,
) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = pieces
        .iter()
        .map(|&(from, to)| IoSlice::new(&chunk[from..to]))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match out.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    pieces.clear();
    Ok(())
}

/// A write error the second pass reports against the input is the output's.
fn output_error<'a>(
    input: &'a Path,
    temp: &'a Path,
) -> impl FnOnce(ConvertError) -> ConvertError + 'a {
    move |e| match e {
        ConvertError::Io { source, path } if path == input => ConvertError::Io {
            path: temp.to_owned(),
            source,
        },
        other => other,
    }
}

/// The fragmented file: the first pass finds the tracks and counts the
/// fragments (for both possible reference tracks: which one it is depends
/// on whether any video frame comes), the second writes the init segment,
/// room for the `sidx`, the fragments and the `mfra`; the `sidx` is then
/// written into its room.
fn fragmented(
    input: &Path,
    temp: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, ConvertError> {
    let mut one_description = options.clone();
    one_description.mp4.max_sample_descriptions = 1;
    let options = &one_description;
    let mut plans = [
        FragmentPlan::new(MediaKind::Video),
        FragmentPlan::new(MediaKind::Audio),
    ];
    let first = pass(input, options, progress, &mut |frame, _| {
        plans.iter_mut().for_each(|plan| {
            plan.next(frame);
        });
        Ok(())
    })?;
    let tracks = written_tracks(&first);
    let refused = |source| ConvertError::Fragment {
        path: input.to_owned(),
        source,
    };
    if tracks.video.is_none() && tracks.audio.is_none() {
        return Err(ConvertError::Empty {
            path: input.to_owned(),
            source: Mp4Error::NoSamples,
        });
    }
    let mut writer = FileWriter::new(&tracks).map_err(refused)?;
    let planned = plans[usize::from(tracks.video.is_none())].fragments();
    let init = writer.init_segment();
    let room = writer.sidx_size(planned);
    let file = File::create(temp).map_err(io(temp))?;
    let mut out = BufWriter::with_capacity(READ_SIZE, file);
    out.write_all(&init).map_err(io(temp))?;
    out.write_all(&vec![0; room]).map_err(io(temp))?;
    let mut pieces = Vec::new();
    let mut failure = None;
    let write = |pieces: &mut Vec<Bytes>, out: &mut BufWriter<File>| {
        let result = pieces.iter().try_for_each(|p| out.write_all(p));
        pieces.clear();
        result
    };
    let second = pass(input, options, progress, &mut |frame, _| {
        if failure.is_none() {
            if let Err(e) = writer.push(frame, &mut pieces) {
                failure = Some(e);
            }
        }
        write(&mut pieces, &mut out)
    })
    .map_err(output_error(input, temp))?;
    if let Some(e) = failure {
        return Err(refused(e));
    }
    let index = writer.finish(&mut pieces).map_err(refused)?;
    write(&mut pieces, &mut out).map_err(io(temp))?;
    out.write_all(&index.mfra).map_err(io(temp))?;
    let (expected, got) = (first.writer().media_len(), second.writer().media_len());
    if expected != got || index.sidx.len() != room {
        return Err(ConvertError::Changed {
            path: input.to_owned(),
            expected,
            got,
        });
    }
    let mut file = out.into_inner().map_err(|e| io(temp)(e.into_error()))?;
    file.seek(SeekFrom::Start(init.len() as u64))
        .map_err(io(temp))?;
    file.write_all(&index.sidx).map_err(io(temp))?;
    Ok(second.report().clone())
}

/// The configurations of the tracks that got frames: a fragmented file's
/// init segment describes each track once, so a configuration change is
/// refused in the first pass (`Options::mp4` with one sample description).
fn written_tracks(repairer: &Repairer) -> Tracks {
    let config = |media, frames: u64| -> Option<TrackConfig> {
        (frames > 0)
            .then(|| repairer.writer().config(media).cloned())
            .flatten()
    };
    let report = repairer.report();
    Tracks {
        video: config(MediaKind::Video, report.video_frames),
        audio: config(MediaKind::Audio, report.audio_frames),
    }
}

/// The `ftyp` + `moov` + `mdat` header of what `repairer` read from `input`.
fn header(repairer: &Repairer, input: &Path) -> Result<Bytes, ConvertError> {
    repairer
        .writer()
        .finish()
        .map_err(|source| ConvertError::Empty {
            path: input.to_owned(),
            source,
        })
}

fn temp_file(
    input: &Path,
    temp: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, ConvertError> {
    let media_path = temporary(temp, "mdat");
    let result = (|| {
        let media = File::create(&media_path).map_err(io(&media_path))?;
        let mut media = BufWriter::with_capacity(READ_SIZE, media);
        let repairer = pass(input, options, progress, &mut |frame, _| {
            media.write_all(&frame.data)
        })?;
        media.flush().map_err(io(&media_path))?;
        drop(media);
        let header = header(&repairer, input)?;
        let mut out = File::create(temp).map_err(io(temp))?;
        out.write_all(&header).map_err(io(temp))?;
        let mut media = File::open(&media_path).map_err(io(&media_path))?;
        // std::io::copy uses copy_file_range on Linux: no user-space copy.
        std::io::copy(&mut media, &mut out).map_err(io(temp))?;
        Ok(repairer.report().clone())
    })();
    let _ = std::fs::remove_file(&media_path);
    result
}

/// Restarts after a tag that runs past the end of the input, at most:
/// each scans the rest of the input once, so this bounds the work on a
/// file full of broken size fields.
const MAX_RESTARTS: u32 = 16;

/// One pass over `input`: every event through a new [`Repairer`], each
/// written frame to `sink` with the input offset of its bytes (when they
/// are the input's as they are).
///
/// A tag whose size runs past the end of the input is either the last one
/// of a truncated file or one with a broken size field (an "oversized"
/// tag): the reading then starts again one byte after its header, with a
/// reader that resynchronises on the next valid tag, so the whole tags
/// after a broken size field are kept.
fn pass(
    input: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
    sink: &mut dyn FnMut(&Frame, Option<u64>) -> std::io::Result<()>,
) -> Result<Repairer, ConvertError> {
    let mut file = File::open(input).map_err(io(input))?;
    let mut reader = Reader::new(ReaderOptions::default().resync(true));
    let mut repairer = Repairer::new(options.mp4, options.max_gap_ms);
    let mut sizes = SizeCheck::default();
    let mut chunk = vec![0u8; READ_SIZE];
    let mut failure = None;
    let mut base = 0;
    let mut restarts = 0;
    let mut n = 0;
    loop {
        sizes.advance(&chunk[..n]);
        n = match file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(input)(e)),
        };
        progress(n as u64);
        if n == 0 {
            reader.finish();
        } else {
            reader.push(&chunk[..n]);
        }
        let mut context = Drain {
            sizes: &sizes,
            chunk: &chunk[..n],
            sink,
            failure: &mut failure,
            input,
            base,
            restart: restarts < MAX_RESTARTS,
        };
        let next = drain(&mut reader, &mut repairer, &mut context)?;
        if let Some(e) = failure.take() {
            return Err(io(input)(e));
        }
        match next {
            Next::More if n > 0 => {}
            Next::More | Next::End => {
                repairer.finish();
                return Ok(repairer);
            }
            Next::Restart(at) => {
                restarts += 1;
                base = at;
                file.seek(SeekFrom::Start(at)).map_err(io(input))?;
                reader = Reader::new(ReaderOptions::default().resync(true).expect_header(false));
                sizes = SizeCheck::starting_at(at);
                n = 0;
            }
        }
    }
}

/// What [`pass`] does after [`drain`].
enum Next {
    /// Push more input.
    More,
    /// Nothing more can be read.
    End,
    /// Read again from this offset.
    Restart(u64),
}

/// What [`drain`] needs besides the reader and the repairer.
struct Drain<'a, 's> {
    sizes: &'a SizeCheck,
    /// The input bytes pushed last.
    chunk: &'a [u8],
    sink: &'a mut (dyn FnMut(&Frame, Option<u64>) -> std::io::Result<()> + 's),
    /// The first write error (the sink is not called after it).
    failure: &'a mut Option<std::io::Error>,
    input: &'a Path,
    /// Input offset of the reader's offset 0.
    base: u64,
    /// Whether a tag running past the end may restart the reading.
    restart: bool,
}

/// Hands every available event to `repairer`; true when the reader can
/// give no more (the input ended, or cannot be read past a point).
fn drain(
    reader: &mut Reader,
    repairer: &mut Repairer,
    context: &mut Drain<'_, '_>,
) -> Result<Next, ConvertError> {
    let (input, base) = (context.input, context.base);
    loop {
        let event = match reader.next_event() {
            Ok(Some(event)) => rebase(event, base),
            Ok(None) => return Ok(Next::More),
            Err(source @ flv::Error::NotFlv { .. }) => {
                return Err(ConvertError::NotFlv {
                    path: input.to_owned(),
                    source,
                })
            }
            Err(flv::Error::Truncated {
                what,
                offset,
                needed,
            }) if what != "FLV header" => {
                let offset = offset + base;
                repairer.note("truncated", offset, || {
                    format!("the input ends inside the {what} at {offset} ({needed} bytes missing): every whole tag before it kept")
                });
                return Ok(if context.restart && what == "tag body" {
                    Next::Restart(offset + 1)
                } else {
                    Next::End
                });
            }
            Err(source) if base == 0 && reader.position() <= 13 => {
                return Err(ConvertError::NotFlv {
                    path: input.to_owned(),
                    source,
                })
            }
            Err(e) => {
                let offset = reader.position() + base;
                repairer.note("unreadable_rest", offset, || {
                    format!("cannot read on from {offset}: {e}")
                });
                return Ok(Next::End);
            }
        };
        if let flv::ReadEvent::Tag(tag) = &event {
            if let Some((found, expected)) = context.sizes.check(tag, context.chunk) {
                let offset = tag.offset;
                repairer.note("previous_tag_size", offset, || {
                    format!("the tag at {offset} is followed by PreviousTagSize {found}, expected {expected}: ignored")
                });
            }
        }
        let body = match &event {
            flv::ReadEvent::Tag(tag) => Some(Body::of(tag)),
            _ => None,
        };
        let (sink, failure) = (&mut context.sink, &mut context.failure);
        repairer.event(event, &mut |frame| {
            if failure.is_none() {
                let at = body.as_ref().and_then(|b| b.offset_of(&frame.data));
                if let Err(e) = sink(frame, at) {
                    **failure = Some(e);
                }
            }
        });
    }
}

/// Where a tag's body is, in memory and in the input.
struct Body {
    start: usize,
    len: usize,
    offset: u64,
}

impl Body {
    fn of(tag: &flv::Tag) -> Body {
        Body {
            start: tag.body.as_ptr() as usize,
            len: tag.body.len(),
            offset: tag.body_offset(),
        }
    }

    /// The input offset of `data` when it is a slice of this body (frames
    /// are, unless the adapter had to rewrite one).
    fn offset_of(&self, data: &Bytes) -> Option<u64> {
        let from = (data.as_ptr() as usize).checked_sub(self.start)?;
        (from + data.len() <= self.len).then_some(self.offset + from as u64)
    }
}

/// `event` with its offsets counted from the start of the input.
fn rebase(event: flv::ReadEvent, base: u64) -> flv::ReadEvent {
    match event {
        flv::ReadEvent::Tag(mut tag) => {
            tag.offset += base;
            flv::ReadEvent::Tag(tag)
        }
        flv::ReadEvent::Skipped {
            offset,
            len,
            reason,
        } => flv::ReadEvent::Skipped {
            offset: offset + base,
            len,
            reason,
        },
        other => other,
    }
}

/// Checks each tag's PreviousTagSize, which the lenient reader steps over.
/// The field arrives before its tag is handed out, at most one tag header
/// later, so it is in the chunk pushed last or in the end of the one
/// before: that end is all that is kept.
#[derive(Debug, Default)]
struct SizeCheck {
    /// The last bytes of the chunk before the current one.
    tail: Vec<u8>,
    tail_start: u64,
    /// Offset of the current chunk.
    start: u64,
}

/// Bytes of the previous chunk kept: the field plus a tag header, with room.
const TAIL: usize = 64;

impl SizeCheck {
    /// A check for a reading that starts at input offset `start`.
    fn starting_at(start: u64) -> SizeCheck {
        SizeCheck {
            tail: Vec::new(),
            tail_start: start,
            start,
        }
    }

    /// The current chunk, `done`, is about to be replaced by the next one.
    fn advance(&mut self, done: &[u8]) {
        self.tail.clear();
        self.tail
            .extend_from_slice(&done[done.len().saturating_sub(TAIL)..]);
        self.start += done.len() as u64;
        self.tail_start = self.start - self.tail.len() as u64;
    }

    fn byte(&self, at: u64, chunk: &[u8]) -> Option<u8> {
        if at >= self.start {
            chunk.get(usize::try_from(at - self.start).ok()?).copied()
        } else {
            let from = at.checked_sub(self.tail_start)?;
            self.tail.get(usize::try_from(from).ok()?).copied()
        }
    }

    /// `(found, expected)` when the field after `tag` is wrong.
    fn check(&self, tag: &flv::Tag, chunk: &[u8]) -> Option<(u32, u32)> {
        let expected = u32::try_from(tag.body.len() + 11).ok()?;
        let at = tag.body_offset() + tag.body.len() as u64;
        let mut bytes = [0u8; 4];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = self.byte(at + i as u64, chunk)?;
        }
        let found = u32::from_be_bytes(bytes);
        (found != expected).then_some((found, expected))
    }
}
