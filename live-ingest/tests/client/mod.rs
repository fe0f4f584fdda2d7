//! Our own RTMP client for the in-process tests: `rtmp_core::ClientSession` over
//! any byte stream (a `TcpStream`, or a TLS stream over one for RTMPS), sending
//! a real 1.5 s H.264 + AAC capture (FFmpeg's) in a loop with its timestamps
//! continued.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, MediaKind, MediaMessage};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connection the client can run over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

pub const FIXTURE: &[u8] = include_bytes!("../../../rtmp-core/tests/data/src_h264_aac.flv");
/// Each loop is shifted by this much: the fixture is 1.5 s long, and its last
/// B-frames are presented up to ~0.1 s after it, so the next loop starts after them.
pub const LOOP_MS: u64 = 1600;
pub const LIMIT: Duration = Duration::from_secs(10);

/// (kind, timestamp, payload) of every tag of the fixture.
pub fn fixture_tags() -> Vec<(MediaKind, u64, Bytes)> {
    let mut reader = flv::Reader::new(flv::ReaderOptions::default());
    reader.push(FIXTURE);
    reader.finish();
    let mut tags = Vec::new();
    while let Some(event) = reader.next_event().expect("a valid FLV") {
        let flv::ReadEvent::Tag(tag) = event else {
            continue;
        };
        let kind = match tag.tag_type {
            flv::TagType::Audio => MediaKind::Audio,
            flv::TagType::Video => MediaKind::Video,
            _ => continue,
        };
        tags.push((kind, tag.timestamp as u64, tag.body));
    }
    tags
}

/// An AVC or AAC sequence header, or an AVC end of sequence.
pub fn is_header_or_end(payload: &[u8]) -> bool {
    payload.get(1) == Some(&0) || is_end(payload)
}

pub fn is_end(payload: &[u8]) -> bool {
    payload.starts_with(&[0x17, 2])
}

/// One RTMP client connection driven by `ClientSession`.
pub struct Client {
    pub session: ClientSession,
    socket: Box<dyn Stream>,
    input: BytesMut,
    pub media: Vec<MediaMessage>,
    /// Loops of the fixture sent so far (the next one's timestamps follow on).
    loops: u64,
}

impl Client {
    pub async fn open(addr: SocketAddr, setup: impl FnOnce(&mut ClientSession)) -> Client {
        let socket = TcpStream::connect(addr).await.expect("connect");
        Client::over(Box::new(socket), &format!("rtmp://{addr}/live"), setup)
    }

    /// A client over `socket`, already connected, to the app `live` of `tc_url`.
    pub fn over(
        socket: Box<dyn Stream>,
        tc_url: &str,
        setup: impl FnOnce(&mut ClientSession),
    ) -> Client {
        let config = ClientConfig::new("live", tc_url);
        let mut session = ClientSession::new(config, Instant::now());
        setup(&mut session);
        Client {
            session,
            socket,
            input: BytesMut::with_capacity(64 * 1024),
            media: Vec::new(),
            loops: 0,
        }
    }

    /// Publishes `name`: `Ok` once started, `Err(code)` when refused.
    pub async fn publish(addr: SocketAddr, name: &str) -> Result<Client, String> {
        let mut client = Client::open(addr, |s| s.publish(name, "live")).await;
        client.until_started().await.map(|()| client)
    }

    pub async fn play(addr: SocketAddr, name: &str) -> Result<Client, String> {
        let mut client = Client::open(addr, |s| s.play(name)).await;
        client.until_started().await.map(|()| client)
    }

