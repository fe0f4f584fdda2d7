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
//! - Renditions share one [`GroupClock`]: the first to date a segment
//!   offers its anchor to the others, so renditions of one encoder carry the
//!   same `EXT-X-PROGRAM-DATE-TIME` for the same frame. Shaka places
//!   segments by date and jumped a gap switching between renditions dated
//!   by their own arrival.

use std::sync::{Mutex, PoisonError};

use hls_mux::captions::Captions;
use hls_mux::playlist::{AudioRendition, ClosedCaptions, MultivariantPlaylist, RenditionReport};
use hls_mux::{ClockAnchor, Muxer};

use super::stream::AudioInfo;
use super::Registry;

/// The audio renditions of a multitrack stream whose playlist is at
/// `DIR/index.m3u8`: track 0 (the default) in the variant's segments, or
/// with `split` (fMP4) in the single-track view `DIR/audio0/index.m3u8`
/// (the variant is then `DIR/video/index.m3u8`); each extra track in
/// `DIR/audioN/index.m3u8`; named as the publisher names them, or `Audio 1`,
/// `Audio 2`... (the track id plus one).
fn audio_renditions(
    group: &str,
    dir: &str,
    tracks: &[AudioInfo],
    split: bool,
) -> Vec<AudioRendition> {
    let mut out = Vec::new();
    for info in tracks {
        let track = info.track;
        let uri = (track != 0 || split).then(|| format!("{dir}/audio{track}/index.m3u8"));
        let fallback = format!("Audio {}", u16::from(track) + 1);
        let mut name = info.label.name.clone().unwrap_or_else(|| fallback.clone());
        // NAME is unique in a group (RFC 8216 4.3.4.1.1).
        if out.iter().any(|r: &AudioRendition| r.name == name) {
            name = format!("{name} ({fallback})");
        }
        let mut rendition = AudioRendition::new(group, name, uri).default(track == 0);
        if let Some(channels) = info.channels {
            rendition = rendition.channels(channels);
        }
        if let Some(language) = &info.label.language {
            rendition = rendition.language(language.clone());
        }
        out.push(rendition);
    }
    out
}

/// The `GROUP-ID` of the closed captions in the video.
const CAPTIONS_GROUP: &str = "cc";

/// The multivariant playlist of group `app/name` (`/APP/NAME.m3u8`), its
/// variants' URIs relative to it (`NAME_720/index.m3u8`), and the CEA-608
/// captions any of them carries (`EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS`); `None`
/// when no rendition of the group is live with three segments. Without
/// `suffixes`, the stream `app/name` alone is the group. `independent_segments`
/// is the `EXT-X-INDEPENDENT-SEGMENTS` tag: pass false when the renditions
/// list LL-HLS parts (video.js applies the tag to parts too).
pub fn multivariant(
    registry: &Registry,
    suffixes: &[String],
    app: &str,
    name: &str,
    independent_segments: bool,
) -> Option<String> {
    // Without groups, the stream itself is the one variant.
    let alone = [String::new()];
    let suffixes = if suffixes.is_empty() {
        &alone[..]
    } else {
        suffixes
    };
    let mut captions = Captions::NONE;
    let mut audio = Vec::new();
    let mut variants = Vec::new();
    for suffix in suffixes {
        let Some(stream) = registry.get(&format!("{app}/{name}{suffix}")) else {
            continue;
        };
        let Some(mut variant) = stream.variant(&format!("{name}{suffix}/index.m3u8")) else {
            continue;
        };
        captions = captions.union(stream.captions());
        let tracks = stream.audio_tracks();
        if tracks.is_empty() {
            variants.push(variant);
            continue;
        }
        // A multitrack publish: a group per variant (its extra tracks are
        // its own); with fMP4 the variants are its video tracks alone.
        let group = format!("audio{}", audio.len());
        let dir = format!("{name}{suffix}");
        let split = stream.format() == hls_mux::Format::Fmp4;
        audio.extend(audio_renditions(&group, &dir, &tracks, split));
        if split {
            variant.uri = format!("{dir}/video/index.m3u8");
            variants.extend(
                stream
                    .video_variants(&dir)
                    .into_iter()
                    .map(|v| v.audio(&group)),
            );
        }
        variants.push(variant.audio(group));
    }
    if variants.is_empty() {
        return None;
    }
    variants.sort_by_key(|v| v.bandwidth);
    let mut playlist = MultivariantPlaylist::new().independent_segments(independent_segments);
    // One group for the captions every rendition of one encoder carries
    // (RFC 8216 4.3.4.2: CLOSED-CAPTIONS=NONE would have to be on all).
    let group = captions.any().then_some(CAPTIONS_GROUP);
    for channel in (1..=4).filter(|c| captions.has_channel(*c)) {
        let _ = playlist.push_captions(ClosedCaptions::cea608(CAPTIONS_GROUP, channel));
    }
    for rendition in audio {
        let _ = playlist.push_audio(rendition);
    }
    for mut variant in variants {
        variant.closed_captions = group.map(str::to_owned);
        // Refused only for a URI or codec string that cannot be written,
        // which stream names and codec strings never are: leave such a
        // variant out rather than fail the group.
        let _ = playlist.push(variant);
    }
    Some(playlist.render())
}

/// The clock anchor the renditions of one group share (see the module docs).
#[derive(Debug, Default)]
pub struct GroupClock {
    /// The key of the rendition whose anchor it is, and the anchor.
    anchor: Mutex<Option<(String, ClockAnchor)>>,
}

impl GroupClock {
    /// Shares between rendition `key`'s muxer and the group: an anchor the
    /// muxer lacks is suggested to it; the muxer's own is offered to the
    /// group when the group has none (or had this rendition's before).
    pub fn share(&self, key: &str, muxer: &mut Muxer) {
        let mut shared = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        match (muxer.clock_anchor(), shared.as_ref()) {
            (own, Some((owner, anchor))) if owner != key => {
                if own.is_none() {
                    muxer.suggest_clock_anchor(*anchor);
                }
            }
            (Some(own), _) => *shared = Some((key.to_owned(), own)),
            (None, _) => {}
        }
    }

    /// Rendition `key` stopped: its anchor is no longer offered.
    pub fn leave(&self, key: &str) {
        let mut shared = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        if shared.as_ref().is_some_and(|(owner, _)| owner == key) {
            *shared = None;
        }
    }
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
    fn the_first_anchor_is_offered_to_the_others_until_its_rendition_leaves() {
        use hls_mux::{Format, MuxerOptions};
        use std::time::{Duration, UNIX_EPOCH};
        let clock = GroupClock::default();
        let mut low = Muxer::new(MuxerOptions::new(Format::Fmp4)).expect("options");
        clock.share("live/cam_240", &mut low);
        assert!(
            clock.anchor.lock().unwrap().is_none(),
            "nothing to offer yet"
        );
        let anchor = ClockAnchor {
            wall: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            pts: 0,
        };
        *clock.anchor.lock().unwrap() = Some(("live/cam_360".to_owned(), anchor));
        clock.share("live/cam_240", &mut low);
        clock.leave("live/cam_240");
        assert_eq!(
            clock
                .anchor
                .lock()
                .unwrap()
                .as_ref()
                .map(|(k, _)| k.as_str()),
            Some("live/cam_360"),
            "only the owner's leaving withdraws the anchor"
        );
        clock.leave("live/cam_360");
        assert!(clock.anchor.lock().unwrap().is_none());
    }

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
