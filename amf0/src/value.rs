//! [`Value`]: one AMF0 value.

use crate::{marker, Object, Str};

/// One AMF0 value.
///
/// Decoding then encoding reproduces the input byte for byte, with one
/// exception: a [`Boolean`](Value::Boolean) is decoded from any byte (non-zero
/// is `true`, as every peer reads it) and encoded as `0x00` or `0x01`.
///
/// The derived `Clone`, `Debug`, `PartialEq` and `Drop` recurse into nested
/// values; decoded values are at most [`Limits::max_depth`](crate::Limits)
/// deep, so this is bounded. `PartialEq` compares numbers as `f64`
/// (`NaN != NaN`, `0.0 == -0.0`); [`Value::bitwise_eq`] compares their bits.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `0x00`: a double; its bits are preserved exactly (NaN payloads too).
    Number(f64),
    /// `0x01`: any non-zero byte decodes as `true`; encoded as `0x01`/`0x00`.
    Boolean(bool),
    /// `0x02`: a string of at most 65,535 bytes.
    String(Str),
    /// `0x03`: an anonymous object.
    Object(Object),
    /// `0x05`.
    Null,
    /// `0x06`.
    Undefined,
    /// `0x07`: the index of an earlier complex value. Kept as written and
    /// never resolved, so a reference cannot multiply the decoded size.
    Reference(u16),
    /// `0x08`: an associative array.
    EcmaArray {
        /// The count as written. FFmpeg writes the real count, other peers
        /// write 0; decoding does not rely on it (properties run until the
        /// object end), and encoding writes it back unchanged.
        declared_len: u32,
        /// The properties, in order.
        properties: Object,
    },
    /// `0x0A`: a dense array.
    StrictArray(Vec<Value>),
    /// `0x0B`: a date.
    Date {
        /// Milliseconds since 1970-01-01 UTC.
        millis: f64,
        /// Time zone as written (the specification says it should be 0).
        time_zone: i16,
    },
    /// `0x0C`: a string with a 32-bit length.
    LongString(Str),
    /// `0x0D`.
    Unsupported,
    /// `0x0F`: an XML document, as text with a 32-bit length.
    XmlDocument(Str),
    /// `0x10`: an object with a class name.
    TypedObject {
        /// The class name.
        class_name: Str,
        /// The properties, in order.
        properties: Object,
    },
}

impl Value {
    /// A string value: [`Value::String`] if it fits a 16-bit length (65,535
    /// bytes), else [`Value::LongString`].
    ///
    /// ```
    /// use amf0::Value;
    /// assert!(matches!(Value::string("live"), Value::String(_)));
    /// assert!(matches!(Value::string("x".repeat(70_000)), Value::LongString(_)));
    /// ```
    pub fn string(s: impl Into<Str>) -> Value {
        let s = s.into();
        if s.len() <= usize::from(u16::MAX) {
            Value::String(s)
        } else {
            Value::LongString(s)
        }
    }

    /// The type marker this value is encoded with.
    ///
    /// A [`Value::String`] longer than 65,535 bytes cannot be written as one
    /// and is encoded with [`marker::LONG_STRING`]; this returns that marker.
    pub fn marker(&self) -> u8 {
        match self {
            Value::Number(_) => marker::NUMBER,
            Value::Boolean(_) => marker::BOOLEAN,
            Value::String(s) if s.len() > usize::from(u16::MAX) => marker::LONG_STRING,
            Value::String(_) => marker::STRING,
            Value::Object(_) => marker::OBJECT,
            Value::Null => marker::NULL,
            Value::Undefined => marker::UNDEFINED,
            Value::Reference(_) => marker::REFERENCE,
            Value::EcmaArray { .. } => marker::ECMA_ARRAY,
            Value::StrictArray(_) => marker::STRICT_ARRAY,
            Value::Date { .. } => marker::DATE,
            Value::LongString(_) => marker::LONG_STRING,
            Value::Unsupported => marker::UNSUPPORTED,
            Value::XmlDocument(_) => marker::XML_DOCUMENT,
            Value::TypedObject { .. } => marker::TYPED_OBJECT,
        }
    }

