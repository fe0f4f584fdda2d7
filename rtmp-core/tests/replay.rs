//! Real peers' client-to-server bytes (`tests/data/*.c2s`, handshake included) replayed
//! through a `ServerSession`, in several split patterns. The media that comes out is checked
//! against an independent reading of the FLV file each client published (`src_*.flv`), and
//! the server's answers against what the real server (FFmpeg 9 `-listen`) answered (`*.s2c`),
//! at the level of commands and message types.
//!
//! What each client does to the source (see `tools/make_rtmp_fixtures.sh` and
//! `../shared/peers/client-publish.sh`):
//! - FFmpeg (`-re -i src.flv -c copy -f flv`): payloads and timestamps as in the file (the
//!   file starts at 0); it writes its own `@setDataFrame`/`onMetaData`, and for Enhanced RTMP
//!   video it regenerates the `colorInfo` metadata packet.
//! - FFmpeg with `-copyts` on the file shifted by 16,800,000 ms: every frame at its file
//!   timestamp + 16,800,000 (past 0xFFFFFF: extended timestamps), but the sequence headers
//!   still at 0.
//! - GStreamer (flvdemux ! h264parse/aacparse ! flvmux ! rtmp2sink/rtmpsink): re-times from 0
//!   with DTS clamped at 0, rewrites AVC composition offsets and the avcC (SPS/PPS kept),
//!   re-sends onMetaData, and stamps its end-of-sequence packet itself.

mod common;

use std::time::Instant;

use amf0::Value;
use bytes::Bytes;
use common::{commands, data, decode_chunks, feed, flv_tags, Fed, FlvTag, Split, HANDSHAKE_LEN};
use rtmp_core::message::type_id;
use rtmp_core::{
    Command, DataMessage, MediaKind, MediaMessage, Message, ServerConfig, ServerEvent,
    ServerSession, UserControl,
};

const SPLITS: [Split; 4] = [
    Split::Whole,
    Split::Bytes1,
    Split::Random(0x5EED_0001),
    Split::Random(0xDEAD_BEEF_0042),
];

/// How a client's timestamps relate to its source file's.
#[derive(Clone, Copy, Debug)]
enum Timing {
    /// Equal.
    Same,
    /// Frames at source + offset, sequence headers at source time.
    CopyTs(u64),
    /// GStreamer: re-timed from 0, clamped at 0.
    Gstreamer,
}

struct Capture {
    name: &'static str,
    source: &'static str,
    tc_url: &'static str,
    timing: Timing,
    /// The `fourCcList` FFmpeg sent in `connect` (`-rtmp_enhanced_codecs`).
    four_cc_list: &'static [&'static str],
}

// tcUrls as tools/rtmp_dump_chunks.py reads them from the captures.
const PUBLISHERS: &[Capture] = &[
    Capture {
        name: "ffmpeg9_publish_h264_aac",
        source: "src_h264_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &[],
    },
    Capture {
        name: "ffmpeg5_publish_h264_aac",
        source: "src_h264_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &[],
    },
    Capture {
        name: "ffmpeg9_publish_h264_aac_extts",
        source: "src_h264_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::CopyTs(16_800_000),
        four_cc_list: &[],
    },
    Capture {
        name: "ffmpeg9_publish_hevc_aac",
        source: "src_hevc_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &[],
    },
    Capture {
        name: "ffmpeg9_publish_hevc_aac_fourcclist",
        source: "src_hevc_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &["hvc1", "av01", "Opus"],
    },
    Capture {
        name: "ffmpeg9_publish_av1_aac",
        source: "src_av1_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &[],
    },
    Capture {
        name: "ffmpeg9_publish_h264_opus",
        source: "src_h264_opus.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Same,
        four_cc_list: &[],
    },
    Capture {
        name: "gst_rtmp2_publish_h264_aac",
        source: "src_h264_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Gstreamer,
        four_cc_list: &[],
    },
    Capture {
        name: "gst_librtmp_publish_h264_aac",
        source: "src_h264_aac.flv",
        tc_url: "rtmp://127.0.0.1:28471/live",
        timing: Timing::Gstreamer,
        four_cc_list: &[],
    },
];

