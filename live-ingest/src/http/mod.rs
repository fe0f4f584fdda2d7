//! The HTTP side, a hyper/tower service ([`HttpService`]) an application can
//! mount in its own server, or run on a listener of its own ([`serve`]):
//!
//! | path | what |
//! | --- | --- |
//! | `/APP/KEY/index.m3u8` | the media playlist; `_HLS_msn`/`_HLS_part`/`_HLS_skip` are answered by [`hls_mux::playlist::MediaPlaylist::answer`]: at once, after waiting for the part (at most three target durations, then 503), or 400 |
//! | `/APP/KEY/audioN/…`, `/APP/KEY/videoN/…` | an extra audio or video track of a multitrack publish, its playlist and files ([`crate::hls::tracks`]) |
//! | `/APP/KEY/video/…`, `/APP/KEY/audio0/…` | the stream's own fMP4 playlist and files cut to one track, for the multivariant playlist of a multitrack publish |
//! | `/APP/KEY/init*.mp4`, `seg*`, `part*` | from memory; a part or segment about to be made (the preload hint) waits for it |
//! | `/APP/KEY/manifest.mpd`, `dash-*` | with `--dash`: the stream as MPEG-DASH over the same segments, one representation per track ([`hls_mux::dash`]) |
//! | `/APP/KEY.m3u8` | the multivariant playlist: with `variants` configured, of the group `KEY` + each suffix, its live renditions by bandwidth ([`crate::hls::variants`]); without, of the stream `KEY` alone; with `CLOSED-CAPTIONS` for the CEA-608 captions in the video; 404 when none is live with three segments |
//! | `/APP/KEY.flv` | HTTP-FLV: the live stream as an endless FLV file (flv.js, mpegts.js, FFmpeg, VLC), from the same hub as RTMP players ([`flv`]) |
//! | `/stats` | JSON, per stream ([`stats`]) |
//! | `/metrics` | Prometheus text ([`crate::metrics`]) |
//! | `/` | the streams with an hls.js player ([`page`]) |
//! | `POST /APP/KEY/ad-break` | with an API token: ad breaks ([`api`]) |
//! | `/hls.min.js` | hls.js from the local npm package, when there is one |
//!
//! Every answer allows any origin (CORS); `OPTIONS` answers preflights.

pub mod api;
pub mod flv;
pub mod page;
pub mod range;
pub mod stats;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hls_mux::playlist::ReloadAnswer;
use hls_mux::Format;
use hyper::body::{Frame, SizeHint};
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, HOST, RANGE,
};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use crate::hls::stream::{FileKind, Served, Stream};
use crate::hls::tracks::ExtraId;
use crate::hls::variants;
use crate::stall::WriteStall;
use crate::{valid_name, Server};

/// A stream of body pieces (HTTP-FLV).
pub type PieceStream = Pin<Box<dyn futures_util::Stream<Item = Bytes> + Send>>;

/// A response body: nothing, one buffer, or the pieces of a segment (handed
/// to hyper one by one, which writes them with vectored writes).
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
    /// Pieces as they come, until the stream ends (HTTP-FLV).
    Live(PieceStream),
}

