//! Decoding: [`Decoder`], [`decode_all`] and [`decode_all_with`].
//!
//! The decoder is iterative: open containers live on a heap stack whose
//! depth is checked against [`Limits::max_depth`] before each push, so no
//! input can overflow the call stack.

use bytes::Bytes;

use crate::{marker, Error, Limits, Object, Str, Value};

/// Most elements or properties reserved up front for one container; beyond
/// this the vectors grow as real elements arrive.
const MAX_PREALLOC: usize = 64;

/// Decodes AMF0 values one after another from a [`Bytes`] buffer.
///
/// Strings in the decoded values are slices of that buffer (no copy). All
/// offsets in errors are relative to its start.
///
/// ```
/// use amf0::{Decoder, Value};
/// use bytes::Bytes;
///
/// let input = Bytes::from_static(b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\x05");
/// let mut decoder = Decoder::new(input);
/// assert_eq!(decoder.decode_value()?.as_str(), Some("connect"));
/// assert_eq!(decoder.decode_value()?.as_f64(), Some(1.0));
/// assert_eq!(decoder.position(), 19);
/// assert_eq!(decoder.decode_value()?, Value::Null);
/// assert!(decoder.is_empty());
/// # Ok::<(), amf0::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    input: Bytes,
    pos: usize,
    limits: Limits,
    values: usize,
    failed: bool,
}

/// How a container with properties ends up as a value.
enum Keyed {
    Object,
    Ecma(u32),
    Typed(Str),
}

/// An open container.
enum Frame {
    Keyed {
        kind: Keyed,
        properties: Object,
        /// The name of the property whose value is being decoded.
        key: Str,
    },
    Strict {
        items: Vec<Value>,
        remaining: u32,
    },
}

impl Frame {
    fn finish(self) -> Value {
        match self {
            Frame::Keyed {
                kind, properties, ..
            } => match kind {
                Keyed::Object => Value::Object(properties),
                Keyed::Ecma(declared_len) => Value::EcmaArray {
                    declared_len,
                    properties,
                },
                Keyed::Typed(class_name) => Value::TypedObject {
                    class_name,
                    properties,
                },
            },
            Frame::Strict { items, .. } => Value::StrictArray(items),
        }
    }

    fn attach(&mut self, value: Value) {
        match self {
            Frame::Keyed {
                properties, key, ..
            } => properties.push(std::mem::take(key), value),
            Frame::Strict { items, remaining } => {
                items.push(value);
                *remaining = remaining.saturating_sub(1);
            }
        }
    }
}

impl Decoder {
    /// A decoder over `input` with the default [`Limits`].
    pub fn new(input: Bytes) -> Self {
        Decoder::with_limits(input, Limits::DEFAULT)
    }

    /// A decoder over `input` with the given limits.
    pub fn with_limits(input: Bytes, limits: Limits) -> Self {
        Decoder {
            input,
            pos: 0,
            limits,
            values: 0,
            failed: false,
        }
    }

    /// Whether all the input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Offset of the next byte to decode.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The input not yet decoded (a cheap slice).
    pub fn remaining(&self) -> Bytes {
        self.input.slice(self.pos.min(self.input.len())..)
    }

    /// Decodes the next value.
    ///
    /// On error the position is left at the start of the value that failed,
    /// so [`Decoder::remaining`] still holds it.
    pub fn decode_value(&mut self) -> Result<Value, Error> {
        let (start, values) = (self.pos, self.values);
        let result = self.decode_tree();
        if result.is_err() {
            self.pos = start;
            self.values = values;
        }
        result
    }

