//! The `live-ingest` program killed (SIGKILL) at random moments while it
//! writes `--out` and `--record`: every file under a final name must be whole
//! (playlists parse, fMP4 files are whole boxes, TS files whole packets), and
//! each recording, cut at its last whole tag, must read as FLV (and, when
//! ffprobe is installed, be accepted by it).
//!
//! `cargo test -p live-ingest --test killed -- --ignored --nocapture`
//! (`KILLS=50 KILL_SEED=7` to change the runs).

mod client;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::{Client, LIMIT};

/// A port free a moment ago (the program needs a number, not port 0).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("its address")
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Starts the program; waits until its RTMP port answers.
async fn run_server(dir: &Path, ts: bool) -> (std::process::Child, SocketAddr) {
    let (rtmp, http) = (free_port(), free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_live-ingest"));
    command
        .arg("--rtmp")
        .arg(rtmp.to_string())
        .arg("--http")
        .arg(http.to_string())
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--record")
        .arg(dir.join("record"))
        .args([
            "--target-duration",
            "1",
            "--window",
            "0",
            "--read-pacing",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if ts {
        command.args(["--format", "ts", "--part-duration", "0"]);
    }
    let child = command.spawn().expect("run live-ingest");
    let deadline = Instant::now() + LIMIT;
    while tokio::net::TcpStream::connect(rtmp).await.is_err() {
        assert!(Instant::now() < deadline, "live-ingest does not listen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, rtmp)
}

/// Whether `bytes` are whole ISO BMFF boxes, end to end.
fn whole_boxes(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(size) = bytes.get(at..at + 4) else {
            return false;
        };
        let size = match u32::from_be_bytes(size.try_into().unwrap()) {
            1 => match bytes.get(at + 8..at + 16) {
                Some(large) => u64::from_be_bytes(large.try_into().unwrap()) as usize,
                None => return false,
            },
            0 => bytes.len() - at,
            size => size as usize,
        };
        if size < 8 {
            return false;
        }
        at = at.saturating_add(size);
    }
    at == bytes.len()
}

/// Checks every file under a final name below `dir`; the numbers of files
/// checked and of temporaries (`.NAME.tmp`, left by a kill mid-write: never
/// served, and proof that a kill landed inside a write).
fn check_out(dir: &Path) -> (usize, usize) {
    let (mut checked, mut temporaries) = (0, 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let (c, t) = check_out(&path);
            (checked, temporaries) = (checked + c, temporaries + t);
            continue;
        }
        if name.starts_with('.') && name.ends_with(".tmp") {
            temporaries += 1;
            continue;
        }
        let bytes = std::fs::read(&path).expect("readable");
        let whole = match path.extension().and_then(|e| e.to_str()) {
            Some("m3u8") => listed_files_exist(&path, &bytes),
            Some("mp4" | "m4s") => whole_boxes(&bytes),
            Some("ts") => bytes.len() % 188 == 0 && bytes.chunks(188).all(|p| p[0] == 0x47),
            _ => false,
        };
        assert!(
            whole,
            "{} is not whole ({} bytes)",
            path.display(),
            bytes.len()
        );
        checked += 1;
    }
    (checked, temporaries)
}

/// Whether the playlist at `path` parses and every segment, part and init
/// segment it names is on disk beside it (written before the playlist).
fn listed_files_exist(path: &Path, bytes: &[u8]) -> bool {
    let Ok(playlist) = m3u8_rs::parse_media_playlist_res(bytes) else {
        return false;
    };
    let dir = path.parent().expect("a directory");
    let text = String::from_utf8_lossy(bytes);
    // Parts and init segments; not the preload hint, which names the part to come.
    let quoted = text
        .lines()
        .filter(|l| l.starts_with("#EXT-X-PART:") || l.starts_with("#EXT-X-MAP:"))
        .filter_map(|l| l.split("URI=\"").nth(1)?.split('"').next());
    let segments = playlist.segments.iter().map(|s| s.uri.as_str());
    let mut missing = segments.chain(quoted).filter(|uri| !dir.join(uri).exists());
    match missing.next() {
        Some(uri) => panic!("{} names {uri}, which is not there", path.display()),
        None => true,
    }
}

/// The length of `bytes` up to the end of its last whole FLV tag.
fn whole_tags(bytes: &[u8]) -> usize {
    // The 9-byte header and the first previous-tag size.
    let mut end = 13;
    if bytes.len() < end {
        return 0;
    }
    while let Some(header) = bytes.get(end..end + 11) {
        let size = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let next = end + 11 + size + 4;
        if next > bytes.len() {
            break;
        }
        end = next;
    }
    end
}

/// Reads every recording below `dir`, cut at its last whole tag; returns the
/// cut copies (for ffprobe) and the tags read.
fn check_recordings(dir: &Path, scratch: &Path) -> (Vec<PathBuf>, usize) {
    let (mut cuts, mut tags) = (Vec::new(), 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let bytes = std::fs::read(&path).expect("readable");
        let whole = &bytes[..whole_tags(&bytes)];
        if whole.is_empty() {
            continue; // killed before the first write
        }
        let mut reader = flv::Reader::new(flv::ReaderOptions::default());
        reader.push(whole);
        reader.finish();
        loop {
            match reader.next_event() {
                Ok(Some(flv::ReadEvent::Tag(_))) => tags += 1,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => panic!("{}: {error}", path.display()),
            }
        }
        let cut = scratch.join(entry.file_name());
        std::fs::write(&cut, whole).expect("write the cut copy");
        cuts.push(cut);
    }
    (cuts, tags)
}

/// ffprobe's verdict on `file`, or `None` without ffprobe.
fn ffprobe(file: &Path) -> Option<bool> {
    let status = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    Some(status.success())
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs the live-ingest program and kills it 20 times (about half a minute)"]
async fn killed_mid_write_leaves_only_whole_files() {
    let kills = env_number("KILLS", 20);
    let mut seed = env_number("KILL_SEED", 0x5EED) | 1;
    let dir = std::env::temp_dir().join(format!("live-ingest-killed-{}", std::process::id()));
    let scratch = dir.join("cut");
    std::fs::create_dir_all(&scratch).expect("the scratch directory");
    for run in 0..kills {
        let ts = run % 2 == 1;
        let (mut child, rtmp) = run_server(&dir, ts).await;
        let key = format!("k{run}");
        let mut publisher = Client::publish(rtmp, &key).await.expect("publish");
        // Paced so that segments and recording writes happen all along.
        let sending = tokio::spawn(async move {
            loop {
                publisher.send_loops(1).await;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        });
        let wait = Duration::from_millis(100 + xorshift(&mut seed) % 1400);
        tokio::time::sleep(wait).await;
        sending.abort();
        child.kill().expect("kill -9");
        child.wait().expect("reaped");
        let (files, temporaries) = check_out(&dir.join("out"));
        eprintln!(
            "run {run} ({}): killed after {wait:?}; {files} files whole so far, {temporaries} temporaries",
            if ts { "ts" } else { "fmp4" }
        );
    }
    let (cuts, tags) = check_recordings(&dir.join("record/live"), &scratch);
    eprintln!(
        "{} recordings read ({tags} tags) after their last whole tag",
        cuts.len()
    );
    assert!(!cuts.is_empty(), "no recording was written");
    let verdicts: Vec<_> = cuts.iter().map(|c| (c, ffprobe(c))).collect();
    let accepted = verdicts.iter().filter(|(_, v)| *v == Some(true)).count();
    eprintln!(
        "ffprobe accepted {accepted} of {} (none checked without ffprobe)",
        cuts.len()
    );
    let refused: Vec<_> = verdicts.iter().filter(|(_, v)| *v == Some(false)).collect();
    assert!(refused.is_empty(), "ffprobe refuses {refused:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_checks_see_a_cut() {
    let boxes = [
        &[0, 0, 0, 8][..],
        b"free",
        &[0, 0, 0, 9][..],
        b"mdat",
        &[7][..],
    ]
    .concat();
    assert!(whole_boxes(&boxes));
    assert!(!whole_boxes(&boxes[..boxes.len() - 1]));
    assert!(!whole_boxes(&[0, 0, 0, 4, 0, 0, 0, 0]));
    // Header, a 2-byte tag with its previous-tag size, then half a tag.
    let mut flv = b"FLV\x01\x05\0\0\0\x09\0\0\0\0".to_vec();
    flv.extend_from_slice(&[9, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0, 0, 0, 13]);
    let whole = flv.len();
    flv.extend_from_slice(&[9, 0, 0, 9, 0]);
    assert_eq!(whole_tags(&flv), whole);
    assert_eq!(whole_tags(&flv[..5]), 0);
}
