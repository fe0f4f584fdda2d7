//! Faults against the server in-process, all on 127.0.0.1 and bounded in time:
//! a publisher whose network vanishes without a FIN (a blackholing TCP proxy
//! between it and the server), an `on_publish` endpoint that accepts and never
//! answers, and hostile RTMP peers beside a normal stream.

mod client;
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use client::{fixture_tags, get, is_end, is_header_or_end, Client, LIMIT};
use live_ingest::auth::{CallbackUrl, CALLBACK_TIMEOUT};
use live_ingest::{Bound, Config, Event, Hooks, Server};
use rtmp_core::{MediaKind, MediaMessage};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

fn config() -> Config {
    Config {
        rtmp: "127.0.0.1:0".parse().unwrap(),
        http: "127.0.0.1:0".parse().unwrap(),
        target_duration: 1.0,
        part_duration: Some(0.25),
        window: 0,
        read_pacing: Duration::ZERO,
        ..Config::default()
    }
}

/// Hears the hooks' events and wakes whoever waits for one.
#[derive(Default)]
struct Events {
    seen: Mutex<Vec<(Instant, Event)>>,
    changed: Notify,
}

impl Hooks for Events {
    fn on_event(&self, event: &Event) {
        self.seen
            .lock()
            .unwrap()
            .push((Instant::now(), event.clone()));
        self.changed.notify_waiters();
    }
}

impl Events {
    /// When the first event that `wanted` picks happened; fails after `limit`.
    async fn wait(&self, limit: Duration, wanted: impl Fn(&Event) -> bool) -> Instant {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            let found = self
                .seen
                .lock()
                .unwrap()
                .iter()
                .find(|(_, e)| wanted(e))
                .map(|(at, _)| *at);
            if let Some(at) = found {
                return at;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let seen = format!("{:?}", self.seen.lock().unwrap());
            assert!(!left.is_zero(), "not heard in {limit:?}: {seen}");
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

async fn start(config: Config) -> (Bound, Arc<Server>, Arc<Events>) {
    let events = Arc::new(Events::default());
    let server = Server::with_hooks(config, events.clone()).expect("valid");
    let bound = live_ingest::start(server.clone()).await.expect("bind");
    (bound, server, events)
}

/// [`client::playlist_until`] on the server's HTTP address.
async fn playlist_until(bound: &Bound, key: &str, done: impl Fn(&str) -> bool) -> String {
    client::playlist_until(bound.http, key, done).await
}

// ---------------------------------------------------------------------------
// Vanishing peers

/// A TCP proxy to `target`; sending `true` on the returned channel blackholes
/// every connection in both directions: nothing more is forwarded, nothing is
/// read, and the sockets stay open (no FIN, no RST), as when a network vanishes.
async fn blackhole_proxy(target: SocketAddr) -> (SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let addr = listener.local_addr().expect("the proxy's address");
    let (cut, cut_rx) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = TcpStream::connect(target).await else {
                continue;
            };
            let (in_read, in_write) = inbound.into_split();
            let (out_read, out_write) = outbound.into_split();
            tokio::spawn(pump(in_read, out_write, cut_rx.clone()));
            tokio::spawn(pump(out_read, in_write, cut_rx.clone()));
        }
    });
    (addr, cut)
}

