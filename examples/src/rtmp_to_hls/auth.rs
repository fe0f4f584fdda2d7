//! Publish authorisation: an allow list of stream names, and/or an HTTP
//! callback asked before each publish, as nginx-rtmp's `on_publish`.
//!
//! The callback gets a `POST` with an `application/x-www-form-urlencoded`
//! body: `call=publish`, `addr` (the publisher's IP), `app`, `name` (without
//! its query string), `type` (`live`, `record`, ...), `tcurl`, then the
//! parameters of the name's query string as they are (`?token=...` gives
//! `token=...`). A `2xx` answer allows the publish; anything else, or no
//! answer within [`CALLBACK_TIMEOUT`], refuses it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long the callback may take.
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
    pub fn parse(url: &str) -> Result<CallbackUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?}: the publish callback must be an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
                host,
                port.parse()
                    .map_err(|_| format!("{url:?}: bad port {port:?}"))?,
            ),
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || path.contains(char::is_whitespace) {
            return Err(format!("{url:?}: not a usable http:// URL"));
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

/// Asks the callback; `Ok(())` allows, `Err(reason)` refuses.
pub async fn ask(url: &CallbackUrl, attempt: &PublishAttempt<'_>) -> Result<(), String> {
    match tokio::time::timeout(CALLBACK_TIMEOUT, post(url, form(attempt))).await {
        Ok(Ok(status)) if (200..300).contains(&status) => Ok(()),
        Ok(Ok(status)) => Err(format!("the publish callback answered {status}")),
        Ok(Err(error)) => Err(format!("the publish callback failed: {error}")),
        Err(_) => Err("the publish callback did not answer in time".into()),
    }
}

async fn post(url: &CallbackUrl, body: String) -> Result<u16, String> {
    let socket = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket))
        .await
        .map_err(|e| e.to_string())?;
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
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
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
