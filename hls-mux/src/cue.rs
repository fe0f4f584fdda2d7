//! Ad cues: the start or end of an ad break, as an application asks for one
//! ([`Cue::out`]) or as an encoder sends one in an RTMP/FLV data message
//! ([`Cue::from_script`]), for [`Muxer::insert_cue`](crate::Muxer::insert_cue).
//!
//! The data messages read, as encoders and ingest services document them:
//!
//! | message | sent by | fields read |
//! | --- | --- | --- |
//! | `onAdCue`, `type` `"scte35"` or `"urn:scte:scte35:2013:bin"` | Adobe Primetime's SCTE-35 mode (Wirecast, Elemental, AWS MediaLive) | `cue`: the base64 `splice_info_section`, passed on unchanged; `id`, `time`, `duration`, `elapsed` |
//! | `onAdCue`, `cue` `"SpliceOut"` | Primetime's simple mode | `id`, `time`, `duration` (seconds) |
//! | `onCuePoint`, `name` `"scte35"` | Elemental Live (`ad_markers = onCuePoint`) | `time`; in `parameters`: `splice_event_id`, `out_of_network_indicator`, `splice_event_cancel_indicator`, `break_duration` (90 kHz, as in the section) |
//! | `onCuePoint`, `type` `"com.youtube.cuepoint"` | YouTube Live's ingest format (OvenMediaEngine and others send it) | `cue_point_start`, `break_duration_sec`, `splice_event_id`, `pre_roll_time_sec` |
//!
//! A repeat of a running break for viewers tuning in (`elapsed` above 0) is
//! not a new break and is left out. Other cue points (navigation, captions,
//! an application's own) are not ad cues: [`Cue::from_script`] gives
//! `Ok(None)` for them.

use base64::Engine;
use flv::tag::ScriptData;

use crate::scte35::{read_signal, Scte35Error, SignalKind, MAX_SECTION};
use crate::segmenter::seconds_to_ticks;
use crate::CLOCK;

/// A cue's `time` further than this from the message's own timestamp is
/// taken for a different clock (an encoder's wall clock, a transport
/// stream's PTS): the splice is then at the message's timestamp.
pub const MAX_CUE_LEAD_MS: i64 = 60_000;

/// The longest `id` kept for the `EXT-X-DATERANGE` `ID`.
const MAX_ID: usize = 64;

/// The start or end of an ad break.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cue {
    /// The `EXT-X-DATERANGE` `ID` (the same on the break's start and end).
    pub id: String,
    /// The `splice_event_id`.
    pub event_id: u32,
    /// Out (the break starts), in (it ends) or cancelled.
    pub kind: SignalKind,
    /// How long the break lasts, 90 kHz ticks, when known: it ends by itself
    /// at the first key frame this long after its start.
    pub duration: Option<i64>,
    /// Where the splice is on the frames' timeline (90 kHz, the timestamps
    /// pushed into the muxer); `None` for the next key frame.
    pub at: Option<i64>,
    /// The `splice_info_section` as the encoder sent it, for `SCTE35-OUT` or
    /// `SCTE35-IN` unchanged; `None` to have one made (`splice_insert`).
    pub scte35: Option<Vec<u8>>,
}

/// A data message that announces an ad cue but cannot be read as one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CueError {
    /// A field is missing or has the wrong type or value.
    #[error("{message} cue: expected {expected}")]
    Field {
        /// The message name (`onAdCue`, `onCuePoint`).
        message: &'static str,
        /// What the field should have held.
        expected: &'static str,
    },
    /// The base64 of the section does not decode.
    #[error("{message} cue: expected the section in base64: {source}")]
    Base64 {
        /// The message name.
        message: &'static str,
        /// The decoder's error.
        source: base64::DecodeError,
    },
    /// The section does not read.
    #[error("{message} cue: {source}")]
    Scte35 {
        /// The message name.
        message: &'static str,
        /// Why.
        source: Scte35Error,
    },
}

