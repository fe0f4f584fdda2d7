//! `--plot FILE.svg`: the picture the CTO drew by hand. Frames per interval in
//! DTS time, the same in arrival time, and the arrival lag, one panel each, with
//! the events marked where they happened. Plain SVG written by hand.

use std::fmt::Write as _;

use media_probe::{Event, Interval, TimeBase};

const WIDTH: f64 = 1000.0;
const PANEL: f64 = 200.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 64.0;
const GAP: f64 = 60.0;
/// Event markers drawn per panel at most (the rest would only blacken it).
const MAX_MARKERS: usize = 300;

/// One panel: an x range (seconds), a y range, and its drawing.
struct Panel {
    top: f64,
    x0: f64,
    x1: f64,
    y1: f64,
}

impl Panel {
    fn new(index: usize, x0: f64, x1: f64, y1: f64) -> Panel {
        Panel {
            top: TOP + index as f64 * (PANEL + GAP),
            x0,
            x1: if x1 > x0 { x1 } else { x0 + 1.0 },
            y1: if y1 > 0.0 { y1 } else { 1.0 },
        }
    }

    fn x(&self, seconds: f64) -> f64 {
        LEFT + (seconds - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        self.top + PANEL - value.clamp(0.0, self.y1) / self.y1 * PANEL
    }

    fn frame(&self, svg: &mut String, title: &str, x_label: &str) {
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="{:.1}" font-size="14" font-weight="bold">{}</text>"##,
            self.top - 8.0,
            escape(title)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{:.1}" width="{:.1}" height="{PANEL}" fill="none" stroke="#444"/>"##,
            self.top,
            WIDTH - LEFT - RIGHT
        );
        let step = nice_step(self.x1 - self.x0, 10.0);
        let mut t = (self.x0 / step).ceil() * step;
        while t <= self.x1 + 1e-9 {
            let x = self.x(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
                self.top,
                self.top + PANEL,
                self.top + PANEL + 12.0,
                trim(t)
            );
            t += step;
        }
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            self.top + PANEL + 26.0,
            escape(x_label)
        );
        let ystep = nice_step(self.y1, 4.0);
        let mut v = 0.0;
        while v <= self.y1 + 1e-9 {
            let y = self.y(v);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 4.0,
                y + 3.0,
                trim(v)
            );
            v += ystep;
        }
    }

    fn bars(
        &self,
        svg: &mut String,
        intervals: &[&Interval],
        colour: &str,
        value: impl Fn(&Interval) -> f64,
    ) {
        for interval in intervals {
            let start = interval.start_ms as f64 / 1000.0;
            let end = start + interval.duration_ms as f64 / 1000.0;
            let (x, w) = (self.x(start), (self.x(end) - self.x(start)).max(0.5));
            let y = self.y(value(interval));
            let _ = writeln!(
                svg,
                r##"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{:.2}" fill="{colour}"/>"##,
                self.top + PANEL - y
            );
        }
    }

    fn line(&self, svg: &mut String, points: &[(f64, f64)], colour: &str) {
        if points.is_empty() {
            return;
        }
        let mut path = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(
                path,
                "{}{:.2},{:.2} ",
                if i == 0 { "M" } else { "L" },
                self.x(*x),
                self.y(*y)
            );
        }
        let _ = writeln!(
            svg,
            r##"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>"##
        );
    }

    fn markers(&self, svg: &mut String, at: impl Iterator<Item = (f64, &'static str)>) {
        // Labels of events at (nearly) the same place are stacked, not overprinted.
        let mut last_x = f64::NEG_INFINITY;
        let mut stack = 0.0;
        for (seconds, name) in at.take(MAX_MARKERS) {
            if seconds < self.x0 || seconds > self.x1 {
                continue;
            }
            let x = self.x(seconds);
            stack = if x - last_x < 12.0 { stack + 1.0 } else { 0.0 };
            last_x = x;
            let (lx, ly) = (x + 3.0, self.top + 4.0 + (stack * 90.0) % (PANEL - 60.0));
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d62728" stroke-dasharray="3,2"><title>{name}</title></line><text x="{lx:.1}" y="{ly:.1}" font-size="9" fill="#d62728" transform="rotate(90 {lx:.1} {ly:.1})">{name}</text>"##,
                self.top,
                self.top + PANEL,
            );
        }
    }
}

