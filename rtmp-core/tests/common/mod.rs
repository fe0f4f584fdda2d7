//! Helpers shared by the replay and hostile-input tests: fixture files, an FLV tag walker,
//! split patterns, a server driver that accepts every request, and byte builders.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use rtmp_core::chunk::{ChunkDecoder, ChunkEncoder, ChunkOutput, RawMessage};
use rtmp_core::message::chunk_stream;
use rtmp_core::{Command, Message, ServerEvent, ServerSession, SessionError};

/// C0 + C1 + C2 (and S0 + S1 + S2).
pub(crate) const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;

/// A file of `rtmp-core/tests/data`.
pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One FLV tag, as an independent reader sees it.
#[derive(Clone, Debug)]
pub(crate) struct FlvTag {
    /// 8 audio, 9 video, 18 script data.
    pub(crate) tag_type: u8,
    /// 32-bit milliseconds (24 bits plus the extension byte).
    pub(crate) timestamp: u32,
    /// The tag body.
    pub(crate) body: Bytes,
}

/// Walks an FLV file: 9-byte header (its length field honoured), PreviousTagSize0, then
/// 11-byte tag headers, bodies and PreviousTagSize fields, each checked.
pub(crate) fn flv_tags(file: &[u8]) -> Vec<FlvTag> {
    assert_eq!(&file[..3], b"FLV", "FLV signature");
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let mut pos = be32(&file[5..9]);
    assert_eq!(be32(&file[pos..pos + 4]), 0, "PreviousTagSize0");
    pos += 4;
    let mut tags = Vec::new();
    while pos < file.len() {
        let h = &file[pos..pos + 11];
        let size = be32(&[0, h[1], h[2], h[3]]);
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let body = Bytes::copy_from_slice(&file[pos + 11..pos + 11 + size]);
        assert_eq!(
            be32(&file[pos + 11 + size..pos + 15 + size]),
            11 + size,
            "PreviousTagSize after the tag at {pos}"
        );
        tags.push(FlvTag {
            tag_type: h[0] & 0x1F,
            timestamp,
            body,
        });
        pos += 15 + size;
    }
    assert_eq!(pos, file.len(), "FLV ends on a tag boundary");
    tags
}

/// How input is cut into the pieces handed to `handle_input`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Split {
    /// Everything in one call.
    Whole,
    /// One byte per call.
    Bytes1,
    /// Pseudo-random sizes (1..=3000, mostly small) from a fixed seed.
    Random(u64),
}

/// The piece sizes `split` cuts `len` bytes into.
pub(crate) fn piece_sizes(len: usize, split: Split) -> Vec<usize> {
    match split {
        Split::Whole => vec![len],
        Split::Bytes1 => vec![1; len],
        Split::Random(seed) => {
            let mut rng = XorShift(seed | 1);
            let mut sizes = Vec::new();
            let mut left = len;
            while left > 0 {
                let cap = [7u64, 150, 3000][(rng.next() % 3) as usize];
                let n = (1 + rng.next() % cap) as usize;
                let n = n.min(left);
                sizes.push(n);
                left -= n;
            }
            sizes
        }
    }
}

/// A tiny deterministic generator.
#[derive(Clone, Debug)]
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// What feeding a server produced.
#[derive(Debug, Default)]
pub(crate) struct Fed {
    /// Every event, in order (requests were accepted as they came).
    pub(crate) events: Vec<ServerEvent>,
    /// Everything the server wrote, handshake included.
    pub(crate) wire: BytesMut,
    /// The first error, after which feeding stopped.
    pub(crate) error: Option<SessionError>,
    /// The largest `buffered()` seen after any call.
    pub(crate) max_buffered: usize,
    /// Bytes left unconsumed in the input buffer at the end.
    pub(crate) leftover: usize,
    /// Bytes handed to `handle_input` before the error (or all of them).
    pub(crate) fed: usize,
}

