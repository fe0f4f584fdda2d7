//! What the probe remembers about one (media, track) stream: its configuration,
//! its last timestamps and its GOP, and the running summary.

use bytes::Bytes;
use flv::config::{CodecConfig, FrameRate};
use flv::{Codec, ConfigChange, Frame, MediaType};

use crate::nominal;
use crate::pict_type::{self, HevcParams, PictType};
use crate::summary::{GopStats, TrackSummary};

/// What the current sequence header says.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConfigInfo {
    pub(crate) codec_string: Option<String>,
    pub(crate) size: Option<(u32, u32)>,
    pub(crate) frame_rate: Option<FrameRate>,
    pub(crate) audio: Option<(u32, u8)>,
    pub(crate) nal_length_size: u8,
    /// AAC: samples per frame and the core sample rate.
    pub(crate) aac_frame: Option<(u32, u32)>,
}

impl ConfigInfo {
    pub(crate) fn parse(change: &ConfigChange, hevc: &mut Option<Box<HevcParams>>) -> ConfigInfo {
        let mut info = ConfigInfo {
            nal_length_size: 4,
            ..ConfigInfo::default()
        };
        let Some(Ok(config)) = change.parse() else {
            return info;
        };
        info.codec_string = Some(config.codec_string());
        if let Some(video) = config.video_info() {
            info.size = Some((video.width, video.height));
            info.frame_rate = video.frame_rate;
        }
        if let (Some(rate), Some(channels)) = (config.sample_rate(), config.channels()) {
            info.audio = Some((rate, channels));
        }
        match &config {
            CodecConfig::Avc(avc) => info.nal_length_size = avc.nal_length_size(),
            CodecConfig::Hevc(hevc_config) => {
                info.nal_length_size = hevc_config.nal_length_size();
                let params = hevc.get_or_insert_with(Box::default);
                for pps in hevc_config.nal_units(34) {
                    params.put_pps(pps);
                }
            }
            CodecConfig::Aac(aac) => {
                let samples = if aac.frame_length_flag() { 960 } else { 1024 };
                info.aac_frame = Some((samples, aac.core_sample_rate()));
            }
            _ => {}
        }
        info
    }
}

/// A GOP that just ended.
pub(crate) struct GopEnd {
    pub(crate) gop_ms: i64,
    pub(crate) frames: u32,
    pub(crate) previous: Option<(i64, u32)>,
}

/// Per-track state.
#[derive(Debug)]
pub(crate) struct Track {
    pub(crate) media: MediaType,
    pub(crate) track: u8,
    pub(crate) stream_index: u32,
    pub(crate) config: Option<Bytes>,
    pub(crate) info: ConfigInfo,
    pub(crate) hevc: Option<Box<HevcParams>>,
    pub(crate) missing_reported: bool,
    pub(crate) last_dts: Option<i64>,
    /// Added to DTS for the DTS statistics clock (backward jumps folded away).
    pub(crate) stats_shift: i64,
    /// Sequence number of this track's record waiting for its duration.
    pub(crate) pending: Option<u64>,
    /// Smallest positive DTS step among recent frames: the frame duration when
    /// nothing else gives one.
    recent_min_step: Option<i64>,
    steps_seen: u32,
    /// Frame rate measured over the first seconds, frozen then.
    pub(crate) estimated_fps: Option<f64>,
    last_key: Option<i64>,
    gop_frames: u32,
    gop_broken: bool,
    last_gop: Option<(i64, u32)>,
    pub(crate) summary: TrackSummary,
}

/// Span of DTS over which a missing frame rate is estimated, ms.
const FPS_ESTIMATE_SPAN_MS: i64 = 2000;

impl Track {
    pub(crate) fn new(media: MediaType, codec: Codec, track: u8, stream_index: u32) -> Track {
        Track {
            media,
            track,
            stream_index,
            config: None,
            info: ConfigInfo {
                nal_length_size: 4,
                ..ConfigInfo::default()
            },
            hevc: None,
            missing_reported: false,
            last_dts: None,
            stats_shift: 0,
            pending: None,
            recent_min_step: None,
            steps_seen: 0,
            estimated_fps: None,
            last_key: None,
            gop_frames: 0,
            gop_broken: false,
            last_gop: None,
            summary: TrackSummary {
                stream_index,
                media,
                codec,
                track,
                codec_string: None,
                size: None,
                audio: None,
                nominal_fps: None,
                frames: 0,
                bytes: 0,
                keyframes: 0,
                first_dts: None,
                last_dts: None,
                span_ms: 0,
                sequence_headers: 0,
                gops: GopStats::default(),
                pict_types: [0; 5],
            },
        }
    }

    /// Codecs whose frames cannot be decoded without a sequence header.
    pub(crate) fn needs_config(codec: Codec) -> bool {
        matches!(
            codec,
            Codec::Avc
                | Codec::Hevc
                | Codec::Av1
                | Codec::Vp9
                | Codec::Aac
                | Codec::Opus
                | Codec::Flac
        )
    }

