//! A multitrack publish's extra tracks ([`crate::hls::tracks`]) on the
//! stream: packaging their events, and what the multivariant playlist lists
//! of them.

use std::time::SystemTime;

use hls_mux::playlist::Variant;
use hls_mux::{FlvInput, Tracks};
use tracing::info;

use super::{note_error, AudioInfo, State, Stream, VARIANT_SEGMENTS};
use crate::hls::tracks::{ExtraId, ExtraTrack, MAX_EXTRA_TRACKS};

impl Stream {
    /// An event of extra track `id`: into its own muxer, made on the
    /// track's first event (at most [`MAX_EXTRA_TRACKS`]; none with
    /// encryption, whose keys go with the stream's own media sequence).
    pub(super) fn push_extra(&self, state: &mut State, id: ExtraId, event: flv::MediaEvent) {
        let index = match state.extra_tracks.iter().position(|e| e.id == id) {
            Some(index) => index,
            None if self.encryption.is_some() => {
                let error = format!("{} is not packaged: the stream is encrypted", id.dir());
                return note_error(state, &self.key, error);
            }
            None if state.extra_tracks.len() >= MAX_EXTRA_TRACKS => {
                let error = format!(
                    "{} is not packaged: {MAX_EXTRA_TRACKS} extra tracks already are",
                    id.dir()
                );
                return note_error(state, &self.key, error);
            }
            None => match ExtraTrack::new(id, &self.options.muxer) {
                Ok(extra) => {
                    info!(key = self.key, track = id.dir(), "an extra track");
                    state.extra_tracks.push(extra);
                    state.extra_tracks.len() - 1
                }
                Err(error) => return note_error(state, &self.key, error.to_string()),
            },
        };
        let anchor = state.muxer.clock_anchor();
        let extra = &mut state.extra_tracks[index];
        extra.clock(SystemTime::now(), anchor);
        let mut errors = Vec::new();
        match extra.adapter.push(event) {
            Ok(inputs) => {
                for input in inputs {
                    let result = match input {
                        FlvInput::Config(config) => extra.muxer.set_config(config),
                        FlvInput::Frame(frame) => extra.muxer.push(frame),
                        _ => Ok(()),
                    };
                    if let Err(error) = result {
                        errors.push(format!("{}: {error}", id.dir()));
                    }
                }
            }
            Err(error) => errors.push(format!("{}: {error}", id.dir())),
        }
        if extra.drain(&mut state.files, self.options.muxer.format) {
            self.notify();
        }
        for error in errors {
            note_error(state, &self.key, error);
        }
    }

    /// The audio tracks of a multitrack publish with a segment to play, by
    /// track id, track 0 (the audio in the stream's own segments) first;
    /// empty when the publish has no extra track.
    pub fn audio_tracks(&self) -> Vec<AudioInfo> {
        let state = self.lock();
        if state.extra_tracks.is_empty() {
            return Vec::new();
        }
        let info = |track: u8, tracks: &Tracks| AudioInfo {
            track,
            channels: tracks.audio.as_ref().and_then(|c| c.channels()),
            label: (state.audio_labels.iter())
                .find(|(id, _)| *id == track)
                .map(|(_, label)| label.clone())
                .unwrap_or_default(),
        };
        let main = state.muxer.tracks();
        let mut tracks: Vec<_> = (main.audio.is_some())
            .then(|| info(0, main))
            .into_iter()
            .collect();
        let extra = (state.extra_tracks.iter())
            .filter(|e| e.id.media == flv::MediaType::Audio)
            .filter(|e| e.muxer.playlist().segments().next().is_some())
            .map(|e| info(e.id.track, e.muxer.tracks()));
        tracks.extend(extra);
        tracks.sort_unstable_by_key(|t| t.track);
        tracks
    }

    /// The extra video tracks of a multitrack publish as variants, their
    /// playlists at `DIR/videoN/index.m3u8` (as [`Stream::variant`]: once
    /// each holds [`VARIANT_SEGMENTS`] segments), by track id.
    pub fn video_variants(&self, dir: &str) -> Vec<Variant> {
        let state = self.lock();
        if state.publisher.is_none() {
            return Vec::new();
        }
        let audio = state.muxer.tracks().audio.clone();
        let summary = state.probe.summary();
        let mut out = Vec::new();
        for extra in &state.extra_tracks {
            if extra.id.media != flv::MediaType::Video {
                continue;
            }
            let playlist = extra.muxer.playlist();
            if playlist.segments().count() < VARIANT_SEGMENTS {
                continue;
            }
            let Some(bandwidth) = playlist.bandwidth() else {
                continue;
            };
            let uri = format!("{dir}/{}/index.m3u8", extra.id.dir());
            let mut variant = Variant::measured(uri, bandwidth);
            let tracks = Tracks {
                video: extra.muxer.tracks().video.clone(),
                audio: audio.clone(),
            };
            variant = variant.codecs(tracks.codecs());
            if let Some((width, height)) = tracks.video.as_ref().and_then(|v| v.resolution()) {
                variant = variant.resolution(width, height);
            }
            let fps = (summary.tracks.iter())
                .find(|t| t.media == flv::MediaType::Video && t.track == extra.id.track)
                .and_then(|t| t.fps())
                .filter(|fps| fps.is_finite() && *fps > 0.0 && *fps < 1000.0);
            if let Some(fps) = fps {
                variant = variant.frame_rate(fps);
            }
            out.push(variant);
        }
        out
    }
}
