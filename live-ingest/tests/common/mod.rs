//! The peers' helpers (`testkit`) and an in-process server.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;

use live_ingest::{Bound, Config, Server};
pub use testkit::*;

/// Runs the server in-process on ephemeral ports (both addresses of `config`
/// are replaced), on its own runtime thread.
pub fn start_server(mut config: Config) -> (Bound, Arc<Server>) {
    config.rtmp = "127.0.0.1:0".parse().unwrap();
    config.http = "127.0.0.1:0".parse().unwrap();
    let server = Server::new(config).expect("a valid configuration");
    let shared = server.clone();
    let bound = serve_in_background("the server", || async move {
        live_ingest::start(shared).await.expect("bind the server")
    });
    (bound, server)
}

/// [`start_server`] for a server made by the test (with hooks of its own);
/// its configuration should listen on port 0.
pub fn start_made_server(server: Arc<Server>) -> Bound {
    let shared = server.clone();
    serve_in_background("the server", || async move {
        live_ingest::start(shared).await.expect("bind the server")
    })
}

/// The server's RTMP address, for the relay tests.
pub fn start_relay(config: Config) -> SocketAddr {
    start_server(config).0.rtmp
}
