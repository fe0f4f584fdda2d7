//! The FLV demuxer: [`Reader`] (sans-IO, incremental) and [`read_all`] (a whole file).
//!
//! An FLV file is a 9-byte header (`FLV`, version, audio/video flags, data
//! offset), then `PreviousTagSize0` (4 bytes, 0), then tags, each an 11-byte
//! header (type, 24-bit data size, 24+8-bit timestamp, 24-bit stream id),
//! the data, and a 4-byte PreviousTagSize (11 + data size).
//!
//! The reader hands out each tag once its PreviousTagSize has arrived (or the
//! input has ended), with its body a [`Bytes`] slice of the input.

use bytes::{Buf as _, Bytes, BytesMut};

use crate::Error;

/// Size of the FLV file header without any extension.
pub const HEADER_SIZE: usize = 9;
/// Size of a tag header.
pub const TAG_HEADER_SIZE: usize = 11;
/// Size of a PreviousTagSize field.
pub const PREVIOUS_TAG_SIZE_SIZE: usize = 4;
/// The largest data size a tag header can express (24 bits).
pub const MAX_TAG_DATA_SIZE: u32 = 0x00FF_FFFF;

/// The FLV file header.
///
/// Its audio and video flags are what the writer claimed; real files lie
/// (an audio-only upload flagged audio+video, a file with video flagged
/// audio-only), so look at the tags, not at these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The version byte (1 in every file seen).
    pub version: u8,
    /// The "has audio" flag (bit 2 of the flags byte).
    pub has_audio: bool,
    /// The "has video" flag (bit 0 of the flags byte).
    pub has_video: bool,
    /// The whole flags byte, reserved bits included.
    pub flags: u8,
    /// Offset of the first PreviousTagSize: the header's size, 9 in every
    /// file seen; bytes between 9 and this offset are skipped.
    pub data_offset: u32,
}

/// The type of a tag (the low 5 bits of its first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagType {
    /// 8: audio.
    Audio,
    /// 9: video.
    Video,
    /// 18: script data (`onMetaData` and friends, AMF0).
    Script,
    /// Any other value.
    Other(u8),
}

impl TagType {
    /// The type of a tag type number.
    pub fn from_u8(value: u8) -> TagType {
        match value {
            8 => TagType::Audio,
            9 => TagType::Video,
            18 => TagType::Script,
            other => TagType::Other(other),
        }
    }

    /// The tag type number.
    pub fn to_u8(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
            TagType::Other(other) => other,
        }
    }
}

/// One FLV tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Audio, video, script data or other.
    pub tag_type: TagType,
    /// Milliseconds on the reader's 64-bit timeline: the 32-bit tag timestamp
    /// (24 bits plus the extended byte) unwrapped across the 32-bit wrap
    /// (each tag is placed within ±2^31 ms of the one before it, so a
    /// timestamp that goes back a little stays a step back, and one that wraps
    /// continues forward). Negative if a stream steps back before its start.
    pub timestamp: i64,
    /// The 32-bit timestamp as written in the tag header.
    pub raw_timestamp: u32,
    /// The stream id (24 bits, 0 in every file seen).
    pub stream_id: u32,
    /// The filter bit: the body is encrypted (Flash Access) and not parsed by
    /// the frame view.
    pub encrypted: bool,
    /// Offset of the tag header in the input (the body starts 11 bytes later).
    pub offset: u64,
    /// The tag data: a slice of the input, no copy.
    pub body: Bytes,
}

impl Tag {
    /// Offset of the body (tag data) in the input: `offset + 11`.
    pub fn body_offset(&self) -> u64 {
        self.offset + TAG_HEADER_SIZE as u64
    }
}

/// Why a range of the input was skipped when resynchronising.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A tag header that cannot start a tag (reserved bits, type other than
    /// 8/9/18, size above the limit, non-zero stream id).
    InvalidTagHeader,
    /// A tag whose PreviousTagSize did not match and which was not followed by
    /// a plausible tag header: its size field was wrong.
    PreviousTagSizeMismatch,
}

/// What a [`Reader`] produces.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReadEvent {
    /// The file header, once, first.
    Header(Header),
    /// A tag.
    Tag(Tag),
    /// With [`ReaderOptions::resync`]: `len` bytes from `offset` were skipped to
    /// find the next plausible tag.
    Skipped {
        /// Offset of the first skipped byte.
        offset: u64,
        /// Number of bytes skipped.
        len: u64,
        /// Why the range was skipped.
        reason: SkipReason,
    },
}

