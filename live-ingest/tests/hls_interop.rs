//! Interop: the server's HLS side (in-process, ephemeral ports) with real publishers
//! and real players.
//!
//! - FFmpeg 9 publishes a corpus file in real time; while it is live, a
//!   blocking playlist reload for the next part returns once the part is
//!   there (and one too far ahead gets 400), `/stats` and `/` describe the
//!   stream; after it leaves, the EVENT playlist (`--window 0`) ends, FFmpeg 9
//!   reads it over HTTP and decodes exactly the frames of the source file,
//!   the files of `--out` match what is served, and the `--record` FLV has
//!   every payload of the source.
//! - hls.js in headless Chromium (`../shared/peers/hls-play.sh`) plays the
//!   live URL while FFmpeg 9 publishes.
//! - GStreamer (rtmp2sink and librtmp's rtmpsink) and FFmpeg 5.1 publish at
//!   once (MPEG-TS this time); each playlist decodes to the source's frames.
//! - A second publisher on a live key is refused; a republish after the
//!   first one left continues the same playlist after one discontinuity,
//!   and the whole playlist decodes to the source's frames twice.
//! - A publish refused by the allow list or the HTTP callback never starts.
//!
//! One test at a time (a lock): each runs real-time publishers, and two
//! cores are not enough for several at once plus a browser.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use live_ingest::auth::CallbackUrl;
use live_ingest::{Bound, Config, SegmentFormat};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const SOURCE: &str = "a_h264high_bf_aac";

