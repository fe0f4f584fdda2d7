//! A player's queue, bounded in bytes and in age rather than in messages.
//!
//! A count bound says nothing about memory: 2,048 messages of a 64 Mbit/s
//! stream are 130 MB. Here every message costs its payload plus
//! [`MESSAGE_OVERHEAD`], and a send that would pass the byte limit, or that
//! finds the oldest queued message older than the age limit (a reader that
//! stopped), is refused: the hub then skips that player to the next key frame.
//! The hub is the only sender and sends without waiting; the reader waits.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::Delivery;

/// Bytes counted per message besides its payload (the queue entry, the `Bytes`
/// handle, the chunk headers it becomes).
pub const MESSAGE_OVERHEAD: usize = 64;

/// Why a send was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds its limit in bytes, or its oldest message is too old.
    Full,
    /// The reader is gone.
    Closed,
}

struct State {
    items: VecDeque<(Instant, Delivery)>,
    bytes: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Notify,
    max_bytes: usize,
    max_age: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The hub's end of a queue.
pub struct Sender {
    shared: Arc<Shared>,
}

/// The player's end of a queue.
pub struct Receiver {
    shared: Arc<Shared>,
}

/// A queue that holds at most `max_bytes` (counted as above) and whose oldest
/// message is at most `max_age` old when another is added.
pub fn channel(max_bytes: usize, max_age: Duration) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            bytes: 0,
            closed: false,
        }),
        ready: Notify::new(),
        max_bytes,
        max_age,
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

fn cost(delivery: &Delivery) -> usize {
    match delivery {
        Delivery::Packet(packet) => packet.payload.len() + MESSAGE_OVERHEAD,
        _ => MESSAGE_OVERHEAD,
    }
}

impl Sender {
    /// Queues `delivery` unless the queue is full, too old, or closed.
    pub fn try_send(&self, delivery: Delivery, now: Instant) -> Result<(), SendError> {
        let cost = cost(&delivery);
        let mut state = self.shared.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        let stale = state.items.front().is_some_and(|(queued, _)| {
            now.saturating_duration_since(*queued) > self.shared.max_age
        });
        if stale || state.bytes + cost > self.shared.max_bytes {
            return Err(SendError::Full);
        }
        self.push(&mut state, delivery, cost, now);
        Ok(())
    }

    /// Queues `delivery` whatever the byte limit (the primer of a joining player: the
    /// metadata, headers and cached GOP it must start with, which the GOP limits bound).
    pub fn force_send(&self, delivery: Delivery, now: Instant) -> Result<(), SendError> {
        let cost = cost(&delivery);
        let mut state = self.shared.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        self.push(&mut state, delivery, cost, now);
        Ok(())
    }

    fn push(&self, state: &mut State, delivery: Delivery, cost: usize, now: Instant) {
        state.bytes += cost;
        state.items.push_back((now, delivery));
        if state.items.len() == 1 {
            self.shared.ready.notify_one();
        }
    }

    /// Whether the reader is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Bytes queued now.
    pub fn queued_bytes(&self) -> usize {
        self.shared.lock().bytes
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // The reader sees the end once it has taken what is queued.
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
    }
}

impl Receiver {
    /// The next delivery; `None` once the hub dropped its end and all is taken.
    pub async fn recv(&mut self) -> Option<Delivery> {
        loop {
            // Register for a wake-up before looking, so a send in between is not missed.
            let ready = self.shared.ready.notified();
            if let Some(delivery) = take(&self.shared) {
                return Some(delivery);
            }
            if self.shared.lock().closed {
                return None;
            }
            ready.await;
        }
    }

    /// The next delivery if one is queued.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        take(&self.shared)
    }
}

fn take(shared: &Shared) -> Option<Delivery> {
    let mut state = shared.lock();
    let (_, delivery) = state.items.pop_front()?;
    state.bytes -= cost(&delivery);
    Some(delivery)
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        // Free the payloads now, not when the hub next looks.
        state.items.clear();
        state.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rtmp_core::MediaKind;

    use super::super::Packet;
    use super::*;

    fn packet(size: usize) -> Delivery {
        Delivery::Packet(Packet {
            kind: MediaKind::Video,
            timestamp: 0,
            payload: Bytes::from(vec![0; size]),
        })
    }

    #[test]
    fn bounded_in_bytes_not_messages() {
        let (tx, mut rx) = channel(10_000, Duration::from_secs(10));
        let now = Instant::now();
        for _ in 0..4 {
            tx.try_send(packet(2_000), now).unwrap();
        }
        assert_eq!(tx.queued_bytes(), 4 * (2_000 + MESSAGE_OVERHEAD));
        assert_eq!(tx.try_send(packet(2_000), now), Err(SendError::Full));
        // Small messages still fit in what is left.
        tx.try_send(packet(100), now).unwrap();
        assert!(rx.try_recv().is_some());
        tx.try_send(packet(1_500), now).unwrap();
    }

    #[test]
    fn a_reader_that_stopped_is_refused_by_age() {
        let (tx, _rx) = channel(1 << 20, Duration::from_secs(2));
        let start = Instant::now();
        tx.try_send(packet(10), start).unwrap();
        tx.try_send(packet(10), start + Duration::from_secs(1))
            .unwrap();
        assert_eq!(
            tx.try_send(packet(10), start + Duration::from_secs(3)),
            Err(SendError::Full)
        );
    }

    #[test]
    fn the_primer_is_forced_past_the_limit() {
        let (tx, mut rx) = channel(1_000, Duration::from_secs(10));
        let now = Instant::now();
        tx.force_send(packet(5_000), now).unwrap();
        assert_eq!(tx.try_send(packet(10), now), Err(SendError::Full));
        rx.try_recv().unwrap();
        assert_eq!(tx.queued_bytes(), 0);
        tx.try_send(packet(10), now).unwrap();
    }

    #[tokio::test]
    async fn the_reader_wakes_and_sees_the_end() {
        let (tx, mut rx) = channel(1_000, Duration::from_secs(10));
        let reader = tokio::spawn(async move {
            let mut got = 0;
            while rx.recv().await.is_some() {
                got += 1;
            }
            got
        });
        tokio::task::yield_now().await;
        tx.try_send(packet(10), Instant::now()).unwrap();
        tx.try_send(Delivery::PublishEnd, Instant::now()).unwrap();
        drop(tx);
        assert_eq!(reader.await.unwrap(), 2);
    }

    #[test]
    fn a_dropped_reader_closes_and_frees() {
        let (tx, rx) = channel(1_000, Duration::from_secs(10));
        tx.try_send(packet(100), Instant::now()).unwrap();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.queued_bytes(), 0);
        assert_eq!(
            tx.try_send(packet(1), Instant::now()),
            Err(SendError::Closed)
        );
    }
}
