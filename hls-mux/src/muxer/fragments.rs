//! fMP4 fragments: the parts (or whole segments without parts) being
//! filled, the samples waiting for their durations, and writing them out in
//! order as parts and segment data.

use bytes::Bytes;

use super::{index, to_ms, MuxError, Muxer, Output, Writer, FALLBACK_STEP, MAX_CARRY, ROUNDING};
use crate::fmp4::{ticks_for_track_duration, Sample};
use crate::media::{Frame, MediaKind, TrackConfig};
use crate::playlist::Part;

/// A sample whose duration is known once its track's next frame arrives.
#[derive(Debug)]
pub(super) struct PendingSample {
    pub(super) sample: Sample,
    /// `sample.duration` is the distance to the track's next frame; until
    /// then it is 0, and a fragment written before it comes gives the
    /// sample its track's nominal duration ([`Muxer::nominal_duration`]).
    pub(super) known: bool,
}

/// An fMP4 fragment (a part, or a whole segment without parts).
#[derive(Debug)]
pub(super) struct Fragment {
    pub(super) samples: Vec<PendingSample>,
    /// Output DTS of its first frame, 90 kHz.
    pub(super) start: i64,
    /// Its duration once closed, 90 kHz.
    pub(super) duration: Option<i64>,
    pub(super) independent: bool,
    pub(super) msn: u64,
    pub(super) part: u32,
    /// The last fragment of its segment.
    pub(super) ends_segment: bool,
}

/// Takes the audio samples of `fragment` that start at or after `start`
/// (in order): they belong to the part or segment starting there. None
/// when that would leave the fragment empty (parts that catch up after a
/// gap start before their content): a part must have bytes.
pub(super) fn take_audio_from(fragment: &mut Fragment, start: i64) -> Vec<PendingSample> {
    let belongs_later =
        |p: &PendingSample| p.sample.media == MediaKind::Audio && p.sample.dts >= start;
    if !fragment.samples.iter().any(belongs_later) || fragment.samples.iter().all(belongs_later) {
        return Vec::new();
    }
    let (later, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut fragment.samples)
        .into_iter()
        .partition(belongs_later);
    fragment.samples = kept;
    later
}

/// The most samples a fragment's list is made ready for ahead (a 6 s
/// fragment at 60 fps with 48 kHz AAC has about 640).
const MAX_SAMPLES_HINT: usize = 1024;

/// `samples` with room for `hint` in all (as many as the last fragment
/// written had, bounded), so a fragment's list is allocated once instead of
/// growing by doubling.
pub(super) fn with_room(mut samples: Vec<PendingSample>, hint: usize) -> Vec<PendingSample> {
    samples.reserve(hint.min(MAX_SAMPLES_HINT).saturating_sub(samples.len()));
    samples
}

impl Muxer {
    pub(super) fn open_fragment(&mut self, start: i64, independent: bool) {
        let hint = self.samples_hint;
        let Some(segment) = self.segment.as_mut() else {
            return;
        };
        segment.parts += 1;
        // Audio that came before the video frame starting this part but
        // starts at or after it (an encoder that interleaves audio early)
        // belongs to this part: each audio frame goes in the part whose
        // video range it starts in.
        let carried = match self.fragments.back_mut() {
            Some(closing) => take_audio_from(closing, start),
            None => Vec::new(),
        };
        let carried = with_room(carried, hint);
        self.fragments.push_back(Fragment {
            samples: carried,
            start,
            duration: None,
            independent,
            msn: segment.msn,
            part: segment.parts,
            ends_segment: false,
        });
    }

    /// Which queued fragment a frame goes in: video in the newest; audio,
    /// with parts, in the newest one that starts at or before it (an audio
    /// frame that comes after the video frame that started a part but
    /// starts before it belongs to the part before, if that is not written
    /// yet).
    pub(super) fn fragment_for(&mut self, frame: &Frame) -> Option<usize> {
        let newest = self.fragments.len().checked_sub(1)?;
        if frame.media == MediaKind::Video || self.part_target_ms.is_none() {
            return Some(newest);
        }
        Some(
            self.fragments
                .iter()
                .rposition(|f| f.start <= frame.dts)
                .unwrap_or(0),
        )
    }

    /// The first video frame of a segment whose first part began with
    /// audio (audio that leads in before the first key frame) moves the
    /// part's start, and the segment's part timeline, to itself: part start
    /// times are video times.
    pub(super) fn align_origin(&mut self, index: usize, frame: &Frame) {
        if frame.media != MediaKind::Video || self.part_target_ms.is_none() || index != 0 {
            return;
        }
        let (Some(segment), Some(fragment)) = (self.segment.as_mut(), self.fragments.front_mut())
        else {
            return;
        };
        let has_video = fragment
            .samples
            .iter()
            .any(|p| p.sample.media == MediaKind::Video);
        if fragment.part == 0
            && !segment.origin_fixed
            && fragment.duration.is_none()
            && !has_video
            && segment.msn == fragment.msn
            && frame.dts > fragment.start
        {
            fragment.start = frame.dts;
            segment.origin = frame.dts;
        }
    }

