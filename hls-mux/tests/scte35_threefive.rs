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

#[test]
#[ignore = "needs python3 with threefive (pip install threefive)"]
fn threefive_reads_the_break_as_a_splice_insert_out_then_in() {
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
