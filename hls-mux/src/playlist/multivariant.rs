//! The multivariant (master) playlist and bit rate measurement.

use super::{check_uri, PlaylistError};

/// Bit rates measured from segment sizes and durations, bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bandwidth {
    /// The largest bit rate of a single segment (`BANDWIDTH`, which
    /// RFC 8216 4.3.4.2 defines as the peak segment bit rate).
    pub peak: u64,
    /// Total bits over total duration (`AVERAGE-BANDWIDTH`).
    pub average: u64,
}

impl Bandwidth {
    /// Measure `(bytes, seconds)` pairs. Segments of no duration (after
    /// rounding to milliseconds) or of an invalid one are left out; `None`
    /// if none is left.
    ///
    /// ```
    /// use hls_mux::playlist::Bandwidth;
    ///
    /// let measured = Bandwidth::measure([(250_000, 2.0), (750_000, 2.0)]).unwrap();
    /// assert_eq!((measured.peak, measured.average), (3_000_000, 2_000_000));
    /// ```
    pub fn measure(segments: impl IntoIterator<Item = (u64, f64)>) -> Option<Bandwidth> {
        let mut peak = 0;
        let mut total_bytes = 0u128;
        let mut total_ms = 0u128;
        for (bytes, seconds) in segments {
            let Ok(ms) = super::millis("segment", seconds) else {
                continue;
            };
            let Some(bps) = bits_per_second(bytes, ms) else {
                continue;
            };
            peak = peak.max(bps);
            total_bytes += u128::from(bytes);
            total_ms += u128::from(ms);
        }
        if total_ms == 0 {
            return None;
        }
        let average = (total_bytes * 8000).div_ceil(total_ms);
        Some(Bandwidth {
            peak,
            average: u64::try_from(average).unwrap_or(u64::MAX),
        })
    }
}

/// `bytes` over `ms` in bits per second, rounded up; `None` for 0 ms.
pub(super) fn bits_per_second(bytes: u64, ms: u64) -> Option<u64> {
    if ms == 0 {
        return None;
    }
    let bps = (u128::from(bytes) * 8000).div_ceil(u128::from(ms));
    Some(u64::try_from(bps).unwrap_or(u64::MAX))
}

/// One variant stream (`EXT-X-STREAM-INF` and its URI).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Variant {
    /// The media playlist's URI.
    pub uri: String,
    /// `BANDWIDTH`: peak bit rate, bits per second.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`: average bit rate, bits per second.
    pub average_bandwidth: Option<u64>,
    /// `CODECS`, as [`Tracks::codecs`](crate::Tracks::codecs) gives it.
    pub codecs: Option<String>,
    /// `RESOLUTION`: width and height of the video.
    pub resolution: Option<(u32, u32)>,
    /// `FRAME-RATE`, frames per second (written with 3 decimals).
    pub frame_rate: Option<f64>,
    /// `CLOSED-CAPTIONS`: the `GROUP-ID` of its [`ClosedCaptions`].
    pub closed_captions: Option<String>,
    /// `AUDIO`: the `GROUP-ID` of its [`AudioRendition`]s.
    pub audio: Option<String>,
}

impl Variant {
    /// A variant at `uri` of peak bit rate `bandwidth`.
    pub fn new(uri: impl Into<String>, bandwidth: u64) -> Variant {
        Variant {
            uri: uri.into(),
            bandwidth,
            average_bandwidth: None,
            codecs: None,
            resolution: None,
            frame_rate: None,
            closed_captions: None,
            audio: None,
        }
    }

    /// A variant at `uri` with measured peak and average bit rates.
    pub fn measured(uri: impl Into<String>, bandwidth: Bandwidth) -> Variant {
        Variant::new(uri, bandwidth.peak).average_bandwidth(bandwidth.average)
    }

    /// Its average bit rate.
    pub fn average_bandwidth(mut self, bits_per_second: u64) -> Variant {
        self.average_bandwidth = Some(bits_per_second);
        self
    }

    /// Its codec string.
    pub fn codecs(mut self, codecs: impl Into<String>) -> Variant {
        self.codecs = Some(codecs.into());
        self
    }

    /// Its video resolution.
    pub fn resolution(mut self, width: u32, height: u32) -> Variant {
        self.resolution = Some((width, height));
        self
    }

    /// Its frame rate.
    pub fn frame_rate(mut self, frames_per_second: f64) -> Variant {
        self.frame_rate = Some(frames_per_second);
        self
    }

    /// The group of closed captions its video carries.
    pub fn closed_captions(mut self, group_id: impl Into<String>) -> Variant {
        self.closed_captions = Some(group_id.into());
        self
    }

    /// The group of audio renditions a player chooses its audio from.
    pub fn audio(mut self, group_id: impl Into<String>) -> Variant {
        self.audio = Some(group_id.into());
        self
    }
}

