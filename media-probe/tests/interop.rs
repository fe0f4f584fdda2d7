//! Interop with the real peers of `../shared/peers/` (FFmpeg 9, Debian's ffprobe
//! 5.1, the corpus of `make-corpus.sh`). Ignored by default because they need
//! those installed (`../shared/peers/install.sh`); CI runs them with
//! `--include-ignored`. A missing peer fails the test, loudly: nothing is skipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

const PROBE: &str = env!("CARGO_BIN_EXE_media-probe");

/// The H.264 / AAC / MP3 files of the corpus, which Debian's ffprobe reads.
const FFPROBE_FILES: [&str; 12] = [
    "a_h264high_bf_aac.flv",
    "b_h264base_mp3.flv",
    "c_aac_only.flv",
    "d_h264_only.flv",
    "h_h264_reschange.flv",
    "i_h264_ts_extended.flv",
    "i_h264_tsjump_back3s.flv",
    "i_h264_tsjump_fwd10s.flv",
    "j_h264_25fps.flv",
    "j_h264_29.97fps.flv",
    "k_h264_gop250.flv",
    "k_h264_gop30.flv",
];

fn peers() -> PathBuf {
    std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"))
}

fn ffmpeg9() -> PathBuf {
    let path = std::env::var_os("FFMPEG9")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/bin/ffmpeg9"));
    assert!(
        path.exists(),
        "{} is missing: run ../shared/peers/install.sh",
        path.display()
    );
    path
}

fn ffprobe() -> &'static str {
    let found = Command::new("ffprobe").arg("-version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "ffprobe (Debian's FFmpeg 5.1) is missing: run ../shared/peers/install.sh"
    );
    "ffprobe"
}