impl Body {
    pub(crate) fn full(data: impl Into<Bytes>) -> Body {
        Body::Full(Some(data.into()))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.get_mut() {
            Body::Live(pieces) => {
                return pieces
                    .as_mut()
                    .poll_next(cx)
                    .map(|piece| piece.map(|data| Ok(Frame::data(data))))
            }
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
            Body::Live(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match self {
            Body::Empty => 0,
            Body::Full(data) => data.as_ref().map_or(0, |d| d.len() as u64),
            Body::Pieces { left, .. } => *left,
            Body::Live(_) => return SizeHint::default(),
        })
    }
}

/// The HTTP side as a service: a `tower::Service` (mount it in axum with
/// `Router::fallback_service`) and, through [`TowerToHyperService`], a hyper one.
/// The request body is never read.
#[derive(Clone)]
pub struct HttpService {
    server: Arc<Server>,
    peer: Option<SocketAddr>,
}

impl HttpService {
    /// The service of `server`; `peer` is the client's address when known (it
    /// counts HLS viewers).
    pub fn new(server: Arc<Server>, peer: Option<SocketAddr>) -> HttpService {
        HttpService { server, peer }
    }
}

impl<B> tower_service::Service<Request<B>> for HttpService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let server = self.server.clone();
        let peer = self.peer;
        let (parts, _body) = request.into_parts();
        Box::pin(async move { Ok(handle(&server, peer, &parts).await) })
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
        let service = TowerToHyperService::new(HttpService::new(server.clone(), Some(peer)));
        // An HTTP-FLV reader (or any client) whose network vanished would keep
        // its connection, and hyper's wait on the full socket, for good.
        let stall = server.config.idle_timeout;
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(WriteStall::new(socket, stall)), service);
            if let Err(error) = connection.await {
                debug!(%peer, %error, "http connection ended with an error");
            }
        });
    }
}

/// Answers one request (its body is never read).
pub async fn handle(
    server: &Arc<Server>,
    peer: Option<SocketAddr>,
    request: &hyper::http::request::Parts,
) -> Response<Body> {
    server.metrics.http_request();
    let method = &request.method;
    let mut response = match *method {
        _ if !host_is_valid(request.version, &request.headers) => text(
            StatusCode::BAD_REQUEST,
            "an HTTP/1.1 request needs exactly one Host header (RFC 9112 3.2)\n",
        ),
        Method::GET | Method::HEAD => route(server, peer, &request.uri, &request.headers).await,
        Method::OPTIONS => preflight(),
        Method::POST if server.config.api_token.is_some() => api::post(server, request),
        _ => {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "GET, HEAD or OPTIONS\n");
            let allow = HeaderValue::from_static("GET, HEAD, OPTIONS");
            response.headers_mut().insert(ALLOW, allow);
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("content-length, content-type, content-range"),
    );
    if method == Method::HEAD {
        *response.body_mut() = Body::Empty;
    }
    response
}

/// HTTP/1.1 needs exactly one `Host`; HTTP/1.0 at most one.
fn host_is_valid(version: hyper::Version, headers: &HeaderMap) -> bool {
    match headers.get_all(HOST).iter().count() {
        1 => true,
        0 => version < hyper::Version::HTTP_11,
        _ => false,
    }
}

async fn route(
    server: &Arc<Server>,
    peer: Option<SocketAddr>,
    uri: &hyper::Uri,
    headers: &HeaderMap,
) -> Response<Body> {
    let path = uri.path();
    match path {
        "/" | "/index.html" => {
            let local = server.config.local_hlsjs().is_some();
            let html = page::render(&stats::snapshots(server), local);
            no_cache(with_type(Body::full(html), "text/html; charset=utf-8"))
        }
        "/hls.min.js" => hlsjs(server).await,
        "/stats" => {
            let json = stats::json(server).to_string();
            no_cache(with_type(Body::full(json), "application/json"))
        }
        "/metrics" => {
            let dropped = server
                .hub
                .stats
                .dropped
                .load(std::sync::atomic::Ordering::Relaxed);
            let body = server.metrics.render(dropped, &stats::snapshots(server));
            let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
            no_cache(with_type(Body::full(body), kind))
        }
        _ => {
            let range = headers.get(RANGE).and_then(|v| v.to_str().ok());
            let query = uri.query().unwrap_or("");
            if !headers.contains_key(PROXIED) {
                if let Some(answer) = from_owner(server, path, query, range).await {
                    return answer;
                }
            }
            stream_path(server, peer, path, query, range).await
        }
    }
}

/// Marks a request one node proxied to another: it is never proxied again
/// (two nodes that each think the other holds a key would bounce it).
pub(crate) const PROXIED: &str = "x-live-ingest-proxied";

