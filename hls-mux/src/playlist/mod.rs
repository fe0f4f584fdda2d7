//! playlist (being written).
