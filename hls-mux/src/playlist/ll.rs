//! Low-Latency HLS delivery directives: the sans-IO answer to a blocking
//! playlist reload (rfc8216bis 6.2.5).
//!
//! The HTTP server parses the query of a media playlist request into a
//! [`ReloadRequest`] and asks [`MediaPlaylist::answer`]:
//! - [`ReloadAnswer::Ready`]: send the text (200).
//! - [`ReloadAnswer::BadRequest`]: send 400.
//! - [`ReloadAnswer::Wait`]: hold the request, and ask again each time
//!   [`MediaPlaylist::generation`] changes. Give up with 503 after
//!   [`MediaPlaylist::blocking_timeout`] (three target durations:
//!   "A Server that cannot provide the requested Playlist after blocking for
//!   more than three Target Durations SHOULD return Service Unavailable",
//!   rfc8216bis 6.2.5.2). The timer is the server's: nothing here reads a
//!   clock.

use std::time::Duration;

use super::{MediaPlaylist, PlaylistError};

/// The `_HLS_skip` directive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipRequest {
    /// `_HLS_skip=YES`: skip old segments.
    Yes,
    /// `_HLS_skip=v2`: also skip old `EXT-X-DATERANGE` tags. We write none
    /// and do not advertise `CAN-SKIP-DATERANGES`, so this is answered like
    /// `YES`.
    V2,
}

/// The delivery directives of a media playlist request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadRequest {
    /// `_HLS_msn`: wait for the segment with this media sequence number.
    pub msn: Option<u64>,
    /// `_HLS_part`: wait for this part of segment `msn`.
    pub part: Option<u64>,
    /// `_HLS_skip`: a delta update is wanted.
    pub skip: Option<SkipRequest>,
}

impl ReloadRequest {
    /// Read the directives from a query string (`_HLS_msn=273&_HLS_part=2`),
    /// with or without the leading `?`, or from a whole request target
    /// (`/live.m3u8?_HLS_msn=273`). Other parameters are ignored.
    ///
    /// Fails on a directive given twice or with a value that is not a
    /// decimal integer (`_HLS_msn`, `_HLS_part`) or `YES`/`v2`
    /// (`_HLS_skip`). A `_HLS_part` without `_HLS_msn` parses; it is
    /// [`MediaPlaylist::answer`] that refuses it.
    ///
    /// ```
    /// use hls_mux::playlist::{ReloadRequest, SkipRequest};
    ///
    /// let request = ReloadRequest::parse("/a.m3u8?_HLS_msn=273&_HLS_part=2&_HLS_skip=YES")?;
    /// assert_eq!((request.msn, request.part), (Some(273), Some(2)));
    /// assert_eq!(request.skip, Some(SkipRequest::Yes));
    /// # Ok::<(), hls_mux::playlist::PlaylistError>(())
    /// ```
    pub fn parse(query: &str) -> Result<ReloadRequest, PlaylistError> {
        let query = query.split('#').next().unwrap_or_default();
        let query = match query.split_once('?') {
            Some((_, after)) => after,
            None => query,
        };
        let mut request = ReloadRequest::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "_HLS_msn" => {
                    if request.msn.is_some() {
                        return Err(PlaylistError::BadQuery("_HLS_msn given twice"));
                    }
                    request.msn = Some(
                        decimal_integer(value)
                            .ok_or(PlaylistError::BadQuery("_HLS_msn is not a decimal integer"))?,
                    );
                }
                "_HLS_part" => {
                    if request.part.is_some() {
                        return Err(PlaylistError::BadQuery("_HLS_part given twice"));
                    }
                    request.part = Some(decimal_integer(value).ok_or(PlaylistError::BadQuery(
                        "_HLS_part is not a decimal integer",
                    ))?);
                }
                "_HLS_skip" => {
                    if request.skip.is_some() {
                        return Err(PlaylistError::BadQuery("_HLS_skip given twice"));
                    }
                    request.skip = Some(match value {
                        "YES" => SkipRequest::Yes,
                        "v2" => SkipRequest::V2,
                        _ => return Err(PlaylistError::BadQuery("_HLS_skip is not YES or v2")),
                    });
                }
                _ => {}
            }
        }
        Ok(request)
    }
}

