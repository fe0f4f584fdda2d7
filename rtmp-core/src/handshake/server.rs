//! The server side: reads C0/C1, answers S0/S1/S2, reads C2.

use bytes::{Buf, BytesMut};

use super::digest::{self, Filler, DIGEST_LEN};
use super::{
    fill, time_field, version_field, HandshakeError, HandshakeKind, Progress, HANDSHAKE_SIZE,
    RTMP_VERSION, SERVER_VERSION,
};

#[derive(Clone, Debug)]
enum State {
    /// Waiting for C0.
    C0,
    /// Collecting C1 into `peer`.
    C1,
    /// S0/S1/S2 sent; collecting C2 into `peer`.
    C2,
    Done,
    Failed(HandshakeError),
}

/// Server side of the RTMP handshake.
///
/// Feed it what the client sent with [`advance`](Self::advance); it writes
/// S0+S1+S2 as soon as C1 is complete and is done once C2 has been read. It
/// answers a digest C1 with a digest S1 (same scheme, version
/// [`SERVER_VERSION`]) and a signed S2, and a simple C1 with a zero-version S1
/// and S2 = C1. A wrong C2 is never an error (see
/// [`peer_c2_verified`](Self::peer_c2_verified)).
#[derive(Clone, Debug)]
pub struct ServerHandshake {
    filler: Filler,
    epoch_ms: u32,
    state: State,
    /// Bytes of the packet being collected in `peer`.
    filled: usize,
    /// C1, then C2.
    peer: Box<[u8; HANDSHAKE_SIZE]>,
    /// Our S1, kept to check C2.
    s1: Box<[u8; HANDSHAKE_SIZE]>,
    /// Position of the digest in our S1, for a digest answer.
    s1_digest_pos: Option<usize>,
    peer_kind: Option<HandshakeKind>,
    peer_version: Option<[u8; 4]>,
    peer_epoch: Option<u32>,
    c2_verified: Option<bool>,
}

impl ServerHandshake {
    /// A server handshake waiting for C0.
    ///
    /// `seed` seeds the filler bytes of S1/S2 (any value; the generator is not
    /// cryptographic), `epoch_ms` is written as S1's time field.
    pub fn new(seed: u64, epoch_ms: u32) -> Self {
        Self {
            filler: Filler::new(seed),
            epoch_ms,
            state: State::C0,
            filled: 0,
            peer: Box::new([0; HANDSHAKE_SIZE]),
            s1: Box::new([0; HANDSHAKE_SIZE]),
            s1_digest_pos: None,
            peer_kind: None,
            peer_version: None,
            peer_epoch: None,
            c2_verified: None,
        }
    }

    /// Consumes what it needs from the front of `input` (leaving any bytes
    /// after C2 in `input`, untouched), appends bytes to send to `out`.
    ///
    /// Call it whenever bytes arrive, with everything received so far that it
    /// has not consumed. It returns [`Progress::InProgress`] while C0, C1 or C2
    /// is incomplete, and [`Progress::Done`] once C2 has been read (and on
    /// every later call, consuming nothing).
    ///
    /// # Errors
    ///
    /// [`HandshakeError::UnsupportedVersion`] if C0 is not 3 (RTMPE, or not
    /// RTMP at all). The error is sticky: later calls return it again.
    pub fn advance(
        &mut self,
        input: &mut BytesMut,
        out: &mut BytesMut,
    ) -> Result<Progress, HandshakeError> {
        loop {
            match &self.state {
                State::C0 => {
                    let Some(&version) = input.first() else {
                        return Ok(Progress::InProgress);
                    };
                    if version != RTMP_VERSION {
                        let err = HandshakeError::UnsupportedVersion { version };
                        self.state = State::Failed(err.clone());
                        return Err(err);
                    }
                    input.advance(1);
                    self.filled = 0;
                    self.state = State::C1;
                }
                State::C1 => {
                    if !fill(&mut self.peer, &mut self.filled, input) {
                        return Ok(Progress::InProgress);
                    }
                    self.answer_c1(out);
                    self.filled = 0;
                    self.state = State::C2;
                }
                State::C2 => {
                    if !fill(&mut self.peer, &mut self.filled, input) {
                        return Ok(Progress::InProgress);
                    }
                    self.check_c2();
                    self.state = State::Done;
                }
                State::Done => return Ok(Progress::Done),
                State::Failed(err) => return Err(err.clone()),
            }
        }
    }

