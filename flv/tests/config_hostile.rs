//! Hostile codec configuration records: counts and lengths that claim far more
//! than the input holds must fail without allocating for the claim, and no input
//! may panic.

#[path = "config_common.rs"]
mod common;

use common::{fixture, FIXTURES};
use flv::config::{AvcConfig, CodecConfig, ConfigError, ConfigKind, HevcConfig};
use proptest::prelude::*;

// No counting allocator here: it needs `unsafe impl GlobalAlloc`, and the crate
// forbids unsafe code. The parsers never size an allocation from a claimed count
// (lists grow one parsed element at a time, each bounded by the input); these
// tests pin that down by checking that a claim fails at the first element that
// does not fit, with `needed` computed from the claim and nothing read past it.

#[test]
fn hvcc_array_claiming_65535_nal_units_in_20_bytes() {
    // The 23-byte header of the real record, then one array claiming 65,535 NAL
    // units of 65,535 bytes each, followed by 20 bytes.
    let mut data = fixture("hevc_main_320x240.bin")[..22].to_vec();
    data.push(1); // numOfArrays
    data.extend_from_slice(&[0xa1, 0xff, 0xff]); // SPS array, numNalus = 65535
    data.extend_from_slice(&[0xff, 0xff]); // nalUnitLength = 65535
    data.extend_from_slice(&[0x42; 15]);
    let res = HevcConfig::parse(&data);
    let err = res.unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Truncated {
                field: "nalUnit",
                offset: 28,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn hvcc_many_empty_nal_units_fail_without_big_allocation() {
    // 65,535 zero-length units need 2 bytes each; 20 bytes hold 10 of them.
    let mut data = fixture("hevc_main_320x240.bin")[..22].to_vec();
    data.extend_from_slice(&[255, 0x21, 0xff, 0xff]);
    data.extend_from_slice(&[0; 20]);
    let res = HevcConfig::parse(&data);
    assert!(matches!(res, Err(ConfigError::Truncated { .. })));
}

#[test]
fn avcc_claiming_255_pps_in_20_bytes() {
    let mut data = vec![1, 0x64, 0, 0x0d, 0xff, 0xe1];
    data.extend_from_slice(&[0xff, 0xff]); // SPS of 65,535 bytes
    data.extend_from_slice(&[0x67; 12]);
    let res = AvcConfig::parse(&data);
    assert!(matches!(
        res,
        Err(ConfigError::Truncated { needed: 65_523, .. })
    ));
    let mut data = fixture("avc_baseline_30fps.bin")[..30].to_vec();
    data.push(0xff); // numOfPictureParameterSets = 255
    data.extend_from_slice(&[0, 1, 0x68, 0, 1]);
    let res = AvcConfig::parse(&data);
    assert!(matches!(res, Err(ConfigError::Truncated { .. })));
}

#[test]
fn avcc_without_sps_is_missing() {
    let data = [1, 0x42, 0xc0, 0x0d, 0xff, 0xe0, 0x00];
    assert!(matches!(
        AvcConfig::parse(&data),
        Err(ConfigError::Missing { offset: 5, .. })
    ));
}

#[test]
fn huge_claims_in_other_records() {
    // av1C with an OBU claiming 2^32-1 bytes.
    let data = [0x81, 0, 0x0c, 0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let res = CodecConfig::parse(ConfigKind::Av1, &data);
    assert!(matches!(res, Err(ConfigError::Truncated { .. })), "{res:?}");
    // vpcC claiming 65,535 bytes of initialization data.
    let data = [1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0xff, 0xff, 0];
    let res = CodecConfig::parse(ConfigKind::Vp9, &data);
    assert!(matches!(
        res,
        Err(ConfigError::Truncated { needed: 65_534, .. })
    ));
    // AAC PCE with a 255-byte comment in 10 bytes.
    let data = [0x12, 0x00, 0x05, 0x04, 0x01, 0x00, 0x20, 0x00, 0xff];
    assert!(matches!(
        CodecConfig::parse(ConfigKind::Aac, &data),
        Err(ConfigError::Truncated { .. })
    ));
}

#[test]
fn exp_golomb_overlong_in_hevc_sps() {
    // SPS whose sps_seq_parameter_set_id is 40 zero bits: rejected, no overflow.
    let hvcc = fixture("hevc_main_320x240.bin");
    let sps_start = 0x39; // nalUnit of the SPS array
    assert_eq!(hvcc[sps_start], 0x42);
    let mut data = hvcc.clone();
    // PTL ends 2 + 1 + 12 bytes into the SPS NAL (header 2, ids 1, PTL 12).
    for b in &mut data[sps_start + 15..sps_start + 20] {
        *b = 0;
    }
    let err = HevcConfig::parse(&data).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes, for every record kind: an error or a record that
    /// serializes back to a record that parses equal; never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(kind in 0usize..7, data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let kinds = [ConfigKind::Avc, ConfigKind::Hevc, ConfigKind::Av1, ConfigKind::Vp9, ConfigKind::Aac, ConfigKind::Opus, ConfigKind::Flac];
        // Every parser sees every input; `kind` rotates which one goes first.
        for k in kinds.iter().cycle().skip(kind).take(7).copied() {
            if let Ok(config) = CodecConfig::parse(k, &data) {
                let again = CodecConfig::parse(k, &config.to_bytes()).unwrap();
                prop_assert_eq!(again, config);
            }
        }
    }

    /// Fixtures with bytes flipped: same property, on inputs that get deep.
    #[test]
    fn mutated_fixtures_never_panic(which in 0..FIXTURES.len(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let (name, kind) = FIXTURES[which];
        let mut data = fixture(name);
        for (at, x) in flips {
            let n = data.len();
            data[at % n] ^= x;
        }
        if let Ok(config) = CodecConfig::parse(kind, &data) {
            let again = CodecConfig::parse(kind, &config.to_bytes()).unwrap();
            prop_assert_eq!(again, config);
        }
    }
}
