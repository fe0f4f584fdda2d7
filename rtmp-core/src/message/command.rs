//! Command (20/17) and data (18/15) messages: AMF0 values with a fixed leading shape.

use amf0::{Str, Value};
use bytes::{Bytes, BytesMut};

use super::MessageError;

/// A command message: `name`, transaction id, command object, then arguments.
///
/// `connect`, `createStream`, `publish`, `play`, `_result`, `onStatus`, ... all have
/// this shape. A command without a transaction id or object (some encoders send
/// bare `onStatus`) decodes with transaction id 0 and a `Null` object.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The command name.
    pub name: Str,
    /// The transaction id the answer must carry.
    pub transaction_id: f64,
    /// The command object (`Null` for most commands but `connect` and its answer).
    pub object: Value,
    /// The remaining values.
    pub arguments: Vec<Value>,
}

impl Command {
    /// A command with a `Null` command object.
    pub fn new(name: impl Into<Str>, transaction_id: f64, arguments: Vec<Value>) -> Command {
        Command {
            name: name.into(),
            transaction_id,
            object: Value::Null,
            arguments,
        }
    }

    /// Parses an AMF0 command body.
    pub fn parse(body: Bytes, limits: &amf0::Limits) -> Result<Command, MessageError> {
        let mut values = amf0::decode_all_with(&body, limits)?.into_iter();
        let name = match values.next() {
            Some(Value::String(name)) | Some(Value::LongString(name)) => name,
            Some(other) => {
                return Err(MessageError::CommandName {
                    found: value_kind(&other),
                })
            }
            None => return Err(MessageError::CommandName { found: "nothing" }),
        };
        let transaction_id = values.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let object = values.next().unwrap_or(Value::Null);
        Ok(Command {
            name,
            transaction_id,
            object,
            arguments: values.collect(),
        })
    }

    /// The command name as text (`None` if it is not UTF-8).
    pub fn name(&self) -> Option<&str> {
        self.name.as_str()
    }

    /// The `index`-th argument after the command object.
    pub fn argument(&self, index: usize) -> Option<&Value> {
        self.arguments.get(index)
    }

    /// Serializes the command as an AMF0 body.
    pub fn to_payload(&self) -> Bytes {
        let name = Value::String(self.name.clone());
        let id = Value::Number(self.transaction_id);
        let mut out = BytesMut::with_capacity(
            name.encoded_len()
                + id.encoded_len()
                + self.object.encoded_len()
                + self.arguments.iter().map(Value::encoded_len).sum::<usize>(),
        );
        amf0::encode_all(
            [&name, &id, &self.object]
                .into_iter()
                .chain(&self.arguments),
            &mut out,
        );
        out.freeze()
    }
}

/// A data message: a list of AMF0 values, usually a handler name first
/// (`@setDataFrame`, `onMetaData`, `onTextData`, `onCuePoint`, ...).
///
/// The original body is kept, so a relay can forward it byte for byte.
#[derive(Clone, Debug, PartialEq)]
pub struct DataMessage {
    /// The decoded values.
    pub values: Vec<Value>,
    /// The AMF0 body as received (for an AMF3-framed message, after the format byte).
    pub body: Bytes,
}

impl DataMessage {
    /// Parses an AMF0 data body.
    pub fn parse(body: Bytes, limits: &amf0::Limits) -> Result<DataMessage, MessageError> {
        let values = amf0::decode_all_with(&body, limits)?;
        Ok(DataMessage { values, body })
    }

    /// Builds a data message from values.
    pub fn from_values(values: Vec<Value>) -> DataMessage {
        let mut out = BytesMut::with_capacity(values.iter().map(Value::encoded_len).sum());
        amf0::encode_all(&values, &mut out);
        DataMessage {
            values,
            body: out.freeze(),
        }
    }

    /// The handler name, the first value when it is a string.
    pub fn handler(&self) -> Option<&str> {
        self.values.first().and_then(Value::as_str)
    }

    /// Whether this is metadata: `onMetaData`, or `@setDataFrame` followed by `onMetaData`.
    pub fn is_metadata(&self) -> bool {
        match self.handler() {
            Some("onMetaData") => true,
            Some("@setDataFrame") => {
                self.values.get(1).and_then(Value::as_str) == Some("onMetaData")
            }
            _ => false,
        }
    }

    /// The body without a leading `@setDataFrame` string: what a player must receive
    /// (publishers send `@setDataFrame, onMetaData, {...}`; players get
    /// `onMetaData, {...}`).
    pub fn without_set_data_frame(&self) -> Bytes {
        const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";
        if self.body.starts_with(SET_DATA_FRAME) {
            self.body.slice(SET_DATA_FRAME.len()..)
        } else {
            self.body.clone()
        }
    }

    /// The body to send.
    pub fn to_payload(&self) -> Bytes {
        self.body.clone()
    }
}

/// Strips the format byte of an AMF3-framed command or data message (types 17, 15).
///
/// Flash sends these with a zero format byte followed by plain AMF0; that is the only
/// form any live peer uses, and the only one accepted.
pub(super) fn strip_amf3_format(type_id: u8, payload: &Bytes) -> Result<Bytes, MessageError> {
    match payload.first() {
        Some(0) => Ok(payload.slice(1..)),
        Some(&format) => Err(MessageError::Amf3Body { type_id, format }),
        None => Err(MessageError::TooShort {
            type_id,
            needed: 1,
            got: 0,
        }),
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Number(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Object(_) => "an object",
        Value::Null => "null",
        Value::Undefined => "undefined",
        Value::EcmaArray { .. } => "an ECMA array",
        Value::StrictArray(_) => "a strict array",
        _ => "another value",
    }
}
