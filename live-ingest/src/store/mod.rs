//! Object storage (`Config::store`, feature `store`): every finished segment,
//! init segment, an EVENT playlist per stream and every recording, uploaded
//! to an S3-compatible store with `object_store` (configured the way it reads
//! the environment: `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`).
//!
//! Objects are named `PREFIX/APP/KEY/FILE`, the names the HTTP server uses,
//! so the bucket's own HTTP endpoint serves `PREFIX/APP/KEY/index.m3u8` as
//! a playlist that plays from the first segment (`EXT-X-PLAYLIST-TYPE:EVENT`,
//! no parts, `EXT-X-ENDLIST` once the publisher left).
//!
//! The way an object goes ([`Store::put`]):
//!
//! 1. written to the spool directory (`Config::spool`) under a name that
//!    holds its object name, so memory holds no object while the store is
//!    slow or down, and a restart uploads what a crash left;
//! 2. queued; a later version of a queued playlist replaces the older one
//!    (only the newest matters), at the end of the queue;
//! 3. uploaded by one of [`WORKERS`] tasks, oldest first; a playlist waits
//!    until the objects queued before it from its stream are uploaded, so
//!    the bucket never lists a segment it does not hold yet. A failed upload
//!    goes back to the front and is tried again after a pause that doubles
//!    from 1 s to 30 s: a store down for minutes loses nothing while the
//!    spool has room.
//!
//! The spool is bounded (`Config::spool_max` bytes): past it the oldest
//! objects not being uploaded are dropped, each logged and counted
//! (`live_ingest_store_dropped_total`); the live stream never waits for the
//! store. Recordings are uploaded from where `--record` wrote them (they are
//! not copied into the spool, nor counted against it).

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::metrics::StoreCounters;
use crate::{Config, ConfigError};

/// Uploads in flight at once.
pub const WORKERS: usize = 8;

/// The first pause after a failed upload; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// One upload's limit (a segment; a recording gets [`FILE_TIMEOUT`]).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30);
const FILE_TIMEOUT: Duration = Duration::from_secs(3600);

/// The default spool bound: 1 GiB.
pub const SPOOL_MAX: u64 = 1 << 30;

/// Where a queued object's bytes are.
#[derive(Debug)]
enum Source {
    /// A spool file, deleted once uploaded; its bytes count.
    Spooled(PathBuf, u64),
    /// A file of someone else's (a recording): uploaded, kept.
    File(PathBuf),
}

#[derive(Debug)]
struct Item {
    name: String,
    source: Source,
}

impl Item {
    fn spooled_bytes(&self) -> u64 {
        match self.source {
            Source::Spooled(_, bytes) => bytes,
            Source::File(_) => 0,
        }
    }

    fn is_playlist(&self) -> bool {
        self.name.ends_with(".m3u8")
    }

    /// The stream directory of the object (`PREFIX/APP/KEY`).
    fn dir(&self) -> &str {
        self.name.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Item>,
    /// Spooled bytes queued or in flight.
    bytes: u64,
    /// Directories with an upload in flight, one entry per upload.
    in_flight: Vec<String>,
    next_file: u64,
}

/// The uploader: see the [module docs](self).
#[derive(Debug)]
pub struct Store {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    spool: PathBuf,
    spool_max: u64,
    queue: Mutex<Queue>,
    ready: Notify,
    /// The counters `/metrics` shows.
    pub counters: StoreCounters,
}

/// `s3://BUCKET[/PREFIX]` → (bucket, prefix without slashes at its ends).
fn parse_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, prefix.trim_matches('/')))
}

/// A spool file's name for object `name`: `SEQ-NAME` with `%` and `/`
/// escaped, so it can be read back after a restart.
fn spool_name(seq: u64, name: &str) -> String {
    let escaped = name.replace('%', "%25").replace('/', "%2F");
    format!("{seq:012}-{escaped}")
}

/// The object name and sequence number in a spool file name.
fn from_spool_name(file: &str) -> Option<(u64, String)> {
    let (seq, escaped) = file.split_once('-')?;
    let seq = seq.parse().ok()?;
    Some((seq, escaped.replace("%2F", "/").replace("%25", "%")))
}

