//! MP4 input: the frames of a progressive (`moov` + `mdat`) or fragmented
//! (`moov` + `moof`/`mdat`...) MP4 file, as the `flv` frame view gives them,
//! so the same [`Probe`](crate::Probe) runs on a file before and after a
//! remux (`flv2mp4`, FFmpeg) and the two can be compared frame by frame.
//!
//! A bounded box walker, not a general MP4 parser: the top-level boxes are
//! visited by their sizes (the media data is never read whole), the `moov`
//! and each `moof` are read into memory up to [`MAX_HEADER_BOX`], and the
//! sample index holds at most [`MAX_SAMPLES`] entries (about 32 bytes
//! each) and no more than the input has bytes (a few lying table entries
//! cannot make a small file an index of millions). Every field is read with bounds checks: a damaged file gives an
//! [`Mp4Error`], never a panic.
//!
//! What is read: per track (`vide` and `soun` handlers) the first sample
//! description (H.264, HEVC, AV1, VP9, AAC, MP3, Opus, FLAC; its record
//! handed out as a sequence start, as an FLV would carry it), the sample
//! tables (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`/`co64`), the
//! fragments' `tfhd`/`tfdt`/`trun` with the `trex` defaults, and the first
//! edit list, applied as FFmpeg applies it (an empty edit delays the
//! track, the media time of the next edit is skipped), as FFmpeg reads the
//! file. Frames come in decode order across the tracks (by time, then by
//! file offset).

use std::io::{Read, Seek, SeekFrom};

use bytes::Bytes;
use flv::{Codec, ConfigChange, ConfigChangeKind, Frame, MediaType};

mod boxes;

use boxes::TrackBox;

/// The largest `moov` or `moof` read (64 MiB).
pub const MAX_HEADER_BOX: u64 = 64 << 20;

/// The most samples indexed, all tracks (5,000,000: over 3 hours of 60 fps
/// video with 48 kHz AAC).
pub const MAX_SAMPLES: usize = 5_000_000;

/// The largest sample read (64 MiB).
pub const MAX_SAMPLE_SIZE: u32 = 64 << 20;

/// The most top-level boxes visited.
const MAX_TOP_LEVEL: usize = 10_000_000;

/// Why an MP4 input cannot be read (further).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Mp4Error {
    /// Reading the input failed.
    #[error("MP4 input: {0}")]
    Io(#[from] std::io::Error),
    /// A box or field is not what the format allows.
    #[error("MP4 input: {what} at offset {offset}")]
    Invalid {
        /// What is wrong.
        what: String,
        /// Where (the enclosing box's offset when the field's is not known).
        offset: u64,
    },
    /// A limit of this reader was reached.
    #[error("MP4 input: {what} ({size}) is over the limit of {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

pub(crate) fn invalid(what: impl Into<String>, offset: u64) -> Mp4Error {
    Mp4Error::Invalid {
        what: what.into(),
        offset,
    }
}

/// One sample of the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleRef {
    pub(crate) track: u16,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    /// Decode time, the track's timescale.
    pub(crate) dts: i64,
    /// Composition offset, the track's timescale.
    pub(crate) cto: i32,
    pub(crate) sync: bool,
}

/// The sample index and its limit.
#[derive(Debug)]
pub(crate) struct Samples {
    pub(crate) list: Vec<SampleRef>,
    limit: usize,
}

impl Samples {
    /// Fails when `count` more samples would pass the limit.
    pub(crate) fn room(&self, count: usize) -> Result<(), Mp4Error> {
        let size = self.list.len().saturating_add(count);
        if size > self.limit {
            return Err(Mp4Error::TooLarge {
                what: "the samples",
                size: size as u64,
                limit: self.limit as u64,
            });
        }
        Ok(())
    }

    pub(crate) fn push(&mut self, sample: SampleRef) {
        self.list.push(sample);
    }
}

