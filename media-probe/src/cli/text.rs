//! The default output: a summary a person reads.

use std::fmt::Write as _;

use flv::MediaType;
use media_probe::{Event, EventKind, Summary};

use super::names::{codec_name, media_name};

/// Events listed one by one at most; the rest are counted.
const LISTED_EVENTS: usize = 50;

pub(crate) fn summary(
    input: &str,
    summary: &Summary,
    events: &[Event],
    more_events: u64,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "input: {input}");
    if let Some(span) = summary.arrival_span {
        let _ = writeln!(s, "received for {:.3} s", span.as_secs_f64());
    }
    if summary.tracks.is_empty() {
        let _ = writeln!(s, "no audio or video frames");
    }
    for t in &summary.tracks {
        let _ = write!(
            s,
            "stream {}: {} {}",
            t.stream_index,
            media_name(t.media),
            codec_name(t.codec)
        );
        if t.track != 0 {
            let _ = write!(s, " (track {})", t.track);
        }
        if let Some(codec) = &t.codec_string {
            let _ = write!(s, " [{codec}]");
        }
        if let Some((w, h)) = t.size {
            let _ = write!(s, " {w}x{h}");
        }
        if let Some((rate, channels)) = t.audio {
            let _ = write!(s, " {rate} Hz {channels} ch");
        }
        let _ = write!(s, ", {} frames", t.frames);
        if let (Some(first), Some(last)) = (t.first_dts, t.last_dts) {
            let _ = write!(s, ", dts {first}..{last} ms");
        }
        if let Some(fps) = t.fps() {
            let _ = write!(s, ", {fps:.2} fps");
        }
        if let Some(nominal) = t.nominal_fps {
            let _ = write!(s, " (nominal {nominal:.3})");
        }
        if let Some(bitrate) = t.bitrate() {
            let _ = write!(s, ", {:.0} kb/s", bitrate / 1000.0);
        }
        let _ = writeln!(s);
        if t.media == MediaType::Video {
            let g = &t.gops;
            let _ = write!(s, "  key frames {}", t.keyframes);
            if let (Some(mean), Some(min), Some(max)) = (g.mean_ms(), g.min_ms, g.max_ms) {
                let _ = write!(
                    s,
                    ", GOP {mean:.0} ms ({} frames, {min}..{max} ms over {} GOPs)",
                    g.last_frames, g.count
                );
            }
            let [i, p, b, other, unknown] = t.pict_types;
            let _ = write!(s, ", pictures I {i} P {p} B {b}");
            if other > 0 {
                let _ = write!(s, " SP/SI {other}");
            }
            if unknown > 0 {
                let _ = write!(s, " unknown {unknown}");
            }
            let _ = writeln!(s);
        }
    }
    let total = summary.total_events();
    if total == 0 {
        let _ = writeln!(s, "events: none");
        return s;
    }
    let counts: Vec<String> = EventKind::NAMES
        .iter()
        .zip(summary.events)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let _ = writeln!(s, "events: {total} ({})", counts.join(", "));
    for event in events.iter().take(LISTED_EVENTS) {
        let _ = writeln!(s, "  {event}");
    }
    let hidden = (events.len().saturating_sub(LISTED_EVENTS)) as u64 + more_events;
    if hidden > 0 {
        let _ = writeln!(s, "  ... {hidden} more (see --json)");
    }
    s
}
