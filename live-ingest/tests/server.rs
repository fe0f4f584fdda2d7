//! The server in-process, with no outside tool: our own `rtmp_core::ClientSession`
//! publishes and plays, plain HTTP requests read HLS, HTTP-FLV, `/stats` and
//! `/metrics`. The media is a real 1.5 s H.264 + AAC capture (FFmpeg's), sent
//! in a loop with its timestamps continued.

mod client;
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use client::{fixture_tags, get, is_end, is_header_or_end, Client, LIMIT};
use live_ingest::{
    Bound, Config, Event, HookFuture, Hooks, PlayAttempt, PublishAttempt, Refused, Server,
};
use rtmp_core::{ClientEvent, MediaKind, MediaMessage};

fn config() -> Config {
    Config {
        target_duration: 1.0,
        part_duration: Some(0.25),
        window: 0,
        read_pacing: Duration::ZERO,
        ..Config::default()
    }
}

async fn start(config: Config) -> (Bound, Arc<Server>) {
    start_with(Server::new(config).expect("valid")).await
}

async fn start_with(server: Arc<Server>) -> (Bound, Arc<Server>) {
    let bound = live_ingest::start(server.clone()).await.expect("bind");
    (bound, server)
}

/// The test configuration on ephemeral ports.
fn ephemeral(mut config: Config) -> Config {
    config.rtmp = "127.0.0.1:0".parse().unwrap();
    config.http = "127.0.0.1:0".parse().unwrap();
    config
}

/// [`client::playlist_until`] on the server's HTTP address.
async fn playlist_until(bound: &Bound, key: &str, done: impl Fn(&str) -> bool) -> String {
    client::playlist_until(bound.http, key, done).await
}

