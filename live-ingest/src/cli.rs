//! The `live-ingest` command line (with the `cli` feature): flags over an
//! optional TOML config file over the defaults. The flags keep the names and
//! meanings `rtmp_to_hls` and `rtmp_relay` had, so scripts go on working.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::auth::CallbackUrl;
use crate::config::SegmentFormat;
use crate::{Config, ConfigError};

/// RTMP publish in; RTMP play, HTTP-FLV and Low-Latency HLS out, without re-encoding.
///
/// Publish to rtmp://HOST/APP/KEY (FFmpeg, OBS, GStreamer...). Play the same URL
/// over RTMP, http://HOST:PORT/APP/KEY.flv (HTTP-FLV) or
/// http://HOST:PORT/APP/KEY/index.m3u8 (HLS); the page at / lists the streams
/// with a player; /stats is JSON and /metrics Prometheus text.
///
/// An ABR ladder: with --variants _1080,_720, publishers of APP/KEY_1080 and
/// APP/KEY_720 are the variants of http://HOST:PORT/APP/KEY.m3u8.
///
/// RTMPS (rtmps://HOST:PORT/APP/KEY) is served on its own port with --rtmps,
/// --tls-cert and --tls-key; SIGHUP reads the certificate and key again without
/// dropping a stream.
#[derive(Debug, Parser)]
#[command(name = "live-ingest", version, max_term_width = 100)]
pub struct Args {
    /// A TOML file with any field of the configuration (flags override it).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// RTMP listen address [default: 127.0.0.1:1935].
    #[arg(long, value_name = "ADDR")]
    pub rtmp: Option<SocketAddr>,
    /// RTMPS (RTMP over TLS) listen address, beside --rtmp; needs --tls-cert and
    /// --tls-key [default: none].
    #[arg(long, value_name = "ADDR")]
    pub rtmps: Option<SocketAddr>,
    /// The RTMPS certificate chain, PEM (the server's certificate first); read again
    /// on SIGHUP.
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The RTMPS private key, PEM (PKCS#8, PKCS#1 or SEC1); read again on SIGHUP.
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// HTTP listen address [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// No HLS packaging: an RTMP relay with HTTP-FLV.
    #[arg(long)]
    pub no_hls: bool,
    /// Segment container [default: fmp4].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Target segment duration in seconds [default: 2]; cuts wait for key frames, so
    /// set the encoder's key frame interval to it.
    #[arg(long, value_name = "S")]
    pub target_duration: Option<f64>,
    /// LL-HLS part target in seconds [default: 0.5 with fmp4]; 0 turns parts off.
    #[arg(long, value_name = "S")]
    pub part_duration: Option<f64>,
    /// Segments in the live playlist [default: 6]; 0 keeps every segment (EVENT).
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// Also write playlists and segments to DIR/APP/KEY/ (write, then rename).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Record each publish to DIR/APP/KEY-UNIXTIME.flv.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Re-publish every stream to URL/KEY (repeatable); rtmps:// is checked against
    /// the system's root certificates, or --push-ca.
    #[arg(long, value_name = "rtmp[s]://HOST[:PORT]/APP")]
    pub push: Vec<String>,
    /// CA certificates (PEM) that rtmps:// pushes trust instead of the system's roots.
    #[arg(long, value_name = "PEM")]
    pub push_ca: Option<PathBuf>,
    /// Only these stream names may publish (repeatable).
    #[arg(long, value_name = "NAME")]
    pub allow: Vec<String>,
    /// Ask URL (a form POST, nginx-rtmp's on_publish) before each publish; 2xx allows.
    #[arg(long, value_name = "http://HOST[:PORT]/PATH")]
    pub on_publish: Option<String>,
    /// An ended stream keeps its playlist this many seconds [default: 60]; a publisher
    /// back within it continues the playlist.
    #[arg(long, value_name = "S")]
    pub grace: Option<f64>,
    /// hls.js for the page at / [default: the npm package's file if installed, else
    /// the page loads it from a CDN].
    #[arg(long, value_name = "PATH")]
    pub hlsjs: Option<PathBuf>,
    /// Drop an RTMP connection silent this many seconds, and any connection whose
    /// writes make no progress this long [default: 60].
    #[arg(long, value_name = "S")]
    pub idle_timeout: Option<f64>,
    /// Streams at most [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_streams: Option<usize>,
    /// Read publishers' sockets every MS milliseconds, all on one beat, each
    /// until empty or 1 MiB came [default: 20; 0 reads at once].
    #[arg(long, value_name = "MS")]
    pub read_pacing: Option<u64>,
    /// Under load the read beat grows, in whole beats, up to MS milliseconds
    /// [default: 60].
    #[arg(long, value_name = "MS")]
    pub read_pacing_max: Option<u64>,
    /// Publisher reads per second and core before the beat grows: with the
    /// defaults 500 publishers per core are read every 20 ms, 1,000 every 40 ms
    /// [default: 25000].
    #[arg(long, value_name = "N")]
    pub reads_per_second: Option<u32>,
    /// Tell RTMP players NetStream.Play.UnpublishNotify when the publisher leaves
    /// (FFmpeg and rtmpdump then stop) instead of only StreamEOF.
    #[arg(long)]
    pub notify_unpublish: bool,
    /// Keep video timestamps as the publisher sent them, instead of putting a
    /// constant frame rate rounded to milliseconds back on its exact grid.
    #[arg(long)]
    pub source_timestamps: bool,
    /// Encrypt segments and parts; the keys are served at /APP/KEY/keyN.key
    /// through the application's hooks [default: none].
    #[arg(long, value_enum, value_name = "METHOD")]
    pub encrypt: Option<EncryptArg>,
    /// With --encrypt: a new key every N segments [default: 10].
    #[arg(long, value_name = "N")]
    pub key_rotation: Option<u64>,
    /// Serve MPEG-DASH beside HLS at /APP/KEY/manifest.mpd, over the same fMP4
    /// segments (not with --format ts or --encrypt).
    #[arg(long)]
    pub dash: bool,
    /// On SIGTERM, ask publishers to reconnect (Enhanced RTMP reconnect request)
    /// and stop once they have left or after S seconds [default: 30].
    #[arg(long, value_name = "S")]
    pub drain_timeout: Option<f64>,
    /// Where draining asks publishers to reconnect, rtmp://HOST/APP [default: the
    /// URL each one used].
    #[arg(long, value_name = "URL")]
    pub drain_to: Option<String>,
    /// Turn the HTTP API on (POST /APP/KEY/ad-break): its bearer token is the
    /// first line of FILE (at least 16 characters; a file, so that it is not
    /// in the process list) [default: no API].
    #[arg(long, value_name = "FILE")]
    pub api_token_file: Option<PathBuf>,
    /// Variant group suffixes, e.g. _1080,_720,_480: streams published as KEY_1080,
    /// KEY_720 and KEY_480 are listed in the multivariant playlist
    /// http://HOST:PORT/APP/KEY.m3u8 (the live ones, by bandwidth) [default: none].
    #[arg(long, value_name = "SUFFIX,...", value_delimiter = ',')]
    pub variants: Vec<String>,
    /// Join a cluster whose directory is this Redis (redis://HOST:PORT): a key is
    /// live on one node at a time, any node answers HLS and HTTP-FLV for any key
    /// [default: none, one process without Redis].
    #[arg(long, value_name = "redis://HOST:PORT")]
    pub cluster: Option<String>,
    /// With --cluster: how other nodes reach this one's RTMP, rtmp://HOST:PORT
    /// [default: rtmp://ADDR of --rtmp].
    #[arg(long, value_name = "URL")]
    pub advertise_rtmp: Option<String>,
    /// With --cluster: how other nodes reach this one's HTTP, http://HOST:PORT
    /// [default: http://ADDR of --http].
    #[arg(long, value_name = "URL")]
    pub advertise_http: Option<String>,
    /// With --cluster: a key's lease in seconds; a dead node's keys are free
    /// again after it [default: 5].
    #[arg(long, value_name = "S")]
    pub lease_ttl: Option<f64>,
    /// Upload finished segments, an EVENT playlist per stream and recordings to
    /// s3://BUCKET[/PREFIX]; the endpoint and credentials come from AWS_ENDPOINT,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP
    /// [default: none].
    #[arg(long, value_name = "s3://BUCKET[/PREFIX]")]
    pub store: Option<String>,
    /// With --store: where objects wait for the store [default: live-ingest-spool
    /// in the temporary directory].
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// With --store: the spool's bound; past it the oldest objects not uploaded
    /// are dropped [default: 1073741824].
    #[arg(long, value_name = "BYTES")]
    pub spool_max: Option<u64>,
    /// Bytes queued for one player at most before it skips to the next key frame
    /// [default: 8388608].
    #[arg(long, value_name = "BYTES")]
    pub player_queue_bytes: Option<usize>,
}

/// `--encrypt`'s methods.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EncryptArg {
    /// AES-128-CBC of every segment and part (EXT-X-KEY:METHOD=AES-128).
    #[value(name = "aes-128")]
    Aes128,
}

