//! [`Limits`]: the bounds a decode stays within.

/// Bounds on what one [`Decoder`](crate::Decoder) accepts.
///
/// Lengths are always checked against the remaining input before anything is
/// allocated, so memory stays proportional to the input; these limits bound
/// the rest.
///
/// ```
/// let limits = amf0::Limits::DEFAULT.with_max_depth(8);
/// assert_eq!(limits.max_depth, 8);
/// assert_eq!(limits.max_values, 1_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest nesting of containers (objects, ECMA arrays, strict arrays,
    /// typed objects); a top-level object is depth 1. Default 64.
    ///
    /// Decoding never recurses whatever this is, but the derived `Drop`,
    /// `Clone`, `Debug` and `PartialEq` of [`Value`](crate::Value) do, so keep
    /// it in the hundreds at most.
    pub max_depth: usize,
    /// Most values (every container and scalar counts as one) a
    /// [`Decoder`](crate::Decoder) produces over its whole input. Default
    /// 1,000,000.
    pub max_values: usize,
}

impl Limits {
    /// The defaults: depth 64, 1,000,000 values.
    pub const DEFAULT: Limits = Limits {
        max_depth: 64,
        max_values: 1_000_000,
    };

    /// These limits with `max_depth` replaced.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Limits {
        self.max_depth = max_depth;
        self
    }

    /// These limits with `max_values` replaced.
    pub const fn with_max_values(mut self, max_values: usize) -> Limits {
        self.max_values = max_values;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
