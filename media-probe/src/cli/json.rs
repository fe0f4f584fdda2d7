//! JSON for records, intervals, events and the summary: a small writer for flat
//! objects (keys are fixed ASCII, values numbers, booleans, short strings).

use std::fmt::Write as _;

use flv::MediaType;
use media_probe::{Event, EventKind, FrameRecord, Interval, Summary, TrackSummary};

use super::names::{codec_name, media_name, seconds};

/// One JSON object under construction.
pub(crate) struct Object {
    text: String,
    empty: bool,
}

impl Object {
    pub(crate) fn new() -> Object {
        Object {
            text: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.text.push(',');
        }
        self.empty = false;
        string(&mut self.text, key);
        self.text.push(':');
    }

    pub(crate) fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.text.push_str(json);
        self
    }

    pub(crate) fn int(&mut self, key: &str, value: impl Into<i128>) -> &mut Self {
        self.key(key);
        let _ = write!(self.text, "{}", value.into());
        self
    }

    pub(crate) fn opt_int(&mut self, key: &str, value: Option<impl Into<i128>>) -> &mut Self {
        match value {
            Some(v) => self.int(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn float(&mut self, key: &str, value: f64) -> &mut Self {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.text, "{}", (value * 1000.0).round() / 1000.0);
        } else {
            self.text.push_str("null");
        }
        self
    }

    pub(crate) fn opt_float(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        match value {
            Some(v) => self.float(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.raw(key, if value { "true" } else { "false" })
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(&mut self.text, value);
        self
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn finish(&mut self) -> String {
        self.text.push('}');
        std::mem::take(&mut self.text)
    }
}

fn string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn record(record: &FrameRecord) -> String {
    let mut o = Object::new();
    o.str("media_type", media_name(record.media))
        .int("stream_index", record.stream_index)
        .int("track", record.track)
        .str("codec", &codec_name(record.codec))
        .int("key_frame", u8::from(record.key))
        .int("pts", record.pts)
        .int("pkt_dts", record.dts)
        .opt_int("duration_ms", record.duration)
        .opt_int("pkt_duration", record.nominal_duration)
        .int("pkt_size", record.size)
        .opt_int("pkt_pos", record.pos);
    if record.media == MediaType::Video {
        let pict = record.pict_type.map(|p| p.as_char().to_string());
        o.opt_str("pict_type", pict.as_deref())
            .opt_int("width", record.width)
            .opt_int("height", record.height);
    }
    if let Some(arrival) = record.arrival {
        o.raw("arrival_time", &seconds(arrival));
    }
    o.finish()
}

pub(crate) fn interval(interval: &Interval) -> String {
    let mut o = Object::new();
    o.str("base", interval.base.name())
        .int("index", interval.index)
        .int("start_ms", interval.start_ms)
        .int("duration_ms", interval.duration_ms)
        .int("video_frames", interval.video.frames)
        .int("audio_frames", interval.audio.frames)
        .int("video_bytes", interval.video.bytes)
        .int("audio_bytes", interval.audio.bytes)
        .int("keyframes", interval.video.keyframes)
        .float("fps", interval.video_fps())
        .float("bitrate", interval.bitrate())
        .int("events", interval.events)
        .bool("discontinuity", interval.discontinuity)
        .bool("partial", interval.partial)
        .opt_int("lag_ms", interval.lag_ms);
    o.finish()
}

pub(crate) fn event(event: &Event) -> String {
    let mut o = Object::new();
    o.str("kind", event.kind.name())
        .opt_str("media_type", event.media.map(media_name))
        .opt_int("stream_index", event.stream_index)
        .opt_int("track", event.track)
        .int("dts_ms", event.dts)
        .int("timeline_ms", event.timeline_ms)
        .opt_int("pkt_pos", event.pos);
    if let Some(arrival) = event.arrival {
        o.raw("arrival_time", &seconds(arrival));
    }
    match &event.kind {
        EventKind::DtsJump { delta_ms, step_ms } => {
            o.int("delta_ms", *delta_ms).int("step_ms", *step_ms);
        }
        EventKind::NonMonotonicDts { step_ms } => {
            o.int("step_ms", *step_ms);
        }
        EventKind::PtsBeforeDts { delta_ms } => {
            o.int("delta_ms", *delta_ms);
        }
        EventKind::Stall {
            duration_ms,
            ongoing,
        } => {
            o.int("duration_ms", *duration_ms).bool("ongoing", *ongoing);
        }
        EventKind::ArrivalLag { lag_ms, change_ms } => {
            o.int("lag_ms", *lag_ms).int("change_ms", *change_ms);
        }
        EventKind::FpsUnstable {
            fps,
            nominal_fps,
            interval_start_ms,
        } => {
            o.float("fps", *fps)
                .float("nominal_fps", *nominal_fps)
                .int("interval_start_ms", *interval_start_ms);
        }
        EventKind::AvDrift { drift_ms } => {
            o.int("drift_ms", *drift_ms);
        }
        EventKind::KeyframeIntervalChange {
            from_ms,
            to_ms,
            from_frames,
            to_frames,
        } => {
            o.int("from_ms", *from_ms)
                .int("to_ms", *to_ms)
                .int("from_frames", *from_frames)
                .int("to_frames", *to_frames);
        }
        EventKind::GopOverLimit {
            gop_ms,
            frames,
            limit_ms,
        } => {
            o.int("gop_ms", *gop_ms)
                .int("frames", *frames)
                .int("limit_ms", *limit_ms);
        }
        EventKind::SequenceHeaderChange {
            from_codec,
            to_codec,
            from_size,
            to_size,
            bytes,
        } => {
            o.opt_str("from_codec", from_codec.as_deref())
                .opt_str("to_codec", to_codec.as_deref())
                .opt_int("from_width", from_size.map(|s| s.0))
                .opt_int("from_height", from_size.map(|s| s.1))
                .opt_int("to_width", to_size.map(|s| s.0))
                .opt_int("to_height", to_size.map(|s| s.1))
                .int("bytes", *bytes as u64);
        }
        EventKind::MissingSequenceHeader => {}
        _ => {}
    }
    o.finish()
}

fn track(t: &TrackSummary) -> String {
    let mut gop = Object::new();
    gop.int("count", t.gops.count)
        .opt_int("min_ms", t.gops.min_ms)
        .opt_int("max_ms", t.gops.max_ms)
        .opt_float("mean_ms", t.gops.mean_ms());
    let mut o = Object::new();
    o.int("stream_index", t.stream_index)
        .str("media_type", media_name(t.media))
        .str("codec", &codec_name(t.codec))
        .int("track", t.track)
        .opt_str("codec_string", t.codec_string.as_deref())
        .int("frames", t.frames)
        .int("bytes", t.bytes)
        .int("keyframes", t.keyframes)
        .opt_int("first_dts", t.first_dts)
        .opt_int("last_dts", t.last_dts)
        .int("span_ms", t.span_ms)
        .opt_float("fps", t.fps())
        .opt_float("bitrate", t.bitrate())
        .int("sequence_headers", t.sequence_headers);
    match t.media {
        MediaType::Video => {
            let mut pict = Object::new();
            for (name, count) in ["I", "P", "B", "other", "unknown"].iter().zip(t.pict_types) {
                pict.int(name, count);
            }
            o.opt_int("width", t.size.map(|s| s.0))
                .opt_int("height", t.size.map(|s| s.1))
                .opt_float("nominal_fps", t.nominal_fps)
                .raw("gop", &gop.finish())
                .raw("pict_types", &pict.finish());
        }
        MediaType::Audio => {
            o.opt_int("sample_rate", t.audio.map(|a| a.0))
                .opt_int("channels", t.audio.map(|a| a.1));
        }
    }
    o.finish()
}

pub(crate) fn summary(summary: &Summary) -> String {
    let tracks: Vec<String> = summary.tracks.iter().map(track).collect();
    let mut events = Object::new();
    for (name, count) in EventKind::NAMES.iter().zip(summary.events) {
        events.int(name, count);
    }
    let mut o = Object::new();
    o.raw("tracks", &format!("[{}]", tracks.join(",")))
        .raw("events", &events.finish())
        .opt_float(
            "arrival_span",
            summary.arrival_span.map(|d| d.as_secs_f64()),
        )
        .int("dropped_outputs", summary.dropped_outputs);
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_json() {
        let mut o = Object::new();
        o.str("a", "x\"y\\\n")
            .int("b", -3)
            .float("c", f64::NAN)
            .opt_int("d", None::<i64>)
            .bool("e", true);
        assert_eq!(
            o.finish(),
            r#"{"a":"x\"y\\\u000a","b":-3,"c":null,"d":null,"e":true}"#
        );
    }
}
