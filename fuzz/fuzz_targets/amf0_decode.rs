//! Decodes arbitrary bytes as a sequence of AMF0 values; whatever decodes
//! must re-encode to the same length and decode back to the same values
//! (numbers compared by bits).
#![no_main]

use bytes::{Bytes, BytesMut};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let Ok(values) = amf0::decode_all(&input) else {
        return;
    };
    let mut out = BytesMut::new();
    amf0::encode_all(&values, &mut out);
    assert_eq!(out.len(), input.len(), "re-encoding changed the length");
    assert_eq!(
        values.iter().map(amf0::Value::encoded_len).sum::<usize>(),
        out.len()
    );
    // Byte-exact except Boolean bytes other than 0/1, which become 1.
    for (i, (a, b)) in input.iter().zip(out.iter()).enumerate() {
        assert!(
            a == b || (*b == 1 && *a > 1),
            "byte {i}: {a:#04x} became {b:#04x}"
        );
    }
    let again = amf0::decode_all(&out.freeze()).expect("re-encoded values decode");
    assert_eq!(again.len(), values.len());
    for (a, b) in values.iter().zip(&again) {
        assert!(a.bitwise_eq(b), "{a:?} != {b:?}");
    }
});
