//! `rtmp_to_hls`: the ingest server. RTMP in, HLS (fMP4 with Low-Latency HLS
//! parts, or MPEG-TS) out over HTTP, without re-encoding.
//!
//! ```text
//! cargo run --release --example rtmp_to_hls
//! ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/test     # publish
//! open http://127.0.0.1:8080/                                          # streams + hls.js player
//! http://127.0.0.1:8080/live/test/index.m3u8                           # the playlist
//! ```
//!
//! Options: `--help`. See `examples::rtmp_to_hls`.

use std::process::ExitCode;

use examples::rtmp_to_hls::{self, args, Server};

fn main() -> ExitCode {
    examples::init_tracing("info");
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let config = match args::parse(&arguments) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("rtmp_to_hls: {message}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rtmp_to_hls: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        if !config.hlsjs.exists() {
            tracing::warn!(
                path = %config.hlsjs.display(),
                "hls.js not found: the page at / cannot play; install the npm package hls.js or pass --hlsjs"
            );
        }
        let server = Server::new(config);
        let bound = match rtmp_to_hls::start(server).await {
            Ok(bound) => bound,
            Err(error) => {
                eprintln!("rtmp_to_hls: cannot listen: {error}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(
            "rtmp_to_hls: publish to rtmp://{}/live/KEY, play http://{}/live/KEY/index.m3u8 (page: http://{}/)",
            bound.rtmp,
            bound.http,
            bound.http
        );
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("interrupted, stopping"),
            Err(error) => eprintln!("rtmp_to_hls: {error}"),
        }
        ExitCode::SUCCESS
    })
}
