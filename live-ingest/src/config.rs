//! What a server does: addresses, packaging, outputs, rules and limits.
//!
//! [`Config`] is plain data with working defaults (RTMP on 127.0.0.1:1935,
//! HTTP on 127.0.0.1:8080, fMP4 with LL-HLS parts). It deserializes from a
//! TOML (or any serde) document whose keys are the field names; durations are
//! seconds (`grace = 60`, `read_pacing = 0.02`). [`Config::check`] says what is
//! wrong with a combination before anything is bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hls_mux::playlist::PlaylistKind;
use hls_mux::{Format, Muxer, MuxerOptions};
use rtmp_core::RtmpUrl;
use serde::{Deserialize, Deserializer};

use crate::auth::CallbackUrl;
use crate::ConfigError;

/// Where hls.js is looked for when `hlsjs` is not set: the npm package's file,
/// installed globally or by `../shared/peers/install.sh`.
pub const LOCAL_HLSJS: &[&str] = &[
    "/usr/lib/node_modules/hls.js/dist/hls.min.js",
    "/usr/local/lib/node_modules/hls.js/dist/hls.min.js",
    "/opt/peers/web/node_modules/hls.js/dist/hls.min.js",
];

/// Where the page loads hls.js from when no local copy is found (the page says so).
pub const HLSJS_CDN: &str = "https://cdn.jsdelivr.net/npm/hls.js@1/dist/hls.min.js";

/// Variant suffixes at most (`variants`): a multivariant playlist is made
/// per request by looking each one up.
pub const MAX_VARIANTS: usize = 16;

/// The segment container, as written in a config file (`"fmp4"` or `"ts"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentFormat {
    /// fMP4 (CMAF) segments, with LL-HLS parts unless `part_duration` is 0.
    #[default]
    Fmp4,
    /// MPEG-TS segments (no parts).
    Ts,
}

impl SegmentFormat {
    /// The `hls-mux` format.
    pub fn format(self) -> Format {
        match self {
            SegmentFormat::Fmp4 => Format::Fmp4,
            SegmentFormat::Ts => Format::Ts,
        }
    }
}

/// Segment encryption, as written in a config file (`"aes-128"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum Encrypt {
    /// AES-128-CBC of every segment and part (`EXT-X-KEY:METHOD=AES-128`).
    #[serde(rename = "aes-128")]
    Aes128,
}

/// Limits towards each RTMP player, HTTP-FLV reader and upstream push, and of
/// the cache a late joiner starts from. Bounded in bytes and in time: a reader
/// that falls behind either skips to the next key frame (and gets the sequence
/// headers again); it never makes the server hold more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Payload bytes queued for one player at most (plus 64 bytes counted per message).
    pub player_queue_bytes: usize,
    /// The oldest message queued for a player may wait this long, then the player
    /// skips to the next key frame.
    #[serde(deserialize_with = "seconds")]
    pub player_queue_age: Duration,
    /// Bytes of the current group of pictures kept for late joiners.
    pub gop_bytes: usize,
    /// Messages of the current group of pictures kept for late joiners.
    pub gop_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            player_queue_bytes: 8 << 20,
            player_queue_age: Duration::from_secs(10),
            gop_bytes: 32 << 20,
            gop_messages: 1500,
        }
    }
}

