//! Authorisation: the [`Hooks`] an application implements to add its own rules
//! and hear about streams, and the two rules the server has built in: an allow
//! list of stream names, and an HTTP callback asked before each publish, as
//! nginx-rtmp's `on_publish`.
//!
//! The callback gets a `POST` with an `application/x-www-form-urlencoded`
//! body: `call=publish`, `addr` (the publisher's IP), `app`, `name` (without
//! its query string), `type` (`live`, `record`, ...), `tcurl`, then the
//! parameters of the name's query string as they are (`?token=...` gives
//! `token=...`). A `2xx` answer allows the publish; anything else, or no
//! answer within `callback_timeout` ([`CALLBACK_TIMEOUT`] by default), refuses it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::{ConfigError, Refused};

/// The future a hook returns: `Ok(())` allows, `Err` refuses (use
/// [`Refused::ByApplication`] with the reason the peer is told).
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Refused>> + Send + 'a>>;

/// An application's rules and ears, called by the server for every connection.
///
/// Every method has a default (allow, ignore), so an implementation names only
/// what it needs. The authorising hooks run after the built-in rules (the
/// allow list and the publish callback) and may wait (a database, a service);
/// other connections go on meanwhile.
///
/// ```
/// use live_ingest::{Hooks, HookFuture, PublishAttempt, Refused};
///
/// struct OnlyCameras;
///
/// impl Hooks for OnlyCameras {
///     fn authorize_publish<'a>(&'a self, attempt: &'a PublishAttempt<'a>) -> HookFuture<'a> {
///         let allowed = attempt.stream_name().starts_with("cam");
///         Box::pin(async move {
///             if allowed { Ok(()) } else { Err(Refused::ByApplication("cameras only".into())) }
///         })
///     }
/// }
/// ```
pub trait Hooks: Send + Sync + 'static {
    /// Before a publish is accepted.
    fn authorize_publish<'a>(&'a self, attempt: &'a PublishAttempt<'a>) -> HookFuture<'a> {
        let _ = attempt;
        Box::pin(async { Ok(()) })
    }

    /// Before an RTMP play or an HTTP-FLV read starts.
    fn authorize_play<'a>(&'a self, attempt: &'a PlayAttempt<'a>) -> HookFuture<'a> {
        let _ = attempt;
        Box::pin(async { Ok(()) })
    }

    /// Before an AES-128 key is served (`--encrypt`): a refusal answers 403,
    /// so only viewers the application knows can decrypt the stream.
    fn authorize_key<'a>(&'a self, attempt: &'a KeyAttempt<'a>) -> HookFuture<'a> {
        let _ = attempt;
        Box::pin(async { Ok(()) })
    }

    /// Something happened to a stream (called on the connection's task: return quickly).
    fn on_event(&self, event: &Event) {
        let _ = event;
    }
}

/// Hooks kept behind an `Arc`, so the application keeps a handle to them
/// (to read what they recorded, or to change their rules while serving).
impl<T: Hooks> Hooks for std::sync::Arc<T> {
    fn authorize_publish<'a>(&'a self, attempt: &'a PublishAttempt<'a>) -> HookFuture<'a> {
        (**self).authorize_publish(attempt)
    }

    fn authorize_play<'a>(&'a self, attempt: &'a PlayAttempt<'a>) -> HookFuture<'a> {
        (**self).authorize_play(attempt)
    }

    fn authorize_key<'a>(&'a self, attempt: &'a KeyAttempt<'a>) -> HookFuture<'a> {
        (**self).authorize_key(attempt)
    }

    fn on_event(&self, event: &Event) {
        (**self).on_event(event)
    }
}

/// The hooks of a server that has none of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// What [`Hooks::on_event`] hears.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A publisher started on `key` (`APP/NAME`).
    PublishStarted {
        /// The stream.
        key: String,
        /// The publisher's address.
        addr: SocketAddr,
        /// Whether the key had ended within its grace period and now continues.
        resumed: bool,
    },
    /// The publisher of `key` left.
    PublishEnded {
        /// The stream.
        key: String,
    },
    /// A player (RTMP or HTTP-FLV) started on `key`.
    PlayStarted {
        /// The stream.
        key: String,
        /// The player's address.
        addr: SocketAddr,
    },
    /// A player of `key` left.
    PlayEnded {
        /// The stream.
        key: String,
    },
    /// An ended stream's grace period is over: its playlist is gone.
    StreamForgotten {
        /// The stream.
        key: String,
    },
}

/// A play to authorise (RTMP play or HTTP-FLV).
#[derive(Clone, Debug)]
pub struct PlayAttempt<'a> {
    /// The player's address.
    pub addr: SocketAddr,
    /// The application.
    pub app: &'a str,
    /// The stream name as asked, query string included.
    pub name: &'a str,
}

/// A request for an AES-128 key to authorise.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KeyAttempt<'a> {
    /// The viewer's address, when known.
    pub addr: Option<SocketAddr>,
    /// The stream (`APP/KEY`).
    pub stream: &'a str,
    /// The key's rotation period.
    pub period: u64,
    /// The request's query string (a token the application handed out).
    pub query: &'a str,
}

