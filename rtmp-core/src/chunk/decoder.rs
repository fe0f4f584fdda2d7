//! Chunks into messages.

use std::collections::HashMap;

use bytes::{Buf, Bytes, BytesMut};

use super::error::ChunkError;
use super::header::{be24, parse_basic, take, EXTENDED};
use super::limits::DecoderLimits;
use super::slab::Slab;
use super::timestamp::unwrap;
use super::{RawMessage, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, TYPE_ABORT, TYPE_SET_CHUNK_SIZE};

/// Chunk stream ids below this have their state in a direct-indexed table.
const LOW_IDS: usize = 64;

/// State of one incoming chunk stream.
#[derive(Default, Debug)]
struct Stream {
    /// Whether a type-0 header was seen (the slot is in use).
    live: bool,
    /// Whether the last type 0/1/2 header carried an extended timestamp.
    ext: bool,
    /// Whether a message is partly received.
    in_progress: bool,
    type_id: u8,
    /// Message length of the last header.
    length: u32,
    stream_id: u32,
    /// Last timestamp field, extended value resolved: the delta a type-3 new
    /// message adds (the absolute value after a type-0 header).
    field: u32,
    /// Timestamp of the current (or last) message.
    timestamp: u64,
    /// Bytes received of the partial message.
    received: u32,
    /// Capacity reserved for `buf`, counted against the buffer budget.
    reserved: usize,
    /// Partial message.
    buf: BytesMut,
}

/// The message header fields a chunk carries, before they are committed.
#[derive(Clone, Copy)]
struct Fields {
    length: u32,
    type_id: u8,
    stream_id: u32,
    field: u32,
    ext: bool,
}

/// The outcome of one pass over the input.
enum Step {
    /// More bytes are needed; `consumed` bytes were taken.
    Need { consumed: usize },
    /// A message that fits one chunk: its payload is `input[start..start + len]`.
    Single { start: usize, len: usize, csid: u32 },
    /// A message assembled from several chunks; `consumed` bytes were taken.
    Assembled {
        consumed: usize,
        csid: u32,
        payload: Bytes,
    },
}