/// How a [`Reader`] treats the input.
///
/// ```
/// let options = flv::ReaderOptions::default().strict(true).max_tag_size(1 << 20);
/// assert!(options.is_strict());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReaderOptions {
    strict: bool,
    resync: bool,
    max_tag_size: u32,
    expect_header: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            strict: false,
            resync: false,
            max_tag_size: MAX_TAG_DATA_SIZE,
            expect_header: true,
        }
    }
}

impl ReaderOptions {
    /// Strict mode (default off, lenient): every PreviousTagSize must equal
    /// 11 + the size of the tag before it (0 before the first tag), the
    /// header's data offset must be at least 9, and tag headers must have
    /// the reserved bits clear and type 8, 9 or 18. Lenient mode ignores
    /// PreviousTagSize (many muxers get it wrong), assumes 9 for a smaller data
    /// offset, and reports other tag types as [`TagType::Other`].
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Resynchronise after a corrupt tag (default off): instead of an error,
    /// scan for the next plausible tag header (type 8/9/18, reserved bits
    /// clear, stream id 0, size within the limit, and its own PreviousTagSize
    /// matching) and report the skipped range as [`ReadEvent::Skipped`].
    ///
    /// A tag is corrupt when its header is implausible, or when its
    /// PreviousTagSize does not match and the bytes after it are not a
    /// plausible tag header (in strict mode: whenever it does not match).
    /// A truncated last tag is still an error. With resync on, a tag is
    /// delivered once the header of the tag after it has arrived (or the input
    /// has ended).
    pub fn resync(mut self, resync: bool) -> Self {
        self.resync = resync;
        self
    }

    /// Largest tag data size accepted (default and maximum 16,777,215, the most
    /// the 24-bit field can say). A larger tag is an error
    /// ([`Error::TagTooLarge`]) or, with [`resync`](Self::resync), corrupt.
    /// The reader buffers at most one tag plus 15 bytes beyond what the caller
    /// pushes and has not yet pulled.
    pub fn max_tag_size(mut self, max_tag_size: u32) -> Self {
        self.max_tag_size = max_tag_size.min(MAX_TAG_DATA_SIZE);
        self
    }

    /// Whether the input starts with the FLV file header (default true). Set
    /// false for a stream of tags without it, such as tags cut out of a file:
    /// the input then starts at a tag header (no PreviousTagSize0).
    pub fn expect_header(mut self, expect_header: bool) -> Self {
        self.expect_header = expect_header;
        self
    }

    /// See [`strict`](Self::strict).
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// See [`resync`](Self::resync).
    pub fn is_resync(&self) -> bool {
        self.resync
    }

    /// See [`max_tag_size`](Self::max_tag_size).
    pub fn get_max_tag_size(&self) -> u32 {
        self.max_tag_size
    }

    /// See [`expect_header`](Self::expect_header).
    pub fn is_expect_header(&self) -> bool {
        self.expect_header
    }
}

/// Unwraps 32-bit millisecond timestamps onto a 64-bit timeline.
///
/// Each timestamp is placed within ±2^31 ms of the previous one.
///
/// ```
/// let mut timeline = flv::Timeline::new();
/// assert_eq!(timeline.extend(0xFFFF_FFF0), 0xFFFF_FFF0);
/// assert_eq!(timeline.extend(0x10), 0x1_0000_0010); // wrapped forward
/// assert_eq!(timeline.extend(0xFFFF_FFFF), 0xFFFF_FFFF); // a step back across the wrap
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    last: Option<(u32, i64)>,
}

impl Timeline {
    /// A timeline that places its first timestamp as is.
    pub fn new() -> Timeline {
        Timeline { last: None }
    }

    /// The 64-bit position of a 32-bit timestamp.
    pub fn extend(&mut self, raw: u32) -> i64 {
        let extended = match self.last {
            None => i64::from(raw),
            Some((last_raw, last)) => {
                last.saturating_add(i64::from(raw.wrapping_sub(last_raw) as i32))
            }
        };
        self.last = Some((raw, extended));
        extended
    }
}

