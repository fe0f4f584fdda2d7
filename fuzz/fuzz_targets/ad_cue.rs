//! Arbitrary data messages as ad cues (`onAdCue`, `onCuePoint`), and
//! arbitrary bytes as a SCTE-35 section: refused or read, never a panic.
#![no_main]

use bytes::Bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hls_mux::scte35::read_signal(data);
    let body = Bytes::copy_from_slice(data);
    if let Ok(script) = flv::tag::ScriptData::parse(&body) {
        if let Ok(Some(cue)) = hls_mux::Cue::from_script(&script, 0) {
            assert!(cue.id.len() <= 64 && !cue.id.contains('"'));
            if let Some(section) = &cue.scte35 {
                assert!(section.len() <= hls_mux::scte35::MAX_SECTION);
            }
        }
    }
});
