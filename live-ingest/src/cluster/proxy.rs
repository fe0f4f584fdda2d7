//! Any node answers for any key: HLS and HTTP-FLV requests for a key live on
//! another node are proxied to it.
//!
//! Proxied rather than redirected: a CDN or an nginx edge in front of the
//! nodes then needs one origin address and caches the answers under the URL
//! viewers use; a redirect would be cached as a redirect (or not at all) and
//! cost an LL-HLS player a round trip per part. The owner's answer passes
//! through as it comes (status, the headers a player or cache reads, the body
//! streamed, so an HTTP-FLV stream and a blocking playlist reload stay live);
//! only the owner's node is asked, one connection per request.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, BodyStream, Empty};
use hyper::header::{
    HeaderName, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tracing::debug;

use super::Owner;
use crate::http::{text, Body};

/// The owner's answer head must come within this (a blocking playlist
/// reload waits up to three target durations on the owner).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// The headers passed back from the owner.
const PASSED: [HeaderName; 5] = [
    CONTENT_TYPE,
    CACHE_CONTROL,
    CONTENT_LENGTH,
    CONTENT_RANGE,
    ACCEPT_RANGES,
];

/// `host:port` of an `http://HOST:PORT` URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then_some(authority)
}

/// Asks `owner` for `path_and_query` (with the viewer's `range`) and answers
/// what it answers; 502 when it cannot be asked.
pub async fn forward(owner: &Owner, path_and_query: &str, range: Option<&str>) -> Response<Body> {
    match tokio::time::timeout(HEAD_TIMEOUT, ask(owner, path_and_query, range)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            debug!(node = owner.node, %error, "proxy to the owner failed");
            text(
                StatusCode::BAD_GATEWAY,
                &format!(
                    "the node publishing this stream ({}) cannot be reached: {error}\n",
                    owner.http
                ),
            )
        }
        Err(_) => text(
            StatusCode::GATEWAY_TIMEOUT,
            &format!(
                "the node publishing this stream ({}) did not answer in time\n",
                owner.http
            ),
        ),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn ask(
    owner: &Owner,
    path_and_query: &str,
    range: Option<&str>,
) -> Result<Response<Body>, BoxError> {
    let authority = authority(&owner.http).ok_or("no http://HOST:PORT advertised")?;
    let socket = TcpStream::connect(authority).await?;
    socket.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = Request::get(path_and_query)
        .header("host", authority)
        .header(crate::http::PROXIED, "1");
    if let Some(range) = range {
        request = request.header(RANGE, range);
    }
    let answer = sender
        .send_request(request.body(Empty::<Bytes>::new())?)
        .await?;
    let (head, body) = answer.into_parts();
    // The body as it comes; a failure mid-way ends it (the viewer sees a
    // short answer, as from a node that died).
    let pieces = BodyStream::new(body.map_err(|_| ()))
        .filter_map(|frame| async move { frame.ok().and_then(|f| f.into_data().ok()) });
    let mut response = Response::new(Body::Live(Box::pin(pieces)));
    *response.status_mut() = head.status;
    for name in PASSED {
        if let Some(value) = head.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_of_advertised_urls() {
        assert_eq!(authority("http://10.0.0.5:8080"), Some("10.0.0.5:8080"));
        assert_eq!(authority("http://node-3:80/"), Some("node-3:80"));
        assert_eq!(authority("rtmp://10.0.0.5"), None);
        assert_eq!(authority("http://"), None);
    }
}