/// The bytes not yet consumed.
#[derive(Debug)]
enum Buf {
    /// A whole input (or one pushed [`Bytes`]): consumed by advancing, sliced without copy.
    Shared(Bytes),
    /// Pushed pieces, appended.
    Owned(BytesMut),
}

impl Buf {
    fn chunk(&self) -> &[u8] {
        match self {
            Buf::Shared(b) => b,
            Buf::Owned(b) => b,
        }
    }

    fn len(&self) -> usize {
        self.chunk().len()
    }

    fn advance(&mut self, n: usize) {
        match self {
            Buf::Shared(b) => b.advance(n),
            Buf::Owned(b) => b.advance(n),
        }
    }

    /// Consumes `total` bytes and returns `start..start + len` of them.
    fn take(&mut self, total: usize, start: usize, len: usize) -> Bytes {
        match self {
            Buf::Shared(b) => {
                let out = b.slice(start..start + len);
                b.advance(total);
                out
            }
            Buf::Owned(b) => {
                let mut out = b.split_to(total).freeze();
                out.advance(start);
                out.truncate(len);
                out
            }
        }
    }

    fn push(&mut self, data: &[u8]) {
        match self {
            Buf::Owned(b) => b.extend_from_slice(data),
            Buf::Shared(b) if b.is_empty() => *self = Buf::Owned(BytesMut::from(data)),
            Buf::Shared(b) => {
                let mut owned = BytesMut::with_capacity(b.len() + data.len());
                owned.extend_from_slice(b);
                owned.extend_from_slice(data);
                *self = Buf::Owned(owned);
            }
        }
    }

