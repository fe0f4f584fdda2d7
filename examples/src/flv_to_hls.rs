//! `flv_to_hls`: an FLV file repackaged as HLS (MPEG-TS or fMP4 segments and
//! a VOD playlist) or as one fragmented MP4 file, without re-encoding.
//!
//! The pipeline is the crates' public API only: `flv::Reader` (fed a
//! megabyte at a time) → `flv::MediaEvents` → `hls_mux::FlvAdapter` →
//! `hls_mux::Muxer` → files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use flv::{MediaEvent, MediaEvents, ReadEvent, ReaderOptions, TagType};
use hls_mux::playlist::PlaylistKind;
use hls_mux::{FlvAdapter, FlvInput, Format, Muxer, MuxerOptions, Output};

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// MPEG-TS segments and `index.m3u8`.
    Ts,
    /// fMP4 init segment, `.m4s` segments and `index.m3u8`.
    Fmp4,
    /// One fragmented MP4 file.
    Mp4,
}

/// The command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    /// The container.
    pub format: OutputFormat,
    /// Target segment duration, seconds.
    pub target_duration: f64,
    /// LL-HLS part duration, seconds (fMP4 only).
    pub part_duration: Option<f64>,
    /// The FLV file.
    pub input: PathBuf,
    /// The output directory (or, with `mp4`, a file ending in `.mp4` or a
    /// directory to write `index.mp4` into).
    pub output: PathBuf,
}

/// The usage text.
pub const USAGE: &str = "usage: flv_to_hls [--format ts|fmp4|mp4] [--target-duration S] [--part-duration S] INPUT.flv OUTDIR";

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut format = OutputFormat::Ts;
    let mut target_duration = 6.0;
    let mut part_duration = None;
    let mut positional = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--format" => {
                format = match value("--format")?.as_str() {
                    "ts" => OutputFormat::Ts,
                    "fmp4" => OutputFormat::Fmp4,
                    "mp4" => OutputFormat::Mp4,
                    other => return Err(format!("unknown format {other:?}: ts, fmp4 or mp4")),
                }
            }
            "--target-duration" => {
                target_duration = seconds("--target-duration", &value("--target-duration")?)?
            }
            "--part-duration" => {
                part_duration = Some(seconds("--part-duration", &value("--part-duration")?)?)
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"))
            }
            _ => positional.push(arg.clone()),
        }
    }
    let [input, output] = <[String; 2]>::try_from(positional)
        .map_err(|_| format!("expected INPUT.flv and OUTDIR\n{USAGE}"))?;
    if part_duration.is_some() && format != OutputFormat::Fmp4 {
        return Err(
            "--part-duration needs --format fmp4 (Low-Latency HLS parts are fMP4 fragments)"
                .to_owned(),
        );
    }
    Ok(Args {
        format,
        target_duration,
        part_duration,
        input: input.into(),
        output: output.into(),
    })
}

fn seconds(name: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!(
            "{name} takes a number of seconds above 0, not {text:?}"
        )),
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Frames written.
    pub frames: u64,
    /// Segments written.
    pub segments: u64,
    /// Bytes written (segments, init segments, parts, playlist or MP4).
    pub bytes: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Bytes read from the input at a time.
const READ_SIZE: usize = 1 << 20;

/// Runs the conversion, streaming the input: it is read a megabyte at a
/// time into the sans-IO `flv::Reader`, so memory holds what the open
/// segment needs, not the whole file (and a 100 MB input costs no 100 MB of
/// fresh pages, which took half the run time).
pub fn run(args: &Args) -> Result<Summary, String> {
    let name = args.input.display();
    let mut file = File::open(&args.input).map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut conversion = Conversion::new(args)?;
    let mut reader = flv::Reader::new(ReaderOptions::default());
    let mut chunk = vec![0u8; READ_SIZE];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read {name}: {e}")),
        };
        if n == 0 {
            reader.finish();
        } else {
            reader.push(&chunk[..n]);
        }
        while let Some(event) = reader.next_event().map_err(|e| format!("{name}: {e}"))? {
            let ReadEvent::Tag(tag) = event else {
                continue;
            };
            if matches!(tag.tag_type, TagType::Audio | TagType::Video) {
                for event in MediaEvents::new(tag) {
                    conversion.push(event.map_err(|e| format!("{name}: {e}"))?)?;
                }
            }
        }
        if n == 0 {
            return conversion.finish();
        }
    }
}

/// One conversion: media events in, files out.
struct Conversion<'a> {
    args: &'a Args,
    muxer: Muxer,
    adapter: FlvAdapter,
    sink: Sink,
    summary: Summary,
}

