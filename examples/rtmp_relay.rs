//! `rtmp_relay`: an RTMP relay built on `live-ingest`: publishers send to
//! `rtmp://HOST/APP/KEY`, any number of players play the same URL (or read
//! `http://HOST:8080/APP/KEY.flv`), and every stream can be re-published upstream.
//!
//! ```text
//! cargo run --release --example rtmp_relay -- [--listen ADDR] [--http ADDR] [--push rtmp://HOST/APP]...
//! ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/key   # publish
//! ffplay rtmp://127.0.0.1/live/key                                 # play (any number)
//! ```
//!
//! Late joiners start on a key frame (metadata, sequence headers, the current
//! GOP); a second publisher on a live key is refused; a slow player skips to
//! the next key frame instead of slowing anyone (its queue is bounded in bytes).

use std::process::ExitCode;

use live_ingest::{Config, Server};
use rtmp_core::RtmpUrl;

fn main() -> ExitCode {
    examples::init_tracing("info");
    let config = match parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("rtmp_relay: {message}\nusage: rtmp_relay [--listen ADDR] [--http ADDR] [--push rtmp://HOST[:PORT]/APP]... [--notify-unpublish]");
            return ExitCode::from(2);
        }
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("rtmp_relay: cannot start the runtime");
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let started = match Server::new(config) {
            Ok(server) => live_ingest::start(server).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match started {
            Ok(bound) => tracing::info!("publish and play rtmp://{}/APP/KEY", bound.rtmp),
            Err(error) => {
                eprintln!("rtmp_relay: {error}");
                return ExitCode::FAILURE;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}

/// The relay's few options over `live-ingest`'s defaults, with HLS off.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let mut config = Config {
        hls: false,
        ..Config::default()
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => config.rtmp = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--http" => config.http = value()?.parse().map_err(|e| format!("--http: {e}"))?,
            "--push" => config
                .push
                .push(RtmpUrl::parse(&value()?).map_err(|e| format!("--push: {e}"))?),
            "--notify-unpublish" => config.notify_unpublish = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}