    fn push_bytes(&mut self, data: Bytes) {
        if self.len() == 0 {
            *self = Buf::Shared(data);
        } else {
            self.push(&data);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the 9-byte file header.
    FileHeader,
    /// Skipping the bytes between 9 and the data offset.
    SkipHeader { remaining: u64 },
    /// Waiting for PreviousTagSize0.
    FirstPreviousTagSize,
    /// Waiting for a whole tag and its PreviousTagSize.
    Tag,
    /// Scanning for a plausible tag header; the skipped range starts at `start`.
    Resync { start: u64, reason: SkipReason },
    /// End of input reached and reported.
    Done,
}

/// The sans-IO FLV demuxer: push bytes in, pull [`ReadEvent`]s out.
///
/// ```
/// use flv::{ReadEvent, Reader, ReaderOptions, TagType};
///
/// // A header, then one script tag with a 3-byte body, pushed in two pieces.
/// let file = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\
///              \x12\x00\x00\x03\x00\x00\x07\x00\x00\x00\x00abc\x00\x00\x00\x0e";
/// let mut reader = Reader::new(ReaderOptions::default());
/// reader.push(&file[..20]);
/// assert!(matches!(reader.next_event()?, Some(ReadEvent::Header(h)) if h.has_audio && h.has_video));
/// assert_eq!(reader.next_event()?, None); // needs more bytes
/// reader.push(&file[20..]);
/// let Some(ReadEvent::Tag(tag)) = reader.next_event()? else { panic!() };
/// assert_eq!((tag.tag_type, tag.timestamp, tag.offset, &tag.body[..]), (TagType::Script, 7, 13, &b"abc"[..]));
/// reader.finish();
/// assert_eq!(reader.next_event()?, None); // the end, cleanly
/// # Ok::<(), flv::Error>(())
/// ```
///
/// A truncated input gives every complete tag, then [`Error::Truncated`]
/// naming the offset of the partial item, once [`finish`](Reader::finish)
/// says no more bytes will come. Errors are final: the reader returns the
/// same error from then on.
#[derive(Debug)]
pub struct Reader {
    options: ReaderOptions,
    buf: Buf,
    /// Offset of the first byte of `buf` in the input.
    pos: u64,
    state: State,
    timeline: Timeline,
    finished: bool,
    error: Option<Error>,
}

impl Reader {
    /// A reader that will be fed with [`push`](Reader::push) or [`push_bytes`](Reader::push_bytes).
    pub fn new(options: ReaderOptions) -> Reader {
        Reader {
            options,
            buf: Buf::Shared(Bytes::new()),
            pos: 0,
            state: if options.expect_header {
                State::FileHeader
            } else {
                State::Tag
            },
            timeline: Timeline::new(),
            finished: false,
            error: None,
        }
    }

    /// A reader over a whole input, already [`finish`](Reader::finish)ed: tag
    /// bodies are slices of `data`, never copies.
    pub fn from_bytes(data: Bytes, options: ReaderOptions) -> Reader {
        let mut reader = Reader::new(options);
        reader.buf = Buf::Shared(data);
        reader.finished = true;
        reader
    }

    /// Appends input (copied into the reader's buffer).
    ///
    /// Ignored after [`finish`](Reader::finish).
    pub fn push(&mut self, data: &[u8]) {
        if !self.finished {
            self.buf.push(data);
        }
    }

    /// Appends input; when nothing is buffered it is kept as is (no copy), so
    /// tag bodies entirely inside it are slices of it.
    ///
    /// Ignored after [`finish`](Reader::finish).
    pub fn push_bytes(&mut self, data: Bytes) {
        if !self.finished {
            self.buf.push_bytes(data);
        }
    }

    /// Says that the input has ended: from now on [`next_event`](Reader::next_event)
    /// delivers what remains, then [`Error::Truncated`] if the input stops
    /// inside a header, tag or PreviousTagSize, then `Ok(None)`.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Whether [`finish`](Reader::finish) was called and everything has been delivered.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Offset in the input of the next byte to be read.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes buffered and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The options this reader was made with.
    pub fn options(&self) -> &ReaderOptions {
        &self.options
    }

    /// The next event: `Ok(None)` means more input is needed (or, after
    /// [`finish`](Reader::finish), that the input is done).
    pub fn next_event(&mut self) -> Result<Option<ReadEvent>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        match self.step() {
            Ok(event) => Ok(event),
            Err(error) => {
                self.error = Some(error.clone());
                Err(error)
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.advance(n);
        self.pos += n as u64;
    }

    fn truncated(&self, what: &'static str, needed: usize) -> Error {
        Error::Truncated {
            what,
            offset: self.pos,
            needed: (needed - self.buf.len()) as u64,
        }
    }

    fn step(&mut self) -> Result<Option<ReadEvent>, Error> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::FileHeader => {
                    let data = self.buf.chunk();
                    if data.len() < HEADER_SIZE {
                        if !self.finished {
                            return Ok(None);
                        }
                        if data.is_empty() {
                            self.state = State::Done;
                            return Err(self.truncated("FLV header", HEADER_SIZE));
                        }
                        // A short input that is not FLV at all says so.
                        let sig = [b'F', b'L', b'V'];
                        if data.iter().zip(sig).any(|(a, b)| *a != b) {
                            let mut found = [0; 3];
                            for (dst, src) in found.iter_mut().zip(data) {
                                *dst = *src;
                            }
                            return Err(Error::NotFlv { offset: 0, found });
                        }
                        return Err(self.truncated("FLV header", HEADER_SIZE));
                    }
                    if &data[..3] != b"FLV" {
                        return Err(Error::NotFlv {
                            offset: self.pos,
                            found: [data[0], data[1], data[2]],
                        });
                    }
                    let flags = data[4];
                    let data_offset = u32::from_be_bytes([data[5], data[6], data[7], data[8]]);
                    let header = Header {
                        version: data[3],
                        has_audio: flags & 0x04 != 0,
                        has_video: flags & 0x01 != 0,
                        flags,
                        data_offset,
                    };
                    if data_offset < HEADER_SIZE as u32 && self.options.strict {
                        return Err(Error::DataOffset {
                            offset: self.pos + 5,
                            data_offset,
                        });
                    }
                    self.consume(HEADER_SIZE);
                    let extra = u64::from(data_offset.saturating_sub(HEADER_SIZE as u32));
                    self.state = State::SkipHeader { remaining: extra };
                    return Ok(Some(ReadEvent::Header(header)));
                }
                State::SkipHeader { remaining } => {
                    let n = remaining.min(self.buf.len() as u64);
                    self.consume(n as usize);
                    let remaining = remaining - n;
                    if remaining > 0 {
                        if self.finished {
                            self.state = State::Done;
                            return Err(Error::Truncated {
                                what: "FLV header",
                                offset: self.pos,
                                needed: remaining,
                            });
                        }
                        self.state = State::SkipHeader { remaining };
                        return Ok(None);
                    }
                    self.state = State::FirstPreviousTagSize;
                }
                State::FirstPreviousTagSize => {
                    let data = self.buf.chunk();
                    if data.len() < PREVIOUS_TAG_SIZE_SIZE {
                        if !self.finished {
                            return Ok(None);
                        }
                        if data.is_empty() {
                            // A header and nothing else: an empty file.
                            self.state = State::Done;
                            return Ok(None);
                        }
                        return Err(self.truncated("previous tag size", PREVIOUS_TAG_SIZE_SIZE));
                    }
                    let found = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                    if found != 0 && self.options.strict && !self.options.resync {
                        return Err(Error::PreviousTagSize {
                            offset: self.pos,
                            expected: 0,
                            found,
                        });
                    }
                    self.consume(PREVIOUS_TAG_SIZE_SIZE);
                    self.state = State::Tag;
                }
                State::Tag => return self.read_tag(),
                State::Resync { start, reason } => return self.scan(start, reason),
            }
        }
    }

