//! `ClientSession` playing from a real server: FFmpeg 9 `-listen` serves a corpus file
//! and what our client receives, written back as FLV, must carry payloads bit-identical
//! to the source (FFmpeg 9's MD5 of every packet). Publishing through `ClientSession` is
//! checked against FFmpeg 9 `-listen` and nginx-rtmp by the relay's `--push` tests.
//!
//! `std::net` and `std::process` only; every wait is bounded and the child is killed
//! when the test ends. Needs `../shared/peers/install.sh`.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, MediaKind, MediaMessage, RtmpUrl};

const FFMPEG9: &str = "/opt/peers/bin/ffmpeg9";
const LIMIT: Duration = Duration::from_secs(40);

fn peers() -> PathBuf {
    std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"))
}

fn corpus_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("PEERS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/corpus"));
    if !dir.join(name).exists() {
        let status = Command::new(peers().join("make-corpus.sh"))
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run make-corpus.sh");
        assert!(status.success(), "make-corpus.sh failed");
    }
    dir.join(name)
}

/// Sorted (stream, packet MD5) of every audio/video packet FFmpeg 9 reads from `file`.
fn packet_hashes(file: &Path) -> Vec<String> {
    let output = Command::new(FFMPEG9)
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(file)
        .args([
            "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-",
        ])
        .output()
        .expect("run ffmpeg9");
    let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(',').map(str::trim).collect();
            Some(format!("{} {}", fields.first()?, fields.get(5)?))
        })
        .collect();
    lines.sort();
    lines
}

/// The smallest FLV a reader accepts: header, then one tag per message.
struct FlvFile(BytesMut);

impl FlvFile {
    fn new() -> FlvFile {
        let mut out = BytesMut::new();
        out.put_slice(b"FLV\x01\x05\x00\x00\x00\x09");
        out.put_u32(0);
        FlvFile(out)
    }

    fn push(&mut self, message: &MediaMessage) {
        let tag_type = match message.kind {
            MediaKind::Audio => 8,
            MediaKind::Video => 9,
            MediaKind::Data => 18,
        };
        let size = message.payload.len() as u32;
        let ts = message.timestamp as u32;
        self.0.put_u8(tag_type);
        self.0.put_uint(u64::from(size), 3);
        self.0.put_uint(u64::from(ts & 0xFF_FFFF), 3);
        self.0.put_u8((ts >> 24) as u8);
        self.0.put_uint(0, 3);
        self.0.put_slice(&message.payload);
        self.0.put_u32(size + 11);
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn connect(port: u16, deadline: Instant) -> TcpStream {
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => panic!("ffmpeg9 -listen did not open port {port}: {error}"),
        }
    }
}

#[test]
#[ignore = "needs peers: ../shared/peers/install.sh (ffmpeg9)"]
fn client_session_plays_from_ffmpeg_listen_bit_identically() {
    let source = corpus_file("a_h264high_bf_aac.flv");
    let port = free_port();
    let url = RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/live/t")).unwrap();
    let _server = Killed(
        Command::new(peers().join("rtmp-listen.sh"))
            .args(["send", &url.to_string()])
            .arg(&source)
            .arg("40")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rtmp-listen.sh"),
    );
    let start = Instant::now();
    let mut socket = connect(port, start + Duration::from_secs(10));
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();

    let mut client = ClientSession::new(ClientConfig::new(&url.app, url.tc_url()), Instant::now());
    client.play(&url.key);
    let mut flv = FlvFile::new();
    let (mut input, mut buffer) = (BytesMut::new(), vec![0u8; 64 * 1024]);
    let (mut started, mut media) = (false, 0usize);
    while start.elapsed() < LIMIT {
        let mut out = BytesMut::new();
        client.output().copy_to(&mut out);
        socket.write_all(&out).expect("write to ffmpeg");
        match socket.read(&mut buffer) {
            Ok(0) => break, // ffmpeg closes after the last tag
            Ok(n) => input.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e}"),
        }
        client
            .handle_input(&mut input, Instant::now())
            .expect("valid RTMP from ffmpeg");
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::PlayStarted { .. } => started = true,
                ClientEvent::Media(message) => {
                    media += usize::from(message.kind != MediaKind::Data);
                    flv.push(&message);
                }
                _ => {}
            }
        }
    }
    assert!(started, "no NetStream.Play.Start within {LIMIT:?}");
    let received = std::env::temp_dir().join(format!("client-play-{port}.flv"));
    std::fs::write(&received, &flv.0).unwrap();
    let (got, want) = (packet_hashes(&received), packet_hashes(&source));
    assert_eq!(got.len(), want.len(), "{media} media messages received");
    assert!(got == want, "payloads differ from the source");
}
