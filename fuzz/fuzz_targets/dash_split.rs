//! Arbitrary bytes, cut into pieces, as a muxed fMP4 segment for DASH: each
//! track's segment is refused or made (no bigger than the input plus its
//! headers), and the timeline takes or refuses it; never a panic.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use hls_mux::dash::{track_segment, Dash};
use hls_mux::{TrackConfig, Tracks};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    // Pieces of the segment, as the muxer hands them out (header, then slices).
    let step = usize::from(cut).max(1);
    let pieces: Vec<Bytes> = rest.chunks(step).map(Bytes::copy_from_slice).collect();
    for track_id in [1, 2] {
        if let Ok(out) = track_segment(&pieces, track_id) {
            let len: usize = out.iter().map(Bytes::len).sum();
            assert!(len <= rest.len() + 16 * (rest.len() / 8 + 1));
        }
    }
    let aac = flv::config::AacConfig::parse(&[0x12, 0x10]).expect("a valid config");
    let tracks = Tracks {
        video: None,
        audio: Some(TrackConfig::Aac(aac)),
    };
    let mut dash = Dash::new();
    dash.set_tracks(&tracks).expect("AAC tracks");
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    if dash.push_segment("seg0.m4s", &pieces, false, now).is_ok() {
        let _ = dash.manifest(now);
        let _ = dash.file("dash-audio-0-0.m4s");
    }
});