/// RFC 8216 decimal-integer: 1 to 20 digits, no sign.
fn decimal_integer(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// What to do with a media playlist request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReloadAnswer {
    /// Send this playlist text (a delta update when one was asked for and
    /// can be made).
    Ready(String),
    /// Hold the request and ask again when the playlist changes.
    Wait,
    /// Answer 400 Bad Request, for this reason.
    BadRequest(&'static str),
}

impl MediaPlaylist {
    /// Answer a media playlist request with its delivery directives
    /// (rfc8216bis 6.2.5):
    ///
    /// - `_HLS_part` without `_HLS_msn`: [`BadRequest`] ("MUST").
    /// - An ended playlist, or one without Low-Latency HLS (which does not
    ///   advertise `CAN-BLOCK-RELOAD`): the directives are ignored and the
    ///   full playlist is [`Ready`].
    /// - `_HLS_msn` more than two after the last complete segment's media
    ///   sequence number, or `_HLS_part` beyond the last part by more than
    ///   the Advance Part Limit (3, or 3 / part target when the part target
    ///   is below one second): [`BadRequest`] ("SHOULD").
    /// - Segment `msn` complete (or gone from the window), or part `part`
    ///   of segment `msn` published: [`Ready`]. A part index past the last
    ///   part of a complete segment means part 0 of the next segment
    ///   ("MUST"). Otherwise [`Wait`].
    /// - `_HLS_skip=YES` or `v2` makes the ready text a delta update
    ///   ([`render_delta`]) when delta updates are advertised.
    ///
    /// [`BadRequest`]: ReloadAnswer::BadRequest
    /// [`Ready`]: ReloadAnswer::Ready
    /// [`Wait`]: ReloadAnswer::Wait
    /// [`render_delta`]: MediaPlaylist::render_delta
    ///
    /// ```
    /// use hls_mux::playlist::*;
    ///
    /// let options = MediaPlaylistOptions::new(PlaylistKind::Live { window: 6 }, 2.0)
    ///     .low_latency(LowLatencyOptions::new(0.5));
    /// let mut playlist = MediaPlaylist::new(options)?;
    /// let request = ReloadRequest::parse("_HLS_msn=0&_HLS_part=1")?;
    /// assert_eq!(playlist.answer(&request), ReloadAnswer::Wait);
    /// playlist.push_part(Part::new("p0.0.mp4", 0.5).independent(true))?;
    /// assert_eq!(playlist.answer(&request), ReloadAnswer::Wait);
    /// playlist.push_part(Part::new("p0.1.mp4", 0.5))?;
    /// assert!(matches!(playlist.answer(&request), ReloadAnswer::Ready(_)));
    /// # Ok::<(), PlaylistError>(())
    /// ```
    pub fn answer(&self, request: &ReloadRequest) -> ReloadAnswer {
        if request.part.is_some() && request.msn.is_none() {
            return ReloadAnswer::BadRequest("_HLS_part without _HLS_msn");
        }
        let delta = request.skip.is_some() && self.can_skip();
        let ready = || {
            ReloadAnswer::Ready(if delta {
                self.render_delta()
            } else {
                self.render()
            })
        };
        if self.is_ended() {
            return ready();
        }
        let (Some(part_target_ms), Some(msn)) = (self.part_target_ms, request.msn) else {
            return ready();
        };
        let next = self.next_msn();
        // The last complete segment is `next - 1`: more than two after it.
        if msn > next.saturating_add(1) {
            return ReloadAnswer::BadRequest(
                "_HLS_msn is more than two after the last segment in the playlist",
            );
        }
        if let Some(part) = request.part {
            let limit = advance_part_limit(part_target_ms);
            // How many parts past the last published one the request is (at
            // least, for the segment after the open one).
            // Saturating: `part` is whatever the client sent, up to
            // u64::MAX, and `part + 1` must not wrap to 0 (which would make
            // an absurd request look like one for the current part).
            let beyond = if msn == next {
                part.saturating_add(1).saturating_sub(self.next_part())
            } else if msn > next {
                part.saturating_add(1)
            } else {
                0
            };
            if beyond as f64 > limit {
                return ReloadAnswer::BadRequest(
                    "_HLS_part exceeds the last part by more than the Advance Part Limit",
                );
            }
        }
        if self.has(msn, request.part) {
            ready()
        } else {
            ReloadAnswer::Wait
        }
    }

    /// [`answer`](MediaPlaylist::answer) straight from a query string; a
    /// query that does not parse is a [`ReloadAnswer::BadRequest`].
    pub fn answer_query(&self, query: &str) -> ReloadAnswer {
        match ReloadRequest::parse(query) {
            Ok(request) => self.answer(&request),
            Err(PlaylistError::BadQuery(reason)) => ReloadAnswer::BadRequest(reason),
            Err(_) => ReloadAnswer::BadRequest("bad query"),
        }
    }

    /// How long a shared HTTP cache (a CDN edge) may reuse the answer to a
    /// request for this playlist with these directives: `Some(age)` for
    /// `s-maxage`, `None` for `no-cache` (ask the origin again before each
    /// reuse). Following Apple's Low-Latency HLS delivery guidance:
    ///
    /// - A blocking request (`_HLS_msn`, with Low-Latency HLS on): one
    ///   second. Its URL names the part it waits for and the answer holds that
    ///   part, so while the request waits an edge can collapse every player's
    ///   request for it into one (which needs the answer to be cacheable at
    ///   all). Longer would be right by the RFC, but video.js (VHS 3) asks the
    ///   same blocking URL again and again and expects a newer playlist each
    ///   time: with six target durations it stalled for as long, with one
    ///   second it sees each newer playlist at most a second late. Browsers
    ///   should not keep it at all (`max-age=0`): VHS talks to them first.
    /// - A plain request with Low-Latency HLS: `None`. It changes at every part,
    ///   faster than `max-age`'s one-second resolution, and a stale one starts
    ///   a player behind the live edge.
    /// - A plain request without Low-Latency HLS: half a target duration (at
    ///   least a second), for browsers too: a player reloads about once a
    ///   target duration (RFC 8216 6.3.4), so it sees every segment at most
    ///   half a target duration late.
    pub fn cache_max_age(&self, request: &ReloadRequest) -> Option<Duration> {
        let target = self.target_duration();
        if self.part_target_ms.is_some() {
            request.msn.map(|_| Duration::from_secs(1))
        } else {
            Some(Duration::from_secs((target / 2).max(1)))
        }
    }

    /// How long an HTTP server should hold a blocking request before giving
    /// up with 503: three target durations (rfc8216bis 6.2.5.2).
    pub fn blocking_timeout(&self) -> Duration {
        Duration::from_secs(self.target_duration().saturating_mul(3))
    }

    /// Whether the playlist holds segment `msn` (no part), or part `part` of
    /// segment `msn`, or something later.
    fn has(&self, mut msn: u64, part: Option<u64>) -> bool {
        let next = self.next_msn();
        let Some(mut part) = part else {
            return msn < next;
        };
        loop {
            if msn < self.media_sequence {
                // Gone from the window: the whole playlist is the answer.
                return true;
            }
            if msn >= next {
                return msn == next && part < self.next_part();
            }
            let index =
                usize::try_from(msn.saturating_sub(self.media_sequence)).unwrap_or(usize::MAX);
            let Some(entry) = self.segments.get(index) else {
                return false;
            };
            if part < entry.part_count as u64 {
                return true;
            }
            // Past the segment's last part: part 0 of the next segment
            // (`msn < next` here, so this cannot overflow).
            msn = msn.saturating_add(1);
            part = 0;
        }
    }
}

/// rfc8216bis 6.2.5.2: "three divided by the Part Target Duration if the
/// Part Target Duration is less than one second, or three otherwise".
fn advance_part_limit(part_target_ms: u64) -> f64 {
    if part_target_ms < 1000 {
        3000.0 / part_target_ms as f64
    } else {
        3.0
    }
}

/// One `EXT-X-RENDITION-REPORT` (rfc8216bis 4.4.5.4): where a sibling
/// rendition's live edge is, so a player switching to it can ask for its
/// next part at once with a blocking reload instead of loading its playlist
/// first. Made by [`MediaPlaylist::rendition_report`] from the sibling's
/// playlist; the server appends [`render`](RenditionReport::render) to the
/// text of the playlist it answers with (the tag goes after the segments).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenditionReport {
    /// The sibling's media playlist, relative to the playlist the report is in.
    pub uri: String,
    /// `LAST-MSN`: the media sequence number of its last segment, or of the
    /// segment its last part belongs to.
    pub last_msn: u64,
    /// `LAST-PART`: the index of its last part in that segment, when it has
    /// parts.
    pub last_part: Option<u64>,
}