fn payloads(messages: &[MediaMessage]) -> Vec<(MediaKind, Bytes)> {
    messages
        .iter()
        .filter(|m| m.kind != MediaKind::Data)
        .map(|m| (m.kind, m.payload.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_publish_is_played_over_rtmp_http_flv_and_hls_at_once() {
    let (bound, server) = start(ephemeral(config())).await;
    // A player waiting before the publisher gets every payload as it was sent.
    let mut early = Client::play(bound.rtmp, "tv").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "tv").await.expect("publish");
    publisher.send_loops(1).await;
    let flv = tokio::spawn(get(bound.http, "/live/tv.flv"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    publisher.send_loops(2).await;
    let tags = fixture_tags();
    early.collect(tags.len() * 3 - 8).await;
    let sent: Vec<_> = (0..3)
        .flat_map(|n| {
            tags.iter()
                .filter(move |(_, _, p)| !is_end(p) && (n == 0 || !is_header_or_end(p)))
                .map(|(k, _, p)| (*k, p.clone()))
        })
        .collect();
    let got = payloads(&early.media);
    let first_difference = got.iter().zip(&sent).position(|(a, b)| a != b);
    assert_eq!(
        (got.len(), first_difference),
        (sent.len(), None),
        "the RTMP player's payloads"
    );
    let text = playlist_until(&bound, "tv", |t| t.matches("#EXTINF").count() >= 2).await;
    assert!(text.contains("#EXT-X-PART:"), "LL-HLS parts: {text}");
    publisher.close().await;
    // The HTTP-FLV reader joined live: FLV header, then the headers and the GOP.
    let flv = flv.await.expect("the HTTP-FLV request");
    assert_eq!(flv.status, 200);
    assert_eq!(flv.header("content-type"), Some("video/x-flv"));
    assert!(flv.body.starts_with(b"FLV\x01\x05"), "an FLV file");
    let mut reader = flv::Reader::new(flv::ReaderOptions::default());
    reader.push(&flv.body);
    reader.finish();
    let mut video = Vec::new();
    while let Some(event) = reader.next_event().expect("valid FLV") {
        if let flv::ReadEvent::Tag(tag) = event {
            if tag.tag_type == flv::TagType::Video {
                video.push(tag.body);
            }
        }
    }
    assert_eq!(
        video.first().map(|b| &b[..2]),
        Some(&[0x17, 0][..]),
        "AVC header first"
    );
    assert_eq!(video.get(1).map(|b| b[0]), Some(0x17), "then a key frame");
    let stats: serde_json::Value =
        serde_json::from_slice(&get(bound.http, "/stats").await.body).expect("JSON");
    assert_eq!(stats["streams"][0]["key"], "live/tv");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_publisher_is_refused_and_a_republish_continues_the_playlist() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut first = Client::publish(bound.rtmp, "show").await.expect("publish");
    let refused = Client::publish(bound.rtmp, "show").await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|r| r.contains("BadName") && r.contains("already")),
        "{refused:?}"
    );
    first.send_loops(2).await;
    first.close().await;
    let ended = playlist_until(&bound, "show", |t| t.contains("#EXT-X-ENDLIST")).await;
    let before = ended.matches("#EXT-X-DISCONTINUITY\n").count();
    let mut again = Client::publish(bound.rtmp, "show")
        .await
        .expect("republish");
    again.send_loops(2).await;
    let segments = ended.matches("#EXTINF").count();
    let text = playlist_until(&bound, "show", |t| {
        t.matches("#EXTINF").count() >= segments + 2 && !t.contains("#EXT-X-ENDLIST")
    })
    .await;
    let discontinuities = text.matches("#EXT-X-DISCONTINUITY\n").count();
    assert_eq!(discontinuities, before + 1, "{text}");
    // The head and the first segment are the same (older segments lose their
    // parts as newer ones come).
    let head = &ended[..ended.find("seg0.m4s").expect("seg0 listed")];
    assert!(
        text.starts_with(head),
        "the playlist goes on:\n{ended}\n{text}"
    );
    again.close().await;
}

/// Records what the hooks hear and refuses `bad*` publishes and `secret` plays.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Hooks for Recorder {
    fn authorize_publish<'a>(&'a self, attempt: &'a PublishAttempt<'a>) -> HookFuture<'a> {
        let bad = attempt.stream_name().starts_with("bad");
        Box::pin(async move {
            match bad {
                true => Err(Refused::ByApplication("no bad names".into())),
                false => Ok(()),
            }
        })
    }

    fn authorize_play<'a>(&'a self, attempt: &'a PlayAttempt<'a>) -> HookFuture<'a> {
        let secret = attempt.name.starts_with("secret");
        Box::pin(async move {
            match secret {
                true => Err(Refused::ByApplication("not for you".into())),
                false => Ok(()),
            }
        })
    }

    fn on_event(&self, event: &Event) {
        self.events.lock().unwrap().push(event.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_decide_and_hear_and_the_grace_period_ends() {
    let recorder = Arc::new(Recorder::default());
    let mut config = ephemeral(config());
    config.grace = Duration::from_millis(500);
    let server = Server::with_hooks(config, recorder.clone()).expect("valid");
    let (bound, _server) = start_with(server).await;
    let refused = Client::publish(bound.rtmp, "bad1")
        .await
        .err()
        .unwrap_or_default();
    assert!(refused.contains("no bad names"), "{refused}");
    let refused = Client::play(bound.rtmp, "secret")
        .await
        .err()
        .unwrap_or_default();
    assert!(refused.contains("not for you"), "{refused}");
    let flv = get(bound.http, "/live/secret.flv").await;
    assert_eq!(flv.status, 403, "{}", flv.text());
    let mut publisher = Client::publish(bound.rtmp, "good").await.expect("publish");
    publisher.send_loops(1).await;
    publisher.close().await;
    // Ended, then forgotten once the grace period is over (the reaper looks each second).
    let deadline = Instant::now() + LIMIT;
    while get(bound.http, "/live/good/index.m3u8").await.status != 404 {
        assert!(
            Instant::now() < deadline,
            "the stream stays past its grace period"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = recorder.events.lock().unwrap().clone();
    let key = "live/good".to_owned();
    assert!(
        matches!(&events[0], Event::PublishStarted { key: k, resumed: false, .. } if *k == key),
        "{events:?}"
    );
    assert_eq!(events[1], Event::PublishEnded { key: key.clone() });
    assert_eq!(events[2], Event::StreamForgotten { key });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_reload_waits_for_its_part_then_gives_up_with_503() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "ll").await.expect("publish");
    publisher.send_loops(2).await;
    let text = playlist_until(&bound, "ll", |t| t.contains("#EXT-X-PRELOAD-HINT")).await;
    let hint = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part"))
        .expect("a hint");
    let (msn, part) = hint
        .trim_end_matches(".m4s\"")
        .split_once('.')
        .expect("MSN.PART");
    let target = format!("/live/ll/index.m3u8?_HLS_msn={msn}&_HLS_part={part}");
    // The publisher sends more: the waiting request is answered with the part in it.
    let waiting = tokio::spawn(get(bound.http, &target));
    tokio::time::sleep(Duration::from_millis(300)).await;
    publisher.send_loops(1).await;
    let answered = waiting.await.expect("the blocking request");
    assert_eq!(answered.status, 200, "{}", answered.text());
    // The part, or (when the segment was cut before it) the segment it would have been in.
    let text = answered.text();
    assert!(
        text.contains(&format!("part{msn}.{part}.m4s")) || text.contains(&format!("seg{msn}.m4s")),
        "{text}"
    );
    // Far ahead: 400 at once. Next part but nothing more comes: 503 after three
    // target durations (3 s).
    let far = get(bound.http, "/live/ll/index.m3u8?_HLS_msn=999&_HLS_part=0").await;
    assert_eq!(far.status, 400);
    let text = get(bound.http, "/live/ll/index.m3u8").await.text();
    let hint = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part"))
        .expect("a hint");
    let (msn, part) = hint
        .trim_end_matches(".m4s\"")
        .split_once('.')
        .expect("MSN.PART");
    let started = Instant::now();
    let target = format!("/live/ll/index.m3u8?_HLS_msn={msn}&_HLS_part={part}");
    let stalled = get(bound.http, &target).await;
    assert_eq!(stalled.status, 503, "{}", stalled.text());
    assert!(
        started.elapsed() >= Duration::from_millis(2900),
        "{:?}",
        started.elapsed()
    );
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_that_never_reads_holds_its_byte_bound_not_more() {
    let mut config = ephemeral(config());
    config.hls = false;
    config.limits.player_queue_bytes = 1 << 20;
    let (bound, server) = start(config).await;
    let mut publisher = Client::publish(bound.rtmp, "big").await.expect("publish");
    // The stalled player: it plays, then never reads its socket again.
    let stalled = Client::play(bound.rtmp, "big").await.expect("play");
    // 40 MB of 100 kB "frames": a key frame every 20.
    let frame = |key: bool| {
        let mut body = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        body.resize(100_000, 0xAB);
        Bytes::from(body)
    };
    publisher.session.send_media(
        MediaKind::Video,
        0,
        Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
    );
    for n in 0..400u64 {
        publisher
            .session
            .send_media(MediaKind::Video, n * 33, frame(n % 20 == 0));
        publisher.flush().await;
        let queued = server.hub.queued_bytes("live/big");
        // The limit, plus one message that may have been queued before the check.
        assert!(queued <= (1 << 20) + 100_064, "{queued} bytes queued");
    }
    let skipped = server
        .hub
        .stats
        .dropped
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(skipped > 0, "the stalled player skipped messages");
    let metrics = get(bound.http, "/metrics").await.text();
    assert!(
        metrics.contains("live_ingest_player_skipped_messages_total"),
        "{metrics}"
    );
    assert!(metrics.contains("live_ingest_publishers 1\n"), "{metrics}");
    assert!(metrics.contains("live_ingest_players 1\n"), "{metrics}");
    assert!(
        metrics.contains("live_ingest_publishes_total 1\n"),
        "{metrics}"
    );
    drop(stalled);
    publisher.close().await;
}

/// A metric's value in the exposition text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_latency_is_counted_from_the_read_to_the_part() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "lat").await.expect("publish");
    publisher.send_loops(2).await;
    let playlist = playlist_until(&bound, "lat", |t| t.contains("seg1.m4s")).await;
    let parts = playlist.matches("#EXT-X-PART:").count() as f64;
    let text = get(bound.http, "/metrics").await.text();
    let count = metric(&text, "live_ingest_part_latency_seconds_count").expect("the count");
    let sum = metric(&text, "live_ingest_part_latency_seconds_sum").expect("the sum");
    // Every part listed was counted once (and the segments and the init).
    assert!(
        count >= parts && parts > 0.0,
        "{count} for {parts} parts:\n{text}"
    );
    // Read to part is packaging in memory: far below a second each.
    assert!(sum / count < 0.1, "mean {} s", sum / count);
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("live_ingest_part_latency_seconds_bucket"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(buckets.len(), 11, "10 bounds and +Inf:\n{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last().copied(), Some(count));
    publisher.close().await;
}

/// A raw request from a blocking thread.
async fn request(addr: SocketAddr, head: String) -> common::HttpResponse {
    tokio::task::spawn_blocking(move || common::http_request(addr, &head))
        .await
        .expect("the request thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_answers_ranges_hosts_and_methods_as_the_rfcs_say() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "http").await.expect("publish");
    publisher.send_loops(2).await;
    playlist_until(&bound, "http", |t| t.contains("seg0.m4s")).await;
    let whole = get(bound.http, "/live/http/seg0.m4s").await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let len = whole.body.len();
    let addr = bound.http;
    let ranged = |range: &str| {
        request(
            addr,
            format!("GET /live/http/seg0.m4s HTTP/1.1\r\nHost: x\r\nRange: {range}\r\nConnection: close\r\n\r\n"),
        )
    };
    let part = ranged("bytes=10-109").await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, whole.body[10..110]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-109/{len}").as_str())
    );
    let tail = ranged("bytes=-8").await;
    assert_eq!((tail.status, &tail.body[..]), (206, &whole.body[len - 8..]));
    let past = ranged(&format!("bytes={len}-")).await;
    assert_eq!(past.status, 416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    let several = ranged("bytes=0-1,5-6").await;
    assert_eq!((several.status, several.body.len()), (200, len));
    // Host: exactly one in HTTP/1.1; none is fine in HTTP/1.0.
    let target = "/live/http/index.m3u8";
    let no_host = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(request(addr, no_host).await.status, 400);
    let two = format!("GET {target} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n");
    assert_eq!(request(addr, two).await.status, 400);
    let old = format!("GET {target} HTTP/1.0\r\n\r\n");
    assert_eq!(request(addr, old).await.status, 200);
    let post = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let post = request(addr, post).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_headers_let_an_edge_collapse_blocking_reloads() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "cache").await.expect("publish");
    publisher.send_loops(2).await;
    playlist_until(&bound, "cache", |t| t.contains("seg1.m4s")).await;
    let cache_control = |response: &common::HttpResponse| {
        response
            .header("cache-control")
            .map(str::to_owned)
            .unwrap_or_default()
    };
    // The plain playlist changes at every part: revalidate each time.
    let plain = get(bound.http, "/live/cache/index.m3u8").await;
    assert_eq!(cache_control(&plain), "no-cache");
    // A blocking answer: a second in an edge (to collapse requests), not in
    // browsers (video.js repeats the same URL and wants a newer answer).
    let blocking = get(bound.http, "/live/cache/index.m3u8?_HLS_msn=1&_HLS_part=0").await;
    assert_eq!(blocking.status, 200);
    assert_eq!(cache_control(&blocking), "public, max-age=0, s-maxage=1");
    // Media never changes under its name; half the 60 s grace period.
    for file in ["init0.mp4", "seg0.m4s", "part1.0.m4s"] {
        let media = get(bound.http, &format!("/live/cache/{file}")).await;
        assert_eq!(media.status, 200, "{file}");
        assert_eq!(cache_control(&media), "public, max-age=30, immutable");
    }
    // Errors are never reused.
    let missing = get(bound.http, "/live/cache/seg999.m4s").await;
    assert_eq!(missing.status, 404);
    assert_eq!(cache_control(&missing), "no-cache");
    publisher.close().await;
}

/// A stream from an encoder whose key frames come every 1.999 s (OBS with a 2 s
/// key frame interval, on RTMP's millisecond clock): frames at 30 fps rounded
/// to milliseconds, each GOP 1,999 ms, AAC beside them. The payloads are the
/// fixture's (a key frame, an inter frame and an AAC frame, composition time 0).
fn obs_like_tags(gops: u64) -> Vec<(MediaKind, u64, Bytes)> {
    let tags = fixture_tags();
    let find = |kind: MediaKind, test: &dyn Fn(&[u8]) -> bool| {
        tags.iter()
            .find(|(k, _, p)| *k == kind && test(p))
            .map(|(_, _, p)| p.clone())
            .expect("the fixture has it")
    };
    let zero_cts = |payload: Bytes| {
        let mut copy = payload.to_vec();
        copy[2..5].fill(0);
        Bytes::from(copy)
    };
    let mut out = vec![
        (MediaKind::Video, 0, find(MediaKind::Video, &|p| p[1] == 0)),
        (MediaKind::Audio, 0, find(MediaKind::Audio, &|p| p[1] == 0)),
    ];
    let key = zero_cts(find(MediaKind::Video, &|p| p[0] >> 4 == 1 && p[1] == 1));
    let inter = zero_cts(find(MediaKind::Video, &|p| p[0] >> 4 == 2 && p[1] == 1));
    let aac = find(MediaKind::Audio, &|p| p[1] == 1);
    let mut media = Vec::new();
    for gop in 0..gops {
        let mut frame = 0;
        while (frame * 1000 + 15) / 30 < 1999 {
            let payload = if frame == 0 { &key } else { &inter };
            let at = gop * 1999 + (frame * 1000 + 15) / 30;
            media.push((MediaKind::Video, at, payload.clone()));
            frame += 1;
        }
    }
    let mut k = 0;
    while (k * 1024 * 1000 + 22_050) / 44_100 < gops * 1999 {
        media.push((
            MediaKind::Audio,
            (k * 1024 * 1000 + 22_050) / 44_100,
            aac.clone(),
        ));
        k += 1;
    }
    media.sort_by_key(|(kind, at, _)| (*at, *kind == MediaKind::Audio));
    out.extend(media);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_frames_every_1999_ms_make_2_s_segments() {
    let (bound, _server) = start(ephemeral(Config {
        target_duration: 2.0,
        part_duration: Some(0.5),
        ..config()
    }))
    .await;
    let mut publisher = Client::publish(bound.rtmp, "obs").await.expect("publish");
    for (kind, at, payload) in obs_like_tags(5) {
        publisher.session.send_media(kind, at, payload);
    }
    publisher.flush().await;
    let text = playlist_until(&bound, "obs", |t| t.contains("seg3.m4s")).await;
    assert!(text.contains("#EXT-X-TARGETDURATION:2\n"), "{text}");
    let extinfs: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .collect();
    assert!(extinfs.len() >= 4, "{text}");
    // One GOP each: 1.999 s, within the millisecond the constant-frame-rate
    // grid may move a key frame (these GOPs drift a millisecond each from
    // the 30 fps grid of the frames inside them).
    assert!(
        extinfs
            .iter()
            .all(|d| ["1.998,", "1.999,", "2.000,"].contains(d)),
        "every segment one GOP: {extinfs:?}"
    );
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_asks_publishers_to_reconnect_and_refuses_new_ones() {
    let (bound, server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "moving")
        .await
        .expect("publish");
    let mut player = Client::play(bound.rtmp, "moving").await.expect("play");
    publisher.send_loops(1).await;
    assert_eq!(server.live_publishers(), 1);
    assert!(!server.is_draining());

    server.drain(Some("rtmp://other.example/live".into()));
    let deadline = Instant::now() + LIMIT;
    let asked = loop {
        let asked = publisher
            .step(Duration::from_millis(100))
            .await
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::ReconnectRequested { tc_url, .. } => Some(tc_url),
                _ => None,
            });
        if let Some(asked) = asked {
            break asked;
        }
        assert!(Instant::now() < deadline, "no reconnect request");
    };
    assert_eq!(asked.as_deref(), Some("rtmp://other.example/live"));
    // New publishes are refused with the reason; the stream and its player go on.
    let refused = Client::publish(bound.rtmp, "late").await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|r| r.contains("shutting down")),
        "{refused:?}"
    );
    let before = player.media.len();
    publisher.send_loops(1).await;
    player.collect(before + 10).await;
    assert!(player.media.len() >= before + 10, "the player stopped");
    assert_eq!(server.live_publishers(), 1);
    publisher.close().await;
    let deadline = Instant::now() + LIMIT;
    while server.live_publishers() > 0 {
        assert!(Instant::now() < deadline, "the publisher is still counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    player.close().await;
}

/// The value of `live_ingest_read_beat_seconds` on `/metrics`.
async fn read_beat_metric(bound: &Bound) -> Option<String> {
    let metrics = get(bound.http, "/metrics").await;
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .find_map(|l| l.strip_prefix("live_ingest_read_beat_seconds "))
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_beat_grows_with_live_publishers_and_media_still_flows() {
    // 1 read per second and worker: one publisher on two workers wants a
    // 500 ms beat, two want one second; the beat stops at read_pacing_max.
    let (bound, server) = start(ephemeral(Config {
        read_pacing: Duration::from_millis(20),
        read_pacing_max: Duration::from_millis(60),
        reads_per_second: 1,
        ..config()
    }))
    .await;
    assert_eq!(server.read_beat(), Duration::from_millis(20));
    assert_eq!(read_beat_metric(&bound).await.as_deref(), Some("0.02"));
    let mut player = Client::play(bound.rtmp, "a").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "a").await.expect("publish");
    assert_eq!(server.live_publishers(), 1);
    assert_eq!(server.read_beat(), Duration::from_millis(60));
    assert_eq!(read_beat_metric(&bound).await.as_deref(), Some("0.06"));
    // Everything sent is read and delivered on the longer beat.
    publisher.send_loops(1).await;
    let sent: Vec<_> = fixture_tags()
        .into_iter()
        .filter(|(_, _, p)| !is_end(p))
        .map(|(k, _, p)| (k, p))
        .collect();
    player.collect(sent.len()).await;
    assert_eq!(payloads(&player.media), sent);
    publisher.close().await;
    player.close().await;
    let deadline = Instant::now() + LIMIT;
    while server.live_publishers() > 0 {
        assert!(Instant::now() < deadline, "the publisher is still counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.read_beat(), Duration::from_millis(20));
}

/// Media messages in `loops` loops of the fixture as `send_loops` sends them
/// (the sequence headers once, no end of sequence).
fn media_in_loops(loops: u64) -> usize {
    let tags = fixture_tags();
    let first = tags.iter().filter(|(_, _, p)| !is_end(p)).count();
    let rest = tags.iter().filter(|(_, _, p)| !is_header_or_end(p)).count();
    first + rest * (loops as usize).saturating_sub(1)
}

/// Reads until the player has `count` media messages or `limit` passed; only
/// the media is kept (the server opens a play with |RtmpSampleAccess).
async fn collect_media(player: &mut Client, count: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while player.media.len() < count && Instant::now() < deadline {
        player.step(Duration::from_millis(100)).await;
        player.media.retain(|m| m.kind != MediaKind::Data);
    }
}

/// Publishes 120 loops of the fixture (2.9 MB) as fast as the server reads
/// them to a server with `config`, while a player plays: how long until the
/// player had every media message.
async fn backlog_time(config: Config) -> Duration {
    let (bound, _server) = start(ephemeral(config)).await;
    let mut player = Client::play(bound.rtmp, "big").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "big").await.expect("publish");
    let loops = 120;
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        publisher.send_loops(loops).await;
        publisher
    });
    let expected = media_in_loops(loops);
    collect_media(&mut player, expected, Duration::from_secs(30)).await;
    let took = started.elapsed();
    let bytes: usize = player.media.iter().map(|m| m.payload.len()).sum();
    assert_eq!(player.media.len(), expected, "{bytes} bytes in {took:?}");
    assert!(bytes > 2_500_000, "{bytes}");
    sender.await.expect("sent").close().await;
    player.close().await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_read_in_one_beat_not_one_read_per_beat() {
    // A 250 ms beat. One read per beat brings at most what the input buffer
    // holds (about 100 KB here), so the 2.9 MB took 8 s; reading on while the
    // socket has bytes ready takes up to 1 MiB a beat, and took 1.3 s.
    let took = backlog_time(Config {
        read_pacing: Duration::from_millis(250),
        read_pacing_max: Duration::from_millis(250),
        ..config()
    })
    .await;
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_publisher_is_read_on_the_shortest_beat() {
    // One read per second and worker: the load's beat is 1 s for this one
    // publisher, which would take 3 s or more for the 2.9 MB at 1 MiB a beat.
    // A beat that brought 64 KiB or more puts it on the 20 ms beat.
    let took = backlog_time(Config {
        read_pacing: Duration::from_millis(20),
        read_pacing_max: Duration::from_secs(1),
        reads_per_second: 1,
        ..config()
    })
    .await;
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_read_with_the_end_of_the_stream_are_all_delivered() {
    // The media and the publisher's close arrive within one 250 ms beat, so
    // one beat reads both: every message before the end still goes out.
    let (bound, _server) = start(ephemeral(Config {
        read_pacing: Duration::from_millis(250),
        read_pacing_max: Duration::from_millis(250),
        ..config()
    }))
    .await;
    let mut player = Client::play(bound.rtmp, "end").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "end").await.expect("publish");
    publisher.send_loops(3).await;
    publisher.close().await;
    let expected = media_in_loops(3);
    collect_media(&mut player, expected, LIMIT).await;
    assert_eq!(player.media.len(), expected);
    player.close().await;
}

/// Refuses every key request without `?token=ok`.
struct KeyGate;

impl Hooks for KeyGate {
    fn authorize_key<'a>(&'a self, attempt: &'a live_ingest::KeyAttempt<'a>) -> HookFuture<'a> {
        let allowed = attempt.query.contains("token=ok");
        Box::pin(async move {
            match allowed {
                true => Ok(()),
                false => Err(Refused::NotAllowed("no token".into())),
            }
        })
    }
}

fn decrypt(key: &[u8], msn: u64, data: &[u8]) -> Option<Vec<u8>> {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockDecryptMut, KeyIvInit};
    let iv = u128::from(msn).to_be_bytes();
    let mut buffer = data.to_vec();
    let key: [u8; 16] = key.try_into().ok()?;
    cbc::Decryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut buffer)
        .ok()
        .map(<[u8]>::to_vec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_segments_open_with_the_key_the_hooks_hand_out() {
    let config = Config {
        encrypt: Some(live_ingest::Encrypt::Aes128),
        key_rotation: 2,
        ..ephemeral(config())
    };
    let (bound, _server) = start_with(Server::with_hooks(config, KeyGate).expect("valid")).await;
    let mut publisher = Client::publish(bound.rtmp, "secret")
        .await
        .expect("publish");
    publisher.send_loops(3).await;
    let text = playlist_until(&bound, "secret", |t| t.contains("seg2.m4s")).await;
    assert!(
        text.contains("#EXT-X-KEY:METHOD=AES-128,URI=\"key0.key\",IV=0x"),
        "{text}"
    );
    assert!(
        text.contains("#EXT-X-KEY:METHOD=AES-128,URI=\"key1.key\",IV=0x"),
        "{text}"
    );
    // The hooks decide; keys are never cached; none ahead of its media.
    assert_eq!(get(bound.http, "/live/secret/key0.key").await.status, 403);
    let key = get(bound.http, "/live/secret/key0.key?token=ok").await;
    assert_eq!((key.status, key.body.len()), (200, 16));
    assert_eq!(key.header("cache-control"), Some("private, no-store"));
    assert_eq!(
        get(bound.http, "/live/secret/key99.key?token=ok")
            .await
            .status,
        404
    );
    // Segment 1 opens with key 0 and IV 1 into an fMP4 segment; not with key 1.
    let sealed = get(bound.http, "/live/secret/seg1.m4s").await.body;
    let clear = decrypt(&key.body, 1, &sealed).expect("segment 1 decrypts with key 0");
    assert_eq!(&clear[4..8], b"styp", "a clear fMP4 segment");
    let other = get(bound.http, "/live/secret/key1.key?token=ok").await.body;
    assert_ne!(decrypt(&other, 1, &sealed).as_deref(), Some(&clear[..]));
    // Init segments stay clear.
    let init = get(bound.http, "/live/secret/init0.mp4").await.body;
    assert_eq!(&init[4..8], b"ftyp");
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ad_break_is_marked_in_the_playlist_at_key_frames() {
    let config = Config {
        cue_tags: true,
        ..ephemeral(config())
    };
    let (bound, server) = start(config).await;
    assert!(
        server.insert_ad_break("live/ads", 2.0).is_none(),
        "no such stream"
    );
    let mut publisher = Client::publish(bound.rtmp, "ads").await.expect("publish");
    publisher.send_loops(1).await;
    playlist_until(&bound, "ads", |t| t.contains("seg0.m4s")).await;
    let id = server
        .insert_ad_break("live/ads", 2.0)
        .expect("a live stream")
        .expect("a break");
    assert!(matches!(
        server.insert_ad_break("live/ads", 2.0),
        Some(Err(hls_mux::MuxError::AdBreak { .. }))
    ));
    publisher.send_loops(3).await;
    let text = playlist_until(&bound, "ads", |t| t.contains("SCTE35-IN")).await;
    let id = format!("ID=\"break-{id}\"");
    let out = text.find("SCTE35-OUT=0xFC").expect("the break's start");
    let back = text.find("SCTE35-IN=0xFC").expect("its end");
    assert!(out < back && text.matches(&id).count() == 2, "{text}");
    assert!(text.contains("#EXT-X-CUE-OUT:2.000\n") && text.contains("#EXT-X-CUE-IN\n"));
    publisher.close().await;
}

/// A section threefive made: a `time_signal` with a segmentation
/// descriptor, provider placement opportunity start, event 0x4800008E,
/// 60.293 s. Not one of ours: it must come out as it went in.
const TIME_SIGNAL: &str = "FC302C00000000000000FFF00506FE001EE62800160214435545494800008E7FFF000052CCC20F00340000618EE444";

/// An `onAdCue` data message in the Adobe Primetime SCTE-35 mode.
fn on_ad_cue(section_hex: &str, time: f64) -> Bytes {
    use base64::Engine;
    let section: Vec<u8> = (0..section_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&section_hex[i..i + 2], 16).unwrap())
        .collect();
    let fields = amf0::Object::from_iter([
        (
            "cue",
            amf0::Value::from(base64::engine::general_purpose::STANDARD.encode(section)),
        ),
        ("type", amf0::Value::from("scte35")),
        ("id", amf0::Value::from("po-1")),
        ("duration", amf0::Value::from(60.293)),
        ("time", amf0::Value::from(time)),
    ]);
    let mut body = bytes::BytesMut::new();
    amf0::encode_all(
        &[amf0::Value::from("onAdCue"), amf0::Value::Object(fields)],
        &mut body,
    );
    body.freeze()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoders_scte35_cue_passes_through_to_the_playlist() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "cues").await.expect("publish");
    publisher.send_loops(1).await;
    playlist_until(&bound, "cues", |t| t.contains("seg0.m4s")).await;
    let at = client::LOOP_MS + 100;
    let cue = on_ad_cue(TIME_SIGNAL, (at + 500) as f64 / 1000.0);
    publisher.session.send_media(MediaKind::Data, at, cue);
    publisher.flush().await;
    // 60.293 s of media, and a little more: the break ends by itself.
    publisher.send_loops(41).await;
    let text = playlist_until(&bound, "cues", |t| t.contains("SCTE35-IN")).await;
    let ranges: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
        .collect();
    assert_eq!(ranges.len(), 2, "{text}");
    assert!(ranges.iter().all(|r| r.contains("ID=\"po-1\"")), "{text}");
    let out = format!("PLANNED-DURATION=60.293,SCTE35-OUT=0x{TIME_SIGNAL}");
    assert!(ranges[0].contains(&out), "the section as sent: {text}");
    // It ends at the first key frame at or after 60.293 s of media.
    let duration: f64 = ranges[1]
        .split("DURATION=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|d| d.parse().ok())
        .expect("the end's DURATION");
    assert!((60.293..60.293 + 1.7).contains(&duration), "{text}");
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_api_starts_and_ends_a_break_with_its_token() {
    let token = "0123456789abcdef-token";
    let (bound, _server) = start(ephemeral(Config {
        api_token: Some(live_ingest::ApiToken::new(token)),
        ..config()
    }))
    .await;
    let addr = bound.http;
    let post = |target: &str, auth: Option<&str>| {
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        request(
            addr,
            format!("POST {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"),
        )
    };
    let start_break = "/live/api/ad-break?duration=30";
    assert_eq!(
        post(start_break, Some(token)).await.status,
        404,
        "not live yet"
    );
    let mut publisher = Client::publish(bound.rtmp, "api").await.expect("publish");
    publisher.send_loops(1).await;
    playlist_until(&bound, "api", |t| t.contains("seg0.m4s")).await;
    let refused = post(start_break, None).await;
    assert_eq!(refused.status, 401);
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer")));
    assert_eq!(
        post(start_break, Some("0123456789abcdef-wrong"))
            .await
            .status,
        401
    );
    assert_eq!(
        post("/live/api/ad-break?duration=0", Some(token))
            .await
            .status,
        400
    );
    assert_eq!(
        post("/live/api/ad-break?end", Some(token)).await.status,
        409,
        "none running"
    );
    let started = post(start_break, Some(token)).await;
    assert_eq!(started.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&started.body).expect("JSON");
    let id = json["event_id"].as_u64().expect("an event id");
    assert_eq!(
        post(start_break, Some(token)).await.status,
        409,
        "one at a time"
    );
    publisher.send_loops(2).await;
    playlist_until(&bound, "api", |t| t.contains("SCTE35-OUT")).await;
    assert_eq!(
        post("/live/api/ad-break?end", Some(token)).await.status,
        200
    );
    publisher.send_loops(3).await;
    let text = playlist_until(&bound, "api", |t| t.contains("SCTE35-IN")).await;
    let ranges: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
        .collect();
    assert_eq!(ranges.len(), 2, "{text}");
    assert!(ranges[0].contains("PLANNED-DURATION=30.000"), "{text}");
    assert!(
        ranges
            .iter()
            .all(|r| r.contains(&format!("ID=\"break-{id}\""))),
        "{text}"
    );
    // Ended early: well before its 30 s.
    assert!(!ranges[1].contains("DURATION=30"), "{text}");
    publisher.close().await;
}

/// Polls the multivariant playlist of `live/group` until it lists `uris`
/// (in any order: by bandwidth; none: until it answers 404).
async fn multivariant_until(bound: &Bound, group: &str, uris: &[&str]) -> m3u8_rs::MasterPlaylist {
    let deadline = Instant::now() + LIMIT;
    loop {
        let response = get(bound.http, &format!("/live/{group}.m3u8")).await;
        let text = response.text();
        let parsed = match m3u8_rs::parse_playlist_res(&response.body) {
            Ok(m3u8_rs::Playlist::MasterPlaylist(parsed)) if response.status == 200 => {
                assert_eq!(response.header("cache-control"), Some("no-cache"));
                Some(parsed)
            }
            _ => None,
        };
        let mut listed: Vec<&str> = parsed
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.uri.as_str()))
            .collect();
        listed.sort_unstable();
        match &parsed {
            Some(parsed) if listed == uris => return parsed.clone(),
            None if uris.is_empty() && response.status == 404 => {
                return m3u8_rs::MasterPlaylist::default()
            }
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "{group}: {} {listed:?}\n{text}",
            response.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renditions_join_and_leave_the_multivariant_playlist() {
    let variants = vec!["_hi".to_owned(), "_lo".to_owned()];
    let (bound, _server) = start(ephemeral(Config {
        variants,
        ..config()
    }))
    .await;
    multivariant_until(&bound, "cam", &[]).await;
    let mut hi = Client::publish(bound.rtmp, "cam_hi")
        .await
        .expect("publish");
    let mut lo = Client::publish(bound.rtmp, "cam_lo")
        .await
        .expect("publish");
    // The same media on both: the test is about the playlist (the FFmpeg
    // test publishes real renditions). The order is checked by the values.
    // Listed from three segments on (1 s each here; the fixture is 1.5 s).
    hi.send_loops(1).await;
    lo.send_loops(1).await;
    playlist_until(&bound, "cam_lo", |t| t.contains("#EXTINF")).await;
    let early = get(bound.http, "/live/cam.m3u8").await;
    assert_eq!(early.status, 404, "one segment: {}", early.text());
    hi.send_loops(2).await;
    lo.send_loops(2).await;
    let three = |t: &str| t.matches("#EXTINF").count() >= 3;
    playlist_until(&bound, "cam_hi", three).await;
    playlist_until(&bound, "cam_lo", three).await;
    let both = get(bound.http, "/live/cam.m3u8").await;
    let text = both.text();
    assert_eq!(both.status, 200, "{text}");
    assert_eq!(
        both.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    // LL-HLS renditions: not "independent", video.js would apply it to parts.
    assert!(!text.contains("INDEPENDENT-SEGMENTS"), "{text}");
    let Ok(m3u8_rs::Playlist::MasterPlaylist(parsed)) = m3u8_rs::parse_playlist_res(&both.body)
    else {
        panic!("not a multivariant playlist:\n{text}");
    };
    let mut uris: Vec<&str> = parsed.variants.iter().map(|v| v.uri.as_str()).collect();
    uris.sort_unstable();
    assert_eq!(uris, ["cam_hi/index.m3u8", "cam_lo/index.m3u8"], "{text}");
    let bandwidths: Vec<u64> = parsed.variants.iter().map(|v| v.bandwidth).collect();
    assert!(bandwidths.windows(2).all(|w| w[0] <= w[1]), "{text}");
    for variant in &parsed.variants {
        assert!(variant.bandwidth > 0, "{text}");
        let average = variant.average_bandwidth.expect("AVERAGE-BANDWIDTH");
        assert!(average > 0 && average <= variant.bandwidth, "{text}");
        let codecs = variant.codecs.as_deref().expect("CODECS");
        assert!(
            codecs.starts_with("avc1.") && codecs.contains(",mp4a.40."),
            "{text}"
        );
        let resolution = variant.resolution.expect("RESOLUTION");
        assert!(resolution.width > 0 && resolution.height > 0, "{text}");
        assert!(variant.frame_rate.is_some_and(|r| r > 1.0), "{text}");
        // Each URI leads to that rendition's media playlist.
        let media = get(bound.http, &format!("/live/{}", variant.uri)).await;
        assert_eq!(media.status, 200, "{}", variant.uri);
    }
    // Each LL-HLS playlist reports its sibling's live edge.
    let lo_text = playlist_until(&bound, "cam_lo", |t| t.contains("RENDITION-REPORT")).await;
    let report = lo_text
        .lines()
        .find(|l| l.starts_with("#EXT-X-RENDITION-REPORT:"))
        .expect("a report");
    assert!(
        report.contains("URI=\"../cam_hi/index.m3u8\",LAST-MSN=") && report.contains("LAST-PART="),
        "{lo_text}"
    );
    assert_eq!(lo_text.matches("RENDITION-REPORT").count(), 1, "{lo_text}");
    // One stops: it leaves at once (its playlist ended), the other stays.
    hi.close().await;
    multivariant_until(&bound, "cam", &["cam_lo/index.m3u8"]).await;
    playlist_until(&bound, "cam_lo", |t| !t.contains("RENDITION-REPORT")).await;
    // It comes back: it rejoins.
    let mut hi = Client::publish(bound.rtmp, "cam_hi").await.expect("again");
    hi.send_loops(1).await;
    let both = ["cam_hi/index.m3u8", "cam_lo/index.m3u8"];
    let back = multivariant_until(&bound, "cam", &both).await;
    assert_eq!(back.variants.len(), 2);
    // None is live: 404.
    hi.close().await;
    lo.close().await;
    multivariant_until(&bound, "cam", &[]).await;
    // Other names under the group's path are not groups.
    assert_eq!(get(bound.http, "/live/cam_hi.m3u8").await.status, 404);
    assert_eq!(get(bound.http, "/live/..m3u8").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_variants_a_stream_is_its_own_multivariant_playlist() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "cam_hi")
        .await
        .expect("publish");
    publisher.send_loops(4).await;
    let text = playlist_until(&bound, "cam_hi", |t| t.matches("#EXTINF").count() >= 3).await;
    assert!(!text.contains("RENDITION-REPORT"), "{text}");
    // No group of the name without its suffix...
    assert_eq!(get(bound.http, "/live/cam.m3u8").await.status, 404);
    // ...but the stream itself, one variant, with no captions to declare.
    let own = multivariant_until(&bound, "cam_hi", &["cam_hi/index.m3u8"]).await;
    assert!(own.alternatives.is_empty());
    assert_eq!(own.variants[0].closed_captions, None);
    publisher.close().await;
}

/// The fixture with CEA-608 captions ("HI" on CC1) in an SEI NAL unit in
/// front of every video frame's own NAL units, as FFmpeg's `-a53cc` writes them.
fn with_captions(payload: &Bytes) -> Bytes {
    // AVC NALU packets (type 1) only: the sequence header stays as it is.
    if payload.len() < 5 || payload[1] != 1 || payload[0] & 0x0F != 7 {
        return payload.clone();
    }
    let sei = hls_mux::captions::h264_sei_with_608(&[[0x14, 0x20], [b'H', b'I'], [0x14, 0x2F]]);
    let mut out = payload[..5].to_vec();
    out.extend_from_slice(&(sei.len() as u32).to_be_bytes());
    out.extend_from_slice(&sei);
    out.extend_from_slice(&payload[5..]);
    Bytes::from(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captions_in_the_video_are_declared_in_the_multivariant_playlist() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "cc").await.expect("publish");
    let captioned = |kind, payload: &Bytes| match kind {
        MediaKind::Video => with_captions(payload),
        _ => payload.clone(),
    };
    publisher.send_loops_mapped(5, captioned).await;
    let playlist = multivariant_until(&bound, "cc", &["cc/index.m3u8"]).await;
    assert_eq!(playlist.alternatives.len(), 1, "{playlist:?}");
    let captions = &playlist.alternatives[0];
    assert_eq!(
        captions.media_type,
        m3u8_rs::AlternativeMediaType::ClosedCaptions
    );
    assert_eq!(captions.instream_id, Some(m3u8_rs::InstreamId::CC(1)));
    assert_eq!(
        playlist.variants[0].closed_captions,
        Some(m3u8_rs::ClosedCaptionGroupId::GroupId(
            captions.group_id.clone()
        ))
    );
    // The SEI is in the segments as it came: nothing of the frames changes.
    let segment = get(bound.http, "/live/cc/seg0.m4s").await.body;
    let sei = hls_mux::captions::h264_sei_with_608(&[[0x14, 0x20], [b'H', b'I'], [0x14, 0x2F]]);
    assert!(
        segment.windows(sei.len()).any(|w| w == sei),
        "the SEI is in the segment"
    );
    publisher.close().await;
}

/// The payloads of the top-level `mdat` boxes of a segment.
fn mdat_payloads(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= data.len() {
        let size =
            u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        assert!(size >= 8 && at + size <= data.len(), "a box at {at}");
        if &data[at + 4..at + 8] == b"mdat" {
            out.push(&data[at + 8..at + size]);
        }
        at += size;
    }
    out
}

/// The media playlist at `path` once it ends (`EXT-X-ENDLIST`; the last
/// text after [`LIMIT`]).
async fn ended_playlist(bound: &Bound, path: &str) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = get(bound.http, path).await.text();
        if text.contains("#EXT-X-ENDLIST") || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `mdat` payloads of every segment the playlist `text` at `dir` lists,
/// one after the other.
async fn media_of(bound: &Bound, dir: &str, text: &str) -> Vec<u8> {
    let mut got = Vec::new();
    for uri in text.lines().filter(|l| l.starts_with("seg")) {
        let segment = get(bound.http, &format!("{dir}/{uri}")).await.body;
        for payload in mdat_payloads(&segment) {
            got.extend_from_slice(payload);
        }
    }
    got
}

/// Each representation of an MPD: its id and its segments' start times.
fn dash_timelines(mpd: &str) -> Vec<(String, Vec<u64>)> {
    let doc = roxmltree::Document::parse(mpd).expect("the MPD is XML");
    let mut out = Vec::new();
    for representation in doc
        .descendants()
        .filter(|n| n.has_tag_name("Representation"))
    {
        let mut times = Vec::new();
        let mut t = 0;
        for s in representation.descendants().filter(|n| n.has_tag_name("S")) {
            let number = |name: &str| s.attribute(name).map(|v| v.parse::<u64>().expect(name));
            t = number("t").unwrap_or(t);
            for _ in 0..=number("r").unwrap_or(0) {
                times.push(t);
                t += number("d").expect("d");
            }
        }
        let id = representation.attribute("id").expect("id").to_owned();
        out.push((id, times));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_serves_each_track_of_the_same_segments() {
    let (bound, _server) = start(ephemeral(Config {
        dash: true,
        ..config()
    }))
    .await;
    let missing = get(bound.http, "/live/dash/manifest.mpd").await;
    assert_eq!(missing.status, 404);
    let mut publisher = Client::publish(bound.rtmp, "dash").await.expect("publish");
    publisher.send_loops(4).await;
    playlist_until(&bound, "dash", |t| t.matches("#EXTINF").count() >= 3).await;
    let live = get(bound.http, "/live/dash/manifest.mpd").await;
    assert_eq!(live.status, 200);
    assert!(live.text().contains(r#"type="dynamic""#), "{}", live.text());
    assert_eq!(live.header("content-type"), Some("application/dash+xml"));
    publisher.close().await;
    let hls = playlist_until(&bound, "dash", |t| t.contains("#EXT-X-ENDLIST")).await;
    let mpd = get(bound.http, "/live/dash/manifest.mpd").await.text();
    assert!(mpd.contains(r#"type="static""#), "{mpd}");
    let timelines = dash_timelines(&mpd);
    let ids: Vec<_> = timelines.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["video", "audio"]);
    let segments = hls.matches("#EXTINF").count();
    let mut dash_bytes = vec![0; segments];
    for (id, times) in &timelines {
        assert_eq!(times.len(), segments, "{id}: a segment per HLS segment");
        let init = get(bound.http, &format!("/live/dash/dash-{id}-0.mp4")).await;
        assert_eq!(init.status, 200, "{id} init");
        let mut files = Vec::new();
        for (msn, t) in times.iter().enumerate() {
            let file = get(bound.http, &format!("/live/dash/dash-{id}-0-{t}.m4s")).await;
            assert_eq!(file.status, 200, "{id} at {t}");
            // Every run of the track is in the HLS segment as it is.
            let muxed = get(bound.http, &format!("/live/dash/seg{msn}.m4s"))
                .await
                .body;
            for payload in mdat_payloads(&file.body) {
                assert!(
                    muxed.windows(payload.len()).any(|w| w == payload),
                    "{id}: segment {msn}'s run is the muxed segment's"
                );
                dash_bytes[msn] += payload.len();
            }
            files.push((format!("{id} {t}"), file.body));
        }
        // An independent walker: each fragment continues the last exactly.
        let media = files.iter().map(|(name, data)| (name.as_str(), &data[..]));
        let runs = testkit::fmp4::check_timeline(&init.body, media).expect("the track's timeline");
        assert!(runs > segments, "{id}: {runs} runs checked");
    }
    for (msn, bytes) in dash_bytes.iter().enumerate() {
        let muxed = get(bound.http, &format!("/live/dash/seg{msn}.m4s"))
            .await
            .body;
        let total: usize = mdat_payloads(&muxed).iter().map(|p| p.len()).sum();
        assert_eq!(
            *bytes, total,
            "segment {msn}: video + audio = the muxed media"
        );
    }
    let wrong = get(bound.http, "/live/dash/dash-video-0-12345.m4s").await;
    assert_eq!(wrong.status, 404);
}

#[test]
fn dash_refuses_mpeg_ts_and_encryption() {
    let ts = Config {
        dash: true,
        format: live_ingest::SegmentFormat::Ts,
        part_duration: None,
        ..Config::default()
    };
    let error = ts.check().expect_err("DASH needs fMP4").to_string();
    assert!(error.contains("dash"), "{error}");
    let encrypted = Config {
        dash: true,
        encrypt: Some(live_ingest::config::Encrypt::Aes128),
        ..Config::default()
    };
    let error = encrypted
        .check()
        .expect_err("no clear DASH beside encrypted HLS")
        .to_string();
    assert!(error.contains("clear"), "{error}");
}

/// The tag body `payload` (an audio message) as track `track` of an
/// Enhanced RTMP multitrack stream.
fn on_track(payload: &Bytes, track: u8) -> Bytes {
    on_track_of(MediaKind::Audio, payload, track)
}

/// The tag body `payload` (a `kind` message) as track `track` of an
/// Enhanced RTMP multitrack stream.
fn on_track_of(kind: MediaKind, payload: &Bytes, track: u8) -> Bytes {
    let tag_type = match kind {
        MediaKind::Video => flv::TagType::Video,
        _ => flv::TagType::Audio,
    };
    let tag = flv::Tag {
        tag_type,
        timestamp: 0,
        raw_timestamp: 0,
        stream_id: 0,
        encrypted: false,
        offset: 0,
        body: payload.clone(),
    };
    let mut out = Vec::new();
    for event in flv::MediaEvents::new(tag) {
        let event = match event.expect("a fixture tag") {
            flv::MediaEvent::Config(mut change) => {
                change.track = track;
                flv::MediaEvent::Config(change)
            }
            flv::MediaEvent::Frame(mut frame) => {
                frame.track = track;
                flv::MediaEvent::Frame(frame)
            }
            other => other,
        };
        let body = flv::Body::from_event(&event, &flv::WriterOptions::default());
        out.extend_from_slice(&body.expect("a multitrack body").to_bytes());
    }
    Bytes::from(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_audio_track_is_an_alternative_rendition() {
    let (bound, _server) = start(ephemeral(config())).await;
    // An RTMP player waiting before the publisher gets both tracks as sent.
    let mut player = Client::play(bound.rtmp, "mt").await.expect("play");
    let mut publisher = Client::publish(bound.rtmp, "mt").await.expect("publish");
    // What the publisher says of track 1 (Enhanced RTMP v2's per-track map).
    let track = amf0::Object::from_iter([
        ("language", amf0::Value::from("es")),
        ("name", amf0::Value::from("Comentario")),
    ]);
    let map = amf0::Object::from_iter([("1", amf0::Value::Object(track))]);
    let fields = amf0::Object::from_iter([("audioTrackIdInfoMap", amf0::Value::Object(map))]);
    let mut metadata = bytes::BytesMut::new();
    let values = [
        amf0::Value::from("@setDataFrame"),
        amf0::Value::from("onMetaData"),
        amf0::Value::EcmaArray {
            declared_len: 1,
            properties: fields,
        },
    ];
    amf0::encode_all(&values, &mut metadata);
    publisher
        .session
        .send_media(MediaKind::Data, 0, metadata.freeze());
    let both = |kind, payload: &Bytes| match kind {
        MediaKind::Audio => vec![payload.clone(), on_track(payload, 1)],
        _ => vec![payload.clone()],
    };
    publisher.send_loops_with(4, both).await;
    let second: Vec<_> = fixture_tags()
        .iter()
        .filter(|(kind, _, p)| *kind == MediaKind::Audio && !is_header_or_end(p))
        .map(|(_, _, p)| on_track(p, 1))
        .collect();
    // Every message sent: each loop's tags (the headers once, the end of
    // sequence never), audio twice.
    let tags = fixture_tags();
    let sent: usize = (0..4)
        .flat_map(|n| {
            tags.iter()
                .filter(move |(_, _, p)| !is_end(p) && (n == 0 || !is_header_or_end(p)))
        })
        .map(|(kind, _, _)| if *kind == MediaKind::Audio { 2 } else { 1 })
        .sum();
    player.collect(sent).await;
    let played: Vec<_> = (payloads(&player.media).into_iter())
        .filter(|(kind, p)| *kind == MediaKind::Audio && p.first() == Some(&0x95))
        .map(|(_, p)| p)
        .collect();
    // Its sequence header, then its frames, four times over.
    assert!(
        played.len() == 4 * second.len() + 1 && played[1..=second.len()] == second[..],
        "the player gets track 1's messages: {} of {}",
        played.len(),
        4 * second.len()
    );
    // The variant is the stream's video alone: hls.js switches no audio
    // muxed in fMP4 segments to an alternate rendition.
    let playlist = multivariant_until(&bound, "mt", &["mt/video/index.m3u8"]).await;
    let audio: Vec<_> = (playlist.alternatives.iter())
        .map(|a| {
            (
                a.media_type.clone(),
                a.uri.clone(),
                a.default,
                a.name.clone(),
            )
        })
        .collect();
    assert_eq!(
        audio,
        [
            (
                m3u8_rs::AlternativeMediaType::Audio,
                Some("mt/audio0/index.m3u8".to_owned()),
                true,
                "Audio 1".to_owned()
            ),
            (
                m3u8_rs::AlternativeMediaType::Audio,
                Some("mt/audio1/index.m3u8".to_owned()),
                false,
                "Comentario".to_owned()
            ),
        ],
        "{playlist:?}"
    );
    assert_eq!(playlist.alternatives[1].language.as_deref(), Some("es"));
    // `/stats` shows both audio tracks as the probe saw them.
    let stats: serde_json::Value =
        serde_json::from_slice(&get(bound.http, "/stats").await.body).expect("JSON");
    let tracks = stats["streams"][0]["tracks"].as_array().expect("tracks");
    let audio: Vec<_> = (tracks.iter())
        .filter(|t| t["media"] == "audio")
        .map(|t| {
            (
                t["track"].as_u64(),
                t["codec"].as_str(),
                t["frames"].as_u64() > Some(0),
            )
        })
        .collect();
    assert_eq!(
        audio,
        [
            (Some(0), Some("mp4a.40.2"), true),
            (Some(1), Some("mp4a.40.2"), true)
        ]
    );
    let group = playlist.alternatives[0].group_id.clone();
    assert_eq!(playlist.variants[0].audio, Some(group));
    publisher.close().await;
    let main = playlist_until(&bound, "mt", |t| t.contains("#EXT-X-ENDLIST")).await;
    let text = ended_playlist(&bound, "/live/mt/audio1/index.m3u8").await;
    assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
    assert!(text.contains("#EXT-X-PART:"), "LL-HLS parts too:\n{text}");
    // Its init segment holds the audio track only.
    let init = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|l| l.split('"').next())
        .expect("an init segment");
    let init = get(bound.http, &format!("/live/mt/audio1/{init}"))
        .await
        .body;
    let has = |kind: &[u8]| init.windows(4).any(|w| w == kind);
    assert!(has(b"mp4a") && !has(b"avc1"), "an audio-only init segment");
    // Every AAC frame of track 1, in order, and nothing else.
    let got = media_of(&bound, "/live/mt/audio1", &text).await;
    let raw: Vec<u8> = fixture_tags()
        .iter()
        .filter(|(kind, _, p)| *kind == MediaKind::Audio && p.len() > 2 && p[1] == 1)
        .flat_map(|(_, _, p)| p[2..].to_vec())
        .collect();
    assert_eq!(
        got.len(),
        4 * raw.len(),
        "four loops of the fixture's AAC frames"
    );
    assert!(got == raw.repeat(4), "the same frames");
    // The stream's own segments go on as before, and its single-track views
    // list the same files, cut to one track.
    assert!(main.matches("#EXTINF").count() >= 5, "{main}");
    for (view, kind, other) in [("video", b"avc1", b"mp4a"), ("audio0", b"mp4a", b"avc1")] {
        let text = get(bound.http, &format!("/live/mt/{view}/index.m3u8"))
            .await
            .text();
        assert_eq!(text, main, "{view}: the stream's playlist");
        let init = get(bound.http, &format!("/live/mt/{view}/init0.mp4"))
            .await
            .body;
        let has = |kind: &[u8]| init.windows(4).any(|w| w == kind);
        assert!(
            has(kind) && !has(other),
            "{view}: one track in its init segment"
        );
        for uri in ["seg0.m4s", "part1.0.m4s"] {
            let whole = get(bound.http, &format!("/live/mt/{uri}")).await.body;
            let cut = get(bound.http, &format!("/live/mt/{view}/{uri}")).await;
            assert_eq!(cut.status, 200, "{view}/{uri}");
            let runs = mdat_payloads(&cut.body);
            assert!(
                !runs.is_empty() && runs.iter().all(|r| whole.windows(r.len()).any(|w| w == *r))
            );
            assert!(
                cut.body.len() < whole.len(),
                "{view}/{uri}: one track of two"
            );
        }
    }
    let missing = get(bound.http, "/live/mt/audio2/index.m3u8").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_video_track_is_another_variant() {
    let (bound, _server) = start(ephemeral(config())).await;
    let mut publisher = Client::publish(bound.rtmp, "mv").await.expect("publish");
    let both = |kind, payload: &Bytes| match kind {
        MediaKind::Video => vec![payload.clone(), on_track_of(kind, payload, 1)],
        _ => vec![payload.clone()],
    };
    publisher.send_loops_with(5, both).await;
    let uris = ["mv/video/index.m3u8", "mv/video1/index.m3u8"];
    let playlist = multivariant_until(&bound, "mv", &uris).await;
    // Both variants take their audio from the one group: track 0 alone.
    let audio: Vec<_> = (playlist.alternatives.iter())
        .map(|a| a.uri.as_deref())
        .collect();
    assert_eq!(audio, [Some("mv/audio0/index.m3u8")]);
    let group = &playlist.alternatives[0].group_id;
    for variant in &playlist.variants {
        assert_eq!(variant.audio.as_ref(), Some(group), "{}", variant.uri);
        assert_eq!(
            variant.resolution.map(|r| (r.width, r.height)),
            Some((160, 120))
        );
        let codecs = variant.codecs.as_deref().unwrap_or("");
        assert!(
            codecs.starts_with("avc1.") && codecs.ends_with(",mp4a.40.2"),
            "{codecs}"
        );
    }
    publisher.close().await;
    playlist_until(&bound, "mv", |t| t.contains("#EXT-X-ENDLIST")).await;
    let text = ended_playlist(&bound, "/live/mv/video1/index.m3u8").await;
    // Every video frame of track 1, in order: the same frames as track 0's.
    let got = media_of(&bound, "/live/mv/video1", &text).await;
    let raw: Vec<u8> = fixture_tags()
        .iter()
        .filter(|(kind, _, p)| *kind == MediaKind::Video && p.len() > 5 && p[1] == 1)
        .flat_map(|(_, _, p)| p[5..].to_vec())
        .collect();
    assert_eq!(
        got.len(),
        5 * raw.len(),
        "five loops of the fixture's video frames"
    );
    assert!(got == raw.repeat(5), "the same frames");
}
