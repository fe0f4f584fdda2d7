//! Script data tag bodies: AMF0 values, and `onMetaData` as typed fields.

use amf0::{Limits, Object, Str, Value};
use bytes::Bytes;

use crate::{Codec, Error, FourCc, MediaType};

/// A parsed script data tag body: a name and values, AMF0.
///
/// A body recorded from RTMP that still starts with `@setDataFrame` is
/// unwrapped: the name is the string after it.
///
/// ```
/// use bytes::Bytes;
/// use flv::tag::ScriptData;
/// let body = Bytes::from_static(b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x01\x00\x08duration\x00\x40\x18\x00\x00\x00\x00\x00\x00\x00\x00\x09");
/// let script = ScriptData::parse(&body)?;
/// assert_eq!(script.name.as_str(), Some("onMetaData"));
/// let meta = script.on_metadata().unwrap();
/// assert_eq!(meta.duration, Some(6.0));
/// assert_eq!(meta.keyframes, None);
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptData {
    /// The name (the first value, a string): `onMetaData`, `onCuePoint`, ...
    pub name: Str,
    /// The values after the name.
    pub values: Vec<Value>,
    /// Bytes after the last value that could not be decoded (broken writers
    /// leave padding or a stray object end); empty for a clean body.
    pub undecoded: Bytes,
}

impl ScriptData {
    /// Parses a script data body with the default AMF0 [`Limits`].
    pub fn parse(body: &Bytes) -> Result<ScriptData, Error> {
        ScriptData::parse_with(body, &Limits::DEFAULT)
    }

    /// Parses a script data body with the given AMF0 limits.
    ///
    /// The name and the value after it must decode; a failure after them
    /// ends the values and leaves the rest in [`undecoded`](ScriptData::undecoded).
    pub fn parse_with(body: &Bytes, limits: &Limits) -> Result<ScriptData, Error> {
        let mut decoder = amf0::Decoder::with_limits(body.clone(), *limits);
        let amf = |source| Error::Amf { offset: 0, source };
        let mut name = script_name(decoder.decode_value().map_err(amf)?, 0)?;
        let mut values = Vec::new();
        if name.as_bytes() == b"@setDataFrame" {
            let at = decoder.position();
            name = script_name(decoder.decode_value().map_err(amf)?, at)?;
        }
        let mut undecoded = Bytes::new();
        while !decoder.is_empty() {
            let at = decoder.position();
            match decoder.decode_value() {
                Ok(value) => values.push(value),
                Err(error) if values.is_empty() => return Err(amf(error)),
                Err(_) => {
                    undecoded = body.slice(at..);
                    break;
                }
            }
        }
        Ok(ScriptData {
            name,
            values,
            undecoded,
        })
    }

    /// The typed `onMetaData` fields, if this is `onMetaData` with an object
    /// or ECMA array after the name.
    pub fn on_metadata(&self) -> Option<OnMetaData> {
        if self.name.as_bytes() != b"onMetaData" {
            return None;
        }
        OnMetaData::from_properties(self.values.first()?.as_object()?)
    }
}

fn script_name(value: Value, offset: usize) -> Result<Str, Error> {
    match value {
        Value::String(s) | Value::LongString(s) => Ok(s),
        other => Err(Error::InvalidField {
            what: "script data name marker",
            offset: offset as u64,
            value: u32::from(other.marker()),
        }),
    }
}

/// The keyframe index of an "indexed FLV" (`keyframes` in `onMetaData`, as
/// flvtool2, yamdi and FFmpeg's `-flvflags add_keyframe_index` write it).
///
/// The two lists come from the file as written: they may differ in length
/// or disagree with the tags (non-number elements are left out).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyframeIndex {
    /// Keyframe times in seconds (`times`).
    pub times: Vec<f64>,
    /// Byte offsets of the keyframe tags in the file (`filepositions`).
    pub file_positions: Vec<u64>,
}

