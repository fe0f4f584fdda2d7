//! The extra tracks of an Enhanced RTMP multitrack publish: each audio track
//! other than 0 (another language, commentary, OBS's separate VOD track) an
//! audio-only rendition of its own, `audioN/index.m3u8` beside the stream's
//! playlist, which the stream's multivariant playlist declares as an
//! `EXT-X-MEDIA:TYPE=AUDIO` alternative to the audio of track 0 (muxed in
//! the stream's own segments, as before); each video track other than 0
//! (another rendition of the picture) a video-only playlist,
//! `videoN/index.m3u8`, which it lists as another variant.
//!
//! With fMP4 segments, hls.js does not switch between audio muxed in the
//! variant's segments and an alternate rendition (it refuses to append
//! muxed segments once it has split audio and video apart: its pull request
//! #5485), so a multitrack stream is also served as single-track views of
//! its own files: `video/` (the variant a player picks) and `audio0/`
//! (track 0's rendition), each segment and part cut on request from the
//! muxed one by [`hls_mux::dash::track_segment`], the media bytes shared.
//!
//! Each track has its own [`Muxer`] (audio only, the stream's options) and
//! [`FlvAdapter::for_track`]; its files go into the stream's file map under
//! `audioN/`. Its segments are cut on its own timeline with the stream's
//! target durations; its frames keep the publisher's timestamps, as track
//! 0's do, and its program dates take the stream's clock anchor, so a player
//! switching tracks finds the same times in both.

use std::collections::HashMap;
use std::time::SystemTime;

use bytes::Bytes;
use hls_mux::fmp4::Fmp4Writer;
use hls_mux::{FlvAdapter, Format, MediaKind, Muxer, MuxerOptions, Output, Tracks};

use super::stream::{FileKind, PartWindow, Served};

/// Extra tracks a stream takes at most; more are counted as errors and not
/// packaged (each one costs a muxer and its live window).
pub const MAX_EXTRA_TRACKS: usize = 8;

/// Which extra track: audio or video, and its multitrack track id (1 to 255).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraId {
    /// Audio or video.
    pub media: MediaKind,
    /// The track id.
    pub track: u8,
}

impl ExtraId {
    /// The directory of its files, relative to the stream's: `audioN` or
    /// `videoN`.
    pub fn dir(self) -> String {
        match self.media {
            MediaKind::Audio => format!("audio{}", self.track),
            MediaKind::Video => format!("video{}", self.track),
        }
    }

    /// The track whose directory is `dir` (`audioN`, `videoN`, N from 1 to
    /// 255).
    pub fn of_dir(dir: &str) -> Option<ExtraId> {
        let (media, digits) = match dir.strip_prefix("audio") {
            Some(digits) => (MediaKind::Audio, digits),
            None => (MediaKind::Video, dir.strip_prefix("video")?),
        };
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let track = digits.parse().ok().filter(|&n| n > 0)?;
        Some(ExtraId { media, track })
    }
}

/// One extra track: see the [module docs](self).
pub(super) struct ExtraTrack {
    pub(super) id: ExtraId,
    pub(super) muxer: Muxer,
    pub(super) adapter: FlvAdapter,
    /// Parts of the open segment, then of each recent segment.
    parts: PartWindow,
}

impl ExtraTrack {
    /// Track `id`, packaged with `options` (the stream's, without
    /// encryption: the stream refuses extra tracks when it encrypts).
    pub(super) fn new(
        id: ExtraId,
        options: &MuxerOptions,
    ) -> Result<ExtraTrack, hls_mux::MuxError> {
        Ok(ExtraTrack {
            id,
            muxer: Muxer::new(options.clone())?,
            adapter: FlvAdapter::for_track(id.track),
            parts: PartWindow::default(),
        })
    }

    /// Takes the muxer's outputs into `files` under [`ExtraId::dir`].
    /// Returns whether anything changed.
    pub(super) fn drain(&mut self, files: &mut HashMap<String, Served>, format: Format) -> bool {
        let dir = self.id.dir();
        let mut changed = false;
        let store = |files: &mut HashMap<String, Served>, uri: &str, data: Vec<Bytes>, kind| {
            let served = Served {
                data: data.into(),
                kind,
                format,
            };
            files.insert(format!("{dir}/{uri}"), served);
        };
        while let Some(output) = self.muxer.poll_output() {
            changed = true;
            match output {
                Output::Init { uri, data } => store(files, &uri, vec![data], FileKind::Init),
                Output::Part { uri, data, .. } => {
                    store(files, &uri, data, FileKind::Part);
                    self.parts.part(uri);
                }
                Output::Segment { uri, data, .. } => {
                    store(files, &uri, data, FileKind::Segment);
                    for uri in self.parts.segment() {
                        files.remove(&format!("{dir}/{uri}"));
                    }
                }
                Output::Removed { uris } => {
                    for uri in uris {
                        files.remove(&format!("{dir}/{uri}"));
                    }
                }
                _ => {}
            }
        }
        changed
    }

    /// Sets the wall clock and takes the stream's program-date anchor, so
    /// both playlists date the same media time alike.
    pub(super) fn clock(&mut self, now: SystemTime, anchor: Option<hls_mux::ClockAnchor>) {
        self.muxer.set_clock(now);
        if let Some(anchor) = anchor {
            self.muxer.suggest_clock_anchor(anchor);
        }
    }
}

/// What a publisher says of one of its audio tracks in `onMetaData`'s
/// `audioTrackIdInfoMap` (Enhanced RTMP v2: an object per track id), where
/// it says it: a `name` (or `title`, `label`) and a `language` (or `lang`,
/// an RFC 5646 tag). The specification names no such field; these are read
/// when present, and a player's menu shows `Audio N` without them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackLabel {
    /// What a player's menu shows.
    pub name: Option<String>,
    /// The language.
    pub language: Option<String>,
}

