//! Hostile and malformed input: every case is an error value, never a panic,
//! a stack overflow or a huge allocation.

use amf0::{decode_all, decode_all_with, Decoder, Error, Limits, Object, Value};
use bytes::{BufMut, Bytes, BytesMut};

const DEEP: usize = 100_000;

/// `DEEP` nested containers of one kind, each the only child of its parent,
/// the innermost holding a Null; containers are properly closed.
fn nested(marker: u8) -> Bytes {
    let mut out = BytesMut::new();
    for _ in 0..DEEP {
        out.put_u8(marker);
        match marker {
            0x03 => out.put_slice(b"\x00\x01k"),
            0x08 => out.put_slice(b"\x00\x00\x00\x01\x00\x01k"),
            0x0A => out.put_u32(1),
            0x10 => out.put_slice(b"\x00\x01C\x00\x01k"),
            _ => unreachable!(),
        }
    }
    out.put_u8(0x05);
    if marker != 0x0A {
        for _ in 0..DEEP {
            out.put_slice(&[0, 0, 9]);
        }
    }
    out.freeze()
}

/// Offset of the marker of the 65th container in `nested(marker)`.
fn offset_of_65th(marker: u8) -> usize {
    let header = match marker {
        0x03 => 1 + 3,
        0x08 => 1 + 4 + 3,
        0x0A => 1 + 4,
        0x10 => 1 + 3 + 3,
        _ => unreachable!(),
    };
    64 * header
}

#[test]
fn deep_nesting_of_every_container_kind_is_a_depth_error() {
    for marker in [0x03, 0x08, 0x0A, 0x10] {
        let input = nested(marker);
        assert_eq!(
            decode_all(&input),
            Err(Error::DepthLimit {
                limit: 64,
                offset: offset_of_65th(marker)
            }),
            "container marker {marker:#04x}"
        );
    }
}

#[test]
fn depth_limit_is_exact() {
    // 64 nested strict arrays decode; 65 do not.
    let mut ok = BytesMut::new();
    for _ in 0..64 {
        ok.put_u8(0x0A);
        ok.put_u32(1);
    }
    ok.put_u8(0x05);
    let mut value = &decode_all(&ok.clone().freeze()).unwrap()[0];
    let mut depth = 0;
    while let Value::StrictArray(items) = value {
        depth += 1;
        value = &items[0];
    }
    assert_eq!((depth, value), (64, &Value::Null));

    let too_deep = [&[0x0A, 0, 0, 0, 1][..], &ok].concat();
    assert!(matches!(
        decode_all(&Bytes::from(too_deep)),
        Err(Error::DepthLimit { limit: 64, .. })
    ));

    let shallow = Limits::DEFAULT.with_max_depth(1);
    let two = Bytes::from_static(b"\x0a\x00\x00\x00\x01\x03\x00\x00\x09");
    assert_eq!(
        decode_all_with(&two, &shallow),
        Err(Error::DepthLimit {
            limit: 1,
            offset: 5
        })
    );
}

#[test]
fn deep_truncated_nesting_without_a_depth_limit_does_not_overflow_the_stack() {
    // The decoder itself never recurses: with no depth limit, 100,000 open
    // containers followed by the end of input are just an UnexpectedEnd.
    let unlimited = Limits::DEFAULT.with_max_depth(usize::MAX);
    for marker in [0x03, 0x08, 0x0A, 0x10] {
        let full = nested(marker);
        let open_only = full.slice(..offset_of_65th(marker) / 64 * DEEP);
        let err = decode_all_with(&open_only, &unlimited).unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedEnd { offset, .. } if offset == open_only.len()),
            "{marker:#04x}: {err:?}"
        );
    }
}

#[test]
fn strict_array_claiming_four_billion_elements_fails_before_allocating() {
    // Reserving 0xFFFFFFFF values (~250 GiB) would abort the test process.
    let input = Bytes::from_static(b"\x0a\xff\xff\xff\xff\x05\x05\x05\x05\x05");
    assert_eq!(
        decode_all(&input),
        Err(Error::UnexpectedEnd {
            offset: 5,
            needed: 0xFFFF_FFFF
        })
    );
}

