//! What the muxer and the probe put out, into the stream's state: the file
//! map, the parts kept, the directory of `--out`, the bucket of `--store`,
//! the DASH timeline and the keys on disk.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hls_mux::dash::DashError;
use hls_mux::encryption::Encryption;
use hls_mux::playlist::{Segment, SegmentHead};
use hls_mux::{Format, Output};

use super::{EventInfo, FileKind, Served, State, KEPT_EVENTS, KEPT_INITS, PART_SEGMENTS};

/// The parts kept: those of the open segment, then of each of the latest
/// [`PART_SEGMENTS`] segments.
#[derive(Debug, Default)]
pub(crate) struct PartWindow {
    open: Vec<String>,
    recent: VecDeque<Vec<String>>,
}

impl PartWindow {
    /// A part of the open segment.
    pub(crate) fn part(&mut self, uri: String) {
        self.open.push(uri);
    }

    /// The open segment is complete: its parts join the recent ones, and
    /// the parts that left the window are returned, to be deleted.
    pub(crate) fn segment(&mut self) -> Vec<String> {
        self.recent.push_back(std::mem::take(&mut self.open));
        let mut gone = Vec::new();
        while self.recent.len() > PART_SEGMENTS {
            gone.extend(self.recent.pop_front().unwrap_or_default());
        }
        gone
    }
}

/// Takes the muxer's outputs into the file map (and onto disk, and into the
/// DASH timeline). Returns whether anything changed, and the last segment
/// DASH could not read.
pub(super) fn drain(
    state: &mut State,
    format: Format,
    encryption: Option<&Encryption>,
) -> (bool, Option<DashError>) {
    let mut changed = false;
    let mut dash_error = None;
    while let Some(output) = state.muxer.poll_output() {
        changed = true;
        match output {
            Output::Init { uri, data } => {
                if let Some(bucket) = &state.bucket {
                    bucket.init(&uri, &data);
                }
                if let Some(dash) = state.dash.as_mut() {
                    dash_error = dash.set_tracks(state.muxer.tracks()).err().or(dash_error);
                }
                if state.inits.len() >= KEPT_INITS {
                    state.inits.pop_front();
                }
                state
                    .inits
                    .push_back((uri.clone(), state.muxer.tracks().clone()));
                store(state, uri, vec![data], FileKind::Init, format);
            }
            Output::Part { uri, data, .. } => {
                if let (Some(encryption), Some(msn)) = (encryption, part_msn(&uri)) {
                    keys_to_disk(state, encryption, msn);
                }
                state.parts.part(uri.clone());
                store(state, uri, data, FileKind::Part, format);
            }
            Output::Segment {
                uri,
                data,
                msn,
                duration,
                discontinuity,
            } => {
                if let Some(encryption) = encryption {
                    keys_to_disk(state, encryption, msn);
                }
                if let Some(bucket) = state.bucket.as_mut() {
                    // As the live playlist lists it (date, init, key).
                    let listed = state.muxer.playlist().segments().find(|(m, _)| *m == msn);
                    let segment = listed.map_or_else(
                        || {
                            let head = SegmentHead::new().discontinuity(discontinuity);
                            Segment::new(uri.clone(), duration).head(head)
                        },
                        |(_, s)| s.clone(),
                    );
                    bucket.segment(segment, &data);
                }
                if let Some(dash) = state.dash.as_mut() {
                    let now = SystemTime::now();
                    let pushed = dash.push_segment(&uri, &data, discontinuity, now);
                    dash_error = pushed.err().or(dash_error);
                }
                store(state, uri, data, FileKind::Segment, format);
                for uri in state.parts.segment() {
                    state.files.remove(&uri);
                    if let Some(disk) = state.disk.as_mut() {
                        disk.remove(&uri);
                    }
                }
            }
            Output::Removed { uris } => {
                if let Some(dash) = state.dash.as_mut() {
                    dash.remove(&uris);
                }
                for uri in uris {
                    state.files.remove(&uri);
                    if let Some(disk) = state.disk.as_mut() {
                        disk.remove(&uri);
                    }
                }
            }
            _ => {}
        }
    }
    (changed, dash_error)
}

/// The media sequence number of a part's URI (`part12.3.m4s`).
fn part_msn(uri: &str) -> Option<u64> {
    uri.strip_prefix("part")?.split('.').next()?.parse().ok()
}

/// With `--out`, writes the keys up to segment `msn`'s period beside the
/// media (as nginx-rtmp's `hls_keys` does): whoever serves the directory
/// must guard them. Written before the media that needs them.
fn keys_to_disk(state: &mut State, encryption: &Encryption, msn: u64) {
    let Some(disk) = state.disk.as_mut() else {
        return;
    };
    let period = encryption.period(msn);
    while state.keys_on_disk <= period {
        let key = encryption.key(state.keys_on_disk);
        disk.write(
            &Encryption::key_uri(state.keys_on_disk),
            &[Bytes::copy_from_slice(&key)],
        );
        state.keys_on_disk += 1;
    }
}

fn store(state: &mut State, uri: String, data: Vec<Bytes>, kind: FileKind, format: Format) {
    if let Some(disk) = state.disk.as_mut() {
        disk.write(&uri, &data);
    }
    state.files.insert(
        uri,
        Served {
            data: data.into(),
            kind,
            format,
        },
    );
}

pub(super) fn write_playlist(state: &mut State) {
    if let Some(disk) = state.disk.as_mut() {
        let text = state.muxer.playlist().render();
        let files = &state.files;
        disk.write_playlist(text, |name| files.get(name).map(|f| &f.data[..]));
    }
}

pub(super) fn drain_probe(state: &mut State, arrival: Duration) {
    while let Some(output) = state.probe.poll_output() {
        if let media_probe::Output::Event(event) = output {
            if state.events.len() >= KEPT_EVENTS {
                state.events.pop_front();
            }
            state.events.push_back(EventInfo {
                kind: event.kind.name(),
                detail: format!("{:?}", event.kind),
                dts: event.dts,
                at: event.arrival.unwrap_or(arrival).as_secs_f64(),
            });
        }
    }
}
