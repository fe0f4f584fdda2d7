//! The progressive MP4 writer: one `ftyp` + `moov` + `mdat` file with the
//! `moov` first ("faststart"), what browsers, editors and upload pipelines
//! expect for seeking and thumbnails.
//!
//! The output is written in two steps that the caller drives:
//!
//! 1. **media data**: [`Mp4Writer::push`] takes each frame (decode order,
//!    tracks interleaved) and returns its bytes (the frame's own [`Bytes`],
//!    not copied) to append to the `mdat` payload, wherever the caller keeps
//!    it (a temporary file, or a second pass over the input);
//! 2. **header**: [`Mp4Writer::finish`] returns `ftyp` + `moov` + the `mdat`
//!    box header, with every chunk offset counted from the start of the
//!    file as if this header were placed right before the media data.
//!
//! The file is the header followed by the media data. The writer keeps the
//! sample tables (a few bytes per sample, see `table.rs`), never the media.
//! `flv2mp4` runs the input twice through the same writer (the first pass
//! for the header, the second writing the media data after it), so the
//! output is written once and no second file's space is needed; writing the
//! media data to a temporary file and copying it behind the header measured
//! the same within noise on a 19 MB file in the page cache (flv2mp4's
//! README), and writes every byte twice on a real disk.
//!
//! The `moov` follows what FFmpeg's `mov` muxer writes: `stts`, `ctts`
//! (version 0: offsets shifted to be non-negative), `stss` (when not every
//! sample is a sync sample), `stsc`, `stsz`, `stco` (`co64` when an offset
//! passes 4 GiB) and an edit list per track. Each track starts in the movie
//! where its first presented frame's pts lies after the earliest pts of
//! the file (an empty edit), and its edit skips the composition delay of
//! B-frames (`media_time` = the first presented frame's composition time),
//! so the file presents the input's timestamps. No Opus pre-skip edit is
//! written: FFmpeg writes none for FLV input either, and its decoders would
//! then drop the first 6.5 ms that the FLV decodes to.
//!
//! A configuration change (a new resolution) adds a sample description to
//! the track's `stsd` and starts a chunk that refers to it, as ISO/IEC
//! 14496-12 allows and FFmpeg reads; a codec or audio sample rate change is
//! refused ([`Mp4Error::ConfigChange`]).
//!
//! ```
//! use bytes::Bytes;
//! use flv::config::AacConfig;
//! use hls_mux::mp4::{Mp4Options, Mp4Writer};
//! use hls_mux::{Frame, MediaKind, TrackConfig};
//!
//! let mut writer = Mp4Writer::new(Mp4Options::default());
//! writer.set_config(TrackConfig::Aac(AacConfig::parse(&[0x12, 0x10])?))?;
//! let mut media = Vec::new();
//! for i in 0..10 {
//!     let dts = i * 2090; // about 1024 samples at 44.1 kHz
//!     let frame = Frame { media: MediaKind::Audio, dts, pts: dts, key: true, data: Bytes::from_static(b"\x21\x10\x04") };
//!     media.extend_from_slice(&writer.push(&frame)?);
//! }
//! let mut file = writer.finish()?.to_vec();
//! file.extend_from_slice(&media);
//! assert_eq!(&file[4..8], b"ftyp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod moov;
mod table;

use bytes::Bytes;

pub use error::Mp4Error;

use crate::{Frame, MediaKind, TrackConfig};
use table::Track;

/// Limits of an [`Mp4Writer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mp4Options {
    /// Most samples, all tracks together (default 20,000,000: 24 hours of
    /// 60 fps video with 48 kHz AAC is about 9.2 M). The tables cost about
    /// 4 to 30 bytes per sample, so this bounds the writer's memory.
    pub max_samples: u64,
    /// Most sample descriptions (configurations) per track (default 16).
    pub max_sample_descriptions: usize,
}

impl Default for Mp4Options {
    fn default() -> Self {
        Mp4Options {
            max_samples: 20_000_000,
            max_sample_descriptions: 16,
        }
    }
}

/// Writes a progressive (faststart) MP4 file; see the [module](self).
#[derive(Debug, Clone)]
pub struct Mp4Writer {
    options: Mp4Options,
    video: Option<Track>,
    audio: Option<Track>,
    /// Bytes of media data handed out so far.
    media_len: u64,
    /// The track whose sample was the last one written (its chunk is open).
    open: Option<MediaKind>,
    samples: u64,
}

