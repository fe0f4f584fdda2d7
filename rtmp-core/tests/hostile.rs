//! Hostile and broken peers against `ServerSession`: every case ends in a clear error (or
//! works, slowly), memory stays within the configured limits, nothing panics or loops.
//! Time is simulated: a base `Instant` plus `Duration`s.

mod common;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{
    answer_all, chunk, connect_command, data, feed, handshake_and_connect, simple_handshake, Fed,
    Split, HANDSHAKE_LEN,
};
use proptest::prelude::*;
use rtmp_core::chunk::DecoderLimits;
use rtmp_core::message::chunk_stream;
use rtmp_core::{
    ChunkError, Command, Message, MessageError, ServerConfig, ServerEvent, ServerSession,
    SessionError,
};

/// A basic header for `csid` with chunk type `fmt`.
fn basic_header(fmt: u8, csid: u32) -> Vec<u8> {
    match csid {
        2..=63 => vec![fmt << 6 | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => {
            let [lo, hi] = ((csid - 64) as u16).to_le_bytes();
            vec![fmt << 6 | 1, lo, hi]
        }
    }
}

/// A type-0 chunk header: timestamp 0, `length`, `type_id`, message stream 1.
fn fmt0_header(csid: u32, length: u32, type_id: u8) -> Vec<u8> {
    let mut h = basic_header(0, csid);
    h.extend_from_slice(&[0, 0, 0]);
    h.extend_from_slice(&length.to_be_bytes()[1..]);
    h.push(type_id);
    h.extend_from_slice(&1u32.to_le_bytes());
    h
}

fn config(f: impl FnOnce(&mut ServerConfig)) -> ServerConfig {
    let mut config = ServerConfig::default();
    f(&mut config);
    config
}

/// A server that has done the handshake and accepted `connect`.
fn connected(config: ServerConfig, now: Instant) -> ServerSession {
    let mut server = ServerSession::new(config, now);
    let fed = feed(&mut server, &handshake_and_connect(), Split::Whole, now);
    assert_eq!(fed.error, None);
    assert!(server.is_connected());
    server
}

fn command(name: &str, transaction_id: f64, arguments: Vec<amf0::Value>) -> Message {
    Message::Command(Command::new(name, transaction_id, arguments))
}

#[test]
fn claimed_16_mib_message_never_sent_stays_small() {
    let now = Instant::now();
    let limits = DecoderLimits::default().with_max_message_size(0xFF_FFFF);
    let mut server = connected(config(|c| c.chunk_limits = limits), now);
    let mut bytes = fmt0_header(6, 0xFF_FFFF, 9);
    let chunk = [0x55u8; 128];
    bytes.extend_from_slice(&chunk);
    while bytes.len() < 100_000 {
        bytes.push(0xC6); // type 3 continuation on csid 6
        bytes.extend_from_slice(&chunk);
    }
    let fed = feed(&mut server, &bytes, Split::Random(7), now);
    assert_eq!(fed.error, None);
    assert!(fed.events.is_empty());
    assert!(fed.max_buffered < 1 << 20, "{}", fed.max_buffered);
    // What is held is what was sent, not what was claimed.
    assert!(server.buffered() > 90_000 && server.buffered() <= 100_000);
}

#[test]
fn claimed_message_past_max_buffered_errors_when_the_budget_is_spent() {
    let now = Instant::now();
    let limits = DecoderLimits::default()
        .with_max_message_size(0xFF_FFFF)
        .with_max_buffered(256 << 10);
    let mut server = connected(config(|c| c.chunk_limits = limits), now);
    let mut bytes = fmt0_header(6, 0xFF_FFFF, 9);
    while bytes.len() < 400_000 {
        bytes.extend_from_slice(&[0x55; 128]);
        bytes.push(0xC6);
    }
    let fed = feed(&mut server, &bytes, Split::Random(8), now);
    assert!(
        matches!(
            fed.error,
            Some(SessionError::Chunk(ChunkError::BufferLimit { limit })) if limit == 256 << 10
        ),
        "{:?}",
        fed.error
    );
    assert!(fed.max_buffered <= 256 << 10);
    assert!(fed.fed < (256 << 10) + 4096, "error came late: {}", fed.fed);
}

#[test]
fn claimed_message_over_max_message_size_errors_at_once() {
    for (limit, claim) in [
        (DecoderLimits::DEFAULT_MAX_MESSAGE_SIZE, 0xFF_FFFF),
        (65_536, 65_537),
    ] {
        let now = Instant::now();
        let limits = DecoderLimits::default().with_max_message_size(limit);
        let mut server = connected(config(|c| c.chunk_limits = limits), now);
        let mut bytes = fmt0_header(6, claim, 9);
        bytes.extend_from_slice(&[0u8; 128]);
        let fed = feed(&mut server, &bytes, Split::Bytes1, now);
        assert_eq!(
            fed.error,
            Some(SessionError::Chunk(ChunkError::MessageTooLarge {
                chunk_stream_id: 6,
                length: claim,
                limit,
            }))
        );
        // Refused on its header: not a payload byte was needed.
        assert_eq!(fed.fed, 12);
        assert_eq!(fed.max_buffered, 0);
        assert!(server.is_closed());
    }
}

#[test]
fn opening_every_chunk_stream_is_refused_early() {
    let now = Instant::now();
    let mut server = connected(ServerConfig::default(), now);
    let mut bytes = Vec::new();
    for csid in 2..=65_599u32 {
        bytes.extend(fmt0_header(csid, 200, 9));
        bytes.extend_from_slice(&[1u8; 128]);
    }
    let fed = feed(&mut server, &bytes, Split::Random(9), now);
    let limit = DecoderLimits::DEFAULT_MAX_CHUNK_STREAMS;
    assert_eq!(
        fed.error,
        Some(SessionError::Chunk(ChunkError::TooManyChunkStreams {
            limit
        }))
    );
    // Well before the end: the connection's own command stream is live too.
    assert!(
        fed.fed < (limit + 1) * 141 + 3000,
        "{} of {}",
        fed.fed,
        bytes.len()
    );
    assert!(fed.max_buffered <= limit * 128, "{}", fed.max_buffered);
}

#[test]
fn many_chunk_streams_allowed_still_stop_at_the_buffer_budget() {
    let now = Instant::now();
    let limits = DecoderLimits::default()
        .with_max_chunk_streams(100_000)
        .with_max_buffered(1 << 20);
    let mut server = connected(config(|c| c.chunk_limits = limits), now);
    let mut bytes = Vec::new();
    for csid in 2..=65_599u32 {
        bytes.extend(fmt0_header(csid, 200, 9));
        bytes.extend_from_slice(&[1u8; 128]);
    }
    let fed = feed(&mut server, &bytes, Split::Random(10), now);
    assert_eq!(
        fed.error,
        Some(SessionError::Chunk(ChunkError::BufferLimit {
            limit: 1 << 20
        }))
    );
    assert!(fed.max_buffered <= 1 << 20);
}

#[test]
fn chunk_size_one_from_the_client_works() {
    let mut bytes = simple_handshake();
    bytes.extend(chunk(
        &[(chunk_stream::CONTROL, 0, Message::SetChunkSize(1))],
        128,
    ));
    let connect = connect_command("live", "rtmp://example.com/live");
    let connect_len = connect.payload().len();
    let chunked = chunk(&[(chunk_stream::COMMAND, 0, connect)], 1);
    // 12-byte first header, then a 1-byte header before each further payload byte.
    assert_eq!(chunked.len(), 12 + connect_len + (connect_len - 1));
    bytes.extend(chunked);
    for split in [Split::Whole, Split::Bytes1, Split::Random(11)] {
        let now = Instant::now();
        let mut server = ServerSession::new(ServerConfig::default(), now);
        let fed = feed(&mut server, &bytes, split, now);
        assert_eq!(fed.error, None, "{split:?}");
        assert_eq!(fed.leftover, 0);
        let Some(ServerEvent::Connect(request)) = fed.events.first() else {
            panic!("{split:?}: {:?}", fed.events);
        };
        assert_eq!(request.app, "live");
        assert_eq!(request.tc_url.as_deref(), Some("rtmp://example.com/live"));
        assert!(server.is_connected());
    }
}

#[test]
fn invalid_chunk_sizes_are_errors() {
    for size in [0u32, 0x8000_0000, 0xFFFF_FFFF] {
        let now = Instant::now();
        let mut server = connected(ServerConfig::default(), now);
        let mut bytes = fmt0_header(2, 4, 1);
        bytes.extend_from_slice(&size.to_be_bytes());
        // What would follow at the old size.
        bytes.extend(chunk(
            &[(
                chunk_stream::COMMAND,
                0,
                command("createStream", 2.0, vec![]),
            )],
            128,
        ));
        let fed = feed(&mut server, &bytes, Split::Whole, now);
        assert_eq!(
            fed.error,
            Some(SessionError::Chunk(ChunkError::InvalidChunkSize { size })),
            "{size:#x}"
        );
        assert!(server.is_closed());
    }
}

/// `connect` whose command object nests `depth` objects.
fn nested_connect(depth: usize) -> Vec<u8> {
    let mut body = vec![0x02, 0x00, 0x07];
    body.extend_from_slice(b"connect");
    body.push(0x00);
    body.extend_from_slice(&1f64.to_be_bytes());
    for _ in 0..depth {
        body.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
    }
    body.push(0x05); // the innermost value: null
    for _ in 0..depth {
        body.extend_from_slice(&[0x00, 0x00, 0x09]);
    }
    let message = Message::Other {
        type_id: 20,
        payload: body.into(),
    };
    let mut bytes = simple_handshake();
    bytes.extend(chunk(&[(chunk_stream::COMMAND, 0, message)], 128));
    bytes
}

#[test]
fn amf_nested_100_000_deep_in_connect_is_an_error() {
    let bytes = nested_connect(100_000);
    // A small stack: a recursive decoder (or drop) would overflow it.
    let fed = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let now = Instant::now();
            let mut server = ServerSession::new(ServerConfig::default(), now);
            feed(&mut server, &bytes, Split::Random(12), now)
        })
        .unwrap()
        .join()
        .expect("no stack overflow or panic");
    match fed.error {
        Some(SessionError::Message {
            type_id: 20,
            source: MessageError::Amf0(amf0::Error::DepthLimit { limit, .. }),
            ..
        }) => assert_eq!(limit, amf0::Limits::DEFAULT.max_depth),
        other => panic!("{other:?}"),
    }
    assert!(fed.events.is_empty());
}

