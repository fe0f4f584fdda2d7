//! Variant groups: an ABR ladder from one or several publishers.
//!
//! With the suffixes `["_1080", "_720", "_480"]` (`Config::variants`), the
//! streams `APP/KEY_1080`, `APP/KEY_720` and `APP/KEY_480` form the group
//! `APP/KEY`. Nothing is stored per group: [`multivariant`] looks the
//! suffixes up in the [`Registry`] on each request, so a rendition is listed
//! exactly while it is live, and joins or leaves with its publisher.
//!
//! - A rendition whose publisher left leaves the multivariant playlist at
//!   once, not after the grace period: its media playlist has
//!   `EXT-X-ENDLIST`, and a player that switched to it would stop there.
//!   Players already on it keep its playlist and segments for the grace
//!   period as for any stream; a publisher that comes back rejoins.
//! - A live rendition is listed once its playlist holds three segments
//!   ([`super::stream::VARIANT_SEGMENTS`]: players start three target
//!   durations from the end, and Shaka fails on a shorter LL-HLS rendition).
//!   `BANDWIDTH` is measured from segments (the peak segment bit rate over
//!   the stream's life, `AVERAGE-BANDWIDTH` the mean).
//! - Variants are ordered by `BANDWIDTH`, lowest first: players start with
//!   the first one listed (hls.js, Safari), so the lowest rung gives the
//!   quickest start and the player climbs from there.

use hls_mux::playlist::{MultivariantPlaylist, RenditionReport};

use super::Registry;

/// The multivariant playlist of group `app/name` (`/APP/NAME.m3u8`), its
/// variants' URIs relative to it (`NAME_720/index.m3u8`); `None` when no
/// rendition of the group is live with three segments. `independent_segments`
/// is the `EXT-X-INDEPENDENT-SEGMENTS` tag: pass false when the renditions
/// list LL-HLS parts (video.js applies the tag to parts too).
pub fn multivariant(
    registry: &Registry,
    suffixes: &[String],
    app: &str,
    name: &str,
    independent_segments: bool,
) -> Option<String> {
    let mut variants: Vec<_> = suffixes
        .iter()
        .filter_map(|suffix| {
            let stream = registry.get(&format!("{app}/{name}{suffix}"))?;
            stream.variant(&format!("{name}{suffix}/index.m3u8"))
        })
        .collect();
    if variants.is_empty() {
        return None;
    }
    variants.sort_by_key(|v| v.bandwidth);
    let mut playlist = MultivariantPlaylist::new().independent_segments(independent_segments);
    for variant in variants {
        // Refused only for a URI or codec string that cannot be written,
        // which stream names and codec strings never are: leave such a
        // variant out rather than fail the group.
        let _ = playlist.push(variant);
    }
    Some(playlist.render())
}

/// The group name of stream name `name`: it without its suffix, if it ends
/// with one of `suffixes` (and is more than the suffix).
pub fn group_of<'a>(suffixes: &'a [String], name: &'a str) -> Option<(&'a str, &'a str)> {
    suffixes.iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix.as_str())?;
        (!base.is_empty()).then_some((base, suffix.as_str()))
    })
}

/// The `EXT-X-RENDITION-REPORT`s for the playlist of stream `app/name`: one
/// per live sibling of its group with a part or segment (none when `name`
/// is in no group), URIs relative to `/APP/NAME/index.m3u8`.
pub fn reports(
    registry: &Registry,
    suffixes: &[String],
    app: &str,
    name: &str,
) -> Vec<RenditionReport> {
    let Some((base, own)) = group_of(suffixes, name) else {
        return Vec::new();
    };
    suffixes
        .iter()
        .filter(|suffix| suffix.as_str() != own)
        .filter_map(|suffix| {
            let stream = registry.get(&format!("{app}/{base}{suffix}"))?;
            stream.rendition_report(&format!("../{base}{suffix}/index.m3u8"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendition_knows_its_group() {
        let suffixes = ["_1080".to_owned(), "_720".to_owned()];
        assert_eq!(group_of(&suffixes, "cam_720"), Some(("cam", "_720")));
        assert_eq!(group_of(&suffixes, "a_b_1080"), Some(("a_b", "_1080")));
        assert_eq!(group_of(&suffixes, "_720"), None);
        assert_eq!(group_of(&suffixes, "cam"), None);
        assert_eq!(group_of(&[], "cam_720"), None);
    }
}