impl<'a> Conversion<'a> {
    fn new(args: &'a Args) -> Result<Conversion<'a>, String> {
        let mut options = MuxerOptions::new(match args.format {
            OutputFormat::Ts => Format::Ts,
            OutputFormat::Fmp4 | OutputFormat::Mp4 => Format::Fmp4,
        });
        options.target_duration = args.target_duration;
        options.part_duration = args.part_duration;
        // Low-Latency HLS is a live feature (a VOD playlist may not carry
        // parts): with parts the playlist is an EVENT one, ended like a VOD one.
        options.kind = if args.part_duration.is_some() {
            PlaylistKind::Event
        } else {
            PlaylistKind::Vod
        };
        Ok(Conversion {
            args,
            muxer: Muxer::new(options).map_err(|e| e.to_string())?,
            adapter: FlvAdapter::new(),
            sink: Sink::new(args)?,
            summary: Summary::default(),
        })
    }

    fn push(&mut self, event: MediaEvent) -> Result<(), String> {
        let inputs = self
            .adapter
            .push(event)
            .map_err(|e| format!("{}: {e}", self.args.input.display()))?;
        for input in inputs {
            match input {
                FlvInput::Config(config) => {
                    self.muxer.set_config(config).map_err(|e| e.to_string())?
                }
                FlvInput::Frame(frame) => {
                    self.muxer.push(frame).map_err(|e| e.to_string())?;
                    self.summary.frames += 1;
                }
                _ => {}
            }
        }
        self.drain()
    }

    fn drain(&mut self) -> Result<(), String> {
        while let Some(output) = self.muxer.poll_output() {
            self.sink.write(output, &mut self.summary)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, String> {
        self.muxer.finish().map_err(|e| e.to_string())?;
        self.drain()?;
        if self.summary.segments == 0 {
            return Err(format!(
                "{}: no frame to package (no key frame, or no audio/video)",
                self.args.input.display()
            ));
        }
        self.sink.finish(&self.muxer, &mut self.summary)?;
        Ok(self.summary)
    }
}

/// Where outputs go: files in a directory, or one MP4 file.
enum Sink {
    Directory(PathBuf),
    Mp4 {
        path: PathBuf,
        file: File,
        inits: u32,
    },
}

impl Sink {
    fn new(args: &Args) -> Result<Sink, String> {
        if args.format == OutputFormat::Mp4 {
            let path = if args.output.extension().is_some_and(|e| e == "mp4") {
                args.output.clone()
            } else {
                create_dir(&args.output)?;
                args.output.join("index.mp4")
            };
            let file = File::create(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            return Ok(Sink::Mp4 {
                path,
                file,
                inits: 0,
            });
        }
        create_dir(&args.output)?;
        Ok(Sink::Directory(args.output.clone()))
    }

    fn write(&mut self, output: Output, summary: &mut Summary) -> Result<(), String> {
        match self {
            Sink::Directory(dir) => match output {
                Output::Init { uri, data } => write_file(&dir.join(uri), &[data], summary),
                Output::Segment { uri, data, .. } => {
                    summary.segments += 1;
                    write_file(&dir.join(uri), &data, summary)
                }
                Output::Part { uri, data, .. } => write_file(&dir.join(uri), &data, summary),
                _ => Ok(()),
            },
            Sink::Mp4 { path, file, inits } => match output {
                Output::Init { data, .. } => {
                    *inits += 1;
                    if *inits > 1 {
                        return Err(format!(
                            "the codec configuration changes mid-stream; one MP4 file cannot hold that (its moov is written once): use --format fmp4 or ts, which start a new segment with a discontinuity ({})",
                            path.display()
                        ));
                    }
                    write_all(file, path, &[data], summary)
                }
                // A single file is the init segment and the fragments, without `styp`.
                Output::Segment { data, .. } => {
                    summary.segments += 1;
                    write_all(file, path, data.get(1..).unwrap_or_default(), summary)
                }
                _ => Ok(()),
            },
        }
    }

    fn finish(self, muxer: &Muxer, summary: &mut Summary) -> Result<(), String> {
        match self {
            Sink::Directory(dir) => {
                let text = muxer.playlist().render();
                write_file(&dir.join("index.m3u8"), &[Bytes::from(text)], summary)
            }
            Sink::Mp4 { path, file, .. } => {
                file.sync_data().ok();
                summary.files.push(path);
                Ok(())
            }
        }
    }
}

fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn write_file(path: &Path, data: &[Bytes], summary: &mut Summary) -> Result<(), String> {
    let mut file =
        File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    write_all(&mut file, path, data, summary)?;
    summary.files.push(path.to_owned());
    Ok(())
}

/// Writes `data` with vectored writes and counts the bytes.
fn write_all(
    file: &mut File,
    path: &Path,
    data: &[Bytes],
    summary: &mut Summary,
) -> Result<(), String> {
    live_ingest::vectored::write_all(file, data)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    summary.bytes += data.iter().map(|d| d.len() as u64).sum::<u64>();
    Ok(())
}

/// The command: returns the exit code.
pub fn main_with_args(args: &[String], err: &mut dyn Write) -> i32 {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(err, "{message}");
            return 2;
        }
    };
    match run(&args) {
        Ok(summary) => {
            let _ = writeln!(
                err,
                "{} frames, {} segments, {} bytes in {} files",
                summary.frames,
                summary.segments,
                summary.bytes,
                summary.files.len()
            );
            0
        }
        Err(message) => {
            let _ = writeln!(err, "flv_to_hls: {message}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_the_documented_command_line() {
        let parsed = args(&[
            "--format",
            "fmp4",
            "--target-duration",
            "2",
            "--part-duration",
            "0.5",
            "in.flv",
            "out",
        ])
        .unwrap();
        assert_eq!(parsed.format, OutputFormat::Fmp4);
        assert_eq!(
            (parsed.target_duration, parsed.part_duration),
            (2.0, Some(0.5))
        );
        assert_eq!(parsed.input, PathBuf::from("in.flv"));
        assert_eq!(args(&["in.flv", "out"]).unwrap().format, OutputFormat::Ts);
    }

    #[test]
    fn refuses_what_cannot_be_done() {
        assert!(args(&["in.flv"]).unwrap_err().contains("usage"));
        assert!(args(&["--format", "mkv", "a", "b"])
            .unwrap_err()
            .contains("mkv"));
        assert!(args(&["--target-duration", "-1", "a", "b"])
            .unwrap_err()
            .contains("above 0"));
        assert!(args(&["--part-duration", "0.5", "a", "b"])
            .unwrap_err()
            .contains("fmp4"));
    }
}