/// Every `.c2s` in tests/data is covered by a test here.
#[test]
fn every_capture_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".c2s").map(str::to_owned)
        })
        .collect();
    found.sort();
    let mut known: Vec<String> = PUBLISHERS.iter().map(|c| c.name.to_owned()).collect();
    known.extend(["ffmpeg9_play".to_owned(), "rtmpdump_play".to_owned()]);
    known.sort();
    assert_eq!(found, known);
}

/// Feeds a capture in every split pattern; all must give the same events and output.
fn replay(name: &str) -> Fed {
    let bytes = data(&format!("{name}.c2s"));
    let now = Instant::now();
    let mut first: Option<Fed> = None;
    for split in SPLITS {
        let mut server = ServerSession::new(ServerConfig::default(), now);
        let fed = feed(&mut server, &bytes, split, now);
        assert_eq!(fed.error, None, "{name} {split:?}: session error");
        assert_eq!(fed.leftover, 0, "{name} {split:?}: input left unconsumed");
        assert!(!server.is_closed(), "{name} {split:?}");
        assert_eq!(
            server.buffered(),
            0,
            "{name} {split:?}: partial data at the end"
        );
        assert_eq!(server.app(), "live");
        assert_eq!(
            server.bytes_received(),
            (bytes.len() - HANDSHAKE_LEN) as u64,
            "{name} {split:?}: bytes counted after the handshake"
        );
        match &first {
            None => first = Some(fed),
            Some(first) => {
                assert_eq!(fed.events, first.events, "{name} {split:?}: events differ");
                assert_eq!(fed.wire, first.wire, "{name} {split:?}: output differs");
            }
        }
    }
    first.unwrap()
}

fn media(events: &[ServerEvent], kind: MediaKind) -> Vec<MediaMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Media(m) if m.kind == kind => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn tags(tags: &[FlvTag], tag_type: u8) -> Vec<FlvTag> {
    tags.iter()
        .filter(|t| t.tag_type == tag_type)
        .cloned()
        .collect()
}

/// A legacy AVC/AAC sequence header (the tag body's packet type 0).
fn is_sequence_header(kind: MediaKind, body: &[u8]) -> bool {
    match kind {
        MediaKind::Audio => body.len() >= 2 && body[0] >> 4 == 10 && body[1] == 0,
        MediaKind::Video => body.len() >= 2 && body[0] & 0x0F == 7 && body[1] == 0,
        MediaKind::Data => false,
    }
}

/// An Enhanced RTMP video packet of type Metadata (4): `colorInfo`, which FFmpeg 9 writes
/// from its own codec parameters instead of copying.
fn is_ex_video_metadata(body: &[u8]) -> bool {
    body.len() > 5 && body[0] & 0x80 != 0 && body[0] & 0x0F == 4
}

/// The SPS and PPS NAL units of an AVC sequence header's avcC.
fn avcc_parameter_sets(body: &[u8]) -> Vec<Vec<u8>> {
    let avcc = &body[5..];
    let mut sets = Vec::new();
    let mut pos = 5;
    let count = |b: u8, mask: u8| usize::from(b & mask);
    let take = |pos: &mut usize, n: usize, sets: &mut Vec<Vec<u8>>| {
        for _ in 0..n {
            let len = usize::from(u16::from_be_bytes([avcc[*pos], avcc[*pos + 1]]));
            sets.push(avcc[*pos + 2..*pos + 2 + len].to_vec());
            *pos += 2 + len;
        }
    };
    let sps = count(avcc[pos], 0x1F);
    pos += 1;
    take(&mut pos, sps, &mut sets);
    let pps = count(avcc[pos], 0xFF);
    pos += 1;
    take(&mut pos, pps, &mut sets);
    sets
}

