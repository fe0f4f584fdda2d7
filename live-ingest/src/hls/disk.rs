//! `--out DIR`: a stream's playlist, init segments, segments and parts also
//! written to `DIR/APP/KEY/`, each atomically (written to a temporary name
//! in the same directory, then renamed over the final one), so a web server
//! or CDN origin reading the directory never sees half a file.

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
}

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
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` atomically from its pieces. A failure (a full disk) is
    /// logged and counted and costs this file only: the next one is tried as
    /// usual, so writing resumes by itself once there is room again.
    pub fn write(&mut self, name: &str, data: &[Bytes]) {
        match write_atomically(&self.dir, name, data) {
            Ok(()) if self.failing => {
                self.failing = false;
                info!(dir = %self.dir.display(), name, errors = self.errors, "writing again");
            }
            Ok(()) => {}
            Err(error) => self.failed(name, &error),
        }
    }

    /// Removes `name` (gone from the live window).
    pub fn remove(&mut self, name: &str) {
        match std::fs::remove_file(self.dir.join(name)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => self.failed(name, &error),
        }
    }

    fn failed(&mut self, name: &str, error: &std::io::Error) {
        self.errors += 1;
        self.failures.out_failed();
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
        dir.remove("seg0.ts");
        dir.remove("seg0.ts");
        assert!(!dir.path().join("seg0.ts").exists());
        assert_eq!(dir.errors, 0);
        let _ = std::fs::remove_dir_all(&root);
    }
}
