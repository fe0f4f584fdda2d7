//! The adapter from the `flv` crate's frame view (FLV files and RTMP
//! messages alike) to hls-mux's input.

use flv::config::{CodecConfig, ConfigError};
use flv::{Codec, ConfigChangeKind, MediaEvent, MediaType};

use crate::media::{Frame, MediaKind, Mp3Config, TrackConfig, Tracks};

/// What one FLV media event means for hls-mux.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlvInput {
    /// A track's configuration is new or changed (a new sequence header, or
    /// the first MP3 frame, or an MP3 frame with other parameters). A
    /// sequence header that repeats the current one gives nothing.
    Config(TrackConfig),
    /// A frame (timestamps converted to 90 kHz).
    Frame(Frame),
}

/// Why an FLV event cannot be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterError {
    /// A codec hls-mux cannot package (VP6, Sorenson H.263, Speex, G.711,
    /// Nellymoser, ...).
    #[error("{media:?} codec {codec:?} cannot be packaged for HLS (H.264, HEVC, AV1, VP9, AAC, MP3, Opus and FLAC can)")]
    UnsupportedCodec {
        /// Audio or video.
        media: MediaType,
        /// The codec.
        codec: Codec,
    },
    /// A sequence header whose record does not parse.
    #[error("the {codec:?} sequence header at offset {offset} is not a valid configuration record: {source}")]
    BadConfig {
        /// The codec.
        codec: Codec,
        /// Offset of the tag.
        offset: u64,
        /// What is wrong.
        source: ConfigError,
    },
    /// A frame arrived before its track's sequence header.
    #[error("a {codec:?} frame at offset {offset} came before its sequence header")]
    MissingConfig {
        /// The codec.
        codec: Codec,
        /// Offset of the tag.
        offset: u64,
    },
}

/// Turns [`MediaEvent`]s into [`FlvInput`]s: parses sequence headers into
/// [`TrackConfig`]s (dropping repeats), builds the MP3 configuration from
/// frame headers, converts timestamps to 90 kHz (with a ModEx nanosecond
/// offset), and keeps one track of multitrack streams: track 0, or the one
/// [`FlvAdapter::for_track`] names.
///
/// ```
/// use flv::{FrameEvent, FrameReader};
/// use hls_mux::{FlvAdapter, FlvInput};
/// let file = bytes::Bytes::from_static(b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00\
///     \x08\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\xaf\x00\x12\x10\x00\x00\x00\x0f\
///     \x08\x00\x00\x05\x00\x00\x17\x00\x00\x00\x00\xaf\x01\x21\x10\x04\x00\x00\x00\x10");
/// let mut adapter = FlvAdapter::new();
/// let mut inputs = Vec::new();
/// for event in FrameReader::new(file) {
///     if let FrameEvent::Media(event) = event? {
///         inputs.extend(adapter.push(event)?);
///     }
/// }
/// assert!(matches!(&inputs[0], FlvInput::Config(config) if config.codec_string() == "mp4a.40.2"));
/// assert!(matches!(&inputs[1], FlvInput::Frame(frame) if frame.dts == 23 * 90));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct FlvAdapter {
    tracks: Tracks,
    /// The multitrack track id taken (0: the default track).
    track: u8,
}

impl FlvAdapter {
    /// An adapter with no track configured yet, for track 0 (the only track
    /// of a stream that is not multitrack).
    pub fn new() -> FlvAdapter {
        FlvAdapter::default()
    }

    /// An adapter for track `track` of an Enhanced RTMP multitrack stream
    /// (one more audio language, say): every event of another track gives
    /// nothing.
    pub fn for_track(track: u8) -> FlvAdapter {
        FlvAdapter {
            track,
            ..FlvAdapter::default()
        }
    }

    /// The track this adapter takes.
    pub fn track(&self) -> u8 {
        self.track
    }

    /// The current configuration of each track.
    pub fn tracks(&self) -> &Tracks {
        &self.tracks
    }

