//! A grid of instants that every task of the process shares: tasks that sleep
//! until the next point of it wake together, so one wake-up of the process
//! serves many connections instead of one wake-up each.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often publishers' sockets are read, given the load.
///
/// Each read of a publisher costs about the same whatever it brings (a wake-up,
/// a system call, a TCP window update, and every layer's per-stream state
/// brought back into the cache), so under load the beat grows until the reads
/// of all `publishers` come to at most `reads_per_second` for each of the
/// runtime's `workers`: at 1,500 publishers on one core a 20 ms beat cost 0.87
/// of the core, 40 ms 0.74 and 80 ms 0.63 (benches/README.md). The beat stays a
/// whole number of `base` periods, so every beat's points are points of the
/// `base` grid, and is at most `max` (which bounds the latency it adds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    /// The beat with few publishers; zero reads at once, whatever the load.
    pub base: Duration,
    /// The longest beat.
    pub max: Duration,
    /// Publisher reads per second and worker thread the beat aims to stay under.
    pub reads_per_second: u32,
}

impl Pacing {
    /// The beat for `publishers` live publishers on `workers` worker threads.
    pub fn beat(&self, publishers: usize, workers: usize) -> Duration {
        let base = self.base.as_nanos();
        if base == 0 {
            return Duration::ZERO;
        }
        let per_worker = publishers.div_ceil(workers.max(1)) as u128;
        // The beat at which the reads come to `reads_per_second`, in base periods.
        let wanted = per_worker * 1_000_000_000 / u128::from(self.reads_per_second.max(1));
        let most = (self.max.as_nanos() / base).max(1);
        let periods = wanted.div_ceil(base).clamp(1, most);
        self.base * u32::try_from(periods).unwrap_or(1)
    }
}

/// Bytes a publisher may bring in one beat before it waits for the next.
///
/// Within a beat its socket is read until nothing more is ready or this much
/// came. One read per beat would cap a publisher at what one read holds (over
/// TCP about 110 KB per 60 ms beat, 15 Mbit/s; over TLS one record or a few,
/// 12 Mbit/s), so 4K ingest fell behind and a backlog after a stall was never
/// made up; this bound keeps one flooding publisher from holding a worker for
/// long. 1 MiB per 60 ms beat is 140 Mbit/s.
pub const BURST: usize = 1 << 20;

/// Bytes since the last beat from which a publisher is read on the shortest
/// beat (`read_pacing`) rather than the longer one the load asks for.
///
/// A beat brings what the socket's receive window held, which need not be
/// more than about 130 KB (measured over TLS on loopback, where the kernel did
/// not grow the window for a reader that reads in bursts): 17 Mbit/s on a
/// 60 ms beat. Publishers that bring 64 KiB a beat (8.7 Mbit/s on 60 ms) are
/// few, so reading them three times as often costs little and lifts that
/// ceiling threefold.
pub const BUSY: usize = 64 * 1024;

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

    const PACING: Pacing = Pacing {
        base: Duration::from_millis(20),
        max: Duration::from_millis(100),
        reads_per_second: 25_000,
    };

    #[test]
    fn the_beat_grows_with_the_publishers_in_whole_base_periods() {
        let ms = |publishers, workers| PACING.beat(publishers, workers).as_millis();
        assert_eq!(ms(0, 1), 20);
        assert_eq!(ms(500, 1), 20);
        assert_eq!(ms(501, 1), 40);
        assert_eq!(ms(1_000, 1), 40);
        assert_eq!(ms(1_500, 1), 60);
        assert_eq!(ms(2_000, 1), 80);
        assert_eq!(ms(2_000, 4), 20);
        assert_eq!(ms(3_000, 2), 60);
        // Capped at the longest beat.
        assert_eq!(ms(2_501, 1), 100);
        assert_eq!(ms(1_000_000, 1), 100);
        // No worker count known: as one.
        assert_eq!(ms(1_000, 0), 40);
    }

    #[test]
    fn zero_base_reads_at_once_and_a_max_below_the_base_keeps_the_base() {
        let at_once = Pacing {
            base: Duration::ZERO,
            ..PACING
        };
        assert!(at_once.beat(10_000, 1).is_zero());
        let fixed = Pacing {
            max: Duration::from_millis(5),
            ..PACING
        };
        assert_eq!(fixed.beat(10_000, 1), Duration::from_millis(20));
        let no_rate = Pacing {
            reads_per_second: 0,
            ..PACING
        };
        assert_eq!(no_rate.beat(1, 1), Duration::from_millis(100));
    }

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