/// `--format`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// fMP4 (CMAF) with LL-HLS parts.
    Fmp4,
    /// MPEG-TS.
    Ts,
}

/// Why the command line or the config file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The config file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The config file is not a valid configuration.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its place.
        source: Box<toml::de::Error>,
    },
    /// The combination of settings cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Args {
    /// The configuration: defaults, then the file, then the flags.
    pub fn config(&self) -> Result<Config, CliError> {
        let mut config = match &self.config {
            Some(path) => read_file(path)?,
            None => Config::default(),
        };
        self.apply(&mut config)?;
        config.check()?;
        Ok(config)
    }

    fn apply(&self, config: &mut Config) -> Result<(), ConfigError> {
        set(&mut config.rtmp, self.rtmp);
        set_some(&mut config.rtmps, self.rtmps);
        set_some(&mut config.tls_cert, self.tls_cert.clone());
        set_some(&mut config.tls_key, self.tls_key.clone());
        set(&mut config.http, self.http);
        config.hls &= !self.no_hls;
        if let Some(format) = self.format {
            config.format = match format {
                Format::Fmp4 => SegmentFormat::Fmp4,
                Format::Ts => SegmentFormat::Ts,
            };
            // TS has no parts unless asked for (which `check` refuses).
            if config.format == SegmentFormat::Ts && self.part_duration.is_none() {
                config.part_duration = None;
            }
        }
        if let Some(target) = self.target_duration {
            config.target_duration = seconds("--target-duration", target)?;
            if let Some(part) = config.part_duration.filter(|&part| part > target) {
                // The default part must fit the target asked for.
                config.part_duration = Some(part.min(target));
            }
        }
        if let Some(part) = self.part_duration {
            config.part_duration = match part {
                0.0 => None,
                part => Some(seconds("--part-duration", part)?),
            };
        }
        set(&mut config.window, self.window);
        set_some(&mut config.out, self.out.clone());
        set_some(&mut config.record, self.record.clone());
        for url in &self.push {
            let url = rtmp_core::RtmpUrl::parse(url).map_err(|_| ConfigError::Url {
                what: "--push",
                expected: "rtmp://HOST[:PORT]/APP or rtmps://HOST[:PORT]/APP",
                got: url.clone(),
            })?;
            config.push.push(url);
        }
        set_some(&mut config.push_ca, self.push_ca.clone());
        config.allow.extend(self.allow.iter().cloned());
        if !self.variants.is_empty() {
            config.variants.clone_from(&self.variants);
        }
        if let Some(url) = &self.on_publish {
            config.on_publish = Some(CallbackUrl::parse(url)?);
        }
        self.apply_limits(config)
    }

    fn apply_limits(&self, config: &mut Config) -> Result<(), ConfigError> {
        if let Some(grace) = self.grace {
            config.grace = duration("--grace", grace)?;
        }
        set_some(&mut config.hlsjs, self.hlsjs.clone());
        if let Some(idle) = self.idle_timeout {
            config.idle_timeout = duration("--idle-timeout", idle)?;
        }
        set(&mut config.max_streams, self.max_streams);
        if let Some(ms) = self.read_pacing {
            config.read_pacing = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = self.read_pacing_max {
            config.read_pacing_max = std::time::Duration::from_millis(ms);
        }
        set(&mut config.reads_per_second, self.reads_per_second);
        config.notify_unpublish |= self.notify_unpublish;
        config.source_timestamps |= self.source_timestamps;
        if let Some(seconds) = self.drain_timeout {
            config.drain_timeout = duration("--drain-timeout", seconds)?;
        }
        set_some(&mut config.drain_to, self.drain_to.clone());
        if let Some(EncryptArg::Aes128) = self.encrypt {
            config.encrypt = Some(crate::config::Encrypt::Aes128);
        }
        set(&mut config.key_rotation, self.key_rotation);
        config.dash |= self.dash;
        if let Some(path) = &self.api_token_file {
            config.api_token = Some(read_token(path)?);
        }
        set_some(&mut config.cluster, self.cluster.clone());
        set_some(&mut config.store, self.store.clone());
        set_some(&mut config.spool, self.spool.clone());
        set(&mut config.spool_max, self.spool_max);
        set_some(&mut config.advertise_rtmp, self.advertise_rtmp.clone());
        set_some(&mut config.advertise_http, self.advertise_http.clone());
        if let Some(seconds) = self.lease_ttl {
            config.lease_ttl = duration("--lease-ttl", seconds)?;
        }
        set(
            &mut config.limits.player_queue_bytes,
            self.player_queue_bytes,
        );
        Ok(())
    }
}

