//! `--record DIR`: each publish written as it arrives to
//! `DIR/APP/KEY-UNIXSECONDS.flv` with [`flv::Writer`]: every audio, video and
//! data message as one tag, timestamps as the publisher sent them.
//! Tags are gathered in memory and written 256 KiB at a time, or before a
//! video key frame once a second has passed, so a crash loses about a second
//! at a low bit rate rather than up to 256 KiB.
//!
//! A write that fails (a full disk) is logged and counted, and the file is cut
//! back to its last whole tag, so it stays a valid FLV file. Tags are dropped
//! until writing can work again: from the first video key frame a second or
//! more later, a new file (`KEY-UNIXSECONDS-N.flv`) is tried, starting with the
//! publish's metadata and sequence headers so that it plays on its own.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use flv::{TagType, Writer, WriterOptions};
use rtmp_core::MediaKind;
use tracing::{info, warn};

use crate::metrics::WriteFailures;

/// Bytes gathered before a write.
const FLUSH_AT: usize = 256 * 1024;

/// Gathered tags are written before a video key frame once this has passed.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How long after a failed write a new file is tried (at a key frame).
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Why a recording stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A message could not become a tag.
    #[error("cannot write the tag: {0}")]
    Tag(#[from] flv::Error),
    /// The file could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// One publish being recorded.
#[derive(Debug)]
pub struct Recording {
    dir: PathBuf,
    name: String,
    path: PathBuf,
    /// Every file this recording opened, in order.
    files: Vec<PathBuf>,
    /// `None` after a failed write, until a new file is opened.
    file: Option<File>,
    writer: Writer,
    buffer: BytesMut,
    /// Bytes of whole tags in the file so far.
    written: u64,
    /// The last metadata, video and audio sequence headers, for a new file.
    headers: [Option<(TagType, Bytes)>; 3],
    failed_at: Option<Instant>,
    flushed_at: Instant,
    failures: WriteFailures,
}

impl Recording {
    /// Creates the file for a publish of `key` (`APP/NAME`) and writes the
    /// FLV header; failed writes are counted in `failures`.
    pub fn create(dir: &Path, key: &str, failures: WriteFailures) -> std::io::Result<Recording> {
        let (app, name) = key.split_once('/').unwrap_or(("", key));
        let dir = dir.join(app);
        std::fs::create_dir_all(&dir)?;
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut recording = Recording {
            path: PathBuf::new(),
            files: Vec::new(),
            dir,
            name: format!("{name}-{seconds}"),
            file: None,
            writer: Writer::new(WriterOptions::default()),
            buffer: BytesMut::with_capacity(FLUSH_AT + 64 * 1024),
            written: 0,
            headers: [None, None, None],
            failed_at: None,
            flushed_at: Instant::now(),
            failures,
        };
        recording.open()?;
        Ok(recording)
    }

    /// Opens a new file under a name not taken yet and starts it with the FLV
    /// header and the headers seen so far.
    fn open(&mut self) -> std::io::Result<()> {
        let mut path = self.dir.join(format!("{}.flv", self.name));
        let mut n = 1;
        while path.exists() {
            path = self.dir.join(format!("{}-{n}.flv", self.name));
            n += 1;
        }
        let file = File::create(&path)?;
        self.files.push(path.clone());
        self.path = path;
        self.file = Some(file);
        self.written = 0;
        self.writer = Writer::new(WriterOptions::default());
        self.buffer.clear();
        self.writer.header(true, true, &mut self.buffer);
        Ok(())
    }

    /// The file being written (the latest one, after a failure).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every file this recording opened (more than one after a failed
    /// write), oldest first; one may have been removed (left empty).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Appends one message as a tag.
    pub fn write(
        &mut self,
        kind: MediaKind,
        timestamp: u64,
        payload: &Bytes,
    ) -> Result<(), RecordError> {
        let (tag_type, body) = match kind {
            MediaKind::Audio => (TagType::Audio, payload.clone()),
            MediaKind::Video => (TagType::Video, payload.clone()),
            // A file carries `onMetaData`, not the publisher's `@setDataFrame` wrapper.
            MediaKind::Data => (
                TagType::Script,
                crate::hub::strip_set_data_frame(payload.clone()),
            ),
        };
        let timestamp = i64::try_from(timestamp).unwrap_or(i64::MAX);
        let header_slot = match tag_type {
            TagType::Script => Some(0),
            TagType::Video if is_video_config(&body) => Some(1),
            TagType::Audio if body.get(1) == Some(&0) && body[0] >> 4 == 10 => Some(2),
            _ => None,
        };
        if let Some(slot) = header_slot {
            self.headers[slot] = Some((tag_type, body.clone()));
        }
        let key_frame = is_key_frame(tag_type, &body);
        if self.file.is_none() && !(key_frame && self.reopen(&body, timestamp)?) {
            return Ok(());
        }
        // The file then ends at a group of pictures' end, every second or so.
        if key_frame && self.flushed_at.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
        self.writer
            .write(tag_type, timestamp, body, &mut self.buffer)?;
        if self.buffer.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(())
    }

    /// After a failure, at a video key frame: once [`RETRY_AFTER`] has passed,
    /// tries a new file and writes the headers into it. Whether the tag at
    /// hand is to be written.
    fn reopen(&mut self, body: &Bytes, timestamp: i64) -> Result<bool, RecordError> {
        let due = self.failed_at.is_none_or(|at| at.elapsed() >= RETRY_AFTER);
        if !due {
            return Ok(false);
        }
        if let Err(error) = self.open() {
            self.failed(&error);
            return Ok(false);
        }
        info!(path = %self.path.display(), "recording again");
        let headers: Vec<_> = self.headers.iter().flatten().cloned().collect();
        for (tag_type, header) in headers {
            // The key frame's own header is written as the tag itself.
            if header != *body {
                self.writer
                    .write(tag_type, timestamp, header, &mut self.buffer)?;
            }
        }
        Ok(true)
    }

    /// Writes what is gathered. On failure the file is cut back to its last
    /// whole tag and closed, and what was gathered is dropped.
    fn flush(&mut self) {
        self.flushed_at = Instant::now();
        let Some(file) = self.file.as_mut() else {
            self.buffer.clear();
            return;
        };
        match file.write_all(&self.buffer) {
            Ok(()) => self.written += self.buffer.len() as u64,
            Err(error) => {
                // A partial write may have left half a tag: cut it off. A file
                // with nothing whole in it is not worth keeping (nor are the
                // empty files of retries while the disk stays full).
                let _ = file.set_len(self.written);
                self.file = None;
                if self.written == 0 {
                    let _ = std::fs::remove_file(&self.path);
                }
                self.failed(&error);
            }
        }
        self.buffer.clear();
    }

    fn failed(&mut self, error: &std::io::Error) {
        self.failures.record_failed();
        // One line per failed file (the retries are at least a second apart).
        warn!(
            path = %self.path.display(),
            %error,
            whole_bytes = self.written,
            "recording: cannot write; the file ends at its last whole tag, a new file is tried at a key frame"
        );
        self.failed_at = Some(Instant::now());
    }

    /// Writes what is left; returns the files written.
    pub fn finish(mut self) -> Vec<PathBuf> {
        self.flush();
        std::mem::take(&mut self.files)
    }
}

/// A video key frame (legacy or enhanced RTMP: the frame type is the same bits).
fn is_key_frame(tag_type: TagType, body: &[u8]) -> bool {
    tag_type == TagType::Video && body.first().is_some_and(|b| (b >> 4) & 7 == 1)
}

/// An AVC/HEVC sequence header, or an enhanced-RTMP sequence start.
fn is_video_config(body: &[u8]) -> bool {
    match body {
        [first, ..] if first & 0x80 != 0 => first & 0x0f == 0,
        [first, 0, ..] => matches!(first & 0x0f, 7 | 12),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_frame_a_second_later_writes_what_came_before() {
        let root = std::env::temp_dir().join(format!("live-ingest-record-{}", std::process::id()));
        let mut recording = Recording::create(&root, "live/k", WriteFailures::default()).unwrap();
        let key_frame = Bytes::from_static(&[0x17, 1, 0, 0, 0, 0, 0, 0, 1]);
        let header = Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]);
        recording.write(MediaKind::Video, 0, &header).unwrap();
        recording.write(MediaKind::Video, 0, &key_frame).unwrap();
        let path = recording.path().to_owned();
        let size = || std::fs::metadata(&path).unwrap().len();
        assert_eq!(size(), 0, "gathered, not written yet");
        std::thread::sleep(FLUSH_EVERY + Duration::from_millis(50));
        recording.write(MediaKind::Video, 1000, &key_frame).unwrap();
        // The header, the first two tags and their sizes: 13 + 2 * (11 + 9 + 4).
        assert_eq!(size(), 13 + 2 * 24);
        recording.finish();
        assert_eq!(size(), 13 + 3 * 24);
        let _ = std::fs::remove_dir_all(&root);
    }
}
