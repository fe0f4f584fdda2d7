//! A cluster of ingest nodes sharing a directory in Redis (`Config::cluster`,
//! feature `cluster`).
//!
//! Nothing of this runs without `cluster` set: one process keeps its state in
//! memory and needs no Redis. With it, each key (`APP/NAME`) has two entries:
//!
//! - `live-ingest:lease:APP/NAME`: the node publishing the key now, as JSON
//!   (`node`, `token`, `rtmp`, `http`: how other nodes reach it), with a TTL
//!   of `lease_ttl`. A publish takes it with one script, which succeeds when
//!   it is free or this node's already (a publisher reconnecting here before
//!   its old connection's release landed); held by another node, the publish
//!   is refused with [`Refused::LiveElsewhere`], which names it. The lease is
//!   renewed every third of the TTL while the publisher lives and deleted
//!   when it leaves. A node that dies stops renewing: its keys are free within
//!   the TTL, and a publisher reconnecting to any node goes on.
//! - `live-ingest:state:APP/NAME`: where the key's playlist stands
//!   ([`hls_mux::Continuation`] as JSON), written when the lease is taken,
//!   with every renewal and at the end, kept for an hour. The node that
//!   takes the key next starts its playlist there
//!   ([`hls_mux::Muxer::continue_from`]): viewers reloading the playlist see
//!   one stream with one `EXT-X-DISCONTINUITY`. After a node died, the state
//!   may be up to one lease old, so the next node skips the media sequence
//!   numbers the dead one could have made since ([`Cluster::acquire`]): a
//!   number skipped is harmless, one used twice for different media is not.
//!
//! A renewal that finds the lease held by another token (it expired while
//! Redis or this node stalled, and another node took the key) evicts the
//! local publisher: a key is never published on two nodes for longer than
//! one renewal period. While Redis cannot be reached, publishers go on (no
//! node can take their keys either) and new publishes are refused; renewals
//! retake a lease that expired meanwhile if it is still free.
//!
//! Any node answers HLS and HTTP-FLV for any key: a request for a key that is
//! not here is proxied to the node holding its lease (see [`proxy`]). Owners
//! are remembered per key until Redis says the lease changed hands: taking
//! and releasing a lease publish the key on `live-ingest:owners`, which every
//! node listens to; a lease that expired (its node died) is forgotten when a
//! request to that node fails. So a node asks Redis about a key about once
//! per change of owner, not per request (12,000 keys on 50 nodes would
//! otherwise be a million lookups a second). While a node cannot listen, it
//! remembers owners for `OWNER_CACHE` (0.5 s) only.
//!
//! The run loop: [`Cluster::acquire`] on publish, [`Cluster::attach`] once the
//! stream exists, [`Cluster::release`] when the publisher leaves, and
//! [`Cluster::run`] (spawned by [`crate::start`]) renewing every held lease.

pub mod proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hls_mux::Continuation;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, OnceCell};
use tracing::{info, warn};

use crate::hls::Stream;
use crate::{Config, ConfigError, Refused};

/// How long the playlist state of a key stays in Redis after its last write.
const STATE_SECONDS: u64 = 3600;

/// How long an owner lookup for the proxy is remembered while this node does
/// not hear the changes of owner (see the module docs).
const OWNER_CACHE: Duration = Duration::from_millis(500);

/// How long it is remembered at most while it does.
const OWNER_CACHE_LISTENING: Duration = Duration::from_secs(30);

/// The channel lease changes are published on.
const OWNERS_CHANNEL: &str = "live-ingest:owners";

/// Owner lookups remembered at most (each a few hundred bytes).
const OWNER_CACHE_ENTRIES: usize = 100_000;

/// How often changed playlist states are saved: a node that dies loses at
/// most this much of its state (and the next node skips a lease's worth of
/// numbers anyway, see [`Cluster::acquire`]).
const SAVE_PERIOD: Duration = Duration::from_millis(100);

/// Redis requests in flight at once in a pass (the connection pipelines them).
const CONCURRENT_REQUESTS: usize = 64;

