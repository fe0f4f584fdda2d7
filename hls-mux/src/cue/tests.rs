use amf0::{Object, Value};
use base64::Engine;
use bytes::{Bytes, BytesMut};

use super::*;
use crate::scte35::SpliceInsert;

/// A data message body as an encoder sends it: the name, then an object.
fn script(name: &str, fields: Object) -> ScriptData {
    let mut body = BytesMut::new();
    amf0::encode_all(&[Value::from(name), Value::Object(fields)], &mut body);
    ScriptData::parse(&body.freeze()).unwrap()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn primetime_scte35_mode_passes_the_section_on_and_reads_its_event() {
    let section = SpliceInsert::out(77, Some(123), Some(30 * 90_000)).to_bytes();
    let fields = Object::from_iter([
        ("cue", Value::from(base64(&section))),
        ("type", Value::from("scte35")),
        ("id", Value::from("77")),
        ("duration", Value::from(30.0)),
        ("time", Value::from(12.5)),
    ]);
    let cue = Cue::from_script(&script("onAdCue", fields), 12_000)
        .unwrap()
        .unwrap();
    assert_eq!(cue.event_id, 77);
    assert_eq!(cue.kind, SignalKind::Out);
    assert_eq!(cue.duration, Some(30 * 90_000));
    assert_eq!(cue.at, Some(12_500 * 90));
    assert_eq!(cue.scte35.as_deref(), Some(&section[..]));
    assert_eq!(cue.id, "77");
}

#[test]
fn primetime_simple_mode_is_a_splice_out_of_its_duration() {
    let fields = Object::from_iter([
        ("cue", Value::from("SpliceOut")),
        ("id", Value::from("break \"one\"")),
        ("duration", Value::from(15.0)),
        ("time", Value::from(100.0)),
    ]);
    let cue = Cue::from_script(&script("onAdCue", fields), 99_000)
        .unwrap()
        .unwrap();
    assert_eq!(
        (cue.kind, cue.duration),
        (SignalKind::Out, Some(15 * 90_000))
    );
    assert_eq!(
        cue.id, "breakone",
        "no quotes or spaces in a quoted attribute"
    );
    assert_eq!(cue.event_id, event_id_of("breakone"));
    assert_eq!(cue.scte35, None);
}

#[test]
fn elemental_on_cue_point_reads_its_parameters() {
    let parameters = Object::from_iter([
        ("messageType", Value::from("SpliceInsert")),
        ("splice_event_id", Value::from(1001.0)),
        ("out_of_network_indicator", Value::from(true)),
        ("break_duration", Value::from(2_700_000.0)),
    ]);
    let fields = Object::from_iter([
        ("name", Value::from("scte35")),
        ("type", Value::from("event")),
        ("time", Value::from(4.0)),
        ("parameters", Value::Object(parameters)),
    ]);
    let cue = Cue::from_script(&script("onCuePoint", fields), 3_900)
        .unwrap()
        .unwrap();
    assert_eq!(cue.event_id, 1001);
    assert_eq!((cue.kind, cue.duration), (SignalKind::Out, Some(2_700_000)));
    assert_eq!(cue.at, Some(4_000 * 90));
}

#[test]
fn youtube_cue_points_start_after_their_pre_roll() {
    let fields = Object::from_iter([
        ("type", Value::from("com.youtube.cuepoint")),
        ("version", Value::from("0.1")),
        ("pre_roll_time_sec", Value::from(2.5)),
        ("cue_point_start", Value::from(true)),
        ("break_duration_sec", Value::from(30.0)),
        ("splice_event_id", Value::from(5.0)),
    ]);
    let cue = Cue::from_script(&script("onCuePoint", fields), 10_000)
        .unwrap()
        .unwrap();
    assert_eq!((cue.event_id, cue.kind), (5, SignalKind::Out));
    assert_eq!(cue.at, Some(12_500 * 90));
    assert_eq!(cue.duration, Some(30 * 90_000));
}

#[test]
fn other_messages_and_repeats_are_not_cues() {
    let navigation = Object::from_iter([
        ("name", Value::from("chapter 2")),
        ("type", Value::from("navigation")),
        ("time", Value::from(1.0)),
    ]);
    assert_eq!(
        Cue::from_script(&script("onCuePoint", navigation), 0).unwrap(),
        None
    );
    let meta = Object::from_iter([("duration", Value::from(1.0))]);
    assert_eq!(
        Cue::from_script(&script("onMetaData", meta), 0).unwrap(),
        None
    );
    let repeat = Object::from_iter([
        ("cue", Value::from("SpliceOut")),
        ("id", Value::from("a")),
        ("duration", Value::from(30.0)),
        ("elapsed", Value::from(4.0)),
    ]);
    assert_eq!(
        Cue::from_script(&script("onAdCue", repeat), 0).unwrap(),
        None
    );
}

#[test]
fn a_time_on_another_clock_splices_at_the_next_key_frame() {
    let fields = Object::from_iter([
        ("cue", Value::from("SpliceOut")),
        ("id", Value::from("7")),
        ("duration", Value::from(30.0)),
        // A wall-clock time, not the stream's.
        ("time", Value::from(1.7e9)),
    ]);
    let cue = Cue::from_script(&script("onAdCue", fields), 5_000)
        .unwrap()
        .unwrap();
    assert_eq!((cue.event_id, cue.at), (7, None));
}

#[test]
fn broken_cues_say_what_was_expected() {
    let no_duration =
        Object::from_iter([("cue", Value::from("SpliceOut")), ("id", Value::from("1"))]);
    let error = Cue::from_script(&script("onAdCue", no_duration), 0).unwrap_err();
    assert!(error.to_string().contains("`duration`"), "{error}");

    let not_base64 =
        Object::from_iter([("cue", Value::from("***")), ("type", Value::from("scte35"))]);
    let error = Cue::from_script(&script("onAdCue", not_base64), 0).unwrap_err();
    assert!(matches!(error, CueError::Base64 { .. }), "{error}");

    let mut section = SpliceInsert::out(1, None, None).to_bytes();
    section[15] ^= 0xFF;
    let damaged = Object::from_iter([
        ("cue", Value::from(base64(&section))),
        ("type", Value::from("urn:scte:scte35:2013:bin")),
    ]);
    let error = Cue::from_script(&script("onAdCue", damaged), 0).unwrap_err();
    assert!(matches!(error, CueError::Scte35 { .. }), "{error}");

    let huge = Object::from_iter([
        ("cue", Value::from("A".repeat(10_000))),
        ("type", Value::from("scte35")),
    ]);
    assert!(Cue::from_script(&script("onAdCue", huge), 0).is_err());
}

#[test]
fn a_body_that_is_only_a_name_is_not_a_cue() {
    let mut body = BytesMut::new();
    Value::from("onCuePoint").encode(&mut body);
    let parsed = ScriptData::parse(&Bytes::from(body)).unwrap();
    assert_eq!(Cue::from_script(&parsed, 0).unwrap(), None);
}