/// One audio rendition (`EXT-X-MEDIA:TYPE=AUDIO`): another language or
/// commentary a player can switch to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudioRendition {
    /// `GROUP-ID`, named by the variants' `AUDIO`.
    pub group_id: String,
    /// `NAME`, what a player's menu shows.
    pub name: String,
    /// `LANGUAGE` (RFC 5646), when known.
    pub language: Option<String>,
    /// `URI` of its media playlist; `None` for the audio muxed in the
    /// variants' own segments.
    pub uri: Option<String>,
    /// `CHANNELS`, when known.
    pub channels: Option<u8>,
    /// `DEFAULT=YES`.
    pub default: bool,
}

impl AudioRendition {
    /// A rendition named `name` in group `group_id`: its own playlist at
    /// `uri`, or (`None`) the audio in the variants' segments.
    pub fn new(
        group_id: impl Into<String>,
        name: impl Into<String>,
        uri: Option<String>,
    ) -> AudioRendition {
        AudioRendition {
            group_id: group_id.into(),
            name: name.into(),
            language: None,
            uri,
            channels: None,
            default: false,
        }
    }

    /// Its language.
    pub fn language(mut self, language: impl Into<String>) -> AudioRendition {
        self.language = Some(language.into());
        self
    }

    /// Its channel count.
    pub fn channels(mut self, channels: u8) -> AudioRendition {
        self.channels = Some(channels);
        self
    }

    /// The one a player starts with.
    pub fn default(mut self, default: bool) -> AudioRendition {
        self.default = default;
        self
    }

    fn render(&self) -> String {
        let mut out = format!(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{}\",NAME=\"{}\"",
            self.group_id, self.name
        );
        if let Some(language) = &self.language {
            out.push_str(&format!(",LANGUAGE=\"{language}\""));
        }
        let yes_no = if self.default { "YES" } else { "NO" };
        out.push_str(&format!(",DEFAULT={yes_no},AUTOSELECT=YES"));
        if let Some(channels) = self.channels {
            out.push_str(&format!(",CHANNELS=\"{channels}\""));
        }
        if let Some(uri) = &self.uri {
            out.push_str(&format!(",URI=\"{uri}\""));
        }
        out.push('\n');
        out
    }
}

/// Closed captions carried inside the video (`EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS`):
/// players show them only when they are declared.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClosedCaptions {
    /// `GROUP-ID`, named by the variants' `CLOSED-CAPTIONS`.
    pub group_id: String,
    /// `NAME`.
    pub name: String,
    /// `INSTREAM-ID`: `CC1` to `CC4` (CEA-608) or `SERVICE1` to `SERVICE63`.
    pub instream_id: String,
    /// `LANGUAGE`, when known.
    pub language: Option<String>,
    /// `DEFAULT=YES` (and `AUTOSELECT=YES`).
    pub default: bool,
}

impl ClosedCaptions {
    /// CEA-608 channel `channel` (1 to 4) in group `group_id`, named after it.
    pub fn cea608(group_id: impl Into<String>, channel: u8) -> ClosedCaptions {
        ClosedCaptions {
            group_id: group_id.into(),
            name: format!("CC{channel}"),
            instream_id: format!("CC{channel}"),
            language: None,
            default: channel == 1,
        }
    }

    fn render(&self) -> String {
        let mut out = format!(
            "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"{}\",NAME=\"{}\"",
            self.group_id, self.name
        );
        if let Some(language) = &self.language {
            out.push_str(&format!(",LANGUAGE=\"{language}\""));
        }
        let yes_no = if self.default { "YES" } else { "NO" };
        out.push_str(&format!(",DEFAULT={yes_no},AUTOSELECT={yes_no}"));
        out.push_str(&format!(",INSTREAM-ID=\"{}\"\n", self.instream_id));
        out
    }
}

/// The multivariant playlist: the variants a player chooses between.
///
/// ```
/// use hls_mux::playlist::{Bandwidth, MultivariantPlaylist, Variant};
///
/// let mut playlist = MultivariantPlaylist::new();
/// let measured = Bandwidth::measure([(500_000, 2.0), (250_000, 2.0)]).unwrap();
/// playlist.push(
///     Variant::measured("720p.m3u8", measured)
///         .codecs("avc1.64001f,mp4a.40.2")
///         .resolution(1280, 720)
///         .frame_rate(30.0),
/// )?;
/// assert_eq!(
///     playlist.render(),
///     "#EXTM3U\n\
///      #EXT-X-INDEPENDENT-SEGMENTS\n\
///      #EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,\
///      CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000\n\
///      720p.m3u8\n"
/// );
/// # Ok::<(), hls_mux::playlist::PlaylistError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MultivariantPlaylist {
    variants: Vec<Variant>,
    captions: Vec<ClosedCaptions>,
    audio: Vec<AudioRendition>,
    independent_segments: bool,
}

impl Default for MultivariantPlaylist {
    fn default() -> MultivariantPlaylist {
        MultivariantPlaylist::new()
    }
}