    /// Whether `header` (11 bytes) can start a tag; `scanning` adds the checks
    /// that only a resync can afford (stream id 0, non-empty).
    fn plausible(&self, header: &[u8], scanning: bool) -> bool {
        let first = header[0];
        let size = u32::from_be_bytes([0, header[1], header[2], header[3]]);
        if size > self.options.max_tag_size {
            return false;
        }
        let typed = first & 0xC0 == 0 && matches!(first & 0x1F, 8 | 9 | 18);
        if scanning {
            typed && size > 0 && header[8..11] == [0, 0, 0]
        } else {
            typed || !(self.options.strict || self.options.resync)
        }
    }

    fn read_tag(&mut self) -> Result<Option<ReadEvent>, Error> {
        let data = self.buf.chunk();
        if data.len() < TAG_HEADER_SIZE {
            if !self.finished {
                return Ok(None);
            }
            if data.is_empty() {
                self.state = State::Done;
                return Ok(None);
            }
            return Err(self.truncated("tag header", TAG_HEADER_SIZE));
        }
        let first = data[0];
        let size = u32::from_be_bytes([0, data[1], data[2], data[3]]);
        if !self.plausible(&data[..TAG_HEADER_SIZE], false) {
            if self.options.resync {
                return self.start_resync(SkipReason::InvalidTagHeader);
            }
            if size > self.options.max_tag_size {
                return Err(Error::TagTooLarge {
                    offset: self.pos,
                    size,
                    limit: self.options.max_tag_size,
                });
            }
            return Err(Error::InvalidTagHeader {
                offset: self.pos,
                first_byte: first,
            });
        }
        let tag_end = TAG_HEADER_SIZE + size as usize;
        let total = tag_end + PREVIOUS_TAG_SIZE_SIZE;
        // With resync, a mismatching PreviousTagSize is judged by the header after it.
        let wanted = if self.options.resync {
            total + TAG_HEADER_SIZE
        } else {
            total
        };
        if data.len() < wanted && !self.finished {
            return Ok(None);
        }
        if data.len() < tag_end {
            return Err(self.truncated("tag body", tag_end));
        }
        let mut consumed = total.min(data.len());
        let mut trailing_error = None;
        if data.len() < total {
            // The input ends after the body, inside or before its PreviousTagSize.
            consumed = data.len();
            if self.options.strict && data.len() > tag_end {
                trailing_error = Some(Error::Truncated {
                    what: "previous tag size",
                    offset: self.pos + tag_end as u64,
                    needed: (total - data.len()) as u64,
                });
            }
        } else if self.options.strict || self.options.resync {
            // Lenient mode ignores the PreviousTagSize, so it is not read: it
            // lies a whole body ahead, and touching it first costs a cache
            // miss per tag on a file larger than the cache (9% of an FLV ->
            // TS remux in `benches/hls.rs`); the body's reader brings it in.
            let found = u32::from_be_bytes([
                data[tag_end],
                data[tag_end + 1],
                data[tag_end + 2],
                data[tag_end + 3],
            ]);
            let expected = size + TAG_HEADER_SIZE as u32;
            if found != expected {
                if self.options.resync {
                    let next = &data[total..data.len().min(total + TAG_HEADER_SIZE)];
                    let next_ok = next.is_empty()
                        || (next.len() == TAG_HEADER_SIZE && self.plausible(next, false));
                    if self.options.strict || !next_ok {
                        return self.start_resync(SkipReason::PreviousTagSizeMismatch);
                    }
                } else if self.options.strict {
                    return Err(Error::PreviousTagSize {
                        offset: self.pos + tag_end as u64,
                        expected,
                        found,
                    });
                }
            }
        }
        let raw_timestamp = u32::from_be_bytes([data[7], data[4], data[5], data[6]]);
        let stream_id = u32::from_be_bytes([0, data[8], data[9], data[10]]);
        let offset = self.pos;
        let body = self.buf.take(consumed, TAG_HEADER_SIZE, size as usize);
        self.pos += consumed as u64;
        if let Some(error) = trailing_error {
            self.error = Some(error);
        }
        Ok(Some(ReadEvent::Tag(Tag {
            tag_type: TagType::from_u8(first & 0x1F),
            timestamp: self.timeline.extend(raw_timestamp),
            raw_timestamp,
            stream_id,
            encrypted: first & 0x20 != 0,
            offset,
            body,
        })))
    }

