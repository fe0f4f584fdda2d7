//! Outgoing bytes as a queue of `Bytes` pieces.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Outgoing bytes as a queue of [`Bytes`] pieces, ready for vectored writes.
///
/// Chunk headers are written into an internal [`BytesMut`] and split off;
/// payloads are queued as slices of the messages' own [`Bytes`], never copied.
/// Write with [`chunks_vectored`](Self::chunks_vectored) and
/// `write_vectored`, then [`advance`](Self::advance) by what was written; or
/// drain into a contiguous buffer with [`copy_to`](Self::copy_to).
#[derive(Default, Debug)]
pub struct ChunkOutput {
    pieces: VecDeque<Bytes>,
    len: usize,
    scratch: BytesMut,
}

/// Scratch space reserved at a time for headers.
const SCRATCH_BLOCK: usize = 4096;

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
    pub fn pieces(&self) -> impl Iterator<Item = &Bytes> {
        self.pieces.iter()
    }

    /// Removes and returns the front piece.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        let b = self.pieces.pop_front()?;
        self.len -= b.len();
        Some(b)
    }

    /// Queues `b` at the back (for example handshake bytes). Empty pieces are dropped.
    pub fn push(&mut self, b: Bytes) {
        if !b.is_empty() {
            self.len += b.len();
            self.pieces.push_back(b);
        }
    }

    /// Queues a copy of `bytes` (a chunk header) at the back, through the scratch buffer.
    pub(crate) fn push_copy(&mut self, bytes: &[u8]) {
        if self.scratch.capacity() < bytes.len() {
            self.scratch.reserve(SCRATCH_BLOCK.max(bytes.len()));
        }
        self.scratch.extend_from_slice(bytes);
        let b = self.scratch.split().freeze();
        self.push(b);
    }

    /// Drains everything queued into `dst`, copying.
    pub fn copy_to(&mut self, dst: &mut BytesMut) {
        dst.reserve(self.len);
        for b in self.pieces.drain(..) {
            dst.extend_from_slice(&b);
        }
        self.len = 0;
    }

    /// Drops the first `n` queued bytes (after a partial vectored write).
    /// Advancing past the end empties the queue.
    pub fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
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
        for (slot, b) in dst.iter_mut().zip(self.pieces.iter()) {
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