/// How long the callback may take unless the configuration says otherwise
/// (`callback_timeout`): a hung endpoint refuses the publish after this long.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// A publish to authorise.
#[derive(Clone, Debug)]
pub struct PublishAttempt<'a> {
    /// The publisher's address.
    pub addr: SocketAddr,
    /// The application.
    pub app: &'a str,
    /// The stream name as sent, query string included.
    pub name: &'a str,
    /// The publish type (`live`).
    pub publish_type: &'a str,
    /// The `tcUrl` of `connect`, if any.
    pub tc_url: &'a str,
}

impl PublishAttempt<'_> {
    /// The stream name without its query string.
    pub fn stream_name(&self) -> &str {
        self.name
            .split_once('?')
            .map_or(self.name, |(name, _)| name)
    }
}

/// A callback URL, `http://HOST[:PORT]/PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackUrl {
    /// Host name or address.
    pub host: String,
    /// Port (80 by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl CallbackUrl {
    /// Parses an `http://` URL (no TLS: the callback is a local service).
    pub fn parse(url: &str) -> Result<CallbackUrl, ConfigError> {
        let bad = || ConfigError::Url {
            what: "on_publish",
            expected: "http://HOST[:PORT]/PATH",
            got: url.to_owned(),
        };
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                (host, port.parse().map_err(|_| bad())?)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || path.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(CallbackUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

/// The form body of a callback for `attempt`.
pub fn form(attempt: &PublishAttempt<'_>) -> String {
    let (name, query) = attempt.name.split_once('?').unwrap_or((attempt.name, ""));
    let mut body = String::new();
    for (key, value) in [
        ("call", "publish"),
        ("addr", &attempt.addr.ip().to_string()),
        ("app", attempt.app),
        ("name", name),
        ("type", attempt.publish_type),
        ("tcurl", attempt.tc_url),
    ] {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(key);
        body.push('=');
        percent_encode(value, &mut body);
    }
    // The publisher's own parameters, as nginx-rtmp passes them.
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        body.push('&');
        percent_encode(key, &mut body);
        body.push('=');
        percent_encode(value, &mut body);
    }
    body
}

/// `application/x-www-form-urlencoded` escaping of `text` onto `out`.
fn percent_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// Asks the callback; `Ok(())` allows, `Err` says why not. The connect, the
/// request and the answer together get `timeout` at most, so an endpoint that
/// accepts the connection and never answers costs this publish no more.
pub async fn ask(
    url: &CallbackUrl,
    attempt: &PublishAttempt<'_>,
    timeout: Duration,
) -> Result<(), Refused> {
    match tokio::time::timeout(timeout, post(url, form(attempt))).await {
        Ok(Ok(status)) if (200..300).contains(&status) => Ok(()),
        Ok(Ok(status)) => Err(Refused::CallbackStatus(status)),
        Ok(Err(error)) => Err(Refused::CallbackFailed(error)),
        Err(_) => Err(Refused::CallbackTimeout),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn post(url: &CallbackUrl, body: String) -> Result<u16, BoxError> {
    let socket = TcpStream::connect((url.host.as_str(), url.port)).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let host = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let request = Request::post(url.path.as_str())
        .header("host", host)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    // Read (and drop) the answer's body, bounded by the timeout around us.
    let _ = response.into_body().collect().await;
    Ok(status)
}

/// Whether `name` (without its query string) is on the allow list; an empty
/// list allows every name.
pub fn allowed(allow: &[String], name: &str) -> bool {
    let name = name.split_once('?').map_or(name, |(name, _)| name);
    allow.is_empty() || allow.iter().any(|a| a == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls() {
        let url = CallbackUrl::parse("http://127.0.0.1:9000/auth?x=1").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("127.0.0.1", 9000, "/auth?x=1")
        );
        let url = CallbackUrl::parse("http://auth.local").unwrap();
        assert_eq!((url.port, url.path.as_str()), (80, "/"));
        assert!(CallbackUrl::parse("https://a/b").is_err());
        assert!(CallbackUrl::parse("http://a:xx/b").is_err());
        assert!(CallbackUrl::parse("http:///b").is_err());
    }

    #[test]
    fn the_form_is_nginx_rtmp_like() {
        let attempt = PublishAttempt {
            addr: "10.1.2.3:5555".parse().unwrap(),
            app: "live",
            name: "cam 1?token=a&b=c d",
            publish_type: "live",
            tc_url: "rtmp://h/live",
        };
        assert_eq!(
            form(&attempt),
            "call=publish&addr=10.1.2.3&app=live&name=cam%201&type=live&tcurl=rtmp%3A%2F%2Fh%2Flive&token=a&b=c%20d"
        );
    }

    #[test]
    fn allow_list() {
        let allow = vec!["a".to_owned(), "b".to_owned()];
        assert!(allowed(&allow, "a"));
        assert!(allowed(&allow, "b?token=1"));
        assert!(!allowed(&allow, "c"));
        assert!(allowed(&[], "anything"));
    }
}
