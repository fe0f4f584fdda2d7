//! A client and a server session wired together in memory, with simulated time.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::*;
use crate::chunk::ChunkDecoder;
use crate::message::{Message, UserControl};

struct Pair {
    client: ClientSession,
    server: ServerSession,
    to_server: BytesMut,
    to_client: BytesMut,
    server_events: Vec<ServerEvent>,
    client_events: Vec<ClientEvent>,
    /// Everything the server sent after its handshake bytes, for inspection.
    server_wire: BytesMut,
    now: Instant,
}

/// What the test's "application" answers to requests.
#[derive(Clone, Copy)]
struct Policy {
    connect: bool,
    publish: bool,
    play: bool,
}

const ACCEPT_ALL: Policy = Policy {
    connect: true,
    publish: true,
    play: true,
};

impl Pair {
    fn new(server_config: ServerConfig, client_config: ClientConfig) -> Pair {
        let now = Instant::now();
        Pair {
            client: ClientSession::new(client_config, now),
            server: ServerSession::new(server_config, now),
            to_server: BytesMut::new(),
            to_client: BytesMut::new(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            server_wire: BytesMut::new(),
            now,
        }
    }

    fn default_pair() -> Pair {
        Pair::new(
            ServerConfig::default(),
            ClientConfig::new("live", "rtmp://127.0.0.1:1935/live"),
        )
    }

    /// Moves bytes both ways until nothing more happens, answering requests with `policy`.
    fn pump(&mut self, policy: Policy) {
        for _ in 0..50 {
            let moved = self.client.output().len() + self.server.output().len();
            self.client.output().copy_to(&mut self.to_server);
            if !self.server.is_closed() {
                self.server
                    .handle_input(&mut self.to_server, self.now)
                    .expect("server input");
            }
            while let Some(event) = self.server.poll_event() {
                match &event {
                    ServerEvent::Connect(_) if policy.connect => {
                        self.server.accept_connect().unwrap()
                    }
                    ServerEvent::Connect(_) => self.server.reject_connect("not allowed").unwrap(),
                    ServerEvent::Publish(_) if policy.publish => {
                        self.server.accept_publish().unwrap()
                    }
                    ServerEvent::Publish(_) => self
                        .server
                        .reject_publish(status::code::PUBLISH_BAD_NAME, "taken")
                        .unwrap(),
                    ServerEvent::Play(_) if policy.play => self.server.accept_play().unwrap(),
                    ServerEvent::Play(_) => self
                        .server
                        .reject_play(status::code::PLAY_STREAM_NOT_FOUND, "no such stream")
                        .unwrap(),
                    _ => {}
                }
                self.server_events.push(event);
            }
            let before = self.to_client.len();
            self.server.output().copy_to(&mut self.to_client);
            self.server_wire
                .extend_from_slice(&self.to_client[before..]);
            if !self.client.is_closed() {
                self.client
                    .handle_input(&mut self.to_client, self.now)
                    .expect("client input");
            }
            while let Some(event) = self.client.poll_event() {
                self.client_events.push(event);
            }
            if moved == 0 && self.client.output().is_empty() && self.server.output().is_empty() {
                return;
            }
        }
        panic!("sessions did not settle");
    }

    /// The messages the server sent, decoded by an independent chunk decoder.
    fn server_messages(&self) -> Vec<Message> {
        let mut wire = self.server_wire.clone();
        let _handshake = wire.split_to(1 + 1536 + 1536);
        let mut decoder = ChunkDecoder::new();
        let mut out = Vec::new();
        while let Some(raw) = decoder.decode(&mut wire).unwrap() {
            out.push(Message::from_raw(&raw, &amf0::Limits::default()).unwrap());
        }
        out
    }
}

fn media(events: &[ServerEvent]) -> Vec<&MediaMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Media(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn publish_end_to_end_delivers_payloads_and_timestamps() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam1", "live");
    pair.pump(ACCEPT_ALL);
    assert!(pair.server.is_connected());
    assert!(pair.client.is_active());
    let stream_id = pair.client.stream_id().unwrap();
    assert!(pair
        .client_events
        .contains(&ClientEvent::PublishStarted { stream_id }));
    assert!(
        matches!(&pair.server_events[..2], [ServerEvent::Connect(c), ServerEvent::Publish(p)]
        if c.app == "live" && p.name == "cam1" && p.publish_type == "live" && p.stream_id == stream_id)
    );

    // A keyframe bigger than several chunks, audio, and video timestamps that walk past
    // 2^32 ms in steps below 2^31 (the wire carries 32 bits; larger steps are ambiguous).
    let video = Bytes::from((0..20_000u32).map(|i| i as u8).collect::<Vec<_>>());
    let audio = Bytes::from_static(&[0xAF, 0x01, 0x21, 0x10]);
    let sent = [
        (MediaKind::Video, 40, video.clone()),
        (MediaKind::Audio, 41, audio.clone()),
        (MediaKind::Video, 0x7000_0000, video.slice(..10)),
        (MediaKind::Video, 0xE000_0000, video.slice(10..30)),
        (MediaKind::Video, (1 << 32) + 7, video.slice(..1)),
    ];
    for (kind, timestamp, payload) in &sent {
        assert!(pair.client.send_media(*kind, *timestamp, payload.clone()));
    }
    pair.pump(ACCEPT_ALL);
    let got = media(&pair.server_events);
    assert_eq!(got.len(), sent.len());
    for (got, (kind, timestamp, payload)) in got.iter().zip(&sent) {
        assert_eq!(
            (got.kind, got.timestamp, got.stream_id),
            (*kind, *timestamp, stream_id)
        );
        assert!(
            got.payload == payload,
            "payload of the message at {timestamp} differs"
        );
    }
}

#[test]
fn small_media_payloads_are_copied_out_when_configured() {
    for copy_below in [0, 64] {
        let config = ServerConfig {
            copy_payloads_below: copy_below,
            ..ServerConfig::default()
        };
        let mut pair = Pair::new(
            config,
            ClientConfig::new("live", "rtmp://127.0.0.1:1935/live"),
        );
        pair.client.publish("cam1", "live");
        pair.pump(ACCEPT_ALL);
        let audio = [
            Bytes::from_static(&[0xAF, 0x01, 0x21, 0x10]),
            Bytes::from_static(&[0xAF, 0x01, 0x21, 0x11]),
        ];
        let video = Bytes::from(vec![0x27; 100]);
        assert!(pair
            .client
            .send_media(MediaKind::Audio, 1, audio[0].clone()));
        assert!(pair
            .client
            .send_media(MediaKind::Audio, 2, audio[1].clone()));
        assert!(pair.client.send_media(MediaKind::Video, 3, video.clone()));
        pair.pump(ACCEPT_ALL);
        let got = media(&pair.server_events);
        assert_eq!(got.len(), 3);
        assert_eq!(
            (&got[0].payload, &got[1].payload, &got[2].payload),
            (&audio[0], &audio[1], &video)
        );
        // Copies are packed one after the other; slices of the read buffer
        // have the next message's chunk header between them.
        let (first, second) = (&got[0].payload, &got[1].payload);
        assert_eq!(
            second.as_ptr() == first.as_ptr().wrapping_add(first.len()),
            copy_below > 0,
            "copy_payloads_below {copy_below}"
        );
        assert!(
            !got[2].payload.is_unique(),
            "a slice shares the read buffer"
        );
    }
}

#[test]
fn play_end_to_end() {
    let mut pair = Pair::default_pair();
    pair.client.play("cam1");
    pair.pump(ACCEPT_ALL);
    let stream_id = pair.client.stream_id().unwrap();
    assert!(pair
        .client_events
        .contains(&ClientEvent::PlayStarted { stream_id }));
    let message = MediaMessage {
        stream_id,
        kind: MediaKind::Video,
        timestamp: 1234,
        payload: Bytes::from_static(b"\x17\x01\x00\x00\x00frame"),
    };
    assert!(pair.server.send_media(&message));
    assert!(!pair.server.send_media(&MediaMessage {
        stream_id: 99,
        ..message.clone()
    }));
    pair.pump(ACCEPT_ALL);
    assert!(pair.client_events.contains(&ClientEvent::Media(message)));
    // The status sequence players wait for.
    let codes: Vec<String> = pair
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Status { status, .. } => Some(status.code.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, ["NetStream.Play.Reset", "NetStream.Play.Start"]);
}

#[test]
fn rejected_connect_reaches_the_client() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam1", "live");
    pair.pump(Policy {
        connect: false,
        ..ACCEPT_ALL
    });
    assert!(pair.server.is_closed());
    assert!(
        matches!(&pair.client_events[..], [ClientEvent::ConnectFailed(s)]
        if s.code == "NetConnection.Connect.Rejected" && s.description == "not allowed")
    );
}

