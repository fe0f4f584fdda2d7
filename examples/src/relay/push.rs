//! Re-publishing a stream to an upstream server with [`rtmp_core::ClientSession`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, EnhancedCapabilities, RtmpUrl};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::connection::write_chunks;
use super::hub::Delivery;
use super::Relay;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts re-publishing `key` (named `name` upstream) to `upstream` in a new task.
pub fn spawn(relay: Arc<Relay>, upstream: RtmpUrl, key: String, name: String) {
    tokio::spawn(async move {
        let id = relay.next_id();
        match run(&relay, &upstream, &key, &name, id).await {
            Ok(()) => info!(key, %upstream, "push finished"),
            Err(error) => warn!(key, %upstream, %error, "push failed"),
        }
        relay.hub.unsubscribe(&key, id);
    });
}

async fn run(
    relay: &Relay,
    upstream: &RtmpUrl,
    key: &str,
    name: &str,
    id: u64,
) -> Result<(), String> {
    let socket = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((upstream.host.as_str(), upstream.port)),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?
    .map_err(|e| format!("connect: {e}"))?;
    socket.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = socket.into_split();
    let mut config = ClientConfig::new(&upstream.app, upstream.tc_url());
    config.enhanced = Some(EnhancedCapabilities::forwarding());
    let mut client = ClientSession::new(config, Instant::now());
    client.publish(name, "live");
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut queue: Option<mpsc::Receiver<Delivery>> = None;
    let started = tokio::time::Instant::now();

    loop {
        write_chunks(&mut writer, client.output())
            .await
            .map_err(|e| format!("write: {e}"))?;
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                if read.map_err(|e| format!("read: {e}"))? == 0 {
                    return Err("upstream closed the connection".into());
                }
                client.handle_input(&mut input, Instant::now()).map_err(|e| e.to_string())?;
            }
            delivery = async { match queue.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                match delivery {
                    Some(Delivery::Packet(packet)) => {
                        client.send_media(packet.kind, packet.timestamp, packet.payload);
                    }
                    Some(Delivery::PublishEnd) | None => {
                        client.close();
                        write_chunks(&mut writer, client.output()).await.map_err(|e| format!("write: {e}"))?;
                        return Ok(());
                    }
                    Some(Delivery::PublishStart) => {}
                }
            }
            () = tokio::time::sleep_until(started + CONNECT_TIMEOUT), if queue.is_none() => {
                return Err("upstream did not accept the publish in time".into());
            }
        }
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::PublishStarted { .. } => {
                    // Subscribe only now: the primer (metadata, headers, GOP) goes out at once.
                    let (tx, rx) = mpsc::channel(relay.config.limits.queue);
                    relay.hub.subscribe(key, id, tx);
                    queue = Some(rx);
                    info!(key, %upstream, "pushing");
                }
                ClientEvent::ConnectFailed(status) => {
                    return Err(format!("connect refused: {}", status.code))
                }
                ClientEvent::Status { status, .. } if status.is_error() => {
                    return Err(format!(
                        "upstream said {}: {}",
                        status.code, status.description
                    ));
                }
                _ => {}
            }
        }
    }
}
