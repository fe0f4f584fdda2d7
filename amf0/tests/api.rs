//! The convenience API: `Str`, `Object`, `Value` accessors and conversions.

use amf0::{marker, Object, Str, Value};
use bytes::{Bytes, BytesMut};

#[test]
fn str_conversions_and_formatting() {
    const APP: Str = Str::from_static("live");
    assert_eq!(APP, "live");
    assert_eq!("live", APP);
    assert_eq!(APP, Str::from(String::from("live")));
    assert_eq!(APP.len(), 4);
    assert!(!APP.is_empty() && Str::default().is_empty());
    let bad = Str::from_bytes(Bytes::from_static(b"a\xffb"));
    assert_eq!(bad.as_str(), None);
    assert_eq!(bad.to_string_lossy(), "a\u{fffd}b");
    assert_eq!(format!("{bad:?}"), "\"a\u{fffd}b\"");
    assert_eq!(bad.to_string(), "a\u{fffd}b");
    assert_eq!(bad.as_bytes(), b"a\xffb");
}

#[test]
fn object_keeps_order_and_duplicates() {
    let object: Object = [
        ("b", Value::from(1.0)),
        ("a", Value::Null),
        ("b", Value::from(2.0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(object.get("b"), Some(&Value::Number(1.0)));
    assert_eq!(object.get("c"), None);
    let keys: Vec<_> = object.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys, ["b", "a", "b"]);
    let owned: Vec<(Str, Value)> = object.clone().into_iter().collect();
    assert_eq!(owned[2], (Str::from("b"), Value::Number(2.0)));
    assert_eq!((&object).into_iter().count(), 3);
    let mut encoded = BytesMut::new();
    Value::Object(object).encode(&mut encoded);
    assert_eq!(
        &encoded[..],
        b"\x03\x00\x01b\x00\x3f\xf0\0\0\0\0\0\0\x00\x01a\x05\x00\x01b\x00\x40\0\0\0\0\0\0\0\x00\x00\x09"
    );
}

#[test]
fn accessors() {
    let object = Object::from_iter([("k", Value::from(true))]);
    let ecma = Value::EcmaArray {
        declared_len: 0,
        properties: object.clone(),
    };
    let typed = Value::TypedObject {
        class_name: "C".into(),
        properties: object.clone(),
    };
    for v in [Value::Object(object), ecma, typed] {
        assert_eq!(v.get("k").and_then(Value::as_bool), Some(true));
        assert_eq!(v.as_object().map(Object::len), Some(1));
    }
    assert_eq!(Value::LongString("x".into()).as_str(), Some("x"));
    assert_eq!(Value::XmlDocument("<x/>".into()).as_str(), None);
    assert_eq!(
        Value::XmlDocument("<x/>".into()).as_amf_str(),
        Some(&Str::from("<x/>"))
    );
    assert_eq!(Value::Null.as_f64(), None);
    assert_eq!(
        Value::from(vec![Value::Null]).as_array(),
        Some(&[Value::Null][..])
    );
    assert!(Value::Undefined.is_null_or_undefined());
    assert_eq!(Value::Number(1.0).get("k"), None);
}

#[test]
fn long_strings_pick_their_marker() {
    let short = "a".repeat(0xFFFF);
    let long = "a".repeat(0x10000);
    assert_eq!(Value::from(short.as_str()).marker(), marker::STRING);
    assert_eq!(Value::from(long.clone()).marker(), marker::LONG_STRING);
    // A hand-built String too long for 16 bits is written as a long string.
    let forced = Value::String(long.as_str().into());
    let mut out = BytesMut::new();
    forced.encode(&mut out);
    assert_eq!(out.len(), forced.encoded_len());
    assert_eq!(&out[..5], [0x0C, 0x00, 0x01, 0x00, 0x00]);
    let back = amf0::decode_all(&out.freeze()).unwrap();
    assert_eq!(back, [Value::LongString(long.into())]);
}

#[test]
fn over_long_keys_are_cut_to_what_amf0_can_hold() {
    let key = "k".repeat(0x10005);
    let value = Value::Object(Object::from_iter([(key.as_str(), Value::Null)]));
    let mut out = BytesMut::new();
    value.encode(&mut out);
    assert_eq!(out.len(), value.encoded_len());
    let back = amf0::decode_all(&out.freeze()).unwrap();
    let (k, _) = back[0].as_object().unwrap().iter().next().unwrap();
    assert_eq!(k.len(), 0xFFFF);
}

#[test]
fn encoding_very_deep_hand_built_values_does_not_recurse() {
    // Built by hand (not decoded), 100,000 levels deep: encode and
    // encoded_len (and bitwise_eq) walk it with a heap stack. The value is dismantled
    // iteratively at the end, since the derived Drop recurses.
    let mut value = Value::Null;
    for _ in 0..100_000 {
        value = Value::StrictArray(vec![value]);
    }
    assert_eq!(value.encoded_len(), 100_000 * 5 + 1);
    let mut out = BytesMut::new();
    value.encode(&mut out);
    assert_eq!(out.len(), 100_000 * 5 + 1);
    assert_eq!(&out[..5], [0x0A, 0, 0, 0, 1]);
    assert!(value.bitwise_eq(&value));
    while let Value::StrictArray(mut items) = value {
        value = items.pop().unwrap();
    }
    assert_eq!(value, Value::Null);
}

#[test]
fn bitwise_eq_compares_structure_and_bits() {
    let nan = Value::Number(f64::NAN);
    let obj = |v: Value| Value::Object(Object::from_iter([("a", v)]));
    assert!(obj(nan.clone()).bitwise_eq(&obj(nan.clone())));
    assert_ne!(obj(nan.clone()), obj(nan.clone()));
    assert!(!obj(Value::Number(0.0)).bitwise_eq(&obj(Value::Number(-0.0))));
    assert!(!obj(Value::Null).bitwise_eq(&Value::Object(Object::from_iter([("b", Value::Null)]))));
    let ecma = |n| Value::EcmaArray {
        declared_len: n,
        properties: Object::new(),
    };
    assert!(ecma(1).bitwise_eq(&ecma(1)) && !ecma(1).bitwise_eq(&ecma(0)));
    let arr = |v: Vec<Value>| Value::StrictArray(v);
    assert!(!arr(vec![Value::Null]).bitwise_eq(&arr(vec![Value::Null, Value::Null])));
    assert!(!arr(vec![nan.clone()]).bitwise_eq(&arr(vec![Value::Number(f64::from_bits(1))])));
    let date = |tz| Value::Date {
        millis: f64::NAN,
        time_zone: tz,
    };
    assert!(date(0).bitwise_eq(&date(0)) && !date(0).bitwise_eq(&date(1)));
    assert!(!Value::Null.bitwise_eq(&Value::Undefined));
}
