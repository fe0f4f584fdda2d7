//! Criterion benchmarks of the crate family, peers side by side: see `benches/*.rs`.
