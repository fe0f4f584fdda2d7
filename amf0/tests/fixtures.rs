//! Byte-exact fixtures from real peers (see `tests/data/README.md`).

use amf0::{decode_all, Decoder, Value};
use bytes::{Bytes, BytesMut};

fn fixture(name: &str) -> Bytes {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// Decodes every value, checks re-encoding gives the identical bytes, and
/// that strings are slices of the input (zero-copy).
fn decode_exact(name: &str) -> Vec<Value> {
    let input = fixture(name);
    let values = decode_all(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = BytesMut::new();
    amf0::encode_all(&values, &mut out);
    assert_eq!(out, input, "{name}: re-encoding differs");
    assert_eq!(
        values.iter().map(Value::encoded_len).sum::<usize>(),
        input.len()
    );
    let name_str = values[0].as_amf_str().expect("first value is a string");
    let range = input.as_ptr_range();
    assert!(
        range.contains(&name_str.as_bytes().as_ptr()),
        "{name}: copied"
    );
    values
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {key} in {value:?}"))
}

fn num_of(value: &Value, key: &str) -> f64 {
    value
        .get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number {key} in {value:?}"))
}

fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, _)| k.to_string())
        .collect()
}

#[test]
fn ffmpeg9_connect() {
    let values = decode_exact("ffmpeg9_connect.bin");
    assert_eq!(values.len(), 3);
    assert_eq!(values[0].as_str(), Some("connect"));
    assert_eq!(values[1].as_f64(), Some(1.0));
    let object = &values[2];
    assert!(matches!(object, Value::Object(_)));
    assert_eq!(keys(object), ["app", "type", "flashVer", "tcUrl"]);
    assert_eq!(str_of(object, "app"), "live");
    assert_eq!(str_of(object, "type"), "nonprivate");
    assert!(str_of(object, "flashVer").starts_with("FMLE/3.0 (compatible; Lavf"));
    assert_eq!(str_of(object, "tcUrl"), "rtmp://127.0.0.1:41935/live");
}

#[test]
fn gstreamer_connect() {
    let values = decode_exact("gst_connect.bin");
    assert_eq!(values.len(), 3);
    assert_eq!(values[0].as_str(), Some("connect"));
    assert_eq!(values[1].as_f64(), Some(1.0));
    let object = &values[2];
    assert_eq!(keys(object), ["app", "type", "flashVer", "tcUrl"]);
    assert_eq!(str_of(object, "app"), "live");
    assert_eq!(str_of(object, "flashVer"), "LNX 10,0,32,18");
    assert_eq!(str_of(object, "tcUrl"), "rtmp://127.0.0.1:41937/live");
}

#[test]
fn ffmpeg9_onmetadata() {
    let values = decode_exact("ffmpeg9_onmetadata.bin");
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].as_str(), Some("onMetaData"));
    let Value::EcmaArray {
        declared_len,
        properties,
    } = &values[1]
    else {
        panic!("onMetaData is not an ECMA array: {:?}", values[1]);
    };
    // FFmpeg writes the real count.
    assert_eq!(*declared_len as usize, properties.len());
    let meta = &values[1];
    assert_eq!(num_of(meta, "width"), 320.0);
    assert_eq!(num_of(meta, "height"), 240.0);
    assert_eq!(num_of(meta, "framerate"), 30.0);
    assert_eq!(num_of(meta, "videocodecid"), 7.0); // AVC
    assert_eq!(num_of(meta, "audiocodecid"), 10.0); // AAC
    assert_eq!(meta.get("stereo").and_then(Value::as_bool), Some(false));
    let duration = num_of(meta, "duration");
    assert!((1.0..1.1).contains(&duration), "duration {duration}");
    assert!(str_of(meta, "encoder").starts_with("Lavf"));
    assert!(num_of(meta, "filesize") > 0.0);
}

#[test]
fn gstreamer_onmetadata() {
    let values = decode_exact("gst_onmetadata.bin");
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].as_str(), Some("onMetaData"));
    let meta = &values[1];
    let Value::EcmaArray { declared_len, .. } = meta else {
        panic!("onMetaData is not an ECMA array: {meta:?}");
    };
    assert_eq!(*declared_len, 14);
    assert_eq!(num_of(meta, "width"), 320.0);
    assert_eq!(num_of(meta, "height"), 240.0);
    assert_eq!(num_of(meta, "videocodecid"), 7.0);
    assert_eq!(num_of(meta, "audiocodecid"), 10.0);
    let duration = num_of(meta, "duration");
    assert!((0.9..1.1).contains(&duration), "duration {duration}");
    assert_eq!(str_of(meta, "encoder"), "GStreamer 1.22.0 FLV muxer");
    // The seek index: an ECMA array of two strict arrays of numbers.
    let keyframes = meta.get("keyframes").expect("keyframes index");
    assert!(matches!(keyframes, Value::EcmaArray { .. }));
    let times = keyframes.get("times").and_then(Value::as_array).unwrap();
    let positions = keyframes
        .get("filepositions")
        .and_then(Value::as_array)
        .unwrap();
    assert_eq!(times.len(), positions.len());
    assert!(times.iter().all(|t| t.as_f64().is_some()));
    // The space GStreamer reserves for rewriting the header: a string of spaces.
    assert!(str_of(meta, "gstfiller").bytes().all(|b| b == b' '));
}

#[test]
fn every_truncation_of_every_fixture_is_an_error_except_at_value_boundaries() {
    for name in [
        "ffmpeg9_connect.bin",
        "gst_connect.bin",
        "ffmpeg9_onmetadata.bin",
        "gst_onmetadata.bin",
    ] {
        let input = fixture(name);
        let mut boundaries = vec![0];
        let mut decoder = Decoder::new(input.clone());
        while decoder.next().is_some() {
            boundaries.push(decoder.position());
        }
        for cut in 0..input.len() {
            let result = decode_all(&input.slice(..cut));
            match boundaries.iter().position(|&b| b == cut) {
                Some(n) => assert_eq!(result.map(|v| v.len()), Ok(n), "{name} cut {cut}"),
                None => assert!(result.is_err(), "{name} cut {cut}"),
            }
        }
    }
}
