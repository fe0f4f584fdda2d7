//! The HTTP side (hyper 1.x, HTTP/1.1 with keep-alive):
//!
//! | path | what |
//! | --- | --- |
//! | `/APP/KEY/index.m3u8` | the media playlist; `_HLS_msn`/`_HLS_part`/`_HLS_skip` are answered by [`hls_mux::playlist::MediaPlaylist::answer`]: at once, after waiting for the part (at most three target durations, then 503), or 400 |
//! | `/APP/KEY/init*.mp4`, `seg*`, `part*` | from memory; a part or segment about to be made (the preload hint) waits for it |
//! | `/stats` | JSON, per stream ([`stats`]) |
//! | `/` | the live streams with an hls.js player ([`page`]) |
//! | `/hls.min.js` | hls.js from the installed npm package (`--hlsjs`) |
//!
//! Every answer allows any origin (CORS); `OPTIONS` answers preflights.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hls_mux::playlist::ReloadAnswer;
use hls_mux::Format;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::stream::{FileKind, Served, Stream};
use super::{page, stats, valid_name, Server};

/// A response body: nothing, one buffer, or the pieces of a segment (handed
/// to hyper one by one, which writes them with vectored writes).
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// One buffer.
    Full(Option<Bytes>),
    /// A file's pieces, from `next` on.
    Pieces {
        /// The pieces.
        data: Arc<[Bytes]>,
        /// The next one to send.
        next: usize,
        /// Bytes left.
        left: u64,
    },
}

impl Body {
    fn full(data: impl Into<Bytes>) -> Body {
        Body::Full(Some(data.into()))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.get_mut() {
            Body::Empty => None,
            Body::Full(data) => data.take().filter(|d| !d.is_empty()),
            Body::Pieces { data, next, left } => loop {
                let Some(piece) = data.get(*next) else {
                    break None;
                };
                *next += 1;
                if !piece.is_empty() {
                    *left -= piece.len() as u64;
                    break Some(piece.clone());
                }
            },
        };
        Poll::Ready(frame.map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(data) => data.as_ref().is_none_or(Bytes::is_empty),
            Body::Pieces { left, .. } => *left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match self {
            Body::Empty => 0,
            Body::Full(data) => data.as_ref().map_or(0, |d| d.len() as u64),
            Body::Pieces { left, .. } => *left,
        })
    }
}

/// Serves HTTP on `listener` forever, one task per connection.
pub async fn serve(listener: TcpListener, server: Arc<Server>) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "http accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            let service = service_fn(move |request| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(handle(&server, peer, request).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(socket), service);
            if let Err(error) = connection.await {
                debug!(%peer, %error, "http connection ended with an error");
            }
        });
    }
}

/// Answers one request.
pub async fn handle(
    server: &Server,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let mut response = match *request.method() {
        Method::GET | Method::HEAD => route(server, peer, request.uri()).await,
        Method::OPTIONS => preflight(),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "GET, HEAD or OPTIONS\n"),
    };
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("content-length, content-type"),
    );
    if head {
        *response.body_mut() = Body::Empty;
    }
    response
}

async fn route(server: &Server, peer: SocketAddr, uri: &hyper::Uri) -> Response<Body> {
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    match path {
        "/" | "/index.html" => {
            let hlsjs = server.config.hlsjs.exists();
            let html = page::render(&stats::snapshots(server), hlsjs, &server.config.hlsjs);
            let mut response = with_type(Body::full(html), "text/html; charset=utf-8");
            cache(&mut response, "no-cache");
            response
        }
        "/hls.min.js" => hlsjs(server).await,
        "/stats" => {
            let json = stats::json(server).to_string();
            let mut response = with_type(Body::full(json), "application/json");
            cache(&mut response, "no-cache");
            response
        }
        _ => {
            let mut parts = path.trim_start_matches('/').splitn(3, '/');
            let (Some(app), Some(name), Some(file)) = (parts.next(), parts.next(), parts.next())
            else {
                return not_found();
            };
            if !valid_name(app) || !valid_name(name) {
                return not_found();
            }
            let Some(stream) = server.registry.get(&format!("{app}/{name}")) else {
                return text(
                    StatusCode::NOT_FOUND,
                    &format!("no stream {app}/{name}: publish to rtmp://HOST/{app}/{name}\n"),
                );
            };
            if file == "index.m3u8" {
                playlist(&stream, peer, query).await
            } else {
                media_file(&stream, file).await
            }
        }
    }
}

async fn playlist(stream: &Stream, peer: SocketAddr, query: &str) -> Response<Body> {
    stream.saw_viewer(peer);
    let mut changes = stream.subscribe();
    let deadline = tokio::time::Instant::now() + stream.blocking_timeout();
    loop {
        // Mark the current state seen before asking, so no change is missed.
        changes.borrow_and_update();
        match stream.answer(query) {
            ReloadAnswer::Ready(text) => {
                let mut response = with_type(Body::full(text), "application/vnd.apple.mpegurl");
                cache(&mut response, "no-cache");
                return response;
            }
            ReloadAnswer::BadRequest(reason) => {
                return text(StatusCode::BAD_REQUEST, &format!("{reason}\n"));
            }
            ReloadAnswer::Wait => {
                match tokio::time::timeout_at(deadline, changes.changed()).await {
                    Ok(Ok(())) => continue,
                    _ => {
                        return text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the requested part did not come in three target durations\n",
                        )
                    }
                }
            }
            _ => return text(StatusCode::INTERNAL_SERVER_ERROR, "unknown answer\n"),
        }
    }
}

async fn media_file(stream: &Stream, name: &str) -> Response<Body> {
    let mut changes = stream.subscribe();
    let deadline = tokio::time::Instant::now() + stream.blocking_timeout();
    loop {
        changes.borrow_and_update();
        if let Some(served) = stream.file(name) {
            return file_response(served);
        }
        if !stream.is_coming(name) {
            return not_found();
        }
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_err()
        {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "not made in three target durations\n",
            );
        }
    }
}

fn file_response(served: Served) -> Response<Body> {
    let content_type = match (served.kind, served.format) {
        (FileKind::Init, _) => "video/mp4",
        (_, Format::Ts) => "video/mp2t",
        _ => "video/mp4",
    };
    let left = served.len() as u64;
    let mut response = with_type(
        Body::Pieces {
            data: served.data,
            next: 0,
            left,
        },
        content_type,
    );
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(left));
    // Names are reused only by a new stream after the grace period, which
    // is longer than this.
    cache(&mut response, "public, max-age=30");
    response
}

async fn hlsjs(server: &Server) -> Response<Body> {
    match tokio::fs::read(&server.config.hlsjs).await {
        Ok(data) => {
            let mut response = with_type(Body::full(data), "text/javascript");
            cache(&mut response, "public, max-age=3600");
            response
        }
        Err(error) => text(
            StatusCode::NOT_FOUND,
            &format!(
                "hls.js is not installed at {} ({error}): install the npm package hls.js \
                 (../shared/peers/install.sh does) or start with --hlsjs PATH/hls.min.js\n",
                server.config.hlsjs.display()
            ),
        ),
    }
}

fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("*"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("86400"));
    response
}

fn with_type(body: Body, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn cache(response: &mut Response<Body>, value: &'static str) {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(value));
}

fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = with_type(Body::full(message.to_owned()), "text/plain; charset=utf-8");
    *response.status_mut() = status;
    cache(&mut response, "no-cache");
    response
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}
