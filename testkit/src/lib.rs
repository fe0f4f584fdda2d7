//! Helpers for the interop tests that drive the real peers of `../shared/peers/`:
//! where the peers and the corpus are, child processes that die with the test,
//! FFmpeg's packet and decoded-frame lists, and a plain HTTP/1.1 client.

#![allow(missing_docs)]

pub mod fmp4;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `../shared/peers` (or `$PEERS_DIR`).
pub fn peers() -> PathBuf {
    std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"))
}

pub fn ffmpeg9() -> PathBuf {
    std::env::var_os("FFMPEG9")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/peers/bin/ffmpeg9"))
}

/// The FLV corpus of `make-corpus.sh`, made once per test process if missing.
pub fn corpus() -> &'static Path {
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

/// A scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("rtmp-relay-interop").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Runs a server in-process on its own runtime thread: `start` binds it and
/// gives what the test needs to reach it (its addresses); the runtime then
/// serves until the test process ends.
pub fn serve_in_background<T, F>(what: &str, start: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            tx.send(start().await).expect("report the addresses");
            std::future::pending::<()>().await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what} did not start"))
}

/// A child process killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Waits for the process to end, up to `limit` (then kills it).
    pub fn wait(mut self, limit: Duration) -> Output {
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            if start.elapsed() > limit {
                let _ = self.0.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = std::mem::replace(
            &mut self.0,
            Command::new("true").spawn().expect("spawn true"),
        );
        child.wait_with_output().expect("collect output")
    }
}

/// Starts a peers script with its output captured.
pub fn script(name: &str, args: &[&str]) -> Process {
    Process(
        Command::new(peers().join(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}")),
    )
}

/// The payload fingerprint of `../shared/peers/selftest.sh`: sorted (stream type, packet MD5)
/// of every audio and video packet as FFmpeg 9 reads it, timestamps ignored.
pub fn fingerprint(file: &Path) -> String {
    summarize(packets(file))
}

/// The fingerprint of `file` without its last packet (in file order).
pub fn fingerprint_without_last(file: &Path) -> String {
    let mut all = packets(file);
    all.pop();
    summarize(all)
}

fn summarize(mut lines: Vec<String>) -> String {
    lines.sort();
    format!(
        "{} packets, {:x}",
        lines.len(),
        digest(lines.join("\n").as_bytes())
    )
}

/// The packet MD5s of each stream of `input` (a file or a URL), video first when
/// present, in file order, as FFmpeg 9 reads them without decoding.
pub fn packet_lists(input: &str) -> Vec<Vec<String>> {
    let mut lists: Vec<Vec<String>> = Vec::new();
    for line in packets(Path::new(input)) {
        let Some((index, md5)) = line.split_once(' ') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if lists.len() <= index {
            lists.resize(index + 1, Vec::new());
        }
        lists[index].push(md5.to_owned());
    }
    lists
}

/// (stream index, packet MD5) of every audio and video packet, in file order.
fn packets(file: &Path) -> Vec<String> {
    let output = Command::new(ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(file)
        .args([
            "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-",
        ])
        .output()
        .expect("run ffmpeg9");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(',').map(str::trim).collect();
            Some(format!("{} {}", fields.first()?, fields.get(5)?))
        })
        .collect()
}

/// The per-track summary of `flvinfo.py`.
pub fn flvinfo(file: &Path) -> String {
    let output = Command::new("python3")
        .arg(peers().join("flvinfo.py"))
        .arg(file)
        .output()
        .expect("run flvinfo.py");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `--tags` listing of `flvinfo.py`: one line per tag.
pub fn flv_tags(file: &Path) -> Vec<String> {
    let output = Command::new("python3")
        .arg(peers().join("flvinfo.py"))
        .arg(file)
        .arg("--tags")
        .output()
        .expect("run flvinfo.py --tags");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("type="))
        .map(str::to_owned)
        .collect()
}

/// FNV-1a (128-bit) over the sorted per-packet MD5s that FFmpeg computed: enough to
/// compare two lists without another dependency.
fn digest(data: &[u8]) -> u128 {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in data {
        hash ^= u128::from(*byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    hash
}

/// A response of [`http_get`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A plain HTTP/1.1 GET (`Connection: close`), with a 30 s limit.
pub fn http_get(addr: SocketAddr, target: &str) -> HttpResponse {
    http_request(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// Sends `request` (a whole request head, as written) and reads the answer until
/// the server closes, with a 30 s limit.
pub fn http_request(addr: SocketAddr, request: &str) -> HttpResponse {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("connect to the HTTP server");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    socket
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    if response.header("transfer-encoding") == Some("chunked") {
        response.body = dechunk(&response.body);
    }
    response
}

/// The body of a `Transfer-Encoding: chunked` message, as far as it is whole.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&raw[..end]);
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        let start = end + 2;
        if size == 0 || raw.len() < start + size {
            break;
        }
        body.extend_from_slice(&raw[start..start + size]);
        raw = &raw[(start + size + 2).min(raw.len())..];
    }
    body
}

/// The per-stream lists of decoded-frame MD5s FFmpeg 9 gives for `input` (a
/// file or a URL; video first when present), with the text for messages.
/// Every decoded frame as it is: none dropped or repeated for timing, none
/// scaled back to the first frame's size after a resolution change.
pub fn decoded(input: impl AsRef<std::ffi::OsStr>) -> (Vec<Vec<String>>, String) {
    let input = input.as_ref();
    let output = Command::new(ffmpeg9())
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(input)
        .args(["-map", "0:v?", "-map", "0:a?", "-fps_mode", "passthrough"])
        .arg("-noautoscale")
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg9");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "ffmpeg9 failed on {}: {}",
        input.to_string_lossy(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut streams: Vec<Vec<String>> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(index), Some(md5)) = (fields.first(), fields.last()) else {
            continue;
        };
        let index: usize = index.parse().expect("a stream index");
        if streams.len() <= index {
            streams.resize(index + 1, Vec::new());
        }
        streams[index].push((*md5).to_owned());
    }
    (streams, text)
}
