//! The command line, parsed by hand (a dozen flags do not need a parser crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use media_probe::{EventKind, ProbeConfig};

pub(crate) const USAGE: &str = "\
usage: media-probe [OPTIONS] INPUT
       media-probe [OPTIONS] --listen ADDR

INPUT is an FLV or MP4 file (progressive or fragmented), - for FLV on
stdin, or rtmp://HOST[:PORT]/APP/KEY (played).
--listen ADDR accepts one RTMP publisher (any app and key) on ADDR, e.g.
127.0.0.1:1935, and stops when it leaves.

output (default: a readable summary on stdout):
  --show-frames        ffprobe-style [FRAME] sections, in decode order
  --json               one JSON document: frames, intervals, summary, events
  --jsonl              one JSON object per line as they come (live use)
  --no-frames          leave the frames out of --json / --jsonl
  --plot FILE.svg      frames per interval in DTS and arrival time, lag, events

analysis:
  --interval S         statistics interval, seconds (default 1)
  --jump-ms MS         DTS jump threshold (default 1000)
  --stall-ms MS        stall threshold, arrival time (default 2000)
  --lag-ms MS          arrival lag change threshold (default 1000)
  --drift-ms MS        audio/video drift threshold (default 500)
  --gop-limit-ms MS    longest acceptable GOP (default 10000)
  --gop-change-ms MS   GOP length change threshold (default 100)
  --fps-tolerance F    accepted frame rate deviation, fraction (default 0.1)
  --fps F              nominal frame rate (default: from the SPS, or measured)
  --no-pict-type       do not parse slice headers for I/P/B

control:
  --fail-on KINDS      exit with status 3 if an event of these kinds occurs
                       (comma-separated: dts_jump,stall,... or any)
  --duration S         stop live input after S seconds
  -h, --help           this text

exit status: 0 done, 1 input failed, 2 bad usage, 3 a --fail-on event occurred.
";

/// Where frames come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    File(PathBuf),
    Stdin,
    Play(String),
    Listen(SocketAddr),
}

impl Input {
    pub(crate) fn is_live(&self) -> bool {
        matches!(self, Input::Play(_) | Input::Listen(_))
    }
}

/// How results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Summary,
    ShowFrames,
    Json,
    JsonLines,
}

#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) input: Input,
    pub(crate) format: Format,
    pub(crate) frames: bool,
    pub(crate) plot: Option<PathBuf>,
    pub(crate) probe: ProbeConfig,
    /// Event kind indexes (into `EventKind::NAMES`) that fail the run.
    pub(crate) fail_on: Vec<usize>,
    pub(crate) duration: Option<Duration>,
}

/// What the command line asks for: a run, or the help text.
#[derive(Debug)]
pub(crate) enum Parsed {
    Run(Box<Options>),
    Help,
}

pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut args = args.into_iter();
    let mut input = None;
    let mut format = Format::Summary;
    let mut frames = true;
    let mut plot = None;
    let mut probe = ProbeConfig::default();
    let mut fail_on = Vec::new();
    let mut duration = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--show-frames" => format = Format::ShowFrames,
            "--json" => format = Format::Json,
            "--jsonl" => format = Format::JsonLines,
            "--no-frames" => frames = false,
            "--no-pict-type" => probe.pict_type = false,
            "--plot" => plot = Some(PathBuf::from(value("--plot")?)),
            "--listen" => {
                let addr = value("--listen")?;
                let addr = addr.parse().map_err(|_| {
                    format!("--listen: `{addr}` is not an address like 127.0.0.1:1935")
                })?;
                set_input(&mut input, Input::Listen(addr))?;
            }
            "--interval" => probe.interval_ms = seconds_ms("--interval", &value("--interval")?)?,
            "--duration" => {
                let ms = seconds_ms("--duration", &value("--duration")?)?;
                duration = Some(Duration::from_millis(ms as u64));
            }
            "--jump-ms" => probe.jump_ms = number("--jump-ms", &value("--jump-ms")?)?,
            "--stall-ms" => probe.stall_ms = number("--stall-ms", &value("--stall-ms")?)?,
            "--lag-ms" => probe.lag_ms = number("--lag-ms", &value("--lag-ms")?)?,
            "--drift-ms" => probe.drift_ms = number("--drift-ms", &value("--drift-ms")?)?,
            "--gop-limit-ms" => {
                probe.gop_limit_ms = number("--gop-limit-ms", &value("--gop-limit-ms")?)?
            }
            "--gop-change-ms" => {
                probe.gop_change_ms = number("--gop-change-ms", &value("--gop-change-ms")?)?
            }
            "--fps-tolerance" => {
                probe.fps_tolerance = fraction("--fps-tolerance", &value("--fps-tolerance")?)?
            }
            "--fps" => probe.nominal_fps = Some(fraction("--fps", &value("--fps")?)?),
            "--fail-on" => fail_on = kinds(&value("--fail-on")?)?,
            "-" => set_input(&mut input, Input::Stdin)?,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            url if url.starts_with("rtmp://") => set_input(&mut input, Input::Play(url.into()))?,
            path => set_input(&mut input, Input::File(PathBuf::from(path)))?,
        }
    }
    let input = input.ok_or("no input: give a file, -, an rtmp:// URL or --listen ADDR")?;
    probe.positions = !input.is_live();
    probe.records = frames || format == Format::ShowFrames;
    probe.validate().map_err(|e| e.to_string())?;
    Ok(Parsed::Run(Box::new(Options {
        input,
        format,
        frames,
        plot,
        probe,
        fail_on,
        duration,
    })))
}