fn read_file(path: &std::path::Path) -> Result<Config, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| CliError::Parse {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

fn set_some<T>(field: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *field = value;
    }
}

fn seconds(field: &'static str, value: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && value > 0.0 && value < 1e6 {
        return Ok(value);
    }
    Err(ConfigError::Invalid {
        field,
        expected: "seconds above 0",
        got: value.to_string(),
    })
}

fn duration(field: &'static str, value: f64) -> Result<std::time::Duration, ConfigError> {
    seconds(field, value).map(std::time::Duration::from_secs_f64)
}

/// The first line of `path`, as the API token.
fn read_token(path: &std::path::Path) -> Result<crate::config::ApiToken, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Invalid {
        field: "--api-token-file",
        expected: "a readable file holding the token",
        got: format!("{}: {error}", path.display()),
    })?;
    let token = text.lines().next().unwrap_or("").trim();
    Ok(crate::config::ApiToken::new(token))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, CliError> {
        let args = Args::try_parse_from(std::iter::once("live-ingest").chain(args.iter().copied()))
            .expect("arguments clap accepts");
        args.config()
    }

    #[test]
    fn the_api_token_comes_from_a_file_and_must_be_long_enough() {
        let dir = std::env::temp_dir().join(format!("live-ingest-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "0123456789abcdefXYZ\nignored\n").unwrap();
        let config = parse(&["--api-token-file", file.to_str().unwrap()]).unwrap();
        let token = config.api_token.as_ref().expect("a token");
        assert!(token.matches("0123456789abcdefXYZ") && !token.matches("0123456789abcdef"));
        assert!(
            !format!("{config:?}").contains("0123456789"),
            "Debug hides it"
        );
        config.check().unwrap();
        std::fs::write(&file, "short\n").unwrap();
        let short = parse(&["--api-token-file", file.to_str().unwrap()]);
        assert!(short.unwrap_err().to_string().contains("api_token"));
        assert!(parse(&["--api-token-file", "/nonexistent/token"]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.rtmp.to_string(), "127.0.0.1:1935");
        assert_eq!(config.http.to_string(), "127.0.0.1:8080");
        assert_eq!(config.format, SegmentFormat::Fmp4);
        assert_eq!(config.part_duration, Some(0.5));
        assert_eq!(config.window, 6);
        assert!(config.hls);
    }

    #[test]
    fn the_old_flags_keep_their_meaning() {
        let config = parse(&[
            "--format",
            "ts",
            "--window",
            "0",
            "--target-duration",
            "4",
            "--allow",
            "a",
            "--allow",
            "b",
            "--on-publish",
            "http://127.0.0.1:9/p",
            "--push",
            "rtmp://127.0.0.1:1936/up",
            "--read-pacing",
            "0",
            "--read-pacing-max",
            "250",
            "--reads-per-second",
            "4000",
        ])
        .unwrap();
        assert_eq!(config.format, SegmentFormat::Ts);
        assert_eq!(config.part_duration, None);
        assert_eq!(config.window, 0);
        assert_eq!(config.target_duration, 4.0);
        assert_eq!(config.allow, ["a", "b"]);
        assert_eq!(config.on_publish.unwrap().port, 9);
        assert_eq!(config.push[0].app, "up");
        assert!(config.read_pacing.is_zero());
        assert_eq!(
            config.read_pacing_max,
            std::time::Duration::from_millis(250)
        );
        assert_eq!(config.reads_per_second, 4000);
        let tls = parse(&[
            "--rtmps",
            "0.0.0.0:443",
            "--tls-cert",
            "/etc/c.pem",
            "--tls-key",
            "/etc/k.pem",
            "--push",
            "rtmps://up.example/live",
            "--push-ca",
            "/etc/ca.pem",
        ])
        .unwrap();
        assert_eq!(tls.rtmps, Some("0.0.0.0:443".parse().unwrap()));
        assert_eq!(tls.tls_cert.as_deref(), Some(Path::new("/etc/c.pem")));
        assert_eq!(tls.tls_key.as_deref(), Some(Path::new("/etc/k.pem")));
        assert_eq!((tls.push[0].port, tls.push[0].tls), (443, true));
        assert_eq!(tls.push_ca.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(
            parse(&["--part-duration", "0"]).unwrap().part_duration,
            None
        );
        let short = parse(&["--target-duration", "0.3"]).unwrap();
        assert_eq!(short.part_duration, Some(0.3));
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let error = parse(&["--format", "ts", "--part-duration", "0.5"]).unwrap_err();
        assert!(error.to_string().contains("format ts"), "{error}");
        assert!(parse(&["--part-duration", "3"]).is_err());
        assert!(parse(&["--on-publish", "https://x/"])
            .unwrap_err()
            .to_string()
            .contains("http://HOST"));
        assert!(parse(&["--push", "http://x/"]).is_err());
        let error = parse(&["--rtmps", "127.0.0.1:1936"]).unwrap_err();
        assert!(error.to_string().contains("tls_cert"), "{error}");
        let error = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap_err();
        assert!(error.to_string().starts_with("rtmps:"), "{error}");
        assert!(parse(&["--read-pacing", "5000"]).is_err());
        let error = parse(&["--read-pacing-max", "5000"]).unwrap_err();
        assert!(error.to_string().contains("read_pacing_max"), "{error}");
        let error = parse(&["--reads-per-second", "0"]).unwrap_err();
        assert!(error.to_string().contains("reads_per_second"), "{error}");
        let error = parse(&["--variants", "_720,0_720"]).unwrap_err();
        assert!(error.to_string().contains("ends another"), "{error}");
        assert!(parse(&["--variants", "_hi,a/b"]).is_err());
        assert!(parse(&["--variants", ""]).is_err());
        assert!(Args::try_parse_from(["live-ingest", "--format", "mkv"]).is_err());
        assert!(Args::try_parse_from(["live-ingest", "--bogus"]).is_err());
    }

    #[test]
    fn a_config_file_is_read_and_flags_override_it() {
        let dir = std::env::temp_dir().join(format!("live-ingest-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.toml");
        std::fs::write(
            &path,
            "rtmp = \"0.0.0.0:1935\"\nformat = \"ts\"\npart_duration = 0\ngrace = 5.5\n\
             allow = [\"cam1\"]\nrtmps = \"0.0.0.0:1936\"\ntls_cert = \"c.pem\"\n\
             tls_key = \"k.pem\"\npush_ca = \"ca.pem\"\n\
             [limits]\nplayer_queue_bytes = 1048576\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let config = parse(&["--config", file, "--window", "3"]).unwrap();
        assert_eq!(config.rtmp.to_string(), "0.0.0.0:1935");
        assert_eq!(config.format, SegmentFormat::Ts);
        assert_eq!(config.grace.as_secs_f64(), 5.5);
        assert_eq!(config.window, 3);
        assert_eq!(config.allow, ["cam1"]);
        assert_eq!(config.limits.player_queue_bytes, 1 << 20);
        assert_eq!(config.rtmps.unwrap().port(), 1936);
        assert_eq!(config.tls_cert.as_deref(), Some(Path::new("c.pem")));
        assert_eq!(config.tls_key.as_deref(), Some(Path::new("k.pem")));
        assert_eq!(config.push_ca.as_deref(), Some(Path::new("ca.pem")));
        assert!(config.variants.is_empty());
        std::fs::write(&path, "variants = [\"_1080\", \"_720\"]\n").unwrap();
        let config = parse(&["--config", file]).unwrap();
        assert_eq!(config.variants, ["_1080", "_720"]);
        let config = parse(&["--config", file, "--variants", "_hi,_lo"]).unwrap();
        assert_eq!(config.variants, ["_hi", "_lo"]);
        std::fs::write(&path, "rtmp = \"0.0.0.0:1935\"\nsegment_length = 4\n").unwrap();
        let error = parse(&["--config", file]).unwrap_err();
        assert!(error.to_string().contains("segment_length"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
