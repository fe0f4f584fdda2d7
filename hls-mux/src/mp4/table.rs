//! The sample tables of one track, kept compact while frames come in.
//!
//! Only what the `moov` needs is kept, run-length encoded where the boxes
//! are (`stts`, `ctts`, `stsc`): about 4 bytes per sample (its size) plus
//! 8 bytes per chunk and a few bytes per change of frame step or
//! composition offset. A 3-hour 30 fps stream with 44.1 kHz AAC (about
//! 790,000 samples) holds some 10 to 25 MB, never the media.

use mp4_atom::{CttsEntry, StscEntry, SttsEntry};

use super::Mp4Error;
use crate::fmp4::rescale;
use crate::{Frame, MediaKind, TrackConfig};

/// Most bytes of media data in one chunk, as FFmpeg's `mov` muxer caps
/// them (1 MiB): a reader fetching a chunk never needs more.
pub(super) const MAX_CHUNK_BYTES: u64 = 1 << 20;

/// One track: its sample descriptions and sample tables.
#[derive(Debug, Clone)]
pub(super) struct Track {
    pub(super) media: MediaKind,
    /// `mdhd` timescale: 90 kHz for video, the sample rate for audio.
    pub(super) timescale: u32,
    /// The sample descriptions, in `stsd` order (index + 1 in `stsc`).
    pub(super) configs: Vec<TrackConfig>,
    /// The first frame's dts (90 kHz): the track's media time 0.
    pub(super) first_dts: Option<i64>,
    pub(super) last_dts: i64,
    /// The last sample's decode time, track ticks from `first_dts`.
    pub(super) last_time: i64,
    pub(super) count: u32,
    pub(super) stts: Vec<SttsEntry>,
    /// Composition offsets as they came (may be negative; shifted at the end).
    pub(super) ctts: Vec<CttsEntry>,
    pub(super) min_offset: i64,
    /// Earliest and latest composition time, track ticks.
    pub(super) min_ct: i64,
    pub(super) max_ct: i64,
    /// Earliest pts, 90 kHz (where the track starts in the movie).
    pub(super) min_pts: i64,
    pub(super) sizes: Vec<u32>,
    /// 1-based numbers of the sync samples.
    pub(super) sync: Vec<u32>,
    /// Chunk offsets from the start of the media data.
    pub(super) chunks: Vec<u64>,
    pub(super) stsc: Vec<StscEntry>,
    pub(super) chunk_samples: u32,
    pub(super) chunk_bytes: u64,
    pub(super) chunk_description: u32,
}

impl Track {
    pub(super) fn new(media: MediaKind, timescale: u32, config: TrackConfig) -> Track {
        Track {
            media,
            timescale,
            configs: vec![config],
            first_dts: None,
            last_dts: 0,
            last_time: 0,
            count: 0,
            stts: Vec::new(),
            ctts: Vec::new(),
            min_offset: 0,
            min_ct: i64::MAX,
            max_ct: i64::MIN,
            min_pts: i64::MAX,
            sizes: Vec::new(),
            sync: Vec::new(),
            chunks: Vec::new(),
            stsc: Vec::new(),
            chunk_samples: 0,
            chunk_bytes: 0,
            chunk_description: 0,
        }
    }

    /// Checks `frame` against the tables and returns its decode time and
    /// step from the previous sample (track ticks), its composition offset
    /// and size, or why it cannot be a sample; nothing is changed.
    pub(super) fn check(&self, frame: &Frame) -> Result<Checked, Mp4Error> {
        let media = self.media;
        let dts = frame.dts;
        let size = u32::try_from(frame.data.len()).map_err(|_| Mp4Error::SampleTooLarge {
            media,
            dts,
            size: frame.data.len(),
        })?;
        let first = self.first_dts.unwrap_or(dts);
        if self.count > 0 && dts < self.last_dts {
            return Err(Mp4Error::DecodeTimeBackwards {
                media,
                previous: self.last_dts,
                dts,
            });
        }
        let time = rescale(i128::from(dts) - i128::from(first), self.timescale);
        let ct = rescale(i128::from(frame.pts) - i128::from(first), self.timescale);
        let offset = i32::try_from(ct - time)
            .map_err(|_| Mp4Error::CompositionOffsetOutOfRange {
                media,
                dts,
                pts: frame.pts,
            })?
            .into();
        let time = i64::try_from(time).map_err(|_| Mp4Error::DurationTooLong {
            media,
            dts,
            ticks: i64::MAX,
        })?;
        let step = if self.count == 0 {
            None
        } else {
            let ticks = time - self.last_time;
            Some(u32::try_from(ticks).map_err(|_| Mp4Error::DurationTooLong {
                media,
                dts,
                ticks,
            })?)
        };
        Ok(Checked {
            time,
            step,
            offset,
            size,
        })
    }

