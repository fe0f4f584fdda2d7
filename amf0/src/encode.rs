//! Encoding: [`Value::encode`], [`Value::encoded_len`] and [`encode_all`].
//!
//! The encoder walks the tree with an explicit stack, so even a value built
//! by hand with very deep nesting encodes without recursion.

use bytes::{BufMut, BytesMut};

use crate::{marker, Object, Str, Value};

/// Where encoded bytes go: a buffer, or a counter for [`Value::encoded_len`].
trait Sink {
    fn put_u8(&mut self, b: u8);
    fn put_slice(&mut self, s: &[u8]);
}

impl Sink for BytesMut {
    fn put_u8(&mut self, b: u8) {
        BufMut::put_u8(self, b);
    }
    fn put_slice(&mut self, s: &[u8]) {
        BufMut::put_slice(self, s);
    }
}

struct Counter(usize);

impl Sink for Counter {
    fn put_u8(&mut self, _: u8) {
        self.0 = self.0.saturating_add(1);
    }
    fn put_slice(&mut self, s: &[u8]) {
        self.0 = self.0.saturating_add(s.len());
    }
}

/// The rest of a container still to be written.
enum Frame<'a> {
    Props(std::slice::Iter<'a, (Str, Value)>),
    Items(std::slice::Iter<'a, Value>),
}

const OBJECT_END: [u8; 3] = [0, 0, marker::OBJECT_END];

/// Writes a 16-bit length and the bytes. Only the first 65,535 bytes of a
/// longer string fit; no valid AMF0 holds more in this position.
fn put_short<S: Sink>(out: &mut S, s: &Str) {
    let bytes = s.as_bytes();
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.put_slice(&len.to_be_bytes());
    out.put_slice(&bytes[..usize::from(len)]);
}

/// Writes a 32-bit length and the bytes (the first 4 GiB - 1 of a longer one).
fn put_long<S: Sink>(out: &mut S, s: &Str) {
    let bytes = s.as_bytes();
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.put_slice(&len.to_be_bytes());
    let n = usize::try_from(len).unwrap_or(bytes.len()).min(bytes.len());
    out.put_slice(&bytes[..n]);
}

/// Writes the marker and everything up to a container's first child; returns
/// the container's children, if any.
fn put_head<'a, S: Sink>(out: &mut S, value: &'a Value) -> Option<Frame<'a>> {
    out.put_u8(value.marker());
    match value {
        Value::Number(n) => out.put_slice(&n.to_bits().to_be_bytes()),
        Value::Boolean(b) => out.put_u8(u8::from(*b)),
        Value::String(s) if s.len() > usize::from(u16::MAX) => put_long(out, s),
        Value::String(s) => put_short(out, s),
        Value::Object(o) => return Some(props(o)),
        Value::Null | Value::Undefined | Value::Unsupported => {}
        Value::Reference(i) => out.put_slice(&i.to_be_bytes()),
        Value::EcmaArray {
            declared_len,
            properties,
        } => {
            out.put_slice(&declared_len.to_be_bytes());
            return Some(props(properties));
        }
        Value::StrictArray(items) => {
            let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
            out.put_slice(&len.to_be_bytes());
            let n = usize::try_from(len).unwrap_or(items.len()).min(items.len());
            return Some(Frame::Items(items[..n].iter()));
        }
        Value::Date { millis, time_zone } => {
            out.put_slice(&millis.to_bits().to_be_bytes());
            out.put_slice(&time_zone.to_be_bytes());
        }
        Value::LongString(s) | Value::XmlDocument(s) => put_long(out, s),
        Value::TypedObject {
            class_name,
            properties,
        } => {
            put_short(out, class_name);
            return Some(props(properties));
        }
    }
    None
}

fn props(o: &Object) -> Frame<'_> {
    Frame::Props(o.as_slice().iter())
}

fn write<S: Sink>(value: &Value, out: &mut S) {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        if let Some(v) = next.take() {
            if let Some(frame) = put_head(out, v) {
                stack.push(frame);
            }
        }
        match stack.last_mut() {
            None => return,
            Some(Frame::Props(it)) => match it.next() {
                Some((key, v)) => {
                    put_short(out, key);
                    next = Some(v);
                }
                None => {
                    out.put_slice(&OBJECT_END);
                    stack.pop();
                }
            },
            Some(Frame::Items(it)) => match it.next() {
                Some(v) => next = Some(v),
                None => {
                    stack.pop();
                }
            },
        }
    }
}

impl Value {
    /// Appends the AMF0 encoding of this value to `out`.
    ///
    /// Decoded values re-encode to the bytes they were decoded from (see
    /// [`Value`] for the one Boolean exception). For values built by hand,
    /// what AMF0 cannot hold is written as follows: a [`Value::String`] over
    /// 65,535 bytes is written as a long string (`0x0C`); an object key or
    /// class name over 65,535 bytes is cut to its first 65,535 bytes; a long
    /// string or strict array over `u32::MAX` bytes or elements is cut to
    /// `u32::MAX`.
    ///
    /// ```
    /// use amf0::Value;
    /// let mut out = bytes::BytesMut::new();
    /// Value::from("hi").encode(&mut out);
    /// assert_eq!(&out[..], b"\x02\x00\x02hi");
    /// ```
    pub fn encode(&self, out: &mut BytesMut) {
        write(self, out);
    }

    /// The number of bytes [`Value::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        let mut counter = Counter(0);
        write(self, &mut counter);
        counter.0
    }
}

/// Appends the encodings of `values`, one after another, to `out`.
///
/// ```
/// use amf0::Value;
/// let mut out = bytes::BytesMut::new();
/// amf0::encode_all(&[Value::Null, Value::Boolean(true)], &mut out);
/// assert_eq!(&out[..], [0x05, 0x01, 0x01]);
/// ```
pub fn encode_all<'a>(values: impl IntoIterator<Item = &'a Value>, out: &mut BytesMut) {
    for value in values {
        value.encode(out);
    }
}
