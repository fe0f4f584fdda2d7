use amf0::{Object, Value};
use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

fn round_trip(message: &Message) -> Message {
    let payload = message.payload();
    Message::parse(message.type_id(), &payload, &amf0::Limits::default()).expect("parses back")
}

#[test]
fn protocol_control_round_trips() {
    for message in [
        Message::SetChunkSize(4096),
        Message::Abort { chunk_stream_id: 7 },
        Message::Acknowledgement {
            sequence_number: 0xDEAD_BEEF,
        },
        Message::WindowAckSize(2_500_000),
        Message::SetPeerBandwidth {
            size: 2_500_000,
            limit: PeerBandwidthLimit::Dynamic,
        },
    ] {
        assert_eq!(round_trip(&message), message);
    }
}

#[test]
fn protocol_control_wire_bytes() {
    assert_eq!(&Message::SetChunkSize(4096).payload()[..], &[0, 0, 0x10, 0]);
    assert_eq!(
        &Message::SetPeerBandwidth {
            size: 5_000_000,
            limit: PeerBandwidthLimit::Dynamic
        }
        .payload()[..],
        &[0x00, 0x4C, 0x4B, 0x40, 2]
    );
}

#[test]
fn short_control_message_is_an_error() {
    let error = Message::parse(
        type_id::WINDOW_ACK_SIZE,
        &Bytes::from_static(&[0, 1]),
        &amf0::Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        MessageError::TooShort {
            type_id: 5,
            needed: 4,
            got: 2
        }
    );
}

#[test]
fn peer_bandwidth_without_limit_byte_is_dynamic() {
    let message = Message::parse(
        type_id::SET_PEER_BANDWIDTH,
        &Bytes::from_static(&[0, 0, 0x10, 0]),
        &amf0::Limits::default(),
    )
    .unwrap();
    assert_eq!(
        message,
        Message::SetPeerBandwidth {
            size: 4096,
            limit: PeerBandwidthLimit::Dynamic
        }
    );
}

#[test]
fn user_control_round_trips() {
    for event in [
        UserControl::StreamBegin(1),
        UserControl::StreamEof(1),
        UserControl::StreamDry(3),
        UserControl::SetBufferLength {
            stream_id: 1,
            buffer_ms: 3000,
        },
        UserControl::StreamIsRecorded(1),
        UserControl::PingRequest(123_456),
        UserControl::PingResponse(123_456),
        UserControl::Other {
            event_type: 26,
            data: Bytes::from_static(&[1, 2, 3]),
        },
    ] {
        let message = Message::UserControl(event);
        assert_eq!(round_trip(&message), message);
    }
    // Set Buffer Length as librtmp sends it: event 3, stream 1, 36,000,000 ms.
    let payload = Bytes::from_static(&[0, 3, 0, 0, 0, 1, 0x02, 0x25, 0x51, 0x00]);
    assert_eq!(
        UserControl::parse(&payload).unwrap(),
        UserControl::SetBufferLength {
            stream_id: 1,
            buffer_ms: 36_000_000
        }
    );
    assert!(UserControl::parse(&Bytes::from_static(&[0, 3, 0, 0, 0, 1])).is_err());
}

#[test]
fn command_round_trips_and_keeps_shape() {
    let mut object = Object::new();
    object.push("app", "live");
    object.push("tcUrl", "rtmp://127.0.0.1/live");
    let command = Command {
        name: "connect".into(),
        transaction_id: 1.0,
        object: Value::Object(object),
        arguments: vec![],
    };
    let message = Message::Command(command.clone());
    let Message::Command(back) = round_trip(&message) else {
        panic!("not a command")
    };
    assert_eq!(back, command);
    assert_eq!(back.name(), Some("connect"));
    assert_eq!(back.object.get("app").and_then(Value::as_str), Some("live"));
}

#[test]
fn amf3_command_format_byte() {
    let body = Command::new(
        "publish",
        5.0,
        vec![Value::from("key"), Value::from("live")],
    )
    .to_payload();
    let mut framed = BytesMut::new();
    framed.put_u8(0);
    framed.put_slice(&body);
    let Message::Command(command) = Message::parse(
        type_id::COMMAND_AMF3,
        &framed.freeze(),
        &amf0::Limits::default(),
    )
    .unwrap() else {
        panic!("not a command")
    };
    assert_eq!(command.name(), Some("publish"));
    assert_eq!(command.argument(0).and_then(Value::as_str), Some("key"));

    let error = Message::parse(
        type_id::COMMAND_AMF3,
        &Bytes::from_static(&[0x11, 0x06]),
        &amf0::Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(error, MessageError::Amf3Body { format: 0x11, .. }));
}