/// With a cluster, for a stream path whose key is not live here but on
/// another node: that node's answer ([`crate::cluster::proxy`]).
async fn from_owner(
    server: &Arc<Server>,
    path: &str,
    query: &str,
    range: Option<&str>,
) -> Option<Response<Body>> {
    #[cfg(feature = "cluster")]
    {
        let cluster = server.cluster.as_ref()?;
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        let (app, name) = (parts.next()?, parts.next()?);
        let flv = name.strip_suffix(".flv");
        let name = flv.unwrap_or(name);
        if !valid_name(app) || !valid_name(name) {
            return None;
        }
        let key = format!("{app}/{name}");
        // HTTP-FLV is served wherever the hub has the stream (published
        // here, or pulled by an RTMP player here); HLS only where it is
        // packaged, by the publisher's node.
        let here = match flv {
            Some(_) => server.hub.is_live(&key),
            None => (server.registry.as_ref())
                .and_then(|registry| registry.get(&key))
                .is_some_and(|stream| stream.is_live()),
        };
        if here {
            return None;
        }
        let owner = cluster.owner(&key).await?;
        let target = match query {
            "" => path.to_owned(),
            query => format!("{path}?{query}"),
        };
        let answer = crate::cluster::proxy::forward(&owner, &target, range).await;
        if answer.status() == StatusCode::BAD_GATEWAY {
            // Its node is gone (its lease expires on its own): ask again next time.
            cluster.forget_owner(&key);
        }
        Some(answer)
    }
    #[cfg(not(feature = "cluster"))]
    {
        let _ = (server, path, query, range);
        None
    }
}

/// `/APP/KEY.flv` or `/APP/KEY/FILE`.
async fn stream_path(
    server: &Arc<Server>,
    peer: Option<SocketAddr>,
    path: &str,
    query: &str,
    range: Option<&str>,
) -> Response<Body> {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some(app), Some(name)) = (parts.next(), parts.next()) else {
        return not_found();
    };
    let Some(file) = parts.next() else {
        if let Some(group) = name.strip_suffix(".m3u8") {
            return multivariant(server, app, group);
        }
        return match name.strip_suffix(".flv") {
            Some(name) => flv::answer(server, peer, app, name, query).await,
            None => not_found(),
        };
    };
    if !valid_name(app) || !valid_name(name) {
        return not_found();
    }
    let stream = server
        .registry
        .as_ref()
        .and_then(|registry| registry.get(&format!("{app}/{name}")));
    let Some(stream) = stream else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("no stream {app}/{name}: publish to rtmp://HOST/{app}/{name}\n"),
        );
    };
    if file == "index.m3u8" {
        let reports = |text: &mut String| append_reports(server, app, name, text);
        playlist(&stream, None, peer, query, reports).await
    } else if matches!(file, "video/index.m3u8" | "audio0/index.m3u8") {
        // The single-track views of the stream's own playlist: its text,
        // its URIs resolved in the view's directory.
        playlist(&stream, None, peer, query, |_: &mut String| {}).await
    } else if let Some(extra) = extra_playlist(file) {
        playlist(&stream, Some(extra), peer, query, |_: &mut String| {}).await
    } else if let Some(period) = key_period(file) {
        aes_key(server, &stream, period, peer, query).await
    } else if file == "manifest.mpd" || file.starts_with("dash-") {
        dash(server, &stream, peer, file, range)
    } else {
        // A segment, part or init segment never changes under its name while
        // the stream lives; a name is reused only by a new stream after the
        // grace period, so a cache may keep one for half of that (30 s at
        // most: a CDN keeps what it must, the origin keeps the live window).
        let max_age = (server.config.grace.as_secs() / 2).min(30);
        media_file(&stream, file, range, max_age).await
    }
}