/// `onMetaData`, typed: what the writer claimed about the file.
///
/// Every field is `None` when absent or of another AMF0 type; the whole
/// object is in [`properties`](OnMetaData::properties). Claims are not checked
/// against the tags (uploads often contradict their metadata).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OnMetaData {
    /// `duration`, seconds.
    pub duration: Option<f64>,
    /// `width`, pixels.
    pub width: Option<f64>,
    /// `height`, pixels.
    pub height: Option<f64>,
    /// `framerate`, frames per second.
    pub framerate: Option<f64>,
    /// `videodatarate`, kbit/s.
    pub video_data_rate: Option<f64>,
    /// `audiodatarate`, kbit/s.
    pub audio_data_rate: Option<f64>,
    /// `videocodecid`: a legacy codec id or (Enhanced RTMP) a FourCC as a number.
    pub video_codec_id: Option<f64>,
    /// `audiocodecid`: a legacy sound format or (Enhanced RTMP) a FourCC as a number.
    pub audio_codec_id: Option<f64>,
    /// `audiosamplerate`, Hz.
    pub audio_sample_rate: Option<f64>,
    /// `audiosamplesize`, bits.
    pub audio_sample_size: Option<f64>,
    /// `stereo`.
    pub stereo: Option<bool>,
    /// `filesize`, bytes.
    pub file_size: Option<f64>,
    /// `hasVideo`, `hasAudio` (flvtool2/yamdi).
    pub has_video: Option<bool>,
    /// See [`has_video`](OnMetaData::has_video).
    pub has_audio: Option<bool>,
    /// `encoder` (FFmpeg writes `Lavf...`).
    pub encoder: Option<String>,
    /// `keyframes`, the keyframe index.
    pub keyframes: Option<KeyframeIndex>,
    /// All properties, in order, as written.
    pub properties: Object,
}

impl OnMetaData {
    /// The typed fields of an `onMetaData` object.
    pub fn from_properties(properties: &Object) -> Option<OnMetaData> {
        let number = |key: &str| properties.get(key).and_then(Value::as_f64);
        let boolean = |key: &str| properties.get(key).and_then(Value::as_bool);
        let keyframes = properties.get("keyframes").and_then(|k| {
            let list = |key: &str| {
                k.get(key)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
            };
            let times = list("times");
            let positions = list("filepositions");
            if times.is_none() && positions.is_none() {
                return None;
            }
            Some(KeyframeIndex {
                times: times.unwrap_or_default(),
                // `as` saturates: negative and NaN positions become 0.
                file_positions: positions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| p as u64)
                    .collect(),
            })
        });
        Some(OnMetaData {
            duration: number("duration"),
            width: number("width"),
            height: number("height"),
            framerate: number("framerate"),
            video_data_rate: number("videodatarate"),
            audio_data_rate: number("audiodatarate"),
            video_codec_id: number("videocodecid"),
            audio_codec_id: number("audiocodecid"),
            audio_sample_rate: number("audiosamplerate"),
            audio_sample_size: number("audiosamplesize"),
            stereo: boolean("stereo"),
            file_size: number("filesize"),
            has_video: boolean("hasVideo"),
            has_audio: boolean("hasAudio"),
            encoder: properties
                .get("encoder")
                .and_then(Value::as_amf_str)
                .map(|s| s.to_string_lossy().into_owned()),
            keyframes,
            properties: properties.clone(),
        })
    }

    /// The video codec `videocodecid` claims (a number, or a FourCC string).
    pub fn video_codec(&self) -> Option<Codec> {
        codec_of(self.properties.get("videocodecid")?, MediaType::Video)
    }

    /// The audio codec `audiocodecid` claims (a number, or a FourCC string).
    pub fn audio_codec(&self) -> Option<Codec> {
        codec_of(self.properties.get("audiocodecid")?, MediaType::Audio)
    }
}

fn codec_of(value: &Value, media: MediaType) -> Option<Codec> {
    if let Some(s) = value.as_amf_str() {
        let b: [u8; 4] = s.as_bytes().try_into().ok()?;
        return Some(Codec::from_fourcc(media, FourCc(b)));
    }
    let n = value.as_f64()?;
    if !(0.0..=f64::from(u32::MAX)).contains(&n) || n.fract() != 0.0 {
        return None;
    }
    let n = n as u32;
    Some(match (n, media) {
        (0..=15, MediaType::Video) => Codec::from_video_codec_id(n as u8),
        (0..=15, MediaType::Audio) => Codec::from_sound_format(n as u8),
        _ => Codec::from_fourcc(media, FourCc::from_u32(n)),
    })
}
