//! Edge pull (feature `cluster`): an RTMP player on this node asks for a key
//! that is live on another node of the cluster, so this node plays it from
//! that node ([`rtmp_core::ClientSession`]) and publishes what comes into its
//! own hub. Every RTMP player and HTTP-FLV reader of the key here shares the
//! one pull; it stops when the owner's stream ends, when the owner cannot be
//! reached, or when nobody here has watched it for [`IDLE`].
//!
//! The pulled stream is not packaged here (its HLS stays the owner's, which
//! this node proxies) and takes no lease: the owner keeps the key.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, RtmpUrl};
use tokio::net::TcpStream;
use tracing::{info, warn};

use crate::cluster::Owner;
use crate::hub::Packet;
use crate::stall::WriteStall;
use crate::Server;
use rtmp_core::io::{read_into, sleep_until, write_output};

/// A pull with no subscriber here for this long stops.
pub const IDLE: Duration = Duration::from_secs(10);

/// Connect and play must be done within this.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys being pulled on this node.
#[derive(Debug, Default)]
pub struct Pulls {
    keys: Mutex<HashSet<String>>,
}

impl Pulls {
    fn start(&self, key: &str) -> bool {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned())
    }

    fn stop(&self, key: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Starts pulling `key` (`APP/NAME`) from `owner`, unless it is pulled
/// already or live here.
pub fn ensure(server: &Arc<Server>, key: &str, owner: Owner) {
    if server.hub.is_live(key) || !server.pulls.start(key) {
        return;
    }
    let server = server.clone();
    let key = key.to_owned();
    tokio::spawn(async move {
        let id = server.next_id();
        match pull(&server, &key, &owner, id).await {
            Ok(()) => info!(key, from = owner.rtmp, "edge pull ended"),
            Err(error) => warn!(key, from = owner.rtmp, %error, "edge pull failed"),
        }
        server.hub.end_publish(&key, id);
        server.pulls.stop(&key);
    });
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn pull(server: &Server, key: &str, owner: &Owner, id: u64) -> Result<(), BoxError> {
    let (app, name) = key.split_once('/').ok_or("a key is APP/NAME")?;
    let url = RtmpUrl::parse(&format!("{}/{app}", owner.rtmp.trim_end_matches('/')))?;
    let connect = TcpStream::connect((url.host.as_str(), url.port));
    let socket = tokio::time::timeout(START_TIMEOUT, connect)
        .await
        .map_err(|_| "no connection to the owner in time")??;
    socket.set_nodelay(true)?;
    let mut socket = WriteStall::new(socket, server.config.idle_timeout);
    let mut config = ClientConfig::new(&url.app, url.tc_url());
    config.start_timeout = START_TIMEOUT;
    let mut client = ClientSession::new(config, Instant::now());
    client.play(name);
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut publishing = None;
    let mut idle_since: Option<Instant> = None;
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        write_output(&mut socket, client.output()).await?;
        let deadline = client.poll_timeout();
        tokio::select! {
            read = read_into(&mut socket, &mut input) => {
                if read? == 0 {
                    return Ok(());
                }
                client.handle_input(&mut input, Instant::now())?;
            }
            () = sleep_until(deadline) => client.handle_timeout(Instant::now())?,
            _ = check.tick() => {
                if server.hub.subscribers(key) > 0 {
                    idle_since = None;
                } else if idle_since.get_or_insert_with(Instant::now).elapsed() >= IDLE {
                    return Ok(());
                }
            }
        }
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::PlayStarted { .. } => {
                    let handle = server
                        .hub
                        .start_publish(key, id)
                        .map_err(|_| "the key went live here meanwhile")?;
                    info!(key, from = owner.rtmp, "edge pull playing");
                    publishing = Some(handle);
                }
                ClientEvent::Media(message) => {
                    if let Some(publishing) = &publishing {
                        publishing.publish(Packet {
                            kind: message.kind,
                            timestamp: message.timestamp,
                            payload: crate::hub::compact(message.payload),
                        });
                    }
                }
                ClientEvent::Status { status, .. } => {
                    let code = status.code.as_str();
                    if status.is_error()
                        || code.ends_with("UnpublishNotify")
                        || code.ends_with("Play.Stop")
                    {
                        return Ok(());
                    }
                }
                ClientEvent::ConnectFailed(status) => {
                    return Err(format!("{}: {}", status.code, status.description).into());
                }
                _ => {}
            }
        }
    }
}