/// Forwards `from` to `to` until cut, then holds both open and idle for good.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut cut: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = from.read(&mut buffer) => {
                let Ok(n @ 1..) = read else { return };
                if *cut.borrow() || to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
            changed = cut.changed() => {
                if changed.is_err() || *cut.borrow() {
                    break;
                }
            }
        }
    }
    // The sockets live (unread, unwritten) until the test's runtime ends.
    std::future::pending::<()>().await;
    drop((from, to));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_publisher_is_timed_out_into_grace_and_a_new_one_continues() {
    let idle = Duration::from_secs(1);
    let (bound, _server, events) = start(Config {
        idle_timeout: idle,
        ..config()
    })
    .await;
    let (proxy, cut) = blackhole_proxy(bound.rtmp).await;
    let mut publisher = Client::publish(proxy, "gone").await.expect("publish");
    publisher.send_loops(2).await;
    playlist_until(&bound, "gone", |t| t.contains("#EXTINF")).await;
    let vanished = Instant::now();
    cut.send(true).expect("the proxy listens");
    // The publisher keeps its socket open and even goes on sending: nothing arrives.
    publisher.send_loops(1).await;
    let ended = events
        .wait(
            idle * 5,
            |e| matches!(e, Event::PublishEnded { key } if key == "live/gone"),
        )
        .await;
    let detection = ended - vanished;
    eprintln!("a blackholed publisher was detected after {detection:?} (idle_timeout {idle:?})");
    // The clock starts at the last byte that arrived, a little before the cut.
    let early = Duration::from_millis(200);
    assert!(
        detection >= idle - early,
        "ended before the idle timeout: {detection:?}"
    );
    assert!(detection < idle * 3, "detected late: {detection:?}");
    // Grace: the playlist is ended, not gone.
    let ended = playlist_until(&bound, "gone", |t| t.contains("#EXT-X-ENDLIST")).await;
    let segments = ended.matches("#EXTINF").count();
    let mut again = Client::publish(bound.rtmp, "gone")
        .await
        .expect("republish");
    events
        .wait(
            LIMIT,
            |e| matches!(e, Event::PublishStarted { key, resumed: true, .. } if key == "live/gone"),
        )
        .await;
    again.send_loops(2).await;
    let text = playlist_until(&bound, "gone", |t| {
        t.matches("#EXTINF").count() >= segments + 2 && !t.contains("#EXT-X-ENDLIST")
    })
    .await;
    // The same playlist goes on: every segment listed before is still there, first.
    let segments_of = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("seg"))
            .map(str::to_owned)
            .collect()
    };
    let (before, after) = (segments_of(&ended), segments_of(&text));
    assert!(
        after.starts_with(&before),
        "the playlist goes on:\n{ended}\n{text}"
    );
    assert!(text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");
    again.close().await;
    drop(publisher);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_player_is_cut_off_even_with_its_socket_full() {
    let idle = Duration::from_secs(1);
    let (bound, _server, events) = start(Config {
        idle_timeout: idle,
        ..config()
    })
    .await;
    let (proxy, cut) = blackhole_proxy(bound.rtmp).await;
    let mut player = Client::play(proxy, "away").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "away").await.expect("publish");
    publisher.send_loops(1).await;
    player.collect(10).await;
    assert!(
        player.media.len() >= 10,
        "the player got {}",
        player.media.len()
    );
    cut.send(true).expect("the proxy listens");
    let vanished = Instant::now();
    // Far more than the socket buffers between the server and the proxy hold,
    // so the server's writes to this player stall (the proxy never reads).
    for _ in 0..20 {
        publisher.send_loops(40).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended = events
        .wait(
            idle * 5,
            |e| matches!(e, Event::PlayEnded { key } if key == "live/away"),
        )
        .await;
    let detection = ended - vanished;
    eprintln!("a blackholed player was cut off after {detection:?} (idle_timeout {idle:?})");
    assert!(detection < idle * 3, "cut off late: {detection:?}");
    publisher.close().await;
    drop(player);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_http_flv_reader_is_let_go() {
    let idle = Duration::from_secs(1);
    let (bound, _server, events) = start(Config {
        idle_timeout: idle,
        ..config()
    })
    .await;
    let mut publisher = Client::publish(bound.rtmp, "flvaway")
        .await
        .expect("publish");
    publisher.send_loops(1).await;
    let (proxy, cut) = blackhole_proxy(bound.http).await;
    let mut reader = TcpStream::connect(proxy).await.expect("connect");
    let request = "GET /live/flvaway.flv HTTP/1.1\r\nhost: test\r\n\r\n";
    reader.write_all(request.as_bytes()).await.expect("ask");
    let mut first = [0u8; 1024];
    let read = tokio::time::timeout(LIMIT, reader.read(&mut first)).await;
    assert!(matches!(read, Ok(Ok(1..))), "no answer: {read:?}");
    events
        .wait(
            LIMIT,
            |e| matches!(e, Event::PlayStarted { key, .. } if key == "live/flvaway"),
        )
        .await;
    cut.send(true).expect("the proxy listens");
    let vanished = Instant::now();
    for _ in 0..20 {
        publisher.send_loops(40).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended = events
        .wait(
            idle * 5,
            |e| matches!(e, Event::PlayEnded { key } if key == "live/flvaway"),
        )
        .await;
    let detection = ended - vanished;
    eprintln!("a blackholed HTTP-FLV reader was let go after {detection:?}");
    assert_eq!(metric(&bound, "live_ingest_http_flv_readers").await, 0);
    publisher.close().await;
    drop(reader);
}

/// An `on_publish` endpoint: answers 204 at once, except for the stream
/// `stuck`, whose request it reads and then never answers (the connection
/// stays open). Sends on the channel each time a `stuck` request is held.
async fn hanging_callback() -> (String, tokio::sync::mpsc::UnboundedReceiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the callback");
    let addr = listener.local_addr().expect("its address");
    let (held, held_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let held = held.clone();
            tokio::spawn(async move {
                let request = read_request(&mut socket).await;
                if request.contains("name=stuck") {
                    let _ = held.send(Instant::now());
                    std::future::pending::<()>().await;
                }
                let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/on_publish"), held_rx)
}

/// Reads one small HTTP request (head and form body), at most 64 KiB.
async fn read_request(socket: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while bytes.len() < 64 * 1024 {
        match tokio::time::timeout(LIMIT, socket.read(&mut buffer)).await {
            Ok(Ok(n @ 1..)) => bytes.extend_from_slice(&buffer[..n]),
            _ => break,
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_publish_callback_refuses_in_time_and_delays_no_one_else() {
    let (url, mut held) = hanging_callback().await;
    let timeout = Duration::from_millis(1500);
    let (bound, _server, _events) = start(Config {
        on_publish: Some(CallbackUrl::parse(&url).expect("callback URL")),
        callback_timeout: timeout,
        ..config()
    })
    .await;
    let asked = Instant::now();
    let stuck = tokio::spawn(Client::publish(bound.rtmp, "stuck"));
    tokio::time::timeout(LIMIT, held.recv())
        .await
        .expect("the callback is asked")
        .expect("held");
    // While that publish waits on the callback, another key goes live at once.
    let other = Instant::now();
    let mut fine = Client::publish(bound.rtmp, "fine").await.expect("publish");
    let other = other.elapsed();
    eprintln!(
        "another publisher started in {other:?} beside a hung callback (timeout {timeout:?})"
    );
    assert!(
        other < timeout / 5,
        "delayed by the hung callback: {other:?}"
    );
    let refused = tokio::time::timeout(LIMIT, stuck)
        .await
        .expect("refused within the limit")
        .expect("the publishing task")
        .err()
        .unwrap_or_default();
    let took = asked.elapsed();
    eprintln!("the hung callback's publish was refused after {took:?}: {refused}");
    assert!(refused.contains("did not answer in time"), "{refused}");
    assert!(took >= timeout && took < timeout * 2, "{took:?}");
    fine.send_loops(1).await;
    fine.close().await;
}

#[test]
fn callback_timeout_is_checked() {
    for bad in [Duration::ZERO, Duration::from_secs(61)] {
        let config = Config {
            callback_timeout: bad,
            ..Config::default()
        };
        let error = config.check().expect_err("refused").to_string();
        assert!(error.contains("callback_timeout"), "{error}");
    }
    assert_eq!(Config::default().callback_timeout, CALLBACK_TIMEOUT);
}

// ---------------------------------------------------------------------------
// Hostile RTMP beside a normal stream

/// A basic header for `csid` with chunk type `fmt` (1, 2 or 3 bytes).
fn basic_header(fmt: u8, csid: u32) -> Vec<u8> {
    match csid {
        2..=63 => vec![fmt << 6 | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => {
            let [lo, hi] = ((csid - 64) as u16).to_le_bytes();
            vec![fmt << 6 | 1, lo, hi]
        }
    }
}

/// A type-0 chunk header: timestamp 0, `length`, `type_id`, message stream 1.
fn fmt0_header(csid: u32, length: u32, type_id: u8) -> Vec<u8> {
    let mut header = basic_header(0, csid);
    header.extend_from_slice(&[0, 0, 0]);
    header.extend_from_slice(&length.to_be_bytes()[1..]);
    header.push(type_id);
    header.extend_from_slice(&1u32.to_le_bytes());
    header
}

/// A Set Chunk Size message (protocol control, chunk stream 2, message stream 0).
fn set_chunk_size(size: u32) -> Vec<u8> {
    let mut bytes = vec![0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0];
    bytes.extend_from_slice(&size.to_be_bytes());
    bytes
}

/// What a hostile connection sends.
enum Feed {
    /// These bytes, then silence with the socket open.
    Once(Vec<u8>),
    /// Random bytes (xorshift from this seed) as fast as the server takes them.
    Garbage(u64),
    /// These bytes one at a time, one each period.
    Slow(Vec<u8>, Duration),
}

async fn write_feed(mut socket: impl AsyncWrite + Unpin, feed: Feed) {
    match feed {
        Feed::Once(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Feed::Garbage(mut state) => {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                for byte in buffer.iter_mut() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *byte = state as u8;
                }
                if socket.write_all(&buffer).await.is_err() {
                    break;
                }
            }
        }
        Feed::Slow(bytes, period) => {
            for byte in bytes {
                if socket.write_all(&[byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(period).await;
            }
        }
    }
    // Silence, socket open: only the server may end this.
    std::future::pending::<()>().await;
    drop(socket);
}

/// Feeds `socket` and returns how long the server took to close it.
async fn attack(socket: Box<dyn client::Stream>, feed: Feed) -> Duration {
    let start = Instant::now();
    let (mut read, write) = tokio::io::split(socket);
    let writer = tokio::spawn(write_feed(write, feed));
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(1..) = read.read(&mut buffer).await {}
    writer.abort();
    start.elapsed()
}

/// This process's resident memory (the server runs in it), bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// The A/V payloads a player that joined before the publisher gets for `loops` loops.
fn sent_payloads(loops: u64) -> Vec<(MediaKind, Bytes)> {
    let tags = fixture_tags();
    (0..loops)
        .flat_map(|n| {
            tags.iter()
                .filter(move |(_, _, p)| !is_end(p) && (n == 0 || !is_header_or_end(p)))
                .map(|(k, _, p)| (*k, p.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn payloads(messages: &[MediaMessage]) -> Vec<(MediaKind, Bytes)> {
    messages
        .iter()
        .filter(|m| m.kind != MediaKind::Data)
        .map(|m| (m.kind, m.payload.clone()))
        .collect()
}

/// The attacks, by name: each is opened (raw, or after handshake and `connect`)
/// when the test starts it.
async fn hostile(addr: SocketAddr, name: &'static str) -> (Box<dyn client::Stream>, Feed) {
    let raw = || async { Box::new(TcpStream::connect(addr).await.expect("connect")) };
    match name {
        "giant message length" => {
            let mut bytes = fmt0_header(6, 0xFF_FFFF, 9);
            bytes.extend_from_slice(&[0u8; 128]);
            (Client::connected_socket(addr).await, Feed::Once(bytes))
        }
        "huge chunk size, 6 MiB of a message, then silence" => {
            let mut bytes = set_chunk_size(0x7FFF_FFFF);
            bytes.extend(fmt0_header(6, (8 << 20) - 1, 9));
            bytes.resize(bytes.len() + (6 << 20), 0x55);
            (Client::connected_socket(addr).await, Feed::Once(bytes))
        }
        "every chunk stream opened" => {
            let mut bytes = set_chunk_size(128);
            for csid in 3..=65_599u32 {
                bytes.extend(fmt0_header(csid, 200, 9));
                bytes.extend_from_slice(&[1u8; 128]);
            }
            (Client::connected_socket(addr).await, Feed::Once(bytes))
        }
        "endless handshake garbage" => (raw().await, Feed::Garbage(0x9E37_79B9_7F4A_7C15)),
        _ => {
            // Slowloris: C0 and a C1 one byte each 50 ms, never finished in time.
            let mut bytes = vec![3u8];
            bytes.resize(1537, 7);
            (raw().await, Feed::Slow(bytes, Duration::from_millis(50)))
        }
    }
}

/// Starts every attack on its own task; each ends with how long the server
/// took to close it, or fails if it is still open after `bound`.
fn launch_attacks(
    addr: SocketAddr,
    bound: Duration,
) -> Vec<tokio::task::JoinHandle<(&'static str, Duration)>> {
    let launch = |name: &'static str| {
        tokio::spawn(async move {
            let (socket, feed) = hostile(addr, name).await;
            let closed = tokio::time::timeout(bound, attack(socket, feed)).await;
            (
                name,
                closed.unwrap_or_else(|_| panic!("{name}: still open after {bound:?}")),
            )
        })
    };
    ATTACKS.into_iter().map(launch).collect()
}

const ATTACKS: [&str; 5] = [
    "giant message length",
    "huge chunk size, 6 MiB of a message, then silence",
    "every chunk stream opened",
    "endless handshake garbage",
    "slowloris handshake",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_leave_a_normal_stream_and_memory_alone() {
    let timeout = Duration::from_secs(2);
    let (bound, server, _events) = start(Config {
        handshake_timeout: timeout,
        idle_timeout: timeout,
        ..config()
    })
    .await;
    let mut player = Client::play(bound.rtmp, "normal").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "normal")
        .await
        .expect("publish");
    publisher.send_loops(1).await;
    let first = sent_payloads(1).len();
    let deadline = Instant::now() + LIMIT;
    while payloads(&player.media).len() < first {
        assert!(
            Instant::now() < deadline,
            "the first loop never reached the player"
        );
        player.step(Duration::from_millis(100)).await;
    }
    let before = resident();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampler = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(resident(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let loops = 8;
    let expected = sent_payloads(loops);
    let watching = tokio::spawn(async move {
        let deadline = Instant::now() + LIMIT * 2;
        while payloads(&player.media).len() < expected.len() && Instant::now() < deadline {
            player.step(Duration::from_millis(100)).await;
        }
        (payloads(&player.media), expected)
    });
    let attacks = launch_attacks(bound.rtmp, timeout * 3);
    // The normal publisher goes on at its own pace while the attacks run.
    for _ in 1..loops {
        tokio::time::sleep(Duration::from_millis(300)).await;
        publisher.send_loops(1).await;
    }
    for attack in attacks {
        let (name, closed) = attack.await.expect("the attack's task");
        eprintln!("{name}: closed by the server after {closed:?}");
    }
    let (got, expected) = watching.await.expect("the player's task");
    sampler.abort();
    let grown = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(before);
    eprintln!(
        "resident memory: {} MiB before, grew at most {} KiB",
        before >> 20,
        grown >> 10
    );
    let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        (got.len(), first_difference),
        (expected.len(), None),
        "the normal player's payloads"
    );
    assert!(grown < 64 << 20, "resident memory grew {} MiB", grown >> 20);
    publisher.close().await;
    drop(server);
}

// ---------------------------------------------------------------------------
// Disk full

/// A 2 MiB tmpfs, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(name: &str) -> Tmpfs {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the mount point");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs (root needed): {status}");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Fills the file system of `path` with a file there until a write fails.
fn fill(path: &std::path::Path) -> std::io::Error {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("the filler");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(error) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            return error;
        }
    }
}

/// The value of the counter `name` on `/metrics`.
async fn metric(bound: &Bound, name: &str) -> u64 {
    let text = get(bound.http, "/metrics").await.text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
}

/// Polls until `done` holds, for at most [`LIMIT`].
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + LIMIT;
    while !done().await {
        assert!(Instant::now() < deadline, "{what}: not within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `bytes` are whole ISO BMFF boxes, end to end.
fn whole_boxes(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(size) = bytes.get(at..at + 4) else {
            return false;
        };
        let size = u32::from_be_bytes(size.try_into().unwrap()) as usize;
        let size = match size {
            1 => match bytes.get(at + 8..at + 16) {
                Some(large) => u64::from_be_bytes(large.try_into().unwrap()) as usize,
                None => return false,
            },
            0 => bytes.len() - at,
            _ => size,
        };
        if size < 8 {
            return false;
        }
        at = at.saturating_add(size);
    }
    at == bytes.len()
}

/// The segment numbers of the `seg*.m4s` files in `dir`.
fn segments_on_disk(dir: &std::path::Path) -> Vec<u64> {
    let names = std::fs::read_dir(dir).into_iter().flatten().flatten();
    names
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("seg")?.strip_suffix(".m4s")?.parse().ok()
        })
        .collect()
}

/// Waits until the server has written what it was sent: two listings of
/// `dir` 200 ms apart are the same (a publisher's backlog is read in one go,
/// so the writes can still be going on when the first failures are counted).
async fn at_rest(dir: &std::path::Path) {
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        names
    };
    let deadline = Instant::now() + LIMIT;
    let mut before = listing();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = listing();
        if now == before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} still changing",
            dir.display()
        );
        before = now;
    }
}

/// Every file under a final name in `dir` is whole: playlists parse, init
/// segments, segments and parts are whole boxes; no temporary is left.
fn check_out_dir(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).expect("the stream's directory") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // The live window moved on and removed it since the listing.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("{name}: {error}"),
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("m3u8") => {
                let parsed = m3u8_rs::parse_media_playlist_res(&bytes);
                let Ok(playlist) = parsed else {
                    panic!("{name} does not parse: {parsed:?}");
                };
                // Every segment, part and init segment it names is on disk
                // (not the preload hint: that part is still to come).
                let text = String::from_utf8_lossy(&bytes);
                let quoted = text
                    .lines()
                    .filter(|l| l.starts_with("#EXT-X-PART:") || l.starts_with("#EXT-X-MAP:"))
                    .filter_map(|l| l.split("URI=\"").nth(1)?.split('"').next());
                let segments = playlist.segments.iter().map(|s| s.uri.as_str());
                for uri in segments.chain(quoted) {
                    assert!(dir.join(uri).exists(), "{name} names {uri}, not on disk");
                }
            }
            Some("mp4" | "m4s") => assert!(whole_boxes(&bytes), "{name} is cut"),
            _ => panic!("{name}: not a final name the server writes"),
        }
    }
}

/// Every recording in `dir` reads as FLV without error: each file's name, its
/// number of tags and whether its first video tag is an AVC sequence header
/// (so that it plays on its own).
fn check_recordings(dir: &std::path::Path) -> Vec<(String, usize, bool)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the recordings") {
        let path = entry.expect("an entry").path();
        let mut reader = flv::Reader::new(flv::ReaderOptions::default());
        reader.push(&std::fs::read(&path).expect("readable"));
        reader.finish();
        let (mut tags, mut first_video) = (0, None);
        loop {
            match reader.next_event() {
                Ok(Some(flv::ReadEvent::Tag(tag))) => {
                    tags += 1;
                    if tag.tag_type == flv::TagType::Video && first_video.is_none() {
                        first_video = Some(tag.body.starts_with(&[0x17, 0]));
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => panic!("{}: {error}", path.display()),
            }
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, tags, first_video == Some(true)));
    }
    files.sort();
    files
}

/// The segments listed in the playlist over HTTP but missing on disk (none
/// is a failure), each checked to be served whole from memory.
async fn served_from_memory_only(bound: &Bound, dir: &std::path::Path) -> Vec<u64> {
    // Served from memory meanwhile: segments that could not be written are
    // listed and served over HTTP.
    let on_disk = segments_on_disk(dir);
    let text = get(bound.http, "/live/full/index.m3u8").await.text();
    let missing: Vec<_> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("seg")?
                .strip_suffix(".m4s")?
                .parse::<u64>()
                .ok()
        })
        .filter(|n| !on_disk.contains(n))
        .collect();
    assert!(
        !missing.is_empty(),
        "every segment reached the full disk?\n{text}"
    );
    let mut served_any = false;
    for n in &missing {
        let served = get(bound.http, &format!("/live/full/seg{n}.m4s")).await;
        if served.status == 404 {
            // The live window may have slid past it since the playlist above
            // (the stream goes on): only then is a 404 right.
            let now = get(bound.http, "/live/full/index.m3u8").await.text();
            assert!(
                !now.contains(&format!("seg{n}.m4s")),
                "seg{n}.m4s listed but 404\n{now}"
            );
            continue;
        }
        assert_eq!(served.status, 200, "seg{n}.m4s over HTTP\n{text}");
        assert!(whole_boxes(&served.body), "seg{n}.m4s is whole");
        served_any = true;
    }
    assert!(served_any, "no segment missing on disk was served\n{text}");
    missing
}

/// What the server logs, from the moment this is first called (a global
/// subscriber: the tests of this file share one process).
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a test that logs without end does not take the memory.
        if log.len() < 16 << 20 {
            log.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log names both failures and their cause, both resumptions, and is
/// not flooded.
fn check_log(log: &Mutex<Vec<u8>>) {
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    let lines = |text: &str| log.lines().filter(|l| l.contains(text)).count();
    for (what, needle) in [
        ("--out's failure", "cannot write"),
        ("the cause", "No space left on device"),
        ("--record's failure", "recording: cannot write"),
        ("--out resuming", "writing again"),
        ("--record resuming", "recording again"),
    ] {
        assert!(
            lines(needle) > 0,
            "{what} ({needle:?}) not in the log:\n{log}"
        );
    }
    for line in log
        .lines()
        .filter(|l| l.contains("write") || l.contains("again"))
    {
        eprintln!("log: {line}");
    }
    assert!(lines("cannot write") < 20, "the log is flooded:\n{log}");
}

const OUT_FAILURES: &str = "live_ingest_out_write_failures_total";
const RECORD_FAILURES: &str = "live_ingest_record_write_failures_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: mounts a 2 MiB tmpfs for --out and --record"]
async fn a_full_disk_is_counted_the_stream_goes_on_and_writing_resumes() {
    let log = captured_log();
    let tmpfs = Tmpfs::mount("live-ingest-disk-full");
    let (out, record) = (tmpfs.0.join("out"), tmpfs.0.join("record"));
    let (bound, _server, events) = start(Config {
        out: Some(out.clone()),
        record: Some(record.clone()),
        window: 4,
        ..config()
    })
    .await;
    let dir = out.join("live/full");
    let mut publisher = Client::publish(bound.rtmp, "full").await.expect("publish");
    // Enough for the recording to have written its first 256 KiB.
    publisher.send_loops(12).await;
    until("a first segment on disk", || async {
        !segments_on_disk(&dir).is_empty()
    })
    .await;
    until("a recording on disk", || async {
        let files = std::fs::read_dir(record.join("live")).into_iter().flatten();
        let sizes = files.flatten().filter_map(|f| f.metadata().ok());
        sizes.map(|m| m.len()).sum::<u64>() > 0
    })
    .await;
    let filler = tmpfs.0.join("filler");
    let full = fill(&filler);
    eprintln!("the tmpfs is full: {full}");
    // Enough for the recording's 256 KiB buffer to be written (and fail) too.
    publisher.send_loops(12).await;
    until("write failures on /metrics", || async {
        metric(&bound, OUT_FAILURES).await > 0 && metric(&bound, RECORD_FAILURES).await > 0
    })
    .await;
    let missing = served_from_memory_only(&bound, &dir).await;
    eprintln!("segments served from memory only: {missing:?}");
    at_rest(&dir).await;
    check_out_dir(&dir);

    std::fs::remove_file(&filler).expect("room again");
    let failures = metric(&bound, OUT_FAILURES).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // the recording's retry delay
    publisher.send_loops(12).await;
    until("segments written again", || async {
        let last = missing.iter().max().copied().unwrap_or(0);
        segments_on_disk(&dir).iter().any(|n| *n > last)
    })
    .await;
    publisher.close().await;
    events
        .wait(
            LIMIT,
            |e| matches!(e, Event::PublishEnded { key } if key == "live/full"),
        )
        .await;
    eprintln!(
        "write failures while full: --out {failures}, --record {}",
        metric(&bound, RECORD_FAILURES).await
    );
    assert_eq!(
        metric(&bound, OUT_FAILURES).await,
        failures,
        "writes fail no more"
    );
    check_out_dir(&dir);
    check_log(&log);
    let recordings = check_recordings(&record.join("live"));
    eprintln!("recordings (tags): {recordings:?}");
    assert!(
        recordings.len() >= 2,
        "a new recording after the failure: {recordings:?}"
    );
    // Each file has tags and starts with the sequence headers (the new one too).
    let whole = |(_, tags, headers): &(String, usize, bool)| *tags > 0 && *headers;
    assert!(recordings.iter().all(whole), "{recordings:?}");
}