#[test]
fn nested_huge_claims_with_real_content_are_bounded() {
    // 63 levels of arrays each claiming more elements than it holds, over
    // 200,000 real nulls: reservations are capped per container, and the
    // innermost array decodes completely before the outer one runs out.
    let filler = 200_000u32;
    let mut input = BytesMut::new();
    for level in 0..63u32 {
        input.put_u8(0x0A);
        input.put_u32(if level == 62 { filler } else { filler + 1 });
    }
    input.put_bytes(0x05, filler as usize);
    let input = input.freeze();
    assert_eq!(
        decode_all(&input),
        Err(Error::UnexpectedEnd {
            offset: input.len(),
            needed: 1
        })
    );
}

#[test]
fn ecma_array_count_is_not_trusted() {
    // Claims 4 billion properties, holds one.
    let input = Bytes::from_static(b"\x08\xff\xff\xff\xff\x00\x01a\x05\x00\x00\x09");
    let values = decode_all(&input).unwrap();
    let Value::EcmaArray {
        declared_len,
        properties,
    } = &values[0]
    else {
        panic!("not an ECMA array: {values:?}")
    };
    assert_eq!(*declared_len, u32::MAX);
    assert_eq!(properties.len(), 1);
    assert_eq!(properties.get("a"), Some(&Value::Null));
    assert_eq!(encoded(&values), input);
}

#[test]
fn long_string_claiming_four_gib_is_unexpected_end() {
    for marker in [0x0C, 0x0F] {
        let input = Bytes::from([marker, 0xFF, 0xFF, 0xFF, 0xFF, b'a', b'b'].to_vec());
        assert_eq!(
            decode_all(&input),
            Err(Error::UnexpectedEnd {
                offset: 5,
                needed: 0xFFFF_FFFF
            })
        );
    }
    let short = Bytes::from_static(b"\x02\xff\xffab");
    assert_eq!(
        decode_all(&short),
        Err(Error::UnexpectedEnd {
            offset: 3,
            needed: 0xFFFF
        })
    );
}

#[test]
fn amf3_switch_is_reported_with_its_offset() {
    let top = Bytes::from_static(b"\x11\x06");
    assert_eq!(decode_all(&top), Err(Error::Amf3 { offset: 0 }));
    let inside = Bytes::from_static(b"\x05\x03\x00\x01a\x11\x06");
    assert_eq!(decode_all(&inside), Err(Error::Amf3 { offset: 5 }));
}

#[test]
fn reserved_unknown_and_misplaced_markers() {
    for (input, expected) in [
        (
            &b"\x04"[..],
            Error::ReservedMarker {
                marker: 4,
                offset: 0,
            },
        ),
        (
            b"\x05\x0e",
            Error::ReservedMarker {
                marker: 0x0E,
                offset: 1,
            },
        ),
        (
            b"\x12",
            Error::UnknownMarker {
                marker: 0x12,
                offset: 0,
            },
        ),
        (
            b"\xff",
            Error::UnknownMarker {
                marker: 0xFF,
                offset: 0,
            },
        ),
        (b"\x09", Error::UnexpectedObjectEnd { offset: 0 }),
        (
            b"\x0a\x00\x00\x00\x01\x09",
            Error::UnexpectedObjectEnd { offset: 5 },
        ),
        // a non-empty name followed by the object-end marker
        (
            b"\x03\x00\x01a\x09",
            Error::UnexpectedObjectEnd { offset: 4 },
        ),
    ] {
        assert_eq!(
            decode_all(&Bytes::from_static(input)),
            Err(expected.clone())
        );
    }
}

#[test]
fn empty_name_before_a_value_is_a_property() {
    let input = Bytes::from_static(b"\x03\x00\x00\x05\x00\x01a\x01\x01\x00\x00\x09");
    let values = decode_all(&input).unwrap();
    let object = values[0].as_object().unwrap();
    let pairs: Vec<_> = object
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(
        pairs,
        [
            (String::new(), Value::Null),
            ("a".to_string(), Value::Boolean(true))
        ]
    );
    assert_eq!(encoded(&values), input);
}

