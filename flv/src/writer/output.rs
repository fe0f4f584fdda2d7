//! Where a [`Writer`](super::Writer) appends its bytes: one buffer, or pieces
//! for vectored IO.

use bytes::{Bytes, BytesMut};

/// Where a [`Writer`](crate::Writer) appends its bytes.
///
/// Implemented by [`BytesMut`] (everything copied into one buffer) and
/// [`Pieces`](crate::Pieces) (headers copied, payloads kept as the caller's [`Bytes`]).
pub trait Output {
    /// Appends a few bytes (headers), copied.
    fn put_slice(&mut self, data: &[u8]);
    /// Appends a payload; an implementation may keep the handle instead of copying.
    fn put_bytes(&mut self, data: Bytes);
}

impl Output for BytesMut {
    fn put_slice(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }

    fn put_bytes(&mut self, data: Bytes) {
        self.extend_from_slice(&data);
    }
}

/// Payloads up to this size are copied next to their header rather than kept
/// as a piece of their own (a piece costs more than copying a few bytes).
const SMALL_PAYLOAD: usize = 256;

/// Output as a list of [`Bytes`]: headers and small payloads are copied into
/// a reused buffer, larger payloads are kept as the caller's handles, so the
/// list can be written with vectored IO without copying media data.
///
/// ```
/// use bytes::Bytes;
/// use flv::{Pieces, TagType, Writer, WriterOptions};
///
/// let mut writer = Writer::new(WriterOptions::default());
/// let mut out = Pieces::new();
/// writer.header(false, true, &mut out);
/// let payload = Bytes::from(vec![0x17; 1000]);
/// writer.write(TagType::Video, 40, payload.clone(), &mut out)?;
/// let pieces = out.take();
/// assert_eq!(pieces.len(), 3); // header + tag header, the payload, PreviousTagSize
/// assert_eq!(pieces[1].as_ptr(), payload.as_ptr()); // not copied
/// assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), 13 + 11 + 1000 + 4);
/// # Ok::<(), flv::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Pieces {
    pieces: Vec<Bytes>,
    scratch: BytesMut,
    len: u64,
}

impl Pieces {
    /// An empty list.
    pub fn new() -> Pieces {
        Pieces::default()
    }

    /// Total bytes appended and not yet taken.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing is waiting to be taken.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces appended so far, in order; the list is left empty.
    pub fn take(&mut self) -> Vec<Bytes> {
        self.flush();
        self.len = 0;
        std::mem::take(&mut self.pieces)
    }

    fn flush(&mut self) {
        if !self.scratch.is_empty() {
            self.pieces.push(self.scratch.split().freeze());
        }
    }
}

impl Output for Pieces {
    fn put_slice(&mut self, data: &[u8]) {
        self.scratch.extend_from_slice(data);
        self.len += data.len() as u64;
    }

    fn put_bytes(&mut self, data: Bytes) {
        if data.len() <= SMALL_PAYLOAD {
            self.put_slice(&data);
            return;
        }
        self.flush();
        self.len += data.len() as u64;
        self.pieces.push(data);
    }
}
