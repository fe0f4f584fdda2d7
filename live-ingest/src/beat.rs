//! A grid of instants that every task of the process shares: tasks that sleep
//! until the next point of it wake together, so one wake-up of the process
//! serves many connections instead of one wake-up each.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The first point of the grid of `period` steps at or after `at`.
pub fn next(period: Duration, at: Instant) -> tokio::time::Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let period_ns = period.as_nanos().max(1);
    let steps = at
        .saturating_duration_since(epoch)
        .as_nanos()
        .div_ceil(period_ns);
    let point = epoch + Duration::from_nanos(u64::try_from(steps * period_ns).unwrap_or(u64::MAX));
    tokio::time::Instant::from_std(point.max(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_on_one_grid_and_never_early() {
        let period = Duration::from_millis(10);
        let now = Instant::now();
        let a = next(period, now).into_std();
        let b = next(period, now + Duration::from_millis(3)).into_std();
        assert!(a >= now && b >= now + Duration::from_millis(3));
        // Two points of the grid are a whole number of periods apart.
        let c = next(period, a + Duration::from_millis(25)).into_std();
        assert_eq!((c - a).as_nanos() % period.as_nanos(), 0);
        assert!(b.saturating_duration_since(a) <= period);
    }
}