    /// Builds and writes S0, S1 and S2 for the C1 in `self.peer`.
    fn answer_c1(&mut self, out: &mut BytesMut) {
        let c1 = &*self.peer;
        let version = version_field(c1);
        self.peer_version = Some(version);
        self.peer_epoch = Some(time_field(c1));
        // A zero version means a simple C1; a non-zero one without a valid
        // digest is answered simply too (as nginx-rtmp does).
        let found = if version == [0; 4] {
            None
        } else {
            digest::find(c1, digest::CLIENT_KEY_PARTIAL)
        };

        let s1 = &mut *self.s1;
        self.filler.fill(s1);
        s1[..4].copy_from_slice(&self.epoch_ms.to_be_bytes());
        out.reserve(1 + 2 * HANDSHAKE_SIZE);
        out.extend_from_slice(&[RTMP_VERSION]);
        match found {
            Some((scheme, c1_pos)) => {
                self.peer_kind = Some(HandshakeKind::Digest { scheme });
                s1[4..8].copy_from_slice(&SERVER_VERSION);
                self.s1_digest_pos = Some(digest::imprint(s1, scheme, digest::SERVER_KEY_PARTIAL));
                out.extend_from_slice(&s1[..]);

                let mut s2 = [0u8; HANDSHAKE_SIZE];
                self.filler.fill(&mut s2);
                s2[..4].copy_from_slice(&c1[..4]);
                s2[4..8].copy_from_slice(&self.epoch_ms.to_be_bytes());
                let client_digest = &c1[c1_pos..c1_pos + DIGEST_LEN];
                digest::sign(&digest::SERVER_KEY, client_digest, &mut s2);
                out.extend_from_slice(&s2);
            }
            None => {
                self.peer_kind = Some(HandshakeKind::Simple);
                s1[4..8].fill(0);
                out.extend_from_slice(&s1[..]);
                // S2 echoes C1 verbatim, as nginx-rtmp and FFmpeg do.
                out.extend_from_slice(&c1[..]);
            }
        }
    }

    /// Records whether the C2 in `self.peer` answers our S1.
    fn check_c2(&mut self) {
        let c2 = &*self.peer;
        // An echo of S1's random bytes is always fine (simple clients, and
        // FFmpeg as a publisher, echo even a digest S1).
        let echoed = c2[8..] == self.s1[8..];
        let signed = self.s1_digest_pos.is_some_and(|pos| {
            let s1_digest = &self.s1[pos..pos + DIGEST_LEN];
            digest::verify_signature(&digest::CLIENT_KEY, s1_digest, c2)
        });
        self.c2_verified = Some(echoed || signed);
    }

    /// Whether C2 has been read: the handshake is complete.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Which handshake the client used; known once C1 arrived.
    pub fn peer_kind(&self) -> Option<HandshakeKind> {
        self.peer_kind
    }

    /// C1 bytes 4..8, the client's version (e.g. 9.0.124.2 from FFmpeg,
    /// zeros from a simple client); known once C1 arrived.
    pub fn peer_version(&self) -> Option<[u8; 4]> {
        self.peer_version
    }

    /// C1's time field (bytes 0..4, big-endian); known once C1 arrived.
    pub fn peer_epoch(&self) -> Option<u32> {
        self.peer_epoch
    }

    /// Whether C2 answers our S1 (echoes its random bytes, or, after a digest
    /// S1, carries the right signature); known once C2 arrived. Informational
    /// only: a C2 that does not verify is accepted.
    pub fn peer_c2_verified(&self) -> Option<bool> {
        self.c2_verified
    }
}