/// Reassembles RTMP messages from chunks.
///
/// Feed it the bytes after the handshake. Each call to
/// [`decode`](Self::decode) returns at most one message. Memory is bounded by
/// [`DecoderLimits`]: the state of at most `max_chunk_streams` chunk streams
/// and at most `max_buffered` bytes of partial messages (buffers are reserved
/// within that budget, never at the length a header claims). The caller's
/// input buffer must be able to hold one whole chunk (at most
/// `min(chunk size, max_message_size)` bytes plus an 18-byte header): a chunk
/// is consumed only once all of it is present.
///
/// After a header with an extended timestamp, a type-3 chunk is parsed only
/// once 4 bytes follow its basic header, to tell a repeated extended timestamp
/// from payload (see the [module documentation](super)).
///
/// After an error the chunk stream is out of sync: drop the connection.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    limits: DecoderLimits,
    low: Vec<Stream>,
    high: HashMap<u32, Stream>,
    live: usize,
    budget: Budget,
    /// Single-chunk messages up to this many bytes are copied out (see
    /// [`ChunkDecoder::set_copy_below`]).
    copy_below: usize,
    /// Where those copies go.
    slab: Slab,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    /// Creates a decoder with chunk size 128 and default limits.
    pub fn new() -> Self {
        Self::with_limits(DecoderLimits::default())
    }

    /// Creates a decoder with chunk size 128 and the given limits.
    pub fn with_limits(limits: DecoderLimits) -> Self {
        let mut low = Vec::with_capacity(LOW_IDS);
        low.resize_with(LOW_IDS, Stream::default);
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            limits,
            low,
            high: HashMap::new(),
            live: 0,
            budget: Budget {
                buffered: 0,
                reserved: 0,
                max: limits.max_buffered,
            },
            copy_below: 0,
            slab: Slab::default(),
        }
    }

    /// Copies a message that fits one chunk and has at most `bytes` bytes out
    /// of the input's buffer instead of handing out a slice of it (0, the
    /// default: never). The copies are packed into buffers of 14 KiB shared
    /// by count, so a copy costs no allocation of its own, and a copy kept
    /// keeps at most its 14 KiB alive.
    ///
    /// A slice is free to make, but while it is kept it keeps the whole input
    /// buffer alive, and every slice made and dropped updates the buffer's
    /// shared reference count. An application that keeps small messages (a
    /// server's caches and segments) wants its own copy of them anyway:
    /// copying here makes it once, and the input buffer stays unshared, so it
    /// is reused in place from read to read.
    pub fn set_copy_below(&mut self, bytes: usize) {
        self.copy_below = bytes;
    }

    /// The limits in force.
    pub fn limits(&self) -> DecoderLimits {
        self.limits
    }

    /// Current incoming chunk size (default 128).
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Sets the incoming chunk size. Rejects 0 and sizes above `0x7FFFFFFF`.
    ///
    /// A Set Chunk Size message received through [`decode`](Self::decode) is
    /// applied by the decoder itself; this is for sizes agreed otherwise.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(ChunkError::InvalidChunkSize { size });
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Bytes held in partial messages.
    pub fn buffered(&self) -> usize {
        self.budget.buffered
    }

    /// Number of live chunk streams (with header state or a partial message).
    pub fn live_chunk_streams(&self) -> usize {
        self.live
    }

    /// Decodes at most one complete message from the front of `input`,
    /// consuming what it used.
    ///
    /// `Ok(None)` means more bytes are needed: every whole chunk consumed is
    /// kept in internal state, and a partial chunk is left in `input`.
    ///
    /// A Set Chunk Size (type 1) or Abort (type 2) message is applied by the
    /// decoder at once, so the chunks after it parse right, and still returned.
    ///
    /// A message that fits one chunk is returned as a slice of `input`'s
    /// buffer (no copy; a copy up to [`set_copy_below`](Self::set_copy_below)
    /// bytes); a larger one is assembled once.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        let (consumed, csid, payload) = match self.run(input) {
            Ok(Step::Need { consumed }) => {
                input.advance(consumed);
                return Ok(None);
            }
            Ok(Step::Single { start, len, csid }) => {
                input.advance(start);
                let payload = match len <= self.copy_below {
                    true => {
                        let copy = self.slab.copy(input.get(..len).unwrap_or_default());
                        input.advance(len);
                        copy
                    }
                    false => input.split_to(len).freeze(),
                };
                (0, csid, payload)
            }
            Ok(Step::Assembled {
                consumed,
                csid,
                payload,
            }) => (consumed, csid, payload),
            Err((consumed, e)) => {
                input.advance(consumed);
                return Err(e);
            }
        };
        input.advance(consumed);
        let Some(st) = self.stream(csid) else {
            // Unreachable: a message completes only on a live stream.
            return Ok(None);
        };
        let msg = RawMessage {
            chunk_stream_id: csid,
            type_id: st.type_id,
            stream_id: st.stream_id,
            timestamp: st.timestamp,
            payload,
        };
        if msg.type_id == TYPE_SET_CHUNK_SIZE || msg.type_id == TYPE_ABORT {
            self.control(&msg)?;
        }
        Ok(Some(msg))
    }

    /// Applies a Set Chunk Size or Abort message.
    fn control(&mut self, msg: &RawMessage) -> Result<(), ChunkError> {
        let Some(v) = take::<4>(&msg.payload) else {
            return Err(ChunkError::ShortControlMessage {
                chunk_stream_id: msg.chunk_stream_id,
                type_id: msg.type_id,
                length: msg.payload.len(),
            });
        };
        let v = u32::from_be_bytes(v);
        if msg.type_id == TYPE_SET_CHUNK_SIZE {
            self.set_chunk_size(v)
        } else {
            self.abort(v);
            Ok(())
        }
    }

    /// Discards the partial message of chunk stream `csid`, if any.
    pub fn abort(&mut self, csid: u32) {
        let st = if (csid as usize) < LOW_IDS {
            &mut self.low[csid as usize]
        } else {
            match self.high.get_mut(&csid) {
                Some(s) => s,
                None => return,
            }
        };
        if st.in_progress {
            self.budget.release(st);
            st.buf = BytesMut::new();
        }
    }

    #[inline]
    fn stream(&self, csid: u32) -> Option<&Stream> {
        let st = if (csid as usize) < LOW_IDS {
            &self.low[csid as usize]
        } else {
            self.high.get(&csid)?
        };
        st.live.then_some(st)
    }

    /// Parses chunks from `input` until a message completes or bytes run out.
    fn run(&mut self, input: &[u8]) -> Result<Step, (usize, ChunkError)> {
        let mut pos = 0usize;
        let chunk_size = self.chunk_size as usize;
        let limits = self.limits;
        loop {
            let d = input.get(pos..).unwrap_or_default();
            let Some((fmt, csid, mut off)) = parse_basic(d) else {
                return Ok(Step::Need { consumed: pos });
            };
            let st = if (csid as usize) < LOW_IDS {
                &mut self.low[csid as usize]
            } else if let Some(st) = self.high.get_mut(&csid) {
                st
            } else {
                // Unseen high chunk stream: open it once its first chunk is
                // whole and within the limits, then parse it as usual.
                if fmt != 0 {
                    return Err((
                        pos,
                        ChunkError::NoPreviousHeader {
                            chunk_stream_id: csid,
                            fmt,
                        },
                    ));
                }
                let Some(f) = message_header(d, fmt, &mut off, None) else {
                    return Ok(Step::Need { consumed: pos });
                };
                check_header(csid, &f, &limits).map_err(|e| (pos, e))?;
                if self.live >= limits.max_chunk_streams {
                    return Err((
                        pos,
                        ChunkError::TooManyChunkStreams {
                            limit: limits.max_chunk_streams,
                        },
                    ));
                }
                if d.len() < off + (f.length as usize).min(chunk_size) {
                    return Ok(Step::Need { consumed: pos });
                }
                self.high.insert(csid, Stream::default());
                continue;
            };

            let f = if fmt == 3 && st.live {
                if st.ext {
                    // Repeated extended timestamp: present or not, decided by value.
                    let Some(v) = d.get(off..).and_then(take::<4>) else {
                        return Ok(Step::Need { consumed: pos });
                    };
                    let v = u32::from_be_bytes(v);
                    let own = if st.in_progress {
                        st.timestamp as u32
                    } else {
                        (st.timestamp as u32).wrapping_add(st.field)
                    };
                    if v == st.field || v == own {
                        off += 4;
                    }
                }
                if st.in_progress {
                    let run = continuation(st, &mut self.budget, d, off, chunk_size)
                        .map_err(|(at, e)| (pos + at, e))?;
                    match run {
                        Run::Whole(used) => {
                            let payload = self.budget.finish(st);
                            return Ok(Step::Assembled {
                                consumed: pos + used,
                                csid,
                                payload,
                            });
                        }
                        Run::Need(used) => {
                            return Ok(Step::Need {
                                consumed: pos + used,
                            })
                        }
                        Run::Next(used) => pos += used,
                    }
                    continue;
                }
                // Type 3 starting a new message: all fields repeat.
                Fields {
                    length: st.length,
                    type_id: st.type_id,
                    stream_id: st.stream_id,
                    field: st.field,
                    ext: st.ext,
                }
            } else {
                if !st.live && fmt != 0 {
                    return Err((
                        pos,
                        ChunkError::NoPreviousHeader {
                            chunk_stream_id: csid,
                            fmt,
                        },
                    ));
                }
                if st.in_progress {
                    return Err((
                        pos,
                        ChunkError::InterruptedMessage {
                            chunk_stream_id: csid,
                            fmt,
                            received: st.received,
                            length: st.length,
                        },
                    ));
                }
                let prev = (st.length, st.type_id, st.stream_id);
                let Some(f) = message_header(d, fmt, &mut off, Some(prev)) else {
                    return Ok(Step::Need { consumed: pos });
                };
                check_header(csid, &f, &limits).map_err(|e| (pos, e))?;
                f
            };

            // First chunk of a new message.
            let length = f.length as usize;
            let n = length.min(chunk_size);
            let Some(piece) = d.get(off..off + n) else {
                return Ok(Step::Need { consumed: pos });
            };
            if !st.live && self.live >= limits.max_chunk_streams {
                return Err((
                    pos,
                    ChunkError::TooManyChunkStreams {
                        limit: limits.max_chunk_streams,
                    },
                ));
            }
            if n < length {
                self.budget.take(n).map_err(|e| (pos, e))?;
            }
            if !st.live {
                self.live += 1;
                st.live = true;
                st.timestamp = u64::from(f.field);
            }
            // Commit the header.
            st.type_id = f.type_id;
            st.length = f.length;
            st.stream_id = f.stream_id;
            let wire = if fmt == 0 {
                f.field
            } else {
                (st.timestamp as u32).wrapping_add(f.field)
            };
            st.timestamp = unwrap(st.timestamp, wire);
            st.field = f.field;
            st.ext = f.ext;
            if n == length {
                return Ok(Step::Single {
                    start: pos + off,
                    len: n,
                    csid,
                });
            }
            self.budget.open(st, n, length);
            st.buf.extend_from_slice(piece);
            st.received = n as u32;
            st.in_progress = true;
            pos += off + n;
        }
    }
}

