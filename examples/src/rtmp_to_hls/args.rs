//! The command line of `rtmp_to_hls`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hls_mux::Format;
use rtmp_core::RtmpUrl;

use super::auth::CallbackUrl;
use super::Config;

/// The usage text.
pub const USAGE: &str = "usage: rtmp_to_hls [--rtmp ADDR] [--http ADDR] [--format fmp4|ts] \
[--target-duration S] [--part-duration S|0] [--window N] [--out DIR] [--record DIR] \
[--push rtmp://HOST[:PORT]/APP]... [--allow NAME]... [--on-publish http://HOST[:PORT]/PATH] \
[--grace S] [--hlsjs PATH] [--idle-timeout S] [--max-streams N] [--read-pacing MS]

  --rtmp ADDR           RTMP listen address (127.0.0.1:1935)
  --http ADDR           HTTP listen address (127.0.0.1:8080)
  --format fmp4|ts      segment container (fmp4)
  --target-duration S   target segment duration in seconds (2); cuts wait for key frames
  --part-duration S     LL-HLS part target in seconds (0.5 with fmp4; 0 turns parts off)
  --window N            segments in the live playlist (6); 0 keeps every segment (EVENT)
  --out DIR             also write playlists and segments to DIR/APP/KEY/ (write, then rename)
  --record DIR          record each publish to DIR/APP/KEY-UNIXTIME.flv
  --push URL            re-publish every stream to URL/KEY (repeatable)
  --allow NAME          only these stream names may publish (repeatable)
  --on-publish URL      ask URL (POST, nginx-rtmp on_publish style) before each publish; 2xx allows
  --grace S             an ended stream keeps its playlist this long (60)
  --hlsjs PATH          hls.js for the page at / (/opt/peers/web/node_modules/hls.js/dist/hls.min.js)
  --idle-timeout S      drop an RTMP connection silent this long (60)
  --max-streams N       streams at most (10000)
  --read-pacing MS      read publishers' sockets at most every MS ms, all on one beat (20; 0: at once)";

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut part: Option<Option<f64>> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--rtmp" => config.rtmp = address("--rtmp", &value("--rtmp")?)?,
            "--http" => config.http = address("--http", &value("--http")?)?,
            "--format" => {
                config.format = match value("--format")?.as_str() {
                    "fmp4" => Format::Fmp4,
                    "ts" => Format::Ts,
                    other => return Err(format!("--format: {other:?} is not fmp4 or ts")),
                }
            }
            "--target-duration" => {
                config.target_duration = seconds("--target-duration", &value("--target-duration")?)?
            }
            "--part-duration" => {
                let text = value("--part-duration")?;
                part = Some(if text == "0" {
                    None
                } else {
                    Some(seconds("--part-duration", &text)?)
                });
            }
            "--window" => {
                config.window = value("--window")?
                    .parse()
                    .map_err(|_| "--window needs a number of segments (0 for EVENT)")?
            }
            "--out" => config.out = Some(PathBuf::from(value("--out")?)),
            "--record" => config.record = Some(PathBuf::from(value("--record")?)),
            "--push" => config
                .push
                .push(RtmpUrl::parse(&value("--push")?).map_err(|e| format!("--push: {e}"))?),
            "--allow" => config.allow.push(value("--allow")?),
            "--on-publish" => {
                config.on_publish = Some(CallbackUrl::parse(&value("--on-publish")?)?)
            }
            "--grace" => {
                config.grace = Duration::from_secs_f64(seconds("--grace", &value("--grace")?)?)
            }
            "--hlsjs" => config.hlsjs = PathBuf::from(value("--hlsjs")?),
            "--idle-timeout" => {
                config.idle_timeout =
                    Duration::from_secs_f64(seconds("--idle-timeout", &value("--idle-timeout")?)?)
            }
            "--max-streams" => {
                config.max_streams = value("--max-streams")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--max-streams needs a positive number")?
            }
            "--read-pacing" => {
                config.read_pacing = Duration::from_millis(
                    value("--read-pacing")?
                        .parse::<u64>()
                        .ok()
                        .filter(|&ms| ms <= 1000)
                        .ok_or("--read-pacing takes milliseconds from 0 to 1000")?,
                )
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    config.part_duration = match (part, config.format) {
        (Some(Some(_)), Format::Ts) => {
            return Err(
                "--part-duration needs --format fmp4 (LL-HLS parts are fMP4 fragments)".into(),
            )
        }
        (Some(part), _) => part,
        (None, Format::Ts) => None,
        (None, _) => Some(0.5_f64.min(config.target_duration)),
    };
    if let Some(part) = config.part_duration {
        if part > config.target_duration {
            return Err("--part-duration must be at most --target-duration".into());
        }
    }
    super::stream::StreamOptions::from_config(&config)?;
    Ok(config)
}

fn address(name: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{name}: {text:?} is not an address like 127.0.0.1:1935"))
}

fn seconds(name: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value < 1e6 => Ok(value),
        _ => Err(format!("{name} takes seconds above 0, not {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Config, String> {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = parse_list(&[]).unwrap();
        assert_eq!(config.rtmp.to_string(), "127.0.0.1:1935");
        assert_eq!(config.http.to_string(), "127.0.0.1:8080");
        assert_eq!(config.format, Format::Fmp4);
        assert_eq!(config.part_duration, Some(0.5));
        assert_eq!(config.window, 6);
    }

    #[test]
    fn options() {
        let config = parse_list(&[
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
        ])
        .unwrap();
        assert_eq!(config.format, Format::Ts);
        assert_eq!(config.part_duration, None);
        assert_eq!(config.window, 0);
        assert_eq!(config.target_duration, 4.0);
        assert_eq!(config.allow, ["a", "b"]);
        assert_eq!(config.on_publish.unwrap().port, 9);
        assert_eq!(config.push[0].app, "up");
        let config = parse_list(&["--part-duration", "0"]).unwrap();
        assert_eq!(config.part_duration, None);
    }

    #[test]
    fn refusals() {
        assert!(parse_list(&["--format", "ts", "--part-duration", "0.5"])
            .unwrap_err()
            .contains("fmp4"));
        assert!(parse_list(&["--part-duration", "3"]).is_err());
        assert!(parse_list(&["--format", "mkv"]).is_err());
        assert!(parse_list(&["--window"])
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_list(&["--on-publish", "https://x/"]).is_err());
        assert!(parse_list(&["--bogus"]).is_err());
    }
}
