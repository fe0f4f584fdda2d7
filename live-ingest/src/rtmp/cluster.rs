//! The publish path's cluster steps ([`crate::cluster`]): without the
//! `cluster` feature, or without `Config::cluster`, each does nothing.

use std::sync::Arc;

use tokio::sync::watch;

use crate::hls::Stream;
use crate::{Refused, Server};

/// The lease taken for a publish, if the server is in a cluster.
#[cfg(feature = "cluster")]
pub(super) struct Lease(Option<crate::cluster::Lease>);

/// No cluster in this build.
#[cfg(not(feature = "cluster"))]
pub(super) struct Lease;

/// Takes `key`'s lease in the cluster directory, if any. A stream of `key`
/// still here in its grace period but behind the directory's state (the key
/// was published on another node since) is dropped, so the new publish
/// continues the newer playlist.
#[cfg(feature = "cluster")]
pub(super) async fn acquire(server: &Server, key: &str) -> Result<Lease, Refused> {
    let Some(cluster) = &server.cluster else {
        return Ok(Lease(None));
    };
    let lease = cluster.acquire(key).await?;
    if let (Some(continuation), Some(registry)) = (lease.continuation, &server.registry) {
        let behind = registry
            .get(key)
            .filter(|stream| !stream.is_live())
            .is_some_and(|stream| stream.continuation().next_msn < continuation.next_msn);
        if behind {
            registry.forget(key);
        }
    }
    Ok(Lease(Some(lease)))
}

#[cfg(not(feature = "cluster"))]
pub(super) async fn acquire(_server: &Server, _key: &str) -> Result<Lease, Refused> {
    Ok(Lease)
}

/// The publish of `key` started: its stream continues the directory's
/// playlist state (unless it resumed one here) and goes with the renewals.
/// Returns what tells the connection its lease was lost.
#[cfg(feature = "cluster")]
pub(super) fn attach(
    server: &Server,
    key: &str,
    lease: Lease,
    stream: Option<&Arc<Stream>>,
) -> Option<watch::Receiver<bool>> {
    let (cluster, lease) = (server.cluster.as_ref()?, lease.0?);
    if let Some(stream) = stream {
        if let Some(continuation) = lease.continuation {
            stream.continue_from(continuation);
        }
        cluster.attach(key, stream.clone());
    }
    Some(lease.evicted)
}

#[cfg(not(feature = "cluster"))]
pub(super) fn attach(
    _server: &Server,
    _key: &str,
    _lease: Lease,
    _stream: Option<&Arc<Stream>>,
) -> Option<watch::Receiver<bool>> {
    None
}

/// An RTMP player of `key` subscribed here: if the key is live on another
/// node, this node pulls it from there ([`super::pull`]).
pub(super) async fn pull_if_remote(server: &Arc<Server>, key: &str) {
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &server.cluster {
        if !server.hub.is_live(key) {
            if let Some(owner) = cluster.owner(key).await {
                super::pull::ensure(server, key, owner);
            }
        }
    }
    #[cfg(not(feature = "cluster"))]
    let _ = (server, key);
}

/// The publish of `key` ended (or failed to start): its lease goes.
pub(super) fn release(server: &Arc<Server>, key: &str) {
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &server.cluster {
        cluster.release(key);
    }
    #[cfg(not(feature = "cluster"))]
    let _ = (server, key);
}