impl Store {
    /// The uploader of `config.store` (`None` without one), counting into
    /// `counters`. Reads the store's settings from the environment, creates
    /// the spool directory and queues what a previous run left in it.
    pub fn new(
        config: &Config,
        counters: StoreCounters,
    ) -> Result<Option<Arc<Store>>, ConfigError> {
        let Some(url) = &config.store else {
            return Ok(None);
        };
        let invalid = |got: String| ConfigError::Url {
            what: "store",
            expected: "s3://BUCKET[/PREFIX] with the AWS_* settings in the environment",
            got,
        };
        let (bucket, prefix) = parse_url(url).ok_or_else(|| invalid(url.clone()))?;
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| invalid(format!("{url}: {e}")))?;
        let spool = config
            .spool
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("live-ingest-spool"));
        std::fs::create_dir_all(&spool).map_err(|e| ConfigError::Invalid {
            field: "spool",
            expected: "a directory that can be created and written",
            got: format!("{}: {e}", spool.display()),
        })?;
        let store = Store {
            store: Arc::new(store),
            prefix: prefix.to_owned(),
            spool,
            spool_max: config.spool_max,
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            counters,
        };
        store.resume();
        Ok(Some(Arc::new(store)))
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The object name of `FILE` of stream `key` (`APP/KEY`).
    pub fn object_name(&self, key: &str, file: &str) -> String {
        match self.prefix.as_str() {
            "" => format!("{key}/{file}"),
            prefix => format!("{prefix}/{key}/{file}"),
        }
    }

    /// Queues what a previous run left in the spool, oldest first.
    fn resume(&self) {
        let Ok(entries) = std::fs::read_dir(&self.spool) else {
            return;
        };
        let mut left: Vec<(u64, String, PathBuf, u64)> = entries
            .flatten()
            .filter_map(|entry| {
                let file = entry.file_name().into_string().ok()?;
                let (seq, name) = from_spool_name(&file)?;
                let bytes = entry.metadata().ok()?.len();
                Some((seq, name, entry.path(), bytes))
            })
            .collect();
        left.sort();
        let mut queue = self.queue();
        for (seq, name, path, bytes) in left {
            queue.next_file = queue.next_file.max(seq + 1);
            queue.bytes += bytes;
            queue.items.push_back(Item {
                name,
                source: Source::Spooled(path, bytes),
            });
        }
        if !queue.items.is_empty() {
            info!(
                objects = queue.items.len(),
                "uploading what the spool held from before"
            );
        }
    }

    /// Queues object `name` with `data` (spooled first; see the module docs).
    /// Never waits for the store.
    pub fn put(&self, name: String, data: &[Bytes]) {
        let bytes: u64 = data.iter().map(|d| d.len() as u64).sum();
        let mut queue = self.queue();
        if name.ends_with(".m3u8") {
            // Only the newest version of a playlist matters.
            if let Some(at) = queue.items.iter().position(|i| i.name == name) {
                if let Some(old) = queue.items.remove(at) {
                    queue.bytes -= old.spooled_bytes();
                    remove_spooled(&old);
                }
            }
        }
        if bytes > self.spool_max {
            self.drop_object(&name, "larger than the whole spool");
            return;
        }
        self.make_room(&mut queue, bytes);
        let path = self.spool.join(spool_name(queue.next_file, &name));
        queue.next_file += 1;
        if let Err(error) = write_file(&path, data) {
            let _ = std::fs::remove_file(&path);
            warn!(object = name, path = %path.display(), %error, "cannot spool the object: dropped");
            self.counters.dropped.inc();
            return;
        }
        queue.bytes += bytes;
        queue.items.push_back(Item {
            name,
            source: Source::Spooled(path, bytes),
        });
        drop(queue);
        self.ready.notify_one();
    }

    /// Queues the file at `path` (a recording) as object `name`.
    pub fn put_file(&self, name: String, path: PathBuf) {
        self.queue().items.push_back(Item {
            name,
            source: Source::File(path),
        });
        self.ready.notify_one();
    }

    /// Drops the oldest queued spooled objects until `bytes` more fit.
    fn make_room(&self, queue: &mut Queue, bytes: u64) {
        while queue.bytes + bytes > self.spool_max {
            let Some(at) = queue.items.iter().position(|i| i.spooled_bytes() > 0) else {
                return;
            };
            let Some(old) = queue.items.remove(at) else {
                return;
            };
            queue.bytes -= old.spooled_bytes();
            remove_spooled(&old);
            self.drop_object(&old.name, "the spool is full");
        }
    }

    fn drop_object(&self, name: &str, why: &str) {
        warn!(object = name, why, "object not uploaded: dropped");
        self.counters.dropped.inc();
    }

    /// The object `name` as text, if the store has it (and answers within
    /// the upload limit).
    pub async fn get_text(&self, name: &str) -> Option<String> {
        let get = async {
            let object = self.store.get(&ObjectPath::from(name)).await.ok()?;
            object.bytes().await.ok()
        };
        let bytes = tokio::time::timeout(UPLOAD_TIMEOUT, get).await.ok()??;
        String::from_utf8(bytes.to_vec()).ok()
    }

    /// Spooled bytes not uploaded yet.
    pub fn queued_bytes(&self) -> u64 {
        self.queue().bytes
    }

    /// Objects waiting or being uploaded.
    pub fn pending(&self) -> usize {
        let queue = self.queue();
        queue.items.len() + queue.in_flight.len()
    }

    /// Runs the upload workers for ever.
    pub async fn run(self: Arc<Self>) {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| tokio::spawn(self.clone().work()))
            .collect();
        for worker in workers {
            let _ = worker.await;
        }
    }

    /// The next item a worker may take: the oldest, except a playlist whose
    /// stream has an upload in flight (it waits for it).
    fn take(&self) -> Option<Item> {
        let mut queue = self.queue();
        let busy: HashSet<&str> = queue.in_flight.iter().map(String::as_str).collect();
        let at = queue
            .items
            .iter()
            .position(|i| !i.is_playlist() || !busy.contains(i.dir()))?;
        let item = queue.items.remove(at)?;
        queue.in_flight.push(item.dir().to_owned());
        Some(item)
    }

    /// `item` is done (uploaded or dropped): it leaves the in-flight list.
    fn done(&self, item: &Item) {
        let mut queue = self.queue();
        if let Some(at) = queue.in_flight.iter().position(|d| d == item.dir()) {
            queue.in_flight.swap_remove(at);
        }
        queue.bytes -= item.spooled_bytes();
        drop(queue);
        // A playlist may have waited for this one.
        self.ready.notify_one();
    }

    /// `item` failed: back to the front, to be tried first next time.
    fn retry(&self, item: Item) {
        let mut queue = self.queue();
        if let Some(at) = queue.in_flight.iter().position(|d| d == item.dir()) {
            queue.in_flight.swap_remove(at);
        }
        queue.items.push_front(item);
    }

    async fn work(self: Arc<Self>) {
        let mut pause = FIRST_PAUSE;
        loop {
            let Some(item) = self.take() else {
                self.ready.notified().await;
                continue;
            };
            match self.upload(&item).await {
                Ok(()) => {
                    pause = FIRST_PAUSE;
                    self.counters.uploaded.inc();
                    remove_spooled(&item);
                    self.done(&item);
                }
                Err(Upload::Gone(error)) => {
                    self.drop_object(&item.name, &format!("its file is gone: {error}"));
                    self.done(&item);
                }
                Err(Upload::Failed(error)) => {
                    self.counters.failed.inc();
                    warn!(object = item.name, %error, retry_in = ?pause, "upload failed");
                    self.retry(item);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                    self.ready.notify_one();
                }
            }
        }
    }

    async fn upload(&self, item: &Item) -> Result<(), Upload> {
        let (path, limit) = match &item.source {
            Source::Spooled(path, _) => (path, UPLOAD_TIMEOUT),
            Source::File(path) => (path, FILE_TIMEOUT),
        };
        let data = tokio::fs::read(path)
            .await
            .map_err(|e| Upload::Gone(e.to_string()))?;
        let name = ObjectPath::from(item.name.as_str());
        let put = self.store.put(&name, PutPayload::from(data));
        match tokio::time::timeout(limit, put).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(Upload::Failed(error.to_string())),
            Err(_) => Err(Upload::Failed(format!("no answer within {limit:?}"))),
        }
    }
}

