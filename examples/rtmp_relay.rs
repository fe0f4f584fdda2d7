//! `rtmp_relay`: an RTMP server that relays live streams to players and upstream.
//!
//! ```text
//! cargo run --release --example rtmp_relay -- --listen 127.0.0.1:1935 [--push rtmp://host/app ...]
//! ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/key   # publish
//! ffplay rtmp://127.0.0.1/live/key                                 # play (any number)
//! ```
//!
//! Late joiners get the metadata, the sequence headers and the current GOP, so they
//! start on a keyframe; a second publisher on a live key is refused; slow players
//! skip to the next keyframe instead of slowing anyone; `--push` re-publishes every
//! stream to each upstream server under the same key. Logs go to stderr
//! (`RUST_LOG=debug` for more).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use examples::relay::{self, Relay, RelayConfig};
use rtmp_core::RtmpUrl;

const USAGE: &str = "usage: rtmp_relay [--listen ADDR] [--push rtmp://HOST[:PORT]/APP]... \
[--queue MESSAGES] [--idle-timeout SECONDS] [--notify-unpublish]";

fn main() -> ExitCode {
    examples::init_tracing("info");
    let (listen, config) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("rtmp_relay: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rtmp_relay: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let relay = Relay::new(config);
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("rtmp_relay: cannot listen on {listen}: {error}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(%listen, "rtmp_relay listening; publish and play rtmp://{listen}/APP/KEY");
        tokio::select! {
            result = relay::serve(listener, relay) => {
                if let Err(error) = result {
                    eprintln!("rtmp_relay: {error}");
                    return ExitCode::FAILURE;
                }
            }
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted, stopping"),
        }
        ExitCode::SUCCESS
    })
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(SocketAddr, RelayConfig), String> {
    let mut listen: SocketAddr = "127.0.0.1:1935"
        .parse()
        .map_err(|_| "bad default address")?;
    let mut config = RelayConfig::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                listen = v.parse().map_err(|_| {
                    format!("--listen: `{v}` is not an address like 127.0.0.1:1935")
                })?;
            }
            "--push" => {
                let v = value("--push")?;
                config
                    .push
                    .push(RtmpUrl::parse(&v).map_err(|e| e.to_string())?);
            }
            "--queue" => {
                let v = value("--queue")?;
                config.limits.queue = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--queue needs a positive number")?;
            }
            "--idle-timeout" => {
                let v = value("--idle-timeout")?;
                let seconds: u64 = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--idle-timeout needs seconds")?;
                config.idle_timeout = Duration::from_secs(seconds);
            }
            "--notify-unpublish" => config.notify_unpublish = true,
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((listen, config))
}
