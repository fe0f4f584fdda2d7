//! The LL-HLS viewer: every part in order, by blocking playlist reloads.

use std::collections::HashMap;
use std::time::Duration;

use super::http::Http;
use super::{Counters, Target};

/// How long a viewer waits before asking again for a stream that is gone.
const RETRY: Duration = Duration::from_secs(1);

/// A blocking reload's limit: the server answers within three target
/// durations (rfc8216bis 6.2.5.2); more means it hung.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(20);

/// One segment of a playlist, as the viewer needs it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Listed {
    /// Its media sequence number.
    pub(super) msn: u64,
    /// Its URI, once complete.
    pub(super) uri: Option<String>,
    /// Its parts' URIs (listed for the recent segments only).
    pub(super) parts: Vec<String>,
    /// `EXT-X-DISCONTINUITY` before it.
    pub(super) discontinuity: bool,
    /// The init segment it refers to.
    pub(super) map: Option<String>,
    /// Its discontinuity number: `EXT-X-DISCONTINUITY-SEQUENCE` plus the
    /// discontinuities listed up to it. A new publisher (or, in a cluster,
    /// a new node) raises it.
    pub(super) timeline: u64,
}

/// What the viewer reads of a media playlist.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Listing {
    /// The segments, the open one (parts only) last.
    pub(super) segments: Vec<Listed>,
    /// `EXT-X-ENDLIST`: the publisher left.
    pub(super) ended: bool,
}

fn quoted_uri(line: &str) -> Option<String> {
    let start = line.find("URI=\"")? + 5;
    let len = line[start..].find('"')?;
    Some(line[start..start + len].to_owned())
}

/// Parses the lines of a media playlist the viewer needs.
pub(super) fn parse(text: &str) -> Listing {
    let mut listing = Listing::default();
    let mut msn = 0;
    let mut open = Listed::default();
    let mut map = None;
    let mut timeline = 0u64;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("#EXT-X-DISCONTINUITY-SEQUENCE:") {
            timeline = n.trim().parse().unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            msn = n.trim().parse().unwrap_or(0);
        } else if line.starts_with("#EXT-X-MAP:") {
            map = quoted_uri(line);
        } else if line.starts_with("#EXT-X-PART:") {
            open.parts.extend(quoted_uri(line));
        } else if line == "#EXT-X-DISCONTINUITY" {
            open.discontinuity = true;
            timeline += 1;
        } else if line == "#EXT-X-ENDLIST" {
            listing.ended = true;
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            open.msn = msn;
            open.uri = Some(line.trim().to_owned());
            open.map = map.clone();
            open.timeline = timeline;
            listing.segments.push(std::mem::take(&mut open));
            msn += 1;
        }
    }
    if !open.parts.is_empty() || open.discontinuity {
        open.msn = msn;
        open.map = map;
        open.timeline = timeline;
        listing.segments.push(open);
    }
    listing
}

/// The `(track_id, tfdt)` of each `traf` of an fMP4 fragment; empty for
/// anything else (MPEG-TS).
pub(super) fn tfdts(data: &[u8]) -> Vec<(u32, u64)> {
    let mut found = Vec::new();
    for (kind, moof) in boxes(data) {
        if kind != *b"moof" {
            continue;
        }
        for (kind, traf) in boxes(moof) {
            if kind != *b"traf" {
                continue;
            }
            let mut track = None;
            let mut time = None;
            for (kind, body) in boxes(traf) {
                match &kind {
                    b"tfhd" => track = body.get(4..8).map(|b| be(b) as u32),
                    b"tfdt" => {
                        time = match body.first() {
                            Some(1) => body.get(4..12).map(be),
                            Some(_) => body.get(4..8).map(be),
                            None => None,
                        }
                    }
                    _ => {}
                }
            }
            if let (Some(track), Some(time)) = (track, time) {
                found.push((track, time));
            }
        }
    }
    found
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |v, b| (v << 8) | u64::from(*b))
}

/// The (type, body) of each box in `data`, stopping at the first malformed one.
fn boxes(mut data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut list = Vec::new();
    while data.len() >= 8 {
        let size = be(&data[..4]) as usize;
        let kind = [data[4], data[5], data[6], data[7]];
        if size < 8 || size > data.len() {
            break;
        }
        list.push((kind, &data[8..size]));
        data = &data[size..];
    }
    list
}

/// Where a viewer is: the next part to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Next {
    msn: u64,
    part: usize,
}