    /// What `event` means: nothing for events with nothing for a muxer
    /// (repeated sequence headers, end of sequence, metadata, commands,
    /// tracks other than this adapter's, encrypted tags), a configuration, a frame, or
    /// both (an MP3 frame with new parameters: the configuration first).
    pub fn push(&mut self, event: MediaEvent) -> Result<Inputs, AdapterError> {
        match event {
            MediaEvent::Config(change) => {
                // An empty sequence header (FFmpeg writes one for AAC when it
                // has no extradata yet) configures nothing; FFmpeg skips it too.
                if change.track != self.track
                    || change.kind != ConfigChangeKind::SequenceStart
                    || change.data.is_empty()
                {
                    return Ok(Inputs::default());
                }
                let config = match change.parse() {
                    Some(Ok(config)) => track_config(config),
                    Some(Err(source)) => {
                        return Err(AdapterError::BadConfig {
                            codec: change.codec,
                            offset: change.offset,
                            source,
                        })
                    }
                    None => None,
                };
                let Some(config) = config else {
                    return Err(AdapterError::UnsupportedCodec {
                        media: change.media,
                        codec: change.codec,
                    });
                };
                Ok(Inputs {
                    config: self.set(config),
                    frame: None,
                })
            }
            MediaEvent::Frame(frame) => {
                if frame.track != self.track {
                    return Ok(Inputs::default());
                }
                let media = frame.media;
                if !supported(frame.codec) {
                    return Err(AdapterError::UnsupportedCodec {
                        media: frame.media,
                        codec: frame.codec,
                    });
                }
                let mut config_change = None;
                if matches!(frame.codec, Codec::Mp3 | Codec::Mp3_8k) {
                    if let Some(mp3) = Mp3Config::from_frame(&frame.data) {
                        config_change = self.set(TrackConfig::Mp3(mp3));
                    }
                }
                if self.tracks.get(media).is_none() {
                    return Err(AdapterError::MissingConfig {
                        codec: frame.codec,
                        offset: frame.offset,
                    });
                }
                Ok(Inputs {
                    config: config_change,
                    frame: Some(convert(frame, media)),
                })
            }
            _ => Ok(Inputs::default()),
        }
    }

    fn set(&mut self, config: TrackConfig) -> Option<TrackConfig> {
        let slot = match config.media() {
            MediaKind::Video => &mut self.tracks.video,
            MediaKind::Audio => &mut self.tracks.audio,
        };
        if slot.as_ref() == Some(&config) {
            return None;
        }
        *slot = Some(config.clone());
        Some(config)
    }
}

/// The inputs of one FLV event, in order: at most a configuration, then a
/// frame.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    config: Option<TrackConfig>,
    frame: Option<Frame>,
}

impl Iterator for Inputs {
    type Item = FlvInput;

    fn next(&mut self) -> Option<FlvInput> {
        if let Some(config) = self.config.take() {
            return Some(FlvInput::Config(config));
        }
        self.frame.take().map(FlvInput::Frame)
    }
}

fn supported(codec: Codec) -> bool {
    matches!(
        codec,
        Codec::Avc
            | Codec::Hevc
            | Codec::Av1
            | Codec::Vp9
            | Codec::Aac
            | Codec::Mp3
            | Codec::Mp3_8k
            | Codec::Opus
            | Codec::Flac
    )
}

fn track_config(config: CodecConfig) -> Option<TrackConfig> {
    Some(match config {
        CodecConfig::Avc(c) => TrackConfig::Avc(c),
        CodecConfig::Hevc(c) => TrackConfig::Hevc(c),
        CodecConfig::Av1(c) => TrackConfig::Av1(c),
        CodecConfig::Vp9(c) => TrackConfig::Vp9(c),
        CodecConfig::Aac(c) => TrackConfig::Aac(c),
        CodecConfig::Opus(c) => TrackConfig::Opus(c),
        CodecConfig::Flac(c) => TrackConfig::Flac(c),
        _ => return None,
    })
}