#[test]
fn commands_before_connect_are_refused() {
    for (name, message) in [
        (
            "publish",
            command("publish", 2.0, vec!["key".into(), "live".into()]),
        ),
        ("createStream", command("createStream", 2.0, vec![])),
        ("play", command("play", 2.0, vec!["key".into()])),
    ] {
        let now = Instant::now();
        let mut server = ServerSession::new(ServerConfig::default(), now);
        let mut bytes = simple_handshake();
        bytes.extend(chunk(&[(chunk_stream::STREAM, 1, message)], 128));
        let fed = feed(&mut server, &bytes, Split::Whole, now);
        assert_eq!(
            fed.error,
            Some(SessionError::CommandBeforeConnect {
                command: name.to_owned()
            })
        );
        assert!(fed.events.is_empty());
        assert!(server.is_closed());
        assert_eq!(
            server.handle_input(&mut BytesMut::from(&b"x"[..]), now),
            Err(SessionError::Closed)
        );
    }
}

#[test]
fn media_before_connect_is_refused() {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut bytes = simple_handshake();
    bytes.extend(fmt0_header(6, 3, 9));
    bytes.extend_from_slice(&[0x17, 0, 0]);
    let fed = feed(&mut server, &bytes, Split::Whole, now);
    assert!(
        matches!(fed.error, Some(SessionError::CommandBeforeConnect { .. })),
        "{:?}",
        fed.error
    );
    assert!(fed.events.is_empty());
}