#[test]
fn rejected_publish_reaches_the_client_and_connection_stays() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam1", "live");
    pair.pump(Policy {
        publish: false,
        ..ACCEPT_ALL
    });
    assert!(!pair.client.is_active());
    assert!(pair
        .client_events
        .iter()
        .any(|e| matches!(e, ClientEvent::Status { status, .. }
        if status.code == "NetStream.Publish.BadName" && status.is_error())));
    assert!(pair.server.is_connected());
    assert!(!pair
        .client
        .send_media(MediaKind::Audio, 0, Bytes::from_static(b"x")));
}

#[test]
fn rejected_play_is_stream_not_found() {
    let mut pair = Pair::default_pair();
    pair.client.play("nope");
    pair.pump(Policy {
        play: false,
        ..ACCEPT_ALL
    });
    assert!(pair
        .client_events
        .iter()
        .any(|e| matches!(e, ClientEvent::Status { status, .. }
        if status.code == "NetStream.Play.StreamNotFound")));
}

#[test]
fn connect_answer_announces_window_bandwidth_chunk_size_then_success() {
    let mut pair = Pair::default_pair();
    pair.client.publish("k", "live");
    pair.pump(ACCEPT_ALL);
    let messages = pair.server_messages();
    assert!(matches!(
        &messages[..4],
        [
            Message::WindowAckSize(2_500_000),
            Message::SetPeerBandwidth { size: 2_500_000, .. },
            Message::SetChunkSize(4096),
            Message::Command(result),
        ] if result.name() == Some("_result") && result.transaction_id == 1.0
    ));
}