    /// Takes a new sequence header; returns the old info when the record changed.
    pub(crate) fn set_config(&mut self, change: &ConfigChange) -> Option<ConfigInfo> {
        self.summary.sequence_headers += 1;
        self.missing_reported = false;
        if self.config.as_ref() == Some(&change.data) {
            return None;
        }
        let info = ConfigInfo::parse(change, &mut self.hevc);
        self.summary.codec_string.clone_from(&info.codec_string);
        self.summary.size = info.size.or(self.summary.size);
        self.summary.audio = info.audio.or(self.summary.audio);
        let old = std::mem::replace(&mut self.info, info);
        let had = self.config.replace(change.data.clone()).is_some();
        had.then_some(old)
    }

    /// The frame rate to hold the stream to: configured, signalled, or estimated.
    pub(crate) fn nominal_fps(&self, configured: Option<f64>) -> Option<f64> {
        configured
            .or_else(|| self.info.frame_rate.map(|r| r.as_f64()))
            .or(self.estimated_fps)
    }

    /// The duration FFmpeg gives this frame (see [`crate::nominal`]).
    pub(crate) fn nominal_duration(
        &self,
        frame: &Frame,
        configured_fps: Option<f64>,
    ) -> Option<i64> {
        match frame.codec {
            Codec::Aac => self
                .info
                .aac_frame
                .and_then(|(samples, rate)| nominal::samples_ms(samples, rate)),
            Codec::Mp3 | Codec::Mp3_8k => nominal::mpeg_audio_frame(&frame.data)
                .and_then(|(samples, rate)| nominal::samples_ms(samples, rate)),
            Codec::Opus => nominal::opus_packet_samples(&frame.data)
                .and_then(|samples| nominal::samples_ms(samples, 48_000)),
            _ if self.media == MediaType::Video => {
                if let Some(fps) = configured_fps {
                    return Some((1000.0 / fps) as i64);
                }
                match self.info.frame_rate {
                    Some(rate) => nominal::frame_ms(rate),
                    None => self.recent_min_step,
                }
            }
            _ => None,
        }
    }

    /// Picture type of a video frame.
    pub(crate) fn pict_type(&mut self, frame: &Frame) -> Option<PictType> {
        match frame.codec {
            Codec::Avc => pict_type::h264_pict_type(&frame.data, self.info.nal_length_size),
            Codec::Hevc => self
                .hevc
                .get_or_insert_with(Box::default)
                .pict_type(&frame.data, self.info.nal_length_size),
            _ => None,
        }
    }

    /// Notes a DTS step that was neither a jump nor backwards.
    pub(crate) fn regular_step(&mut self, step: i64) {
        self.summary.span_ms = self.summary.span_ms.saturating_add(step);
        if step > 0 {
            // Forget the minimum now and then, so a rate change is followed.
            self.steps_seen += 1;
            if self.steps_seen % 64 == 0 {
                self.recent_min_step = None;
            }
            self.recent_min_step = Some(self.recent_min_step.map_or(step, |m| m.min(step)));
        }
        if self.estimated_fps.is_none()
            && self.media == MediaType::Video
            && self.summary.span_ms >= FPS_ESTIMATE_SPAN_MS
        {
            // This frame is not counted yet: the steps so far are the frames so far.
            self.estimated_fps =
                Some(self.summary.frames as f64 * 1000.0 / self.summary.span_ms as f64);
        }
    }

    /// A DTS jump inside the current GOP makes its length meaningless.
    pub(crate) fn break_gop(&mut self) {
        self.gop_broken = true;
        self.last_gop = None;
    }

    /// Counts a video frame into the GOP; at a key frame, returns the GOP it ends.
    pub(crate) fn gop_frame(&mut self, dts: i64, key: bool) -> Option<GopEnd> {
        let mut ended = None;
        if key {
            if let Some(start) = self.last_key {
                if !self.gop_broken {
                    let gop = GopEnd {
                        gop_ms: dts.saturating_sub(start),
                        frames: self.gop_frames,
                        previous: self.last_gop,
                    };
                    self.summary.gops.add(gop.gop_ms, gop.frames);
                    self.last_gop = Some((gop.gop_ms, gop.frames));
                    ended = Some(gop);
                }
            }
            self.last_key = Some(dts);
            self.gop_frames = 0;
            self.gop_broken = false;
        }
        if self.last_key.is_some() {
            self.gop_frames += 1;
        }
        ended
    }

    /// The GOP still open at the end of input: its length to the end of the last
    /// frame, and its frames.
    pub(crate) fn open_gop(&self, end: i64) -> Option<(i64, u32)> {
        let start = self.last_key?;
        (!self.gop_broken).then(|| (end.saturating_sub(start), self.gop_frames))
    }
}
