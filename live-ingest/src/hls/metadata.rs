//! Timed metadata from the publisher: `onTextData` and the `onCuePoint`s
//! that are not ad cues (navigation and event cue points, an application's
//! own) become ID3 tags in the segments ([`hls_mux::Muxer::push_metadata`]:
//! `emsg` boxes in fMP4, an ID3 stream in MPEG-TS), which hls.js, Shaka and
//! AVPlayer fire as metadata cues when the playhead
//! reaches them. Each tag is one `TXXX` frame: the message name as its
//! description, the message's values as JSON as its text.

use amf0::Value;
use flv::tag::ScriptData;
use serde_json::{Map, Value as Json};

/// How deep an AMF value is followed (deeper values become `null`).
const MAX_DEPTH: usize = 8;

/// The data messages carried as timed metadata.
pub const NAMES: [&str; 2] = ["onTextData", "onCuePoint"];

/// The ID3 tag of a data message that is timed metadata, or `None` for one
/// that is not (or whose tag would be larger than [`hls_mux::id3::MAX_TAG`]).
pub fn id3_tag(script: &ScriptData) -> Option<Vec<u8>> {
    let name = script.name.as_str().filter(|n| NAMES.contains(n))?;
    let json = match script.values.as_slice() {
        [one] => to_json(one, 0),
        many => Json::Array(many.iter().map(|v| to_json(v, 0)).collect()),
    };
    hls_mux::id3::txxx(name, &json.to_string())
}

/// An AMF0 value as JSON: objects and ECMA arrays as objects, numbers that
/// are not finite and what JSON has no form for as `null`.
fn to_json(value: &Value, depth: usize) -> Json {
    if depth >= MAX_DEPTH {
        return Json::Null;
    }
    let object = |properties: &amf0::Object| {
        let map: Map<String, Json> = properties
            .iter()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), to_json(v, depth + 1)))
            .collect();
        Json::Object(map)
    };
    match value {
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Value::Boolean(b) => Json::Bool(*b),
        Value::String(s) | Value::LongString(s) | Value::XmlDocument(s) => {
            Json::String(s.to_string_lossy().into_owned())
        }
        Value::Object(properties) => object(properties),
        Value::EcmaArray { properties, .. } | Value::TypedObject { properties, .. } => {
            object(properties)
        }
        Value::StrictArray(items) => {
            Json::Array(items.iter().map(|v| to_json(v, depth + 1)).collect())
        }
        Value::Date { millis, .. } => {
            serde_json::Number::from_f64(*millis).map_or(Json::Null, Json::Number)
        }
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn script(values: &[Value]) -> ScriptData {
        let mut body = BytesMut::new();
        amf0::encode_all(values, &mut body);
        ScriptData::parse(&body.freeze()).unwrap()
    }

    #[test]
    fn text_data_becomes_a_txxx_tag_with_its_fields_as_json() {
        let fields = amf0::Object::from_iter([
            ("text", Value::from("goal!")),
            ("trackid", Value::from(1.0)),
            (
                "nested",
                Value::Object(amf0::Object::from_iter([("ok", true)])),
            ),
        ]);
        let tag = id3_tag(&script(&[Value::from("onTextData"), Value::Object(fields)])).unwrap();
        let text = String::from_utf8_lossy(&tag[21..]).into_owned();
        assert!(tag.starts_with(b"ID3\x04"));
        assert!(String::from_utf8_lossy(&tag).contains("onTextData\0"));
        let json: Json = serde_json::from_str(text.split('\0').nth(1).unwrap()).unwrap();
        assert_eq!(json["text"], "goal!");
        assert_eq!(json["trackid"], 1.0);
        assert_eq!(json["nested"]["ok"], true);
    }

    #[test]
    fn other_messages_are_not_metadata_and_depth_is_bounded() {
        let meta = script(&[Value::from("onMetaData"), Value::from(1.0)]);
        assert!(id3_tag(&meta).is_none());
        let mut deep = Value::from(1.0);
        for _ in 0..20 {
            deep = Value::StrictArray(vec![deep]);
        }
        let tag = id3_tag(&script(&[Value::from("onCuePoint"), deep])).unwrap();
        assert!(String::from_utf8_lossy(&tag).contains("null"));
        let huge = Value::from("x".repeat(70_000));
        assert!(id3_tag(&script(&[Value::from("onTextData"), huge])).is_none());
    }
}
