//! Property tests: encode/decode round trips on arbitrary value trees, and
//! arbitrary bytes never panic.

use amf0::{decode_all, Decoder, Object, Str, Value};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

fn str_bytes(max: usize) -> impl Strategy<Value = Str> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|v| Str::from_bytes(Bytes::from(v)))
}

fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Object> {
    // Keys include "" (a property with an empty name) and duplicates.
    prop::collection::vec(
        (
            prop_oneof![Just(Str::default()), Just(Str::from("k")), str_bytes(6)],
            inner,
        ),
        0..5,
    )
    .prop_map(Object::from)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|b| Value::Number(f64::from_bits(b))),
        Just(Value::Number(f64::NAN)),
        Just(Value::Number(-0.0)),
        any::<bool>().prop_map(Value::Boolean),
        str_bytes(12).prop_map(Value::String),
        Just(Value::Null),
        Just(Value::Undefined),
        any::<u16>().prop_map(Value::Reference),
        (any::<u64>(), any::<i16>()).prop_map(|(b, time_zone)| Value::Date {
            millis: f64::from_bits(b),
            time_zone
        }),
        str_bytes(12).prop_map(Value::LongString),
        Just(Value::Unsupported),
        str_bytes(12).prop_map(Value::XmlDocument),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 64, 5, |inner| {
        prop_oneof![
            object(inner.clone()).prop_map(Value::Object),
            (any::<u32>(), object(inner.clone())).prop_map(|(declared_len, properties)| {
                Value::EcmaArray {
                    declared_len,
                    properties,
                }
            }),
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::StrictArray),
            (str_bytes(8), object(inner)).prop_map(|(class_name, properties)| {
                Value::TypedObject {
                    class_name,
                    properties,
                }
            }),
        ]
    })
}

fn encode(values: &[Value]) -> Bytes {
    let mut out = BytesMut::new();
    amf0::encode_all(values, &mut out);
    out.freeze()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encode_then_decode_gives_the_same_values(values in prop::collection::vec(value(), 0..4)) {
        let bytes = encode(&values);
        prop_assert_eq!(values.iter().map(Value::encoded_len).sum::<usize>(), bytes.len());
        let decoded = decode_all(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), values.len());
        for (a, b) in values.iter().zip(&decoded) {
            prop_assert!(a.bitwise_eq(b), "{:?} != {:?}", a, b);
        }
        // and the decoded values re-encode to the same bytes
        prop_assert_eq!(encode(&decoded), bytes);
    }

    #[test]
    fn each_value_is_decoded_exactly_to_its_end(v in value(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut out = BytesMut::new();
        v.encode(&mut out);
        let len = out.len();
        out.extend_from_slice(&tail);
        let mut decoder = Decoder::new(out.freeze());
        prop_assert!(decoder.decode_value().unwrap().bitwise_eq(&v));
        prop_assert_eq!(decoder.position(), len);
        prop_assert_eq!(&decoder.remaining()[..], &tail[..]);
    }

    #[test]
    fn arbitrary_bytes_decode_or_fail_cleanly(input in prop::collection::vec(any::<u8>(), 0..256)) {
        let input = Bytes::from(input);
        if let Ok(values) = decode_all(&input) {
            let again = encode(&values);
            // Byte-exact except a Boolean byte other than 0/1, written as 1.
            prop_assert_eq!(again.len(), input.len());
            for (i, (a, b)) in input.iter().zip(again.iter()).enumerate() {
                prop_assert!(a == b || (*b == 1 && *a > 1), "byte {}: {} became {}", i, a, b);
            }
            let back = decode_all(&again).unwrap();
            prop_assert!(values.iter().zip(&back).all(|(a, b)| a.bitwise_eq(b)));
        }
    }

    #[test]
    fn mutated_encodings_decode_or_fail_cleanly(
        v in value(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut out = BytesMut::new();
        v.encode(&mut out);
        let mut bytes = out.to_vec();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let input = Bytes::from(bytes);
        if let Ok(values) = decode_all(&input) {
            let again = encode(&values);
            prop_assert_eq!(again.len(), input.len());
            let back = decode_all(&again).unwrap();
            prop_assert!(values.iter().zip(&back).all(|(a, b)| a.bitwise_eq(b)));
        }
    }
}