#[test]
fn handshake_one_byte_per_second_times_out_at_the_deadline() {
    let base = Instant::now();
    let timeout = Duration::from_secs(10);
    let mut server = ServerSession::new(config(|c| c.handshake_timeout = timeout), base);
    let bytes = simple_handshake();
    let mut input = BytesMut::new();
    let mut result = Ok(());
    let mut seconds = 0u64;
    for &b in &bytes {
        let now = base + Duration::from_secs(seconds);
        assert_eq!(server.poll_timeout(), Some(base + timeout));
        if server
            .poll_timeout()
            .is_some_and(|deadline| now >= deadline)
        {
            result = server.handle_timeout(now);
            break;
        }
        // Just before the deadline nothing happens.
        server
            .handle_timeout(base + timeout - Duration::from_millis(1))
            .unwrap();
        input.extend_from_slice(&[b]);
        server.handle_input(&mut input, now).unwrap();
        seconds += 1;
    }
    assert_eq!(seconds, 10);
    assert_eq!(result, Err(SessionError::HandshakeTimeout { seconds: 10 }));
    assert!(server.is_closed());
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(
        server.handle_timeout(base + timeout * 2),
        Err(SessionError::Closed)
    );
}

#[test]
fn handshake_done_but_no_connect_times_out_too() {
    let base = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), base);
    let fed = feed(&mut server, &simple_handshake(), Split::Whole, base);
    assert_eq!(fed.error, None);
    assert_eq!(fed.wire.len(), HANDSHAKE_LEN);
    let deadline = server.poll_timeout().unwrap();
    assert_eq!(deadline, base + ServerConfig::default().handshake_timeout);
    assert_eq!(
        server.handle_timeout(deadline),
        Err(SessionError::HandshakeTimeout { seconds: 10 })
    );
}

