//! The program drains on SIGTERM: publishers are asked to reconnect (Enhanced
//! RTMP v2 reconnect request), and it exits once the last one has left.

#![cfg(all(unix, feature = "cli"))]

mod client;
mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::{Client, LIMIT};
use rtmp_core::ClientEvent;

/// Starts the program on free ports; returns it and its RTMP address.
fn start_program() -> (common::Process, SocketAddr) {
    let rtmp: SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let http = format!("127.0.0.1:{}", common::free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_live-ingest"))
        .args(["--rtmp", &rtmp.to_string(), "--http", &http])
        .args([
            "--drain-timeout",
            "20",
            "--drain-to",
            "rtmp://next.example/live",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start live-ingest");
    // Killed when dropped, should the test fail half-way.
    (common::Process(child), rtmp)
}

async fn publish_when_up(rtmp: SocketAddr) -> Client {
    let deadline = Instant::now() + LIMIT;
    loop {
        if tokio::net::TcpStream::connect(rtmp).await.is_ok() {
            return Client::publish(rtmp, "cam").await.expect("publish");
        }
        assert!(Instant::now() < deadline, "live-ingest did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigterm_asks_publishers_to_reconnect_then_exits_when_they_left() {
    let (mut child, rtmp) = start_program();
    let mut publisher = publish_when_up(rtmp).await;
    publisher.send_loops(1).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + LIMIT;
    let asked = loop {
        let events = publisher.step(Duration::from_millis(100)).await;
        let asked = events.into_iter().find_map(|e| match e {
            ClientEvent::ReconnectRequested { tc_url, .. } => Some(tc_url),
            _ => None,
        });
        if let Some(asked) = asked {
            break asked;
        }
        assert!(
            Instant::now() < deadline,
            "no reconnect request after SIGTERM"
        );
    };
    assert_eq!(asked.as_deref(), Some("rtmp://next.example/live"));
    // Still draining while the publisher stays (the timeout is 20 s).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(child.0.try_wait().expect("wait").is_none(), "exited early");
    let left = Instant::now();
    publisher.close().await;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            left.elapsed() < LIMIT,
            "still running after its last publisher left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    eprintln!("exited {:?} after the publisher left", left.elapsed());
}
