//! The repair policy: what happens to each FLV event on its way to the
//! MP4 writer, and the report of everything that was not as it should be.
//!
//! Nothing good is dropped: a frame is left out only when no decoder could
//! use it (before its track's first sequence header, video before the first
//! key frame, after a configuration the MP4 track cannot carry) or when the
//! writer refuses it; everything left out is counted in the report.

use bytes::Bytes;
use flv::tag::ScriptData;
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
    /// `timestamp_jump`, `frame_refused`, `unreadable_rest`,
    /// `metadata_duration`, `metadata_keyframes`.
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

/// What the first `onMetaData` claimed, checked against the tags: the
/// output never uses it (durations and sync samples come from the frames),
/// but a claim that is wrong is reported, since it is what players of the
/// FLV (and "iflv" seeking by byte offset) relied on.
#[derive(Debug, Default)]
struct Claims {
    /// Where the `onMetaData` tag is.
    offset: u64,
    duration: Option<f64>,
    /// `keyframes.filepositions`, sorted, without repeats.
    positions: Vec<u64>,
    /// `keyframes.times` entries.
    times: usize,
    /// Video key frame tags found at one of `positions`.
    matched: u64,
}

/// A claimed duration further than this from the frames' (seconds, plus
/// 1 % of it) is wrong: FFmpeg and flvtool2 write it to the millisecond.
const DURATION_TOLERANCE: f64 = 1.0;

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
    /// The writer keeps one configuration per track (the fragmented output).
    one_config: bool,
    video_key_seen: bool,
    claims: Option<Claims>,
    /// The first written frame's dts (90 kHz).
    first_dts: Option<i64>,
    report: Report,
}