impl Cue {
    /// The start of a break `event_id` at the next key frame, lasting
    /// `duration` ticks when given; its `SCTE35-OUT` is made by the muxer.
    pub fn out(event_id: u32, duration: Option<i64>) -> Cue {
        Cue {
            id: format!("splice-{event_id}"),
            event_id,
            kind: SignalKind::Out,
            duration,
            at: None,
            scte35: None,
        }
    }

    /// The end of break `event_id` at the next key frame.
    pub fn back_in(event_id: u32) -> Cue {
        Cue {
            kind: SignalKind::In,
            duration: None,
            ..Cue::out(event_id, None)
        }
    }

    /// The ad cue in a data message whose timestamp is `timestamp_ms` (the
    /// RTMP/FLV timeline): `Ok(None)` for a message that is not one (see
    /// the module's table).
    pub fn from_script(script: &ScriptData, timestamp_ms: i64) -> Result<Option<Cue>, CueError> {
        let Some(fields) = script.values.first() else {
            return Ok(None);
        };
        match script.name.as_bytes() {
            b"onAdCue" => on_ad_cue(fields, timestamp_ms),
            b"onCuePoint" => on_cue_point(fields, timestamp_ms),
            _ => Ok(None),
        }
    }
}

type Fields = amf0::Value;

fn on_ad_cue(fields: &Fields, timestamp_ms: i64) -> Result<Option<Cue>, CueError> {
    const MESSAGE: &str = "onAdCue";
    if number(fields, "elapsed").is_some_and(|e| e > 0.0) {
        return Ok(None);
    }
    let Some(cue_field) = text(fields, "cue") else {
        return Err(field(MESSAGE, "a `cue` string"));
    };
    let at = splice_time(number(fields, "time"), timestamp_ms);
    let seconds = number(fields, "duration").filter(|d| *d > 0.0);
    let named = identifier(fields);
    let scte35_type = text(fields, "type")
        .is_some_and(|t| t.eq_ignore_ascii_case("scte35") || t == "urn:scte:scte35:2013:bin");
    if !scte35_type {
        if cue_field != "SpliceOut" {
            return Ok(None);
        }
        let seconds = seconds.ok_or_else(|| field(MESSAGE, "a `duration` in seconds above 0"))?;
        let name = named.ok_or_else(|| field(MESSAGE, "an `id`"))?;
        let mut cue = Cue::out(event_id_of(&name), Some(seconds_to_ticks(seconds)));
        cue.id = name;
        cue.at = at;
        return Ok(Some(cue));
    }
    let mut section = decode_section(MESSAGE, cue_field)?;
    let signal = match read_signal(&section) {
        Ok(Some(signal)) => signal,
        Ok(None) => return Ok(None),
        Err(source) => {
            return Err(CueError::Scte35 {
                message: MESSAGE,
                source,
            })
        }
    };
    // Bytes after the section (padding) are not part of it.
    let length = 3 + usize::from(u16::from_be_bytes([section[1], section[2]]) & 0x0FFF);
    section.truncate(length);
    let mut cue = Cue::out(signal.event_id, None);
    cue.kind = signal.kind;
    cue.duration = signal
        .duration
        .map(|d| d as i64)
        .or(seconds.map(seconds_to_ticks));
    cue.id = named.unwrap_or(cue.id);
    cue.at = at;
    cue.scte35 = Some(section);
    Ok(Some(cue))
}

fn on_cue_point(fields: &Fields, timestamp_ms: i64) -> Result<Option<Cue>, CueError> {
    const MESSAGE: &str = "onCuePoint";
    if text(fields, "type") == Some("com.youtube.cuepoint") {
        return youtube(fields, timestamp_ms).map(Some);
    }
    if !text(fields, "name").is_some_and(|n| n.eq_ignore_ascii_case("scte35")) {
        return Ok(None);
    }
    let parameters = fields
        .get("parameters")
        .filter(|p| p.as_object().is_some())
        .ok_or_else(|| field(MESSAGE, "a `parameters` object"))?;
    let event_id = number(parameters, "splice_event_id")
        .filter(|id| (0.0..=f64::from(u32::MAX)).contains(id))
        .ok_or_else(|| field(MESSAGE, "a `splice_event_id` of 0 to 2^32 - 1"))?;
    let mut cue = Cue::out(event_id as u32, None);
    cue.kind = if flag(parameters, "splice_event_cancel_indicator") {
        SignalKind::Cancel
    } else if flag(parameters, "out_of_network_indicator") {
        SignalKind::Out
    } else {
        SignalKind::In
    };
    cue.duration = number(parameters, "break_duration")
        .filter(|d| *d > 0.0 && *d < f64::from(u32::MAX) * 2.0)
        .map(|d| d as i64);
    cue.at = splice_time(number(fields, "time"), timestamp_ms);
    Ok(Some(cue))
}