    pub(super) fn close_fragment(&mut self, end: i64, ends_segment: bool) {
        if let Some(fragment) = self.fragments.back_mut() {
            if fragment.duration.is_none() {
                fragment.duration = Some(end.saturating_sub(fragment.start));
                fragment.ends_segment = ends_segment;
            }
        }
    }

    /// The latest sample of `media` not yet written gets its duration:
    /// the distance to `dts`, where the track's next frame starts.
    pub(super) fn resolve_previous(&mut self, media: MediaKind, dts: i64) {
        let latest = self
            .fragments
            .iter_mut()
            .rev()
            .find_map(|f| f.samples.iter_mut().rev().find(|p| p.sample.media == media));
        if let Some(pending) = latest.filter(|p| !p.known) {
            let step = dts.saturating_sub(pending.sample.dts);
            pending.sample.duration = u32::try_from(step.max(0)).unwrap_or(u32::MAX);
            pending.known = true;
        }
    }

    /// Writes the closed fragments at the front whose samples all have
    /// durations; also, with one missing, once the fragment after it is
    /// closed too (the stream went a whole part further without that
    /// track: a stalled or muted track must not hold back every part after
    /// it), and every one with `force`. A duration still missing is the
    /// track's nominal one.
    pub(super) fn drain_fragments(&mut self, force: bool) -> Result<(), MuxError> {
        while let Some(fragment) = self.fragments.front() {
            let moved_on = self.fragments.get(1).is_some_and(|f| f.duration.is_some());
            let ready = fragment.duration.is_some()
                && (force || moved_on || fragment.samples.iter().all(|p| p.known));
            if !ready {
                break;
            }
            let Some(fragment) = self.fragments.pop_front() else {
                break;
            };
            self.write_fragment(fragment)?;
        }
        Ok(())
    }

    /// The duration to give a track's last sample when its next frame is
    /// not known yet (90 kHz): what the codec fixes where it does (AAC:
    /// 1024 samples a frame, or 960; MP3: 1152, or 576 for MPEG-2 and 2.5),
    /// exact in the track's timescale; otherwise the track's measured frame
    /// step. Not a guess from the last step of a millisecond clock: AAC at
    /// 44.1 kHz alternates 23 and 24 ms steps (1014 and 1058 ticks), and
    /// one of them is always wrong.
    pub(super) fn nominal_duration(&self, media: MediaKind, dts: i64) -> i64 {
        let per_frame = match self.writer_tracks.get(media) {
            Some(TrackConfig::Aac(aac)) if aac.core_sample_rate() > 0 => {
                let samples = if aac.frame_length_flag() { 960 } else { 1024 };
                // At the output rate the track's timescale has (twice the
                // core rate with SBR).
                Some(samples * i64::from(aac.sample_rate()) / i64::from(aac.core_sample_rate()))
            }
            Some(TrackConfig::Mp3(mp3)) => Some(if mp3.mpeg_version == 1 { 1152 } else { 576 }),
            _ => None,
        };
        let timescale = match &self.writer {
            Some(Writer::Fmp4(writer)) => writer.track(media).map(|(_, timescale)| timescale),
            _ => None,
        };
        if let (Some(samples), Some(timescale)) = (per_frame, timescale) {
            return ticks_for_track_duration(timescale, dts, samples);
        }
        let measured = self.last[index(media)].step;
        if measured > 0 {
            measured
        } else {
            FALLBACK_STEP
        }
    }

