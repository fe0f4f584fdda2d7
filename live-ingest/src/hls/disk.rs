//! `--out DIR`: a stream's playlist, init segments, segments and parts also
//! written to `DIR/APP/KEY/`, each atomically (written to a temporary name
//! in the same directory, then renamed over the final one), so a web server
//! or CDN origin reading the directory never sees half a file.
//!
//! The playlist on disk names only files on disk: a file that could not be
//! written (a full disk) is tried again from memory before each playlist, and
//! while one is still missing the previous playlist stays. Files that leave the
//! live window are removed only once a playlist without them is written, so a
//! reader of the previous playlist finds what it names.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tracing::{info, warn};

use crate::metrics::WriteFailures;

/// The directory of one stream.
#[derive(Debug)]
pub struct StreamDir {
    dir: PathBuf,
    /// Write errors so far (logged the first time and every 1000th).
    errors: u64,
    /// Whether the last write failed (so the next success is logged).
    failing: bool,
    failures: WriteFailures,
    /// Files whose write failed and that are still wanted.
    missing: BTreeSet<String>,
    /// Files gone from the live window, removed after the next playlist.
    doomed: Vec<String>,
}

/// The name of the playlist in each stream's directory.
pub const PLAYLIST: &str = "index.m3u8";

/// Removals deferred at most: past it (the disk has been failing for long)
/// the oldest go at once, both to bound memory and to give space back.
const MAX_DOOMED: usize = 4096;