/// `connect` arrives and is left unanswered; the peer goes on sending `bytes`.
fn flood_while_connect_pending(config: ServerConfig, flood: &[u8]) -> (ServerSession, Fed) {
    let now = Instant::now();
    let mut server = ServerSession::new(config, now);
    let mut bytes = handshake_and_connect();
    bytes.extend_from_slice(flood);
    let mut fed = Fed::default();
    let mut input = BytesMut::new();
    for piece in bytes.chunks(1000) {
        input.extend_from_slice(piece);
        fed.fed += piece.len();
        let result = server.handle_input(&mut input, now);
        while let Some(event) = server.poll_event() {
            fed.events.push(event); // never answered
        }
        fed.max_buffered = fed.max_buffered.max(server.buffered());
        if let Err(error) = result {
            fed.error = Some(error);
            break;
        }
    }
    (server, fed)
}

#[test]
fn flooding_commands_while_connect_is_pending_hits_the_pending_limit() {
    let limit = 64 << 10;
    let one = chunk(
        &[(
            chunk_stream::COMMAND,
            0,
            command("createStream", 2.0, vec![]),
        )],
        128,
    );
    let flood: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * 10_000)
        .collect();
    let (server, fed) =
        flood_while_connect_pending(config(|c| c.max_pending_bytes = limit), &flood);
    assert_eq!(fed.error, Some(SessionError::PendingLimit { limit }));
    assert!(matches!(fed.events[..], [ServerEvent::Connect(_)]));
    // (After the error `buffered()` still counts the one refused message.)
    assert!(
        fed.max_buffered <= limit + one.len(),
        "{}",
        fed.max_buffered
    );
    assert!(fed.fed < HANDSHAKE_LEN + 200 + 2 * limit, "{}", fed.fed);
    assert!(server.is_closed());
}

