//! AMF0 (Action Message Format 0) values.