/// The FLV corpus of `make-corpus.sh`, made once per test process if missing.
fn corpus() -> &'static Path {
    static CORPUS: OnceLock<PathBuf> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::env::var_os("PEERS_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp/peers/corpus"));
        if !dir.join("MANIFEST.tsv").exists() {
            let status = Command::new(peers().join("make-corpus.sh"))
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run make-corpus.sh (needs ../shared/peers/install.sh)");
            assert!(status.success(), "make-corpus.sh failed");
        }
        dir
    })
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `[NAME]` ... `[/NAME]` sections of ffprobe's default writer, as key/value maps.
fn sections(text: &str, name: &str) -> Vec<HashMap<String, String>> {
    let (open, close) = (format!("[{name}]"), format!("[/{name}]"));
    let mut out = Vec::new();
    let mut current: Option<HashMap<String, String>> = None;
    for line in text.lines() {
        if line == open {
            current = Some(HashMap::new());
        } else if line == close {
            out.extend(current.take());
        } else if let (Some(map), Some((k, v))) = (current.as_mut(), line.split_once('=')) {
            map.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
    }
    out
}

fn ffprobe_sections(file: &Path, what: &str, name: &str) -> Vec<HashMap<String, String>> {
    let output = run(Command::new(ffprobe())
        .args(["-v", "error", what])
        .arg(file));
    sections(&String::from_utf8_lossy(&output.stdout), name)
}

fn probe_json(args: &[&str], file: &Path) -> Value {
    let output = run(Command::new(PROBE).args(args).arg(file));
    serde_json::from_slice(&output.stdout).expect("media-probe --json is JSON")
}

#[test]
#[ignore = "needs peers: ffprobe 5.1 and the corpus (../shared/peers/install.sh)"]
fn show_frames_equals_ffprobe_on_the_h264_aac_mp3_corpus() {
    for name in FFPROBE_FILES {
        let file = corpus().join(name);
        let ours = sections(
            &String::from_utf8_lossy(
                &run(Command::new(PROBE).arg("--show-frames").arg(&file)).stdout,
            ),
            "FRAME",
        );
        let packets = ffprobe_sections(&file, "-show_packets", "PACKET");
        let frames = ffprobe_sections(&file, "-show_frames", "FRAME");
        assert_eq!(ours.len(), packets.len(), "{name}: frame count");
        assert!(!ours.is_empty(), "{name}: no frames");

        // Timing, size, position and key flag: from -show_packets, in the same order.
        let mut compared = 0;
        for (i, (o, p)) in ours.iter().zip(&packets).enumerate() {
            let key = if p["flags"].starts_with('K') {
                "1"
            } else {
                "0"
            };
            let expected = [
                ("media_type", p["codec_type"].as_str()),
                ("stream_index", &p["stream_index"]),
                ("key_frame", key),
                ("pts", &p["pts"]),
                ("pts_time", &p["pts_time"]),
                ("pkt_dts", &p["dts"]),
                ("pkt_dts_time", &p["dts_time"]),
                ("pkt_duration", &p["duration"]),
                ("pkt_duration_time", &p["duration_time"]),
                ("pkt_pos", &p["pos"]),
                ("pkt_size", &p["size"]),
            ];
            for (k, v) in expected {
                assert_eq!(
                    o.get(k).map(String::as_str),
                    Some(v),
                    "{name}: frame {i}: {k}"
                );
                compared += 1;
            }
        }
        // Picture type, size and picture dimensions: from -show_frames (presentation
        // order there), matched by packet position.
        let by_pos: HashMap<&str, &HashMap<String, String>> =
            frames.iter().map(|f| (f["pkt_pos"].as_str(), f)).collect();
        let mut pictures = 0;
        for o in ours.iter().filter(|o| o["media_type"] == "video") {
            let f = by_pos
                .get(o["pkt_pos"].as_str())
                .unwrap_or_else(|| panic!("{name}: ffprobe decoded no frame at {}", o["pkt_pos"]));
            for k in ["pict_type", "pkt_size", "width", "height", "key_frame"] {
                if k == "key_frame" {
                    continue; // decoder key flag: from -show_packets above
                }
                assert_eq!(o.get(k), f.get(k), "{name}: pkt_pos {}: {k}", o["pkt_pos"]);
                compared += 1;
            }
            pictures += 1;
        }
        let video_packets = packets
            .iter()
            .filter(|p| p["codec_type"] == "video")
            .count();
        assert_eq!(
            pictures, video_packets,
            "{name}: every video frame compared"
        );
        eprintln!(
            "{name}: {} frames, {compared} fields equal to ffprobe",
            ours.len()
        );
    }
}

/// (pkt_pos, jump size) of each DTS discontinuity ffprobe's packets show: a step
/// that differs from the packet duration by a second or more.
fn ffprobe_jumps(file: &Path) -> Vec<(u64, i64)> {
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut jumps = Vec::new();
    for p in ffprobe_sections(file, "-show_packets", "PACKET") {
        let dts: i64 = p["dts"].parse().unwrap();
        let duration: i64 = p["duration"].parse().unwrap();
        if let Some(previous) = last.insert(p["stream_index"].clone(), dts) {
            let delta = dts - previous - duration;
            if delta.abs() >= 1000 {
                jumps.push((p["pos"].parse().unwrap(), delta));
            }
        }
    }
    jumps.sort();
    jumps
}

#[test]
#[ignore = "needs peers: ffprobe 5.1 and the corpus (../shared/peers/install.sh)"]
fn jump_files_report_each_jump_with_its_size() {
    for (name, size) in [
        ("i_h264_tsjump_fwd10s.flv", 10_000),
        ("i_h264_tsjump_back3s.flv", -3_000),
    ] {
        let file = corpus().join(name);
        let report = probe_json(&["--json", "--no-frames"], &file);
        let mut ours: Vec<(u64, i64)> = report["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "dts_jump")
            .map(|e| {
                (
                    e["pkt_pos"].as_u64().unwrap(),
                    e["delta_ms"].as_i64().unwrap(),
                )
            })
            .collect();
        ours.sort();
        let expected = ffprobe_jumps(&file);
        assert_eq!(
            ours, expected,
            "{name}: jumps where ffprobe's packets show them"
        );
        // One jump per track (video and audio), of the size the corpus was made with
        // (within the millisecond rounding of one frame step).
        assert_eq!(ours.len(), 2, "{name}: {ours:?}");
        for (_, delta) in &ours {
            assert!(
                (delta - size).abs() <= 1,
                "{name}: jump of {delta} ms, made as {size} ms"
            );
        }
        let kinds: Vec<&str> = report["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.iter().all(|k| *k == "dts_jump"), "{name}: {kinds:?}");
        // And the command's exit status follows --fail-on.
        let status = Command::new(PROBE)
            .args(["--fail-on", "dts_jump"])
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3), "{name}: --fail-on dts_jump");
    }
    let clean = Command::new(PROBE)
        .args(["--fail-on", "any"])
        .arg(corpus().join("a_h264high_bf_aac.flv"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(clean.code(), Some(0), "a clean file passes --fail-on any");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} failed");
}

/// FFmpeg 9 publishing `file` in real time to `url`, stopped for 4 s with SIGSTOP
/// after `before`, then continued.
fn publish_with_a_pause(url: &str, file: &Path, before: Duration) -> Collected {
    let ffmpeg = Command::new(ffmpeg9())
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-re",
            "-i",
        ])
        .arg(file)
        .args(["-c", "copy", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ffmpeg9");
    let pid = ffmpeg.id();
    let ffmpeg = Collected::start(ffmpeg);
    std::thread::sleep(before);
    signal(pid, "-STOP");
    std::thread::sleep(Duration::from_secs(4));
    signal(pid, "-CONT");
    ffmpeg
}

/// A child whose output is read from the start by a thread (a full stdout pipe
/// would block it, and a probe that stops reading its socket sees a stall: that
/// is what it is for).
struct Collected {
    pid: u32,
    output: std::sync::mpsc::Receiver<std::io::Result<Output>>,
}

impl Collected {
    fn start(child: Child) -> Collected {
        let pid = child.id();
        let (tx, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        Collected { pid, output }
    }

    /// Waits for the child to end, up to `limit` (then kills it and fails).
    fn wait(self, limit: Duration) -> Output {
        match self.output.recv_timeout(limit) {
            Ok(output) => output.expect("collect output"),
            Err(_) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &self.pid.to_string()])
                    .status();
                let output = self.output.recv().expect("collect output");
                panic!(
                    "process {} did not end within {limit:?}; stderr: {}",
                    self.pid,
                    output
                        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                        .unwrap_or_default()
                );
            }
        }
    }
}

