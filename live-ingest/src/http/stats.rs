//! `/stats`: per stream, the codecs, resolution, frame rate, bit rate,
//! every track (multitrack ones too) as the probe saw it, viewers, uptime and
//! the latest `media-probe` events, as JSON.

use serde_json::{json, Value};

use crate::config::SegmentFormat;
use crate::hls::stream::Snapshot;
use crate::Server;

/// Every HLS stream's snapshot, viewers counted, sorted by key.
pub fn snapshots(server: &Server) -> Vec<Snapshot> {
    let Some(registry) = &server.registry else {
        return Vec::new();
    };
    registry
        .all()
        .iter()
        .map(|stream| {
            let mut snapshot = stream.snapshot();
            snapshot.viewers = stream.viewers();
            snapshot
        })
        .collect()
}

/// The whole `/stats` document.
pub fn json(server: &Server) -> Value {
    let streams: Vec<Value> = snapshots(server).iter().map(stream_json).collect();
    json!({
        "streams": streams,
        "count": streams.len(),
        "format": match server.config.format {
            SegmentFormat::Ts => "ts",
            SegmentFormat::Fmp4 => "fmp4",
        },
        "hub_streams": server.hub.stream_count(),
        "target_duration": server.config.target_duration,
        "part_duration": server.config.part_duration,
    })
}

/// One stream.
pub fn stream_json(s: &Snapshot) -> Value {
    let (app, name) = s.key.split_once('/').unwrap_or(("", &s.key));
    let video = s.tracks.video.as_ref();
    let audio = s.tracks.audio.as_ref();
    let summary_track = |media: flv::MediaType| {
        s.summary
            .tracks
            .iter()
            .find(|t| t.media == media && t.track == 0)
    };
    let video_summary = summary_track(flv::MediaType::Video);
    let audio_summary = summary_track(flv::MediaType::Audio);
    let bitrate: f64 = s.summary.tracks.iter().filter_map(|t| t.bitrate()).sum();
    // Every track the probe saw, multitrack ones too.
    let tracks: Vec<Value> = (s.summary.tracks.iter())
        .map(|t| {
            json!({
                "media": match t.media {
                    flv::MediaType::Video => "video",
                    flv::MediaType::Audio => "audio",
                },
                "track": t.track,
                "codec": t.codec_string,
                "width": t.size.map(|size| size.0),
                "height": t.size.map(|size| size.1),
                "sample_rate": t.audio.map(|a| a.0),
                "channels": t.audio.map(|a| a.1),
                "fps": t.fps().map(round3),
                "bitrate_bps": t.bitrate().map(f64::round),
                "frames": t.frames,
            })
        })
        .collect();
    let events: Vec<Value> = s
        .events
        .iter()
        .map(|e| json!({"kind": e.kind, "detail": e.detail, "dts_ms": e.dts, "at_s": round3(e.at)}))
        .collect();
    let event_counts: serde_json::Map<String, Value> = media_probe::EventKind::NAMES
        .iter()
        .zip(s.summary.events)
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| ((*name).to_owned(), json!(count)))
        .collect();
    json!({
        "key": s.key,
        "playlist": format!("/{app}/{name}/index.m3u8"),
        "live": s.live,
        "ended": s.ended,
        "publishes": s.publishes,
        "uptime_s": round3(s.uptime.as_secs_f64()),
        "age_s": round3(s.age.as_secs_f64()),
        "codecs": s.tracks.codecs(),
        "video": video.map(|v| json!({
            "codec": v.codec_string(),
            "width": v.resolution().map(|r| r.0),
            "height": v.resolution().map(|r| r.1),
            "fps": video_summary.and_then(|t| t.fps()).map(round3),
            "bitrate_bps": video_summary.and_then(|t| t.bitrate()).map(f64::round),
        })),
        "audio": audio.map(|a| json!({
            "codec": a.codec_string(),
            "sample_rate": a.sample_rate(),
            "channels": a.channels(),
            "bitrate_bps": audio_summary.and_then(|t| t.bitrate()).map(f64::round),
        })),
        "bitrate_bps": bitrate.round(),
        "tracks": tracks,
        "segment_bandwidth_bps": s.bandwidth,
        "viewers": s.viewers,
        "segments": s.segments,
        "media_sequence": s.media_sequence,
        "next_msn": s.next_msn,
        "messages": s.messages,
        "bytes": s.bytes,
        "errors": s.errors,
        "last_error": s.last_error,
        "files_in_memory": s.files,
        "probe_events": events,
        "probe_event_counts": event_counts,
    })
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