impl Repairer {
    /// A repairer that closes up forward jumps longer than `max_gap_ms`.
    pub fn new(options: Mp4Options, max_gap_ms: u32) -> Repairer {
        Repairer {
            adapter: FlvAdapter::new(),
            one_config: options.max_sample_descriptions == 1,
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
            claims: None,
            first_dts: None,
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
        if tag.tag_type == TagType::Script {
            self.script(&tag);
            return;
        }
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
                            let one_config = self.one_config;
                            self.note("config_refused", offset, || {
                                format!(
                                    "sequence header at {offset}: {e}; its frames are dropped{}",
                                    if one_config {
                                        " (a fragmented file describes each track once, in its \
                                         init segment: the progressive output keeps them)"
                                    } else {
                                        ""
                                    }
                                )
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
        if media == MediaKind::Video && frame.key {
            self.key_frame_tag(offset);
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
                self.first_dts.get_or_insert(frame.dts);
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

    /// Keeps the first `onMetaData`'s claims (GStreamer repeats it many
    /// times; the first is what a player reads).
    fn script(&mut self, tag: &Tag) {
        if self.claims.is_some() {
            return;
        }
        let Some(meta) = ScriptData::parse(&tag.body)
            .ok()
            .and_then(|s| s.on_metadata())
        else {
            return;
        };
        let (mut positions, times) = meta
            .keyframes
            .map_or((Vec::new(), 0), |k| (k.file_positions, k.times.len()));
        positions.sort_unstable();
        positions.dedup();
        self.claims = Some(Claims {
            offset: tag.offset,
            duration: meta.duration,
            positions,
            times,
            matched: 0,
        });
    }

    /// A video key frame's tag at `offset`: is it in the keyframe index?
    /// (Writers point at the tag header; some at the PreviousTagSize before it.)
    fn key_frame_tag(&mut self, offset: u64) {
        if let Some(claims) = &mut self.claims {
            let listed = |at: u64| claims.positions.binary_search(&at).is_ok();
            if listed(offset) || offset.checked_sub(4).is_some_and(listed) {
                claims.matched += 1;
            }
        }
    }

    /// Ends the pass: reports what the `onMetaData` got wrong (its duration
    /// against the frames written, its keyframe index against the video key
    /// frame tags read).
    pub fn finish(&mut self) {
        let Some(claims) = self.claims.take() else {
            return;
        };
        let at = claims.offset;
        let span = match (self.first_dts, self.retimer.max) {
            (Some(first), Some(last)) => (last - first) as f64 / f64::from(CLOCK),
            _ => 0.0,
        };
        if let Some(claimed) = claims.duration {
            if !claimed.is_finite() || (claimed - span).abs() > DURATION_TOLERANCE + span / 100.0 {
                self.note("metadata_duration", at, || {
                    format!("onMetaData at {at} says the duration is {claimed} s, the frames last {span:.3} s: the MP4's duration comes from the frames")
                });
            }
        }
        let listed = claims.positions.len() as u64;
        if listed > claims.matched || (listed > 0 && claims.times != claims.positions.len()) {
            let (matched, times) = (claims.matched, claims.times);
            self.note("metadata_keyframes", at, || {
                format!("onMetaData at {at} has a keyframe index of {times} times and {listed} file positions, of which {matched} are at a video key frame's tag: ignored (the MP4's sync samples come from the frames)")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amf0::{Object, Value};
    use bytes::BytesMut;

    fn tag(tag_type: TagType, timestamp: i64, offset: u64, body: Bytes) -> ReadEvent {
        ReadEvent::Tag(Tag {
            tag_type,
            timestamp,
            raw_timestamp: timestamp as u32,
            stream_id: 0,
            encrypted: false,
            offset,
            body,
        })
    }

    /// An `onMetaData` body claiming `duration` and a keyframe index.
    fn metadata(duration: f64, times: &[f64], positions: &[f64]) -> Bytes {
        let numbers = |v: &[f64]| Value::StrictArray(v.iter().map(|&x| x.into()).collect());
        let mut keyframes = Object::new();
        keyframes.push("times", numbers(times));
        keyframes.push("filepositions", numbers(positions));
        let mut properties = Object::new();
        properties.push("duration", duration);
        properties.push("keyframes", Value::Object(keyframes));
        let mut body = BytesMut::new();
        Value::string("onMetaData").encode(&mut body);
        Value::EcmaArray {
            declared_len: 2,
            properties,
        }
        .encode(&mut body);
        body.freeze()
    }

    /// 2 s of AAC (LC 44.1 kHz) after `meta`; the report.
    fn convert_with(meta: Bytes) -> Report {
        let mut repairer = Repairer::new(Mp4Options::default(), 5_000);
        let mut frames = 0;
        let mut out = |_: &Frame| frames += 1;
        repairer.event(tag(TagType::Script, 0, 13, meta), &mut out);
        let config = Bytes::from_static(&[0xAF, 0x00, 0x12, 0x10]);
        repairer.event(tag(TagType::Audio, 0, 500, config), &mut out);
        for i in 0..87 {
            let frame = Bytes::from_static(&[0xAF, 0x01, 0x21, 0x10, 0x04]);
            repairer.event(
                tag(TagType::Audio, i * 23, 600 + 20 * i as u64, frame),
                &mut out,
            );
        }
        repairer.finish();
        assert_eq!(frames, 87, "every frame written whatever the metadata says");
        repairer.report().clone()
    }

    fn kinds(report: &Report) -> Vec<&'static str> {
        report.repairs.iter().map(|r| r.kind).collect()
    }

    #[test]
    fn lying_metadata_is_reported_and_ignored() {
        // An "iflv" upload: a duration of an hour and a keyframe index into
        // bytes the file does not have.
        let report = convert_with(metadata(3600.0, &[0.0, 10.0], &[9_000_000.0, 9_100_000.0]));
        assert_eq!(kinds(&report), ["metadata_duration", "metadata_keyframes"]);
        let duration = &report.repairs[0].detail;
        assert!(
            duration.contains("3600 s") && duration.contains("1.978 s"),
            "{duration}"
        );
        assert!(report.repairs[1]
            .detail
            .contains("0 are at a video key frame"));
    }

    #[test]
    fn truthful_metadata_is_not_a_repair() {
        assert!(kinds(&convert_with(metadata(2.0, &[], &[]))).is_empty());
    }
}
