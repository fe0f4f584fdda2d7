//! Any sequence of frames and sequence headers, with any timestamps, sizes,
//! payloads and arrival times: the probe never panics, hands out one record per
//! frame in input order, and keeps its queues within their limits.

use std::time::Duration;

use bytes::Bytes;
use flv::{Codec, ConfigChange, ConfigChangeKind, Frame, MediaEvent, MediaType};
use media_probe::{Output, Probe, ProbeConfig};
use proptest::prelude::*;

fn codec() -> impl Strategy<Value = (MediaType, Codec)> {
    prop_oneof![
        Just((MediaType::Video, Codec::Avc)),
        Just((MediaType::Video, Codec::Hevc)),
        Just((MediaType::Video, Codec::Av1)),
        Just((MediaType::Video, Codec::Vp6)),
        Just((MediaType::Audio, Codec::Aac)),
        Just((MediaType::Audio, Codec::Mp3)),
        Just((MediaType::Audio, Codec::Opus)),
    ]
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..100_000,
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN),
        -1000i64..1000,
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Frame(Frame, Option<u64>),
    Config(ConfigChange),
    Tick(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let frame = (
        codec(),
        0u8..3,
        timestamp(),
        timestamp(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::option::of(0u64..1 << 40),
    )
        .prop_map(|((media, codec), track, dts, pts, key, data, arrival)| {
            let frame = Frame {
                media,
                codec,
                track,
                dts,
                pts,
                nanos: 0,
                key,
                data: Bytes::from(data),
                offset: dts.unsigned_abs(),
            };
            Step::Frame(frame, arrival)
        });
    let config = (
        codec(),
        0u8..3,
        timestamp(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|((media, codec), track, dts, data)| {
            Step::Config(ConfigChange {
                media,
                codec,
                track,
                dts,
                kind: ConfigChangeKind::SequenceStart,
                data: Bytes::from(data),
                offset: 0,
            })
        });
    prop_oneof![6 => frame, 2 => config, 1 => (0u64..1 << 40).prop_map(Step::Tick)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_is_probed_without_panicking(
        steps in proptest::collection::vec(step(), 0..200),
        interval_ms in 1i64..5000,
        max_reorder in 1usize..8,
        max_queued in 1usize..64,
        pict_type: bool,
    ) {
        let mut config = ProbeConfig::default();
        config.interval_ms = interval_ms;
        config.max_reorder = max_reorder;
        config.max_queued = max_queued;
        config.pict_type = pict_type;
        let mut probe = Probe::new(config).unwrap();
        let mut frames_in = Vec::new();
        let mut records = Vec::new();
        let drain = |probe: &mut Probe, records: &mut Vec<(i64, u32)>| {
            let mut n = 0;
            while let Some(output) = probe.poll_output() {
                n += 1;
                if let Output::Frame(r) = output {
                    records.push((r.dts, r.size));
                }
            }
            n
        };
        for step in steps {
            match step {
                Step::Frame(frame, arrival) => {
                    frames_in.push((frame.dts, frame.data.len() as u32));
                    probe.push_event(&MediaEvent::Frame(frame), arrival.map(Duration::from_micros));
                }
                Step::Config(change) => probe.push_config(&change, None),
                Step::Tick(us) => probe.tick(Duration::from_micros(us)),
            }
            // Whatever happened, the queue holds at most its limit.
            prop_assert!(drain(&mut probe, &mut records) <= max_queued);
        }
        probe.finish(Some(Duration::from_secs(1 << 30)));
        drain(&mut probe, &mut records);
        let summary = probe.summary();
        if summary.dropped_outputs == 0 {
            prop_assert_eq!(&records, &frames_in);
        }
        let frames: u64 = summary.tracks.iter().map(|t| t.frames).sum();
        prop_assert_eq!(frames as usize, frames_in.len());
    }
}
