//! ts (being written).