fn metadata_fields(data: &DataMessage) -> Vec<(&'static str, Option<f64>)> {
    let object = data
        .values
        .iter()
        .find(|v| matches!(v, Value::EcmaArray { .. } | Value::Object(_)))
        .expect("metadata has an object");
    ["width", "height", "videocodecid", "audiocodecid"]
        .into_iter()
        .map(|k| (k, object.get(k).and_then(Value::as_f64)))
        .collect()
}

fn check_publisher(capture: &Capture) {
    let name = capture.name;
    let fed = replay(name);
    let events = &fed.events;

    // connect, then publish of the key "stream" on message stream 1.
    let ServerEvent::Connect(connect) = &events[0] else {
        panic!("{name}: first event {:?}", events[0]);
    };
    assert_eq!(connect.app, "live");
    assert_eq!(connect.tc_url.as_deref(), Some(capture.tc_url));
    assert_eq!(connect.four_cc_list, capture.four_cc_list, "{name}");
    assert_eq!(connect.is_enhanced(), !capture.four_cc_list.is_empty());
    let publishes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(publishes.len(), 1, "{name}");
    assert_eq!(publishes[0].name, "stream");
    assert_eq!(publishes[0].app, "live");
    assert_eq!(publishes[0].publish_type, "live");
    assert_eq!(publishes[0].stream_id, 1);
    let publish_at = events
        .iter()
        .position(|e| matches!(e, ServerEvent::Publish(_)))
        .unwrap();
    assert!(
        events[..publish_at]
            .iter()
            .all(|e| !matches!(e, ServerEvent::Media(_))),
        "{name}: media before publish"
    );
    // FCUnpublish / deleteStream end it, after the last media message.
    let unpublish_at = events
        .iter()
        .position(
            |e| matches!(e, ServerEvent::Unpublish { stream_id: 1, name } if name == "stream"),
        )
        .unwrap_or_else(|| panic!("{name}: no Unpublish"));
    let last_media = events
        .iter()
        .rposition(|e| matches!(e, ServerEvent::Media(_)))
        .unwrap();
    assert!(last_media < unpublish_at, "{name}");
    for e in events {
        if let ServerEvent::Media(m) = e {
            assert_eq!(m.stream_id, 1, "{name}");
        }
    }

    check_media(capture, events);
    check_answers(capture, &fed);
}

