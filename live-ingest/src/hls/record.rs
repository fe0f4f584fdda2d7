//! `--record DIR`: each publish written as it arrives to
//! `DIR/APP/KEY-UNIXSECONDS.flv` with [`flv::Writer`]: every audio, video and
//! data message as one tag, timestamps as the publisher sent them.
//! Tags are gathered in memory and written 256 KiB at a time.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use flv::{TagType, Writer, WriterOptions};
use rtmp_core::MediaKind;

/// Bytes gathered before a write.
const FLUSH_AT: usize = 256 * 1024;

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
    path: PathBuf,
    file: File,
    writer: Writer,
    buffer: BytesMut,
}

impl Recording {
    /// Creates the file for a publish of `key` (`APP/NAME`) and writes the
    /// FLV header.
    pub fn create(dir: &Path, key: &str) -> std::io::Result<Recording> {
        let (app, name) = key.split_once('/').unwrap_or(("", key));
        let dir = dir.join(app);
        std::fs::create_dir_all(&dir)?;
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut path = dir.join(format!("{name}-{seconds}.flv"));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!("{name}-{seconds}-{n}.flv"));
            n += 1;
        }
        let file = File::create(&path)?;
        let mut writer = Writer::new(WriterOptions::default());
        let mut buffer = BytesMut::with_capacity(FLUSH_AT + 64 * 1024);
        writer.header(true, true, &mut buffer);
        Ok(Recording {
            path,
            file,
            writer,
            buffer,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
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
        self.writer
            .write(tag_type, timestamp, body, &mut self.buffer)?;
        if self.buffer.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        self.file
            .write_all(&self.buffer)
            .map_err(|source| RecordError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.buffer.clear();
        Ok(())
    }

    /// Writes what is left.
    pub fn finish(mut self) {
        if let Err(error) = self.flush() {
            tracing::warn!(%error, "recording: last write failed");
        }
    }
}