impl StreamDir {
    /// Creates `root/key/` (the key is `APP/NAME`, checked by the caller);
    /// failed writes are counted in `failures`.
    pub fn create(root: &Path, key: &str, failures: WriteFailures) -> std::io::Result<StreamDir> {
        let dir = root.join(key);
        std::fs::create_dir_all(&dir).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
        })?;
        Ok(StreamDir {
            dir,
            errors: 0,
            failing: false,
            failures,
            missing: BTreeSet::new(),
            doomed: Vec::new(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` atomically from its pieces. A failure (a full disk) is
    /// logged and counted, and the file is tried again before each playlist
    /// (see [`StreamDir::write_playlist`]).
    pub fn write(&mut self, name: &str, data: &[Bytes]) {
        self.write_file(name, data, false);
    }

    /// A write, or (`retry`) another try of one that failed, which is not
    /// counted again on `/metrics`.
    fn write_file(&mut self, name: &str, data: &[Bytes], retry: bool) {
        match write_atomically(&self.dir, name, data) {
            Ok(()) => {
                self.missing.remove(name);
                if self.failing {
                    self.failing = false;
                    info!(dir = %self.dir.display(), name, errors = self.errors, "writing again");
                }
            }
            Err(error) => {
                self.missing.insert(name.to_owned());
                self.failed(name, &error, !retry);
            }
        }
    }

    /// Writes the playlist `text` once every file it may name is on disk:
    /// the missing ones are tried again with their bytes from `kept` (`None`
    /// for a file no longer kept, which is then no longer wanted). While one
    /// is still missing, the previous playlist stays. After the playlist,
    /// the files gone from the window are removed.
    pub fn write_playlist<'a>(&mut self, text: String, kept: impl Fn(&str) -> Option<&'a [Bytes]>) {
        for name in std::mem::take(&mut self.missing) {
            if let Some(data) = kept(&name) {
                self.write_file(&name, data, true);
            }
        }
        if !self.missing.is_empty() {
            return;
        }
        self.write(PLAYLIST, &[Bytes::from(text)]);
        if self.missing.is_empty() {
            for name in std::mem::take(&mut self.doomed) {
                self.remove_now(&name);
            }
        }
    }

    /// `name` left the live window: removed after the next playlist.
    pub fn remove(&mut self, name: &str) {
        self.missing.remove(name);
        self.doomed.push(name.to_owned());
        if self.doomed.len() > MAX_DOOMED {
            let oldest: Vec<_> = self.doomed.drain(..MAX_DOOMED / 2).collect();
            for name in oldest {
                self.remove_now(&name);
            }
        }
    }

    fn remove_now(&mut self, name: &str) {
        match std::fs::remove_file(self.dir.join(name)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => self.failed(name, &error, true),
        }
    }

    /// Logs a failure (the first of a run, then every 1000th) and counts it
    /// on `/metrics` if `count`.
    fn failed(&mut self, name: &str, error: &std::io::Error, count: bool) {
        self.errors += 1;
        if count {
            self.failures.out_failed();
        }
        // The first failure of a run, then every 1000th: a full disk must not
        // flood the log with one line per part.
        let first = !std::mem::replace(&mut self.failing, true);
        if first || self.errors % 1000 == 0 {
            warn!(dir = %self.dir.display(), name, %error, errors = self.errors, "cannot write");
        }
    }
}

/// Writes `data` to `dir/.name.tmp` with vectored writes (one `writev` for a
/// whole segment unless the kernel takes less), then renames it to `dir/name`.
pub fn write_atomically(dir: &Path, name: &str, data: &[Bytes]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = File::create(&temporary)?;
        crate::vectored::write_all(&mut file, data)?;
        std::fs::rename(&temporary, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_and_go() {
        let root = std::env::temp_dir().join(format!("rtmp-to-hls-disk-{}", std::process::id()));
        let mut dir = StreamDir::create(&root, "live/k", WriteFailures::default()).unwrap();
        let pieces = [
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from(vec![7u8; 5000]),
        ];
        dir.write("seg0.ts", &pieces);
        let written = std::fs::read(dir.path().join("seg0.ts")).unwrap();
        assert_eq!(written.len(), 5002);
        assert_eq!(&written[..3], b"ab\x07");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["seg0.ts"]);
        // Gone from the window: removed once a playlist without it is written.
        dir.remove("seg0.ts");
        assert!(dir.path().join("seg0.ts").exists());
        dir.write_playlist("#EXTM3U\n".into(), |_| None);
        assert!(!dir.path().join("seg0.ts").exists());
        assert!(dir.path().join(PLAYLIST).exists());
        assert_eq!(dir.errors, 0);
        let _ = std::fs::remove_dir_all(&root);
    }
}

#[cfg(test)]
mod missing {
    use super::*;

    #[test]
    fn a_failed_file_holds_the_playlist_back_until_it_is_written() {
        let root = std::env::temp_dir().join(format!("live-ingest-disk-{}", std::process::id()));
        let mut dir = StreamDir::create(&root, "live/m", WriteFailures::default()).unwrap();
        let data = [Bytes::from_static(b"segment")];
        // A directory in the way: the rename onto the name fails (even for root).
        let blocked = |name: &str| std::fs::create_dir(dir_path(&root).join(name)).unwrap();
        blocked("seg1.m4s");
        dir.write("seg1.m4s", &data);
        assert_eq!(dir.failures.out(), 1);
        dir.write_playlist("#EXTM3U\none\n".into(), |_| None);
        // Not kept any more: no longer wanted, so the playlist is written.
        assert!(dir.path().join(PLAYLIST).exists());
        std::fs::remove_file(dir.path().join(PLAYLIST)).unwrap();
        blocked("seg2.m4s");
        dir.write("seg2.m4s", &data);
        dir.write_playlist("#EXTM3U\ntwo\n".into(), |_| Some(&data[..]));
        assert!(!dir.path().join(PLAYLIST).exists(), "held back");
        std::fs::remove_dir(dir.path().join("seg2.m4s")).unwrap();
        dir.write_playlist("#EXTM3U\nthree\n".into(), |_| Some(&data[..]));
        assert_eq!(
            std::fs::read(dir.path().join("seg2.m4s")).unwrap(),
            b"segment"
        );
        assert_eq!(
            std::fs::read(dir.path().join(PLAYLIST)).unwrap(),
            b"#EXTM3U\nthree\n"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    fn dir_path(root: &Path) -> PathBuf {
        root.join("live/m")
    }
}
