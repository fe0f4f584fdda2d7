//! Re-publishing a stream to an upstream server with [`rtmp_core::ClientSession`]:
//! the push subscribes to the stream in the hub like a player, once the upstream
//! has accepted the publish, so the metadata, headers and GOP go out first.
//!
//! An `rtmps://` upstream (feature `tls`) is reached over TLS, its certificate
//! checked against the server's `push_ca` or the system's root certificates, and
//! its host name (or IP address) checked against the certificate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtmp_core::{ClientConfig, ClientEvent, ClientSession, EnhancedCapabilities, RtmpUrl};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{info, warn};

use crate::hub::{queue, Delivery};
use crate::stall::WriteStall;
use crate::Server;
use rtmp_core::io::{read_into, sleep_until, write_output};

/// Time allowed to connect and have the publish accepted.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a push ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// No connection (and TLS handshake, for `rtmps://`) within [`CONNECT_TIMEOUT`].
    #[error("no connection to the upstream within {CONNECT_TIMEOUT:?}")]
    Timeout,
    /// The TLS handshake failed: most often the upstream's certificate is not
    /// trusted (`push_ca`) or not for this host name.
    #[error("TLS with {host}: {source}")]
    Tls {
        /// The upstream's host, as the certificate must name it.
        host: String,
        /// What failed (rustls's reason inside).
        source: std::io::Error,
    },
    /// The upstream is `rtmps://` but TLS cannot be set up here: the `tls`
    /// feature is off, or the host is not a valid server name.
    #[error("rtmps://{host}: {reason}")]
    TlsUnavailable {
        /// The upstream's host.
        host: String,
        /// Why.
        reason: String,
    },
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

/// Re-publishes `key` (named `name` upstream, subscribed in the hub as `id`)
/// to `upstream` until the stream ends or the upstream fails. [`spawn`] runs it
/// in a task and logs how it ended; an application with its own retry policy
/// calls it directly.
pub async fn run(
    server: &Server,
    upstream: &RtmpUrl,
    key: &str,
    name: &str,
    id: u64,
) -> Result<(), PushError> {
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    let connect = TcpStream::connect((upstream.host.as_str(), upstream.port));
    let socket = tokio::time::timeout_at(deadline, connect)
        .await
        .map_err(|_| PushError::Timeout)??;
    socket.set_nodelay(true)?;
    if !upstream.tls {
        return drive(socket, server, upstream, key, name, id).await;
    }
    #[cfg(feature = "tls")]
    {
        let socket = tls_connect(server, upstream, socket, deadline).await?;
        drive(socket, server, upstream, key, name, id).await
    }
    #[cfg(not(feature = "tls"))]
    Err(PushError::TlsUnavailable {
        host: upstream.host.clone(),
        reason: "live-ingest was built without its tls feature".into(),
    })
}

/// The TLS handshake with `upstream` over `socket`, done by `deadline`.
#[cfg(feature = "tls")]
async fn tls_connect(
    server: &Server,
    upstream: &RtmpUrl,
    socket: TcpStream,
    deadline: tokio::time::Instant,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, PushError> {
    let unavailable = |reason: String| PushError::TlsUnavailable {
        host: upstream.host.clone(),
        reason,
    };
    let config = match server.push_tls() {
        Some(config) => config.clone(),
        // A push started by the application to an upstream the config does not
        // name: the system's store is read now, off the runtime's threads.
        None => {
            let ca = server.config.push_ca.clone();
            tokio::task::spawn_blocking(move || crate::tls::client_config(ca.as_deref()))
                .await
                .map_err(|e| unavailable(e.to_string()))?
                .map_err(|e| unavailable(e.to_string()))?
        }
    };
    let name = rustls::pki_types::ServerName::try_from(upstream.host.clone())
        .map_err(|e| unavailable(format!("expected a DNS name or an IP address: {e}")))?;
    let handshake = crate::tls::connector(config).connect(name, socket);
    tokio::time::timeout_at(deadline, handshake)
        .await
        .map_err(|_| PushError::Timeout)?
        .map_err(|source| PushError::Tls {
            host: upstream.host.clone(),
            source,
        })
}

/// The session loop over a connected `socket` (TCP, or TLS over TCP): one
/// `&mut` for reads and writes, which never overlap (see `rtmp::connection`).
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    socket: S,
    server: &Server,
    upstream: &RtmpUrl,
    key: &str,
    name: &str,
    id: u64,
) -> Result<(), PushError> {
    // An upstream that vanishes without a FIN would hold this task in a write
    // for good once its socket is full (see `crate::stall`).
    let mut socket = WriteStall::new(socket, server.config.idle_timeout);
    let mut config = ClientConfig::new(&upstream.app, upstream.tc_url());
    config.enhanced = Some(EnhancedCapabilities::forwarding());
    config.start_timeout = CONNECT_TIMEOUT;
    let mut client = ClientSession::new(config, Instant::now());
    client.publish(name, "live");
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut queue: Option<queue::Receiver> = None;

    loop {
        write_output(&mut socket, client.output()).await?;
        let deadline = client.poll_timeout();
        tokio::select! {
            read = read_into(&mut socket, &mut input) => {
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
                    write_output(&mut socket, client.output()).await?;
                    // TLS upstreams expect a close_notify; for TCP this is the FIN.
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.shutdown()).await;
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
