//! Arbitrary script data bodies: AMF0 decode and the typed `onMetaData`.
#![no_main]

use bytes::Bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    if let Ok(script) = flv::tag::ScriptData::parse(&body) {
        assert!(script.undecoded.len() <= body.len());
        if let Some(meta) = script.on_metadata() {
            let _ = (meta.video_codec(), meta.audio_codec());
            if let Some(index) = meta.keyframes {
                assert!(index.times.len() <= body.len() / 9 + 1);
            }
        }
    }
});