#[test]
fn flooding_empty_messages_while_connect_is_pending_hits_the_pending_limit() {
    // One type-0 header of an empty command on csid 10, then one-byte type-3 headers: each
    // starts (and completes) another empty message.
    let mut flood = fmt0_header(10, 0, 20);
    flood.extend(std::iter::repeat_n(0xCA, 1_000_000));
    let limit = 64 << 10;
    let (_server, fed) =
        flood_while_connect_pending(config(|c| c.max_pending_bytes = limit), &flood);
    // A million queued messages hold far more than 64 KiB, whatever their payloads.
    assert_eq!(fed.error, Some(SessionError::PendingLimit { limit }));
}

#[test]
fn garbage_on_one_connection_leaves_another_untouched() {
    let capture = data("ffmpeg9_publish_h264_aac.c2s");
    let now = Instant::now();
    let alone = feed(
        &mut ServerSession::new(ServerConfig::default(), now),
        &capture,
        Split::Random(13),
        now,
    );
    assert_eq!(alone.error, None);

    let mut good = ServerSession::new(ServerConfig::default(), now);
    let mut bad = ServerSession::new(ServerConfig::default(), now);
    let mut garbage = handshake_and_connect();
    garbage.extend([0xFFu8, 0x00].iter().cycle().take(10_000));
    let (mut good_in, mut bad_in) = (BytesMut::new(), BytesMut::new());
    let mut good_events = Vec::new();
    let mut bad_error = None;
    let mut good_wire = BytesMut::new();
    for (i, piece) in capture.chunks(100).enumerate() {
        if let Some(g) = garbage.chunks(100).nth(i).filter(|_| bad_error.is_none()) {
            bad_in.extend_from_slice(g);
            let mut events = Vec::new();
            if let Err(e) = bad
                .handle_input(&mut bad_in, now)
                .and_then(|()| answer_all(&mut bad, &mut events))
            {
                bad_error = Some(e);
            }
        }
        good_in.extend_from_slice(piece);
        good.handle_input(&mut good_in, now).unwrap();
        answer_all(&mut good, &mut good_events).unwrap();
        good.output().copy_to(&mut good_wire);
    }
    assert!(bad_error.is_some() && bad.is_closed());
    assert!(!good.is_closed());
    assert_eq!(good_events, alone.events);
    assert_eq!(good_wire, alone.wire);
}

fn random_session_check(prefix: &[u8], tail: &[u8], cuts: &[usize], accept: bool) {
    let now = Instant::now();
    let limits = DecoderLimits::default()
        .with_max_buffered(64 << 10)
        .with_max_message_size(32 << 10);
    let config = config(|c| {
        c.chunk_limits = limits;
        c.max_pending_bytes = 16 << 10;
    });
    let cap = limits.max_buffered + config.max_pending_bytes;
    let mut server = ServerSession::new(config, now);
    let mut bytes = prefix.to_vec();
    bytes.extend_from_slice(tail);
    let mut input = BytesMut::new();
    let mut at = 0;
    let mut events = Vec::new();
    for &cut in cuts.iter().chain([&usize::MAX]) {
        let end = at + cut.min(bytes.len() - at);
        input.extend_from_slice(&bytes[at..end]);
        at = end;
        let before = input.len();
        let mut result = server.handle_input(&mut input, now);
        assert!(input.len() <= before);
        if result.is_ok() && accept {
            result = answer_all(&mut server, &mut events);
        }
        assert!(server.buffered() <= cap, "{}", server.buffered());
        if result.is_err() {
            assert!(server.is_closed());
            break;
        }
        if at == bytes.len() {
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_after_a_handshake(
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(1usize..600, 0..8),
    ) {
        random_session_check(&simple_handshake(), &tail, &cuts, false);
    }

    #[test]
    fn random_bytes_after_connect(
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(1usize..600, 0..8),
        accept in any::<bool>(),
    ) {
        random_session_check(&handshake_and_connect(), &tail, &cuts, accept);
    }
}

#[test]
fn deadline_moves_forward_while_connect_decision_is_pending() {
    let base = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), base);
    let fed = feed_unanswered(&mut server, &handshake_and_connect(), base);
    assert!(matches!(fed[..], [ServerEvent::Connect(_)]));
    // The application takes its time deciding; a timer-driven driver wakes at each deadline.
    let mut now = base;
    for _ in 0..1000 {
        let Some(deadline) = server.poll_timeout() else {
            break;
        };
        assert!(
            deadline > now,
            "deadline {:?} not after now {:?}",
            deadline - base,
            now - base
        );
        now = deadline;
        if server.handle_timeout(now).is_err() {
            break;
        }
    }
    assert!(
        server.is_closed(),
        "the wait ends in an idle timeout at the latest"
    );
}