/// What the server does. See the [module docs](self).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// RTMP listen address.
    pub rtmp: SocketAddr,
    /// RTMPS listen address (RTMP inside TLS, feature `tls`), beside `rtmp`;
    /// `None` for none. Needs `tls_cert` and `tls_key`.
    pub rtmps: Option<SocketAddr>,
    /// The RTMPS listener's certificate chain: a PEM file, the server's
    /// certificate first, then the intermediates. Read again on
    /// [`Server::reload_tls`](crate::Server::reload_tls) (SIGHUP).
    pub tls_cert: Option<PathBuf>,
    /// The private key of `tls_cert`: a PEM file (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// HTTP listen address (HLS, HTTP-FLV, `/stats`, `/metrics`, the page).
    pub http: SocketAddr,
    /// Package every stream as HLS. Off, the server is an RTMP relay with HTTP-FLV.
    pub hls: bool,
    /// Segment container.
    pub format: SegmentFormat,
    /// Target segment duration, seconds.
    pub target_duration: f64,
    /// LL-HLS part target, seconds (fMP4 only); `None` (or 0 in a file) for no parts.
    #[serde(deserialize_with = "optional_seconds")]
    pub part_duration: Option<f64>,
    /// Segments in the live playlist; 0 for an EVENT playlist that keeps every segment.
    pub window: usize,
    /// Also write segments and playlists under this directory (`DIR/APP/KEY/`).
    pub out: Option<PathBuf>,
    /// Record each publish as an FLV file in this directory.
    pub record: Option<PathBuf>,
    /// Re-publish every stream to these servers (`rtmp://host/app` or
    /// `rtmps://host/app`, the key appended).
    #[serde(deserialize_with = "rtmp_urls")]
    pub push: Vec<RtmpUrl>,
    /// A PEM file of CA certificates that `rtmps://` pushes trust instead of the
    /// system's root certificates (a private CA, a self-signed upstream).
    pub push_ca: Option<PathBuf>,
    /// Stream names allowed to publish (empty: any).
    pub allow: Vec<String>,
    /// `http://` URL asked before each publish (nginx-rtmp's `on_publish`): a 2xx
    /// answer allows it, anything else refuses it.
    #[serde(deserialize_with = "callback_url")]
    pub on_publish: Option<CallbackUrl>,
    /// How long `on_publish` may take to answer (connect included); past it the
    /// publish is refused. Only that publisher waits: others go on meanwhile.
    #[serde(deserialize_with = "seconds")]
    pub callback_timeout: Duration,
    /// How long an ended stream keeps its playlist and segments.
    #[serde(deserialize_with = "seconds")]
    pub grace: Duration,
    /// The hls.js file the page at `/` uses; `None` looks in [`LOCAL_HLSJS`], then
    /// has the page load it from [`HLSJS_CDN`].
    pub hlsjs: Option<PathBuf>,
    /// Time allowed for the RTMP handshake and `connect`.
    #[serde(deserialize_with = "seconds")]
    pub handshake_timeout: Duration,
    /// RTMP silence after which a connection is dropped; also how long a write
    /// to any peer (RTMP player or publisher, HTTP client, push upstream) may make
    /// no progress before its connection is dropped (a peer whose network vanished
    /// without a FIN: see [`crate::stall`]).
    #[serde(deserialize_with = "seconds")]
    pub idle_timeout: Duration,
    /// Streams at most (live or in their grace period); publishes past it are refused.
    pub max_streams: usize,
    /// A publisher's socket is read once per this period (on a grid shared by every
    /// connection), until nothing more is ready or [`crate::beat::BURST`] bytes came,
    /// so what arrives meanwhile is read and packaged in one go: far fewer wake-ups and
    /// system calls per stream, for at most this much more latency. A publisher that
    /// brought [`crate::beat::BUSY`] is read on this beat even when the load asks for a
    /// longer one. Zero reads as soon as anything arrives.
    #[serde(deserialize_with = "seconds")]
    pub read_pacing: Duration,
    /// The longest the read beat grows to under load (see `reads_per_second`):
    /// the most latency pacing adds.
    #[serde(deserialize_with = "seconds")]
    pub read_pacing_max: Duration,
    /// Publisher reads per second and runtime worker thread: past it the beat
    /// grows from `read_pacing` (in whole beats) up to `read_pacing_max`, so
    /// that each read brings more (see [`crate::beat::Pacing`]). With the
    /// defaults, up to 500 publishers per core are read every 20 ms, 1,000 every
    /// 40 ms, 1,500 and more every 60 ms. Longer beats cost less still, but at
    /// 2,500 publishers on one core a 100 ms one twice let streams fall behind
    /// (benches/README.md).
    pub reads_per_second: u32,
    /// Send RTMP players `NetStream.Play.UnpublishNotify` when their publisher leaves
    /// (FFmpeg and rtmpdump then end at once). Off by default, as in nginx-rtmp:
    /// players get `StreamEOF` and wait for the next publisher.
    pub notify_unpublish: bool,
    /// Keep video timestamps exactly as the publisher sent them. Off by default:
    /// timestamps that are a common constant frame rate rounded to RTMP's
    /// milliseconds (33, 33, 34 ms at 30 fps) are put back on that rate's exact
    /// grid, none moved by more than a millisecond
    /// (`hls_mux::MuxerOptions::constant_frame_rate`).
    pub source_timestamps: bool,
    /// On SIGTERM the program drains ([`Server::drain`](crate::Server::drain)):
    /// publishers are asked to reconnect, and it stops when the last one has left
    /// or after this long, whichever is first.
    #[serde(deserialize_with = "seconds")]
    pub drain_timeout: Duration,
    /// Where draining asks publishers to reconnect (`rtmp://HOST/APP`); none: the
    /// URL they used, for a load balancer to send elsewhere.
    pub drain_to: Option<String>,
    /// Encrypt every segment and part (`hls_mux::encryption`). Each stream gets a
    /// random master key; the keys are served at `/APP/KEY/keyN.key` through
    /// [`Hooks::authorize_key`](crate::Hooks::authorize_key), never cached.
    pub encrypt: Option<Encrypt>,
    /// With `encrypt`: segments per key (a new key every so many).
    pub key_rotation: u64,
    /// Serve MPEG-DASH beside HLS: `/APP/KEY/manifest.mpd`, a dynamic MPD
    /// over the same fMP4 segments, one representation per track
    /// ([`hls_mux::dash`]). fMP4 only, and not with `encrypt` (DASH would
    /// hand out the media in the clear).
    pub dash: bool,
    /// Beside each ad break's `EXT-X-DATERANGE` ([`Server::insert_ad_break`](crate::Server::insert_ad_break)),
    /// also write `EXT-X-CUE-OUT`/`EXT-X-CUE-IN` for older ad inserters.
    pub cue_tags: bool,
    /// The HTTP API's bearer token: with one, `POST /APP/KEY/ad-break`
    /// starts or ends an ad break ([`crate::http::api`]); without (the
    /// default), the server answers no `POST`. At least 16 characters.
    pub api_token: Option<ApiToken>,
    /// Variant group suffixes (an ABR ladder from one or several publishers):
    /// with `["_1080", "_720"]`, streams published as `APP/KEY_1080` and
    /// `APP/KEY_720` are listed in the multivariant playlist `/APP/KEY.m3u8`,
    /// and each one's LL-HLS playlist reports the others' live edges. Empty
    /// (the default): no groups.
    pub variants: Vec<String>,
    /// A cluster directory: the Redis URL (`redis://HOST:PORT[/DB]`) every node
    /// of the cluster shares (feature `cluster`; see [`crate::cluster`]).
    /// `None` (the default): one process, no Redis.
    pub cluster: Option<String>,
    /// How the other nodes reach this one's RTMP (`rtmp://HOST:PORT`); `None`:
    /// `rtmp://` and the `rtmp` address.
    pub advertise_rtmp: Option<String>,
    /// How the other nodes reach this one's HTTP (`http://HOST:PORT`); `None`:
    /// `http://` and the `http` address.
    pub advertise_http: Option<String>,
    /// A key's lease in the cluster directory: renewed every third of it while
    /// the publisher lives; a dead node's keys are free after it.
    #[serde(deserialize_with = "seconds")]
    pub lease_ttl: Duration,
    /// Object storage (feature `store`): `s3://BUCKET[/PREFIX]`, the store's
    /// endpoint and credentials from the environment as `object_store` reads
    /// them (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, ...). Finished segments, an
    /// EVENT playlist per stream and recordings go there (see
    /// [`crate::store`]). `None` (the default): nothing is uploaded.
    pub store: Option<String>,
    /// Where objects wait for the store; `None`: `live-ingest-spool` in the
    /// system's temporary directory.
    pub spool: Option<PathBuf>,
    /// The spool's bound in bytes: past it the oldest objects not uploaded
    /// are dropped (counted in `/metrics`).
    pub spool_max: u64,
    /// Per-player and cache limits.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rtmp: SocketAddr::from(([127, 0, 0, 1], 1935)),
            rtmps: None,
            tls_cert: None,
            tls_key: None,
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            hls: true,
            format: SegmentFormat::Fmp4,
            target_duration: 2.0,
            part_duration: Some(0.5),
            window: 6,
            out: None,
            record: None,
            push: Vec::new(),
            push_ca: None,
            allow: Vec::new(),
            on_publish: None,
            callback_timeout: crate::auth::CALLBACK_TIMEOUT,
            grace: Duration::from_secs(60),
            hlsjs: None,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_streams: 10_000,
            read_pacing: Duration::from_millis(20),
            read_pacing_max: Duration::from_millis(60),
            reads_per_second: 25_000,
            notify_unpublish: false,
            source_timestamps: false,
            drain_timeout: Duration::from_secs(30),
            drain_to: None,
            encrypt: None,
            key_rotation: 10,
            dash: false,
            cue_tags: false,
            api_token: None,
            variants: Vec::new(),
            cluster: None,
            advertise_rtmp: None,
            advertise_http: None,
            lease_ttl: Duration::from_secs(5),
            store: None,
            spool: None,
            spool_max: 1 << 30,
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// The muxer options every stream is packaged with, or what is wrong with them.
    pub fn muxer_options(&self) -> Result<MuxerOptions, ConfigError> {
        let mut muxer = MuxerOptions::new(self.format.format());
        muxer.target_duration = self.target_duration;
        muxer.part_duration = self.part_duration;
        muxer.constant_frame_rate = !self.source_timestamps;
        muxer.cue_tags = self.cue_tags;
        // MPEG-TS declares its ID3 stream from the start, as Apple's encoders
        // do: a publisher's timed metadata may come at any time.
        muxer.timed_metadata = true;
        muxer.kind = match self.window {
            0 => PlaylistKind::Event,
            window => PlaylistKind::Live { window },
        };
        Muxer::new(muxer.clone()).map_err(ConfigError::Packaging)?;
        Ok(muxer)
    }

    /// Says what is wrong with this configuration, if anything.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(token) = &self.api_token {
            if token.0.len() < ApiToken::MIN_LEN || !token.0.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::Invalid {
                    field: "api_token",
                    expected: "at least 16 printable characters without spaces",
                    got: format!("{} characters", token.0.len()),
                });
            }
        }
        if let Some(url) = &self.drain_to {
            if RtmpUrl::parse(url).is_err() {
                return Err(ConfigError::Invalid {
                    field: "drain_to",
                    expected: "an rtmp:// or rtmps:// URL (rtmp://HOST[:PORT]/APP)",
                    got: url.clone(),
                });
            }
        }
        if self.encrypt.is_some() && self.key_rotation == 0 {
            return Err(ConfigError::Invalid {
                field: "key_rotation",
                expected: "at least 1 segment per key",
                got: "0".into(),
            });
        }
        if self.dash && self.format == SegmentFormat::Ts {
            return Err(ConfigError::Invalid {
                field: "dash",
                expected: "fMP4 segments (DASH has no MPEG-TS profile here)",
                got: "format = \"ts\"".into(),
            });
        }
        if self.dash && self.encrypt.is_some() {
            return Err(ConfigError::Invalid {
                field: "dash",
                expected: "no encrypt (DASH would serve the media in the clear)",
                got: "encrypt = \"aes-128\"".into(),
            });
        }
        if self.max_streams == 0 {
            return Err(ConfigError::Invalid {
                field: "max_streams",
                expected: "at least 1",
                got: "0".into(),
            });
        }
        if self.read_pacing > Duration::from_secs(1) {
            return Err(ConfigError::Invalid {
                field: "read_pacing",
                expected: "0 to 1 second",
                got: format!("{:?}", self.read_pacing),
            });
        }
        if self.read_pacing_max > Duration::from_secs(1) {
            return Err(ConfigError::Invalid {
                field: "read_pacing_max",
                expected: "0 to 1 second",
                got: format!("{:?}", self.read_pacing_max),
            });
        }
        if self.reads_per_second == 0 {
            return Err(ConfigError::Invalid {
                field: "reads_per_second",
                expected: "at least 1",
                got: "0".into(),
            });
        }
        // Zero would refuse every publish; a long wait holds a publisher (and its
        // socket) for nothing.
        if self.callback_timeout.is_zero() || self.callback_timeout > Duration::from_secs(60) {
            return Err(ConfigError::Invalid {
                field: "callback_timeout",
                expected: "more than 0 and at most 60 seconds",
                got: format!("{:?}", self.callback_timeout),
            });
        }
        if self.limits.player_queue_bytes < 64 * 1024 {
            return Err(ConfigError::Invalid {
                field: "limits.player_queue_bytes",
                expected: "at least 65536",
                got: self.limits.player_queue_bytes.to_string(),
            });
        }
        if let (Some(_), SegmentFormat::Ts) = (self.part_duration, self.format) {
            return Err(ConfigError::Invalid {
                field: "part_duration",
                expected: "no parts with format ts (LL-HLS parts are fMP4 fragments)",
                got: format!("{:?}", self.part_duration),
            });
        }
        self.check_tls()?;
        self.check_variants()?;
        self.check_cluster()?;
        self.muxer_options().map(|_| ())
    }

    /// The cluster's URLs have their schemes, the lease is 1 s to 10 min.
    fn check_cluster(&self) -> Result<(), ConfigError> {
        let invalid = |field, expected, got: &str| ConfigError::Invalid {
            field,
            expected,
            got: got.to_owned(),
        };
        if let Some(url) = &self.cluster {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid("cluster", "a redis:// URL", url));
            }
            if cfg!(not(feature = "cluster")) {
                return Err(invalid(
                    "cluster",
                    "no cluster (this build lacks the `cluster` feature)",
                    url,
                ));
            }
        }
        if let Some(url) = &self.store {
            if !url.starts_with("s3://") || url.len() <= "s3://".len() {
                return Err(invalid("store", "an s3://BUCKET[/PREFIX] URL", url));
            }
            if cfg!(not(feature = "store")) {
                return Err(invalid(
                    "store",
                    "no store (this build lacks the `store` feature)",
                    url,
                ));
            }
        }
        if self.spool_max < 1 << 20 {
            return Err(invalid(
                "spool_max",
                "at least 1048576 bytes",
                &self.spool_max.to_string(),
            ));
        }
        if let Some(url) = &self.advertise_rtmp {
            if !url.starts_with("rtmp://") {
                return Err(invalid("advertise_rtmp", "an rtmp://HOST:PORT URL", url));
            }
        }
        if let Some(url) = &self.advertise_http {
            if !url.starts_with("http://") {
                return Err(invalid("advertise_http", "an http://HOST:PORT URL", url));
            }
        }
        if self.lease_ttl < Duration::from_secs(1) || self.lease_ttl > Duration::from_secs(600) {
            return Err(invalid(
                "lease_ttl",
                "1 to 600 seconds",
                &format!("{:?}", self.lease_ttl),
            ));
        }
        Ok(())
    }

    /// How other nodes reach this one: (RTMP URL, HTTP URL).
    pub fn advertised(&self) -> (String, String) {
        let rtmp = (self.advertise_rtmp.clone()).unwrap_or_else(|| format!("rtmp://{}", self.rtmp));
        let http = (self.advertise_http.clone()).unwrap_or_else(|| format!("http://{}", self.http));
        (rtmp, http)
    }

    /// Variant suffixes are stream name characters, at most [`MAX_VARIANTS`],
    /// and none ends another: a rendition's name must say which suffix it
    /// has (with `_720` and `0_720`, `KEY0_720` would be in two groups).
    fn check_variants(&self) -> Result<(), ConfigError> {
        let invalid = |expected, got: &str| ConfigError::Invalid {
            field: "variants",
            expected,
            got: got.to_owned(),
        };
        if self.variants.len() > MAX_VARIANTS {
            return Err(invalid(
                "at most 16 suffixes",
                &self.variants.len().to_string(),
            ));
        }
        for (i, suffix) in self.variants.iter().enumerate() {
            if !crate::valid_name(suffix) || suffix.len() > 32 {
                return Err(invalid(
                    "suffixes of 1 to 32 letters, digits, '_', '-' or '.', not starting with '.'",
                    suffix,
                ));
            }
            let clash = self
                .variants
                .iter()
                .enumerate()
                .any(|(j, other)| i != j && other.ends_with(suffix.as_str()));
            if clash {
                return Err(invalid("suffixes none of which ends another", suffix));
            }
        }
        Ok(())
    }

    /// RTMPS needs both files, and the files need the listener.
    fn check_tls(&self) -> Result<(), ConfigError> {
        let missing = |field, expected| ConfigError::Invalid {
            field,
            expected,
            got: "nothing".into(),
        };
        match (self.rtmps, &self.tls_cert, &self.tls_key) {
            (Some(_), None, _) => return Err(missing("tls_cert", "a PEM file with rtmps set")),
            (Some(_), _, None) => return Err(missing("tls_key", "a PEM file with rtmps set")),
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err(missing("rtmps", "an address with tls_cert and tls_key set"))
            }
            (Some(rtmps), _, _) if rtmps == self.rtmp && rtmps.port() != 0 => {
                return Err(ConfigError::Invalid {
                    field: "rtmps",
                    expected: "an address other than rtmp's",
                    got: rtmps.to_string(),
                })
            }
            _ => {}
        }
        #[cfg(not(feature = "tls"))]
        {
            let wanted = match (self.rtmps, self.push.iter().find(|url| url.tls)) {
                (Some(addr), _) => Some(("rtmps", addr.to_string())),
                (None, Some(url)) => Some(("push", url.to_string())),
                _ => self
                    .push_ca
                    .as_ref()
                    .map(|p| ("push_ca", p.display().to_string())),
            };
            if let Some((field, got)) = wanted {
                return Err(ConfigError::Invalid {
                    field,
                    expected: "no TLS setting: live-ingest was built without its tls feature",
                    got,
                });
            }
        }
        Ok(())
    }

    /// The hls.js file to serve at `/hls.min.js`, if there is one.
    pub fn local_hlsjs(&self) -> Option<PathBuf> {
        match &self.hlsjs {
            Some(path) => Some(path.clone()),
            None => LOCAL_HLSJS
                .iter()
                .map(PathBuf::from)
                .find(|path| path.exists()),
        }
    }
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|_| value < 1e9)
        .ok_or_else(|| serde::de::Error::custom(format!("expected seconds >= 0, got {value}")))
}

fn optional_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if !(value.is_finite() && (0.0..1e6).contains(&value)) {
        return Err(serde::de::Error::custom(format!(
            "expected seconds >= 0, got {value}"
        )));
    }
    Ok((value > 0.0).then_some(value))
}

fn rtmp_urls<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<RtmpUrl>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|url| RtmpUrl::parse(url).map_err(serde::de::Error::custom))
        .collect()
}

fn callback_url<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<CallbackUrl>, D::Error> {
    let url = String::deserialize(deserializer)?;
    CallbackUrl::parse(&url)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The HTTP API's bearer token ([`Config::api_token`]). Its `Debug` shows
/// no character of it, so logging the configuration does not leak it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiToken(String);

impl ApiToken {
    /// The shortest token [`Config::check`] accepts.
    pub const MIN_LEN: usize = 16;

    /// A token (checked by [`Config::check`]).
    pub fn new(token: impl Into<String>) -> ApiToken {
        ApiToken(token.into())
    }

    /// Whether `given` is this token, compared in time that does not depend
    /// on where they first differ.
    pub fn matches(&self, given: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), given.as_bytes());
        let differ = ours
            .iter()
            .zip(theirs)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        ours.len() == theirs.len() && differ == 0
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}
