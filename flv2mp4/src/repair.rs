//! The repair policy: what happens to each FLV event on its way to the
//! MP4 writer, and the report of everything that was not as it should be.
//!
//! Nothing good is dropped: a frame is left out only when no decoder could
//! use it (before its track's first sequence header, video before the first
//! key frame, after a configuration the MP4 track cannot carry) or when the
//! writer refuses it; everything left out is counted in the report.

use bytes::Bytes;
use flv::{
    Codec, ConfigChange, ConfigChangeKind, MediaEvent, MediaEvents, MediaType, ReadEvent, Tag,
    TagType,
};
use hls_mux::mp4::{Mp4Options, Mp4Writer};
use hls_mux::{AdapterError, FlvAdapter, FlvInput, Frame, MediaKind, CLOCK};
use serde::Serialize;

/// One kind of repair, with where it first happened and how often.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repair {
    /// What was repaired: `truncated`, `skipped_bytes`, `previous_tag_size`,
    /// `empty_tag`, `bad_tag`, `bad_sequence_header`, `unsupported_codec`,
    /// `before_sequence_header`, `assumed_aac_config`, `before_key_frame`, `config_refused`,
    /// `after_refused_config`, `timestamp_backward`, `timestamp_clamped`,
    /// `timestamp_jump`, `frame_refused`, `unreadable_rest`.
    pub kind: &'static str,
    /// Input offset of the first occurrence.
    pub offset: u64,
    /// Occurrences (frames, tags, ranges).
    pub count: u64,
    /// The first occurrence, in words.
    pub detail: String,
}

/// What one conversion did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Video frames written.
    pub video_frames: u64,
    /// Audio frames written.
    pub audio_frames: u64,
    /// Input bytes that were skipped (garbage, zeroes, broken tags).
    pub skipped_bytes: u64,
    /// Everything repaired, in order of first occurrence.
    pub repairs: Vec<Repair>,
}

impl Report {
    /// Records one occurrence of `kind`: merged into the entry of the same
    /// kind if there is one (the first occurrence's offset and detail stay).
    pub fn note(&mut self, kind: &'static str, offset: u64, detail: impl FnOnce() -> String) {
        if let Some(entry) = self.repairs.iter_mut().find(|r| r.kind == kind) {
            entry.count += 1;
            return;
        }
        self.repairs.push(Repair {
            kind,
            offset,
            count: 1,
            detail: detail(),
        });
    }
}

/// A backward step smaller than this (90 kHz ticks, 100 ms) is encoder
/// jitter between interleaved tracks: clamped to the previous dts instead
/// of moving the whole timeline.
const JITTER: i64 = 9_000;

/// Makes every track's dts non-decreasing and closes up jumps.
#[derive(Debug, Clone)]
struct Retimer {
    /// Added to every input timestamp (90 kHz).
    offset: i64,
    last: [Option<i64>; 2],
    step: [i64; 2],
    /// The highest output dts so far, all tracks.
    max: Option<i64>,
    max_gap: i64,
}

fn index(media: MediaKind) -> usize {
    match media {
        MediaKind::Video => 0,
        MediaKind::Audio => 1,
    }
}

impl Retimer {
    /// Retimes `frame`; returns what was repaired, if anything.
    fn retime(&mut self, frame: &mut Frame) -> Option<(&'static str, String)> {
        let i = index(frame.media);
        let input_ms = frame.dts / 90;
        let mut dts = frame.dts.saturating_add(self.offset);
        let mut repaired = None;
        if let Some(last) = self.last[i] {
            if dts < last && last - dts <= JITTER {
                repaired = Some((
                    "timestamp_clamped",
                    format!(
                        "{:?} dts {} ms after {} ms: clamped",
                        frame.media,
                        dts / 90,
                        last / 90
                    ),
                ));
                dts = last;
            } else if dts < last {
                let target = last + self.step[i];
                self.offset += target - dts;
                repaired = Some(("timestamp_backward", format!(
                    "{:?} dts went back from {} ms to {} ms (input {input_ms} ms): continued at {} ms",
                    frame.media, last / 90, dts / 90, target / 90)));
                dts = target;
            }
        }
        if let Some(max) = self.max {
            if dts > max + self.max_gap {
                let target = max + self.step[i].max(1);
                self.offset -= dts - target;
                repaired = Some((
                    "timestamp_jump",
                    format!(
                        "{:?} dts jumped from {} ms to {} ms (input {input_ms} ms): closed up",
                        frame.media,
                        max / 90,
                        dts / 90
                    ),
                ));
                dts = target;
            }
        }
        let shift = dts - frame.dts;
        frame.pts = frame.pts.saturating_add(shift);
        frame.dts = dts;
        if let Some(last) = self.last[i] {
            if dts > last {
                self.step[i] = (dts - last).min(i64::from(CLOCK));
            }
        }
        self.last[i] = Some(dts);
        self.max = Some(self.max.map_or(dts, |m| m.max(dts)));
        repaired
    }
}

/// The policy between the FLV frame view and the MP4 writer, for one pass
/// over one input.
#[derive(Debug)]
pub struct Repairer {
    adapter: FlvAdapter,
    writer: Mp4Writer,
    retimer: Retimer,
    /// Per track: a configuration was refused, so its frames are dropped
    /// until one is accepted.
    refused: [bool; 2],
    video_key_seen: bool,
    report: Report,
}

