//! Session configuration, with safe defaults.

use std::time::Duration;

use crate::chunk::DecoderLimits;

/// Enhanced RTMP capabilities, as exchanged in `connect` (`fourCcList`,
/// `videoFourCcInfoMap`, `audioFourCcInfoMap`, `capsEx`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnhancedCapabilities {
    /// Video FourCCs with their `FourCcInfoMask` (1 decode, 2 encode, 4 forward).
    pub video: Vec<(String, u32)>,
    /// Audio FourCCs with their `FourCcInfoMask`.
    pub audio: Vec<(String, u32)>,
    /// The `capsEx` bits (1 reconnect, 2 multitrack, 4 ModEx, 8 timestamp nano offset).
    pub caps_ex: u32,
}

impl EnhancedCapabilities {
    /// `FourCcInfoMask`: can decode.
    pub const CAN_DECODE: u32 = 1;
    /// `FourCcInfoMask`: can encode.
    pub const CAN_ENCODE: u32 = 2;
    /// `FourCcInfoMask`: can forward without touching the payload.
    pub const CAN_FORWARD: u32 = 4;
    /// `capsEx`: reconnect requests (a client handles
    /// `NetConnection.Connect.ReconnectRequest`; a server may send it).
    pub const CAPS_RECONNECT: u32 = 1;
    /// `capsEx`: multitrack.
    pub const CAPS_MULTITRACK: u32 = 2;
    /// `capsEx`: ModEx packets.
    pub const CAPS_MODEX: u32 = 4;

    /// What a relay or repackager that never decodes can honestly say: it forwards every
    /// codec of Enhanced RTMP v2, multitrack and ModEx included.
    pub fn forwarding() -> EnhancedCapabilities {
        let forward = |list: &[&str]| {
            list.iter()
                .map(|c| (c.to_string(), Self::CAN_FORWARD))
                .collect()
        };
        EnhancedCapabilities {
            video: forward(&["avc1", "hvc1", "av01", "vp09", "vp08"]),
            audio: forward(&["mp4a", "Opus", "fLaC", "ac-3", "ec-3", ".mp3"]),
            caps_ex: Self::CAPS_MULTITRACK | Self::CAPS_MODEX,
        }
    }

    /// Adds what a client declares in `connect`: `fourCcList` (the original E-RTMP
    /// property, which servers still read) and the v2 `videoFourCcInfoMap`,
    /// `audioFourCcInfoMap` and `capsEx`.
    pub fn write_connect(&self, object: &mut amf0::Object) {
        let list = self.four_cc_list().map(amf0::Value::from).collect();
        object.push("fourCcList", amf0::Value::StrictArray(list));
        self.write_result(object);
    }

    /// Adds what a server states in its `connect` answer (E-RTMP v2: "the server SHOULD
    /// state its support via attributes such as videoFourCcInfoMap, capsEx"): the info
    /// maps and `capsEx`, not the client-side `fourCcList`.
    pub fn write_result(&self, object: &mut amf0::Object) {
        let map = |entries: &[(String, u32)]| -> amf0::Object {
            entries
                .iter()
                .map(|(c, m)| (c.as_str(), f64::from(*m)))
                .collect()
        };
        object.push("videoFourCcInfoMap", map(&self.video));
        object.push("audioFourCcInfoMap", map(&self.audio));
        object.push("capsEx", f64::from(self.caps_ex));
    }

    /// Every FourCC, video then audio (the `fourCcList`).
    pub fn four_cc_list(&self) -> impl Iterator<Item = &str> {
        self.video
            .iter()
            .chain(&self.audio)
            .map(|(c, _)| c.as_str())
    }
}

