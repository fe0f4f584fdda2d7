//! Fixture helpers shared by the flv integration tests.
#![allow(dead_code)]

use bytes::Bytes;
use flv::{ReadEvent, Tag};

/// The bytes of `tests/data/NAME`.
pub(crate) fn fixture(name: &str) -> Bytes {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// Every tag of a whole, valid file.
pub(crate) fn tags(data: &Bytes) -> Vec<Tag> {
    flv::read_all(data.clone())
        .filter_map(|event| match event.unwrap() {
            ReadEvent::Tag(tag) => Some(tag),
            _ => None,
        })
        .collect()
}

/// The fixtures made by `tests/data/make.sh`, each with a `.framemd5`.
pub(crate) const FIXTURES: &[&str] = &[
    "h264_aac.flv",
    "h264_mp3.flv",
    "hevc_aac.flv",
    "av1_aac.flv",
    "h264_opus.flv",
    "multitrack.flv",
    "keyframe_index.flv",
    "ts_extended.flv",
];