fn set_input(slot: &mut Option<Input>, input: Input) -> Result<(), String> {
    if slot.replace(input).is_some() {
        return Err("more than one input".into());
    }
    Ok(())
}

fn number(name: &str, value: &str) -> Result<i64, String> {
    value
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or(format!("{name}: `{value}` is not a whole number of ms"))
}

fn fraction(name: &str, value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or(format!("{name}: `{value}` is not a positive number"))
}

fn seconds_ms(name: &str, value: &str) -> Result<i64, String> {
    let seconds = fraction(name, value)?;
    if seconds > 1e9 {
        return Err(format!("{name}: `{value}` seconds is too long"));
    }
    Ok(((seconds * 1000.0).round() as i64).max(1))
}

fn kinds(list: &str) -> Result<Vec<usize>, String> {
    if list == "any" {
        return Ok((0..EventKind::NAMES.len()).collect());
    }
    list.split(',')
        .map(|name| {
            EventKind::NAMES
                .iter()
                .position(|n| *n == name.trim())
                .ok_or(format!(
                    "--fail-on: unknown event kind `{name}` (known: {})",
                    EventKind::NAMES.join(", ")
                ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Parsed::Run(options) => Ok(*options),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn inputs_and_flags() {
        let options = run(&["--json", "--no-frames", "--interval", "5", "a.flv"]).unwrap();
        assert_eq!(options.input, Input::File("a.flv".into()));
        assert_eq!(options.format, Format::Json);
        assert!(!options.probe.records && options.probe.positions);
        assert_eq!(options.probe.interval_ms, 5000);

        let options = run(&["--listen", "127.0.0.1:1935", "--fail-on", "stall,dts_jump"]).unwrap();
        assert_eq!(
            options.input,
            Input::Listen("127.0.0.1:1935".parse().unwrap())
        );
        assert_eq!(options.fail_on, [3, 0]);
        assert!(!options.probe.positions);

        let options = run(&["--show-frames", "--no-frames", "rtmp://h/live/k"]).unwrap();
        assert!(options.probe.records, "--show-frames needs the records");
        assert_eq!(options.input, Input::Play("rtmp://h/live/k".into()));
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(run(&[]).unwrap_err().contains("no input"));
        assert!(run(&["a.flv", "b.flv"])
            .unwrap_err()
            .contains("more than one"));
        assert!(run(&["--fail-on", "stalls", "-"])
            .unwrap_err()
            .contains("unknown event kind"));
        assert!(run(&["--interval", "0", "-"])
            .unwrap_err()
            .contains("positive"));
        assert!(run(&["--bogus", "-"])
            .unwrap_err()
            .contains("unknown option"));
        assert!(run(&["--listen", "nowhere", "-"]).is_err());
        assert_eq!(run(&["--help"]).unwrap_err(), "help");
    }
}