/// A Redis request's limit: past it the directory counts as unreachable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Takes the lease: free, or this node's already. Returns `{1, state}` or
/// `{0, the holder's lease}`.
const ACQUIRE: &str = r"
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).node ~= ARGV[3] then
  return {0, current}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if not current then
  redis.call('PUBLISH', 'live-ingest:owners', KEYS[1])
end
return {1, redis.call('GET', KEYS[2]) or ''}
";

/// Renews the lease if it is still this token's (or free again), and saves
/// the state. Returns 1, or 0 when another token holds the lease.
const RENEW: &str = r"
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).token ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if not current then
  redis.call('PUBLISH', 'live-ingest:owners', KEYS[1])
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
end
return 1
";

/// Saves the state and deletes the lease if it is still this token's.
const RELEASE: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[2] ~= '' and (not current or cjson.decode(current).token == ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
if current and cjson.decode(current).token == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', 'live-ingest:owners', KEYS[1])
end
return 1
";

/// What the directory cannot do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Redis refused or failed a request.
    #[error("the cluster directory (Redis): {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("the cluster directory (Redis) did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis answered something this node cannot read.
    #[error("the cluster directory holds {what}: expected {expected}")]
    Unreadable {
        /// What was read.
        what: String,
        /// What it should have been.
        expected: &'static str,
    },
}

/// A node publishing a key, as its lease says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The node's id (unique per process).
    pub node: String,
    /// The lease's token (unique per publish).
    pub token: String,
    /// How to reach its RTMP (`rtmp://HOST:PORT`).
    pub rtmp: String,
    /// How to reach its HTTP (`http://HOST:PORT`).
    pub http: String,
}

/// The playlist state kept in the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    next_msn: u64,
    discontinuity_sequence: u64,
    next_init: u32,
    /// Saved by a release: exact, nothing to skip after it.
    #[serde(default)]
    released: bool,
}

impl From<Continuation> for State {
    fn from(c: Continuation) -> State {
        State {
            next_msn: c.next_msn,
            discontinuity_sequence: c.discontinuity_sequence,
            next_init: c.next_init,
            released: false,
        }
    }
}

impl From<State> for Continuation {
    fn from(s: State) -> Continuation {
        Continuation {
            next_msn: s.next_msn,
            discontinuity_sequence: s.discontinuity_sequence,
            next_init: s.next_init,
        }
    }
}

/// A lease this node took.
#[derive(Debug)]
pub struct Lease {
    /// Where the key's playlist stood when it was last published anywhere.
    pub continuation: Option<Continuation>,
    /// Becomes true when the lease was lost: the publisher must go.
    pub evicted: watch::Receiver<bool>,
}

struct Held {
    token: String,
    evict: watch::Sender<bool>,
    stream: Option<Arc<Stream>>,
    /// The state last saved (or sent to be).
    saved: Option<State>,
}

/// This node's part of the cluster: see the [module docs](self).
pub struct Cluster {
    client: redis::Client,
    redis: OnceCell<ConnectionManager>,
    node: String,
    advertised: OnceLock<(String, String)>,
    ttl: Duration,
    /// The segments' target duration, for the numbers a dead node could
    /// have used since its last save.
    target: Duration,
    held: Mutex<HashMap<String, Held>>,
    owners: Mutex<HashMap<String, (Instant, Option<Owner>)>>,
    /// This node hears the changes of owner (`OWNERS_CHANNEL`).
    listening: std::sync::atomic::AtomicBool,
}

fn lease_key(key: &str) -> String {
    format!("live-ingest:lease:{key}")
}

fn state_key(key: &str) -> String {
    format!("live-ingest:state:{key}")
}

