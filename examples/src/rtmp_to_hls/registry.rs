//! The streams of a server, by key (`APP/NAME`).
//!
//! One live publisher per key. When it leaves, the stream stays (its ended
//! playlist and segments) for the grace period; a publisher that comes back
//! within it continues the same playlist. After it, the stream is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tracing::info;

use super::stream::{Refused, Stream, StreamOptions};
use super::Config;

/// All streams.
pub struct Registry {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    options: Result<StreamOptions, String>,
    grace: Duration,
    max_streams: usize,
}

impl Registry {
    /// An empty registry for `config`.
    pub fn new(config: &Config) -> Registry {
        Registry {
            streams: Mutex::new(HashMap::new()),
            options: StreamOptions::from_config(config),
            grace: config.grace,
            max_streams: config.max_streams,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Stream>>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `publisher` starts publishing `key`: a new stream, or the ended one
    /// under that key continued; refused while another publisher is live.
    pub fn start_publish(&self, key: &str, publisher: u64) -> Result<Arc<Stream>, Refused> {
        let options = self
            .options
            .as_ref()
            .map_err(|e| Refused::Failed(e.clone()))?;
        let mut streams = self.lock();
        if let Some(stream) = streams.get(key) {
            stream.begin(publisher)?;
            info!(key, "publisher is back: the playlist continues");
            return Ok(stream.clone());
        }
        if streams.len() >= self.max_streams {
            return Err(Refused::TooManyStreams);
        }
        let stream = Arc::new(Stream::new(key, options, publisher).map_err(Refused::Failed)?);
        streams.insert(key.to_owned(), stream.clone());
        Ok(stream)
    }

    /// The stream of `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Stream>> {
        self.lock().get(key).cloned()
    }

    /// Every stream, sorted by key.
    pub fn all(&self) -> Vec<Arc<Stream>> {
        let mut all: Vec<_> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| a.key().cmp(b.key()));
        all
    }

    /// Forgets the streams that ended more than the grace period before `now`.
    pub fn reap(&self, now: Instant) {
        self.lock().retain(|key, stream| {
            let keep = stream
                .ended_at()
                .is_none_or(|ended| now.saturating_duration_since(ended) < self.grace);
            if !keep {
                info!(key, "grace period over: stream forgotten");
            }
            keep
        });
    }

    /// Number of streams (live or in their grace period).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there is no stream.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