enum Upload {
    /// The bytes to upload are gone (a recording removed meanwhile).
    Gone(String),
    /// The store failed or did not answer: try again.
    Failed(String),
}

fn remove_spooled(item: &Item) {
    if let Source::Spooled(path, _) = &item.source {
        let _ = std::fs::remove_file(path);
    }
}

fn write_file(path: &Path, data: &[Bytes]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    for piece in data {
        file.write_all(piece)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(parse_url("s3://media/live/"), Some(("media", "live")));
        assert_eq!(parse_url("s3://media"), Some(("media", "")));
        assert_eq!(parse_url("s3:///x"), None);
        assert_eq!(parse_url("http://media"), None);
    }

    #[test]
    fn spool_names_hold_the_object_name() {
        let name = "rec/live/a%b/seg1.m4s";
        let file = spool_name(7, name);
        assert!(!file.contains('/'));
        assert_eq!(from_spool_name(&file), Some((7, name.to_owned())));
        assert_eq!(from_spool_name("junk"), None);
    }

    fn store(spool_max: u64) -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "live-ingest-store-{}-{spool_max}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            store: Some("s3://bucket/pre".into()),
            spool: Some(dir.clone()),
            spool_max,
            ..Config::default()
        };
        // SAFETY of the settings: object_store reads them only in `new`.
        let store = Store::new(&config, StoreCounters::default())
            .unwrap()
            .expect("a store");
        (Arc::into_inner(store).expect("the only handle"), dir)
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_a_playlist_keeps_its_newest_version() {
        let (store, dir) = store(1000);
        assert_eq!(
            store.object_name("live/a", "seg1.m4s"),
            "pre/live/a/seg1.m4s"
        );
        let piece = |n: usize| vec![Bytes::from(vec![0u8; n])];
        store.put("pre/live/a/seg1.m4s".into(), &piece(400));
        store.put("pre/live/a/index.m3u8".into(), &piece(10));
        store.put("pre/live/a/seg2.m4s".into(), &piece(400));
        store.put("pre/live/a/index.m3u8".into(), &piece(20));
        assert_eq!(store.queued_bytes(), 820);
        // 400 more do not fit: seg1 goes.
        store.put("pre/live/a/seg3.m4s".into(), &piece(400));
        let names: Vec<_> = store.queue().items.iter().map(|i| i.name.clone()).collect();
        assert_eq!(
            names,
            [
                "pre/live/a/seg2.m4s",
                "pre/live/a/index.m3u8",
                "pre/live/a/seg3.m4s"
            ]
        );
        assert_eq!(store.counters.dropped.get(), 1);
        assert_eq!(store.queued_bytes(), 820);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3, "spool files");
        // Too big for the whole spool: dropped at once.
        store.put("pre/live/a/huge.m4s".into(), &piece(2000));
        assert_eq!(store.counters.dropped.get(), 2);
        // The playlist waits while its stream has an upload in flight.
        let first = store.take().expect("seg2");
        let second = store.take().expect("seg3, not the playlist");
        assert_eq!(second.name, "pre/live/a/seg3.m4s");
        assert!(store.take().is_none(), "the playlist waits");
        store.done(&first);
        store.done(&second);
        assert_eq!(
            store.take().map(|i| i.name),
            Some("pre/live/a/index.m3u8".into())
        );
        // What is left in the spool is queued again by the next run.
        drop(store);
        let (again, _) = store_reusing(&dir);
        assert_eq!(again.pending(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn store_reusing(dir: &Path) -> (Store, PathBuf) {
        let config = Config {
            store: Some("s3://bucket/pre".into()),
            spool: Some(dir.to_owned()),
            ..Config::default()
        };
        let store = Store::new(&config, StoreCounters::default())
            .unwrap()
            .expect("a store");
        (
            Arc::into_inner(store).expect("the only handle"),
            dir.to_owned(),
        )
    }
}