impl Mp4Writer {
    /// A writer with no track yet.
    pub fn new(options: Mp4Options) -> Mp4Writer {
        Mp4Writer {
            options,
            video: None,
            audio: None,
            media_len: 0,
            open: None,
            samples: 0,
        }
    }

    /// Sets the configuration of `config`'s track: the first one creates
    /// the track, a different later one adds a sample description that the
    /// next frames use, a repeat does nothing.
    ///
    /// Fails, changing nothing, for a configuration no sample entry can
    /// describe, and for a codec change, an audio sample rate change or
    /// one description too many ([`Mp4Error::ConfigChange`]).
    pub fn set_config(&mut self, config: TrackConfig) -> Result<(), Mp4Error> {
        let media = config.media();
        moov::check_config(&config)?;
        let limit = self.options.max_sample_descriptions;
        let slot = match media {
            MediaKind::Video => &mut self.video,
            MediaKind::Audio => &mut self.audio,
        };
        let Some(track) = slot else {
            let timescale = moov::timescale(&config)?;
            *slot = Some(Track::new(media, timescale, config));
            return Ok(());
        };
        let current = track.configs.last().unwrap_or(&config);
        if *current == config {
            return Ok(());
        }
        let change = |expected: String| Mp4Error::ConfigChange {
            media,
            expected,
            got: describe(&config),
        };
        if std::mem::discriminant(current) != std::mem::discriminant(&config) {
            return Err(change(format!("{} (the track's codec)", describe(current))));
        }
        if media == MediaKind::Audio && config.sample_rate() != Some(track.timescale) {
            return Err(change(format!(
                "{} Hz (the track's timescale)",
                track.timescale
            )));
        }
        if track.count == 0 {
            // Nothing refers to the old description yet: replace it (even
            // with a limit of one description).
            track.configs.clear();
        } else if track.configs.len() >= limit {
            return Err(change(match limit {
                1 => format!(
                    "{} again (this writer keeps one configuration per track)",
                    describe(current)
                ),
                _ => format!("at most {limit} configurations per track (sample descriptions)"),
            }));
        }
        track.configs.push(config);
        Ok(())
    }

    /// Adds `frame` (decode order per track) to the tables and returns the
    /// bytes to append to the media data: the frame's data itself.
    ///
    /// Fails, changing nothing, for a track without configuration, a dts
    /// lower than the track's previous one, and values that do not fit the
    /// tables (see [`Mp4Error`]).
    pub fn push(&mut self, frame: &Frame) -> Result<Bytes, Mp4Error> {
        if self.samples >= self.options.max_samples {
            return Err(Mp4Error::TooManySamples {
                limit: self.options.max_samples,
            });
        }
        let track = match frame.media {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        }
        .ok_or(Mp4Error::NoConfig {
            media: frame.media,
            dts: frame.dts,
        })?;
        let checked = track.check(frame)?;
        let new_chunk = self.open != Some(frame.media);
        track.add(frame, checked, self.media_len, new_chunk);
        self.open = Some(frame.media);
        self.media_len += u64::from(checked.size);
        self.samples += 1;
        Ok(frame.data.clone())
    }

    /// Bytes of media data handed out so far (the `mdat` payload size).
    pub fn media_len(&self) -> u64 {
        self.media_len
    }

    /// Samples written so far, all tracks.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The configuration `media`'s track uses now, if it has one.
    pub fn config(&self, media: MediaKind) -> Option<&TrackConfig> {
        match media {
            MediaKind::Video => self.video.as_ref(),
            MediaKind::Audio => self.audio.as_ref(),
        }
        .and_then(|t| t.configs.last())
    }

    /// The header to place before the media data: `ftyp`, `moov` and the
    /// `mdat` box header (16 bytes when the media data passes 4 GiB).
    ///
    /// Tracks that got a configuration but no frame are left out. Fails with
    /// [`Mp4Error::NoSamples`] when no frame was written.
    pub fn finish(&self) -> Result<Bytes, Mp4Error> {
        let tracks: Vec<&Track> = [&self.video, &self.audio]
            .into_iter()
            .flatten()
            .filter(|t| t.count > 0)
            .collect();
        if tracks.is_empty() {
            return Err(Mp4Error::NoSamples);
        }
        moov::header(&tracks, self.media_len)
    }
}

/// A short name for a configuration in error messages.
fn describe(config: &TrackConfig) -> String {
    let mut text = config.codec_string();
    if let Some((w, h)) = config.resolution() {
        text.push_str(&format!(" {w}x{h}"));
    }
    if let Some(rate) = config.sample_rate() {
        text.push_str(&format!(" {rate} Hz"));
    }
    text
}

#[cfg(test)]
mod tests;