#[test]
fn references_are_kept_as_indices() {
    // An object then 1,000 references to it: nothing is copied or resolved.
    let mut input =
        BytesMut::from(&b"\x03\x00\x01a\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\x00\x00\x09"[..]);
    for _ in 0..1000 {
        input.put_slice(&[0x07, 0x00, 0x00]);
    }
    input.put_slice(&[0x07, 0xFF, 0xFF]);
    let input = input.freeze();
    let values = decode_all(&input).unwrap();
    assert_eq!(values.len(), 1002);
    assert!(values[1..1001].iter().all(|v| *v == Value::Reference(0)));
    assert_eq!(values[1001], Value::Reference(0xFFFF));
    assert_eq!(encoded(&values), input);
}

#[test]
fn too_many_values() {
    let input = Bytes::from_static(&[0x05; 10]);
    let limits = Limits::DEFAULT.with_max_values(9);
    assert_eq!(
        decode_all_with(&input, &limits),
        Err(Error::TooManyValues {
            limit: 9,
            offset: 9
        })
    );
    assert_eq!(
        decode_all_with(&input, &limits.with_max_values(10))
            .unwrap()
            .len(),
        10
    );
    // Containers and their children all count.
    let array = Bytes::from_static(b"\x0a\x00\x00\x00\x02\x05\x05");
    assert!(decode_all_with(&array, &limits.with_max_values(3)).is_ok());
    assert_eq!(
        decode_all_with(&array, &limits.with_max_values(2)),
        Err(Error::TooManyValues {
            limit: 2,
            offset: 6
        })
    );
}

#[test]
fn boolean_normalisation_is_the_only_non_exact_byte() {
    let input = Bytes::from_static(b"\x01\x02\x01\x00\x01\xff");
    let values = decode_all(&input).unwrap();
    assert_eq!(
        values,
        [
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Boolean(true)
        ]
    );
    assert_eq!(&encoded(&values)[..], b"\x01\x01\x01\x00\x01\x01");
}

#[test]
fn every_truncation_of_a_valid_value_is_an_error() {
    let mut object = Object::new();
    object.push("", Value::Null);
    object.push("n", -0.0);
    object.push(
        "arr",
        vec![Value::from("x"), Value::Undefined, Value::Reference(3)],
    );
    object.push(
        "e",
        Value::EcmaArray {
            declared_len: 0,
            properties: Object::from_iter([(
                "d",
                Value::Date {
                    millis: 1.5,
                    time_zone: -60,
                },
            )]),
        },
    );
    object.push(
        "t",
        Value::TypedObject {
            class_name: "C".into(),
            properties: Object::from_iter([("l", Value::LongString("long".into()))]),
        },
    );
    object.push("x", Value::XmlDocument("<a/>".into()));
    object.push("u", Value::Unsupported);
    object.push("b", true);
    let full = encoded(&[Value::Object(object)]);
    for cut in 0..full.len() {
        let prefix = full.slice(..cut);
        let mut decoder = Decoder::new(prefix.clone());
        let err = decoder.decode_value().unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedEnd { .. }),
            "cut {cut}: {err:?}"
        );
        assert!(err.offset() <= cut, "cut {cut}: {err:?}");
        // A failed decode leaves the position at the start of the value.
        assert_eq!((decoder.position(), decoder.remaining()), (0, prefix));
    }
    assert!(Decoder::new(full).decode_value().is_ok());
}

#[test]
fn iterator_stops_after_the_first_error() {
    let input = Bytes::from_static(b"\x05\x12\x05");
    let mut decoder = Decoder::new(input);
    assert_eq!(decoder.next(), Some(Ok(Value::Null)));
    assert_eq!(
        decoder.next(),
        Some(Err(Error::UnknownMarker {
            marker: 0x12,
            offset: 1
        }))
    );
    assert_eq!(decoder.next(), None);
    assert_eq!(decoder.position(), 1);
}

fn encoded(values: &[Value]) -> Bytes {
    let mut out = BytesMut::new();
    amf0::encode_all(values, &mut out);
    out.freeze()
}
