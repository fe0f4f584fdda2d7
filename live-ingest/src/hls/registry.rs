//! The streams of a server, by key (`APP/NAME`).
//!
//! One live publisher per key. When it leaves, the stream stays (its ended
//! playlist and segments) for the grace period; a publisher that comes back
//! within it continues the same playlist. After it, the stream is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::stream::{Stream, StreamOptions};
use super::variants::{group_of, GroupClock};
use crate::metrics::WriteFailures;
use crate::{Config, ConfigError, Refused};

/// All streams.
pub struct Registry {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    options: StreamOptions,
    grace: Duration,
    max_streams: usize,
    /// The variant suffixes (`Config::variants`).
    suffixes: Vec<String>,
    /// The clocks of the variant groups with a stream, by group key
    /// (`APP/KEY`); an entry lives as long as one of its streams.
    groups: Mutex<HashMap<String, Weak<GroupClock>>>,
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
            suffixes: config.variants.clone(),
            groups: Mutex::new(HashMap::new()),
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
        let group = self.group_clock(key);
        let stream = Arc::new(Stream::new(key, &self.options, publisher, group)?);
        streams.insert(key.to_owned(), stream.clone());
        Ok((stream, false))
    }

    /// Every stream made from now on uploads to `store`.
    pub fn with_store(mut self, store: super::bucket::StoreHandle) -> Registry {
        self.options.store = store;
        self
    }

    /// The clock of the variant group `key` is in (`None` outside one).
    fn group_clock(&self, key: &str) -> Option<Arc<GroupClock>> {
        let (app, name) = key.split_once('/').unwrap_or(("", key));
        let (base, _) = group_of(&self.suffixes, name)?;
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the groups whose streams are all gone (bounded by the
        // stream limit, as the streams are).
        groups.retain(|_, clock| clock.strong_count() > 0);
        let entry = groups.entry(format!("{app}/{base}")).or_default();
        if let Some(clock) = entry.upgrade() {
            return Some(clock);
        }
        let clock = Arc::new(GroupClock::default());
        *entry = Arc::downgrade(&clock);
        Some(clock)
    }

    /// Forgets the stream of `key` if no publisher is live on it (a newer
    /// playlist of the key is elsewhere in the cluster).
    pub fn forget(&self, key: &str) {
        let mut streams = self.lock();
        if streams.get(key).is_some_and(|stream| !stream.is_live()) {
            streams.remove(key);
        }
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