/// Feeds `bytes` to `server` in `split` pieces at time `now`, accepting every connect,
/// publish and play, until the end or the first error.
pub(crate) fn feed(server: &mut ServerSession, bytes: &[u8], split: Split, now: Instant) -> Fed {
    let mut fed = Fed::default();
    let mut input = BytesMut::new();
    let mut at = 0;
    for n in piece_sizes(bytes.len(), split) {
        input.extend_from_slice(&bytes[at..at + n]);
        at += n;
        fed.fed = at;
        let result = server
            .handle_input(&mut input, now)
            .and_then(|()| answer_all(server, &mut fed.events));
        server.output().copy_to(&mut fed.wire);
        fed.max_buffered = fed.max_buffered.max(server.buffered());
        if let Err(error) = result {
            fed.error = Some(error);
            break;
        }
    }
    fed.leftover = input.len();
    fed
}

/// Drains the events of `server` into `events`, accepting each request.
pub(crate) fn answer_all(
    server: &mut ServerSession,
    events: &mut Vec<ServerEvent>,
) -> Result<(), SessionError> {
    while let Some(event) = server.poll_event() {
        match &event {
            ServerEvent::Connect(_) => server.accept_connect()?,
            ServerEvent::Publish(_) => server.accept_publish()?,
            ServerEvent::Play(_) => server.accept_play()?,
            _ => {}
        }
        events.push(event);
    }
    Ok(())
}

/// Decodes chunks (no handshake) into messages with a fresh [`ChunkDecoder`]; the bytes
/// must end on a message boundary.
pub(crate) fn decode_chunks(bytes: &[u8]) -> Vec<RawMessage> {
    let mut decoder = ChunkDecoder::new();
    let mut input = BytesMut::from(bytes);
    let mut messages = Vec::new();
    while let Some(message) = decoder.decode(&mut input).expect("chunk stream decodes") {
        messages.push(message);
    }
    assert!(input.is_empty(), "{} bytes of a partial chunk", input.len());
    assert_eq!(decoder.buffered(), 0, "a partial message at the end");
    messages
}

/// The commands among `messages`, with their message stream ids.
pub(crate) fn commands(messages: &[RawMessage]) -> Vec<(u32, Command)> {
    messages
        .iter()
        .filter_map(|raw| match Message::from_raw(raw, &amf0::Limits::DEFAULT) {
            Ok(Message::Command(command)) => Some((raw.stream_id, command)),
            _ => None,
        })
        .collect()
}

/// A simple-handshake C0 + C1 + C2 (C1 with a zero version field, C2 not an echo: servers
/// do not require one).
pub(crate) fn simple_handshake() -> Vec<u8> {
    let mut bytes = vec![3u8];
    let mut rng = XorShift(0x1234_5678);
    let mut c1 = vec![0u8; 1536];
    for b in &mut c1[8..] {
        *b = rng.next() as u8;
    }
    bytes.extend_from_slice(&c1);
    bytes.extend_from_slice(&c1);
    bytes
}

/// Chunks `messages` (chunk stream, message stream, message) at `chunk_size`, announcing
/// nothing: the caller sends a Set Chunk Size itself when needed.
pub(crate) fn chunk(messages: &[(u32, u32, Message)], chunk_size: u32) -> Vec<u8> {
    let mut encoder = ChunkEncoder::new();
    encoder
        .set_chunk_size(chunk_size)
        .expect("valid chunk size");
    let mut out = ChunkOutput::new();
    for (csid, stream_id, message) in messages {
        encoder.encode(&message.to_raw(*csid, *stream_id, 0), &mut out);
    }
    let mut bytes = BytesMut::new();
    out.copy_to(&mut bytes);
    bytes.to_vec()
}

/// A `connect` command as FFmpeg sends it.
pub(crate) fn connect_command(app: &str, tc_url: &str) -> Message {
    let mut object = amf0::Object::new();
    object.push("app", app);
    object.push("type", "nonprivate");
    object.push("flashVer", "FMLE/3.0 (compatible; test)");
    object.push("tcUrl", tc_url);
    Message::Command(Command {
        name: "connect".into(),
        transaction_id: 1.0,
        object: amf0::Value::Object(object),
        arguments: Vec::new(),
    })
}

/// Handshake and `connect` on chunk stream 3, at chunk size 128.
pub(crate) fn handshake_and_connect() -> Vec<u8> {
    let mut bytes = simple_handshake();
    bytes.extend(chunk(
        &[(
            chunk_stream::COMMAND,
            0,
            connect_command("live", "rtmp://localhost/live"),
        )],
        128,
    ));
    bytes
}
