//! HLS playlists: media playlists (live window, EVENT, VOD, Low-Latency HLS)
//! and the multivariant playlist.
//!
//! Our own writer, not `m3u8-rs`: Low-Latency HLS needs tag placement that
//! crate cannot express (it drops playlist-level tags and anything after the
//! last URI). `m3u8-rs` only reads our output back in tests.
//!
//! - [`MediaPlaylist`]: the state of one rendition's media playlist, fed
//!   with [`Segment`]s and [`Part`]s as the segmenter completes them, and
//!   rendered to m3u8 text ([`MediaPlaylist::render`],
//!   [`MediaPlaylist::render_delta`]).
//! - [`ReloadRequest`] and [`MediaPlaylist::answer`]: the sans-IO answer to a
//!   Low-Latency HLS blocking playlist reload (`_HLS_msn`, `_HLS_part`,
//!   `_HLS_skip`); [`RenditionReport`] and
//!   [`MediaPlaylist::rendition_report`]: a sibling rendition's live edge.
//! - [`MultivariantPlaylist`] and [`Bandwidth`]: the variants and their
//!   measured bit rates.
//!
//! Sans-IO: nothing here reads a clock. Wall-clock time (for
//! `EXT-X-PROGRAM-DATE-TIME`) is passed in as a [`std::time::SystemTime`].
//!
//! Text conventions: `\n` line ends, no trailing spaces, decimals always
//! written positionally with 3 decimals (never in exponent form), and URIs
//! in attribute lists quoted (`URI="..."`), so a URI may not contain `"`,
//! a carriage return or a line feed ([`PlaylistError::InvalidUri`]).

mod error;
mod ll;
mod media;
mod multivariant;
#[cfg(test)]
mod tests;

pub use error::PlaylistError;
pub use ll::{ReloadAnswer, ReloadRequest, RenditionReport, SkipRequest};
pub use media::{
    DateRange, LowLatencyOptions, MediaPlaylist, MediaPlaylistOptions, Part, PlaylistKind, Segment,
    SegmentHead,
};
pub use multivariant::{AudioRendition, Bandwidth, ClosedCaptions, MultivariantPlaylist, Variant};

use std::fmt::Write as _;
use std::time::SystemTime;

/// Seconds to whole milliseconds, rejecting what no playlist can say.
fn millis(what: &'static str, seconds: f64) -> Result<u64, PlaylistError> {
    if !seconds.is_finite() || !(0.0..=1.0e9).contains(&seconds) {
        return Err(PlaylistError::InvalidDuration {
            what,
            value: seconds,
        });
    }
    // In range: the cast is exact after rounding.
    Ok((seconds * 1000.0).round() as u64)
}

/// Milliseconds written as seconds with exactly 3 decimals: `2000` is
/// `2.000`. Positional, never an exponent.
fn write_ms(out: &mut String, ms: u64) {
    let _ = write!(out, "{}.{:03}", ms / 1000, ms % 1000);
}

/// Milliseconds rounded to the nearest whole second, halves up: how a
/// client rounds an `EXTINF` of 3 decimals (RFC 8216 4.3.3.1).
fn round_ms_to_seconds(ms: u64) -> u64 {
    ms.saturating_add(500) / 1000
}

/// A URI that fits both a URI line and an attribute-quoted-string.
fn check_uri(uri: &str) -> Result<(), PlaylistError> {
    let reason = if uri.is_empty() {
        "empty"
    } else if uri.contains(['"', '\r', '\n']) {
        "contains a double quote or a line break"
    } else if uri.starts_with('#') {
        "starts with '#', which reads as a tag"
    } else if uri.trim() != uri {
        "has leading or trailing white space"
    } else {
        return Ok(());
    };
    Err(PlaylistError::InvalidUri {
        uri: uri.to_owned(),
        reason,
    })
}

/// ISO 8601 / RFC 3339 date-time in UTC with milliseconds and `Z`, as
/// `EXT-X-PROGRAM-DATE-TIME` wants it: `2019-02-14T02:13:28.106Z`.
pub(crate) fn write_date_time(out: &mut String, time: SystemTime) {
    let ms: i128 = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after.as_millis() as i128,
        Err(before) => -(before.duration().as_millis() as i128),
    };
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    );
}
