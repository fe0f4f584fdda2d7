//! The zero-copy reference walker of an RTMP chunk stream: the least any
//! chunk decoder must do. It reads the chunk headers of a stream held whole
//! in memory, keeps each chunk stream's header state, applies Set Chunk Size,
//! and hands each message out as the list of its chunk bodies, slices of the
//! input: no copy, no allocation once its lists have grown, no limits, no
//! errors (it stops at the first byte it cannot read). A real decoder also
//! copies what the socket read into its buffer and joins a message's chunks
//! into one payload; the bench measures how close it comes to this floor.

/// The header state of one chunk stream.
#[derive(Default)]
struct ChunkStream {
    type_id: u8,
    stream_id: u32,
    length: usize,
    timestamp: u64,
    delta: u64,
    /// The last header's timestamp field was extended: a type-3 header
    /// repeats the 4 bytes (as FFmpeg writes them).
    extended: bool,
    /// The open message's bytes still to come; 0 between messages.
    left: usize,
}

/// Per chunk stream id: its state and the open message's chunk bodies.
type Slot<'a> = (ChunkStream, Vec<&'a [u8]>);

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |v, &b| v << 8 | u64::from(b))
}

/// Walks `data`, calling `f(type, stream id, timestamp, chunk bodies)` per
/// message. Returns the bytes it read.
pub(crate) fn walk<'a>(data: &'a [u8], mut f: impl FnMut(u8, u32, u64, &[&'a [u8]])) -> usize {
    let mut slots: Vec<Slot<'a>> = Vec::new();
    let mut chunk_size = 128usize;
    let mut at = 0;
    while let Some(&first) = data.get(at) {
        let format = first >> 6;
        let (csid, basic) = match first & 0x3F {
            0 => match data.get(at + 1) {
                Some(&b) => (64 + usize::from(b), 2),
                None => break,
            },
            1 => match data.get(at + 1..at + 3) {
                Some(b) => (64 + usize::from(b[0]) + 256 * usize::from(b[1]), 3),
                None => break,
            },
            id => (usize::from(id), 1),
        };
        if slots.len() <= csid {
            slots.resize_with(csid + 1, Default::default);
        }
        let (cs, pieces) = &mut slots[csid];
        let header = [11, 7, 3, 0][usize::from(format)];
        let Some(h) = data.get(at + basic..at + basic + header) else {
            break;
        };
        let mut next = at + basic + header;
        let field = if format < 3 { be(&h[..3]) } else { 0 };
        if format < 3 {
            cs.extended = field == 0xFF_FFFF;
        }
        let time = if cs.extended {
            let Some(ext) = data.get(next..next + 4) else {
                break;
            };
            next += 4;
            be(ext)
        } else {
            field
        };
        if format <= 1 {
            cs.length = be(&h[3..6]) as usize;
            cs.type_id = h[6];
        }
        if format == 0 {
            cs.stream_id = u32::from_le_bytes([h[7], h[8], h[9], h[10]]);
        }
        if cs.left == 0 {
            // A new message: its timestamp.
            match format {
                0 => {
                    cs.timestamp = time;
                    cs.delta = 0;
                }
                1 | 2 => {
                    cs.delta = time;
                    cs.timestamp += time;
                }
                _ => cs.timestamp += cs.delta,
            }
            cs.left = cs.length;
        }
        let take = cs.left.min(chunk_size);
        let Some(body) = data.get(next..next + take) else {
            break;
        };
        pieces.push(body);
        cs.left -= take;
        at = next + take;
        if cs.left == 0 {
            if cs.type_id == 1 {
                // Set Chunk Size: its 4 bytes are in its one chunk.
                if let Some(size) = pieces.first().and_then(|p| p.first_chunk::<4>()) {
                    chunk_size = (u32::from_be_bytes(*size) & 0x7FFF_FFFF).max(1) as usize;
                }
            }
            f(cs.type_id, cs.stream_id, cs.timestamp, pieces);
            pieces.clear();
        }
    }
    at
}
