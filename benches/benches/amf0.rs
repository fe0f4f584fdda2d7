//! AMF0 decode (placeholder, filled in below).
fn main() {}
