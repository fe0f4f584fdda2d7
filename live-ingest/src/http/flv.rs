//! HTTP-FLV: `GET /APP/KEY.flv` answers the live stream as one endless FLV
//! file, what flv.js and mpegts.js play in browsers at RTMP's latency, and
//! what FFmpeg, VLC and OBS's media source read.
//!
//! The reader is one more subscriber of the [hub](crate::hub): it starts with
//! the metadata, the sequence headers and the current group of pictures, has
//! the same queue bounded in bytes and age (a reader that falls behind skips to
//! the next key frame), and its answer ends when the publisher leaves. The
//! payloads are the publisher's `Bytes`: each tag is an 11-byte header, the
//! payload as it came, and the 4-byte previous-tag size.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::{Response, StatusCode};
use rtmp_core::MediaKind;
use tracing::info;

use super::{not_found, text, with_type, Body};
use crate::auth::{Event, PlayAttempt};
use crate::hub::{queue, strip_set_data_frame, Delivery, Packet};
use crate::{valid_name, Server};

/// The FLV file header with audio and video flags, and the first previous-tag size.
const FILE_HEADER: &[u8] = &[b'F', b'L', b'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0];

/// Answers `GET /APP/NAME.flv` (`query` is the name's query string, which the
/// hooks see as RTMP players' is).
pub async fn answer(
    server: &Arc<Server>,
    peer: Option<SocketAddr>,
    app: &str,
    name: &str,
    query: &str,
) -> Response<Body> {
    if !valid_name(app) || !valid_name(name) {
        return not_found();
    }
    let asked = match query.is_empty() {
        true => name.to_owned(),
        false => format!("{name}?{query}"),
    };
    let attempt = PlayAttempt {
        addr: peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
        app,
        name: &asked,
    };
    let key = match server.authorize_play(&attempt).await {
        Ok(key) => key,
        Err(refused) => {
            server.metrics.refused();
            return text(StatusCode::FORBIDDEN, &format!("{refused}\n"));
        }
    };
    if !server.hub.is_live(&key) {
        return text(
            StatusCode::NOT_FOUND,
            &format!("{key} is not live: publish to rtmp://HOST/{key}\n"),
        );
    }
    let id = server.next_id();
    let (rx, _) = server.hub.subscribe(&key, id);
    info!(id, key, ?peer, "http-flv reader");
    server.metrics.http_flv_started();
    server.event(Event::PlayStarted {
        key: key.clone(),
        addr: attempt.addr,
    });
    let reader = Reader {
        server: server.clone(),
        key,
        id,
    };
    let pieces = futures_util::stream::unfold((rx, reader), |(mut rx, reader)| async move {
        let pieces = next_tag(&mut rx).await?;
        Some((futures_util::stream::iter(pieces), (rx, reader)))
    });
    let header = futures_util::stream::once(async { Bytes::from_static(FILE_HEADER) });
    let body = futures_util::StreamExt::flatten(pieces);
    let body = Body::Live(Box::pin(futures_util::StreamExt::chain(header, body)));
    let mut response = with_type(body, "video/x-flv");
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Leaves the hub when the answer is dropped (the reader went away or the
/// stream ended).
struct Reader {
    server: Arc<Server>,
    key: String,
    id: u64,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.server.hub.unsubscribe(&self.key, self.id);
        self.server.metrics.http_flv_ended();
        self.server.event(Event::PlayEnded {
            key: std::mem::take(&mut self.key),
        });
    }
}

/// The pieces of the next tag; `None` when the publisher left.
async fn next_tag(rx: &mut queue::Receiver) -> Option<[Bytes; 3]> {
    loop {
        match rx.recv().await? {
            Delivery::Packet(packet) => return Some(tag(packet)),
            Delivery::PublishEnd => return None,
            Delivery::PublishStart => {}
        }
    }
}

/// One FLV tag: header, payload (shared, not copied), previous-tag size.
pub fn tag(packet: Packet) -> [Bytes; 3] {
    let (tag_type, body) = match packet.kind {
        MediaKind::Audio => (8, packet.payload),
        MediaKind::Video => (9, packet.payload),
        MediaKind::Data => (18, strip_set_data_frame(packet.payload)),
    };
    // FLV carries 24 bits of payload size; the RTMP decoder's limits keep
    // messages far below 16 MiB, and a larger one is cut to what fits.
    let size = body.len().min(0xFF_FFFF);
    let body = body.slice(..size);
    // The timestamp is 24 bits plus an 8-bit extension: 32 bits of milliseconds,
    // wrapping as RTMP's do.
    let timestamp = packet.timestamp as u32;
    let mut header = BytesMut::with_capacity(11);
    header.put_u8(tag_type);
    header.put_uint(size as u64, 3);
    header.put_uint(u64::from(timestamp & 0xFF_FFFF), 3);
    header.put_u8((timestamp >> 24) as u8);
    header.put_uint(0, 3);
    let previous = Bytes::copy_from_slice(&(size as u32 + 11).to_be_bytes());
    [header.freeze(), body, previous]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_back_with_the_flv_reader() {
        let packets = [
            (MediaKind::Video, 0, vec![0x17, 0, 0, 0, 0, 1, 2, 3]),
            (MediaKind::Audio, 23, vec![0xAF, 1, 9, 9]),
            (MediaKind::Video, 0x0123_4567, vec![0x27, 1, 0, 0, 0, 7]),
        ];
        let mut file = FILE_HEADER.to_vec();
        for (kind, timestamp, payload) in &packets {
            let pieces = tag(Packet {
                kind: *kind,
                timestamp: *timestamp,
                payload: Bytes::from(payload.clone()),
            });
            for piece in pieces {
                file.extend_from_slice(&piece);
            }
        }
        let mut reader = flv::Reader::new(flv::ReaderOptions::default());
        reader.push(&file);
        reader.finish();
        let mut got = Vec::new();
        while let Some(event) = reader.next_event().expect("a valid FLV") {
            if let flv::ReadEvent::Tag(tag) = event {
                got.push((tag.raw_timestamp, tag.body.to_vec()));
            }
        }
        let expected: Vec<_> = packets
            .iter()
            .map(|(_, ts, payload)| (*ts as u32, payload.clone()))
            .collect();
        assert_eq!(got, expected);
    }
}
