//! Outgoing bytes as a queue of `Bytes` pieces.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Outgoing bytes as a queue of [`Bytes`] pieces, ready for vectored writes.
///
/// Chunk headers are written into an internal [`BytesMut`], the open *tail* of the
/// queue. Payload pieces of [`COPY_BELOW`] bytes or more are queued as slices of
/// the messages' own [`Bytes`], never copied; smaller ones (the chunks of a 128-byte
/// chunk stream, short audio frames) are copied into the tail right after their
/// header, because a separate slice costs more than copying them (see the chunk
/// benchmark). Write with [`chunks_vectored`](Self::chunks_vectored) and
/// `write_vectored`, then [`advance`](Self::advance) by what was written; or drain
/// into a contiguous buffer with [`copy_to`](Self::copy_to).
#[derive(Default, Debug)]
pub struct ChunkOutput {
    /// Sealed pieces, front first; the tail comes after all of them.
    pieces: VecDeque<Bytes>,
    /// Bytes in `pieces` and `tail`.
    len: usize,
    /// The open tail: headers and small payload pieces not yet sealed into a piece.
    tail: BytesMut,
}

/// Payload pieces shorter than this are copied next to their header instead of
/// being queued as a slice of their own.
pub const COPY_BELOW: usize = 512;

/// Space reserved at a time for the tail.
const TAIL_BLOCK: usize = 4096;

impl ChunkOutput {
    /// Creates an empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The queued pieces, front first.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        let tail = Some(&self.tail[..]).filter(|t| !t.is_empty());
        self.pieces.iter().map(|b| &b[..]).chain(tail)
    }

    /// Removes and returns the front piece.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        if self.pieces.is_empty() {
            self.seal();
        }
        let b = self.pieces.pop_front()?;
        self.len -= b.len();
        Some(b)
    }

    /// Queues `b` at the back (for example handshake bytes), without copying.
    /// Empty pieces are dropped.
    pub fn push(&mut self, b: Bytes) {
        if !b.is_empty() {
            self.seal();
            self.len += b.len();
            self.pieces.push_back(b);
        }
    }

    /// Queues a piece of a payload: copied into the tail when it is short, queued as a
    /// slice otherwise.
    pub(crate) fn push_payload(&mut self, payload: &Bytes, range: std::ops::Range<usize>) {
        if range.len() < COPY_BELOW {
            self.push_copy(&payload[range]);
        } else {
            self.push(payload.slice(range));
        }
    }

    /// Appends a copy of `bytes` (a chunk header) to the tail.
    pub(crate) fn push_copy(&mut self, bytes: &[u8]) {
        if self.tail.capacity() - self.tail.len() < bytes.len() {
            self.tail.reserve(TAIL_BLOCK.max(bytes.len()));
        }
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Turns the tail into a sealed piece, so that a slice can follow it.
    fn seal(&mut self) {
        if !self.tail.is_empty() {
            self.pieces.push_back(self.tail.split().freeze());
        }
    }

    /// Drains everything queued into `dst`, copying.
    pub fn copy_to(&mut self, dst: &mut BytesMut) {
        dst.reserve(self.len);
        for b in self.pieces.drain(..) {
            dst.extend_from_slice(&b);
        }
        dst.extend_from_slice(&self.tail);
        self.tail.clear();
        self.len = 0;
    }

    /// Drops the first `n` queued bytes (after a partial vectored write).
    /// Advancing past the end empties the queue.
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.pieces.front_mut() else {
                let k = n.min(self.tail.len());
                self.tail.advance(k);
                self.len -= k;
                return;
            };
            if n < front.len() {
                front.advance(n);
                self.len -= n;
                return;
            }
            n -= front.len();
            self.len -= front.len();
            self.pieces.pop_front();
        }
    }

    /// Fills `dst` with slices of the queued pieces, front first; returns how
    /// many entries were written.
    pub fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, b) in dst.iter_mut().zip(self.pieces()) {
            *slot = IoSlice::new(b);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_advance_and_copy() {
        let mut out = ChunkOutput::new();
        assert!(out.is_empty());
        out.push(Bytes::from_static(b"abc"));
        out.push(Bytes::new());
        out.push_copy(b"de");
        out.push(Bytes::from_static(b"fgh"));
        assert_eq!(out.len(), 8);
        assert_eq!(out.pieces().count(), 3);
        // Small copies stay in the open tail until a slice or a reader needs them.
        let mut tail = ChunkOutput::new();
        tail.push_copy(b"ab");
        tail.push_payload(&Bytes::from_static(b"cd"), 0..2);
        assert_eq!(tail.pieces().collect::<Vec<_>>(), [&b"abcd"[..]]);
        let big = Bytes::from(vec![7u8; COPY_BELOW]);
        tail.push_payload(&big, 0..COPY_BELOW);
        tail.push_copy(b"ef");
        let pieces: Vec<&[u8]> = tail.pieces().collect();
        assert_eq!(
            (pieces.len(), pieces[0], pieces[2]),
            (3, &b"abcd"[..], &b"ef"[..])
        );
        assert_eq!(
            pieces[1].as_ptr(),
            big.as_ptr(),
            "large pieces are not copied"
        );
        tail.advance(5);
        assert_eq!(tail.len(), COPY_BELOW - 1 + 2);
        tail.advance(COPY_BELOW);
        assert_eq!(tail.pop_front().as_deref(), Some(&b"f"[..]));
        assert!(tail.is_empty());
        let mut io = [IoSlice::new(&[]); 2];
        assert_eq!(out.chunks_vectored(&mut io), 2);
        assert_eq!(&*io[1], b"de");
        out.advance(4);
        assert_eq!(out.len(), 4);
        let mut dst = BytesMut::new();
        out.copy_to(&mut dst);
        assert_eq!(&dst[..], b"efgh");
        assert!(out.is_empty());
        out.push(Bytes::from_static(b"xy"));
        out.advance(10);
        assert!(out.is_empty());
        assert_eq!(out.pop_front(), None);
    }
}
