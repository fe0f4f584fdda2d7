//! Arbitrary video tag bodies: parse, every track, and the frame view; no
//! panic, payloads inside the body, errors inside it.
#![no_main]

use bytes::Bytes;
use flv::{Tag, TagType};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    if let Ok(video) = flv::tag::VideoTag::parse(&body) {
        for track in video.tracks() {
            match track {
                Ok(track) => assert!(track.data.len() <= body.len()),
                Err(error) => assert!(error.offset() <= body.len() as u64),
            }
        }
    }
    let tag = Tag {
        tag_type: TagType::Video,
        timestamp: i64::MAX - 5,
        raw_timestamp: 0,
        stream_id: 0,
        encrypted: false,
        offset: 0,
        body,
    };
    for event in flv::media_events(&tag) {
        if let Ok(flv::MediaEvent::Frame(frame)) = event {
            assert!(!frame.data.is_empty());
        }
    }
});