fn check_media(capture: &Capture, events: &[ServerEvent]) {
    let name = capture.name;
    let source = flv_tags(&data(capture.source));

    // Data: the first is @setDataFrame/onMetaData and describes the same stream as the file's.
    let ours = media(events, MediaKind::Data);
    let limits = amf0::Limits::DEFAULT;
    let first = DataMessage::parse(ours[0].payload.clone(), &limits).unwrap();
    assert!(first.is_metadata(), "{name}");
    assert_eq!(first.handler(), Some("@setDataFrame"), "{name}");
    let src_meta = DataMessage::parse(tags(&source, 18)[0].body.clone(), &limits).unwrap();
    assert!(src_meta.is_metadata());
    assert_eq!(
        metadata_fields(&first),
        metadata_fields(&src_meta),
        "{name}"
    );
    for d in &ours {
        // GStreamer re-sends its metadata; nothing else is sent as data.
        let parsed = DataMessage::parse(d.payload.clone(), &limits).unwrap();
        assert!(parsed.is_metadata(), "{name}");
    }
    if !matches!(capture.timing, Timing::Gstreamer) {
        assert_eq!(ours.len(), 1, "{name}");
    }

    for (kind, tag_type) in [(MediaKind::Audio, 8), (MediaKind::Video, 9)] {
        let ours = media(events, kind);
        let theirs = tags(&source, tag_type);
        assert_eq!(ours.len(), theirs.len(), "{name} {kind:?}: count");
        let mut gst_offset: Option<u64> = None;
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let at = format!("{name} {kind:?} #{i}");
            let gst = matches!(capture.timing, Timing::Gstreamer);
            // Payloads.
            if kind == MediaKind::Video && is_ex_video_metadata(&t.body) {
                assert!(is_ex_video_metadata(&o.payload), "{at}");
                assert_eq!(o.payload[..5], t.body[..5], "{at}: header and FourCC");
                let values = amf0::decode_all(&o.payload.slice(5..)).unwrap();
                assert_eq!(values[0].as_str(), Some("colorInfo"), "{at}");
            } else if gst && kind == MediaKind::Video && t.body[1] == 0 {
                assert_eq!(o.payload[..5], t.body[..5], "{at}");
                assert_eq!(
                    avcc_parameter_sets(&o.payload),
                    avcc_parameter_sets(&t.body),
                    "{at}: SPS/PPS"
                );
            } else if gst && kind == MediaKind::Video && t.body[1] == 1 {
                // Composition offsets are GStreamer's own.
                assert_eq!(o.payload[..2], t.body[..2], "{at}");
                assert_eq!(o.payload[5..], t.body[5..], "{at}: NAL units");
            } else {
                assert_eq!(o.payload, t.body, "{at}: payload");
            }
            // Timestamps.
            let src = u64::from(t.timestamp);
            match capture.timing {
                Timing::Same => assert_eq!(o.timestamp, src, "{at}"),
                Timing::CopyTs(offset) => {
                    let expected = if is_sequence_header(kind, &t.body) {
                        src
                    } else {
                        src + offset
                    };
                    assert_eq!(o.timestamp, expected, "{at}");
                }
                Timing::Gstreamer => {
                    let end_of_sequence = kind == MediaKind::Video && t.body[1] == 2;
                    if end_of_sequence || o.timestamp == 0 {
                        continue;
                    }
                    let offset = *gst_offset.get_or_insert(src - o.timestamp);
                    assert!(offset < 1000, "{at}: offset {offset}");
                    assert_eq!(o.timestamp, src.saturating_sub(offset), "{at}");
                }
            }
        }
        if let Timing::Gstreamer = capture.timing {
            // Clamped frames: at 0, and really earlier than the offset in the source.
            let offset = gst_offset.expect("some frames after the clamp");
            for (o, t) in ours.iter().zip(&theirs) {
                if o.timestamp == 0 && !(kind == MediaKind::Video && t.body[1] == 2) {
                    assert!(u64::from(t.timestamp) <= offset, "{name} {kind:?}");
                }
            }
            let ts: Vec<u64> = ours.iter().map(|m| m.timestamp).collect();
            assert!(
                ts.windows(2).all(|w| w[0] <= w[1]),
                "{name} {kind:?}: {ts:?}"
            );
        }
    }

    // FFmpeg with -c copy keeps the file's interleaving exactly.
    if matches!(capture.timing, Timing::Same) {
        let ours: Vec<(MediaKind, u64, Bytes)> = events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::Media(m) if m.kind != MediaKind::Data => {
                    Some((m.kind, m.timestamp, m.payload.clone()))
                }
                _ => None,
            })
            .filter(|(k, _, p)| !(*k == MediaKind::Video && is_ex_video_metadata(p)))
            .collect();
        let theirs: Vec<(MediaKind, u64, Bytes)> = source
            .iter()
            .filter(|t| t.tag_type == 8 || (t.tag_type == 9 && !is_ex_video_metadata(&t.body)))
            .map(|t| {
                let kind = if t.tag_type == 8 {
                    MediaKind::Audio
                } else {
                    MediaKind::Video
                };
                (kind, u64::from(t.timestamp), t.body.clone())
            })
            .collect();
        assert!(ours == theirs, "{name}: interleaving differs from the file");
    }
}

/// A summary of what a server said: commands (name, transaction id, message stream, status
/// code or first argument) and control messages, in order.
#[derive(Debug)]
struct Said {
    commands: Vec<(u32, Command)>,
    types: Vec<u8>,
    stream_begins: Vec<u32>,
}