impl RenditionReport {
    /// The tag line, `\n` included.
    pub fn render(&self) -> String {
        let mut line = format!(
            "#EXT-X-RENDITION-REPORT:URI=\"{}\",LAST-MSN={}",
            self.uri, self.last_msn
        );
        if let Some(part) = self.last_part {
            line.push_str(&format!(",LAST-PART={part}"));
        }
        line.push('\n');
        line
    }
}

impl MediaPlaylist {
    /// The report other renditions' playlists carry about this one, under
    /// `uri` (relative to them): its last part, or its last segment when
    /// the open segment has no part yet. `None` when there is nothing to
    /// report yet, or the URI cannot be written.
    pub fn rendition_report(&self, uri: &str) -> Result<Option<RenditionReport>, PlaylistError> {
        super::check_uri(uri)?;
        let next_part = self.next_part();
        let (last_msn, last_part) = if next_part > 0 {
            (self.next_msn(), Some(next_part - 1))
        } else {
            let Some(last) = self.segments.back() else {
                return Ok(None);
            };
            let parts = last.part_count as u64;
            let part = (self.part_target_ms.is_some() && parts > 0).then(|| parts - 1);
            (self.next_msn().saturating_sub(1), part)
        };
        Ok(Some(RenditionReport {
            uri: uri.to_owned(),
            last_msn,
            last_part,
        }))
    }
}