fn source() -> PathBuf {
    common::corpus().join(format!("{SOURCE}.flv"))
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a peers publisher script (`ffmpeg9`, `ffmpeg5`, `gst-rtmp2`, ...).
fn publish(kind: &str, bound: &Bound, key: &str, file: &Path) -> common::Process {
    let url = format!("rtmp://{}/live/{key}", bound.rtmp);
    common::script(
        "client-publish.sh",
        &[kind, &url, file.to_str().expect("utf-8 path")],
    )
}

fn playlist(bound: &Bound, key: &str) -> common::HttpResponse {
    common::http_get(bound.http, &format!("/live/{key}/index.m3u8"))
}

/// Polls until `done` holds for the playlist text, up to `limit`.
fn wait_for(bound: &Bound, key: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let response = playlist(bound, key);
        let text = response.text();
        if response.status == 200 && done(&text) {
            return text;
        }
        assert!(
            start.elapsed() < limit,
            "{key}: the playlist did not get there in {limit:?} (status {}):\n{text}",
            response.status
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The MD5 of every audio packet of `input` as FFmpeg 9 reads it (no decoding).
fn audio_packets(input: &str) -> Vec<String> {
    let output = Command::new(common::ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i", input])
        .args(["-map", "0:a", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    assert!(output.status.success(), "ffmpeg9 failed on {input}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(',').next_back().map(|md5| md5.trim().to_owned()))
        .collect()
}

/// Asserts that FFmpeg 9 reading the playlist over HTTP decodes the
/// source's frames, `times` times over (one per publish).
///
/// After a republish the audio is checked packet by packet instead: the
/// packets are the source's, but FFmpeg's AAC decoder carries state from
/// one frame to the next (the overlap of the previous frame, and the random
/// generator of perceptual noise substitution), so the frames after the
/// junction cannot decode as they do from a fresh start. Video decodes the
/// same either way: every segment starts with a key frame.
fn assert_decodes_like_the_source(bound: &Bound, key: &str, times: usize) {
    let source = source();
    let source = source.to_str().expect("utf-8");
    let (want, want_text) = common::decoded(source);
    let url = format!("http://{}/live/{key}/index.m3u8", bound.http);
    let (got, got_text) = common::decoded(&url);
    assert_eq!(got.len(), want.len(), "{key}: stream count\n{got_text}");
    for (index, (got, want)) in got.iter().zip(&want).enumerate() {
        let want: Vec<String> = std::iter::repeat_n(want.clone(), times).flatten().collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{key}: stream {index} frame count\nsource:\n{want_text}\nhls:\n{got_text}"
        );
        let audio = index == 1;
        if audio && times > 1 {
            continue;
        }
        assert!(
            *got == want,
            "{key}: stream {index} decoded frames differ\nsource:\n{want_text}\nhls:\n{got_text}"
        );
    }
    if times > 1 {
        let want: Vec<String> = std::iter::repeat_n(audio_packets(source), times)
            .flatten()
            .collect();
        assert_eq!(audio_packets(&url), want, "{key}: audio packets");
    }
    eprintln!(
        "{key}: decoded frames per stream {:?} equal the source's{}",
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        if times > 1 {
            " (twice over; audio packets equal, decoded audio counted)"
        } else {
            ""
        }
    );
}

fn event_config() -> Config {
    Config {
        window: 0,
        ..Config::default()
    }
}

/// `(msn, part)` of the `EXT-X-PRELOAD-HINT`.
fn preload_hint(text: &str) -> Option<(u64, u64)> {
    let line = text
        .lines()
        .find(|l| l.starts_with("#EXT-X-PRELOAD-HINT"))?;
    let uri = line.split("URI=\"").nth(1)?.split('"').next()?;
    let (msn, part) = uri
        .strip_prefix("part")?
        .strip_suffix(".m4s")?
        .split_once('.')?;
    Some((msn.parse().ok()?, part.parse().ok()?))
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn ffmpeg9_live_blocking_reload_then_the_event_playlist_decodes_like_the_source() {
    let _one = lock();
    let scratch = common::scratch("rtmp-to-hls-ffmpeg9");
    let out = scratch.join("out");
    let record = scratch.join("record");
    let (bound, _server) = common::start_server(Config {
        out: Some(out.clone()),
        record: Some(record.clone()),
        ..event_config()
    });
    let publisher = publish("ffmpeg9", &bound, "cam", &source());

    // Live: the first segment is there, and more is coming.
    let text = wait_for(&bound, "cam", Duration::from_secs(15), |t| {
        t.contains("seg0.m4s")
    });
    assert!(!text.contains("#EXT-X-ENDLIST"), "ended too early:\n{text}");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{text}");
    assert!(text.contains("CAN-BLOCK-RELOAD=YES"), "{text}");

    // A blocking reload for the hinted part: not there when asked, there in
    // the answer, which waited for it.
    let (msn, part) = preload_hint(&text).expect("a preload hint while live");
    let uri = format!("part{msn}.{part}.m4s");
    let asked = Instant::now();
    let response = common::http_get(
        bound.http,
        &format!("/live/cam/index.m3u8?_HLS_msn={msn}&_HLS_part={part}"),
    );
    let waited = asked.elapsed();
    let answer = response.text();
    assert_eq!(response.status, 200, "{answer}");
    assert!(
        answer.contains(&format!("URI=\"{uri}\"")),
        "the answer lacks {uri}:\n{answer}"
    );
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    eprintln!("blocking reload for {uri}: answered after {waited:?}");
    // The part is served, with its type and CORS.
    let part_file = common::http_get(bound.http, &format!("/live/cam/{uri}"));
    assert_eq!(part_file.status, 200);
    assert!(!part_file.body.is_empty());
    assert_eq!(part_file.header("content-type"), Some("video/mp4"));
    assert_eq!(part_file.header("access-control-allow-origin"), Some("*"));
    // Too far ahead: 400 at once.
    let far = common::http_get(
        bound.http,
        &format!("/live/cam/index.m3u8?_HLS_msn={}&_HLS_part=0", msn + 5),
    );
    assert_eq!(far.status, 400, "{}", far.text());

    // /stats and the page while live.
    let stats: Value = serde_json::from_slice(&common::http_get(bound.http, "/stats").body)
        .expect("/stats is JSON");
    let stream = &stats["streams"][0];
    assert_eq!(stream["key"], "live/cam", "{stats}");
    assert_eq!(stream["live"], true);
    assert_eq!(stream["codecs"], "avc1.64000d,mp4a.40.2", "{stats}");
    assert_eq!(stream["video"]["width"], 320);
    assert_eq!(stream["video"]["height"], 240);
    let fps = stream["video"]["fps"].as_f64().unwrap_or(0.0);
    assert!((fps - 30.0).abs() < 1.0, "fps {fps}: {stats}");
    assert!(
        stream["bitrate_bps"].as_f64().unwrap_or(0.0) > 50_000.0,
        "{stats}"
    );
    assert!(stream["viewers"].as_u64().unwrap_or(0) >= 1, "{stats}");
    assert!(stream["uptime_s"].as_f64().unwrap_or(0.0) > 0.5, "{stats}");
    let page = common::http_get(bound.http, "/").text();
    assert!(page.contains("live/cam"), "{page}");
    assert!(
        page.contains("<script src=\"/hls.min.js\"></script>"),
        "{page}"
    );
    let hlsjs = common::http_get(bound.http, "/hls.min.js");
    assert_eq!(hlsjs.status, 200, "hls.js from the npm package");

    // The publisher leaves: ENDLIST.
    let finished = publisher.wait(Duration::from_secs(40));
    assert!(
        finished.status.success(),
        "ffmpeg9 publish failed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let text = wait_for(&bound, "cam", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).expect("m3u8-rs reads it");
    assert!(parsed.end_list);
    assert_eq!(parsed.media_sequence, 0, "EVENT keeps every segment");
    assert!(parsed.segments.len() >= 3, "{text}");
    assert!(!parsed.segments.iter().any(|s| s.discontinuity));

    assert_decodes_like_the_source(&bound, "cam", 1);

    // --out: the same playlist and segments on disk, no temporary file left.
    let dir = out.join("live/cam");
    let on_disk = std::fs::read_to_string(dir.join("index.m3u8")).expect("index.m3u8 on disk");
    assert_eq!(on_disk, text);
    for segment in &parsed.segments {
        let served = common::http_get(bound.http, &format!("/live/cam/{}", segment.uri));
        let file = std::fs::read(dir.join(&segment.uri)).expect("segment on disk");
        assert_eq!(served.body, file, "{}", segment.uri);
    }
    // Every fragment (parts are the segments' fragments) continues its
    // tracks' timelines exactly.
    let init = common::http_get(bound.http, "/live/cam/init0.mp4").body;
    let served: Vec<(String, Vec<u8>)> = parsed
        .segments
        .iter()
        .map(|s| {
            let body = common::http_get(bound.http, &format!("/live/cam/{}", s.uri)).body;
            (s.uri.clone(), body)
        })
        .collect();
    let runs = served
        .iter()
        .map(|(uri, data)| (uri.as_str(), data.as_slice()));
    let checked = common::fmp4::check_timeline(&init, runs).unwrap_or_else(|e| panic!("{e}"));
    assert!(checked >= 10, "only {checked} fragments checked");
    eprintln!("cam: {checked} fragment tfdts equal the cumulated sample durations");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // --record: one FLV with every payload of the source.
    let recordings: Vec<PathBuf> = std::fs::read_dir(record.join("live"))
        .expect("recording dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    assert_eq!(
        common::fingerprint(&recordings[0]),
        common::fingerprint(&source())
    );
}

#[test]
#[ignore = "needs peers: ffmpeg9, chromium, hls.js and the corpus (../shared/peers)"]
fn hlsjs_plays_the_live_stream_while_ffmpeg9_publishes() {
    let _one = lock();
    let (bound, server) = common::start_server(Config::default());
    // Three loops of the file (18 s): live for the whole playback.
    let url = format!("rtmp://{}/live/tv", bound.rtmp);
    let publisher = common::Process(
        Command::new(common::ffmpeg9())
            .args(["-hide_banner", "-nostdin", "-loglevel", "warning"])
            .args(["-stream_loop", "2", "-re", "-i"])
            .arg(source())
            .args(["-map", "0", "-c", "copy", "-f", "flv", &url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ffmpeg9"),
    );
    wait_for(&bound, "tv", Duration::from_secs(15), |t| {
        t.contains("seg0.m4s")
    });
    let stream = server
        .registry
        .as_ref()
        .expect("HLS on")
        .get("live/tv")
        .expect("the stream");
    let play = common::script(
        "hls-play.sh",
        &[&format!("http://{}/live/tv/index.m3u8", bound.http), "8"],
    )
    .wait(Duration::from_secs(90));
    assert!(
        stream.is_live(),
        "the publisher left during playback: not a live test"
    );
    let stdout = String::from_utf8_lossy(&play.stdout);
    let stderr = String::from_utf8_lossy(&play.stderr);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{stdout}\n{stderr}"));
    assert!(
        play.status.success(),
        "hls-play.sh failed:\n{stdout}\n{stderr}"
    );
    let fatal: Vec<&Value> = report["errors"]
        .as_array()
        .map(|errors| errors.iter().filter(|e| e["fatal"] != false).collect())
        .unwrap_or_default();
    assert!(fatal.is_empty(), "errors {fatal:?}\n{stderr}");
    let current = report["currentTime"].as_f64().unwrap_or(0.0);
    assert!(current > 2.0, "played only to {current} s\n{stderr}");
    let codecs = report["bufferCodecs"].to_string();
    assert!(codecs.contains("avc1"), "{codecs}");
    assert_eq!(report["videoWidth"], 320, "{stdout}");
    let frames = report["frames"]["total"].as_u64().unwrap_or(0);
    assert!(frames > 60, "{frames} frames decoded\n{stderr}");
    eprintln!("{}", stderr.trim());
    drop(publisher);
}

#[test]
#[ignore = "needs peers: ffmpeg5, gstreamer, ffmpeg9 and the corpus (../shared/peers)"]
fn gstreamer_and_ffmpeg5_publishers_work_in_mpeg_ts() {
    let _one = lock();
    let (bound, _server) = common::start_server(Config {
        format: SegmentFormat::Ts,
        part_duration: None,
        ..event_config()
    });
    let kinds = ["ffmpeg5", "gst-rtmp2", "gst-librtmp"];
    let publishers: Vec<_> = kinds
        .iter()
        .map(|kind| publish(kind, &bound, kind, &source()))
        .collect();
    for (kind, publisher) in kinds.iter().zip(publishers) {
        let finished = publisher.wait(Duration::from_secs(40));
        assert!(
            finished.status.success(),
            "{kind} publish failed: {}",
            String::from_utf8_lossy(&finished.stderr)
        );
        let text = wait_for(&bound, kind, Duration::from_secs(5), |t| {
            t.contains("#EXT-X-ENDLIST")
        });
        assert!(text.contains("seg0.ts"), "{kind}:\n{text}");
        assert!(
            !text.contains("#EXT-X-MAP"),
            "{kind}: TS has no init segment"
        );
        let segment = common::http_get(bound.http, &format!("/live/{kind}/seg0.ts"));
        assert_eq!(segment.header("content-type"), Some("video/mp2t"));
        assert_eq!(segment.body.first(), Some(&0x47), "{kind}: TS sync byte");
        assert_decodes_like_the_source(&bound, kind, 1);
    }
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn a_second_publisher_is_refused_and_a_republish_continues_after_a_discontinuity() {
    let _one = lock();
    let (bound, server) = common::start_server(event_config());
    let first = publish("ffmpeg9", &bound, "show", &source());
    wait_for(&bound, "show", Duration::from_secs(15), |t| {
        t.contains("seg0.m4s")
    });

    // Another publisher on the live key is refused (FFmpeg exits with an error).
    let second = publish("ffmpeg9", &bound, "show", &source()).wait(Duration::from_secs(20));
    assert!(
        !second.status.success(),
        "a second publisher was accepted: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let stream = server
        .registry
        .as_ref()
        .expect("HLS on")
        .get("live/show")
        .expect("the stream");
    assert!(stream.is_live(), "the first publisher must go on");

    let finished = first.wait(Duration::from_secs(40));
    assert!(finished.status.success());
    let ended = wait_for(&bound, "show", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    let first_segments = ended.matches("#EXTINF").count();

    // The same key again, within the grace period: the playlist goes on.
    let again = publish("ffmpeg9", &bound, "show", &source());
    let resumed = wait_for(&bound, "show", Duration::from_secs(15), |t| {
        !t.contains("#EXT-X-ENDLIST") && t.matches("#EXTINF").count() > first_segments
    });
    assert!(resumed.contains("#EXT-X-DISCONTINUITY"), "{resumed}");
    assert!(resumed.starts_with(&ended[..ended.find("#EXTINF").unwrap_or(0)]));
    let finished = again.wait(Duration::from_secs(40));
    assert!(finished.status.success());
    let text = wait_for(&bound, "show", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).expect("m3u8-rs");
    let discontinuities: Vec<usize> = parsed
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.discontinuity)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(discontinuities, [first_segments], "{text}");
    assert_eq!(parsed.segments[0].uri, "seg0.m4s");
    assert_eq!(
        parsed.segments[first_segments].uri,
        format!("seg{first_segments}.m4s"),
        "media sequence numbers go on"
    );
    let stats: Value = serde_json::from_slice(&common::http_get(bound.http, "/stats").body)
        .expect("/stats is JSON");
    assert_eq!(stats["streams"][0]["publishes"], 2, "{stats}");

    assert_decodes_like_the_source(&bound, "show", 2);
}

/// A one-shot HTTP server answering the publish callback: 200 when the body
/// carries `token=good`, 403 otherwise. Returns its URL; the bodies it got
/// come out of the receiver.
fn callback_server() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for socket in listener.incoming().take(8) {
            let Ok(mut socket) = socket else { continue };
            let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Head, then Content-Length bytes of body.
            let body = loop {
                let Ok(n) = socket.read(&mut buffer) else {
                    break String::new();
                };
                if n == 0 {
                    break String::new();
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break body.to_owned();
                    }
                }
            };
            let status = if body.contains("token=good") {
                "200 OK"
            } else {
                "403 Forbidden"
            };
            let _ = write!(
                socket,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send(body);
        }
    });
    (format!("http://{addr}/on_publish"), rx)
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn the_allow_list_and_the_publish_callback_decide() {
    let _one = lock();
    let (url, bodies) = callback_server();
    let (bound, server) = common::start_server(Config {
        allow: vec!["door".into(), "other".into()],
        on_publish: Some(CallbackUrl::parse(&url).expect("callback URL")),
        ..Config::default()
    });
    // A short file is enough: refused publishes end at once.
    let short = common::scratch("rtmp-to-hls-auth").join("short.flv");
    let status = Command::new(common::ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(source())
        .args(["-t", "1", "-c", "copy", "-y"])
        .arg(&short)
        .status()
        .expect("ffmpeg9");
    assert!(status.success());

    // Not on the allow list: refused before the callback is asked.
    let refused =
        publish("ffmpeg9", &bound, "window?token=good", &short).wait(Duration::from_secs(20));
    assert!(
        !refused.status.success(),
        "a name off the list was accepted"
    );
    // On the list, but the callback says no.
    let refused =
        publish("ffmpeg9", &bound, "door?token=bad", &short).wait(Duration::from_secs(20));
    assert!(!refused.status.success(), "the callback's 403 was ignored");
    let asked = bodies
        .recv_timeout(Duration::from_secs(5))
        .expect("the callback was asked");
    assert!(
        asked.starts_with("call=publish&addr=127.0.0.1&app=live&name=door&type=live&tcurl="),
        "{asked}"
    );
    assert!(asked.ends_with("&token=bad"), "{asked}");
    assert!(server
        .registry
        .as_ref()
        .expect("HLS on")
        .get("live/door")
        .is_none());
    assert!(server
        .registry
        .as_ref()
        .expect("HLS on")
        .get("live/window")
        .is_none());
    // On the list, and the callback says yes.
    let accepted =
        publish("ffmpeg9", &bound, "door?token=good", &short).wait(Duration::from_secs(20));
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let text = wait_for(&bound, "door", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    assert!(text.contains("seg0.m4s"), "{text}");
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn push_forwards_every_payload_upstream_while_packaging() {
    let _one = lock();
    let dir = common::scratch("rtmp-to-hls-push");
    let port = common::free_port();
    let received = dir.join("upstream.flv");
    let listener = common::script(
        "rtmp-listen.sh",
        &[
            "recv",
            &format!("rtmp://127.0.0.1:{port}/up/pushed"),
            received.to_str().expect("utf-8"),
            "40",
        ],
    );
    std::thread::sleep(Duration::from_millis(1000));
    let (bound, _server) = common::start_server(Config {
        push: vec![
            rtmp_core::RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/up")).expect("push URL"),
        ],
        ..event_config()
    });
    let publisher = publish("ffmpeg9", &bound, "pushed", &source()).wait(Duration::from_secs(40));
    assert!(publisher.status.success());
    let text = wait_for(&bound, "pushed", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    assert!(text.contains("seg0.m4s"), "{text}");
    let upstream = listener.wait(Duration::from_secs(20));
    assert!(
        upstream.status.success(),
        "the upstream recorder failed: {}",
        String::from_utf8_lossy(&upstream.stderr)
    );
    assert_eq!(
        common::fingerprint(&received),
        common::fingerprint(&source()),
        "every payload arrives upstream"
    );
}

/// Hands out AES-128 keys while `open` is set.
#[derive(Default)]
struct KeyGate {
    open: std::sync::atomic::AtomicBool,
    asked: std::sync::atomic::AtomicUsize,
}

impl live_ingest::Hooks for KeyGate {
    fn authorize_key<'a>(
        &'a self,
        _attempt: &'a live_ingest::KeyAttempt<'a>,
    ) -> live_ingest::HookFuture<'a> {
        use std::sync::atomic::Ordering::SeqCst;
        self.asked.fetch_add(1, SeqCst);
        let open = self.open.load(SeqCst);
        Box::pin(async move {
            match open {
                true => Ok(()),
                false => Err(live_ingest::Refused::NotAllowed("keys are closed".into())),
            }
        })
    }
}

#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn ffmpeg9_decrypts_the_aes_128_stream_and_fails_without_its_keys() {
    use std::sync::atomic::Ordering::SeqCst;
    let _one = lock();
    let gate = std::sync::Arc::new(KeyGate::default());
    gate.open.store(true, SeqCst);
    let mut config = Config {
        encrypt: Some(live_ingest::Encrypt::Aes128),
        key_rotation: 1,
        ..event_config()
    };
    config.rtmp = "127.0.0.1:0".parse().unwrap();
    config.http = "127.0.0.1:0".parse().unwrap();
    let server = live_ingest::Server::with_hooks(config, gate.clone()).expect("valid");
    let bound = common::start_made_server(server);
    let publisher = publish("ffmpeg9", &bound, "vault", &source());
    let finished = publisher.wait(Duration::from_secs(40));
    assert!(finished.status.success(), "ffmpeg9 publish failed");
    let text = wait_for(&bound, "vault", Duration::from_secs(5), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    let keys = text.matches("#EXT-X-KEY:METHOD=AES-128").count();
    assert!(keys >= 3, "a key per segment:\n{text}");
    // On the wire every segment is ciphertext.
    for line in text.lines().filter(|l| l.ends_with(".m4s")) {
        let body = common::http_get(bound.http, &format!("/live/vault/{line}")).body;
        assert!(
            !body.windows(4).take(64).any(|w| w == b"moof"),
            "{line} is clear"
        );
    }
    // With the keys: every frame as the source's.
    assert_decodes_like_the_source(&bound, "vault", 1);
    let asked = gate.asked.load(SeqCst);
    assert!(
        asked >= keys,
        "FFmpeg fetched {asked} keys through the hook"
    );
    // Without them: FFmpeg decodes no frame of it.
    gate.open.store(false, SeqCst);
    let url = format!("http://{}/live/vault/index.m3u8", bound.http);
    let refused = std::process::Command::new(common::ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i", &url])
        .args(["-map", "0:v?", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    let frames = String::from_utf8_lossy(&refused.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    eprintln!(
        "vault: {keys} keys; with them every frame decodes; without: exit {}, {frames} frames",
        refused.status
    );
    assert_eq!(frames, 0, "decoded without the keys");
}

/// With `--dash`, FFmpeg 9 reads the stream's MPD (one representation per
/// track, cut out of the HLS segments) and decodes exactly the source's
/// frames, video and audio; while the publisher is live the MPD is dynamic.
#[test]
#[ignore = "needs peers: ffmpeg9 and the corpus (../shared/peers)"]
fn ffmpeg9_reads_the_dash_mpd_to_the_source_frames() {
    let _one = lock();
    let (bound, _server) = common::start_server(Config {
        dash: true,
        ..event_config()
    });
    let publisher = publish("ffmpeg9", &bound, "dash", &source());
    let mpd = |bound: &Bound| common::http_get(bound.http, "/live/dash/manifest.mpd");
    wait_for(&bound, "dash", Duration::from_secs(15), |t| {
        t.contains("seg0.m4s")
    });
    let live = mpd(&bound);
    assert_eq!(live.status, 200);
    assert!(live.text().contains(r#"type="dynamic""#), "{}", live.text());
    let published = publisher.wait(Duration::from_secs(30));
    assert!(published.status.success(), "{published:?}");
    wait_for(&bound, "dash", Duration::from_secs(10), |t| {
        t.contains("#EXT-X-ENDLIST")
    });
    let ended = mpd(&bound).text();
    assert!(ended.contains(r#"type="static""#), "{ended}");
    let source = source();
    let (want, want_text) = common::decoded(source.to_str().expect("utf-8"));
    let url = format!("http://{}/live/dash/manifest.mpd", bound.http);
    let (got, got_text) = common::decoded(&url);
    assert_eq!(got.len(), 2, "video and audio\n{got_text}");
    for (index, (got, want)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            got.len(),
            want.len(),
            "stream {index} frame count\nsource:\n{want_text}\ndash:\n{got_text}\n{ended}"
        );
        assert!(got == want, "stream {index}: decoded frames differ");
    }
    eprintln!(
        "DASH: decoded frames per stream {:?} equal the source's",
        got.iter().map(Vec::len).collect::<Vec<_>>()
    );
}