/// Where a run of continuation chunks stopped; each holds the bytes of the
/// input it read.
enum Run {
    /// The message is whole.
    Whole(usize),
    /// The next chunk of the message is not wholly in the input yet.
    Need(usize),
    /// The next chunk has another header: parse it as usual.
    Next(usize),
}

/// Appends continuation chunks of `st`'s partial message: the one whose body
/// starts at `d[off]`, then each next chunk while it carries the same
/// one-byte basic header and no extended timestamp. At small chunk sizes a
/// message is dozens of chunks in a row of one chunk stream, so this is the
/// hot path: each of those chunks costs a byte compare and a copy, not a
/// header parse and a stream lookup. Errors carry the offset in `d` of the
/// chunk that failed.
#[inline(always)]
fn continuation(
    st: &mut Stream,
    budget: &mut Budget,
    d: &[u8],
    mut off: usize,
    chunk_size: usize,
) -> Result<Run, (usize, ChunkError)> {
    let repeat = match (off, st.ext) {
        (1, false) => d.first().copied(),
        _ => None,
    };
    let mut start = 0;
    loop {
        let remaining = (st.length - st.received) as usize;
        let n = remaining.min(chunk_size);
        let Some(piece) = d.get(off..off + n) else {
            return Ok(Run::Need(start));
        };
        budget.take(n).map_err(|e| (start, e))?;
        if st.buf.capacity() - st.buf.len() < n {
            budget.grow(st, n, remaining);
        }
        st.buf.extend_from_slice(piece);
        st.received += n as u32;
        start = off + n;
        if n == remaining {
            return Ok(Run::Whole(start));
        }
        match (repeat, d.get(start)) {
            (Some(b), Some(&next)) if next == b => off = start + 1,
            _ => return Ok(Run::Next(start)),
        }
    }
}