    /// Makes each track's first sample start where the track's written
    /// timeline ended, so that every fragment's `tfdt` is the previous
    /// `tfdt` plus the durations before it (readers warn "tfdt less than
    /// cumulated timing" otherwise, and players see a gap or an overlap).
    ///
    /// The last sample of a fragment written before its track's next frame
    /// came has its nominal duration, which can differ from where the next
    /// frame really starts (RTMP's millisecond rounding, a gap). The
    /// difference is carried into the next fragment: the first sample's
    /// decode time moves to the timeline's end and its duration reaches to
    /// where the sample after it starts, so the timeline is exact again
    /// after one sample. Its presentation time stays (the composition
    /// offset absorbs the move), except for moves within millisecond
    /// rounding, where the presentation time moves too and an audio frame
    /// keeps its zero offset. Nothing moves when the move would pass the
    /// sample's own end or exceed [`MAX_CARRY`].
    pub(super) fn continue_timeline(&self, samples: &mut [Sample]) {
        for media in [MediaKind::Video, MediaKind::Audio] {
            let Some(end) = self.timeline_end[index(media)] else {
                continue;
            };
            let mut of_track = samples.iter_mut().filter(|s| s.media == media);
            let Some(first) = of_track.next() else {
                continue;
            };
            let next = of_track.next().map(|s| s.dts);
            let shift = first.dts.saturating_sub(end);
            let own_end = next.unwrap_or(first.dts.saturating_add(first.duration.into()));
            if shift == 0 || !(-MAX_CARRY..=MAX_CARRY).contains(&shift) || end >= own_end {
                continue;
            }
            if next.is_none() {
                first.duration =
                    u32::try_from(own_end.saturating_sub(end)).unwrap_or(first.duration);
            }
            if (-ROUNDING..=ROUNDING).contains(&shift) {
                first.pts = first.pts.saturating_sub(shift);
            }
            first.dts = end;
        }
    }

    pub(super) fn write_fragment(&mut self, mut fragment: Fragment) -> Result<(), MuxError> {
        self.samples_hint = fragment.samples.len();
        let duration = self.part_seconds(&fragment);
        let mut samples: Vec<Sample> = Vec::with_capacity(fragment.samples.len());
        for pending in std::mem::take(&mut fragment.samples) {
            let mut sample = pending.sample;
            if !pending.known {
                let nominal = self.nominal_duration(sample.media, sample.dts);
                sample.duration = u32::try_from(nominal.max(0)).unwrap_or(u32::MAX);
            }
            samples.push(sample);
        }
        self.continue_timeline(&mut samples);
        for media in [MediaKind::Video, MediaKind::Audio] {
            if let Some(last) = samples.iter().rev().find(|s| s.media == media) {
                self.timeline_end[index(media)] =
                    Some(last.dts.saturating_add(last.duration.into()));
            }
        }
        let Some(Writer::Fmp4(writer)) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut data = Vec::new();
        let independent = fragment.independent
            && match samples.iter().find(|s| s.media == MediaKind::Video) {
                Some(first_video) => first_video.key,
                None => self.writer_tracks.video.is_none(),
            };
        // Timed metadata goes in front of the fragment's `moof` (CMAF).
        for (pts, id3) in self.metadata.drain(..) {
            let id = self.next_metadata_id;
            self.next_metadata_id = id.wrapping_add(1);
            data.push(Bytes::from(crate::id3::emsg(pts.max(0) as u64, id, &id3)));
        }
        if !samples.is_empty() {
            writer.fragment(self.fragment_sequence, &samples, &mut data)?;
            self.fragment_sequence = self.fragment_sequence.wrapping_add(1);
        }
        if self.options.part_duration.is_some() {
            let uri = format!("part{}.{}.m4s", fragment.msn, fragment.part);
            self.playlist
                .push_part(Part::new(uri.clone(), duration).independent(independent))?;
            self.playlist.set_preload_hint(Some(format!(
                "part{}.{}.m4s",
                fragment.msn,
                fragment.part + 1
            )))?;
            // Encrypted parts are their own resources: the segment keeps the
            // clear bytes and is encrypted whole when it completes.
            let part = match &self.options.encryption {
                Some(encryption) => vec![encryption.encrypt(fragment.msn, &data)],
                None => data.clone(),
            };
            self.outputs.push_back(Output::Part {
                uri,
                data: part,
                duration,
                independent,
            });
        }
        if let Some(segment) = self.segment.as_mut() {
            if segment.msn == fragment.msn {
                segment.data.extend(data);
            }
        }
        Ok(())
    }

    /// A part's duration, seconds, in whole milliseconds: the difference of
    /// its end and start, each rounded to the millisecond from the
    /// segment's origin, so that the playlist's part durations add up to
    /// the segment's exactly and each part's start (the sum of the
    /// durations before it) is its video `tfdt` to the millisecond. At most
    /// the part target: the segmenter keeps parts within it, and the clamp
    /// only keeps an unforeseen case from ending the stream.
    pub(super) fn part_seconds(&self, fragment: &Fragment) -> f64 {
        let origin = self
            .segment
            .as_ref()
            .filter(|s| s.msn == fragment.msn)
            .map_or(fragment.start, |s| s.origin);
        let start = fragment.start.saturating_sub(origin);
        let end = start.saturating_add(fragment.duration.unwrap_or(0));
        let ms = (to_ms(end) - to_ms(start)).clamp(0, self.part_target_ms.unwrap_or(i64::MAX));
        ms as f64 / 1000.0
    }
}
