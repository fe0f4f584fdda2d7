//! A kept-alive HTTP/1.1 connection for one viewer (hyper's client).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What a request can fail with.
pub(super) type Error = Box<dyn std::error::Error + Send + Sync>;

/// The largest body [`Http::get`] collects: a part or segment of a
/// 20 Mbit/s stream is far below it.
pub(super) const BODY_LIMIT: usize = 64 << 20;

/// One connection to the server, opened again when it fails.
pub(super) struct Http {
    addr: SocketAddr,
    sender: Option<SendRequest<Empty<Bytes>>>,
}

impl Http {
    /// A client of the server at `addr` (connected at the first request).
    pub(super) fn new(addr: SocketAddr) -> Http {
        Http { addr, sender: None }
    }

    /// The response head to `GET path`, its body still to read; fails after
    /// `timeout` without one.
    pub(super) async fn open(
        &mut self,
        path: &str,
        timeout: Duration,
    ) -> Result<Response<Incoming>, Error> {
        let result = tokio::time::timeout(timeout, self.send(path)).await;
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => {
                self.sender = None;
                Err(error)
            }
            Err(_) => {
                self.sender = None;
                Err(format!("no answer to GET {path} in {timeout:?}").into())
            }
        }
    }

    /// `GET path`: the status and the whole body (at most [`BODY_LIMIT`]),
    /// within `timeout` for the whole exchange.
    pub(super) async fn get(
        &mut self,
        path: &str,
        timeout: Duration,
    ) -> Result<(u16, Bytes), Error> {
        let exchange = async {
            let response = self.send(path).await?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), BODY_LIMIT)
                .collect()
                .await?
                .to_bytes();
            Ok::<_, Error>((status, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => {
                self.sender = None;
                Err(error)
            }
            Err(_) => {
                self.sender = None;
                Err(format!("no whole answer to GET {path} in {timeout:?}").into())
            }
        }
    }

    async fn send(&mut self, path: &str) -> Result<Response<Incoming>, Error> {
        let sender = match &mut self.sender {
            Some(sender) if !sender.is_closed() => sender,
            _ => {
                let socket = TcpStream::connect(self.addr).await?;
                socket.set_nodelay(true)?;
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                self.sender.insert(sender)
            }
        };
        sender.ready().await?;
        let request = Request::get(path)
            .header("host", self.addr.to_string())
            .body(Empty::new())?;
        Ok(sender.send_request(request).await?)
    }
}
