//! `live-ingest`: the server. RTMP publish in; RTMP play, HTTP-FLV and LL-HLS
//! out of every stream. `live-ingest --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use live_ingest::cli::Args;
use live_ingest::Server;

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match args.config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("live-ingest: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("live-ingest: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

async fn serve(config: live_ingest::Config) -> ExitCode {
    let server = match Server::new(config) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("live-ingest: {error}");
            return ExitCode::from(2);
        }
    };
    let bound = match live_ingest::start(server).await {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("live-ingest: cannot listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "publish to rtmp://{rtmp}/live/KEY; play rtmp://{rtmp}/live/KEY, http://{http}/live/KEY.flv \
         or http://{http}/live/KEY/index.m3u8 (page: http://{http}/)",
        rtmp = bound.rtmp,
        http = bound.http,
    );
    match tokio::signal::ctrl_c().await {
        Ok(()) => tracing::info!("interrupted, stopping"),
        Err(error) => eprintln!("live-ingest: {error}"),
    }
    ExitCode::SUCCESS
}
