//! The RTMP play viewer: each track's timestamps in order.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, MediaKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Counters, Target};

/// How long a viewer waits before playing again a stream that is gone.
const RETRY: Duration = Duration::from_secs(1);

/// Plays the key for ever, again each time the connection ends.
pub(super) async fn run(target: Target) {
    let Some(addr) = target.rtmp else {
        return;
    };
    let counters = &target.counters;
    loop {
        match play(addr, &target).await {
            Ok(()) => Counters::add(&counters.waits, 1),
            Err(()) => Counters::add(&counters.failures, 1),
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// One play session: `Ok` when the stream or connection ended normally.
async fn play(addr: std::net::SocketAddr, target: &Target) -> Result<(), ()> {
    let counters = &target.counters;
    let mut socket = TcpStream::connect(addr).await.map_err(|_| ())?;
    let _ = socket.set_nodelay(true);
    let tc_url = format!("rtmp://{addr}/{}", target.app);
    let mut session = ClientSession::new(ClientConfig::new(&target.app, &tc_url), Instant::now());
    session.play(&target.name);
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut out = BytesMut::new();
    let mut last = [None::<u64>; 2];
    let mut playing = false;
    let result = loop {
        session.output().copy_to(&mut out);
        if !out.is_empty() {
            if socket.write_all(&out).await.is_err() {
                break Err(());
            }
            out.clear();
        }
        let read = tokio::time::timeout(Duration::from_secs(15), socket.read_buf(&mut input)).await;
        match read {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => Counters::add(&counters.bytes, n as u64),
            Ok(Err(_)) | Err(_) => break Err(()),
        }
        if session.handle_input(&mut input, Instant::now()).is_err() {
            break Err(());
        }
        let mut ended = false;
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::PlayStarted { .. } => {
                    playing = true;
                    Counters::add(&counters.reading, 1);
                }
                ClientEvent::Media(message) => {
                    let track = match message.kind {
                        MediaKind::Audio => 0,
                        MediaKind::Video => 1,
                        _ => continue,
                    };
                    Counters::add(&counters.reads, 1);
                    if last[track].is_some_and(|t| message.timestamp < t) {
                        Counters::add(&counters.disorder, 1);
                    }
                    last[track] = Some(message.timestamp);
                }
                ClientEvent::Status { status, .. } => {
                    // The publisher left (UnpublishNotify, Play.Stop) or the
                    // key is not live: wait and play again.
                    let code = status.code.as_str();
                    if code.ends_with("Play.PublishNotify") || code.ends_with("Play.Reset") {
                        // A new publisher: its own timeline.
                        last = [None; 2];
                    }
                    if status.is_error()
                        || code.ends_with("UnpublishNotify")
                        || code.ends_with("Stop")
                    {
                        ended = true;
                    }
                }
                ClientEvent::ConnectFailed(_) => ended = true,
                _ => {}
            }
        }
        if ended {
            break Ok(());
        }
    };
    if playing {
        counters
            .reading
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
    result
}