#[test]
fn enhanced_rtmp_is_negotiated_only_when_offered() {
    for offered in [false, true] {
        let mut client_config = ClientConfig::new("live", "rtmp://127.0.0.1/live");
        if offered {
            client_config.enhanced = Some(EnhancedCapabilities::forwarding());
        }
        let mut pair = Pair::new(ServerConfig::default(), client_config);
        pair.client.publish("k", "live");
        pair.pump(ACCEPT_ALL);
        let connect = pair.server_events.iter().find_map(|e| match e {
            ServerEvent::Connect(c) => Some(c.clone()),
            _ => None,
        });
        let connect = connect.unwrap();
        assert_eq!(connect.is_enhanced(), offered);
        if offered {
            assert!(connect.four_cc_list.iter().any(|c| c == "hvc1"));
            assert!(connect
                .video_four_cc_info
                .contains(&("av01".to_string(), 4)));
        }
        let properties = pair.client_events.iter().find_map(|e| match e {
            ClientEvent::Connected { properties } => Some(properties.clone()),
            _ => None,
        });
        let properties = properties.unwrap();
        assert_eq!(properties.get("videoFourCcInfoMap").is_some(), offered);
        assert!(
            properties.get("fourCcList").is_none(),
            "fourCcList is the client's"
        );
        assert_eq!(
            properties
                .get("capsEx")
                .and_then(amf0::Value::as_f64)
                .is_some(),
            offered
        );
    }
}

#[test]
fn server_acknowledges_at_the_window() {
    let mut pair = Pair::default_pair();
    pair.client.publish("k", "live");
    pair.pump(ACCEPT_ALL);
    let chunk = Bytes::from(vec![0u8; 100_000]);
    for i in 0..30 {
        pair.client
            .send_media(MediaKind::Video, i * 33, chunk.clone());
        pair.pump(ACCEPT_ALL);
    }
    let acks: Vec<u32> = pair
        .server_messages()
        .iter()
        .filter_map(|m| match m {
            Message::Acknowledgement { sequence_number } => Some(*sequence_number),
            _ => None,
        })
        .collect();
    // 3 MB sent against a 2.5 MB window: exactly one acknowledgement, past the window.
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert!(acks[0] >= 2_500_000 && u64::from(acks[0]) <= pair.server.bytes_received());
}

