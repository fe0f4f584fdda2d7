//! The SCTE-35 cues of an ad break, read by threefive (the SCTE-35 parser
//! ad inserters and monitoring tools use), from a muxer's playlist.

use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use hls_mux::playlist::PlaylistKind;
use hls_mux::{Format, Frame, MediaKind, Muxer, MuxerOptions, TrackConfig};

/// threefive's reading of a `0x...` cue, as JSON.
fn threefive(hex: &str) -> serde_json::Value {
    let script = "import sys, json, threefive\n\
                  c = threefive.Cue(sys.argv[1]); c.decode()\n\
                  print(json.dumps(c.get(), default=str))";
    let output = Command::new("python3")
        .args(["-c", script, hex])
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "threefive failed on {hex}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn attribute<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
        .filter_map(|l| l.split(&format!("{name}=")).nth(1))
        .map(|rest| rest.split(',').next().unwrap_or(rest))
        .collect()
}

/// A TS muxer with a 320x240 H.264 track and a wall clock, and a maker of
/// its frames (a key frame on every whole second).
fn ts_muxer() -> (Muxer, impl Fn(i64) -> Frame) {
    let mut options = MuxerOptions::new(Format::Ts);
    options.target_duration = 2.0;
    options.kind = PlaylistKind::Event;
    let mut muxer = Muxer::new(options).expect("options");
    // FFmpeg's libx264 avcC for 320x240 (the corpus's).
    let hex =
        "0164000dffe100196764000dacd94141fb0110000003001000000303c0f142996001000468ef8fcbfdf8f800";
    let record: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let config = flv::config::AvcConfig::parse(&record).expect("avcC");
    muxer.set_config(TrackConfig::Avc(config)).expect("config");
    muxer.set_clock(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let frame = |ms: i64| Frame {
        media: MediaKind::Video,
        dts: ms * 90,
        pts: ms * 90,
        key: ms % 1000 == 0,
        data: Bytes::from_static(&[0, 0, 0, 2, 0x65, 0x88]),
    };
    (muxer, frame)
}

#[test]
#[ignore = "needs python3 with threefive (pip install threefive)"]
fn threefive_reads_the_break_as_a_splice_insert_out_then_in() {
    let (mut muxer, frame) = ts_muxer();
    for ms in (0..1500).step_by(40) {
        muxer.push(frame(ms)).expect("frame");
    }
    let id = muxer.insert_ad_break(30.0).expect("a break");
    for ms in (1520..40_000).step_by(40) {
        muxer.push(frame(ms)).expect("frame");
    }
    muxer.finish().expect("finish");
    let text = muxer.playlist().render();
    let out = attribute(&text, "SCTE35-OUT");
    let back = attribute(&text, "SCTE35-IN");
    assert_eq!((out.len(), back.len()), (1, 1), "{text}");
    let out = threefive(out[0]);
    let command = &out["command"];
    eprintln!("threefive: {command}");
    assert_eq!(command["name"], "Splice Insert");
    assert_eq!(command["splice_event_id"], id);
    assert_eq!(command["out_of_network_indicator"], true);
    assert_eq!(command["break_duration"].as_f64(), Some(30.0));
    assert_eq!(command["break_auto_return"], true);
    // Where the break starts: the key frame at 2 s, after TS's 1.4 s offset.
    let pts = command["pts_time"].as_f64().expect("a splice time");
    assert!((pts - 3.4).abs() < 0.001, "{pts}");
    let back = threefive(back[0]);
    assert_eq!(back["command"]["out_of_network_indicator"], false);
    assert_eq!(back["command"]["splice_event_id"], id);
}

/// A `splice_insert` as threefive encodes it (an encoder's section: not
/// made by us), in hex.
fn threefive_splice_insert() -> String {
    let script = "from threefive import Cue, SpliceInsert\n\
                  s = SpliceInsert()\n\
                  s.splice_event_id = 777; s.splice_event_cancel_indicator = False\n\
                  s.out_of_network_indicator = True; s.program_splice_flag = True\n\
                  s.duration_flag = True; s.break_auto_return = True; s.break_duration = 20.0\n\
                  s.splice_immediate_flag = False; s.time_specified_flag = True; s.pts_time = 10.0\n\
                  s.event_id_compliance_flag = True; s.unique_program_id = 1\n\
                  s.avail_num = 0; s.avails_expected = 0\n\
                  c = Cue(); c.command = s; c.encode(); print(c.hex())";
    let output = Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("hex")
        .trim()
        .to_owned()
}

#[test]
#[ignore = "needs python3 with threefive (pip install threefive)"]
fn an_encoders_section_comes_out_as_threefive_wrote_it() {
    use base64::Engine;
    let input = threefive_splice_insert();
    let digits = input.trim_start_matches("0x");
    let section: Vec<u8> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
        .collect();
    // As Adobe Primetime's SCTE-35 mode carries it: onAdCue, base64.
    let fields = amf0::Object::from_iter([
        (
            "cue",
            amf0::Value::from(base64::engine::general_purpose::STANDARD.encode(&section)),
        ),
        ("type", amf0::Value::from("scte35")),
        ("time", amf0::Value::from(1.5)),
    ]);
    let mut body = bytes::BytesMut::new();
    amf0::encode_all(
        &[amf0::Value::from("onAdCue"), amf0::Value::Object(fields)],
        &mut body,
    );
    let script = flv::tag::ScriptData::parse(&body.freeze()).expect("AMF0");
    let cue = hls_mux::Cue::from_script(&script, 1_000)
        .expect("a cue")
        .expect("an ad cue");
    assert_eq!((cue.event_id, cue.duration), (777, Some(20 * 90_000)));
    let (mut muxer, frame) = ts_muxer();
    for ms in (0..1500).step_by(40) {
        muxer.push(frame(ms)).expect("frame");
    }
    muxer.insert_cue(cue).expect("the cue");
    for ms in (1520..30_000).step_by(40) {
        muxer.push(frame(ms)).expect("frame");
    }
    muxer.finish().expect("finish");
    let text = muxer.playlist().render();
    let out = attribute(&text, "SCTE35-OUT");
    assert_eq!(out.len(), 1, "{text}");
    let ours = threefive(out[0]);
    let theirs = threefive(&input);
    eprintln!("threefive: {}", ours["command"]);
    assert_eq!(ours["command"], theirs["command"]);
    assert_eq!(ours["info_section"], theirs["info_section"]);
    // The break: from the key frame at 2 s to the first one 20 s later.
    assert!(text.contains("PLANNED-DURATION=20.000"), "{text}");
    assert!(text.contains(",DURATION=20.000,SCTE35-IN=0xFC"), "{text}");
}
