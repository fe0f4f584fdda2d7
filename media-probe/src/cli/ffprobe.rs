//! `--show-frames`: ffprobe's default writer, `[FRAME]` sections with its key
//! names, one per frame in decode order.

use std::fmt::Write as _;

use flv::MediaType;
use media_probe::FrameRecord;

use super::names::{media_name, ms_time, seconds};

/// The section of one frame. Keys ffprobe would print as `N/A` (no position for
/// live input) are printed so; video-only keys are left out for audio, as
/// ffprobe does.
pub(crate) fn frame_section(record: &FrameRecord) -> String {
    let mut s = String::with_capacity(320);
    let _ = writeln!(s, "[FRAME]");
    let _ = writeln!(s, "media_type={}", media_name(record.media));
    let _ = writeln!(s, "stream_index={}", record.stream_index);
    let _ = writeln!(s, "key_frame={}", u8::from(record.key));
    let _ = writeln!(s, "pts={}", record.pts);
    let _ = writeln!(s, "pts_time={}", ms_time(record.pts));
    let _ = writeln!(s, "pkt_dts={}", record.dts);
    let _ = writeln!(s, "pkt_dts_time={}", ms_time(record.dts));
    match record.nominal_duration {
        Some(d) => {
            let _ = writeln!(s, "pkt_duration={d}");
            let _ = writeln!(s, "pkt_duration_time={}", ms_time(d));
        }
        None => {
            let _ = writeln!(s, "pkt_duration=N/A");
            let _ = writeln!(s, "pkt_duration_time=N/A");
        }
    }
    match record.pos {
        Some(pos) => {
            let _ = writeln!(s, "pkt_pos={pos}");
        }
        None => {
            let _ = writeln!(s, "pkt_pos=N/A");
        }
    }
    let _ = writeln!(s, "pkt_size={}", record.size);
    if record.media == MediaType::Video {
        if let (Some(w), Some(h)) = (record.width, record.height) {
            let _ = writeln!(s, "width={w}");
            let _ = writeln!(s, "height={h}");
        }
        let pict = record.pict_type.map_or('?', |p| p.as_char());
        let _ = writeln!(s, "pict_type={pict}");
    }
    if let Some(arrival) = record.arrival {
        let _ = writeln!(s, "arrival_time={}", seconds(arrival));
    }
    let _ = writeln!(s, "[/FRAME]");
    s
}
