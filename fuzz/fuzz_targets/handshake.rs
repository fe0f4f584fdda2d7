//! Feeds arbitrary bytes, in arbitrary splits, to `ServerHandshake` and
//! `ClientHandshake` (digest and simple); neither may panic, consume more than
//! the handshake, or write more than it.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::{ClientHandshake, Progress, ServerHandshake, HANDSHAKE_SIZE};

/// What either side may read from the peer: 1 + 1536 + 1536 bytes.
const MAX_IN: usize = 1 + 2 * HANDSHAKE_SIZE;

/// Header: [mode, seed (8 bytes), split count, splits (2 bytes each)...], then data.
fuzz_target!(|raw: &[u8]| {
    let Some((&mode, rest)) = raw.split_first() else {
        return;
    };
    let (seed, rest) = rest.split_at(rest.len().min(8));
    let mut seed_bytes = [0u8; 8];
    seed_bytes[..seed.len()].copy_from_slice(seed);
    let seed = u64::from_le_bytes(seed_bytes);
    let Some((&count, rest)) = rest.split_first() else {
        return;
    };
    let count = usize::from(count % 16);
    let (split_bytes, data) = rest.split_at(rest.len().min(count * 2));
    let splits: Vec<usize> = split_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)])) % 4000)
        .collect();

    // Bit 0x40: patch the data over a valid transcript of the peer (from
    // our own other side, same seed), so the digest, signature and Done
    // paths are reached; bit 0x80 otherwise prefixes a valid version byte.
    let input_data = if mode & 0x40 != 0 {
        let simple = if mode % 3 == 0 {
            mode & 0x20 != 0
        } else {
            mode % 3 == 2
        };
        let (to_server, to_client) = transcript(seed, simple);
        let mut base = if mode % 3 == 0 { to_server } else { to_client };
        base.extend_from_slice(b"\x03tail");
        for patch in data.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([patch[0], patch[1]])) % base.len();
            base[at] ^= patch[2];
        }
        base
    } else {
        let mut v = Vec::with_capacity(data.len() + 1);
        if mode & 0x80 != 0 {
            v.push(3);
        }
        v.extend_from_slice(data);
        v
    };

    match mode % 3 {
        0 => {
            let mut hs = ServerHandshake::new(seed, 0);
            drive(&input_data, &splits, |i, o| {
                hs.advance(i, o).map(|p| p == Progress::Done)
            });
            let _ = (hs.peer_kind(), hs.peer_version(), hs.peer_c2_verified());
        }
        1 => {
            let mut hs = ClientHandshake::new(seed, 0);
            drive(&input_data, &splits, |i, o| {
                hs.advance(i, o).map(|p| p == Progress::Done)
            });
            let _ = (hs.server_kind(), hs.server_s2_verified());
        }
        _ => {
            let mut hs = ClientHandshake::simple(seed, 0);
            drive(&input_data, &splits, |i, o| {
                hs.advance(i, o).map(|p| p == Progress::Done)
            });
            let _ = (hs.server_kind(), hs.server_s2_verified());
        }
    }
});

/// What a client (digest, or simple if `simple`) and our server send each
/// other in a complete handshake: (client to server, server to client).
fn transcript(seed: u64, simple: bool) -> (Vec<u8>, Vec<u8>) {
    let mut client = if simple {
        ClientHandshake::simple(seed, 0)
    } else {
        ClientHandshake::new(seed, 0)
    };
    let mut server = ServerHandshake::new(seed, 0);
    let (mut c_out, mut s_out) = (BytesMut::new(), BytesMut::new());
    let _ = client.advance(&mut BytesMut::new(), &mut c_out);
    let mut s_in = c_out.clone();
    let _ = server.advance(&mut s_in, &mut s_out);
    let mut c_in = s_out.clone();
    let _ = client.advance(&mut c_in, &mut c_out);
    (c_out.to_vec(), s_out.to_vec())
}

fn drive<E>(
    data: &[u8],
    splits: &[usize],
    mut advance: impl FnMut(&mut BytesMut, &mut BytesMut) -> Result<bool, E>,
) {
    let mut input = BytesMut::new();
    let mut out = BytesMut::new();
    let mut consumed = 0usize;
    let mut fed = 0usize;
    let mut rest = data;
    let mut done = false;
    for &n in splits.iter().chain(std::iter::once(&usize::MAX)) {
        let (now, later) = rest.split_at(n.min(rest.len()));
        rest = later;
        input.extend_from_slice(now);
        fed += now.len();
        let before = input.len();
        let r = advance(&mut input, &mut out);
        consumed += before - input.len();
        match r {
            Ok(d) => {
                assert!(!(done && !d), "Done went back to InProgress");
                done = d;
            }
            Err(_) => break,
        }
    }
    assert!(consumed <= MAX_IN, "consumed {consumed} bytes");
    assert!(out.len() <= MAX_IN, "wrote {} bytes", out.len());
    if done {
        // bytes after the handshake are untouched
        assert_eq!(&input[..], &data[MAX_IN..fed]);
    }
}
