//! What a peer asks of a server session, for the application to accept or reject.

use amf0::{Object, Value};

use crate::message::Command;

/// A `connect` command, read into its usual fields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConnectRequest {
    /// The application (`app`), without a trailing slash.
    pub app: String,
    /// `tcUrl`, if sent.
    pub tc_url: Option<String>,
    /// `flashVer`, if sent (e.g. `FMLE/3.0 (compatible; Lavf61.1.100)`).
    pub flash_version: Option<String>,
    /// `objectEncoding` (0 for AMF0; 3 asks for AMF3, answered with AMF0 anyway).
    pub object_encoding: f64,
    /// Enhanced RTMP `fourCcList`, empty for a legacy client.
    pub four_cc_list: Vec<String>,
    /// Enhanced RTMP `videoFourCcInfoMap` entries.
    pub video_four_cc_info: Vec<(String, u32)>,
    /// Enhanced RTMP `audioFourCcInfoMap` entries.
    pub audio_four_cc_info: Vec<(String, u32)>,
    /// Enhanced RTMP `capsEx`.
    pub caps_ex: Option<u32>,
    /// The whole command object, for anything else the application wants to read.
    pub properties: Object,
}

impl ConnectRequest {
    pub(super) fn from_command(command: &Command) -> ConnectRequest {
        let empty = Object::new();
        let object = command.object.as_object().unwrap_or(&empty);
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let info_map = |key: &str| -> Vec<(String, u32)> {
            object
                .get(key)
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(k, v)| {
                            (
                                k.to_string_lossy().into_owned(),
                                v.as_f64().map_or(0, |f| f as u32),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let four_cc_list = match object.get("fourCcList") {
            Some(Value::StrictArray(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        ConnectRequest {
            app: text("app")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned(),
            tc_url: text("tcUrl"),
            flash_version: text("flashVer"),
            object_encoding: object
                .get("objectEncoding")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            four_cc_list,
            video_four_cc_info: info_map("videoFourCcInfoMap"),
            audio_four_cc_info: info_map("audioFourCcInfoMap"),
            caps_ex: object
                .get("capsEx")
                .and_then(Value::as_f64)
                .map(|f| f as u32),
            properties: object.clone(),
        }
    }

    /// Whether the client offered Enhanced RTMP.
    pub fn is_enhanced(&self) -> bool {
        !self.four_cc_list.is_empty()
            || !self.video_four_cc_info.is_empty()
            || !self.audio_four_cc_info.is_empty()
            || self.caps_ex.is_some()
    }
}

/// A `publish` command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishRequest {
    /// The message stream it came on.
    pub stream_id: u32,
    /// The application of the connection.
    pub app: String,
    /// The stream name (the key), as sent: a query string stays on it.
    pub name: String,
    /// `live`, `record` or `append`.
    pub publish_type: String,
}

/// A `play` command.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PlayRequest {
    /// The message stream it came on.
    pub stream_id: u32,
    /// The application of the connection.
    pub app: String,
    /// The stream name (the key), as sent.
    pub name: String,
    /// Start: -2 live or recorded, -1 live only, >= 0 a position in seconds.
    pub start: f64,
    /// Duration in seconds, -1 for all.
    pub duration: f64,
    /// Whether to flush a previous playlist.
    pub reset: bool,
}
