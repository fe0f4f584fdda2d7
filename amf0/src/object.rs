//! [`Object`]: ordered properties.

use crate::{Str, Value};

/// Ordered key/value pairs: the properties of an object, ECMA array or typed
/// object.
///
/// Order is preserved and duplicate keys are kept as written, so re-encoding
/// is byte-exact. Lookup is linear, which is what AMF's small objects want.
///
/// ```
/// use amf0::{Object, Value};
/// let mut o = Object::new();
/// o.push("app", "live");
/// o.push("fpad", false);
/// o.push("app", "second");
/// assert_eq!(o.get("app").and_then(Value::as_str), Some("live"));
/// assert_eq!(o.len(), 3);
/// let keys: Vec<String> = o.iter().map(|(k, _)| k.to_string()).collect();
/// assert_eq!(keys, ["app", "fpad", "app"]);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Object {
    props: Vec<(Str, Value)>,
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object { props: Vec::new() }
    }

    /// An empty object with room for `n` properties.
    pub fn with_capacity(n: usize) -> Self {
        Object {
            props: Vec::with_capacity(n),
        }
    }

    /// Appends a property (even if the key is already present).
    pub fn push(&mut self, key: impl Into<Str>, value: impl Into<Value>) {
        self.props.push((key.into(), value.into()));
    }

    /// The value of the first property named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.props.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of the first property named `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.props
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The properties in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Str, &Value)> {
        self.props.iter().map(|(k, v)| (k, v))
    }

    /// The properties as a slice of pairs.
    pub fn as_slice(&self) -> &[(Str, Value)] {
        &self.props
    }

    /// Number of properties (duplicates included).
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }
}

impl<K: Into<Str>, V: Into<Value>> FromIterator<(K, V)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Object {
            props: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl<K: Into<Str>, V: Into<Value>> Extend<(K, V)> for Object {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.props
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

impl From<Vec<(Str, Value)>> for Object {
    fn from(props: Vec<(Str, Value)>) -> Self {
        Object { props }
    }
}

impl IntoIterator for Object {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.props.into_iter()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = &'a (Str, Value);
    type IntoIter = std::slice::Iter<'a, (Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.props.iter()
    }
}