/// The SVG document.
pub(crate) fn svg(
    title: &str,
    intervals: &[Interval],
    events: &[Event],
    interval_s: f64,
    first_arrival: Option<std::time::Duration>,
) -> String {
    let dts: Vec<&Interval> = intervals
        .iter()
        .filter(|i| i.base == TimeBase::Dts)
        .collect();
    let arrival: Vec<&Interval> = intervals
        .iter()
        .filter(|i| i.base == TimeBase::Arrival)
        .collect();
    let height = TOP + 3.0 * (PANEL + GAP);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">"##
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="white"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="20" font-size="15">{}</text>"##,
        escape(title)
    );
    let per = format!("frames per {} s", trim(interval_s));

    // Panel 1: DTS time.
    let (x0, x1) = span(&dts);
    let ymax = dts.iter().map(|i| i.frames() as f64).fold(0.0, f64::max);
    let panel = Panel::new(0, x0, x1, ymax * 1.1);
    panel.frame(
        &mut svg,
        &format!("{per} of DTS (video bars, audio line)"),
        "DTS, s",
    );
    panel.bars(&mut svg, &dts, "#4c78a8", |i| f64::from(i.video.frames));
    let audio: Vec<(f64, f64)> = dts
        .iter()
        .map(|i| (mid(i), f64::from(i.audio.frames)))
        .collect();
    panel.line(&mut svg, &audio, "#f58518");
    panel.markers(
        &mut svg,
        events
            .iter()
            .map(|e| (e.timeline_ms as f64 / 1000.0, e.kind.name())),
    );

    // Panel 2: arrival time.
    let origin = first_arrival.map_or(0.0, |d| d.as_secs_f64());
    let (x0, x1) = span(&arrival);
    let ymax = arrival
        .iter()
        .map(|i| i.frames() as f64)
        .fold(0.0, f64::max);
    let panel = Panel::new(1, x0, x1, ymax * 1.1);
    if arrival.is_empty() {
        panel.frame(
            &mut svg,
            &format!("{per} of arrival time: none (file input)"),
            "arrival, s",
        );
    } else {
        panel.frame(
            &mut svg,
            &format!("{per} of arrival time (video bars, audio line)"),
            "arrival, s",
        );
        panel.bars(&mut svg, &arrival, "#4c78a8", |i| f64::from(i.video.frames));
        let audio: Vec<(f64, f64)> = arrival
            .iter()
            .map(|i| (mid(i), f64::from(i.audio.frames)))
            .collect();
        panel.line(&mut svg, &audio, "#f58518");
    }
    let arrival_marks = || {
        events
            .iter()
            .filter_map(move |e| Some((e.arrival?.as_secs_f64() - origin, e.kind.name())))
    };
    panel.markers(&mut svg, arrival_marks());

    // Panel 3: lag.
    let lag: Vec<(f64, f64)> = arrival
        .iter()
        .filter_map(|i| Some((mid(i), i.lag_ms? as f64)))
        .collect();
    let ymax = lag.iter().map(|p| p.1).fold(0.0, f64::max);
    let panel = Panel::new(2, x0, x1, ymax * 1.1);
    panel.frame(
        &mut svg,
        "arrival lag, ms (wall clock minus DTS, from its warm-up minimum)",
        "arrival, s",
    );
    panel.line(&mut svg, &lag, "#54a24b");
    panel.markers(&mut svg, arrival_marks());
    let _ = writeln!(svg, "</svg>");
    svg
}

fn span(intervals: &[&Interval]) -> (f64, f64) {
    let start = intervals
        .first()
        .map_or(0.0, |i| i.start_ms as f64 / 1000.0);
    let end = intervals
        .iter()
        .map(|i| (i.start_ms + i.duration_ms) as f64 / 1000.0)
        .fold(start, f64::max);
    (start, end)
}

fn mid(interval: &Interval) -> f64 {
    (interval.start_ms as f64 + interval.duration_ms as f64 / 2.0) / 1000.0
}

/// A 1, 2 or 5 times a power of ten step giving about `ticks` ticks over `range`.
fn nice_step(range: f64, ticks: f64) -> f64 {
    if !(range.is_finite() && range > 0.0) {
        return 1.0;
    }
    let raw = range / ticks;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    step.max(1e-3)
}

fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(60.0, 10.0), 10.0);
        assert_eq!(nice_step(7.0, 10.0), 1.0);
        assert_eq!(nice_step(130.0, 4.0), 50.0);
        assert_eq!(nice_step(0.0, 4.0), 1.0);
        assert_eq!(trim(2.5), "2.5");
        assert_eq!(trim(3.0), "3");
    }
}
