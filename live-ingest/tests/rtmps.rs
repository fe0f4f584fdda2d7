//! RTMPS in-process: certificates made by the test (rcgen, a CA of its own), our
//! RTMP client over tokio-rustls publishing to the server's RTMPS port, players on
//! the plain RTMP port, certificate reload, pushes to an RTMPS upstream, and the
//! errors for files that cannot be used.

#![cfg(feature = "tls")]

mod client;
mod pki;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use client::{fixture_tags, is_end, is_header_or_end, Client};
use live_ingest::rtmp::push::{self, PushError};
use live_ingest::{Bound, Config, ConfigError, Server};
use pki::Pki;
use rtmp_core::{MediaKind, MediaMessage, RtmpUrl};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A relay (no HLS) on ephemeral ports with RTMPS from `cert` and `key`.
fn rtmps_config(cert: &Path, key: &Path) -> Config {
    Config {
        rtmp: "127.0.0.1:0".parse().unwrap(),
        rtmps: Some("127.0.0.1:0".parse().unwrap()),
        http: "127.0.0.1:0".parse().unwrap(),
        tls_cert: Some(cert.to_owned()),
        tls_key: Some(key.to_owned()),
        hls: false,
        read_pacing: Duration::ZERO,
        ..Config::default()
    }
}

async fn start(config: Config) -> (Bound, Arc<Server>) {
    let server = Server::new(config).expect("a valid configuration");
    let bound = live_ingest::start(server.clone()).await.expect("bind");
    (bound, server)
}

/// A TLS connection to `addr` that trusts only the CA in `ca`.
async fn tls(addr: SocketAddr, ca: &Path) -> TlsStream<TcpStream> {
    let config = live_ingest::tls::client_config(Some(ca)).expect("the CA file");
    let socket = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("a server name");
    live_ingest::tls::connector(config)
        .connect(name, socket)
        .await
        .expect("the TLS handshake")
}

/// The certificate the server at `addr` presents.
async fn presented(addr: SocketAddr, ca: &Path) -> CertificateDer<'static> {
    let stream = tls(addr, ca).await;
    let certificates = stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("a certificate");
    certificates[0].clone().into_owned()
}

/// Publishes `name` over RTMPS.
async fn publish_tls(addr: SocketAddr, ca: &Path, name: &str) -> Client {
    let stream = tls(addr, ca).await;
    let url = format!("rtmps://{addr}/live");
    let mut client = Client::over(Box::new(stream), &url, |s| s.publish(name, "live"));
    client.until_started().await.expect("the publish starts");
    client
}

