//! `rtmp_load` against the `live-ingest` server in-process: real-time
//! publishers from one process, every stream with its playlist.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use live_ingest::{Bound, Config, Server};
use testkit as common;

fn source() -> PathBuf {
    common::corpus().join("a_h264high_bf_aac.flv")
}

fn start_server() -> (Bound, Arc<Server>) {
    let config = Config {
        rtmp: "127.0.0.1:0".parse().unwrap(),
        http: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    let server = Server::new(config).expect("a valid configuration");
    let shared = server.clone();
    let bound = common::serve_in_background("the server", || async move {
        live_ingest::start(shared).await.expect("bind the server")
    });
    (bound, server)
}

/// The playlist of `key` once `done` says so, within `limit`.
fn wait_for(bound: &Bound, key: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let response = common::http_get(bound.http, &format!("/live/{key}/index.m3u8"));
        let text = response.text();
        if response.status == 200 && done(&text) {
            return text;
        }
        assert!(
            start.elapsed() < limit,
            "{key}: not ready in {limit:?}: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs peers: the corpus (../shared/peers)"]
fn rtmp_load_publishes_real_time_streams_that_all_get_playlists() {
    let (bound, server) = start_server();
    let args = examples::rtmp_load::parse_args(&[
        "--streams".into(),
        "4".into(),
        "--url".into(),
        format!("rtmp://{}/live/load", bound.rtmp),
        "--file".into(),
        source().to_str().expect("utf-8").into(),
        "--duration".into(),
        // Over one loop of the 6 s file: the timestamps must go on.
        "9".into(),
    ])
    .expect("arguments");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut reports = 0;
    let report = runtime
        .block_on(examples::rtmp_load::run(&args, |_| reports += 1))
        .expect("rtmp_load runs");
    let elapsed = started.elapsed();
    eprintln!("rtmp_load: {}", report.json());
    assert!(elapsed >= Duration::from_secs(9), "real time: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(14), "{elapsed:?}");
    assert!(reports >= 1);
    assert_eq!((report.streams, report.failed), (4, 0), "{report:?}");
    assert_eq!(report.ever_behind, 0, "{report:?}");
    assert!(report.bytes > 4 * 300_000, "{report:?}");
    for i in 0..4 {
        let key = format!("load{i}");
        let text = wait_for(&bound, &key, Duration::from_secs(5), |t| {
            t.contains("#EXT-X-ENDLIST")
        });
        let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).expect("m3u8-rs");
        // 9 s of media in 2 s segments, and no discontinuity at the loop:
        // the timestamps went on.
        let total: f32 = parsed.segments.iter().map(|s| s.duration).sum();
        assert!((8.0..10.0).contains(&total), "{key}: {total} s\n{text}");
        assert!(!parsed.segments.iter().any(|s| s.discontinuity), "{text}");
        let stream = server
            .registry
            .as_ref()
            .expect("HLS on")
            .get(&format!("live/{key}"))
            .expect("stream");
        assert!(!stream.is_live());
    }
}
