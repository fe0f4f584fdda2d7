//! The MPD text (ISO/IEC 23009-1, the live profile): one period, an
//! adaptation set and a representation per track, each with a
//! `SegmentTemplate` and its `SegmentTimeline`.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::{Dash, Representation, Span};
use crate::fmp4::rescale;
use crate::playlist::write_date_time;
use crate::{MediaKind, CLOCK};

/// `S` elements: `t` where the run does not follow on, `d`, and `r` more of
/// the same.
struct Run {
    t: Option<u64>,
    d: u64,
    r: u64,
}

/// The MPD of `dash` at `now` (it has at least one segment).
pub(super) fn render(dash: &Dash, now: SystemTime) -> String {
    let mut out = String::with_capacity(2048);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"");
    let longest = dash.longest.max(0.001);
    let (origin, period_start) = match dash.ended {
        // Static: the presentation is what is left, from its first segment.
        true => (static_origin(dash), 0.0),
        false => (dash.origin, dash.period_start.as_secs_f64()),
    };
    let span = listed_seconds(dash, origin);
    if dash.ended {
        let _ = write!(
            out,
            " type=\"static\" mediaPresentationDuration=\"{}\"",
            duration(span)
        );
    } else {
        out.push_str(" type=\"dynamic\" availabilityStartTime=\"");
        write_date_time(&mut out, dash.availability_start.unwrap_or(now));
        out.push_str("\" publishTime=\"");
        write_date_time(&mut out, now);
        let _ = write!(
            out,
            "\" minimumUpdatePeriod=\"{}\" timeShiftBufferDepth=\"{}\" suggestedPresentationDelay=\"{}\"",
            duration(longest),
            duration(span.max(longest)),
            duration(3.0 * longest),
        );
    }
    let _ = writeln!(
        out,
        " minBufferTime=\"{}\" maxSegmentDuration=\"{}\">",
        duration(longest),
        duration(longest)
    );
    let _ = writeln!(
        out,
        "  <Period id=\"{}\" start=\"{}\">",
        dash.period,
        duration(period_start)
    );
    for (n, representation) in dash.representations.iter().enumerate() {
        adaptation_set(&mut out, dash, n, representation, origin);
    }
    out.push_str("  </Period>\n");
    if !dash.ended {
        out.push_str("  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"");
        write_date_time(&mut out, now);
        out.push_str("\"/>\n");
    }
    out.push_str("</MPD>\n");
    out
}

/// The first listed time on the 90 kHz clock (of the first representation).
fn static_origin(dash: &Dash) -> i64 {
    let first = dash.entries.iter().find_map(|e| e.spans.first());
    first.map_or(dash.origin, |span| {
        let (start, _) = dash.seconds(span);
        (start * f64::from(CLOCK)).floor() as i64
    })
}

/// Seconds from `origin` to the end of the last listed segment (of the
/// first representation).
fn listed_seconds(dash: &Dash, origin: i64) -> f64 {
    let last = dash.entries.iter().rev().find_map(|e| e.spans.first());
    last.map_or(0.0, |span| {
        let (start, duration) = dash.seconds(span);
        (start + duration - origin as f64 / f64::from(CLOCK)).max(0.0)
    })
}

fn adaptation_set(
    out: &mut String,
    dash: &Dash,
    n: usize,
    representation: &Representation,
    origin: i64,
) {
    let config = &representation.config;
    let (kind, mime) = match representation.media {
        MediaKind::Video => ("video", "video/mp4"),
        MediaKind::Audio => ("audio", "audio/mp4"),
    };
    let _ = writeln!(
        out,
        "    <AdaptationSet id=\"{n}\" contentType=\"{kind}\" mimeType=\"{mime}\" segmentAlignment=\"true\" startWithSAP=\"1\">"
    );
    let _ = write!(
        out,
        "      <Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\"",
        representation.id,
        escape(&config.codec_string()),
        bandwidth(dash, representation)
    );
    if let Some((width, height)) = config.resolution() {
        let _ = write!(out, " width=\"{width}\" height=\"{height}\" sar=\"1:1\"");
    }
    if let Some(rate) = config.sample_rate() {
        let _ = write!(out, " audioSamplingRate=\"{rate}\"");
    }
    out.push_str(">\n");
    if let Some(channels) = config.channels() {
        let _ = writeln!(
            out,
            "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{channels}\"/>"
        );
    }
    let timescale = representation.timescale;
    let offset = rescale(origin.into(), timescale).max(0);
    let _ = writeln!(
        out,
        "        <SegmentTemplate timescale=\"{timescale}\" presentationTimeOffset=\"{offset}\" initialization=\"dash-$RepresentationID$-{period}.mp4\" media=\"dash-$RepresentationID$-{period}-$Time$.m4s\">",
        period = dash.period
    );
    out.push_str("          <SegmentTimeline>\n");
    for run in runs(dash, representation.track_id) {
        out.push_str("            <S");
        if let Some(t) = run.t {
            let _ = write!(out, " t=\"{t}\"");
        }
        let _ = write!(out, " d=\"{}\"", run.d);
        if run.r > 0 {
            let _ = write!(out, " r=\"{}\"", run.r);
        }
        out.push_str("/>\n");
    }
    out.push_str("          </SegmentTimeline>\n        </SegmentTemplate>\n");
    out.push_str("      </Representation>\n    </AdaptationSet>\n");
}

/// The track's segments as `S` runs.
fn runs(dash: &Dash, track_id: u32) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut end = None;
    let spans = dash
        .entries
        .iter()
        .filter_map(|e| e.spans.iter().find(|s| s.track_id == track_id));
    for &Span {
        start, duration, ..
    } in spans
    {
        let follows = end == Some(start);
        match runs.last_mut() {
            Some(last) if follows && last.d == duration => last.r += 1,
            _ => runs.push(Run {
                t: (!follows).then_some(start),
                d: duration,
                r: 0,
            }),
        }
        end = Some(start + duration);
    }
    runs
}

/// The track's peak segment bit rate over the listed segments, bits/s.
fn bandwidth(dash: &Dash, representation: &Representation) -> u64 {
    let timescale = f64::from(representation.timescale);
    let peak = dash
        .entries
        .iter()
        .filter_map(|e| {
            e.spans
                .iter()
                .find(|s| s.track_id == representation.track_id)
        })
        .filter(|s| s.duration > 0)
        .map(|s| s.bytes as f64 * 8.0 * timescale / s.duration as f64)
        .fold(0.0, f64::max);
    (peak.ceil() as u64).max(1)
}

/// `xs:duration` in seconds, to the millisecond.
fn duration(seconds: f64) -> String {
    format!("PT{:.3}S", seconds.max(0.0))
}

/// An attribute value with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