/// A random 64-bit hex string from the system's random source.
fn random_id() -> String {
    let mut bytes = [0u8; 8];
    // Without a random source, the clock keeps ids apart well enough.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = crate::rtmp::nanos_now().to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cluster {
    /// This node's part of the cluster at `config.cluster` (`None` without
    /// one). Connects at the first request, not here.
    pub fn new(config: &Config) -> Result<Option<Arc<Cluster>>, ConfigError> {
        let Some(url) = &config.cluster else {
            return Ok(None);
        };
        let client = redis::Client::open(url.as_str()).map_err(|e| ConfigError::Url {
            what: "cluster",
            expected: "redis://HOST[:PORT][/DB]",
            got: format!("{url} ({e})"),
        })?;
        Ok(Some(Arc::new(Cluster {
            client,
            redis: OnceCell::new(),
            node: random_id(),
            advertised: OnceLock::new(),
            ttl: config.lease_ttl,
            target: Duration::from_secs_f64(config.target_duration.clamp(0.001, 3600.0)),
            held: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
            listening: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    /// Sets how other nodes reach this one (once the listeners are bound).
    pub fn advertise(&self, rtmp: String, http: String) {
        let _ = self.advertised.set((rtmp, http));
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn held(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn redis(&self) -> Result<ConnectionManager, ClusterError> {
        let connect = self
            .redis
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()));
        match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
            Ok(connection) => Ok(connection?.clone()),
            Err(_) => Err(ClusterError::Timeout(REDIS_TIMEOUT)),
        }
    }

    /// Runs `script` with `keys` and `args` within [`REDIS_TIMEOUT`].
    async fn script<T: redis::FromRedisValue>(
        &self,
        script: &str,
        keys: &[String],
        args: &[String],
    ) -> Result<T, ClusterError> {
        let mut redis = self.redis().await?;
        let script = redis::Script::new(script);
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        match tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut redis)).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(ClusterError::Timeout(REDIS_TIMEOUT)),
        }
    }

    fn lease_value(&self, token: &str) -> String {
        let (rtmp, http) = self.advertised.get().cloned().unwrap_or_default();
        let owner = Owner {
            node: self.node.clone(),
            token: token.to_owned(),
            rtmp,
            http,
        };
        serde_json::to_string(&owner).unwrap_or_default()
    }

    fn ttl_ms(&self) -> String {
        self.ttl.as_millis().to_string()
    }

    /// The media sequence numbers a node could have used after its last
    /// save of the state: a lease's worth of segments, the open one, and
    /// one for rounding. A lease is renewed (and the state saved) at least
    /// once per TTL while held, or it expires.
    fn unsaved_segments(&self) -> u64 {
        let per_lease = self.ttl.as_secs_f64() / self.target.as_secs_f64();
        (per_lease.ceil() as u64).saturating_add(2)
    }

    /// Takes the lease of `key` for a publish here: refused while another
    /// node holds it, or when the directory cannot be reached. The
    /// continuation it returns skips `unsaved_segments` numbers
    /// after the saved state, and is saved at once as the key's state.
    pub async fn acquire(&self, key: &str) -> Result<Lease, Refused> {
        let token = random_id();
        let keys = [lease_key(key), state_key(key)];
        let args = [self.lease_value(&token), self.ttl_ms(), self.node.clone()];
        let (taken, value): (i64, String) = self
            .script(ACQUIRE, &keys, &args)
            .await
            .map_err(|error| Refused::ClusterUnavailable(error.to_string()))?;
        if taken == 0 {
            let holder = serde_json::from_str::<Owner>(&value)
                .map(|o| format!("{} ({})", o.node, o.rtmp))
                .unwrap_or(value);
            return Err(Refused::LiveElsewhere {
                key: key.to_owned(),
                node: holder,
            });
        }
        let saved = match value.as_str() {
            "" => None,
            text => match serde_json::from_str::<State>(text) {
                Ok(state) => Some(state),
                Err(error) => {
                    warn!(key, %error, "unreadable playlist state in the cluster directory: the playlist starts afresh");
                    None
                }
            },
        };
        let continuation = saved.map(|mut state| {
            if !state.released {
                state.next_msn = state.next_msn.saturating_add(self.unsaved_segments());
            }
            Continuation::from(state)
        });
        // Saved now: if this node dies before its first renewal, the next
        // one skips what this one could have made.
        let start = continuation.map_or(
            State {
                next_msn: 0,
                discontinuity_sequence: 0,
                next_init: 0,
                released: false,
            },
            State::from,
        );
        self.save(key, start).await;
        let (evict, evicted) = watch::channel(false);
        let held = Held {
            token,
            evict,
            stream: None,
            saved: Some(start),
        };
        // A lease of an earlier publish here that had not been released yet
        // is replaced: its release no longer matches the token.
        self.held().insert(key.to_owned(), held);
        info!(key, node = self.node, "cluster lease taken");
        Ok(Lease {
            continuation,
            evicted,
        })
    }

    async fn save(&self, key: &str, state: State) {
        let Ok(json) = serde_json::to_string(&state) else {
            return;
        };
        let saved = async {
            let mut redis = self.redis().await?;
            let mut set = redis::cmd("SET");
            set.arg(state_key(key))
                .arg(json)
                .arg("EX")
                .arg(STATE_SECONDS);
            let set = set.query_async::<()>(&mut redis);
            match tokio::time::timeout(REDIS_TIMEOUT, set).await {
                Ok(answer) => Ok(answer?),
                Err(_) => Err(ClusterError::Timeout(REDIS_TIMEOUT)),
            }
        };
        if let Err(error) = saved.await {
            warn!(key, %error, "playlist state not saved (the next renewal saves it)");
        }
    }

    /// The HLS stream of the publish holding `key`'s lease: its playlist
    /// state goes with each renewal.
    pub fn attach(&self, key: &str, stream: Arc<Stream>) {
        if let Some(held) = self.held().get_mut(key) {
            held.stream = Some(stream);
        }
    }

    /// The publisher of `key` left: its state is saved and its lease
    /// deleted (in the background; a failure leaves the lease to expire).
    pub fn release(self: &Arc<Self>, key: &str) {
        let Some(held) = self.held().remove(key) else {
            return;
        };
        let cluster = self.clone();
        let key = key.to_owned();
        tokio::spawn(async move {
            let state = state_json(held.stream.as_deref(), true);
            let keys = [lease_key(&key), state_key(&key)];
            let args = [held.token, state, STATE_SECONDS.to_string()];
            match cluster.script::<i64>(RELEASE, &keys, &args).await {
                Ok(_) => info!(key, "cluster lease released"),
                Err(error) => warn!(key, %error, "cluster lease not released: it expires"),
            }
        });
    }

    /// Renews every lease held every third of the TTL, and saves each
    /// changed playlist state every `SAVE_PERIOD` (100 ms), for ever.
    pub async fn run(self: Arc<Self>) {
        tokio::spawn(self.clone().listen());
        let mut ticker = tokio::time::interval(SAVE_PERIOD);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed: Option<Instant> = None;
        loop {
            ticker.tick().await;
            let renew = renewed.is_none_or(|at| at.elapsed() >= self.ttl / 3);
            if renew {
                renewed = Some(Instant::now());
            }
            self.pass(renew).await;
        }
    }

    /// One pass over the held leases: renew them all (with their state), or
    /// save the states that changed since the last pass.
    async fn pass(&self, renew: bool) {
        let work: Vec<(String, String, String)> = self
            .held()
            .iter_mut()
            .filter_map(|(key, held)| {
                let state = held
                    .stream
                    .as_deref()
                    .map(|s| State::from(s.continuation()));
                let changed = state.is_some() && state != held.saved;
                held.saved = state;
                let json = state
                    .and_then(|s| serde_json::to_string(&s).ok())
                    .unwrap_or_default();
                (renew || changed).then(|| (key.clone(), held.token.clone(), json))
            })
            .collect();
        let each = |(key, token, state): (String, String, String)| async move {
            if renew {
                self.renew(&key, &token, state).await;
            } else if let Ok(state) = serde_json::from_str::<State>(&state) {
                self.save(&key, state).await;
            }
        };
        futures_util::stream::iter(work)
            .for_each_concurrent(CONCURRENT_REQUESTS, each)
            .await;
    }

    async fn renew(&self, key: &str, token: &str, state: String) {
        let keys = [lease_key(key), state_key(key)];
        let args = [
            self.lease_value(token),
            self.ttl_ms(),
            token.to_owned(),
            state,
            STATE_SECONDS.to_string(),
        ];
        match self.script::<i64>(RENEW, &keys, &args).await {
            Ok(1) => {}
            Ok(_) => self.evict(key, token),
            Err(error) => warn!(key, %error, "cluster lease not renewed (retried next period)"),
        }
    }

    /// The lease of `key` (token `token`) was lost: the publisher goes.
    fn evict(&self, key: &str, token: &str) {
        let mut held = self.held();
        if held.get(key).is_some_and(|h| h.token == token) {
            if let Some(lost) = held.remove(key) {
                warn!(
                    key,
                    "cluster lease lost to another node: the publisher here is stopped"
                );
                let _ = lost.evict.send(true);
            }
        }
    }

    /// Hears the changes of owner for ever, forgetting what it remembered
    /// of each key that changed; reconnects after a second when Redis fails
    /// (and forgets everything, as changes may have been missed).
    async fn listen(self: Arc<Self>) {
        use std::sync::atomic::Ordering;
        loop {
            if let Ok(mut pubsub) = self.client.get_async_pubsub().await {
                if pubsub.subscribe(OWNERS_CHANNEL).await.is_ok() {
                    self.listening.store(true, Ordering::Relaxed);
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let lease = message.get_payload::<String>().unwrap_or_default();
                        if let Some(key) = lease.strip_prefix("live-ingest:lease:") {
                            self.forget_owner(key);
                        }
                    }
                }
            }
            self.listening.store(false, Ordering::Relaxed);
            self.owners().clear();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    fn owners(&self) -> MutexGuard<'_, HashMap<String, (Instant, Option<Owner>)>> {
        self.owners.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets who holds `key` (its lease changed, or its node did not answer).
    pub fn forget_owner(&self, key: &str) {
        self.owners().remove(key);
    }

    /// The node holding `key`'s lease, if it is another one (for the proxy);
    /// remembered until it changes (see the module docs).
    pub async fn owner(&self, key: &str) -> Option<Owner> {
        let now = Instant::now();
        let limit = match self.listening.load(std::sync::atomic::Ordering::Relaxed) {
            true => OWNER_CACHE_LISTENING,
            false => OWNER_CACHE,
        };
        if let Some((at, owner)) = self.owners().get(key) {
            if now.saturating_duration_since(*at) < limit {
                return owner.clone();
            }
        }
        let owner = self.lookup(key).await.filter(|o| o.node != self.node);
        let mut owners = self.owners();
        if owners.len() >= OWNER_CACHE_ENTRIES {
            owners.retain(|_, (at, _)| now.saturating_duration_since(*at) < limit);
        }
        if owners.len() < OWNER_CACHE_ENTRIES {
            owners.insert(key.to_owned(), (now, owner.clone()));
        }
        owner
    }

    async fn lookup(&self, key: &str) -> Option<Owner> {
        let mut redis = self.redis().await.ok()?;
        let mut get = redis::cmd("GET");
        get.arg(lease_key(key));
        let get = get.query_async::<Option<String>>(&mut redis);
        let value = tokio::time::timeout(REDIS_TIMEOUT, get)
            .await
            .ok()?
            .ok()??;
        serde_json::from_str(&value).ok()
    }
}

/// The playlist state of `stream` as the directory keeps it ("" without
/// one); `released` when its publisher left (the state is exact).
fn state_json(stream: Option<&Stream>, released: bool) -> String {
    stream
        .map(|s| State {
            released,
            ..State::from(s.continuation())
        })
        .and_then(|state| serde_json::to_string(&state).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_as_the_directory_keeps_it() {
        let c = Continuation {
            next_msn: 41,
            discontinuity_sequence: 3,
            next_init: 2,
        };
        let json = serde_json::to_string(&State::from(c)).unwrap();
        assert_eq!(
            json,
            r#"{"next_msn":41,"discontinuity_sequence":3,"next_init":2,"released":false}"#
        );
        let older: State =
            serde_json::from_str(r#"{"next_msn":1,"discontinuity_sequence":0,"next_init":0}"#)
                .unwrap();
        assert!(!older.released);
        let back: State = serde_json::from_str(&json).unwrap();
        assert_eq!(Continuation::from(back), c);
    }

    #[test]
    fn no_cluster_without_the_setting() {
        assert!(Cluster::new(&Config::default()).unwrap().is_none());
        let config = Config {
            cluster: Some("redis://127.0.0.1:1".into()),
            ..Config::default()
        };
        let cluster = Cluster::new(&config).unwrap().expect("a cluster");
        assert_eq!(cluster.node().len(), 16);
        assert!(cluster.lease_value("t").contains(r#""token":"t""#));
    }
}