/// The payloads of `loops` loops of the fixture, as `Client::send_loops` sends them.
fn sent(loops: u64) -> Vec<(MediaKind, Bytes)> {
    let tags = fixture_tags();
    (0..loops)
        .flat_map(|n| {
            tags.iter()
                .filter(move |(_, _, p)| !is_end(p) && (n == 0 || !is_header_or_end(p)))
                .map(|(k, _, p)| (*k, p.clone()))
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

/// The player got exactly `expected`, in order.
fn assert_same(player: &Client, expected: &[(MediaKind, Bytes)], what: &str) {
    let got = payloads(&player.media);
    let first_difference = got.iter().zip(expected).position(|(a, b)| a != b);
    assert_eq!(
        (got.len(), first_difference),
        (expected.len(), None),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtmps_publish_is_played_over_rtmp_bit_identical() {
    let pki = Pki::new("publish");
    let issued = pki.issue("server", 1);
    let (bound, _server) = start(rtmps_config(&issued.cert, &issued.key)).await;
    let rtmps = bound.rtmps.expect("an RTMPS listener");
    assert_ne!(rtmps, bound.rtmp);
    let mut player = Client::play(bound.rtmp, "tls").await.expect("play");
    let mut publisher = publish_tls(rtmps, &pki.ca(), "tls").await;
    publisher.send_loops(3).await;
    let expected = sent(3);
    player.collect(expected.len()).await;
    assert_same(&player, &expected, "RTMPS in, RTMP out");
    publisher.close().await;
    // A plain RTMP handshake (C0 C1) on the RTMPS port: closed by the TLS layer
    // (at most with an alert), never answered with S0.
    let mut plain = TcpStream::connect(rtmps).await.unwrap();
    let mut c0c1 = vec![3u8];
    c0c1.resize(1537, 0);
    plain.write_all(&c0c1).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the RTMPS port kept a plain RTMP client open");
    assert_ne!(answer.first(), Some(&3), "answered plain RTMP: {answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_serves_the_new_certificate_and_keeps_open_streams() {
    let pki = Pki::new("reload");
    let first = pki.issue("first", 1);
    let (bound, server) = start(rtmps_config(&first.cert, &first.key)).await;
    let rtmps = bound.rtmps.expect("an RTMPS listener");
    assert_eq!(presented(rtmps, &pki.ca()).await, first.der);
    let mut player = Client::play(bound.rtmp, "renewed").await.expect("play");
    let mut publisher = publish_tls(rtmps, &pki.ca(), "renewed").await;
    publisher.send_loops(1).await;

    // A renewed certificate and key, written over the same files.
    let second = pki.issue("second", 2);
    std::fs::rename(&second.cert, &first.cert).unwrap();
    std::fs::rename(&second.key, &first.key).unwrap();
    server.reload_tls().expect("the renewed pair is used");
    assert_eq!(
        presented(rtmps, &pki.ca()).await,
        second.der,
        "a new connection"
    );
    publisher.send_loops(1).await;

    // A broken certificate file: refused, naming the file and what it lacks; the
    // renewed certificate stays in use.
    std::fs::write(&first.cert, "not a certificate\n").unwrap();
    let error = server.reload_tls().expect_err("a broken file is refused");
    let said = error.to_string();
    assert!(said.contains(&*first.cert.to_string_lossy()), "{said}");
    assert!(said.contains("CERTIFICATE"), "{said}");
    // A certificate with another key than its own: refused too.
    let third = pki.issue("third", 3);
    std::fs::copy(&third.cert, &first.cert).unwrap();
    let error = server
        .reload_tls()
        .expect_err("a key of another certificate");
    assert!(error.to_string().contains("rustls refuses"), "{error}");
    assert_eq!(
        presented(rtmps, &pki.ca()).await,
        second.der,
        "after failed reloads"
    );
    let metrics = server.metrics.render(0, &[]);
    assert!(
        metrics.contains("live_ingest_tls_reload_failures_total 2\n"),
        "{metrics}"
    );

    // The publisher connected before all of this is still streaming.
    publisher.send_loops(1).await;
    let expected = sent(3);
    player.collect(expected.len()).await;
    assert_same(&player, &expected, "across the reloads");
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_reaches_an_rtmps_upstream_and_an_unknown_ca_is_a_clear_error() {
    let pki = Pki::new("push");
    let issued = pki.issue("upstream", 7);
    let (upstream, b) = start(rtmps_config(&issued.cert, &issued.key)).await;
    let rtmps = upstream.rtmps.expect("an RTMPS listener");
    let url = RtmpUrl::parse(&format!("rtmps://{rtmps}/live")).unwrap();
    let origin = Config {
        rtmp: "127.0.0.1:0".parse().unwrap(),
        http: "127.0.0.1:0".parse().unwrap(),
        hls: false,
        read_pacing: Duration::ZERO,
        push: vec![url.clone()],
        push_ca: Some(pki.ca()),
        ..Config::default()
    };
    let (origin, _a) = start(origin).await;
    let mut player = Client::play(upstream.rtmp, "pushed").await.expect("play");
    let mut publisher = Client::publish(origin.rtmp, "pushed")
        .await
        .expect("publish");
    // A push joins like a late player (headers and the current GOP); sending
    // once it is up makes the whole stream comparable.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.hub.is_live("live/pushed") {
        assert!(
            Instant::now() < deadline,
            "the push never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    publisher.send_loops(2).await;
    let expected = sent(2);
    player.collect(expected.len()).await;
    assert_same(&player, &expected, "through the RTMPS push");
    publisher.close().await;

    // Trusting another CA: the handshake fails and says why.
    let other = Pki::new("push-other");
    let stranger = Server::new(Config {
        push_ca: Some(other.ca()),
        ..Config::default()
    })
    .expect("a valid configuration");
    let started = Instant::now();
    let error = push::run(&stranger, &url, "live/x", "x", 1)
        .await
        .expect_err("an untrusted upstream");
    assert!(
        matches!(error, PushError::Tls { .. }),
        "{error:?} after {:?}",
        started.elapsed()
    );
    let said = error.to_string();
    assert!(
        said.contains("127.0.0.1") && said.contains("certificate"),
        "{said}"
    );
    // A server with no TLS settings at all (an application's own push): the
    // system's roots, which do not hold the test CA.
    let plain = Server::new(Config::default()).expect("a valid configuration");
    let error = push::run(&plain, &url, "live/x", "x", 1)
        .await
        .expect_err("an upstream the system does not trust");
    assert!(error.to_string().contains("certificate"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_tls_client_is_dropped_after_the_handshake_timeout() {
    let pki = Pki::new("silent");
    let issued = pki.issue("server", 1);
    let mut config = rtmps_config(&issued.cert, &issued.key);
    config.handshake_timeout = Duration::from_millis(500);
    let (bound, server) = start(config).await;
    let mut silent = TcpStream::connect(bound.rtmps.unwrap()).await.unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buffer)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "still open after {:?}: {read:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    let metrics = server.metrics.render(0, &[]);
    assert!(
        metrics.contains("live_ingest_tls_handshake_failures_total 1\n"),
        "{metrics}"
    );
}

#[test]
fn files_that_cannot_be_used_are_named_with_what_was_expected() {
    let pki = Pki::new("errors");
    let issued = pki.issue("server", 1);
    let server = |cert: &Path, key: &Path| match Server::new(rtmps_config(cert, key)) {
        Ok(_) => panic!("{} and {} were accepted", cert.display(), key.display()),
        Err(ConfigError::Tls(error)) => error.to_string(),
        Err(other) => panic!("not a TLS error: {other}"),
    };
    let missing = pki.dir.join("missing.pem");
    let said = server(&missing, &issued.key);
    assert!(
        said.contains("missing.pem") && said.contains("certificate chain"),
        "{said}"
    );
    // The certificate given as the key.
    let said = server(&issued.cert, &issued.cert);
    assert!(
        said.contains("server.pem") && said.contains("PRIVATE KEY"),
        "{said}"
    );
    // An empty certificate file.
    let empty = pki.dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let said = server(&empty, &issued.key);
    assert!(
        said.contains("empty.pem") && said.contains("no such block"),
        "{said}"
    );
    // Settings that need each other.
    let mut config = rtmps_config(&issued.cert, &issued.key);
    config.tls_key = None;
    let said = Server::new(config).err().expect("refused").to_string();
    assert!(said.starts_with("tls_key:"), "{said}");
    // A CA file for pushes that is not one.
    let said = Server::new(Config {
        push_ca: Some(issued.key.clone()),
        ..Config::default()
    })
    .err()
    .expect("refused")
    .to_string();
    assert!(
        said.contains("server.key") && said.contains("CERTIFICATE"),
        "{said}"
    );
}