#[test]
fn publish_before_connect_is_an_error() {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut client_hs = crate::handshake::ClientHandshake::simple(1, 0);
    let (mut c2s, mut s2c) = (BytesMut::new(), BytesMut::new());
    client_hs.advance(&mut BytesMut::new(), &mut c2s).unwrap();
    server.handle_input(&mut c2s, now).unwrap();
    server.output().copy_to(&mut s2c);
    client_hs.advance(&mut s2c, &mut c2s).unwrap();
    // Straight to publish, on stream 1, without connect.
    let publish = crate::message::Command::new("publish", 0.0, vec!["key".into(), "live".into()]);
    let raw = Message::Command(publish).to_raw(5, 1, 0);
    let mut output = crate::chunk::ChunkOutput::new();
    crate::chunk::ChunkEncoder::new().encode(&raw, &mut output);
    output.copy_to(&mut c2s);
    let error = server.handle_input(&mut c2s, now).unwrap_err();
    assert_eq!(
        error,
        SessionError::CommandBeforeConnect {
            command: "publish".into()
        }
    );
    assert!(server.is_closed());
    assert_eq!(
        server.handle_input(&mut BytesMut::new(), now),
        Err(SessionError::Closed)
    );
}

#[test]
fn handshake_timeout_fires_for_a_slow_peer() {
    let start = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), start);
    // One byte per second, as a slowloris would send it.
    for second in 0..9u64 {
        let now = start + Duration::from_secs(second);
        server
            .handle_input(&mut BytesMut::from(&[3u8][..]), now)
            .unwrap();
        assert!(server.poll_timeout().unwrap() > now);
        server.handle_timeout(now).unwrap();
    }
    let deadline = server.poll_timeout().unwrap();
    assert_eq!(deadline, start + Duration::from_secs(10));
    assert_eq!(
        server.handle_timeout(deadline),
        Err(SessionError::HandshakeTimeout { seconds: 10 })
    );
    assert!(server.is_closed());
}

#[test]
fn silent_peer_is_pinged_then_dropped() {
    let mut pair = Pair::default_pair();
    pair.client.play("k");
    pair.pump(ACCEPT_ALL);
    let start = pair.now;
    // After the ping interval a ping request goes out; the client answers it.
    let ping_at = pair.server.poll_timeout().unwrap();
    assert_eq!(ping_at, start + Duration::from_secs(30));
    pair.server.handle_timeout(ping_at).unwrap();
    pair.now = ping_at;
    pair.pump(ACCEPT_ALL); // the ping goes out, the pong comes back and counts as input
    assert!(pair
        .server_messages()
        .iter()
        .any(|m| matches!(m, Message::UserControl(UserControl::PingRequest(_)))));
    assert_eq!(
        pair.server.poll_timeout().unwrap(),
        ping_at + Duration::from_secs(30)
    );
    // Now the client goes silent for good.
    let later = ping_at + Duration::from_secs(30);
    pair.server.handle_timeout(later).unwrap(); // second ping
    let end = pair.server.poll_timeout().unwrap();
    assert_eq!(end, ping_at + Duration::from_secs(60));
    assert_eq!(
        pair.server.handle_timeout(end),
        Err(SessionError::IdleTimeout { seconds: 60 })
    );
}

#[test]
fn unpublish_and_stream_end_notifications() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam1", "live");
    pair.pump(ACCEPT_ALL);
    pair.client.close();
    pair.pump(ACCEPT_ALL);
    let unpublished: Vec<_> = pair
        .server_events
        .iter()
        .filter(|e| matches!(e, ServerEvent::Unpublish { name, .. } if name == "cam1"))
        .collect();
    assert_eq!(
        unpublished.len(),
        1,
        "one Unpublish for FCUnpublish + deleteStream"
    );
}

#[test]
fn too_many_streams_is_an_error() {
    let config = ServerConfig {
        max_streams: 2,
        ..ServerConfig::default()
    };
    let mut pair = Pair::new(config, ClientConfig::new("live", "rtmp://h/live"));
    pair.client.play("k");
    pair.pump(ACCEPT_ALL);
    let mut c2s = BytesMut::new();
    let mut output = crate::chunk::ChunkOutput::new();
    let mut encoder = crate::chunk::ChunkEncoder::new();
    encoder.set_chunk_size(4096).unwrap();
    for transaction in 0..2 {
        let create =
            crate::message::Command::new("createStream", 10.0 + f64::from(transaction), vec![]);
        encoder.encode(&Message::Command(create).to_raw(3, 0, 0), &mut output);
    }
    output.copy_to(&mut c2s);
    let error = pair.server.handle_input(&mut c2s, pair.now).unwrap_err();
    assert_eq!(error, SessionError::TooManyStreams { limit: 2 });
}

