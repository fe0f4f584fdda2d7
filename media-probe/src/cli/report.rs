//! Where the probe's outputs go: stdout in the chosen format, plus what the
//! summary, the JSON document and the plot need kept until the end.

use std::io::{self, Write};
use std::time::Duration;

use flv::Tag;
use media_probe::{Event, Interval, Output, Probe};

use super::args::{Format, Options};
use super::{ffprobe, json, plot, text};

/// Events kept for the summary, JSON and plot at most; the rest are counted.
const KEPT_EVENTS: usize = 100_000;
/// Intervals kept for JSON and the plot at most (a day of 1 s intervals, twice).
const KEPT_INTERVALS: usize = 200_000;

pub(crate) struct Report {
    probe: Probe,
    format: Format,
    frames: bool,
    plot: Option<std::path::PathBuf>,
    interval_s: f64,
    fail_on: Vec<usize>,
    out: io::BufWriter<io::Stdout>,
    /// Frames written into the JSON document's array so far.
    json_frames: u64,
    keep_intervals: bool,
    intervals: Vec<Interval>,
    events: Vec<Event>,
    events_not_kept: u64,
    bad_tags: u64,
    live: bool,
}

impl Report {
    pub(crate) fn new(options: &Options, probe: Probe) -> io::Result<Report> {
        let mut report = Report {
            probe,
            format: options.format,
            frames: options.frames,
            plot: options.plot.clone(),
            interval_s: options.probe.interval_ms as f64 / 1000.0,
            fail_on: options.fail_on.clone(),
            out: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            json_frames: 0,
            keep_intervals: options.plot.is_some() || options.format == Format::Json,
            intervals: Vec::new(),
            events: Vec::new(),
            events_not_kept: 0,
            bad_tags: 0,
            live: options.input.is_live(),
        };
        if report.format == Format::Json {
            report.out.write_all(b"{")?;
            if report.frames {
                report.out.write_all(b"\"frames\":[")?;
            }
        }
        Ok(report)
    }

    /// Every media event of a tag; a tag that does not parse is reported on
    /// stderr (the first few) and skipped, as FFmpeg skips it.
    pub(crate) fn push_tag(&mut self, tag: &Tag, arrival: Option<Duration>) -> io::Result<()> {
        if let Err(error) = self.probe.push_tag(tag, arrival) {
            self.bad_tags += 1;
            if self.bad_tags <= 10 {
                eprintln!("media-probe: skipped a tag: {error}");
            }
        }
        self.drain()
    }

    /// A frame or configuration that does not come from an FLV tag (MP4 input).
    pub(crate) fn push_event(&mut self, event: &flv::MediaEvent) -> io::Result<()> {
        self.probe.push_event(event, None);
        self.drain()
    }

    /// The clock moved on without input.
    pub(crate) fn tick(&mut self, now: Duration) -> io::Result<()> {
        self.probe.tick(now);
        self.drain()
    }

    fn drain(&mut self) -> io::Result<()> {
        let mut wrote = false;
        while let Some(output) = self.probe.poll_output() {
            wrote = true;
            match output {
                Output::Frame(record) => match self.format {
                    Format::ShowFrames => self
                        .out
                        .write_all(ffprobe::frame_section(&record).as_bytes())?,
                    Format::Json if self.frames => {
                        if self.json_frames > 0 {
                            self.out.write_all(b",\n")?;
                        }
                        self.json_frames += 1;
                        self.out.write_all(json::record(&record).as_bytes())?;
                    }
                    Format::JsonLines if self.frames => {
                        self.line("frame", &json::record(&record))?
                    }
                    _ => {}
                },
                Output::Interval(interval) => {
                    if self.format == Format::JsonLines {
                        self.line("interval", &json::interval(&interval))?;
                    }
                    if self.keep_intervals && self.intervals.len() < KEPT_INTERVALS {
                        self.intervals.push(interval);
                    }
                }
                Output::Event(event) => {
                    if self.format == Format::JsonLines {
                        self.line("event", &json::event(&event))?;
                    }
                    if self.events.len() < KEPT_EVENTS {
                        self.events.push(event);
                    } else {
                        self.events_not_kept += 1;
                    }
                }
                _ => {}
            }
        }
        if wrote && self.live {
            // Live output is read as it comes.
            self.out.flush()?;
        }
        Ok(())
    }

    /// A JSON Lines record: the object with its `type` first.
    fn line(&mut self, kind: &str, object: &str) -> io::Result<()> {
        let body = object.strip_prefix('{').unwrap_or(object);
        let sep = if body == "}" { "" } else { "," };
        writeln!(self.out, "{{\"type\":\"{kind}\"{sep}{body}")
    }

    /// Ends the input; writes the summary, document or plot. Returns whether a
    /// `--fail-on` event occurred.
    pub(crate) fn finish(mut self, end: Option<Duration>, input: &str) -> io::Result<bool> {
        self.probe.finish(end);
        self.drain()?;
        let summary = self.probe.summary();
        match self.format {
            Format::Summary => {
                let text = text::summary(input, &summary, &self.events, self.events_not_kept);
                self.out.write_all(text.as_bytes())?;
            }
            Format::Json => {
                if self.frames {
                    self.out.write_all(b"],\n")?;
                }
                self.out.write_all(b"\"intervals\":[")?;
                for (i, interval) in self.intervals.iter().enumerate() {
                    let sep = if i > 0 { ",\n" } else { "" };
                    write!(self.out, "{sep}{}", json::interval(interval))?;
                }
                write!(
                    self.out,
                    "],\n\"summary\":{},\n\"events\":[",
                    json::summary(&summary)
                )?;
                for (i, event) in self.events.iter().enumerate() {
                    let sep = if i > 0 { ",\n" } else { "" };
                    write!(self.out, "{sep}{}", json::event(event))?;
                }
                self.out.write_all(b"]}\n")?;
            }
            Format::JsonLines => self.line("summary", &json::summary(&summary))?,
            Format::ShowFrames => {}
        }
        self.out.flush()?;
        if let Some(path) = &self.plot {
            let svg = plot::svg(
                &format!("media-probe: {input}"),
                &self.intervals,
                &self.events,
                self.interval_s,
                self.probe.first_arrival(),
            );
            std::fs::write(path, svg)?;
        }
        Ok(self.fail_on.iter().any(|kind| summary.events[*kind] > 0))
    }
}
