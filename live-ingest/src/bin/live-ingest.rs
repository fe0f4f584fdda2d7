//! `live-ingest`: the server. RTMP publish in; RTMP play, HTTP-FLV and LL-HLS
//! out of every stream. `live-ingest --help` lists the options.

use std::process::ExitCode;

// The allocator (benches/memory.py measures them): jemalloc, whose background
// thread hands freed memory back to the system after a load (200 publishers and
// 2,000 LL-HLS viewers gone: 29 MB resident, against 297 MB kept by glibc's
// malloc, its tuning variables or not, and 335 MB by mimalloc), at the same CPU.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Starts jemalloc's background thread, which purges freed pages on its decay
/// timer even when no thread allocates (without it, pages freed by a thread
/// that then sleeps stay resident), and shortens the decay: dirty pages go back
/// after 1 s instead of 10, muzzy ones at once. After 10,000 LL-HLS waiters
/// were answered that left 15.3 MB more than at the start instead of 22.0, at
/// the same CPU (benches/README.md). `_RJEM_MALLOC_CONF`, when set, is the
/// operator's choice and the decay is left to it.
fn purge_in_the_background() {
    #[cfg(feature = "jemalloc")]
    {
        if std::env::var_os("_RJEM_MALLOC_CONF").is_none() {
            shorten_decay();
        }
        if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
            tracing::warn!(%error, "jemalloc's background thread did not start: freed memory stays resident");
        }
    }
}

/// Sets the decay times of the arenas to come and of those made so far.
#[cfg(feature = "jemalloc")]
fn shorten_decay() {
    use tikv_jemalloc_ctl::{Access, AsName};
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    for (key, ms) in [("dirty_decay_ms", 1000isize), ("muzzy_decay_ms", 0)] {
        if let Err(error) = format!("arenas.{key}\0").name().write(ms) {
            tracing::warn!(%error, key, "jemalloc's decay time was not set");
        }
        // Arenas not made yet answer an error: they take the default above.
        for arena in 0..arenas {
            let _ = format!("arena.{arena}.{key}\0").name().write(ms);
        }
    }
}

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
    purge_in_the_background();
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
    let bound = match live_ingest::start(server.clone()).await {
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
    if let Some(rtmps) = bound.rtmps {
        tracing::info!("publish or play over TLS at rtmps://{rtmps}/live/KEY");
        #[cfg(unix)]
        reload_on_sighup(server.clone());
    }
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => match interrupted {
            Ok(()) => tracing::info!("interrupted, stopping"),
            Err(error) => eprintln!("live-ingest: {error}"),
        },
        () = terminated() => drain(&server).await,
    }
    ExitCode::SUCCESS
}

/// SIGTERM (a service manager stopping the server); never on other systems.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                return;
            }
            Err(error) => tracing::warn!(%error, "SIGTERM cannot be caught: no draining"),
        }
    }
    std::future::pending::<()>().await
}

/// Asks every publisher to reconnect and waits for them to go, at most
/// `drain_timeout`; Ctrl-C stops at once.
async fn drain(server: &Server) {
    let limit = server.config.drain_timeout;
    tracing::info!(
        publishers = server.live_publishers(),
        "SIGTERM: draining for at most {limit:?}"
    );
    server.drain(server.config.drain_to.clone());
    let deadline = tokio::time::Instant::now() + limit;
    while server.live_publishers() > 0 && tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!(left = server.live_publishers(), "drained, stopping");
}

/// SIGHUP reads the RTMPS certificate and key again (a renewed certificate);
/// streams go on, and a bad new pair leaves the old one in use (logged).
#[cfg(unix)]
fn reload_on_sighup(server: std::sync::Arc<Server>) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::hangup()) {
        Ok(mut hangups) => {
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    // Success and failure are both logged by `reload_tls`.
                    let _ = server.reload_tls();
                }
            });
        }
        Err(error) => tracing::warn!(%error, "SIGHUP cannot be caught: no certificate reload"),
    }
}