/// Checks a message header against the limits.
#[inline(always)]
fn check_header(csid: u32, f: &Fields, limits: &DecoderLimits) -> Result<(), ChunkError> {
    if f.length > limits.max_message_size {
        return Err(ChunkError::MessageTooLarge {
            chunk_stream_id: csid,
            length: f.length,
            limit: limits.max_message_size,
        });
    }
    Ok(())
}

/// Bytes held and reserved by partial messages.
#[derive(Debug)]
struct Budget {
    /// Bytes received in partial messages.
    buffered: usize,
    /// Capacity reserved for partial messages.
    reserved: usize,
    /// [`DecoderLimits::max_buffered`].
    max: usize,
}

impl Budget {
    /// Accounts `n` more buffered bytes, or fails if that passes the limit.
    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<(), ChunkError> {
        if n > self.max - self.buffered {
            return Err(ChunkError::BufferLimit { limit: self.max });
        }
        self.buffered += n;
        Ok(())
    }

    /// Gives `st` a buffer for a message of `length` bytes whose first chunk
    /// is `n` bytes: the whole length if the budget allows, else what is left
    /// of it (at least `n`).
    #[inline(always)]
    fn open(&mut self, st: &mut Stream, n: usize, length: usize) {
        let cap = length.min(self.max.saturating_sub(self.reserved)).max(n);
        st.buf = BytesMut::with_capacity(cap);
        st.reserved = st.buf.capacity();
        self.reserved += st.reserved;
    }