impl Repairer {
    /// A repairer that closes up forward jumps longer than `max_gap_ms`.
    pub fn new(options: Mp4Options, max_gap_ms: u32) -> Repairer {
        Repairer {
            adapter: FlvAdapter::new(),
            writer: Mp4Writer::new(options),
            retimer: Retimer {
                offset: 0,
                last: [None; 2],
                step: [3_000, 1_920],
                max: None,
                max_gap: i64::from(max_gap_ms) * 90,
            },
            refused: [false; 2],
            video_key_seen: false,
            report: Report::default(),
        }
    }

    /// The report so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Notes a repair in the report.
    pub fn note(&mut self, kind: &'static str, offset: u64, detail: impl FnOnce() -> String) {
        self.report.note(kind, offset, detail);
    }

    /// The writer, to finish.
    pub fn writer(&self) -> &Mp4Writer {
        &self.writer
    }

    /// Takes one reader event; `out` gets each frame the writer took (its
    /// `data` is what goes into the media data).
    pub fn event(&mut self, event: ReadEvent, out: &mut impl FnMut(&Frame)) {
        match event {
            ReadEvent::Skipped {
                offset,
                len,
                reason,
            } => {
                self.report.skipped_bytes += len;
                self.note("skipped_bytes", offset, || {
                    format!("{len} bytes at {offset} skipped to the next valid tag ({reason:?})")
                });
            }
            ReadEvent::Tag(tag) => self.tag(tag, out),
            _ => {}
        }
    }

    fn tag(&mut self, tag: Tag, out: &mut impl FnMut(&Frame)) {
        if !matches!(tag.tag_type, TagType::Audio | TagType::Video) {
            return;
        }
        let offset = tag.offset;
        if tag.body.is_empty() {
            self.note("empty_tag", offset, || {
                format!("zero-size {:?} tag at {offset} dropped", tag.tag_type)
            });
            return;
        }
        for event in MediaEvents::new(tag) {
            match event {
                Ok(event) => self.media(event, offset, out),
                Err(e) => self.note("bad_tag", offset, || {
                    format!("tag at {offset} dropped: {e}")
                }),
            }
        }
    }

    fn media(&mut self, event: MediaEvent, offset: u64, out: &mut impl FnMut(&Frame)) {
        if let MediaEvent::Frame(frame) = &event {
            if frame.codec == Codec::Aac
                && frame.track == 0
                && self.adapter.tracks().audio.is_none()
            {
                self.assume_aac(frame.dts, offset, out);
            }
        }
        let inputs = match self.adapter.push(event) {
            Ok(inputs) => inputs,
            Err(e) => {
                let kind = match e {
                    AdapterError::MissingConfig { .. } => "before_sequence_header",
                    AdapterError::BadConfig { .. } => "bad_sequence_header",
                    _ => "unsupported_codec",
                };
                self.note(kind, offset, || format!("{e}: dropped"));
                return;
            }
        };
        for input in inputs {
            match input {
                FlvInput::Config(config) => {
                    let media = config.media();
                    match self.writer.set_config(config) {
                        Ok(()) => self.refused[index(media)] = false,
                        Err(e) => {
                            self.refused[index(media)] = true;
                            self.note("config_refused", offset, || {
                                format!("sequence header at {offset}: {e}; its frames are dropped")
                            });
                        }
                    }
                }
                FlvInput::Frame(frame) => self.frame(frame, offset, out),
                _ => {}
            }
        }
    }

    /// AAC frames without a sequence header: FFmpeg decodes them as AAC LC
    /// at the 44.1 kHz stereo that FLV's audio tag header says for every
    /// AAC stream, so the same configuration is assumed (and reported)
    /// rather than losing the whole audio track.
    fn assume_aac(&mut self, dts: i64, offset: u64, out: &mut impl FnMut(&Frame)) {
        let config = MediaEvent::Config(ConfigChange {
            media: MediaType::Audio,
            codec: Codec::Aac,
            track: 0,
            dts,
            kind: ConfigChangeKind::SequenceStart,
            data: Bytes::from_static(&[0x12, 0x10]),
            offset,
        });
        self.note("assumed_aac_config", offset, || {
            format!("AAC frame at {offset} without a sequence header: AAC LC 44.1 kHz stereo assumed (what the FLV tag header says)")
        });
        self.media(config, offset, out);
    }

    fn frame(&mut self, mut frame: Frame, offset: u64, out: &mut impl FnMut(&Frame)) {
        let media = frame.media;
        if self.refused[index(media)] {
            self.note("after_refused_config", offset, || {
                format!("{media:?} frame at {offset} uses a refused sequence header: dropped")
            });
            return;
        }
        if media == MediaKind::Video && !self.video_key_seen {
            if !frame.key {
                self.note("before_key_frame", offset, || {
                    format!("video frame at {offset} before the first key frame: dropped")
                });
                return;
            }
            self.video_key_seen = true;
        }
        if let Some((kind, detail)) = self.retimer.retime(&mut frame) {
            self.note(kind, offset, || format!("at {offset}: {detail}"));
        }
        match self.writer.push(&frame) {
            Ok(_) => {
                match media {
                    MediaKind::Video => self.report.video_frames += 1,
                    MediaKind::Audio => self.report.audio_frames += 1,
                }
                out(&frame);
            }
            Err(e) => self.note("frame_refused", offset, || {
                format!("frame at {offset}: {e}: dropped")
            }),
        }
    }
}