impl MultivariantPlaylist {
    /// No variants yet; `EXT-X-INDEPENDENT-SEGMENTS` on.
    pub fn new() -> MultivariantPlaylist {
        MultivariantPlaylist {
            variants: Vec::new(),
            captions: Vec::new(),
            audio: Vec::new(),
            independent_segments: true,
        }
    }

    /// Whether to write `EXT-X-INDEPENDENT-SEGMENTS` (every segment of every
    /// variant starts with a key frame). Turn it off when the variants are
    /// Low-Latency HLS playlists with parts: video.js applies the tag of the
    /// multivariant playlist to parts too (see
    /// [`MediaPlaylistOptions::independent_segments`](super::MediaPlaylistOptions::independent_segments)).
    pub fn independent_segments(mut self, on: bool) -> MultivariantPlaylist {
        self.independent_segments = on;
        self
    }

    /// Add a variant. Fails on a URI or codec string that cannot be written,
    /// or a frame rate that is not positive and finite.
    pub fn push(&mut self, variant: Variant) -> Result<(), PlaylistError> {
        check_uri(&variant.uri)?;
        if let Some(codecs) = &variant.codecs {
            if codecs.contains(['"', '\r', '\n']) {
                return Err(PlaylistError::InvalidOptions(
                    "CODECS contains a double quote or a line break",
                ));
            }
        }
        if let Some(group) = &variant.closed_captions {
            if group.is_empty() || group.contains(['"', '\r', '\n']) {
                return Err(PlaylistError::InvalidOptions(
                    "CLOSED-CAPTIONS is empty or holds a double quote or a line break",
                ));
            }
        }
        if let Some(group) = &variant.audio {
            if group.is_empty() || group.contains(['"', '\r', '\n']) {
                return Err(PlaylistError::InvalidOptions(
                    "AUDIO is empty or holds a double quote or a line break",
                ));
            }
        }
        if let Some(rate) = variant.frame_rate {
            if !(rate.is_finite() && rate > 0.0 && rate < 1.0e6) {
                return Err(PlaylistError::InvalidOptions(
                    "FRAME-RATE is not a positive number",
                ));
            }
        }
        self.variants.push(variant);
        Ok(())
    }

    /// The variants, in order.
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// Declares closed captions. Fails on a name, group, language or
    /// `INSTREAM-ID` that cannot stand in a quoted attribute.
    pub fn push_captions(&mut self, captions: ClosedCaptions) -> Result<(), PlaylistError> {
        let texts = [&captions.group_id, &captions.name, &captions.instream_id];
        let bad = (texts.into_iter().chain(captions.language.as_ref()))
            .any(|t| t.is_empty() || t.contains(['"', '\r', '\n']));
        if bad {
            return Err(PlaylistError::InvalidOptions(
                "a closed-captions attribute is empty or holds a double quote or a line break",
            ));
        }
        self.captions.push(captions);
        Ok(())
    }

    /// Declares an audio rendition. Fails on a name, group, language or URI
    /// that cannot stand in a quoted attribute.
    pub fn push_audio(&mut self, audio: AudioRendition) -> Result<(), PlaylistError> {
        if let Some(uri) = &audio.uri {
            check_uri(uri)?;
        }
        let texts = [&audio.group_id, &audio.name];
        let bad = (texts.into_iter().chain(audio.language.as_ref()))
            .any(|t| t.is_empty() || t.contains(['"', '\r', '\n']));
        if bad {
            return Err(PlaylistError::InvalidOptions(
                "an audio rendition attribute is empty or holds a double quote or a line break",
            ));
        }
        self.audio.push(audio);
        Ok(())
    }

    /// The playlist text.
    pub fn render(&self) -> String {
        let mut out = String::from("#EXTM3U\n");
        if self.independent_segments {
            out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
        }
        for captions in &self.captions {
            out.push_str(&captions.render());
        }
        for audio in &self.audio {
            out.push_str(&audio.render());
        }
        for variant in &self.variants {
            out.push_str(&format!(
                "#EXT-X-STREAM-INF:BANDWIDTH={}",
                variant.bandwidth
            ));
            if let Some(average) = variant.average_bandwidth {
                out.push_str(&format!(",AVERAGE-BANDWIDTH={average}"));
            }
            if let Some(codecs) = &variant.codecs {
                out.push_str(&format!(",CODECS=\"{codecs}\""));
            }
            if let Some((width, height)) = variant.resolution {
                out.push_str(&format!(",RESOLUTION={width}x{height}"));
            }
            if let Some(rate) = variant.frame_rate {
                // Checked finite and below 1e6 in push: `{:.3}` is positional.
                out.push_str(&format!(",FRAME-RATE={rate:.3}"));
            }
            if let Some(group) = &variant.audio {
                out.push_str(&format!(",AUDIO=\"{group}\""));
            }
            if let Some(group) = &variant.closed_captions {
                out.push_str(&format!(",CLOSED-CAPTIONS=\"{group}\""));
            }
            out.push('\n');
            out.push_str(&variant.uri);
            out.push('\n');
        }
        out
    }
}