/// The viewer's state across reloads.
struct Viewer<'a> {
    target: &'a Target,
    http: Http,
    base: String,
    next: Option<Next>,
    map: Option<String>,
    /// The last `tfdt` per track since the last discontinuity.
    tfdt: HashMap<u32, u64>,
    /// A publisher change was seen since the last read (no gap counted).
    changed: bool,
    /// The discontinuity number of the last segment read from.
    timeline: Option<u64>,
    /// When it last read a part or segment.
    last_read: Option<std::time::Instant>,
}

/// Gaps described on stderr so far, by every viewer of the process.
static GAPS_DESCRIBED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads the stream for ever, waiting whenever its publisher is gone.
pub(super) async fn run(target: Target) {
    let mut viewer = Viewer {
        http: Http::new(target.http),
        base: format!("/{}/{}/", target.app, target.name),
        target: &target,
        next: None,
        map: None,
        tfdt: HashMap::new(),
        changed: false,
        timeline: None,
        last_read: None,
    };
    let counters = &target.counters;
    let mut reading = false;
    loop {
        let live = viewer.follow().await;
        if reading != live {
            reading = live;
            if live {
                Counters::add(&counters.reading, 1);
            } else {
                counters
                    .reading
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        if !live {
            tokio::time::sleep(RETRY).await;
        }
    }
}

impl Viewer<'_> {
    fn counters(&self) -> &Counters {
        &self.target.counters
    }

    /// One playlist load (blocking for the next part once placed) and the
    /// reads it allows; false when the stream is not live now.
    async fn follow(&mut self) -> bool {
        let query = match self.next {
            Some(next) => format!("?_HLS_msn={}&_HLS_part={}", next.msn, next.part),
            None => String::new(),
        };
        let path = format!("{}index.m3u8{query}", self.base);
        let (status, body) = match self.http.get(&path, RELOAD_TIMEOUT).await {
            Ok(answer) => answer,
            Err(_) => {
                Counters::add(&self.counters().failures, 1);
                return false;
            }
        };
        if status != 200 {
            // 404: no such stream (yet, or any more): the publisher's gap.
            Counters::add(&self.counters().waits, 1);
            self.changed = true;
            if status == 404 {
                self.next = None;
            }
            return false;
        }
        let listing = parse(&String::from_utf8_lossy(&body));
        self.read(&listing).await;
        if listing.ended {
            Counters::add(&self.counters().waits, 1);
            self.changed = true;
            return false;
        }
        true
    }

    /// Reads every part the listing allows from `self.next` on.
    async fn read(&mut self, listing: &Listing) {
        let Some(first) = listing.segments.first() else {
            return;
        };
        let next = match self.next {
            Some(next) if next.msn >= first.msn => next,
            Some(_) => {
                // Asked for, then no longer listed: a gap unless the
                // publisher changed in between (a discontinuity since).
                let newer = listing.segments.last().map(|s| s.timeline);
                let moved_on = newer.is_some_and(|t| self.timeline.is_some_and(|own| t > own));
                if !self.changed && !moved_on {
                    let (first_msn, last) = (first.msn, listing.segments.last().map(|s| s.msn));
                    let asked = self.next;
                    self.gap(format_args!(
                        "asked {asked:?}, listed {first_msn}..={last:?}"
                    ));
                }
                self.live_edge(listing)
            }
            None => self.live_edge(listing),
        };
        self.next = Some(next);
        let mut at = next;
        while let Some(segment) = listing.segments.iter().find(|s| s.msn == at.msn) {
            if at.part == 0 && segment.discontinuity {
                self.tfdt.clear();
            }
            if let Some(part) = segment.parts.get(at.part) {
                if !self.fetch(segment.map.as_deref(), part).await {
                    break;
                }
                self.timeline = Some(segment.timeline);
                at.part += 1;
            } else if segment.uri.is_some() && segment.parts.is_empty() && at.part == 0 {
                // An older segment listed without parts: read it whole.
                let uri = segment.uri.clone().unwrap_or_default();
                if !self.fetch(segment.map.as_deref(), &uri).await {
                    break;
                }
                self.timeline = Some(segment.timeline);
                at = Next {
                    msn: at.msn + 1,
                    part: 0,
                };
            } else if segment.uri.is_some() {
                if segment.parts.is_empty() && !self.changed {
                    // Part of it read, the rest no longer listed as parts.
                    self.gap(format_args!(
                        "asked {at:?}: segment {} listed without its parts",
                        at.msn
                    ));
                }
                at = Next {
                    msn: at.msn + 1,
                    part: 0,
                };
            } else {
                break;
            }
            self.next = Some(at);
        }
    }

    /// Counts a gap, and describes the first few on stderr (with the time
    /// since this viewer's last read) so a run that has some says why.
    fn gap(&self, what: std::fmt::Arguments<'_>) {
        Counters::add(&self.counters().gaps, 1);
        if GAPS_DESCRIBED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 20 {
            let idle = self.last_read.map(|t| t.elapsed());
            eprintln!(
                "view_load: gap on {}: {what}; last read {idle:?} ago",
                self.base
            );
        }
    }

    /// Where a new viewer starts: the open segment's next part.
    fn live_edge(&mut self, listing: &Listing) -> Next {
        self.tfdt.clear();
        self.changed = false;
        match listing.segments.last() {
            Some(last) if last.uri.is_none() => Next {
                msn: last.msn,
                part: last.parts.len(),
            },
            Some(last) => Next {
                msn: last.msn + 1,
                part: 0,
            },
            None => Next { msn: 0, part: 0 },
        }
    }

    /// Fetches `uri` (after the init segment `map` when it is new) and
    /// checks its `tfdt`s; false when it could not be read.
    async fn fetch(&mut self, map: Option<&str>, uri: &str) -> bool {
        if let Some(map) = map {
            if self.map.as_deref() != Some(map) {
                if self.get(map).await.is_none() {
                    return false;
                }
                self.map = Some(map.to_owned());
            }
        }
        let Some(data) = self.get(uri).await else {
            return false;
        };
        Counters::add(&self.counters().reads, 1);
        self.changed = false;
        self.last_read = Some(std::time::Instant::now());
        for (track, time) in tfdts(&data) {
            if self.tfdt.get(&track).is_some_and(|last| time <= *last) {
                Counters::add(&self.counters().disorder, 1);
            }
            self.tfdt.insert(track, time);
        }
        true
    }

    async fn get(&mut self, uri: &str) -> Option<bytes::Bytes> {
        let path = format!("{}{uri}", self.base);
        match self.http.get(&path, RELOAD_TIMEOUT).await {
            Ok((200, body)) if !body.is_empty() => {
                Counters::add(&self.counters().bytes, body.len() as u64);
                Some(body)
            }
            Ok(_) | Err(_) => {
                Counters::add(&self.counters().failures, 1);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_playlist_with_parts_and_a_discontinuity() {
        let text = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-MAP:URI=\"init0.mp4\"\n\
            #EXTINF:2.000,\nseg7.m4s\n\
            #EXT-X-PART:DURATION=0.5,URI=\"seg8.0.m4s\",INDEPENDENT=YES\n\
            #EXT-X-PART:DURATION=0.5,URI=\"seg8.1.m4s\"\n#EXTINF:1.000,\nseg8.m4s\n\
            #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n\
            #EXT-X-PART:DURATION=0.5,URI=\"seg9.0.m4s\"\n\
            #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg9.1.m4s\"\n";
        let listing = parse(text);
        assert!(!listing.ended);
        let msns: Vec<u64> = listing.segments.iter().map(|s| s.msn).collect();
        assert_eq!(msns, [7, 8, 9]);
        assert_eq!(listing.segments[1].parts, ["seg8.0.m4s", "seg8.1.m4s"]);
        assert_eq!(listing.segments[2].uri, None);
        assert!(listing.segments[2].discontinuity);
        assert_eq!(listing.segments[2].map.as_deref(), Some("init1.mp4"));
        let timelines: Vec<u64> = listing.segments.iter().map(|s| s.timeline).collect();
        assert_eq!(timelines, [0, 0, 1]);
        let later = parse(
            "#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-MEDIA-SEQUENCE:40\n#EXTINF:1,\nseg40.m4s\n",
        );
        assert_eq!(later.segments[0].timeline, 3);
        assert!(parse("#EXTM3U\n#EXTINF:1,\na.ts\n#EXT-X-ENDLIST\n").ended);
    }

    #[test]
    fn tfdt_of_each_track_fragment() {
        fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
            let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend_from_slice(body);
            out
        }
        let traf = |track: u32, time: u64| {
            let tfhd = boxed(b"tfhd", &[&[0, 0, 0, 0][..], &track.to_be_bytes()].concat());
            let tfdt = boxed(b"tfdt", &[&[1, 0, 0, 0][..], &time.to_be_bytes()].concat());
            boxed(b"traf", &[tfhd, tfdt].concat())
        };
        let moof = boxed(b"moof", &[traf(1, 9000), traf(2, 1 << 40)].concat());
        let data = [moof, boxed(b"mdat", b"xx")].concat();
        assert_eq!(tfdts(&data), [(1, 9000), (2, 1 << 40)]);
        assert!(tfdts(&[0x47; 188]).is_empty());
        assert!(tfdts(&data[..20]).is_empty());
    }
}
