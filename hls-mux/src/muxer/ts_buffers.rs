//! The MPEG-TS segments' buffers: each made its final size once, and reused
//! once every handle the consumer had to it is gone.
//!
//! Every payload byte is copied once into an MPEG-TS segment, so where it is
//! copied to matters. A fresh buffer costs a page fault per 4 KiB and lines
//! that are not in the cache: with the system allocator, a third of a whole
//! FLV -> TS remux (`benches/hls.rs`, 22 ms against 15 ms a file). A consumer
//! that writes each segment out and drops it (a file conversion, an upload)
//! leaves its buffer unique, so the muxer takes it back; one that keeps
//! segments (a live window) does not, and a fresh buffer is made as before.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// The largest buffer made ahead for an MPEG-TS segment: 16 MiB, a 6 s
/// segment at about 20 Mbit/s. A larger one grows as it is written.
const MAX_SIZE_HINT: usize = 16 << 20;

/// How many published segments are kept for reuse. The newest was published
/// just now and its consumer has not had it yet; the one before has had a
/// segment's time to be written out and dropped.
const KEPT: usize = 2;

#[derive(Debug, Default)]
pub(super) struct TsBuffers {
    /// Handles to the last published segments, oldest first. Held while the
    /// consumer holds them too, so they cost no memory of their own until
    /// the consumer lets go; then one is reused and the rest dropped. The
    /// newest is the last segment, whose size the next one likely has.
    kept: VecDeque<Bytes>,
}

impl TsBuffers {
    /// A buffer for the next segment: the oldest kept one if the consumer is
    /// done with it and it holds a segment as large as the last, else a new
    /// one a little over the last size (so a slightly larger segment still
    /// fits without doubling), bounded so one huge segment does not make
    /// every later buffer huge.
    pub(super) fn take(&mut self) -> BytesMut {
        let last_len = self.kept.back().map_or(0, Bytes::len);
        while self.kept.len() >= KEPT {
            let Some(oldest) = self.kept.pop_front() else {
                break;
            };
            if let Ok(mut buffer) = oldest.try_into_mut() {
                if buffer.capacity() >= last_len.min(MAX_SIZE_HINT) {
                    buffer.clear();
                    return buffer;
                }
            }
        }
        BytesMut::with_capacity(last_len.saturating_add(last_len / 16).min(MAX_SIZE_HINT))
    }

    /// Publishes `segment`'s bytes, keeping a handle for [`TsBuffers::take`].
    pub(super) fn publish(&mut self, segment: &mut BytesMut) -> Bytes {
        let bytes = std::mem::take(segment).freeze();
        self.kept.push_back(bytes.clone());
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(buffers: &mut TsBuffers, byte: u8, len: usize) -> Bytes {
        let mut buffer = buffers.take();
        buffer.extend(std::iter::repeat_n(byte, len));
        buffers.publish(&mut buffer)
    }

    #[test]
    fn a_dropped_segment_s_buffer_is_reused_two_segments_later() {
        let mut buffers = TsBuffers::default();
        let first = segment(&mut buffers, 1, 1000);
        let address = first.as_ptr();
        drop(first);
        let second = segment(&mut buffers, 2, 1000);
        let third = segment(&mut buffers, 3, 1000);
        assert_eq!(third.as_ptr(), address, "the first segment's buffer");
        assert_ne!(second.as_ptr(), address);
        assert!(third.iter().all(|&b| b == 3));
        assert_eq!(third.len(), 1000);
    }

    #[test]
    fn a_segment_still_held_is_never_written_over() {
        let mut buffers = TsBuffers::default();
        let held: Vec<Bytes> = (0..6).map(|i| segment(&mut buffers, i, 500)).collect();
        for (i, segment) in held.iter().enumerate() {
            assert_eq!(segment.len(), 500);
            assert!(segment.iter().all(|&b| usize::from(b) == i), "segment {i}");
        }
        let addresses: std::collections::HashSet<_> = held.iter().map(|s| s.as_ptr()).collect();
        assert_eq!(addresses.len(), held.len(), "each its own buffer");
        assert!(buffers.kept.len() <= KEPT, "{} kept", buffers.kept.len());
    }

    #[test]
    fn a_buffer_too_small_for_the_last_segment_is_not_reused() {
        let mut buffers = TsBuffers::default();
        let small = segment(&mut buffers, 1, 100);
        let address = small.as_ptr();
        drop(small);
        drop(segment(&mut buffers, 2, 100_000));
        let next = buffers.take();
        assert_ne!(next.as_ptr(), address);
        assert!(
            next.capacity() >= 100_000 + 100_000 / 16,
            "{}",
            next.capacity()
        );
    }

    #[test]
    fn a_new_buffer_is_bounded() {
        let mut buffers = TsBuffers::default();
        let mut huge = BytesMut::zeroed(MAX_SIZE_HINT * 2);
        drop(buffers.publish(&mut huge));
        assert_eq!(buffers.take().capacity(), MAX_SIZE_HINT);
    }
}