/// Feeds `bytes` and returns the events, answering none.
fn feed_unanswered(server: &mut ServerSession, bytes: &[u8], now: Instant) -> Vec<ServerEvent> {
    let mut input = BytesMut::from(bytes);
    server.handle_input(&mut input, now).unwrap();
    std::iter::from_fn(|| server.poll_event()).collect()
}

/// An accepted publisher on stream 1.
fn publishing(now: Instant) -> ServerSession {
    let mut server = connected(ServerConfig::default(), now);
    let bytes = chunk(
        &[(
            chunk_stream::STREAM,
            1,
            command("publish", 2.0, vec!["key".into(), "live".into()]),
        )],
        128,
    );
    let fed = feed(&mut server, &bytes, Split::Whole, now);
    assert_eq!(fed.error, None);
    assert!(matches!(fed.events[..], [ServerEvent::Publish(_)]));
    server
}

/// An aggregate message body from (type, timestamp, payload) sub-messages.
fn aggregate(subs: &[(u8, u32, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (type_id, ts, payload) in subs {
        body.push(*type_id);
        body.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        body.extend_from_slice(&ts.to_be_bytes()[1..]);
        body.push((ts >> 24) as u8);
        body.extend_from_slice(&[0, 0, 0]);
        body.extend_from_slice(payload);
        body.extend_from_slice(&(11 + payload.len() as u32).to_be_bytes());
    }
    body
}

#[test]
fn aggregate_media_is_split_and_rebased() {
    let now = Instant::now();
    let mut server = publishing(now);
    let body = aggregate(&[(9, 1000, &[0x17, 1, 0, 0, 0]), (8, 1020, &[0xAF, 1, 7])]);
    let mut bytes = fmt0_header(6, body.len() as u32, 22);
    bytes[1..4].copy_from_slice(&[0, 0, 50]); // the aggregate at 50 ms
    bytes.extend_from_slice(&body);
    let fed = feed(&mut server, &bytes, Split::Bytes1, now);
    assert_eq!(fed.error, None);
    let media: Vec<_> = fed
        .events
        .iter()
        .map(|e| match e {
            ServerEvent::Media(m) => (m.kind, m.timestamp, m.payload.to_vec()),
            other => panic!("{other:?}"),
        })
        .collect();
    use rtmp_core::MediaKind::{Audio, Video};
    assert_eq!(
        media,
        [
            (Video, 50, vec![0x17, 1, 0, 0, 0]),
            (Audio, 70, vec![0xAF, 1, 7])
        ]
    );
}

#[test]
fn aggregate_sub_messages_other_than_media_are_not_data() {
    let now = Instant::now();
    let mut server = publishing(now);
    let set_chunk_size = 1u32.to_be_bytes();
    let publish = command("publish", 3.0, vec!["other".into()]).payload();
    let body = aggregate(&[(1, 0, &set_chunk_size), (20, 0, &publish)]);
    let mut bytes = fmt0_header(6, body.len() as u32, 22);
    bytes.extend_from_slice(&body);
    let fed = feed(&mut server, &bytes, Split::Whole, now);
    for event in &fed.events {
        if let ServerEvent::Media(m) = event {
            assert_ne!(m.kind, rtmp_core::MediaKind::Data, "{:?}", m.payload);
        }
    }
}