    /// Makes room in `st.buf` for `n` more bytes of a message with
    /// `remaining` bytes still to come, within what is left of the budget.
    #[cold]
    fn grow(&mut self, st: &mut Stream, n: usize, remaining: usize) {
        let want = remaining.min(self.max.saturating_sub(self.reserved)).max(n);
        let before = st.buf.capacity();
        st.buf.reserve(want);
        let added = st.buf.capacity().saturating_sub(before);
        self.reserved += added;
        st.reserved += added;
    }

    /// Hands out the assembled message of `st` and releases its budget.
    #[inline(always)]
    fn finish(&mut self, st: &mut Stream) -> Bytes {
        self.release(st);
        std::mem::take(&mut st.buf).freeze()
    }

    /// Releases the budget of `st`'s partial message.
    #[inline(always)]
    fn release(&mut self, st: &mut Stream) {
        self.buffered -= st.received as usize;
        self.reserved -= st.reserved;
        st.in_progress = false;
        st.received = 0;
        st.reserved = 0;
    }
}

/// Parses the message header of a type 0, 1 or 2 chunk and its extended
/// timestamp, starting at `d[*off]`; advances `*off` past them. `prev` gives
/// the length, type id and message stream id that type 1 and 2 headers repeat. `None`: `d` is too short.
#[inline(always)]
fn message_header(
    d: &[u8],
    fmt: u8,
    off: &mut usize,
    prev: Option<(u32, u8, u32)>,
) -> Option<Fields> {
    let (prev_length, prev_type, prev_stream) = prev.unwrap_or((0, 0, 0));
    let h = d.get(*off..)?;
    let (mut field, length, type_id, stream_id, used) = match fmt {
        0 => {
            let b = take::<11>(h)?;
            (
                be24([b[0], b[1], b[2]]),
                be24([b[3], b[4], b[5]]),
                b[6],
                u32::from_le_bytes([b[7], b[8], b[9], b[10]]),
                11,
            )
        }
        1 => {
            let b = take::<7>(h)?;
            (
                be24([b[0], b[1], b[2]]),
                be24([b[3], b[4], b[5]]),
                b[6],
                prev_stream,
                7,
            )
        }
        _ => {
            let b = take::<3>(h)?;
            (be24(b), prev_length, prev_type, prev_stream, 3)
        }
    };
    let ext = field == EXTENDED;
    if ext {
        field = u32::from_be_bytes(take::<4>(h.get(used..)?)?);
        *off += 4;
    }
    *off += used;
    Some(Fields {
        length,
        type_id,
        stream_id,
        field,
        ext,
    })
}
