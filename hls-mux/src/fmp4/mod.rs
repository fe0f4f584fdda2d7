//! fmp4 (being written).
