//! `media-probe`: see `media-probe --help`.
fn main() {}
