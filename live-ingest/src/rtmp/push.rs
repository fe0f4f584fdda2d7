//! Re-publishing a stream to an upstream server with [`rtmp_core::ClientSession`]:
//! the push subscribes to the stream in the hub like a player, once the upstream
//! has accepted the publish, so the metadata, headers and GOP go out first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, EnhancedCapabilities, RtmpUrl};
use tokio::net::TcpStream;
use tracing::{info, warn};

use crate::hub::{queue, Delivery};
use crate::Server;
use rtmp_core::io::{read_into, sleep_until, write_output};

/// Time allowed to connect and have the publish accepted.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a push ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// No connection within [`CONNECT_TIMEOUT`].
    #[error("no connection to the upstream within {CONNECT_TIMEOUT:?}")]
    Timeout,
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The upstream broke the protocol, or did not accept the publish within
    /// [`CONNECT_TIMEOUT`] (`SessionError::StartTimeout`).
    #[error("rtmp: {0}")]
    Session(#[from] rtmp_core::SessionError),
    /// The upstream closed the connection.
    #[error("the upstream closed the connection")]
    Closed,
    /// The upstream refused the connect or the publish.
    #[error("the upstream refused: {code}: {description}")]
    Refused {
        /// The status code (`NetStream.Publish.BadName`).
        code: String,
        /// Its description.
        description: String,
    },
}

/// Starts re-publishing `key` to every `push` upstream of the server, named
/// `name` there.
pub fn start_all(server: &Arc<Server>, key: &str, name: &str) {
    for upstream in &server.config.push {
        spawn(
            server.clone(),
            upstream.clone(),
            key.to_owned(),
            name.to_owned(),
        );
    }
}

/// Starts re-publishing `key` (named `name` upstream) to `upstream` in a new task.
pub fn spawn(server: Arc<Server>, upstream: RtmpUrl, key: String, name: String) {
    tokio::spawn(async move {
        let id = server.next_id();
        match run(&server, &upstream, &key, &name, id).await {
            Ok(()) => info!(key, %upstream, "push finished"),
            Err(error) => warn!(key, %upstream, %error, "push failed"),
        }
        server.hub.unsubscribe(&key, id);
    });
}

async fn run(
    server: &Server,
    upstream: &RtmpUrl,
    key: &str,
    name: &str,
    id: u64,
) -> Result<(), PushError> {
    let connect = TcpStream::connect((upstream.host.as_str(), upstream.port));
    let socket = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| PushError::Timeout)??;
    socket.set_nodelay(true)?;
    let (mut reader, mut writer) = socket.into_split();
    let mut config = ClientConfig::new(&upstream.app, upstream.tc_url());
    config.enhanced = Some(EnhancedCapabilities::forwarding());
    config.start_timeout = CONNECT_TIMEOUT;
    let mut client = ClientSession::new(config, Instant::now());
    client.publish(name, "live");
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut queue: Option<queue::Receiver> = None;

    loop {
        write_output(&mut writer, client.output()).await?;
        let deadline = client.poll_timeout();
        tokio::select! {
            read = read_into(&mut reader, &mut input) => {
                if read? == 0 {
                    return Err(PushError::Closed);
                }
                client.handle_input(&mut input, Instant::now())?;
            }
            delivery = next(&mut queue) => match delivery {
                Some(Delivery::Packet(packet)) => {
                    client.send_media(packet.kind, packet.timestamp, packet.payload);
                }
                Some(Delivery::PublishEnd) | None => {
                    client.close();
                    write_output(&mut writer, client.output()).await?;
                    return Ok(());
                }
                Some(Delivery::PublishStart) => {}
            },
            () = sleep_until(deadline) => client.handle_timeout(Instant::now())?,
        }
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::PublishStarted { .. } => {
                    // Subscribe only now: the primer (metadata, headers, GOP) goes out at once.
                    queue = Some(server.hub.subscribe(key, id).0);
                    info!(key, %upstream, "pushing");
                }
                ClientEvent::ConnectFailed(status) => {
                    return Err(PushError::Refused {
                        code: status.code,
                        description: status.description,
                    })
                }
                ClientEvent::Status { status, .. } if status.is_error() => {
                    return Err(PushError::Refused {
                        code: status.code,
                        description: status.description,
                    });
                }
                _ => {}
            }
        }
    }
}

async fn next(queue: &mut Option<queue::Receiver>) -> Option<Delivery> {
    match queue {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
