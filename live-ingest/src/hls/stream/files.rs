//! What the HTTP side reads of a stream: its files (init segments,
//! segments, parts, and their single-track views), its DASH manifest and
//! files, and whether a requested name is about to be made.

use std::time::SystemTime;

use hls_mux::dash::DashFile;
use hls_mux::Format;

use super::{FileKind, Served, Stream};
use crate::hls::tracks::{cut, view_of, ExtraId};

impl Stream {
    /// The DASH MPD at `now` (`--dash`); `None` without DASH or before the
    /// first segment.
    pub fn dash_manifest(&self, now: SystemTime) -> Option<String> {
        self.lock().dash.as_ref()?.manifest(now)
    }

    /// The DASH file `name` (`dash-ID-P.mp4` or `dash-ID-P-TIME.m4s`), if it
    /// is one of the current period's: a track's segment is cut out of the
    /// muxed one here, outside the stream's lock.
    pub fn dash_file(&self, name: &str) -> Option<Served> {
        let (file, segment) = {
            let state = self.lock();
            let file = state.dash.as_ref()?.file(name)?;
            let segment = match &file {
                DashFile::Media { segment, .. } => state.files.get(segment).cloned(),
                _ => None,
            };
            (file, segment)
        };
        let (data, kind) = match file {
            DashFile::Init(init) => (vec![init], FileKind::Init),
            DashFile::Media { track_id, .. } => {
                let data = hls_mux::dash::track_segment(&segment?.data, track_id).ok()?;
                (data, FileKind::Segment)
            }
            _ => return None,
        };
        Some(Served {
            data: data.into(),
            kind,
            format: Format::Fmp4,
        })
    }

    /// The file `name` (init segment, segment or part), if it is here.
    /// Names in `video/` and `audio0/` are the single-track views of the
    /// stream's own fMP4 files ([`crate::hls::tracks`]), cut outside the lock.
    pub fn file(&self, name: &str) -> Option<Served> {
        let Some((media, name)) = view_of(name) else {
            return self.lock().files.get(name).cloned();
        };
        if self.options.muxer.format != Format::Fmp4 {
            return None;
        }
        let (served, tracks) = {
            let state = self.lock();
            let served = state.files.get(name).cloned()?;
            let tracks = match served.kind {
                FileKind::Init => state.inits.iter().find(|(uri, _)| uri == name)?.1.clone(),
                _ => state.muxer.tracks().clone(),
            };
            (served, tracks)
        };
        cut(&served, &tracks, media)
    }

    /// Whether `name` is a part or segment the live stream has not made yet
    /// but soon will (the preload hint, or a little ahead of it): a request
    /// for it waits rather than fail (rfc8216bis 6.2.6).
    pub fn is_coming(&self, name: &str) -> bool {
        if self.lock().publisher.is_none() {
            return false;
        }
        let (extra, name) = match (view_of(name), name.split_once('/')) {
            (Some((_, name)), _) => (None, name),
            (None, Some((dir, name))) => match ExtraId::of_dir(dir) {
                Some(id) => (Some(id), name),
                None => return false,
            },
            (None, None) => (None, name),
        };
        let next = self.with_playlist(extra, |p| (p.next_msn(), p.next_part()));
        let Some((next_msn, next_part)) = next else {
            return false;
        };
        if let Some((msn, part)) = parse_part(name) {
            return (msn == next_msn && part >= next_part && part < next_part + 16)
                || (msn == next_msn + 1 && part < 16);
        }
        match parse_segment(name) {
            Some(msn) => msn == next_msn || msn == next_msn + 1,
            None => false,
        }
    }
}

/// `partMSN.N.m4s` → (MSN, N).
fn parse_part(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part")?.strip_suffix(".m4s")?;
    let (msn, part) = rest.split_once('.')?;
    Some((number(msn)?, number(part)?))
}

/// `segMSN.ts` or `segMSN.m4s` → MSN.
fn parse_segment(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("seg")?;
    let digits = rest
        .strip_suffix(".m4s")
        .or_else(|| rest.strip_suffix(".ts"))?;
    number(digits)
}

fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_what_is_coming() {
        assert_eq!(parse_part("part12.3.m4s"), Some((12, 3)));
        assert_eq!(parse_part("part12.m4s"), None);
        assert_eq!(parse_part("part1.2.ts"), None);
        assert_eq!(parse_part("part+1.2.m4s"), None);
        assert_eq!(parse_segment("seg7.ts"), Some(7));
        assert_eq!(parse_segment("seg7.m4s"), Some(7));
        assert_eq!(parse_segment("seg.m4s"), None);
        assert_eq!(parse_segment("init0.mp4"), None);
    }
}