    /// Does the handshake and `connect` only, then hands the raw socket over
    /// (for a test that goes on with bytes of its own).
    pub async fn connected_socket(addr: SocketAddr) -> Box<dyn Stream> {
        let mut client = Client::open(addr, |_| {}).await;
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            let events = client.step(Duration::from_millis(100)).await;
            if events
                .iter()
                .any(|e| matches!(e, ClientEvent::Connected { .. }))
            {
                client.flush().await;
                return client.socket;
            }
        }
        panic!("no answer to connect");
    }

    pub async fn until_started(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            for event in self.step(Duration::from_millis(200)).await {
                match event {
                    ClientEvent::PublishStarted { .. } | ClientEvent::PlayStarted { .. } => {
                        return Ok(())
                    }
                    ClientEvent::Status { status, .. } if status.is_error() => {
                        return Err(format!("{}: {}", status.code, status.description))
                    }
                    ClientEvent::ConnectFailed(status) => return Err(status.code),
                    _ => {}
                }
            }
        }
        Err("no answer".into())
    }

    /// Writes what is queued, reads for at most `wait`, returns the events.
    pub async fn step(&mut self, wait: Duration) -> Vec<ClientEvent> {
        self.flush().await;
        if let Ok(read) = tokio::time::timeout(wait, self.socket.read_buf(&mut self.input)).await {
            if read.expect("read") == 0 {
                return Vec::new();
            }
            self.session
                .handle_input(&mut self.input, Instant::now())
                .expect("a valid server");
        }
        let mut events = Vec::new();
        while let Some(event) = self.session.poll_event() {
            match event {
                ClientEvent::Media(message) => self.media.push(message),
                other => events.push(other),
            }
        }
        self.flush().await;
        events
    }

    pub async fn flush(&mut self) {
        let mut out = BytesMut::new();
        self.session.output().copy_to(&mut out);
        self.socket.write_all(&out).await.expect("write");
    }

    /// Sends the fixture `loops` times, timestamps continued, as fast as the socket
    /// takes it: one continuous stream, so the sequence headers and the end of
    /// sequence are sent once.
    pub async fn send_loops(&mut self, loops: u64) {
        self.send_loops_mapped(loops, |_, payload| payload.clone())
            .await;
    }

    /// [`send_loops`](Client::send_loops), each payload passed through `map`.
    pub async fn send_loops_mapped(
        &mut self,
        loops: u64,
        map: impl Fn(MediaKind, &Bytes) -> Bytes,
    ) {
        self.send_loops_with(loops, |kind, payload| vec![map(kind, payload)])
            .await;
    }

    /// [`send_loops`](Client::send_loops), each payload sent as the messages
    /// `map` makes of it (at its timestamp).
    pub async fn send_loops_with(
        &mut self,
        loops: u64,
        map: impl Fn(MediaKind, &Bytes) -> Vec<Bytes>,
    ) {
        let tags = fixture_tags();
        for n in self.loops..self.loops + loops {
            let body = tags.iter().filter(|(_, _, p)| !is_header_or_end(p));
            let tags: Vec<_> = match n {
                0 => tags.iter().filter(|(_, _, p)| !is_end(p)).collect(),
                _ => body.collect(),
            };
            for (kind, timestamp, payload) in tags {
                for payload in map(*kind, payload) {
                    self.session
                        .send_media(*kind, timestamp + n * LOOP_MS, payload);
                }
            }
            self.flush().await;
        }
        self.loops += loops;
    }

    /// Reads until `count` media messages came or nothing more comes for a while.
    pub async fn collect(&mut self, count: usize) {
        let deadline = Instant::now() + LIMIT;
        while self.media.len() < count && Instant::now() < deadline {
            self.step(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(mut self) {
        self.session.close();
        self.flush().await;
        let _ = self.socket.shutdown().await;
    }
}

/// A plain HTTP GET from a blocking thread (the server runs on this runtime).
pub fn get(
    addr: SocketAddr,
    target: &str,
) -> impl std::future::Future<Output = testkit::HttpResponse> + Send + 'static {
    let target = target.to_owned();
    async move {
        tokio::task::spawn_blocking(move || testkit::http_get(addr, &target))
            .await
            .expect("the request thread")
    }
}

/// Polls the playlist of `key` (in `live`) at `http` until `done` holds.
pub async fn playlist_until(http: SocketAddr, key: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        let response = get(http, &format!("/live/{key}/index.m3u8")).await;
        let text = response.text();
        if response.status == 200 && done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{key}: {}\n{text}",
            response.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
