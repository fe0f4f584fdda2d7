//! `hls_origin`: an HLS origin with rules of its own, built on `live-ingest`.
//!
//! Only stream keys that start with `cam` may publish, and each publish and
//! departure is logged by the application's [`Hooks`]; every stream is served as
//! LL-HLS (fMP4, 1 s segments, 0.25 s parts) and kept whole (an EVENT playlist).
//!
//! ```text
//! cargo run --release --example hls_origin
//! ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/cam1   # accepted
//! ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/other  # refused
//! http://127.0.0.1:8080/live/cam1/index.m3u8
//! ```

use std::process::ExitCode;

use live_ingest::{Config, Event, HookFuture, Hooks, PublishAttempt, Refused, Server};

/// The application's rules.
struct Cameras;

impl Hooks for Cameras {
    fn authorize_publish<'a>(&'a self, attempt: &'a PublishAttempt<'a>) -> HookFuture<'a> {
        let allowed = attempt.stream_name().starts_with("cam");
        Box::pin(async move {
            match allowed {
                true => Ok(()),
                false => Err(Refused::ByApplication("only cam* keys publish here".into())),
            }
        })
    }

    fn on_event(&self, event: &Event) {
        match event {
            Event::PublishStarted { key, addr, resumed } => {
                tracing::info!(key, %addr, resumed, "camera on air")
            }
            Event::PublishEnded { key } => tracing::info!(key, "camera off air"),
            _ => {}
        }
    }
}

fn main() -> ExitCode {
    examples::init_tracing("info");
    let config = Config {
        target_duration: 1.0,
        part_duration: Some(0.25),
        window: 0,
        ..Config::default()
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("hls_origin: cannot start the runtime");
        return ExitCode::FAILURE;
    };
    runtime.block_on(async {
        let started = match Server::with_hooks(config, Cameras) {
            Ok(server) => live_ingest::start(server).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match started {
            Ok(bound) => tracing::info!(
                "publish to rtmp://{}/live/camN, play http://{}/live/camN/index.m3u8",
                bound.rtmp,
                bound.http
            ),
            Err(error) => {
                eprintln!("hls_origin: {error}");
                return ExitCode::FAILURE;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
