//! The `media-probe` command: arguments, inputs, and output formats around the
//! library's [`Probe`](media_probe::Probe).

mod args;
mod ffprobe;
mod file;
mod json;
mod names;
mod plot;
mod report;
mod rtmp;
mod text;

use std::process::ExitCode;

use args::{Input, Parsed};
use media_probe::Probe;
use report::Report;

pub(crate) fn main() -> ExitCode {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("media-probe: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let probe = match Probe::new(options.probe.clone()) {
        Ok(probe) => probe,
        Err(error) => {
            eprintln!("media-probe: {error}");
            return ExitCode::from(2);
        }
    };
    let report = match Report::new(&options, probe) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("media-probe: {error}");
            return ExitCode::from(1);
        }
    };
    let result = match &options.input {
        Input::File(path) => file::run_file(path, report),
        Input::Stdin => file::run_stdin(report),
        Input::Play(url) => rtmp::run(rtmp::Mode::Play(url.clone()), report, options.duration),
        Input::Listen(addr) => rtmp::run(rtmp::Mode::Listen(*addr), report, options.duration),
    };
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(3),
        Err(message) => {
            eprintln!("media-probe: {message}");
            ExitCode::from(1)
        }
    }
}