#[test]
fn a_client_that_does_not_start_in_time_fails_with_a_start_timeout() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam", "live");
    let start = pair.now;
    assert_eq!(
        pair.client.poll_timeout(),
        Some(start + Duration::from_secs(10))
    );
    // Nothing reaches the server: the handshake never finishes.
    assert_eq!(
        pair.client.handle_timeout(start + Duration::from_secs(9)),
        Ok(())
    );
    let error = pair
        .client
        .handle_timeout(start + Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(error, SessionError::StartTimeout { seconds: 10 });
    assert_eq!(error.fault(), Fault::Timeout);
    assert!(pair.client.is_closed());
    assert_eq!(pair.client.poll_timeout(), None);
    assert_eq!(
        pair.client.handle_timeout(start).unwrap_err().fault(),
        Fault::Application
    );
}

#[test]
fn a_started_client_has_no_deadline_unless_it_asks_for_an_idle_timeout() {
    let mut pair = Pair::default_pair();
    pair.client.publish("cam", "live");
    pair.pump(ACCEPT_ALL);
    assert!(pair.client.is_active());
    assert_eq!(pair.client.poll_timeout(), None);
    // Long after the start deadline: started sessions are not failed by it.
    let later = pair.now + Duration::from_secs(3600);
    assert_eq!(pair.client.handle_timeout(later), Ok(()));

    let mut config = ClientConfig::new("live", "rtmp://127.0.0.1:1935/live");
    config.idle_timeout = Some(Duration::from_secs(5));
    let mut pair = Pair::new(ServerConfig::default(), config);
    pair.client.play("cam");
    pair.pump(ACCEPT_ALL);
    assert!(pair.client.is_active());
    let deadline = pair.client.poll_timeout().expect("an idle deadline");
    assert_eq!(deadline, pair.now + Duration::from_secs(5));
    let error = pair.client.handle_timeout(deadline).unwrap_err();
    assert_eq!(error, SessionError::IdleTimeout { seconds: 5 });
}

#[test]
fn errors_say_whose_fault_they_are() {
    assert_eq!(SessionError::DuplicateConnect.fault(), Fault::Peer);
    assert_eq!(
        SessionError::HandshakeTimeout { seconds: 1 }.fault(),
        Fault::Timeout
    );
    assert_eq!(
        SessionError::InvalidState { what: "x" }.fault(),
        Fault::Application
    );
}

#[test]
fn a_reconnect_request_reaches_a_client_that_said_it_handles_one() {
    for (reconnect, tc_url) in [(true, Some("rtmp://other.example/live")), (false, None)] {
        let mut client_config = ClientConfig::new("live", "rtmp://127.0.0.1/live");
        let mut caps = EnhancedCapabilities::forwarding();
        if reconnect {
            caps.caps_ex |= EnhancedCapabilities::CAPS_RECONNECT;
        }
        client_config.enhanced = Some(caps);
        let mut pair = Pair::new(ServerConfig::default(), client_config);
        // Misuse before connect: an error, nothing sent.
        assert!(pair.server.request_reconnect(None, "too early").is_err());
        pair.client.publish("k", "live");
        pair.pump(ACCEPT_ALL);
        assert_eq!(pair.server.peer_supports_reconnect(), reconnect);
        pair.server
            .request_reconnect(tc_url, "the server restarts")
            .unwrap();
        pair.pump(ACCEPT_ALL);
        let asked = pair.client_events.iter().find_map(|e| match e {
            ClientEvent::ReconnectRequested {
                tc_url,
                description,
            } => Some((tc_url.clone(), description.clone())),
            _ => None,
        });
        assert_eq!(
            asked,
            Some((tc_url.map(str::to_owned), "the server restarts".to_owned()))
        );
        // On the NetConnection, not the publishing stream; the stream goes on.
        assert!(pair.client_events.iter().any(|e| matches!(e,
            ClientEvent::Status { stream_id: 0, status }
                if status.code == "NetConnection.Connect.ReconnectRequest")));
        assert!(pair.client.is_active());
    }
}