    fn available(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// `n` bytes as a slice of the input, or `UnexpectedEnd`.
    fn take(&mut self, n: usize) -> Result<Bytes, Error> {
        if n > self.available() {
            return Err(Error::UnexpectedEnd {
                offset: self.pos,
                needed: n,
            });
        }
        let end = self.pos + n; // cannot overflow: n <= input.len() - pos
        let bytes = self.input.slice(self.pos..end);
        self.pos = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let start = self.pos;
        let bytes = self
            .input
            .get(start..)
            .and_then(|rest| rest.get(..N))
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .ok_or(Error::UnexpectedEnd {
                offset: start,
                needed: N,
            })?;
        self.pos = start + N;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take_array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, Error> {
        self.take_array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        self.take_array().map(u32::from_be_bytes)
    }

    fn f64(&mut self) -> Result<f64, Error> {
        self.take_array()
            .map(|b| f64::from_bits(u64::from_be_bytes(b)))
    }

    fn short_str(&mut self) -> Result<Str, Error> {
        let len = self.u16()?;
        self.take(usize::from(len)).map(Str::from_bytes)
    }

    fn long_str(&mut self) -> Result<Str, Error> {
        let len = self.u32()?;
        self.take(usize::try_from(len).unwrap_or(usize::MAX))
            .map(Str::from_bytes)
    }

    /// Decodes one complete value, container or not.
    fn decode_tree(&mut self) -> Result<Value, Error> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let done = match stack.last_mut() {
                None => self.begin_value(&mut stack)?,
                Some(Frame::Strict { remaining: 0, .. }) => stack.pop().map(Frame::finish),
                Some(Frame::Strict { .. }) => self.begin_value(&mut stack)?,
                Some(Frame::Keyed { key, .. }) => {
                    let len = self.u16()?;
                    if len == 0 && self.input.get(self.pos) == Some(&marker::OBJECT_END) {
                        self.pos += 1;
                        stack.pop().map(Frame::finish)
                    } else {
                        // An empty name before any other marker is a property
                        // named "" (FFmpeg would end the object there instead).
                        *key = self.take(usize::from(len)).map(Str::from_bytes)?;
                        self.begin_value(&mut stack)?
                    }
                }
            };
            if let Some(value) = done {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(parent) => parent.attach(value),
                }
            }
        }
    }

    /// Reads a marker and a scalar value (returned), or a container's header
    /// (pushed on `stack`; `None` is returned).
    fn begin_value(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Value>, Error> {
        let offset = self.pos;
        let m = self.u8()?;
        if self.values >= self.limits.max_values {
            return Err(Error::TooManyValues {
                limit: self.limits.max_values,
                offset,
            });
        }
        self.values += 1;
        let is_container = matches!(
            m,
            marker::OBJECT | marker::ECMA_ARRAY | marker::STRICT_ARRAY | marker::TYPED_OBJECT
        );
        if is_container && stack.len() >= self.limits.max_depth {
            return Err(Error::DepthLimit {
                limit: self.limits.max_depth,
                offset,
            });
        }
        let keyed = |kind, properties| Frame::Keyed {
            kind,
            properties,
            key: Str::default(),
        };
        let value = match m {
            marker::NUMBER => Value::Number(self.f64()?),
            marker::BOOLEAN => Value::Boolean(self.u8()? != 0),
            marker::STRING => Value::String(self.short_str()?),
            marker::OBJECT => {
                stack.push(keyed(Keyed::Object, Object::new()));
                return Ok(None);
            }
            marker::NULL => Value::Null,
            marker::UNDEFINED => Value::Undefined,
            marker::REFERENCE => Value::Reference(self.u16()?),
            marker::ECMA_ARRAY => {
                let declared_len = self.u32()?;
                // Each property takes at least 3 bytes (name length, marker).
                let capacity = usize::try_from(declared_len)
                    .unwrap_or(usize::MAX)
                    .min(self.available() / 3)
                    .min(MAX_PREALLOC);
                stack.push(keyed(
                    Keyed::Ecma(declared_len),
                    Object::with_capacity(capacity),
                ));
                return Ok(None);
            }
            marker::STRICT_ARRAY => {
                let count = self.u32()?;
                let count_usize = usize::try_from(count).unwrap_or(usize::MAX);
                // Each element takes at least its marker byte.
                if count_usize > self.available() {
                    return Err(Error::UnexpectedEnd {
                        offset: self.pos,
                        needed: count_usize,
                    });
                }
                stack.push(Frame::Strict {
                    items: Vec::with_capacity(count_usize.min(MAX_PREALLOC)),
                    remaining: count,
                });
                return Ok(None);
            }
            marker::DATE => {
                let millis = self.f64()?;
                let time_zone = self.take_array().map(i16::from_be_bytes)?;
                Value::Date { millis, time_zone }
            }
            marker::LONG_STRING => Value::LongString(self.long_str()?),
            marker::UNSUPPORTED => Value::Unsupported,
            marker::XML_DOCUMENT => Value::XmlDocument(self.long_str()?),
            marker::TYPED_OBJECT => {
                let class_name = self.short_str()?;
                stack.push(keyed(Keyed::Typed(class_name), Object::new()));
                return Ok(None);
            }
            marker::MOVIE_CLIP | marker::RECORD_SET => {
                return Err(Error::ReservedMarker { marker: m, offset })
            }
            marker::OBJECT_END => return Err(Error::UnexpectedObjectEnd { offset }),
            marker::AVMPLUS => return Err(Error::Amf3 { offset }),
            _ => return Err(Error::UnknownMarker { marker: m, offset }),
        };
        Ok(Some(value))
    }
}

impl Iterator for Decoder {
    type Item = Result<Value, Error>;

    /// The next value; `None` at the end of the input and after the first
    /// error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.is_empty() {
            return None;
        }
        let result = self.decode_value();
        self.failed = result.is_err();
        Some(result)
    }
}

impl std::iter::FusedIterator for Decoder {}

/// Decodes every value in `input` with the default [`Limits`].
///
/// ```
/// use amf0::Value;
/// let values = amf0::decode_all(&bytes::Bytes::from_static(b"\x05\x01\x01"))?;
/// assert_eq!(values, [Value::Null, Value::Boolean(true)]);
/// # Ok::<(), amf0::Error>(())
/// ```
pub fn decode_all(input: &Bytes) -> Result<Vec<Value>, Error> {
    decode_all_with(input, &Limits::DEFAULT)
}

/// Decodes every value in `input`; `limits` apply to the input as a whole.
pub fn decode_all_with(input: &Bytes, limits: &Limits) -> Result<Vec<Value>, Error> {
    Decoder::with_limits(input.clone(), *limits).collect()
}
