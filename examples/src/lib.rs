//! Runnable programs built from the crate family: see the `examples/` directory.