#[test]
fn command_without_name_is_an_error() {
    let mut body = BytesMut::new();
    Value::Number(1.0).encode(&mut body);
    let error = Command::parse(body.freeze(), &amf0::Limits::default()).unwrap_err();
    assert_eq!(error, MessageError::CommandName { found: "a number" });
}

#[test]
fn set_data_frame_is_stripped_for_players() {
    let mut meta = Object::new();
    meta.push("width", 1280.0);
    let data = DataMessage::from_values(vec![
        Value::from("@setDataFrame"),
        Value::from("onMetaData"),
        Value::Object(meta.clone()),
    ]);
    assert!(data.is_metadata());
    let stripped =
        DataMessage::parse(data.without_set_data_frame(), &amf0::Limits::default()).unwrap();
    assert_eq!(
        stripped.values,
        vec![Value::from("onMetaData"), Value::Object(meta)]
    );
    assert!(stripped.is_metadata());
    assert_eq!(stripped.without_set_data_frame(), stripped.body);
}

fn aggregate_payload(subs: &[(u8, u32, &[u8])]) -> Bytes {
    let mut out = BytesMut::new();
    for (type_id, timestamp, data) in subs {
        out.put_u8(*type_id);
        out.put_uint(data.len() as u64, 3);
        out.put_uint(u64::from(timestamp & 0xFF_FFFF), 3);
        out.put_u8((timestamp >> 24) as u8);
        out.put_uint(1, 3);
        out.put_slice(data);
        out.put_u32(11 + data.len() as u32);
    }
    out.freeze()
}

#[test]
fn aggregate_splits_with_rebased_timestamps() {
    let payload = aggregate_payload(&[(9, 1000, b"video"), (8, 1020, b"au"), (9, 1033, b"v2")]);
    let aggregate = RawMessage {
        chunk_stream_id: 6,
        type_id: type_id::AGGREGATE,
        stream_id: 1,
        timestamp: 5000,
        payload,
    };
    let subs: Vec<RawMessage> = split_aggregate(&aggregate)
        .collect::<Result<_, _>>()
        .unwrap();
    let summary: Vec<(u8, u64, &[u8])> = subs
        .iter()
        .map(|m| (m.type_id, m.timestamp, &m.payload[..]))
        .collect();
    assert_eq!(
        summary,
        vec![
            (9, 5000, &b"video"[..]),
            (8, 5020, &b"au"[..]),
            (9, 5033, &b"v2"[..])
        ]
    );
    assert!(subs
        .iter()
        .all(|m| m.stream_id == 1 && m.chunk_stream_id == 6));
}

#[test]
fn aggregate_with_lying_size_is_an_error_not_a_panic() {
    let mut payload = BytesMut::from(&aggregate_payload(&[(9, 0, b"abc")])[..]);
    payload[3] = 200; // claims 200 bytes of data
    let aggregate = RawMessage {
        chunk_stream_id: 6,
        type_id: type_id::AGGREGATE,
        stream_id: 1,
        timestamp: 0,
        payload: payload.freeze(),
    };
    let results: Vec<_> = split_aggregate(&aggregate).collect();
    assert_eq!(results.len(), 1);
    assert!(matches!(
        results[0],
        Err(MessageError::Aggregate { offset: 0, .. })
    ));
}

proptest! {
    #[test]
    fn any_payload_parses_or_errors_without_panic(type_id in 0u8..=30, payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let payload = Bytes::from(payload);
        if let Ok(message) = Message::parse(type_id, &payload, &amf0::Limits::default()) {
            // Whatever parsed serializes to a payload that parses and serializes to itself
            // (a fixed point; value equality would trip over NaN numbers).
            let first = message.payload();
            let again = Message::parse(message.type_id(), &first, &amf0::Limits::default());
            prop_assert!(again.is_ok(), "re-parse failed: {:?}", again);
            prop_assert_eq!(again.unwrap().payload(), first);
        }
    }

    #[test]
    fn aggregate_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..128)) {
        let aggregate = RawMessage { chunk_stream_id: 4, type_id: 22, stream_id: 1, timestamp: 0, payload: Bytes::from(payload) };
        for sub in split_aggregate(&aggregate).flatten() {
            prop_assert!(sub.payload.len() <= aggregate.payload.len());
        }
    }
}