/// One track as the reader hands it out.
#[derive(Clone, Debug)]
pub(crate) struct TrackInfo {
    pub(crate) id: u32,
    pub(crate) media: MediaType,
    pub(crate) codec: Codec,
    pub(crate) config: Option<Bytes>,
    pub(crate) timescale: u32,
    /// Added to every time (the edit list), the track's timescale.
    pub(crate) shift: i64,
    /// The track's number among those of its media type (an FLV's track
    /// id: 0 for the first video and the first audio track).
    pub(crate) number: u8,
}

/// What [`Mp4Reader`] gives: each track's configuration first, then the
/// frames.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Mp4Event {
    /// A track's decoder configuration (the record of its sample entry).
    Config(ConfigChange),
    /// A sample, as an FLV frame of the same codec would carry it.
    Frame(Frame),
}

/// The frames of an MP4 file; see the [module](self).
#[derive(Debug)]
pub struct Mp4Reader<R> {
    input: R,
    /// The input's length: no sample past it is allocated for.
    len: u64,
    tracks: Vec<TrackInfo>,
    samples: std::vec::IntoIter<SampleRef>,
    configs: std::vec::IntoIter<ConfigChange>,
    fragmented: bool,
}

/// Whether `head` (the first bytes of a file) looks like MP4: a first box
/// `ftyp`, `styp`, `moov` or `free` with a plausible size.
pub fn is_mp4(head: &[u8]) -> bool {
    let Some(kind) = head.get(4..8) else {
        return false;
    };
    let size = head
        .get(..4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
    (size == 1 || size >= 8) && matches!(kind, b"ftyp" | b"styp" | b"moov" | b"free")
}

impl<R: Read + Seek> Mp4Reader<R> {
    /// Indexes `input`: walks its top-level boxes, reads the `moov` and the
    /// `moof`s. Fails on a file without a `moov` or with a damaged one.
    pub fn new(mut input: R) -> Result<Mp4Reader<R>, Mp4Error> {
        let len = input.seek(SeekFrom::End(0))?;
        let mut tracks: Vec<TrackBox> = Vec::new();
        let mut samples = Samples {
            list: Vec::new(),
            limit: MAX_SAMPLES.min(usize::try_from(len).unwrap_or(usize::MAX)),
        };
        let mut seen_moov = false;
        let mut fragmented = false;
        let mut at = 0u64;
        for _ in 0..MAX_TOP_LEVEL {
            if at + 8 > len {
                break;
            }
            let (kind, header, size) = boxes::read_header(&mut input, at, len)?;
            match &kind {
                // A second moov (a damaged or spliced file) is left alone:
                // the samples indexed so far refer to the first one's tracks.
                b"moov" if !seen_moov => {
                    let body = read_body(&mut input, at + header, size - header, "the moov")?;
                    tracks = boxes::parse_moov(&body, at)?;
                    boxes::expand_tables(&tracks, &mut samples)?;
                    seen_moov = true;
                }
                b"moof" if seen_moov => {
                    fragmented = true;
                    let body = read_body(&mut input, at + header, size - header, "a moof")?;
                    boxes::parse_moof(&body, at, &mut tracks, &mut samples)?;
                }
                _ => {}
            }
            at += size;
        }
        if !seen_moov {
            return Err(invalid("no moov box", 0));
        }
        let mut tracks: Vec<TrackInfo> = tracks.into_iter().map(|t| t.info).collect();
        for i in 0..tracks.len() {
            let before = tracks[..i]
                .iter()
                .filter(|t| t.media == tracks[i].media)
                .count();
            tracks[i].number = u8::try_from(before).unwrap_or(u8::MAX);
        }
        // Decode order across tracks, as an FLV interleaves them (a fragment
        // holds a run of each track: in file order the probe would see
        // seconds of drift between them); file order between equal times.
        let mut samples = samples.list;
        samples.sort_by_cached_key(|s| {
            let (shift, timescale) = tracks
                .get(usize::from(s.track))
                .map_or((0, 1), |t| (t.shift, t.timescale.max(1)));
            let dts = s.dts.saturating_add(shift);
            (
                i128::from(dts) * 1_000_000_000 / i128::from(timescale),
                s.offset,
            )
        });
        let configs = tracks
            .iter()
            .filter_map(|t| {
                let data = t.config.clone()?;
                Some(ConfigChange {
                    media: t.media,
                    codec: t.codec,
                    track: t.number,
                    dts: 0,
                    kind: ConfigChangeKind::SequenceStart,
                    data,
                    offset: 0,
                })
            })
            .collect::<Vec<_>>();
        Ok(Mp4Reader {
            input,
            len,
            tracks,
            samples: samples.into_iter(),
            configs: configs.into_iter(),
            fragmented,
        })
    }

    /// Whether the file has fragments (`moof`).
    pub fn is_fragmented(&self) -> bool {
        self.fragmented
    }

    /// Samples not handed out yet.
    pub fn remaining(&self) -> usize {
        self.samples.len()
    }

    /// The next configuration or frame; `None` at the end.
    pub fn next_event(&mut self) -> Option<Result<Mp4Event, Mp4Error>> {
        if let Some(config) = self.configs.next() {
            return Some(Ok(Mp4Event::Config(config)));
        }
        let sample = self.samples.next()?;
        Some(self.frame(sample).map(Mp4Event::Frame))
    }

    fn frame(&mut self, sample: SampleRef) -> Result<Frame, Mp4Error> {
        let Some(track) = self.tracks.get(usize::from(sample.track)) else {
            return Err(invalid("a sample of no track", sample.offset));
        };
        if sample.size > MAX_SAMPLE_SIZE {
            return Err(Mp4Error::TooLarge {
                what: "a sample",
                size: u64::from(sample.size),
                limit: u64::from(MAX_SAMPLE_SIZE),
            });
        }
        if sample.offset.saturating_add(u64::from(sample.size)) > self.len {
            return Err(invalid(
                "a sample runs past the end of the file",
                sample.offset,
            ));
        }
        let mut data = vec![0; sample.size as usize];
        self.input.seek(SeekFrom::Start(sample.offset))?;
        self.input.read_exact(&mut data).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                invalid("a sample runs past the end of the file", sample.offset)
            } else {
                Mp4Error::Io(e)
            }
        })?;
        let dts = sample.dts.saturating_add(track.shift);
        let pts = dts.saturating_add(i64::from(sample.cto));
        let (dts_ms, nanos) = millis(dts, track.timescale);
        let (pts_ms, _) = millis(pts, track.timescale);
        Ok(Frame {
            media: track.media,
            codec: track.codec,
            track: track.number,
            dts: dts_ms,
            pts: pts_ms,
            nanos,
            key: sample.sync,
            data: Bytes::from(data),
            offset: sample.offset,
        })
    }
}

/// `ticks` of `timescale` as milliseconds (floor) and the nanoseconds left.
fn millis(ticks: i64, timescale: u32) -> (i64, u32) {
    let scale = i128::from(timescale.max(1));
    let nanos = i128::from(ticks) * 1_000_000_000 / scale;
    let ms = nanos.div_euclid(1_000_000);
    let rest = nanos.rem_euclid(1_000_000);
    (
        i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX }),
        rest as u32,
    )
}

fn read_body(
    input: &mut (impl Read + Seek),
    at: u64,
    size: u64,
    what: &'static str,
) -> Result<Vec<u8>, Mp4Error> {
    if size > MAX_HEADER_BOX {
        return Err(Mp4Error::TooLarge {
            what,
            size,
            limit: MAX_HEADER_BOX,
        });
    }
    let mut body = vec![0; size as usize];
    input.seek(SeekFrom::Start(at))?;
    input.read_exact(&mut body)?;
    Ok(body)
}

#[cfg(test)]
mod tests;
