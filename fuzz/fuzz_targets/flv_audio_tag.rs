//! Arbitrary audio tag bodies: parse, every track, multichannel configs and
//! the frame view; no panic, payloads inside the body.
#![no_main]

use bytes::Bytes;
use flv::{Tag, TagType};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    if let Ok(audio) = flv::tag::AudioTag::parse(&body) {
        for track in audio.tracks().flatten() {
            assert!(track.data.len() <= body.len());
            let _ = flv::tag::MultichannelConfig::parse(&track.data);
        }
    }
    let tag = Tag {
        tag_type: TagType::Audio,
        timestamp: i64::MIN,
        raw_timestamp: 0,
        stream_id: 0,
        encrypted: false,
        offset: u64::MAX - 20,
        body,
    };
    let _ = flv::media_events(&tag).count();
});