fn said(wire: &[u8]) -> Said {
    let messages = decode_chunks(&wire[HANDSHAKE_LEN..]);
    let stream_begins = messages
        .iter()
        .filter_map(|raw| match Message::from_raw(raw, &amf0::Limits::DEFAULT) {
            Ok(Message::UserControl(UserControl::StreamBegin(id))) => Some(id),
            _ => None,
        })
        .collect();
    Said {
        commands: commands(&messages),
        types: messages.iter().map(|m| m.type_id).collect(),
        stream_begins,
    }
}

/// The `_result` answering transaction `id`.
fn result_for(said: &Said, id: f64) -> Option<&Command> {
    said.commands
        .iter()
        .map(|(_, c)| c)
        .find(|c| c.name() == Some("_result") && c.transaction_id == id)
}

fn status_codes(said: &Said, stream_id: u32) -> Vec<String> {
    said.commands
        .iter()
        .filter(|(s, c)| *s == stream_id && c.name() == Some("onStatus"))
        .filter_map(|(_, c)| {
            c.argument(0)
                .and_then(|info| info.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// Our answers against the real server's, command by command.
fn check_answers(capture: &Capture, fed: &Fed) {
    let name = capture.name;
    let client = said(&data(&format!("{name}.c2s")));
    let real = said(&data(&format!("{name}.s2c")));
    let ours = said(&fed.wire);
    assert!(fed.wire.len() >= HANDSHAKE_LEN);

    for t in [type_id::WINDOW_ACK_SIZE, type_id::SET_PEER_BANDWIDTH] {
        assert!(
            real.types.contains(&t) && ours.types.contains(&t),
            "{name}: type {t}"
        );
    }
    // Every client command the real server answered with `_result`, we answer too, with the
    // same values, except `_checkbw`: we hand that to the application.
    let mut answered = 0;
    for (_, request) in &client.commands {
        let id = request.transaction_id;
        let request_name = request.name().unwrap();
        let Some(theirs) = result_for(&real, id).filter(|_| id != 0.0 || request_name == "connect")
        else {
            continue;
        };
        if request_name == "_checkbw" {
            assert!(
                fed.events.iter().any(|e| matches!(e, ServerEvent::Command { command, .. } if command.name() == Some("_checkbw"))),
                "{name}: _checkbw handed to the application"
            );
            continue;
        }
        let mine = result_for(&ours, id)
            .unwrap_or_else(|| panic!("{name}: no _result for {request_name} ({id})"));
        answered += 1;
        match request_name {
            "connect" => {
                let code = |c: &Command| {
                    c.argument(0)
                        .and_then(|i| i.get("code"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                assert_eq!(code(mine), code(theirs), "{name}");
                assert_eq!(code(mine).as_deref(), Some("NetConnection.Connect.Success"));
                let offers = mine.object.get("videoFourCcInfoMap").is_some();
                assert!(
                    mine.object.get("fourCcList").is_none(),
                    "fourCcList is the client's"
                );
                assert_eq!(offers, !capture.four_cc_list.is_empty(), "{name}");
            }
            "createStream" => {
                assert_eq!(
                    mine.argument(0).and_then(Value::as_f64),
                    theirs.argument(0).and_then(Value::as_f64),
                    "{name}: stream id"
                );
            }
            _ => {}
        }
    }
    assert!(answered >= 2, "{name}: connect and createStream answered");
    assert_eq!(
        real.stream_begins.contains(&1),
        ours.stream_begins.contains(&1)
    );
    let real_codes = status_codes(&real, 1);
    let our_codes = status_codes(&ours, 1);
    assert!(real_codes.iter().any(|c| c == "NetStream.Publish.Start"));
    assert_eq!(
        our_codes.first().map(String::as_str),
        Some("NetStream.Publish.Start")
    );
    // We end with Unpublish.Success (the real server closed the connection instead).
    assert!(our_codes.iter().all(|c| c.starts_with("NetStream.")));
}

#[test]
fn ffmpeg9_publish_h264_aac() {
    check_publisher(&PUBLISHERS[0]);
}

#[test]
fn ffmpeg5_publish_h264_aac() {
    check_publisher(&PUBLISHERS[1]);
}

#[test]
fn ffmpeg9_publish_extended_timestamps() {
    check_publisher(&PUBLISHERS[2]);
}

#[test]
fn ffmpeg9_publish_hevc() {
    check_publisher(&PUBLISHERS[3]);
}

#[test]
fn ffmpeg9_publish_hevc_with_four_cc_list() {
    check_publisher(&PUBLISHERS[4]);
}

#[test]
fn ffmpeg9_publish_av1() {
    check_publisher(&PUBLISHERS[5]);
}

#[test]
fn ffmpeg9_publish_opus() {
    check_publisher(&PUBLISHERS[6]);
}

#[test]
fn gstreamer_rtmp2sink_publish() {
    check_publisher(&PUBLISHERS[7]);
}

#[test]
fn gstreamer_rtmpsink_librtmp_publish() {
    check_publisher(&PUBLISHERS[8]);
}

fn check_player(name: &str, tc_url: &str, start: f64, app_commands: &[&str]) {
    let fed = replay(name);
    let events = &fed.events;
    let ServerEvent::Connect(connect) = &events[0] else {
        panic!("{name}: {:?}", events[0]);
    };
    assert_eq!(connect.app, "live");
    assert_eq!(connect.tc_url.as_deref(), Some(tc_url));
    assert!(!connect.is_enhanced());
    let plays: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Play(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(plays.len(), 1, "{name}");
    assert_eq!(plays[0].name, "stream");
    assert_eq!(plays[0].stream_id, 1);
    assert_eq!(plays[0].start, start);
    assert!(events
        .iter()
        .any(|e| matches!(e, ServerEvent::PlayStop { stream_id: 1, name } if name == "stream")));
    for command in app_commands {
        assert!(
            events.iter().any(|e| matches!(e, ServerEvent::Command { command: c, .. } if c.name() == Some(command))),
            "{name}: {command} handed to the application"
        );
    }
    assert!(!events.iter().any(|e| matches!(e, ServerEvent::Media(_))));

    let ours = said(&fed.wire);
    let real = said(&data(&format!("{name}.s2c")));
    let client = said(&data(&format!("{name}.c2s")));
    for request in ["connect", "createStream"] {
        let id = client
            .commands
            .iter()
            .find(|(_, c)| c.name() == Some(request))
            .unwrap()
            .1
            .transaction_id;
        let theirs = result_for(&real, id).unwrap();
        let mine = result_for(&ours, id).unwrap_or_else(|| panic!("{name}: {request}"));
        if request == "createStream" {
            assert_eq!(
                mine.argument(0).and_then(Value::as_f64),
                theirs.argument(0).and_then(Value::as_f64)
            );
        }
    }
    assert!(real.stream_begins.contains(&1) && ours.stream_begins.contains(&1));
    assert!(status_codes(&real, 1).contains(&"NetStream.Play.Start".to_owned()));
    let codes = status_codes(&ours, 1);
    let start_at = codes.iter().position(|c| c == "NetStream.Play.Start");
    let reset_at = codes.iter().position(|c| c == "NetStream.Play.Reset");
    assert!(start_at.is_some(), "{name}: {codes:?}");
    assert!(reset_at < start_at, "{name}: {codes:?}");
    // The real server answered with media after Play.Start; ours waits for the application.
    assert!(real.types.contains(&type_id::VIDEO));
    assert!(!ours.types.contains(&type_id::VIDEO));
}

#[test]
fn rtmpdump_play() {
    check_player(
        "rtmpdump_play",
        "rtmp://127.0.0.1:28471/live",
        -1000.0,
        &["FCSubscribe", "_checkbw"],
    );
}

#[test]
fn ffmpeg9_play() {
    check_player(
        "ffmpeg9_play",
        "rtmp://127.0.0.1:28471/live",
        -2000.0,
        &["getStreamLength", "_checkbw"],
    );
}
