//! Property tests: records built from generated fields serialize to bytes that
//! parse back to the same record, with the generated values.

#[path = "config_common.rs"]
mod common;

use bytes::Bytes;
use common::fixture;
use flv::config::{
    AacConfig, Av1Config, AvcConfig, FlacStreamInfo, HevcConfig, OpusChannelMapping, OpusHead,
    Vp9Config,
};
use proptest::prelude::*;

const AAC_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

fn nal_list(max: usize) -> impl Strategy<Value = Vec<Bytes>> {
    proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 1..200).prop_map(Bytes::from),
        0..max,
    )
}

/// The parameter sets of the HEVC fixture, by NAL unit type.
fn hevc_sets() -> (Vec<Bytes>, Vec<Bytes>, Vec<Bytes>) {
    let c = HevcConfig::parse(&fixture("hevc_main_320x240.bin")).unwrap();
    let get = |t| c.nal_units(t).cloned().collect::<Vec<_>>();
    (get(32), get(33), get(34))
}

proptest! {
    #[test]
    fn vp9(profile in 0u8..4, level in any::<u8>(), depth in prop::sample::select(vec![8u8, 10, 12]),
           chroma in 0u8..4, full in any::<bool>(), cp in any::<u8>(), tc in any::<u8>(), mc in any::<u8>()) {
        let c = Vp9Config {
            flags: 0, profile, level, bit_depth: depth, chroma_subsampling: chroma,
            video_full_range_flag: full, colour_primaries: cp, transfer_characteristics: tc,
            matrix_coefficients: mc, codec_initialization_data: Bytes::new(),
        };
        let bytes = c.to_bytes();
        prop_assert_eq!(bytes.len(), 12);
        prop_assert_eq!(Vp9Config::parse(&bytes).unwrap(), c.clone());
        prop_assert_eq!(c.codec_string(), format!("vp09.{profile:02}.{level:02}.{depth:02}"));
    }

    #[test]
    fn opus(channels in 1u8..=8, pre_skip in any::<u16>(), rate in any::<u32>(), gain in any::<i16>(),
            family in prop::sample::select(vec![0u8, 1, 255]), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let channels = if family == 0 { channels.min(2) } else { channels };
        let mapping = (family != 0).then(|| OpusChannelMapping {
            stream_count: channels, coupled_count: 0, mapping: (0..channels).collect(),
        });
        let c = OpusHead {
            version: 1, channel_count: channels, pre_skip, input_sample_rate: rate, output_gain: gain,
            mapping_family: family, mapping, trailing: Bytes::from(trailing),
        };
        prop_assert_eq!(OpusHead::parse(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn flac(min_block in 16u16.., max_block in 16u16.., min_frame in 0u32..1 << 24, max_frame in 0u32..1 << 24,
            rate in 1u32..1 << 20, channels in 1u8..=8, bits in 4u8..=32, total in 0u64..1 << 36, md5 in any::<[u8; 16]>()) {
        let c = FlacStreamInfo {
            min_block_size: min_block, max_block_size: max_block, min_frame_size: min_frame,
            max_frame_size: max_frame, sample_rate: rate, channels, bits_per_sample: bits,
            total_samples: total, md5, trailing: Bytes::new(),
        };
        let bytes = c.to_bytes();
        prop_assert_eq!(bytes.len(), 34);
        prop_assert_eq!(FlacStreamInfo::parse(&bytes).unwrap(), c);
    }

    #[test]
    fn aac(aot in prop::sample::select(vec![1u8, 2, 3, 4, 6, 7, 17, 19, 20, 23, 40, 42]),
           rate in prop_oneof![prop::sample::select(AAC_RATES.to_vec()), 1u32..1 << 24],
           chan in prop::sample::select(vec![1u8, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14])) {
        let c = AacConfig::new(aot, rate, chan).unwrap();
        let again = AacConfig::parse(&c.to_bytes()).unwrap();
        prop_assert_eq!(&again, &c);
        prop_assert_eq!(again.audio_object_type(), aot);
        prop_assert_eq!(again.sample_rate(), rate);
        prop_assert_eq!(again.channel_configuration(), chan);
        prop_assert_eq!(again.sbr(), None);
        prop_assert_eq!(again.codec_string(), format!("mp4a.40.{aot}"));
    }

    #[test]
    fn he_aac(rate in prop::sample::select(vec![8_000u32, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000]),
              ps in any::<bool>(), chan in 1u8..=2) {
        let c = AacConfig::new_he(rate, ps, chan).unwrap();
        let again = AacConfig::parse(&c.to_bytes()).unwrap();
        prop_assert_eq!(&again, &c);
        prop_assert_eq!(again.core_sample_rate(), rate);
        prop_assert_eq!(again.sample_rate(), 2 * rate);
        prop_assert_eq!(again.sbr(), Some(true));
        prop_assert_eq!(again.channels(), if ps { 2 } else { chan });
        prop_assert_eq!(again.codec_string(), if ps { "mp4a.40.29" } else { "mp4a.40.5" });
    }

    #[test]
    fn avc(which in 0usize..5, pps in nal_list(20)) {
        let name = ["avc_high_30fps.bin", "avc_baseline_30fps.bin", "avc_high_640x360.bin",
                    "avc_main_25fps.bin", "avc_main_29.97fps.bin"][which];
        let real = AvcConfig::parse(&fixture(name)).unwrap();
        let c = AvcConfig::new(real.sps().to_vec(), pps.clone()).unwrap();
        let again = AvcConfig::parse(&c.to_bytes()).unwrap();
        prop_assert_eq!(&again, &c);
        prop_assert_eq!(again.pps(), &pps[..]);
        prop_assert_eq!(again.video_info(), real.video_info());
        prop_assert_eq!(again.codec_string(), real.codec_string());
    }

    #[test]
    fn hevc(extra_pps in nal_list(10), drop_vps in any::<bool>()) {
        let (vps, sps, mut pps) = hevc_sets();
        pps.extend(extra_pps);
        let vps = if drop_vps { Vec::new() } else { vps };
        let c = HevcConfig::new(vps, sps, pps.clone()).unwrap();
        let again = HevcConfig::parse(&c.to_bytes()).unwrap();
        prop_assert_eq!(&again, &c);
        prop_assert_eq!(again.nal_units(34).cloned().collect::<Vec<_>>(), pps);
        // The header derived from the SPS matches what x265 wrote.
        prop_assert_eq!(again.codec_string(), "hvc1.1.6.L60.90");
        prop_assert_eq!((again.width(), again.height()), (320, 240));
    }

    #[test]
    fn av1(delay in proptest::option::of(0u8..16), metadata in proptest::collection::vec(any::<u8>(), 0..40)) {
        // The fixture's sequence header, then a metadata OBU (type 5) with a size field.
        let real = Av1Config::parse(&fixture("av1_main_320x240.bin")).unwrap();
        let mut obus = real.config_obus().to_vec();
        obus.push(0x2a);
        obus.push(metadata.len() as u8);
        obus.extend_from_slice(&metadata);
        let mut bytes = real.to_bytes()[..4].to_vec();
        bytes[3] = delay.map_or(0, |d| 0x10 | d);
        bytes.extend_from_slice(&obus);
        let c = Av1Config::parse(&bytes).unwrap();
        prop_assert_eq!(&c.to_bytes()[..], &bytes[..]);
        prop_assert_eq!(c.initial_presentation_delay_minus_one(), delay);
        prop_assert_eq!(c.sequence_header(), real.sequence_header());
        let built = Av1Config::new(real.config_obus().clone()).unwrap();
        prop_assert_eq!(built, real);
    }
}

#[test]
fn constructors_reject_what_does_not_fit() {
    let big = Bytes::from(vec![0x68; 70_000]);
    let real = AvcConfig::parse(&fixture("avc_high_30fps.bin")).unwrap();
    assert!(AvcConfig::new(real.sps().to_vec(), vec![big]).is_err());
    assert!(AvcConfig::new(Vec::new(), Vec::new()).is_err());
    assert!(AacConfig::new(96, 44_100, 2).is_err());
    assert!(AacConfig::new(2, 1 << 24, 2).is_err());
}
