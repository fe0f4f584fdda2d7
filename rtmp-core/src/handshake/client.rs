//! The client side: sends C0/C1, reads S0/S1, answers C2, reads S2.

use bytes::{Buf, BytesMut};

use super::digest::{self, Filler, DIGEST_LEN};
use super::{
    fill, version_field, HandshakeError, HandshakeKind, Progress, CLIENT_VERSION, HANDSHAKE_SIZE,
    RTMP_VERSION,
};

#[derive(Clone, Debug)]
enum State {
    /// C0+C1 not written yet.
    Start,
    /// Waiting for S0.
    S0,
    /// Collecting S1 into `peer`.
    S1,
    /// C2 sent; collecting S2 into `peer`.
    S2,
    Done,
    Failed(HandshakeError),
}

/// Client side of the RTMP handshake.
///
/// The first call to [`advance`](Self::advance) writes C0+C1; C2 is written
/// as soon as S1 is complete (without waiting for S2, as librtmp does), and
/// the handshake is done once S2 has been read.
///
/// Whatever the server answers is accepted: a digest S1 (if our C1 had a
/// digest) gets a signed C2, anything else gets C2 = S1. An S2 that does not
/// verify is accepted too; see [`server_s2_verified`](Self::server_s2_verified).
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    filler: Filler,
    state: State,
    /// Bytes of the packet being collected in `peer`.
    filled: usize,
    /// Our C0+C1 payload (C1), kept to check S2.
    c1: Box<[u8; HANDSHAKE_SIZE]>,
    /// Position of our C1's digest, for a digest C1.
    c1_digest_pos: Option<usize>,
    /// S1, then S2.
    peer: Box<[u8; HANDSHAKE_SIZE]>,
    server_kind: Option<HandshakeKind>,
    server_version: Option<[u8; 4]>,
    s2_verified: Option<bool>,
}

impl ClientHandshake {
    /// A client that sends a digest C1 like FFmpeg (version
    /// [`CLIENT_VERSION`] = 9.0.124.2, digest scheme 0).
    ///
    /// `seed` seeds the filler bytes of C1/C2 (any value; the generator is not
    /// cryptographic), `epoch_ms` is written as C1's time field.
    pub fn new(seed: u64, epoch_ms: u32) -> Self {
        let mut hs = Self::simple(seed, epoch_ms);
        hs.c1[4..8].copy_from_slice(&CLIENT_VERSION);
        hs.c1_digest_pos = Some(digest::imprint(&mut hs.c1, 0, digest::CLIENT_KEY_PARTIAL));
        hs
    }

    /// A client that sends a simple C1 (zero version, no digest), for peers
    /// that need it; it always answers S1 with an echo.
    pub fn simple(seed: u64, epoch_ms: u32) -> Self {
        let mut filler = Filler::new(seed);
        let mut c1 = Box::new([0u8; HANDSHAKE_SIZE]);
        filler.fill(&mut c1[8..]);
        c1[..4].copy_from_slice(&epoch_ms.to_be_bytes());
        Self {
            filler,
            state: State::Start,
            filled: 0,
            c1,
            c1_digest_pos: None,
            peer: Box::new([0; HANDSHAKE_SIZE]),
            server_kind: None,
            server_version: None,
            s2_verified: None,
        }
    }

