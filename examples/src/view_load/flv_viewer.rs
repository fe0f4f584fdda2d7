//! The HTTP-FLV viewer: `/APP/KEY.flv`, each track's timestamps in order.

use std::time::Duration;

use http_body_util::BodyExt;

use super::http::Http;
use super::{Counters, Target};

/// How long a viewer waits before asking again for a stream that is gone.
const RETRY: Duration = Duration::from_secs(1);

/// Reads the stream for ever, again each time it ends.
pub(super) async fn run(target: Target) {
    let counters = &target.counters;
    let mut http = Http::new(target.http);
    let path = format!("/{}/{}.flv", target.app, target.name);
    loop {
        match http.open(&path, Duration::from_secs(10)).await {
            Ok(response) if response.status() == 200 => {
                Counters::add(&counters.reading, 1);
                read(response.into_body(), counters).await;
                counters
                    .reading
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                // The stream ended: its publisher left (or the server cut
                // us off, which the failures count says apart).
                Counters::add(&counters.waits, 1);
            }
            Ok(_) => Counters::add(&counters.waits, 1),
            Err(_) => Counters::add(&counters.failures, 1),
        }
        // A new connection for the next try: this one carried a stream.
        http = Http::new(target.http);
        tokio::time::sleep(RETRY).await;
    }
}

/// Reads one FLV response to its end, checking each track's order.
async fn read(mut body: hyper::body::Incoming, counters: &Counters) {
    let mut reader = flv::Reader::new(flv::ReaderOptions::default());
    let mut last = [None::<i64>; 2];
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            Counters::add(&counters.failures, 1);
            return;
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        Counters::add(&counters.bytes, data.len() as u64);
        reader.push_bytes(data);
        loop {
            match reader.next_event() {
                Ok(Some(flv::ReadEvent::Tag(tag))) => {
                    let track = match tag.tag_type {
                        flv::TagType::Audio => 0,
                        flv::TagType::Video => 1,
                        _ => continue,
                    };
                    Counters::add(&counters.reads, 1);
                    if last[track].is_some_and(|t| tag.timestamp < t) {
                        Counters::add(&counters.disorder, 1);
                    }
                    last[track] = Some(tag.timestamp);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    Counters::add(&counters.disorder, 1);
                    return;
                }
            }
        }
    }
}