fn convert(frame: flv::Frame, media: MediaKind) -> Frame {
    // Sub-millisecond ModEx offsets round to the nearest 90 kHz tick.
    let nanos = i64::from(frame.nanos + 5_555) / 11_111;
    Frame {
        media,
        dts: Frame::ticks_from_ms(frame.dts).saturating_add(nanos),
        pts: Frame::ticks_from_ms(frame.pts).saturating_add(nanos),
        key: frame.key,
        data: frame.data,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use flv::{ConfigChange, MediaEvent};

    use super::*;

    const ASC: &[u8] = &[0x12, 0x10];

    fn config(codec: Codec, media: MediaType, data: &'static [u8]) -> MediaEvent {
        MediaEvent::Config(ConfigChange {
            media,
            codec,
            track: 0,
            dts: 0,
            kind: ConfigChangeKind::SequenceStart,
            data: Bytes::from_static(data),
            offset: 13,
        })
    }

    fn frame(
        codec: Codec,
        media: MediaType,
        dts: i64,
        nanos: u32,
        data: &'static [u8],
    ) -> MediaEvent {
        MediaEvent::Frame(flv::Frame {
            media,
            codec,
            track: 0,
            dts,
            pts: dts + 40,
            nanos,
            key: true,
            data: Bytes::from_static(data),
            offset: 40,
        })
    }

    fn inputs(adapter: &mut FlvAdapter, event: MediaEvent) -> Vec<FlvInput> {
        adapter.push(event).expect("usable event").collect()
    }

    #[test]
    fn a_repeated_sequence_header_is_not_a_change() {
        let mut adapter = FlvAdapter::new();
        assert_eq!(
            inputs(&mut adapter, config(Codec::Aac, MediaType::Audio, ASC)).len(),
            1
        );
        assert!(inputs(&mut adapter, config(Codec::Aac, MediaType::Audio, ASC)).is_empty());
        // 48 kHz instead of 44.1 kHz is a change.
        let changed = inputs(
            &mut adapter,
            config(Codec::Aac, MediaType::Audio, &[0x11, 0x90]),
        );
        assert!(
            matches!(&changed[..], [FlvInput::Config(TrackConfig::Aac(c))] if c.sample_rate() == 48_000)
        );
    }

    #[test]
    fn mp3_configuration_comes_from_the_first_frame_and_its_changes() {
        let mut adapter = FlvAdapter::new();
        let first = inputs(
            &mut adapter,
            frame(
                Codec::Mp3,
                MediaType::Audio,
                0,
                0,
                &[0xff, 0xfb, 0x90, 0x64, 0],
            ),
        );
        assert!(
            matches!(&first[..], [FlvInput::Config(TrackConfig::Mp3(c)), FlvInput::Frame(_)] if c.sample_rate == 44_100)
        );
        let same = inputs(
            &mut adapter,
            frame(
                Codec::Mp3,
                MediaType::Audio,
                26,
                0,
                &[0xff, 0xfb, 0x90, 0x64, 0],
            ),
        );
        assert!(matches!(&same[..], [FlvInput::Frame(f)] if f.dts == 26 * 90));
        // 48 kHz.
        let changed = inputs(
            &mut adapter,
            frame(
                Codec::Mp3,
                MediaType::Audio,
                52,
                0,
                &[0xff, 0xfb, 0x94, 0x64, 0],
            ),
        );
        assert!(
            matches!(&changed[..], [FlvInput::Config(TrackConfig::Mp3(c)), FlvInput::Frame(_)] if c.sample_rate == 48_000)
        );
    }

    #[test]
    fn errors_name_the_codec_and_the_offset() {
        let mut adapter = FlvAdapter::new();
        let error = adapter
            .push(frame(Codec::Aac, MediaType::Audio, 0, 0, b"\x21"))
            .unwrap_err();
        assert_eq!(
            error,
            AdapterError::MissingConfig {
                codec: Codec::Aac,
                offset: 40
            }
        );
        let error = adapter
            .push(frame(Codec::Speex, MediaType::Audio, 0, 0, b"\x21"))
            .unwrap_err();
        assert!(error.to_string().contains("Speex"), "{error}");
        let error = adapter
            .push(config(Codec::Avc, MediaType::Video, b"\x01\x64"))
            .unwrap_err();
        assert!(
            matches!(error, AdapterError::BadConfig { offset: 13, .. }),
            "{error}"
        );
    }

    #[test]
    fn timestamps_become_90khz_ticks_with_the_modex_nanoseconds() {
        let mut adapter = FlvAdapter::new();
        inputs(&mut adapter, config(Codec::Aac, MediaType::Audio, ASC));
        let got = inputs(
            &mut adapter,
            frame(Codec::Aac, MediaType::Audio, 1_000, 500_000, b"\x21"),
        );
        // 1000.5 ms is 90,045 ticks; the PTS keeps its 40 ms.
        assert!(matches!(&got[..], [FlvInput::Frame(f)] if (f.dts, f.pts) == (90_045, 93_645)));
    }

    #[test]
    fn an_adapter_takes_its_own_track_only() {
        let on = |track: u8, event: MediaEvent| match event {
            MediaEvent::Config(mut c) => {
                c.track = track;
                MediaEvent::Config(c)
            }
            MediaEvent::Frame(mut f) => {
                f.track = track;
                MediaEvent::Frame(f)
            }
            other => other,
        };
        let mut second = FlvAdapter::for_track(1);
        assert_eq!(second.track(), 1);
        let aac = config(Codec::Aac, MediaType::Audio, ASC);
        assert!(
            inputs(&mut second, on(0, aac.clone())).is_empty(),
            "track 0 is not its"
        );
        assert_eq!(inputs(&mut second, on(1, aac.clone())).len(), 1);
        let sample = frame(Codec::Aac, MediaType::Audio, 10, 0, b"\x21");
        assert!(inputs(&mut second, on(2, sample.clone())).is_empty());
        assert!(
            matches!(&inputs(&mut second, on(1, sample))[..], [FlvInput::Frame(f)] if f.dts == 900)
        );
        let mut first = FlvAdapter::new();
        assert!(
            inputs(&mut first, on(1, aac)).is_empty(),
            "track 1 is not track 0's"
        );
    }
}
