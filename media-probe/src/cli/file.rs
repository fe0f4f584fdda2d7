//! FLV from a file or stdin, read in pieces (memory stays at one piece plus one
//! tag whatever the file's size); an MP4 file through `media_probe::mp4`.

use std::fs::File;
use std::io::{IsTerminal as _, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use flv::{ReadEvent, Reader, ReaderOptions};
use media_probe::mp4;

use super::report::Report;

const PIECE: usize = 256 * 1024;
/// Files smaller than this read too fast for a progress line to be worth it.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

pub(crate) fn run_file(path: &Path, report: Report) -> Result<bool, String> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(|e| format!("{name}: {e}"))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("{name}: {e}"))?;
    if mp4::is_mp4(&head[..n]) {
        return run_mp4(file, report, &name);
    }
    let size = file.metadata().ok().map(|m| m.len());
    run(file, size, report, &name)
}

/// An MP4 file: its configurations, then its frames in file order.
fn run_mp4(file: File, mut report: Report, name: &str) -> Result<bool, String> {
    let mut reader = mp4::Mp4Reader::new(file).map_err(|e| format!("{name}: {e}"))?;
    while let Some(event) = reader.next_event() {
        let event = match event {
            Ok(mp4::Mp4Event::Config(config)) => flv::MediaEvent::Config(config),
            Ok(mp4::Mp4Event::Frame(frame)) => flv::MediaEvent::Frame(frame),
            Ok(_) => continue,
            Err(e) => {
                // A damaged sample ends the input, as a truncated tag does.
                eprintln!("media-probe: {name}: {e}");
                break;
            }
        };
        report
            .push_event(&event)
            .map_err(|e| format!("writing output: {e}"))?;
    }
    report
        .finish(None, name)
        .map_err(|e| format!("{name}: {e}"))
}

pub(crate) fn run_stdin(report: Report) -> Result<bool, String> {
    run(std::io::stdin().lock(), None, report, "stdin")
}

fn run(
    mut input: impl Read,
    size: Option<u64>,
    mut report: Report,
    name: &str,
) -> Result<bool, String> {
    let mut reader = Reader::new(ReaderOptions::default().resync(true));
    let mut piece = vec![0u8; PIECE];
    let mut progress = Progress::new(size);
    let io = |e: std::io::Error| format!("{name}: {e}");
    loop {
        let n = match input.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        reader.push(&piece[..n]);
        drain(&mut reader, &mut report, name)?;
        progress.advance(n as u64);
    }
    reader.finish();
    drain(&mut reader, &mut report, name)?;
    progress.done();
    report.finish(None, name).map_err(io)
}

fn drain(reader: &mut Reader, report: &mut Report, name: &str) -> Result<(), String> {
    loop {
        match reader.next_event() {
            Ok(Some(ReadEvent::Tag(tag))) => report
                .push_tag(&tag, None)
                .map_err(|e| format!("writing output: {e}"))?,
            Ok(Some(ReadEvent::Skipped {
                offset,
                len,
                reason,
            })) => {
                eprintln!(
                    "media-probe: {name}: skipped {len} bytes at offset {offset} ({reason:?})"
                );
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            // A truncated last tag ends the input, as it ends FFmpeg's reading.
            Err(flv::Error::Truncated { offset, .. }) => {
                eprintln!("media-probe: {name}: the last tag, at offset {offset}, is truncated");
                return Ok(());
            }
            Err(error) => return Err(format!("{name}: {error}")),
        }
    }
}

/// A percentage on stderr, only when stderr is a terminal and the file is large.
struct Progress {
    size: Option<u64>,
    done: u64,
    shown: Option<Instant>,
}

impl Progress {
    fn new(size: Option<u64>) -> Progress {
        let size = size.filter(|s| *s >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal());
        Progress {
            size,
            done: 0,
            shown: None,
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        let Some(size) = self.size else { return };
        if self
            .shown
            .is_some_and(|t| t.elapsed() < Duration::from_millis(250))
        {
            return;
        }
        self.shown = Some(Instant::now());
        eprint!("\rmedia-probe: {:3}%", self.done * 100 / size.max(1));
    }

    fn done(&self) {
        if self.shown.is_some() {
            eprint!("\r                 \r");
        }
    }
}