    /// Writes C0+C1 to `out` on the first call (with empty input), then
    /// consumes S0/S1/S2 from the front of `input` and writes C2. Bytes after
    /// S2 are left in `input`, untouched.
    ///
    /// Returns [`Progress::InProgress`] until S2 has been read, then
    /// [`Progress::Done`] (and on every later call, consuming nothing).
    ///
    /// # Errors
    ///
    /// [`HandshakeError::UnsupportedServerVersion`] if S0 is not 3. The error
    /// is sticky: later calls return it again.
    pub fn advance(
        &mut self,
        input: &mut BytesMut,
        out: &mut BytesMut,
    ) -> Result<Progress, HandshakeError> {
        loop {
            match &self.state {
                State::Start => {
                    out.reserve(1 + HANDSHAKE_SIZE);
                    out.extend_from_slice(&[RTMP_VERSION]);
                    out.extend_from_slice(&self.c1[..]);
                    self.state = State::S0;
                }
                State::S0 => {
                    let Some(&version) = input.first() else {
                        return Ok(Progress::InProgress);
                    };
                    if version != RTMP_VERSION {
                        let err = HandshakeError::UnsupportedServerVersion { version };
                        self.state = State::Failed(err.clone());
                        return Err(err);
                    }
                    input.advance(1);
                    self.filled = 0;
                    self.state = State::S1;
                }
                State::S1 => {
                    if !fill(&mut self.peer, &mut self.filled, input) {
                        return Ok(Progress::InProgress);
                    }
                    self.answer_s1(out);
                    self.filled = 0;
                    self.state = State::S2;
                }
                State::S2 => {
                    if !fill(&mut self.peer, &mut self.filled, input) {
                        return Ok(Progress::InProgress);
                    }
                    self.check_s2();
                    self.state = State::Done;
                }
                State::Done => return Ok(Progress::Done),
                State::Failed(err) => return Err(err.clone()),
            }
        }
    }

    /// Writes C2 for the S1 in `self.peer`.
    fn answer_s1(&mut self, out: &mut BytesMut) {
        let s1 = &*self.peer;
        let version = version_field(s1);
        self.server_version = Some(version);
        let found = if version == [0; 4] {
            None
        } else {
            digest::find(s1, digest::SERVER_KEY_PARTIAL)
        };
        self.server_kind = Some(match found {
            Some((scheme, _)) => HandshakeKind::Digest { scheme },
            None => HandshakeKind::Simple,
        });
        match (found, self.c1_digest_pos) {
            (Some((_, s1_pos)), Some(_)) => {
                let mut c2 = [0u8; HANDSHAKE_SIZE];
                self.filler.fill(&mut c2);
                // time: S1's time; time2: ours (C1's)
                c2[..4].copy_from_slice(&s1[..4]);
                c2[4..8].copy_from_slice(&self.c1[..4]);
                let server_digest = &s1[s1_pos..s1_pos + DIGEST_LEN];
                digest::sign(&digest::CLIENT_KEY, server_digest, &mut c2);
                out.extend_from_slice(&c2);
            }
            // A simple server, or a simple C1 of ours: echo S1 verbatim, as
            // FFmpeg and librtmp do (FFmpeg's server checks time and random).
            _ => out.extend_from_slice(&s1[..]),
        }
    }

    /// Records whether the S2 in `self.peer` answers our C1.
    fn check_s2(&mut self) {
        let s2 = &*self.peer;
        let echoed = s2[8..] == self.c1[8..];
        let signed = matches!(self.server_kind, Some(HandshakeKind::Digest { .. }))
            && self.c1_digest_pos.is_some_and(|pos| {
                let c1_digest = &self.c1[pos..pos + DIGEST_LEN];
                digest::verify_signature(&digest::SERVER_KEY, c1_digest, s2)
            });
        self.s2_verified = Some(echoed || signed);
    }

    /// Whether S2 has been read: the handshake is complete.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Which handshake the server answered with; known once S1 arrived.
    /// [`HandshakeKind::Digest`] means S1 carries a valid digest (whatever
    /// our C1 was).
    pub fn server_kind(&self) -> Option<HandshakeKind> {
        self.server_kind
    }

    /// S1 bytes 4..8, the server's version (zeros from a simple server);
    /// known once S1 arrived.
    pub fn server_version(&self) -> Option<[u8; 4]> {
        self.server_version
    }

    /// Whether S2 answers our C1: echoes C1's random bytes, or, when both C1
    /// and S1 carry a digest, ends with the right signature. Known once S2
    /// arrived.
    ///
    /// Informational only: we are lenient like nginx-rtmp and accept an S2
    /// that does not verify (FFmpeg as a player and librtmp would abort with
    /// "Signature mismatch" / "Server not genuine Adobe!"). A caller that wants
    /// to be strict checks for `Some(false)` and closes.
    pub fn server_s2_verified(&self) -> Option<bool> {
        self.s2_verified
    }
}
