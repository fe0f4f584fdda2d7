//! The streams of a server, by key (`APP/NAME`).
//!
//! One live publisher per key. When it leaves, the stream stays (its ended
//! playlist and segments) for the grace period; a publisher that comes back
//! within it continues the same playlist. After it, the stream is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::stream::{Stream, StreamOptions};
use crate::metrics::WriteFailures;
use crate::{Config, ConfigError, Refused};

/// All streams.
pub struct Registry {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    options: StreamOptions,
    grace: Duration,
    max_streams: usize,
}

impl Registry {
    /// An empty registry for `config`; its streams count failed writes in
    /// `write_failures`.
    pub fn new(config: &Config, write_failures: WriteFailures) -> Result<Registry, ConfigError> {
        let mut options = StreamOptions::from_config(config)?;
        options.write_failures = write_failures;
        Ok(Registry {
            streams: Mutex::new(HashMap::new()),
            options,
            grace: config.grace,
            max_streams: config.max_streams,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Stream>>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `publisher` starts publishing `key`: a new stream, or the ended one
    /// under that key continued (then the flag is true); refused while another
    /// publisher is live.
    pub fn start_publish(&self, key: &str, publisher: u64) -> Result<(Arc<Stream>, bool), Refused> {
        let mut streams = self.lock();
        if let Some(stream) = streams.get(key) {
            stream.begin(publisher)?;
            return Ok((stream.clone(), true));
        }
        if streams.len() >= self.max_streams {
            return Err(Refused::TooManyStreams);
        }
        let stream = Arc::new(Stream::new(key, &self.options, publisher)?);
        streams.insert(key.to_owned(), stream.clone());
        Ok((stream, false))
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

    /// Forgets the streams that ended more than the grace period before `now`;
    /// returns their keys.
    pub fn reap(&self, now: Instant) -> Vec<String> {
        let mut forgotten = Vec::new();
        self.lock().retain(|key, stream| {
            let keep = stream
                .ended_at()
                .is_none_or(|ended| now.saturating_duration_since(ended) < self.grace);
            if !keep {
                forgotten.push(key.clone());
            }
            keep
        });
        forgotten
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