fn youtube(fields: &Fields, timestamp_ms: i64) -> Result<Cue, CueError> {
    const MESSAGE: &str = "onCuePoint";
    let event_id = number(fields, "splice_event_id")
        .filter(|id| (0.0..=f64::from(u32::MAX)).contains(id))
        .unwrap_or(0.0) as u32;
    let start = fields
        .get("cue_point_start")
        .and_then(|v| v.as_bool())
        .ok_or_else(|| field(MESSAGE, "a `cue_point_start` boolean"))?;
    let mut cue = Cue::out(event_id, None);
    if start {
        let seconds = number(fields, "break_duration_sec")
            .filter(|d| *d > 0.0)
            .ok_or_else(|| field(MESSAGE, "a `break_duration_sec` above 0"))?;
        cue.duration = Some(seconds_to_ticks(seconds));
    } else {
        cue.kind = SignalKind::In;
    }
    let pre_roll = number(fields, "pre_roll_time_sec").filter(|p| *p > 0.0);
    cue.at =
        pre_roll.and_then(|p| splice_time(Some(timestamp_ms as f64 / 1000.0 + p), timestamp_ms));
    Ok(cue)
}

/// A cue's `time` (seconds) as a splice point on the frames' timeline, when
/// it is on the message's clock.
fn splice_time(seconds: Option<f64>, timestamp_ms: i64) -> Option<i64> {
    let ms = seconds.filter(|s| s.is_finite())? * 1000.0;
    let lead = ms - timestamp_ms as f64;
    if lead.abs() > MAX_CUE_LEAD_MS as f64 {
        return None;
    }
    Some((ms * f64::from(CLOCK) / 1000.0).round() as i64)
}

fn decode_section(message: &'static str, encoded: &str) -> Result<Vec<u8>, CueError> {
    // Four characters for every three bytes, and padding.
    if encoded.len() > MAX_SECTION.div_ceil(3) * 4 + 4 {
        return Err(field(message, "a section of at most 4,098 bytes"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|source| CueError::Base64 { message, source })
}

/// The `id` as a string (some encoders send a number), printable ASCII
/// without quotes so it can stand in a quoted attribute.
fn identifier(fields: &Fields) -> Option<String> {
    let value = fields.get("id")?;
    let raw = match (value.as_str(), value.as_f64()) {
        (Some(text), _) => text.to_owned(),
        (None, Some(number)) if number.is_finite() => format!("{number}"),
        _ => return None,
    };
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"')
        .take(MAX_ID)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// A numeric `id` is the event id; another is hashed (FNV-1a) to one, so
/// the same `id` always gives the same event.
fn event_id_of(id: &str) -> u32 {
    if let Ok(number) = id.parse::<u32>() {
        return number;
    }
    id.bytes().fold(0x811C_9DC5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

fn number(fields: &Fields, key: &str) -> Option<f64> {
    fields.get(key)?.as_f64().filter(|n| n.is_finite())
}

fn text<'a>(fields: &'a Fields, key: &str) -> Option<&'a str> {
    fields.get(key)?.as_str()
}

fn flag(fields: &Fields, key: &str) -> bool {
    fields.get(key).and_then(|v| v.as_bool()).unwrap_or(false)
}

fn field(message: &'static str, expected: &'static str) -> CueError {
    CueError::Field { message, expected }
}

#[cfg(test)]
mod tests;