/// The rotation period of a key URI (`key12.key`).
fn key_period(file: &str) -> Option<u64> {
    let digits = file.strip_prefix("key")?.strip_suffix(".key")?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An AES-128 key, if the application's hooks allow it: 16 bytes that no
/// cache may keep (a CDN would hand them to anyone).
async fn aes_key(
    server: &Arc<Server>,
    stream: &Stream,
    period: u64,
    peer: Option<SocketAddr>,
    query: &str,
) -> Response<Body> {
    let Some(key) = stream.aes_key(period) else {
        return not_found();
    };
    let attempt = crate::KeyAttempt {
        addr: peer,
        stream: stream.key(),
        period,
        query,
    };
    if let Err(refused) = server.authorize_key(&attempt).await {
        return text(StatusCode::FORBIDDEN, &format!("{refused}\n"));
    }
    let mut response = with_type(Body::full(key.to_vec()), "application/octet-stream");
    cache(&mut response, "private, no-store");
    response
}

/// `/APP/GROUP.m3u8`: the group's multivariant playlist (without variant
/// groups: the stream's own, one variant), or 404.
fn multivariant(server: &Server, app: &str, group: &str) -> Response<Body> {
    let suffixes = &server.config.variants;
    let registry = server.registry.as_ref();
    if !valid_name(app) || !valid_name(group) {
        return not_found();
    }
    // Renditions that list LL-HLS parts must not be called independent here:
    // video.js applies the multivariant playlist's tag to parts too.
    let independent = server.config.part_duration.is_none();
    let playlist =
        registry.and_then(|r| variants::multivariant(r, suffixes, app, group, independent));
    let Some(playlist) = playlist else {
        let publish = match suffixes.is_empty() {
            true => format!("rtmp://HOST/{app}/{group}"),
            false => format!("rtmp://HOST/{app}/{group}SUFFIX"),
        };
        return text(
            StatusCode::NOT_FOUND,
            &format!("no live rendition of {app}/{group} with three segments yet: publish to {publish}\n"),
        );
    };
    // Renditions join and leave with their publishers, and it costs a few
    // lookups to make: revalidated on every load rather than cached.
    no_cache(with_type(
        Body::full(playlist),
        "application/vnd.apple.mpegurl",
    ))
}

/// Adds the sibling renditions' `EXT-X-RENDITION-REPORT`s to a live LL-HLS
/// playlist of a group (rfc8216bis 4.4.5.4: they go with parts; an ended
/// playlist is not reloaded, so it needs none).
fn append_reports(server: &Server, app: &str, name: &str, text: &mut String) {
    let suffixes = &server.config.variants;
    if suffixes.is_empty() || server.config.part_duration.is_none() {
        return;
    }
    if text.ends_with("#EXT-X-ENDLIST\n") {
        return;
    }
    let Some(registry) = server.registry.as_ref() else {
        return;
    };
    for report in variants::reports(registry, suffixes, app, name) {
        text.push_str(&report.render());
    }
}

/// `audioN/index.m3u8` or `videoN/index.m3u8`: the playlist of an extra
/// track.
fn extra_playlist(file: &str) -> Option<ExtraId> {
    ExtraId::of_dir(file.strip_suffix("/index.m3u8")?)
}

/// The media playlist of `extra` (`None`: the stream's own), with blocking
/// reloads.
async fn playlist(
    stream: &Stream,
    extra: Option<ExtraId>,
    peer: Option<SocketAddr>,
    query: &str,
    reports: impl Fn(&mut String),
) -> Response<Body> {
    if let Some(peer) = peer {
        stream.saw_viewer(peer);
    }
    let mut changes = stream.subscribe();
    let deadline = tokio::time::Instant::now() + stream.blocking_timeout();
    loop {
        // Mark the current state seen before asking, so no change is missed.
        changes.borrow_and_update();
        let Some(answer) = stream.answer(extra, query) else {
            return not_found();
        };
        match answer {
            ReloadAnswer::Ready(mut text) => {
                reports(&mut text);
                let mut response = with_type(Body::full(text), "application/vnd.apple.mpegurl");
                if let Ok(value) = HeaderValue::from_str(&stream.cache_control(extra, query)) {
                    response.headers_mut().insert(CACHE_CONTROL, value);
                }
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

/// `manifest.mpd` and the `dash-*` files (`--dash`, [`hls_mux::dash`]): 404
/// without DASH, before the first segment, or for a file not (or no longer)
/// in the current period.
fn dash(
    server: &Server,
    stream: &Stream,
    peer: Option<SocketAddr>,
    file: &str,
    range: Option<&str>,
) -> Response<Body> {
    if file != "manifest.mpd" {
        let max_age = (server.config.grace.as_secs() / 2).min(30);
        return match stream.dash_file(file) {
            Some(served) => file_response(served, range, max_age),
            None => not_found(),
        };
    }
    if let Some(peer) = peer {
        stream.saw_viewer(peer);
    }
    match stream.dash_manifest(std::time::SystemTime::now()) {
        // A dynamic MPD changes with every segment: players poll it every
        // minimumUpdatePeriod, and an edge must not answer for the origin.
        Some(mpd) => no_cache(with_type(Body::full(mpd), "application/dash+xml")),
        None => text(
            StatusCode::NOT_FOUND,
            match server.config.dash {
                true => "no segment yet\n",
                false => "DASH is off: start the server with --dash\n",
            },
        ),
    }
}

async fn media_file(
    stream: &Stream,
    name: &str,
    range: Option<&str>,
    max_age: u64,
) -> Response<Body> {
    let mut changes = stream.subscribe();
    let deadline = tokio::time::Instant::now() + stream.blocking_timeout();
    loop {
        changes.borrow_and_update();
        if let Some(served) = stream.file(name) {
            return file_response(served, range, max_age);
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

fn file_response(served: Served, range: Option<&str>, max_age: u64) -> Response<Body> {
    let content_type = match (served.kind, served.format) {
        (FileKind::Init, _) => "video/mp4",
        (_, Format::Ts) => "video/mp2t",
        _ => "video/mp4",
    };
    let len = served.len() as u64;
    let (status, data, content_range) = match range::answer(range, len) {
        range::Answer::Whole => (StatusCode::OK, served.data, None),
        range::Answer::Part { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            range::slice(&served.data, start, end).into(),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        range::Answer::Unsatisfiable => {
            let mut response = text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n");
            let value = HeaderValue::from_str(&format!("bytes */{len}"));
            if let Ok(value) = value {
                response.headers_mut().insert(CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let left = data.iter().map(|d| d.len() as u64).sum();
    let mut response = with_type(
        Body::Pieces {
            data,
            next: 0,
            left,
        },
        content_type,
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(left));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(value) = content_range.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(CONTENT_RANGE, value);
    }
    let value = match max_age {
        0 => HeaderValue::from_static("no-cache"),
        age => HeaderValue::from_str(&format!("public, max-age={age}, immutable"))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    };
    response.headers_mut().insert(CACHE_CONTROL, value);
    response
}

async fn hlsjs(server: &Server) -> Response<Body> {
    let Some(path) = server.config.local_hlsjs() else {
        return text(
            StatusCode::NOT_FOUND,
            "hls.js is not installed here: the page loads it from its CDN; install the npm \
             package hls.js or start with --hlsjs PATH/hls.min.js to serve it\n",
        );
    };
    match tokio::fs::read(&path).await {
        Ok(data) => {
            let mut response = with_type(Body::full(data), "text/javascript");
            cache(&mut response, "public, max-age=3600");
            response
        }
        Err(error) => text(
            StatusCode::NOT_FOUND,
            &format!("hls.js cannot be read at {} ({error})\n", path.display()),
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

pub(crate) fn with_type(body: Body, content_type: &'static str) -> Response<Body> {
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

pub(crate) fn no_cache(mut response: Response<Body>) -> Response<Body> {
    cache(&mut response, "no-cache");
    response
}

pub(crate) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = with_type(Body::full(message.to_owned()), "text/plain; charset=utf-8");
    *response.status_mut() = status;
    no_cache(response)
}

pub(crate) fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}
