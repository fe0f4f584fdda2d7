//! Feeds arbitrary bytes, in fuzzer-chosen splits and with simulated time advancing, to a
//! `ServerSession` that accepts every request; it must never panic and its buffered bytes
//! must stay within the configured limits.
//!
//! Header: [flags, seed (8 bytes)], then data. `flags % 8 != 0` prepends a valid simple
//! C0 + C1 + C2 and then, by `(flags >> 3) & 3`: nothing, `connect`, `connect` +
//! `createStream` + `publish`, or `connect` + `createStream` + `play`, so the fuzzer reaches
//! the chunk, command and media layers at once. The seed drives piece sizes and time steps.
#![no_main]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rtmp_core::chunk::{ChunkEncoder, ChunkOutput, DecoderLimits};
use rtmp_core::{Command, Message, ServerConfig, ServerEvent, ServerSession};

fn prefix(commands: u8) -> Vec<u8> {
    let mut bytes = vec![3u8];
    let c1: Vec<u8> = (0..1536u32)
        .map(|i| if i < 8 { 0 } else { (i * 7) as u8 })
        .collect();
    bytes.extend_from_slice(&c1);
    bytes.extend_from_slice(&c1);
    if commands > 0 {
        let mut object = amf0::Object::new();
        object.push("app", "live");
        object.push("tcUrl", "rtmp://localhost/live");
        let command = Message::Command(Command {
            name: "connect".into(),
            transaction_id: 1.0,
            object: amf0::Value::Object(object),
            arguments: Vec::new(),
        });
        let mut out = ChunkOutput::new();
        let mut encoder = ChunkEncoder::new();
        encoder.encode(&command.to_raw(3, 0, 0), &mut out);
        if commands > 1 {
            let create = Message::Command(Command::new("createStream", 2.0, vec![]));
            encoder.encode(&create.to_raw(3, 0, 0), &mut out);
            let name = if commands == 2 { "publish" } else { "play" };
            let request = Message::Command(Command::new(name, 3.0, vec!["key".into()]));
            encoder.encode(&request.to_raw(8, 1, 0), &mut out);
        }
        let mut chunks = BytesMut::new();
        out.copy_to(&mut chunks);
        bytes.extend_from_slice(&chunks);
    }
    bytes
}

fuzz_target!(|raw: &[u8]| {
    let Some((&flags, rest)) = raw.split_first() else {
        return;
    };
    let (seed, data) = rest.split_at(rest.len().min(8));
    let mut seed_bytes = [0u8; 8];
    seed_bytes[..seed.len()].copy_from_slice(seed);
    let mut rng = u64::from_le_bytes(seed_bytes) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };

    let mut bytes = if flags % 8 != 0 {
        prefix((flags >> 3) & 3)
    } else {
        Vec::new()
    };
    bytes.extend_from_slice(data);

    let limits = DecoderLimits::default()
        .with_max_message_size(256 << 10)
        .with_max_buffered(512 << 10);
    let mut config = ServerConfig::default();
    config.chunk_limits = limits;
    config.max_pending_bytes = 64 << 10;
    let cap = limits.max_buffered + config.max_pending_bytes;

    let base = Instant::now();
    let mut now = base;
    let mut server = ServerSession::new(config, base);
    let mut input = BytesMut::new();
    let mut at = 0;
    // Bounded: every round consumes at least one byte of `bytes` or ends.
    while at < bytes.len() {
        let max_piece = [1u64, 16, 300, 5000][(flags >> 5) as usize % 4];
        let n = (1 + next() % max_piece) as usize;
        let end = (at + n).min(bytes.len());
        input.extend_from_slice(&bytes[at..end]);
        at = end;
        let before = input.len();
        let mut ok = server.handle_input(&mut input, now).is_ok();
        assert!(input.len() <= before);
        while let Some(event) = server.poll_event() {
            let answer = match &event {
                ServerEvent::Connect(_) => server.accept_connect(),
                ServerEvent::Publish(_) => server.accept_publish(),
                ServerEvent::Play(_) => server.accept_play(),
                ServerEvent::Media(media) => {
                    let mut echo = media.clone();
                    echo.stream_id = 1;
                    server.send_media(&echo);
                    Ok(())
                }
                _ => Ok(()),
            };
            ok &= answer.is_ok();
        }
        let out = server.output().len();
        server.output().advance(out);
        if !ok {
            assert!(server.is_closed());
            break;
        }
        assert!(server.buffered() <= cap, "buffered {}", server.buffered());
        // Simulated time: up to 4 s per step; honour the session's deadline.
        now += Duration::from_millis(next() % 4000);
        if server
            .poll_timeout()
            .is_some_and(|deadline| now >= deadline)
            && server.handle_timeout(now).is_err()
        {
            assert!(server.is_closed());
            assert_eq!(server.poll_timeout(), None);
            break;
        }
    }
});