fn stalls(report: &Value) -> Vec<i64> {
    report["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "stall")
        .map(|e| e["duration_ms"].as_i64().unwrap())
        .collect()
}

fn check_live_report(output: &Output, what: &str) -> Value {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: media-probe printed no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let stalls = stalls(&report);
    assert_eq!(
        stalls.len(),
        1,
        "{what}: one stall, got {stalls:?} in {:#}",
        report["events"]
    );
    assert!(
        (3500..=5500).contains(&stalls[0]),
        "{what}: stall of {} ms, expected about 4000",
        stalls[0]
    );
    // Frames from every track arrived, stamped with their arrival time.
    let tracks = report["summary"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{what}: video and audio");
    let frames = report["frames"].as_array().unwrap();
    assert!(frames
        .iter()
        .all(|f| f["arrival_time"].is_string() || f["arrival_time"].is_number()));
    assert!(
        frames.iter().all(|f| f["pkt_pos"].is_null()),
        "{what}: no positions for live input"
    );
    eprintln!("{what}: stall of {} ms, {} frames", stalls[0], frames.len());
    report
}

#[test]
#[ignore = "needs peers: FFmpeg 9 and the corpus (../shared/peers/install.sh)"]
fn live_stall_of_a_publisher_stopped_for_4_s() {
    let file = corpus().join("k_h264_gop250.flv");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut probe = Command::new(PROBE)
        .args(["--listen", &addr, "--json", "--duration", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start media-probe");
    // Publish only once it listens (it says so on stderr).
    let stderr = probe.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("media-probe said something").unwrap();
    assert!(first.contains("listening on"), "{first}");
    let probe = Collected::start(probe);
    let ffmpeg = publish_with_a_pause(
        &format!("rtmp://{addr}/live/test"),
        &file,
        Duration::from_secs(3),
    );
    let ffmpeg = ffmpeg.wait(Duration::from_secs(40));
    assert!(
        ffmpeg.status.success(),
        "ffmpeg9: {}",
        String::from_utf8_lossy(&ffmpeg.stderr)
    );
    let output = probe.wait(Duration::from_secs(20));
    assert!(
        output.status.success(),
        "media-probe --listen failed: {:?}",
        output.status
    );
    let report = check_live_report(&output, "--listen");
    let video = &report["summary"]["tracks"][0];
    assert_eq!(video["frames"], 250, "every video frame of the file");
}

#[test]
#[ignore = "needs peers: FFmpeg 9 and the corpus (../shared/peers/install.sh)"]
fn live_stall_through_rtmp_relay_with_the_probe_playing() {
    let file = corpus().join("k_h264_gop250.flv");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            // The probe ends when the publisher leaves.
            let config = live_ingest::Config {
                rtmp: "127.0.0.1:0".parse().unwrap(),
                http: "127.0.0.1:0".parse().unwrap(),
                hls: false,
                notify_unpublish: true,
                ..Default::default()
            };
            let server = live_ingest::Server::new(config).expect("a valid configuration");
            let addr = live_ingest::start(server)
                .await
                .expect("bind the server")
                .rtmp;
            tx.send(addr).expect("report address");
            std::future::pending::<()>().await;
        });
    });
    let relay = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("relay started");
    let url = format!("rtmp://{relay}/live/probe");
    let probe = Collected::start(
        Command::new(PROBE)
            .args([url.as_str(), "--json", "--duration", "60"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start media-probe"),
    );
    // The player waits on the relay for its publisher.
    std::thread::sleep(Duration::from_millis(500));
    let ffmpeg = publish_with_a_pause(&url, &file, Duration::from_secs(3));
    let ffmpeg = ffmpeg.wait(Duration::from_secs(40));
    assert!(
        ffmpeg.status.success(),
        "ffmpeg9: {}",
        String::from_utf8_lossy(&ffmpeg.stderr)
    );
    let output = probe.wait(Duration::from_secs(20));
    assert!(
        output.status.success(),
        "media-probe playing failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    check_live_report(&output, "through rtmp_relay");
}

/// (PTS, picture type) of every video frame FFmpeg 9 decodes from `file`, from its
/// `showinfo` filter (Debian's ffprobe 5.1 cannot read Enhanced FLV).
fn ffmpeg9_picture_types(file: &Path) -> Vec<(i64, String)> {
    let output = run(Command::new(ffmpeg9())
        .args(["-hide_banner", "-nostdin", "-copyts", "-i"])
        .arg(file)
        .args(["-map", "0:v", "-vf", "showinfo", "-f", "null", "-"]));
    let log = String::from_utf8_lossy(&output.stderr);
    let mut types: Vec<(i64, String)> = log
        .lines()
        .filter(|l| l.contains("Parsed_showinfo") && l.contains(" n:"))
        .map(|l| {
            let field = |name: &str| {
                let rest =
                    &l[l.find(name).unwrap_or_else(|| panic!("{name} in {l}")) + name.len()..];
                rest.split_whitespace().next().unwrap_or("").to_string()
            };
            (field(" pts:").parse().expect("pts"), field(" type:"))
        })
        .collect();
    types.sort();
    types
}

#[test]
#[ignore = "needs peers: FFmpeg 9 and the corpus (../shared/peers/install.sh)"]
fn hevc_picture_types_equal_ffmpeg9() {
    let file = corpus().join("e_hevc_aac.flv");
    let report = probe_json(&["--json"], &file);
    let mut ours: Vec<(i64, String)> = report["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["media_type"] == "video")
        .map(|f| {
            let pict = f["pict_type"].as_str().unwrap_or("?").to_string();
            (f["pts"].as_i64().unwrap(), pict)
        })
        .collect();
    ours.sort();
    let theirs = ffmpeg9_picture_types(&file);
    assert_eq!(ours.len(), 180);
    assert_eq!(ours, theirs, "HEVC picture types by PTS");
    let count = |t: &str| ours.iter().filter(|(_, p)| p == t).count();
    assert!(count("I") > 0 && count("P") > 0 && count("B") > 0);
}
