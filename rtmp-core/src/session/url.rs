//! `rtmp://host[:port]/app[/instance]/key` and `rtmps://` URLs.

use std::fmt;

/// The parts of an RTMP URL.
///
/// The application is the first path segment and the stream key the rest (as
/// FFmpeg splits it), so `rtmp://h/live/a/b` has app `live` and key `a/b`. A query
/// string stays on the key (`key?token=x`), where servers read it.
///
/// `rtmps://` is the same protocol inside TLS; this crate has no sockets, so
/// [`tls`](RtmpUrl::tls) only tells the caller to wrap its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtmpUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port (1935 for `rtmp://`, 443 for `rtmps://` when the URL names none).
    pub port: u16,
    /// `rtmps://`: the connection is to be made over TLS.
    pub tls: bool,
    /// The application.
    pub app: String,
    /// The stream key (may be empty).
    pub key: String,
}

/// An RTMP URL that could not be parsed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("invalid RTMP URL `{url}`: {reason}")]
pub struct UrlError {
    url: String,
    reason: &'static str,
}

impl RtmpUrl {
    /// The default RTMP port.
    pub const DEFAULT_PORT: u16 = 1935;
    /// The default RTMPS port (FFmpeg's, OBS's and the platforms').
    pub const DEFAULT_TLS_PORT: u16 = 443;

    /// Parses `rtmp://host[:port]/app[/key]` or `rtmps://host[:port]/app[/key]`.
    ///
    /// ```
    /// let url = rtmp_core::RtmpUrl::parse("rtmp://127.0.0.1:1936/live/cam1").unwrap();
    /// assert_eq!((url.host.as_str(), url.port, url.app.as_str(), url.key.as_str()), ("127.0.0.1", 1936, "live", "cam1"));
    /// assert_eq!(url.tc_url(), "rtmp://127.0.0.1:1936/live");
    /// ```
    pub fn parse(url: &str) -> Result<RtmpUrl, UrlError> {
        let error = |reason| UrlError {
            url: url.to_string(),
            reason,
        };
        let (rest, tls) = match (url.strip_prefix("rtmp://"), url.strip_prefix("rtmps://")) {
            (Some(rest), _) => (rest, false),
            (_, Some(rest)) => (rest, true),
            _ => return Err(error("expected rtmp:// or rtmps://")),
        };
        let default_port = match tls {
            true => Self::DEFAULT_TLS_PORT,
            false => Self::DEFAULT_PORT,
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
                host,
                port.parse().map_err(|_| error("port is not a number"))?,
            ),
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(error("no host"));
        }
        let (app, key) = path.split_once('/').unwrap_or((path, ""));
        if app.is_empty() {
            return Err(error("no application"));
        }
        Ok(RtmpUrl {
            host: host.to_string(),
            port,
            tls,
            app: app.to_string(),
            key: key.to_string(),
        })
    }

    /// The `tcUrl` sent in `connect`: scheme, authority and application.
    pub fn tc_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let scheme = match self.tls {
            true => "rtmps",
            false => "rtmp",
        };
        format!("{scheme}://{host}:{}/{}", self.port, self.app)
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tc_url(), self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let url = RtmpUrl::parse("rtmp://example.com/live/key?token=1").unwrap();
        assert_eq!(url.port, 1935);
        assert_eq!(url.app, "live");
        assert_eq!(url.key, "key?token=1");
        let url = RtmpUrl::parse("rtmp://[::1]:1940/app/a/b").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.key.as_str()),
            ("::1", 1940, "a/b")
        );
        assert_eq!(url.tc_url(), "rtmp://[::1]:1940/app");
        assert_eq!(RtmpUrl::parse("rtmp://h/app").unwrap().key, "");
        assert!(!RtmpUrl::parse("rtmp://h/app").unwrap().tls);
    }

    #[test]
    fn rtmps_defaults_to_443_and_keeps_its_scheme() {
        let url = RtmpUrl::parse("rtmps://live.example.com/app/key").unwrap();
        assert_eq!((url.port, url.tls), (443, true));
        assert_eq!(url.tc_url(), "rtmps://live.example.com:443/app");
        assert_eq!(url.to_string(), "rtmps://live.example.com:443/app/key");
        let url = RtmpUrl::parse("rtmps://127.0.0.1:1936/live").unwrap();
        assert_eq!((url.port, url.tls), (1936, true));
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        for bad in [
            "http://h/live/k",
            "rtmpt://h/live/k",
            "rtmps:///live/k",
            "rtmp:///live/k",
            "rtmp://h",
            "rtmp://h:x/live/k",
            "rtmp://h/",
        ] {
            assert!(RtmpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