    /// The text of a [`String`](Value::String) or
    /// [`LongString`](Value::LongString), if it is valid UTF-8.
    ///
    /// An [`XmlDocument`](Value::XmlDocument) is not a string here; use
    /// [`Value::as_amf_str`] to get its bytes.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::LongString(s) => s.as_str(),
            _ => None,
        }
    }

    /// The bytes of a [`String`](Value::String),
    /// [`LongString`](Value::LongString) or [`XmlDocument`](Value::XmlDocument).
    pub fn as_amf_str(&self) -> Option<&Str> {
        match self {
            Value::String(s) | Value::LongString(s) | Value::XmlDocument(s) => Some(s),
            _ => None,
        }
    }

    /// The number of a [`Number`](Value::Number).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The value of a [`Boolean`](Value::Boolean).
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    }

    /// The properties of an [`Object`](Value::Object), an
    /// [`EcmaArray`](Value::EcmaArray) or a [`TypedObject`](Value::TypedObject).
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o)
            | Value::EcmaArray { properties: o, .. }
            | Value::TypedObject { properties: o, .. } => Some(o),
            _ => None,
        }
    }

    /// The elements of a [`StrictArray`](Value::StrictArray).
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::StrictArray(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is [`Null`](Value::Null) or [`Undefined`](Value::Undefined).
    pub fn is_null_or_undefined(&self) -> bool {
        matches!(self, Value::Null | Value::Undefined)
    }

    /// The first property named `key`, if this value has properties (see
    /// [`Value::as_object`]).
    ///
    /// ```
    /// use amf0::{Object, Value};
    /// let v = Value::Object(Object::from_iter([("width", 1280.0)]));
    /// assert_eq!(v.get("width").and_then(Value::as_f64), Some(1280.0));
    /// assert_eq!(v.get("height"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// Equality that compares numbers (and dates) by their bits: `NaN`
    /// equals the same `NaN`, `0.0` differs from `-0.0`. This is the
    /// equality that decode/encode round trips preserve.
    ///
    /// ```
    /// use amf0::Value;
    /// assert!(Value::Number(f64::NAN).bitwise_eq(&Value::Number(f64::NAN)));
    /// assert!(!Value::Number(0.0).bitwise_eq(&Value::Number(-0.0)));
    /// ```
    pub fn bitwise_eq(&self, other: &Value) -> bool {
        // Iterative, like the decoder and encoder, so that hand-built deep
        // values compare without deep recursion.
        let mut pending: Vec<(&Value, &Value)> = vec![(self, other)];
        while let Some(pair) = pending.pop() {
            let same = match pair {
                (Value::Number(a), Value::Number(b)) => a.to_bits() == b.to_bits(),
                (
                    Value::Date {
                        millis: a,
                        time_zone: ta,
                    },
                    Value::Date {
                        millis: b,
                        time_zone: tb,
                    },
                ) => a.to_bits() == b.to_bits() && ta == tb,
                (Value::Object(a), Value::Object(b)) => push_props(&mut pending, a, b),
                (
                    Value::EcmaArray {
                        declared_len: la,
                        properties: a,
                    },
                    Value::EcmaArray {
                        declared_len: lb,
                        properties: b,
                    },
                ) => la == lb && push_props(&mut pending, a, b),
                (
                    Value::TypedObject {
                        class_name: ca,
                        properties: a,
                    },
                    Value::TypedObject {
                        class_name: cb,
                        properties: b,
                    },
                ) => ca == cb && push_props(&mut pending, a, b),
                (Value::StrictArray(a), Value::StrictArray(b)) => {
                    pending.extend(a.iter().zip(b));
                    a.len() == b.len()
                }
                // Scalars, or different kinds (derived `==` then compares
                // only the discriminants, without recursing).
                (a, b) => a == b,
            };
            if !same {
                return false;
            }
        }
        true
    }
}

/// Queues the values of two property lists for comparison; whether their
/// lengths and keys match.
fn push_props<'a>(pending: &mut Vec<(&'a Value, &'a Value)>, a: &'a Object, b: &'a Object) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
        if ka != kb {
            return false;
        }
        pending.push((va, vb));
    }
    true
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Boolean(b)
    }
}

impl From<&str> for Value {
    /// See [`Value::string`].
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    /// See [`Value::string`].
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<Str> for Value {
    /// See [`Value::string`].
    fn from(s: Str) -> Value {
        Value::string(s)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Value {
        Value::Object(o)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::StrictArray(items)
    }
}
