//! A cluster of three `live-ingest` processes on one Redis (issue 13): a key is
//! live on one node at a time, any node answers its HLS, and when its node is
//! killed the publisher reconnecting to another node continues the playlist.
//!
//! Needs `redis-server` (Debian's package; CI installs it) and the program
//! built (`--features cli`). Everything on 127.0.0.1, leases of 2 s.

mod client;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::{Client, LIMIT};

const LEASE_TTL: Duration = Duration::from_secs(2);

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("its address")
}

/// A child killed (SIGKILL) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_listening(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + LIMIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn redis() -> (Killed, SocketAddr) {
    let addr = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run redis-server (apt install redis-server)");
    let child = Killed(child);
    wait_listening(addr, "redis-server").await;
    (child, addr)
}

struct Node {
    process: Killed,
    rtmp: SocketAddr,
    http: SocketAddr,
}

async fn node(redis: SocketAddr) -> Node {
    let (rtmp, http) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_live-ingest"))
        .arg("--rtmp")
        .arg(rtmp.to_string())
        .arg("--http")
        .arg(http.to_string())
        .arg("--cluster")
        .arg(format!("redis://{redis}"))
        .args(["--lease-ttl", &LEASE_TTL.as_secs_f64().to_string()])
        .args(["--target-duration", "1", "--read-pacing", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run live-ingest");
    let process = Killed(child);
    wait_listening(rtmp, "live-ingest").await;
    wait_listening(http, "live-ingest").await;
    Node {
        process,
        rtmp,
        http,
    }
}

/// How many GETs Redis answered so far (`INFO commandstats`).
fn redis_gets(redis: SocketAddr) -> u64 {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "INFO", "commandstats"])
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// `GET path` on `addr`: status and body text.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = client::get(addr, path).await;
    (response.status, response.text())
}

/// The last media sequence number listed, and how many discontinuities.
fn last_msn(playlist: &str) -> (u64, usize) {
    let first: u64 = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no media sequence in {playlist}"));
    let segments = playlist
        .lines()
        .filter(|l| l.starts_with("#EXTINF"))
        .count() as u64;
    let discontinuities = playlist.matches("#EXT-X-DISCONTINUITY\n").count();
    (first + segments - 1, discontinuities)
}