    /// Adds a checked sample whose data starts at `position` in the media
    /// data; `new_chunk` when the previous bytes there were another track's.
    pub(super) fn add(&mut self, frame: &Frame, checked: Checked, position: u64, new_chunk: bool) {
        let description = self.configs.len() as u32;
        if new_chunk
            || self.chunks.is_empty()
            || self.chunk_description != description
            || self.chunk_bytes + u64::from(checked.size) > MAX_CHUNK_BYTES
        {
            self.close_chunk();
            self.chunks.push(position);
            self.chunk_description = description;
        }
        self.chunk_samples += 1;
        self.chunk_bytes += u64::from(checked.size);
        if let Some(step) = checked.step {
            push_stts(&mut self.stts, step);
        }
        push_ctts(&mut self.ctts, checked.offset);
        self.min_offset = self.min_offset.min(checked.offset);
        let ct = checked.time + checked.offset;
        self.min_ct = self.min_ct.min(ct);
        self.max_ct = self.max_ct.max(ct);
        self.min_pts = self.min_pts.min(frame.pts);
        self.first_dts.get_or_insert(frame.dts);
        self.last_dts = frame.dts;
        self.last_time = checked.time;
        self.count += 1;
        self.sizes.push(checked.size);
        if frame.key || self.media == MediaKind::Audio {
            self.sync.push(self.count);
        }
    }

    /// Records the open chunk's sample count in `stsc` (a new entry only
    /// when it differs from the last one's).
    pub(super) fn close_chunk(&mut self) {
        close(
            &mut self.stsc,
            self.chunks.len() as u32,
            self.chunk_samples,
            self.chunk_description,
        );
        self.chunk_samples = 0;
        self.chunk_bytes = 0;
    }

    /// The `stsc` entries with the open chunk's closed.
    pub(super) fn stsc(&self) -> Vec<StscEntry> {
        let mut stsc = self.stsc.clone();
        close(
            &mut stsc,
            self.chunks.len() as u32,
            self.chunk_samples,
            self.chunk_description,
        );
        stsc
    }

    /// The last sample's duration (track ticks): the codec's frame length
    /// for audio codecs that have one, otherwise the step before it.
    pub(super) fn last_duration(&self) -> u32 {
        let nominal = match self.configs.last() {
            Some(TrackConfig::Aac(_)) => Some(1024),
            Some(TrackConfig::Mp3(c)) => Some(if c.mpeg_version == 1 { 1152 } else { 576 }),
            Some(TrackConfig::Flac(c)) if c.min_block_size == c.max_block_size => {
                Some(u32::from(c.max_block_size))
            }
            _ => None,
        };
        let previous = self.stts.last().map(|e| e.sample_delta);
        match (nominal, previous) {
            (Some(n), _) => n,
            (None, Some(p)) if p > 0 => p,
            // One sample, or only zero steps: a 30 fps frame, a 20 ms packet.
            _ => {
                self.timescale
                    / if self.media == MediaKind::Video {
                        30
                    } else {
                        50
                    }
            }
        }
    }
}

/// A frame that fits the tables, from [`Track::check`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Checked {
    time: i64,
    step: Option<u32>,
    offset: i64,
    pub(super) size: u32,
}

fn push_stts(stts: &mut Vec<SttsEntry>, delta: u32) {
    match stts.last_mut() {
        Some(last) if last.sample_delta == delta && last.sample_count < u32::MAX => {
            last.sample_count += 1
        }
        _ => stts.push(SttsEntry {
            sample_count: 1,
            sample_delta: delta,
        }),
    }
}

fn push_ctts(ctts: &mut Vec<CttsEntry>, offset: i64) {
    match ctts.last_mut() {
        Some(last) if last.sample_offset == offset && last.sample_count < u32::MAX => {
            last.sample_count += 1
        }
        _ => ctts.push(CttsEntry {
            sample_count: 1,
            sample_offset: offset,
        }),
    }
}

/// Adds the `stsc` entry of chunk `chunk` (1-based) holding `samples`
/// samples of description `description`, unless the last entry says the same.
fn close(stsc: &mut Vec<StscEntry>, chunk: u32, samples: u32, description: u32) {
    if samples == 0 {
        return;
    }
    let same = stsc.last().is_some_and(|e| {
        e.samples_per_chunk == samples && e.sample_description_index == description
    });
    if !same {
        stsc.push(StscEntry {
            first_chunk: chunk,
            samples_per_chunk: samples,
            sample_description_index: description,
        });
    }
}