/// The longest name taken (in characters).
pub const MAX_NAME: usize = 64;

/// The labels of the audio tracks an `onMetaData` describes, by track id.
pub fn audio_labels(script: &flv::tag::ScriptData) -> Vec<(u8, TrackLabel)> {
    if script.name.as_str() != Some("onMetaData") {
        return Vec::new();
    }
    let Some(map) = script
        .values
        .first()
        .and_then(|v| v.get("audioTrackIdInfoMap"))
    else {
        return Vec::new();
    };
    let Some(map) = map.as_object() else {
        return Vec::new();
    };
    let text = |track: &amf0::Value, keys: &[&str]| {
        keys.iter()
            .find_map(|key| track.get(key).and_then(amf0::Value::as_str))
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    for (id, track) in map.iter().take(256) {
        let Some(id) = id.as_str().and_then(|id| id.parse::<u8>().ok()) else {
            continue;
        };
        let name = text(track, &["name", "title", "label"]).filter(|n| {
            !n.is_empty()
                && n.chars().count() <= MAX_NAME
                && !n.chars().any(|c| c.is_control() || c == '"')
        });
        let language = text(track, &["language", "lang"]).filter(|l| {
            (2..=35).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if name.is_some() || language.is_some() {
            out.push((id, TrackLabel { name, language }));
        }
    }
    out
}

/// The single-track view a name is in (`video/NAME` or `audio0/NAME`), and
/// the name in the stream's own files.
pub fn view_of(name: &str) -> Option<(MediaKind, &str)> {
    if let Some(name) = name.strip_prefix("video/") {
        return Some((MediaKind::Video, name));
    }
    name.strip_prefix("audio0/")
        .map(|name| (MediaKind::Audio, name))
}

/// `served` (a muxed fMP4 file of the stream, made with `tracks`) cut down to
/// its `media` track; `None` when it has no such track.
pub(super) fn cut(served: &Served, tracks: &Tracks, media: MediaKind) -> Option<Served> {
    let data = match served.kind {
        FileKind::Init => vec![Fmp4Writer::new(&tracks.only(media)?).ok()?.init_segment()],
        _ => {
            let track_id = hls_mux::fmp4::track_id(tracks, media)?;
            hls_mux::dash::track_segment(&served.data, track_id).ok()?
        }
    };
    Some(Served {
        data: data.into(),
        kind: served.kind,
        format: served.format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(map: amf0::Value) -> flv::tag::ScriptData {
        let fields = amf0::Object::from_iter([("audioTrackIdInfoMap", map)]);
        let mut body = bytes::BytesMut::new();
        let values = [
            amf0::Value::from("onMetaData"),
            amf0::Value::EcmaArray {
                declared_len: 1,
                properties: fields,
            },
        ];
        amf0::encode_all(&values, &mut body);
        flv::tag::ScriptData::parse(&body.freeze()).expect("a script body")
    }

    #[test]
    fn labels_come_from_the_track_map_when_sent() {
        let track = |pairs: &[(&str, &str)]| {
            amf0::Value::Object(amf0::Object::from_iter(
                pairs.iter().map(|(k, v)| (*k, amf0::Value::from(*v))),
            ))
        };
        let map = amf0::Value::Object(amf0::Object::from_iter([
            ("1", track(&[("name", "Commentary"), ("language", "es")])),
            ("2", track(&[("title", "Director"), ("lang", "en-GB")])),
            (
                "3",
                track(&[("name", "bad\"quote"), ("language", "not a tag")]),
            ),
            ("4", track(&[("audiodatarate", "128")])),
            ("x", track(&[("name", "no id")])),
        ]));
        let labels = audio_labels(&metadata(map));
        let label = |name: &str, language: &str| TrackLabel {
            name: Some(name.into()),
            language: Some(language.into()),
        };
        assert_eq!(
            labels,
            [
                (1, label("Commentary", "es")),
                (2, label("Director", "en-GB"))
            ]
        );
        assert!(audio_labels(&metadata(amf0::Value::from(1.0))).is_empty());
    }

    #[test]
    fn directories_name_their_track() {
        let audio = |track| {
            Some(ExtraId {
                media: MediaKind::Audio,
                track,
            })
        };
        assert_eq!(ExtraId::of_dir("audio1"), audio(1));
        assert_eq!(ExtraId::of_dir("audio255"), audio(255));
        assert_eq!(ExtraId::of_dir("audio0"), None);
        assert_eq!(ExtraId::of_dir("audio256"), None);
        assert_eq!(ExtraId::of_dir("audio"), None);
        assert_eq!(ExtraId::of_dir("audio+1"), None);
        assert_eq!(ExtraId::of_dir("subtitles1"), None);
        let video = ExtraId {
            media: MediaKind::Video,
            track: 2,
        };
        assert_eq!(ExtraId::of_dir("video2"), Some(video));
        assert_eq!(ExtraId::of_dir("video"), None, "the view, not a track");
        assert_eq!(video.dir(), "video2");
        assert_eq!(audio(3).map(ExtraId::dir).as_deref(), Some("audio3"));
        assert_eq!(
            view_of("video/seg1.m4s"),
            Some((MediaKind::Video, "seg1.m4s"))
        );
        assert_eq!(
            view_of("audio0/part1.2.m4s"),
            Some((MediaKind::Audio, "part1.2.m4s"))
        );
        assert_eq!(view_of("audio1/seg1.m4s"), None);
        assert_eq!(view_of("seg1.m4s"), None);
    }
}