#[tokio::test]
#[ignore = "needs redis-server (apt install redis-server) and the program (--features cli)"]
async fn one_node_per_key_any_node_answers_and_a_dead_nodes_keys_move_on() {
    let (_redis, redis_addr) = redis().await;
    let a = node(redis_addr).await;
    let b = node(redis_addr).await;
    let c = node(redis_addr).await;

    // Published on A: 8 loops of 1.6 s, five 1-s segments and more.
    let mut publisher = Client::publish(a.rtmp, "show").await.expect("A accepts");
    publisher.send_loops(8).await;
    let on_a = "/live/show/index.m3u8";
    let mut playlist = String::new();
    let deadline = Instant::now() + LIMIT;
    while !playlist.contains("#EXTINF") {
        assert!(Instant::now() < deadline, "no segment on A: {playlist}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        playlist = get(a.http, on_a).await.1;
    }

    // The same key on B is refused, naming the node that has it.
    let refused = Client::publish(b.rtmp, "show")
        .await
        .err()
        .expect("B refuses");
    assert!(refused.contains("BadName"), "{refused}");

    // B and C answer the playlist and its segments from A.
    let (status, through_b) = get(b.http, on_a).await;
    assert_eq!(status, 200, "{through_b}");
    assert_eq!(last_msn(&through_b).0, last_msn(&playlist).0);
    let init = client::get(c.http, "/live/show/init0.mp4").await;
    assert_eq!(init.status, 200, "init through C");
    let direct = client::get(b.http, "/live/show/init0.mp4").await;
    assert!(
        init.body.len() > 100 && init.body == direct.body,
        "the same init via B and C"
    );

    // Owners are remembered until they change: 50 more requests via B ask
    // Redis about the key at most once more.
    let before = redis_gets(redis_addr);
    for _ in 0..50 {
        assert_eq!(get(b.http, on_a).await.0, 200);
    }
    let lookups = redis_gets(redis_addr) - before;
    eprintln!("50 proxied requests: {lookups} owner lookups");
    assert!(lookups <= 1, "{lookups} lookups for 50 requests");

    // A dies (SIGKILL: no release), its playlist state saved (every 100 ms
    // while it changes). The publisher reconnects to B, which takes the key
    // once the lease expired.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (before, _) = last_msn(&get(a.http, on_a).await.1);
    drop(a.process);
    let killed = Instant::now();
    let mut publisher = loop {
        match Client::publish(b.rtmp, "show").await {
            Ok(publisher) => break publisher,
            Err(refused) => {
                assert!(
                    killed.elapsed() < LEASE_TTL + Duration::from_secs(5),
                    "B still refuses {:?} after A died: {refused}",
                    killed.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let took = killed.elapsed();
    eprintln!("B took the key {took:?} after A was killed (lease {LEASE_TTL:?})");
    publisher.send_loops(6).await;

    // The playlist goes on from A's: later numbers, one discontinuity, a
    // new init URI; C answers the same from B.
    let deadline = Instant::now() + LIMIT;
    let continued = loop {
        let (status, text) = get(c.http, on_a).await;
        if status == 200 && text.contains("#EXTINF") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no playlist via C: {status} {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first: u64 = continued
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.parse().ok())
        .expect("a media sequence");
    assert!(first > before, "{first} after A's {before}:\n{continued}");
    // One discontinuity: in the window, or counted once it left it.
    let left_window: usize = continued
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-DISCONTINUITY-SEQUENCE:"))
        .map_or(0, |n| n.parse().expect("a number"));
    let discontinuities = last_msn(&continued).1 + left_window;
    assert_eq!(discontinuities, 1, "one discontinuity:\n{continued}");
    assert!(
        !continued.contains("init0.mp4"),
        "a new init URI:\n{continued}"
    );

    // The publisher leaves B: the key is free at once, and C continues it.
    publisher.close().await;
    let (last_on_b, _) = last_msn(&get(b.http, on_a).await.1);
    let left = Instant::now();
    let mut publisher = loop {
        match Client::publish(c.rtmp, "show").await {
            Ok(publisher) => break publisher,
            Err(refused) => {
                assert!(
                    left.elapsed() < LEASE_TTL,
                    "the release did not free the key: {refused}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    eprintln!(
        "C took the key {:?} after the publisher left B",
        left.elapsed()
    );
    publisher.send_loops(4).await;
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = get(c.http, on_a).await.1;
        let first = text
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
            .and_then(|n| n.parse::<u64>().ok());
        if text.contains("#EXTINF") && first.is_some() {
            assert!(first > Some(last_on_b), "C after B's {last_on_b}:\n{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no playlist on C: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((b.process, c.process));
}

/// `live_ingest_publishers` on the node at `http`.
async fn publishers(http: SocketAddr) -> Option<u64> {
    let (_, text) = get(http, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("live_ingest_publishers "))
        .and_then(|n| n.trim().parse().ok())
}

/// A node whose lease was taken by another token (its renewals could not
/// reach Redis until the lease expired, and another node took the key)
/// stops its publisher at the next renewal: never two publishers of a key
/// for longer than a third of the lease.
#[tokio::test]
#[ignore = "needs redis-server (apt install redis-server) and the program (--features cli)"]
async fn a_node_that_lost_its_lease_stops_its_publisher() {
    let (_redis, redis_addr) = redis().await;
    let a = node(redis_addr).await;
    let mut publisher = Client::publish(a.rtmp, "lost").await.expect("A accepts");
    publisher.send_loops(2).await;
    assert_eq!(publishers(a.http).await, Some(1));
    let foreign = r#"{"node":"other","token":"theirs","rtmp":"rtmp://192.0.2.1:1935","http":"http://192.0.2.1:8080"}"#;
    let set = Command::new("redis-cli")
        .args(["-p", &redis_addr.port().to_string()])
        .args(["SET", "live-ingest:lease:live/lost", foreign, "PX", "60000"])
        .output()
        .expect("run redis-cli");
    assert!(set.status.success(), "{set:?}");
    let taken = Instant::now();
    while publishers(a.http).await != Some(0) {
        assert!(
            taken.elapsed() < LEASE_TTL / 3 + Duration::from_secs(2),
            "A still publishes {:?} after losing its lease",
            taken.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "A stopped its publisher {:?} after the lease was taken",
        taken.elapsed()
    );
    drop(a.process);
}

/// `live_ingest_players` (RTMP players and HTTP-FLV readers) on the node at `http`.
async fn players(http: SocketAddr) -> Option<u64> {
    let (_, text) = get(http, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("live_ingest_players "))
        .and_then(|n| n.trim().parse().ok())
}

/// RTMP players on a node that does not have the key get it from the node
/// that does (edge pull): both players here share one pull, which is one
/// player on the owner, and they receive the publisher's payloads.
#[tokio::test]
#[ignore = "needs redis-server (apt install redis-server) and the program (--features cli)"]
async fn rtmp_players_on_another_node_share_one_pull_from_the_owner() {
    let (_redis, redis_addr) = redis().await;
    let a = node(redis_addr).await;
    let b = node(redis_addr).await;
    let mut publisher = Client::publish(a.rtmp, "pulled").await.expect("A accepts");
    publisher.send_loops(1).await;
    let sending = tokio::spawn(async move {
        for _ in 0..60 {
            publisher.send_loops(1).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        publisher
    });
    let mut first = Client::play(b.rtmp, "pulled").await.expect("B plays");
    let mut second = Client::play(b.rtmp, "pulled").await.expect("B plays again");
    first.collect(300).await;
    second.collect(300).await;
    let sent: std::collections::HashSet<Vec<u8>> = client::fixture_tags()
        .into_iter()
        .map(|(_, _, payload)| payload.to_vec())
        .collect();
    for (n, player) in [&first, &second].into_iter().enumerate() {
        let media: Vec<_> = player
            .media
            .iter()
            .filter(|m| m.kind != rtmp_core::MediaKind::Data)
            .collect();
        assert!(media.len() >= 300, "player {n}: {} messages", media.len());
        assert!(
            media.iter().all(|m| sent.contains(&m.payload.to_vec())),
            "player {n}: payloads as published"
        );
    }
    assert_eq!(players(a.http).await, Some(1), "one pull on the owner");
    assert_eq!(players(b.http).await, Some(2), "two players on B");
    let _ = sending.await;
}