/// Configuration of a [`ServerSession`](super::ServerSession).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Chunk size this side sends with (announced right after `connect` is accepted).
    pub chunk_size: u32,
    /// Window Acknowledgement Size and Set Peer Bandwidth announced to the peer.
    pub window_ack_size: u32,
    /// Limits of the chunk decoder.
    pub chunk_limits: DecoderLimits,
    /// Limits of AMF0 decoding in commands and data messages.
    pub amf_limits: amf0::Limits,
    /// Message streams one connection may create.
    pub max_streams: usize,
    /// Bytes of messages kept while the application decides on a request.
    pub max_pending_bytes: usize,
    /// Time allowed for the handshake and `connect`.
    pub handshake_timeout: Duration,
    /// Silence after which a ping request is sent.
    pub ping_interval: Duration,
    /// Silence after which the session fails with [`SessionError::IdleTimeout`](super::SessionError::IdleTimeout).
    pub idle_timeout: Duration,
    /// Enhanced RTMP capabilities to answer with when a client offers its own; `None` to
    /// answer like a legacy server.
    pub enhanced: Option<EnhancedCapabilities>,
    /// Seed for the handshake's filler bytes.
    pub seed: u64,
    /// `fmsVer` sent in the `connect` answer.
    pub fms_version: String,
    /// Messages that fit one chunk and have at most this many bytes are handed
    /// out as copies of their own rather than slices of the read buffer (0, the
    /// default: never); see [`ChunkDecoder::set_copy_below`](crate::ChunkDecoder::set_copy_below).
    pub copy_payloads_below: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            chunk_limits: DecoderLimits::default(),
            amf_limits: amf0::Limits::default(),
            max_streams: 8,
            max_pending_bytes: 4 << 20,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            enhanced: Some(EnhancedCapabilities::forwarding()),
            seed: 0x5EED_CAFE_F00D_D00D,
            fms_version: "FMS/3,0,1,123".to_string(),
            copy_payloads_below: 0,
        }
    }
}

/// Configuration of a [`ClientSession`](super::ClientSession).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The application (`live` in `rtmp://host/live/key`).
    pub app: String,
    /// The `tcUrl`: the URL up to and including the application.
    pub tc_url: String,
    /// `flashVer` sent in `connect` (FFmpeg sends `FMLE/3.0 (compatible; Lavf...)` when publishing).
    pub flash_version: String,
    /// Chunk size this side sends with.
    pub chunk_size: u32,
    /// Window Acknowledgement Size announced to the server.
    pub window_ack_size: u32,
    /// Limits of the chunk decoder.
    pub chunk_limits: DecoderLimits,
    /// Limits of AMF0 decoding.
    pub amf_limits: amf0::Limits,
    /// Use the FP9 digest handshake (as FFmpeg and Flash do); `false` for the simple one.
    pub digest_handshake: bool,
    /// Enhanced RTMP capabilities offered in `connect`; `None` for a legacy `connect`.
    pub enhanced: Option<EnhancedCapabilities>,
    /// Buffer length announced to the server when playing.
    pub buffer_ms: u32,
    /// Seed for the handshake's filler bytes.
    pub seed: u64,
    /// Time from creation to `NetStream.Publish.Start` or `NetStream.Play.Start`
    /// (handshake, `connect`, `createStream`, the request) before the session fails
    /// with [`SessionError::StartTimeout`](super::SessionError::StartTimeout).
    pub start_timeout: Duration,
    /// Silence from the server after which the session fails with
    /// [`SessionError::IdleTimeout`](super::SessionError::IdleTimeout); `None` (the
    /// default) never: a publisher may hear nothing for long, and a player may
    /// wait for a publisher.
    pub idle_timeout: Option<Duration>,
}

impl ClientConfig {
    /// A configuration for `app` reached at `tc_url`, other fields at their defaults.
    pub fn new(app: impl Into<String>, tc_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            app: app.into(),
            tc_url: tc_url.into(),
            flash_version: "FMLE/3.0 (compatible; rtmp-core)".to_string(),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            chunk_limits: DecoderLimits::default(),
            amf_limits: amf0::Limits::default(),
            digest_handshake: true,
            enhanced: None,
            buffer_ms: 3000,
            seed: 0xC11E_47C0_FFEE_0001,
            start_timeout: Duration::from_secs(10),
            idle_timeout: None,
        }
    }
}