    fn start_resync(&mut self, reason: SkipReason) -> Result<Option<ReadEvent>, Error> {
        let start = self.pos;
        self.consume(1);
        self.state = State::Resync { start, reason };
        self.scan(start, reason)
    }

    /// Drops bytes until one can start a plausible tag.
    fn scan(&mut self, start: u64, reason: SkipReason) -> Result<Option<ReadEvent>, Error> {
        loop {
            let data = self.buf.chunk();
            // Skip quickly to a byte that can be a tag type.
            let skip = data
                .iter()
                .position(|b| matches!(b, 8 | 9 | 18 | 0x28 | 0x29 | 0x32))
                .unwrap_or(data.len());
            if skip > 0 {
                self.consume(skip);
                continue;
            }
            let data = self.buf.chunk();
            if data.len() < TAG_HEADER_SIZE {
                if !self.finished {
                    return Ok(None);
                }
                // Nothing plausible before the end.
                let len = self.pos + data.len() as u64 - start;
                let n = data.len();
                self.consume(n);
                self.state = State::Done;
                return Ok(Some(ReadEvent::Skipped {
                    offset: start,
                    len,
                    reason,
                }));
            }
            let candidate = if self.plausible(&data[..TAG_HEADER_SIZE], true) {
                let size = u32::from_be_bytes([0, data[1], data[2], data[3]]) as usize;
                let tag_end = TAG_HEADER_SIZE + size;
                if data.len() < tag_end + PREVIOUS_TAG_SIZE_SIZE {
                    if !self.finished {
                        return Ok(None);
                    }
                    // At the end: a tag that ends the input (or is cut short) counts.
                    true
                } else {
                    let found = u32::from_be_bytes([
                        data[tag_end],
                        data[tag_end + 1],
                        data[tag_end + 2],
                        data[tag_end + 3],
                    ]);
                    found as usize == tag_end
                }
            } else {
                false
            };
            if candidate {
                self.state = State::Tag;
                return Ok(Some(ReadEvent::Skipped {
                    offset: start,
                    len: self.pos - start,
                    reason,
                }));
            }
            self.consume(1);
        }
    }
}

/// Iterator over the events of a whole input; see [`read_all`].
#[derive(Debug)]
pub struct ReadAll {
    reader: Reader,
    done: bool,
}

impl Iterator for ReadAll {
    type Item = Result<ReadEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_event() {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl ReadAll {
    /// The reader underneath (its position, options).
    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

/// The events of a whole FLV file with the default [`ReaderOptions`]; tag
/// bodies are slices of `data`. Ends after the first error.
///
/// ```
/// let file = bytes::Bytes::from_static(b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00\
///     \x09\x00\x00\x02\x00\x00\x21\x00\x00\x00\x00\x17\x02\x00\x00\x00\x0d");
/// let events: Vec<_> = flv::read_all(file).collect::<Result<_, _>>()?;
/// assert_eq!(events.len(), 2);
/// let flv::ReadEvent::Tag(tag) = &events[1] else { panic!() };
/// assert_eq!((tag.tag_type, tag.timestamp, tag.body.len()), (flv::TagType::Video, 33, 2));
/// # Ok::<(), flv::Error>(())
/// ```
pub fn read_all(data: Bytes) -> ReadAll {
    read_all_with(data, ReaderOptions::default())
}

/// [`read_all`] with the given options.
pub fn read_all_with(data: Bytes, options: ReaderOptions) -> ReadAll {
    ReadAll {
        reader: Reader::from_bytes(data, options),
        done: false,
    }
}
