//! Tests of the playlist module: exact text for small cases, `m3u8-rs` as an
//! independent reader, our own line parsing for the Low-Latency tags it
//! does not know, and property tests of the target duration rule.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------- helpers

fn live(window: usize, target: f64) -> MediaPlaylist {
    MediaPlaylist::new(MediaPlaylistOptions::new(
        PlaylistKind::Live { window },
        target,
    ))
    .unwrap()
}

fn low_latency(window: usize, target: f64, part_target: f64) -> MediaPlaylist {
    MediaPlaylist::new(
        MediaPlaylistOptions::new(PlaylistKind::Live { window }, target)
            .low_latency(LowLatencyOptions::new(part_target)),
    )
    .unwrap()
}

/// Parse with m3u8-rs: it must succeed and be a media playlist.
fn parse_media(text: &str) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(playlist)) => playlist,
        Ok(m3u8_rs::Playlist::MasterPlaylist(_)) => panic!("read as a master playlist:\n{text}"),
        Err(error) => panic!("m3u8-rs failed: {error:?}\n{text}"),
    }
}

fn parse_master(text: &str) -> m3u8_rs::MasterPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MasterPlaylist(playlist)) => playlist,
        other => panic!("not a master playlist: {other:?}\n{text}"),
    }
}

/// The value of a playlist-level tag `#NAME:value`.
fn tag<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
}

fn tags<'a>(text: &'a str, name: &'a str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .collect()
}

/// An attribute of an attribute list, quotes removed.
fn attr<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
        } else {
            match after.split_once(',') {
                Some((value, next)) => (value, next),
                None => (after, ""),
            }
        };
        if key == name {
            return Some(value);
        }
        rest = next;
    }
    None
}

fn number(text: &str, name: &str) -> u64 {
    tag(text, name)
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// The rules every rendered media playlist keeps, read by hand.
fn check_text(text: &str) {
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.ends_with('\n'), "{text}");
    assert!(!text.contains('\r'));
    for line in text.lines() {
        assert!(!line.is_empty(), "empty line in\n{text}");
        assert_eq!(line.trim_end(), line, "trailing space in {line:?}");
    }
    let target: u64 = number(text, "#EXT-X-TARGETDURATION");
    for extinf in tags(text, "#EXTINF") {
        let value = extinf.strip_suffix(',').expect("EXTINF ends with a comma");
        let (whole, decimals) = value.split_once('.').expect("a decimal point");
        assert_eq!(decimals.len(), 3, "{value}");
        assert!(whole
            .bytes()
            .chain(decimals.bytes())
            .all(|b| b.is_ascii_digit()));
        let seconds: f64 = value.parse().unwrap();
        // RFC 8216 4.3.3.1, rounding as a client does (halves up).
        assert!(
            (seconds + 0.5).floor() as u64 <= target,
            "EXTINF {value} exceeds target {target}"
        );
    }
    if let Some(part_inf) = tag(text, "#EXT-X-PART-INF") {
        let part_target: f64 = attr(part_inf, "PART-TARGET").unwrap().parse().unwrap();
        for part in tags(text, "#EXT-X-PART") {
            let duration: f64 = attr(part, "DURATION").unwrap().parse().unwrap();
            assert!(duration <= part_target, "{part}");
        }
    }
    assert!(tags(text, "#EXT-X-SKIP").len() <= 1);
    if text.contains("#EXT-X-ENDLIST") {
        assert!(!text.contains("#EXT-X-PRELOAD-HINT"));
    }
}

/// Segment URIs in order (lines that are not tags).
fn uris(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with('#')).collect()
}

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

// ---------------------------------------------------------------- formatting

#[test]
fn extinf_has_three_decimals_and_no_exponent() {
    let mut playlist = live(10, 1.0);
    for (uri, duration) in [
        ("a.ts", 2.0),
        ("b.ts", 0.0333),
        ("c.ts", 0.0001),
        ("d.ts", 12345.678),
        ("e.ts", 1e-9),
    ] {
        playlist.push_segment(Segment::new(uri, duration)).unwrap();
    }
    let text = playlist.render();
    assert_eq!(
        tags(&text, "#EXTINF"),
        ["2.000,", "0.033,", "0.000,", "12345.678,", "0.000,"]
    );
    // check_text: digits, one point, 3 decimals, so never an exponent.
    check_text(&text);
}

#[test]
fn date_time_is_iso_8601_utc_with_milliseconds() {
    let cases = [
        (UNIX_EPOCH, "1970-01-01T00:00:00.000Z"),
        (at_ms(1_550_110_408_106), "2019-02-14T02:13:28.106Z"),
        (at_ms(1_709_164_800_000), "2024-02-29T00:00:00.000Z"),
        (at_ms(951_868_799_999), "2000-02-29T23:59:59.999Z"),
        (
            UNIX_EPOCH - Duration::from_millis(1),
            "1969-12-31T23:59:59.999Z",
        ),
    ];
    for (time, expected) in cases {
        let mut out = String::new();
        write_date_time(&mut out, time);
        assert_eq!(out, expected);
    }
}

#[test]
fn invalid_durations_and_uris_are_refused_without_change() {
    let mut playlist = live(3, 2.0);
    for bad in [f64::NAN, -0.5, f64::INFINITY, 1.0e12] {
        assert!(matches!(
            playlist.push_segment(Segment::new("a.ts", bad)),
            Err(PlaylistError::InvalidDuration { .. })
        ));
    }
    for bad in ["", "a\".ts", "a\nb.ts", "#a.ts", " a.ts"] {
        assert!(matches!(
            playlist.push_segment(Segment::new(bad, 1.0)),
            Err(PlaylistError::InvalidUri { .. })
        ));
    }
    assert!(matches!(
        playlist.push_segment(Segment::new("a.ts", 1.0).map("in\"it.mp4")),
        Err(PlaylistError::InvalidUri { .. })
    ));
    assert_eq!(playlist.generation(), 0);
    assert_eq!(playlist.next_msn(), 0);
}

#[test]
fn options_are_checked() {
    let vod_ll =
        MediaPlaylistOptions::new(PlaylistKind::Vod, 6.0).low_latency(LowLatencyOptions::new(1.0));
    assert!(matches!(
        MediaPlaylist::new(vod_ll),
        Err(PlaylistError::InvalidOptions(_))
    ));
    let window_0 = MediaPlaylistOptions::new(PlaylistKind::Live { window: 0 }, 6.0);
    assert!(MediaPlaylist::new(window_0).is_err());
    assert!(MediaPlaylist::new(MediaPlaylistOptions::new(PlaylistKind::Event, 0.0)).is_err());
    let part_too_long = MediaPlaylistOptions::new(PlaylistKind::Event, 2.0)
        .low_latency(LowLatencyOptions::new(2.5));
    assert!(MediaPlaylist::new(part_too_long).is_err());
    let part_zero = MediaPlaylistOptions::new(PlaylistKind::Event, 2.0)
        .low_latency(LowLatencyOptions::new(0.0));
    assert!(MediaPlaylist::new(part_zero).is_err());
}

// ---------------------------------------------------------------- kinds

#[test]
fn event_playlist_keeps_everything() {
    let mut playlist =
        MediaPlaylist::new(MediaPlaylistOptions::new(PlaylistKind::Event, 4.0)).unwrap();
    for i in 0..20 {
        playlist
            .push_segment(Segment::new(format!("s{i}.ts"), 4.0).discontinuity(i == 5))
            .unwrap();
    }
    let text = playlist.render();
    assert_eq!(tag(&text, "#EXT-X-PLAYLIST-TYPE"), Some("EVENT"));
    let parsed = parse_media(&text);
    assert_eq!(parsed.segments.len(), 20);
    assert_eq!(parsed.media_sequence, 0);
    assert_eq!(parsed.discontinuity_sequence, 0);
    assert!(parsed.segments[5].discontinuity);
    assert!(!parsed.end_list);
    assert_eq!(
        parsed.playlist_type,
        Some(m3u8_rs::MediaPlaylistType::Event)
    );
    playlist.end();
    assert!(parse_media(&playlist.render()).end_list);
    check_text(&playlist.render());
}

#[test]
fn vod_playlist_exact_text() {
    let mut playlist = MediaPlaylist::new(
        MediaPlaylistOptions::new(PlaylistKind::Vod, 6.0).independent_segments(false),
    )
    .unwrap();
    assert!(playlist.is_ended());
    playlist
        .push_segment(Segment::new("v0.m4s", 6.006).map("init.mp4"))
        .unwrap();
    playlist
        .push_segment(Segment::new("v1.m4s", 3.5).map("init.mp4"))
        .unwrap();
    let text = playlist.render();
    assert_eq!(
        text,
        "#EXTM3U\n\
         #EXT-X-VERSION:6\n\
         #EXT-X-TARGETDURATION:6\n\
         #EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n\
         #EXT-X-MAP:URI=\"init.mp4\"\n\
         #EXTINF:6.006,\n\
         v0.m4s\n\
         #EXTINF:3.500,\n\
         v1.m4s\n\
         #EXT-X-ENDLIST\n"
    );
    let parsed = parse_media(&text);
    assert_eq!(parsed.playlist_type, Some(m3u8_rs::MediaPlaylistType::Vod));
    assert!(parsed.end_list);
    assert_eq!(parsed.version, Some(6));
    assert_eq!(parsed.target_duration, 6);
    assert_eq!(parsed.segments.len(), 2);
    assert_eq!(parsed.segments[0].map.as_ref().unwrap().uri, "init.mp4");
    assert!((parsed.segments[0].duration - 6.006).abs() < 1e-6);
}

#[test]
fn end_adds_endlist_once_and_refuses_more() {
    let mut playlist = live(3, 2.0);
    playlist.push_segment(Segment::new("a.ts", 2.0)).unwrap();
    assert!(!playlist.is_ended());
    playlist.end();
    let generation = playlist.generation();
    playlist.end();
    assert_eq!(playlist.generation(), generation);
    assert!(playlist.is_ended());
    assert_eq!(
        playlist.push_segment(Segment::new("b.ts", 2.0)),
        Err(PlaylistError::Ended)
    );
    let text = playlist.render();
    assert_eq!(text.matches("#EXT-X-ENDLIST").count(), 1);
    assert!(text.ends_with("a.ts\n#EXT-X-ENDLIST\n"));
    assert!(parse_media(&text).end_list);
}

// ---------------------------------------------------------------- window

/// 10 segments, discontinuities (with a new init segment) at 3 and 7,
/// window 4: the sequence numbers after each push, computed by hand.
#[test]
fn window_slide_counts_media_and_discontinuity_sequences() {
    // After push i (0-based), segments max(0, i - 3) ..= i are shown.
    // MEDIA-SEQUENCE = number removed = max(0, i - 3).
    // DISCONTINUITY-SEQUENCE = discontinuities among the removed: segment 3
    // is removed by push 7; segment 7 never is (push 11 would).
    let media_sequence: [usize; 10] = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6];
    let discontinuity_sequence: [usize; 10] = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    let init = |i: usize| match i {
        0..=2 => "init0.mp4",
        3..=6 => "init1.mp4",
        _ => "init2.mp4",
    };
    let mut playlist = live(4, 2.0);
    for i in 0..10 {
        playlist
            .push_segment(
                Segment::new(format!("s{i}.m4s"), 2.0)
                    .discontinuity(i == 3 || i == 7)
                    .map(init(i)),
            )
            .unwrap();
        let text = playlist.render();
        check_text(&text);
        assert_eq!(
            playlist.media_sequence() as usize,
            media_sequence[i],
            "push {i}"
        );
        assert_eq!(
            playlist.discontinuity_sequence() as usize,
            discontinuity_sequence[i],
            "push {i}"
        );
        let parsed = parse_media(&text);
        assert_eq!(parsed.media_sequence, media_sequence[i] as u64);
        assert_eq!(
            parsed.discontinuity_sequence,
            discontinuity_sequence[i] as u64
        );
        assert_eq!(parsed.segments.len(), (i + 1).min(4));
        assert_eq!(parsed.version, Some(6));
        // The first segment shown is preceded by its own init segment.
        let first = media_sequence[i];
        assert_eq!(
            parsed.segments[0].map.as_ref().map(|m| m.uri.as_str()),
            Some(init(first)),
            "push {i}"
        );
        assert_eq!(
            tag(&text, "#EXT-X-MAP"),
            Some(format!("URI=\"{}\"", init(first)).as_str())
        );
        // EXT-X-MAP only where the init segment changes.
        for (k, segment) in parsed.segments.iter().enumerate().skip(1) {
            let msn = first + k;
            let changed = init(msn) != init(msn - 1);
            assert_eq!(segment.map.is_some(), changed, "push {i}, segment {msn}");
            assert_eq!(segment.discontinuity, msn == 3 || msn == 7);
        }
        assert_eq!(parsed.segments[0].discontinuity, first == 3 || first == 7);
        assert_eq!(
            uris(&text),
            (first..=i).map(|k| format!("s{k}.m4s")).collect::<Vec<_>>()
        );
    }
    // Hand check of the last state's text.
    assert_eq!(
        playlist.render(),
        "#EXTM3U\n\
         #EXT-X-VERSION:6\n\
         #EXT-X-TARGETDURATION:2\n\
         #EXT-X-MEDIA-SEQUENCE:6\n\
         #EXT-X-DISCONTINUITY-SEQUENCE:1\n\
         #EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MAP:URI=\"init1.mp4\"\n\
         #EXTINF:2.000,\n\
         s6.m4s\n\
         #EXT-X-DISCONTINUITY\n\
         #EXT-X-MAP:URI=\"init2.mp4\"\n\
         #EXTINF:2.000,\n\
         s7.m4s\n\
         #EXTINF:2.000,\n\
         s8.m4s\n\
         #EXTINF:2.000,\n\
         s9.m4s\n"
    );
}

#[test]
fn a_discontinuity_at_the_top_is_still_written_until_it_leaves() {
    let mut playlist = live(2, 2.0);
    playlist.push_segment(Segment::new("a.ts", 2.0)).unwrap();
    playlist
        .push_segment(Segment::new("b.ts", 2.0).discontinuity(true))
        .unwrap();
    playlist.push_segment(Segment::new("c.ts", 2.0)).unwrap();
    let text = playlist.render();
    assert!(
        text.contains("#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nb.ts\n")
    );
    assert_eq!(playlist.discontinuity_sequence(), 0);
    playlist.push_segment(Segment::new("d.ts", 2.0)).unwrap();
    assert_eq!(playlist.discontinuity_sequence(), 1);
    assert!(!playlist.render().contains("#EXT-X-DISCONTINUITY\n"));
    assert_eq!(
        tag(&playlist.render(), "#EXT-X-DISCONTINUITY-SEQUENCE"),
        Some("1")
    );
}

#[test]
fn map_cannot_be_removed_and_version_stays() {
    let mut playlist = live(1, 2.0);
    playlist
        .push_segment(Segment::new("a.m4s", 2.0).map("init.mp4"))
        .unwrap();
    assert_eq!(
        playlist.push_segment(Segment::new("b.ts", 2.0)),
        Err(PlaylistError::MapRemoved { msn: 1 })
    );
    playlist
        .push_segment(Segment::new("b.m4s", 2.0).map("init.mp4"))
        .unwrap();
    assert_eq!(tag(&playlist.render(), "#EXT-X-VERSION"), Some("6"));
    let mut ts = live(1, 2.0);
    ts.push_segment(Segment::new("a.ts", 2.0)).unwrap();
    assert_eq!(tag(&ts.render(), "#EXT-X-VERSION"), Some("3"));
}

// ---------------------------------------------------------------- dates

#[test]
fn program_date_time_on_first_segment_and_after_discontinuities() {
    let base = 1_550_110_408_106;
    let mut playlist = live(3, 2.0);
    for i in 0..5u64 {
        playlist
            .push_segment(
                Segment::new(format!("s{i}.ts"), 2.0)
                    .discontinuity(i == 3)
                    .program_date_time(at_ms(base + 2000 * i)),
            )
            .unwrap();
    }
    // Shown: s2, s3 (discontinuity), s4.
    let text = playlist.render();
    assert_eq!(
        tags(&text, "#EXT-X-PROGRAM-DATE-TIME"),
        ["2019-02-14T02:13:32.106Z", "2019-02-14T02:13:34.106Z"]
    );
    let parsed = parse_media(&text);
    let dates: Vec<Option<i64>> = parsed
        .segments
        .iter()
        .map(|s| s.program_date_time.map(|d| d.timestamp_millis()))
        .collect();
    assert_eq!(
        dates,
        [Some((base + 4000) as i64), Some((base + 6000) as i64), None]
    );
}

// ---------------------------------------------------------------- target duration

#[test]
fn target_duration_rounds_to_nearest_and_never_decreases() {
    let mut playlist = live(2, 6.0);
    playlist.push_segment(Segment::new("a.ts", 6.4)).unwrap();
    assert_eq!(playlist.target_duration(), 6);
    playlist.push_segment(Segment::new("b.ts", 6.5)).unwrap();
    assert_eq!(playlist.target_duration(), 7);
    for i in 0..4 {
        playlist
            .push_segment(Segment::new(format!("c{i}.ts"), 2.0))
            .unwrap();
    }
    // The 6.5 s segment left the window: the target stays.
    assert_eq!(playlist.target_duration(), 7);
    assert_eq!(parse_media(&playlist.render()).target_duration, 7);
}

#[test]
fn target_duration_follows_the_written_extinf() {
    // 2.4996 is written as 2.500, which a client rounds to 3.
    let mut playlist = live(2, 2.0);
    playlist.push_segment(Segment::new("a.ts", 2.4996)).unwrap();
    let text = playlist.render();
    assert_eq!(tag(&text, "#EXTINF"), Some("2.500,"));
    assert_eq!(tag(&text, "#EXT-X-TARGETDURATION"), Some("3"));
    // A fractional configured target rounds up.
    assert_eq!(live(2, 2.2).target_duration(), 3);
    assert_eq!(live(2, 0.5).target_duration(), 1);
}

proptest! {
    #[test]
    fn target_duration_rule_holds_in_every_state(
        durations in prop::collection::vec((0.0f64..20.0, any::<bool>()), 1..40),
        window in 1usize..8,
        configured in 1u32..10,
    ) {
        let mut playlist = live(window, f64::from(configured));
        let mut last_target = 0;
        let mut discontinuities_gone = 0;
        for (i, &(duration, discontinuity)) in durations.iter().enumerate() {
            playlist
                .push_segment(Segment::new(format!("s{i}.ts"), duration).discontinuity(discontinuity))
                .unwrap();
            let text = playlist.render();
            check_text(&text);
            let target = playlist.target_duration();
            prop_assert!(target >= last_target);
            prop_assert!(target >= u64::from(configured));
            last_target = target;
            let parsed = parse_media(&text);
            prop_assert_eq!(parsed.target_duration, target);
            for segment in &parsed.segments {
                prop_assert!((f64::from(segment.duration)).round() as u64 <= target);
            }
            let shown = (i + 1).min(window);
            prop_assert_eq!(parsed.segments.len(), shown);
            let removed = i + 1 - shown;
            prop_assert_eq!(parsed.media_sequence, removed as u64);
            if removed > 0 && durations[removed - 1].1 {
                discontinuities_gone += 1;
            }
            prop_assert_eq!(parsed.discontinuity_sequence, discontinuities_gone);
            for (k, segment) in parsed.segments.iter().enumerate() {
                prop_assert_eq!(segment.discontinuity, durations[removed + k].1);
                prop_assert_eq!(&segment.uri, &format!("s{}.ts", removed + k));
            }
        }
    }
}

// ---------------------------------------------------------------- low latency

#[test]
fn low_latency_exact_text() {
    let mut playlist = low_latency(3, 2.0, 0.5);
    for k in 0..4 {
        playlist
            .push_part(Part::new(format!("p0.{k}.ts"), 0.5).independent(k == 0))
            .unwrap();
    }
    playlist.push_segment(Segment::new("s0.ts", 2.0)).unwrap();
    playlist
        .push_part(Part::new("p1.0.ts", 0.5).independent(true))
        .unwrap();
    playlist.set_preload_hint(Some("p1.1.ts".into())).unwrap();
    let text = playlist.render();
    assert_eq!(
        text,
        "#EXTM3U\n\
         #EXT-X-VERSION:3\n\
         #EXT-X-TARGETDURATION:2\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,CAN-SKIP-UNTIL=12.000\n\
         #EXT-X-PART-INF:PART-TARGET=0.500\n\
         #EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PART:DURATION=0.500,URI=\"p0.0.ts\",INDEPENDENT=YES\n\
         #EXT-X-PART:DURATION=0.500,URI=\"p0.1.ts\"\n\
         #EXT-X-PART:DURATION=0.500,URI=\"p0.2.ts\"\n\
         #EXT-X-PART:DURATION=0.500,URI=\"p0.3.ts\"\n\
         #EXTINF:2.000,\n\
         s0.ts\n\
         #EXT-X-PART:DURATION=0.500,URI=\"p1.0.ts\",INDEPENDENT=YES\n\
         #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p1.1.ts\"\n"
    );
    check_text(&text);
    // The segments are independent but the tag is left out once parts are
    // listed: video.js would read it as "every part is independent".
    assert!(playlist.options().independent_segments);
    // m3u8-rs does not know the Low-Latency tags but must still read it.
    let parsed = parse_media(&text);
    assert_eq!(parsed.segments.len(), 1);
    assert_eq!(parsed.segments[0].uri, "s0.ts");
    assert_eq!(playlist.next_msn(), 1);
    assert_eq!(playlist.next_part(), 1);
    // The hinted part arrives: the hint is consumed.
    playlist.push_part(Part::new("p1.1.ts", 0.5)).unwrap();
    assert!(!playlist.render().contains("PRELOAD-HINT"));
    assert_eq!(playlist.next_part(), 2);
}

#[test]
fn rendition_reports_point_at_the_last_part_or_segment() {
    let mut playlist = low_latency(3, 2.0, 0.5);
    assert_eq!(playlist.rendition_report("../b/index.m3u8"), Ok(None));
    assert!(playlist.rendition_report("a\"b").is_err());
    for k in 0..4 {
        playlist
            .push_part(Part::new(format!("p0.{k}.m4s"), 0.5).independent(k == 0))
            .unwrap();
    }
    let report = playlist
        .rendition_report("../b/index.m3u8")
        .unwrap()
        .unwrap();
    assert_eq!((report.last_msn, report.last_part), (0, Some(3)));
    // The segment completed, no part of the next one yet: its last part.
    playlist.push_segment(Segment::new("s0.m4s", 2.0)).unwrap();
    let report = playlist
        .rendition_report("../b/index.m3u8")
        .unwrap()
        .unwrap();
    assert_eq!((report.last_msn, report.last_part), (0, Some(3)));
    playlist.push_part(Part::new("p1.0.m4s", 0.5)).unwrap();
    let report = playlist
        .rendition_report("../b/index.m3u8")
        .unwrap()
        .unwrap();
    assert_eq!(
        report.render(),
        "#EXT-X-RENDITION-REPORT:URI=\"../b/index.m3u8\",LAST-MSN=1,LAST-PART=0\n"
    );
    // Without parts: the last segment, and no LAST-PART.
    let mut plain = live(3, 2.0);
    plain.push_segment(Segment::new("s0.ts", 2.0)).unwrap();
    plain.push_segment(Segment::new("s1.ts", 2.0)).unwrap();
    let report = plain.rendition_report("x.m3u8").unwrap().unwrap();
    assert_eq!(
        report.render(),
        "#EXT-X-RENDITION-REPORT:URI=\"x.m3u8\",LAST-MSN=1\n"
    );
}

#[test]
fn parts_need_low_latency_and_respect_the_part_target() {
    let mut plain = live(3, 2.0);
    assert_eq!(
        plain.push_part(Part::new("p.ts", 0.5)),
        Err(PlaylistError::PartsDisabled)
    );
    assert_eq!(
        plain.set_preload_hint(Some("p.ts".into())),
        Err(PlaylistError::PartsDisabled)
    );
    let mut playlist = low_latency(3, 2.0, 0.5);
    assert_eq!(
        playlist.push_part(Part::new("p.ts", 0.501)),
        Err(PlaylistError::PartTooLong {
            duration_ms: 501,
            part_target_ms: 500
        })
    );
    // 0.5004 s is written as 0.500: allowed.
    playlist.push_part(Part::new("p.ts", 0.5004)).unwrap();
}

#[test]
fn segment_head_goes_before_its_first_part() {
    let mut playlist = low_latency(5, 2.0, 1.0);
    playlist
        .push_segment(
            Segment::new("s0.m4s", 2.0)
                .map("init0.mp4")
                .program_date_time(at_ms(0)),
        )
        .unwrap();
    playlist
        .begin_segment(
            SegmentHead::new()
                .discontinuity(true)
                .map("init1.mp4")
                .program_date_time(at_ms(60_000)),
        )
        .unwrap();
    playlist
        .push_part(Part::new("p1.0.m4s", 1.0).independent(true))
        .unwrap();
    let text = playlist.render();
    assert!(
        text.ends_with(
            "s0.m4s\n\
             #EXT-X-DISCONTINUITY\n\
             #EXT-X-MAP:URI=\"init1.mp4\"\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:00.000Z\n\
             #EXT-X-PART:DURATION=1.000,URI=\"p1.0.m4s\",INDEPENDENT=YES\n"
        ),
        "{text}"
    );
    // A head cannot change once parts are out.
    assert_eq!(
        playlist.begin_segment(SegmentHead::new()),
        Err(PlaylistError::HeadMismatch { msn: 1 })
    );
    // The completing segment must agree on discontinuity and map.
    assert_eq!(
        playlist.push_segment(Segment::new("s1.m4s", 1.0).map("init1.mp4")),
        Err(PlaylistError::HeadMismatch { msn: 1 })
    );
    playlist
        .push_segment(
            Segment::new("s1.m4s", 1.0)
                .map("init1.mp4")
                .discontinuity(true),
        )
        .unwrap();
    let text = playlist.render();
    // The tags stay in front of the first part, now with EXTINF after it,
    // and the announced date is kept.
    assert!(text.ends_with(
        "#EXT-X-DISCONTINUITY\n\
         #EXT-X-MAP:URI=\"init1.mp4\"\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:00.000Z\n\
         #EXT-X-PART:DURATION=1.000,URI=\"p1.0.m4s\",INDEPENDENT=YES\n\
         #EXTINF:1.000,\n\
         s1.m4s\n"
    ));
    let parsed = parse_media(&text);
    assert_eq!(parsed.segments.len(), 2);
    assert!(parsed.segments[1].discontinuity);
    // Parts without an announced head inherit the init segment: a plain
    // segment completes them.
    playlist.push_part(Part::new("p2.0.m4s", 1.0)).unwrap();
    playlist
        .push_segment(Segment::new("s2.m4s", 1.0).map("init1.mp4"))
        .unwrap();
    assert_eq!(playlist.next_msn(), 3);
}

/// Parts are kept for segments that start within the last three target
/// durations of the playlist's end (rfc8216bis 6.2.2).
#[test]
fn parts_leave_after_three_target_durations() {
    let mut playlist = low_latency(20, 2.0, 0.5);
    for s in 0..8 {
        for k in 0..4 {
            playlist
                .push_part(Part::new(format!("p{s}.{k}.ts"), 0.5).independent(k == 0))
                .unwrap();
        }
        playlist
            .push_segment(Segment::new(format!("s{s}.ts"), 2.0))
            .unwrap();
        let text = playlist.render();
        check_text(&text);
        // The segments whose start is within 6 s of the end: the last 3.
        let with_parts: Vec<usize> = (0..=s)
            .filter(|k| text.contains(&format!("URI=\"p{k}.0.ts\"")))
            .collect();
        let expected: Vec<usize> = (s.saturating_sub(2)..=s).collect();
        assert_eq!(with_parts, expected, "after segment {s}");
        assert_eq!(parse_media(&text).segments.len(), s + 1);
    }
    // Parts that left still count for blocking requests: segment 0 had 4.
    assert!(!playlist.render().contains("p0.3.ts"));
    assert!(is_ready(&playlist.answer_query("_HLS_msn=0&_HLS_part=3")));
    assert!(is_ready(&playlist.answer_query("_HLS_msn=7&_HLS_part=3")));
    // Past segment 7's last part: part 0 of segment 8, not there yet.
    assert_eq!(
        playlist.answer_query("_HLS_msn=7&_HLS_part=4"),
        ReloadAnswer::Wait
    );
    // An open segment moves the end: one more part drops segment 5's.
    playlist.push_part(Part::new("p8.0.ts", 0.5)).unwrap();
    let text = playlist.render();
    assert!(!text.contains("p5.0.ts"));
    assert!(text.contains("p6.0.ts"));
}

#[test]
fn end_drops_open_parts_and_hint() {
    let mut playlist = low_latency(3, 2.0, 0.5);
    playlist.push_part(Part::new("p0.0.ts", 0.5)).unwrap();
    playlist.push_segment(Segment::new("s0.ts", 0.5)).unwrap();
    playlist.push_part(Part::new("p1.0.ts", 0.5)).unwrap();
    playlist.set_preload_hint(Some("p1.1.ts".into())).unwrap();
    playlist.end();
    let text = playlist.render();
    check_text(&text);
    assert!(!text.contains("p1.0.ts"));
    assert!(!text.contains("PRELOAD-HINT"));
    assert!(text.contains("p0.0.ts"));
    assert_eq!(
        playlist.push_part(Part::new("p1.1.ts", 0.5)),
        Err(PlaylistError::Ended)
    );
}

// ---------------------------------------------------------------- delta updates

/// 20 segments of 2 s, target 2: the skip boundary is 12 s, so segments
/// that end more than 12 s before the end (40 s) go: those ending at 2..=26
/// s, 13 of them.
fn skip_fixture() -> MediaPlaylist {
    let mut playlist = low_latency(20, 2.0, 0.5);
    for i in 0..20u64 {
        let init = if i < 15 { "init0.mp4" } else { "init1.mp4" };
        playlist
            .push_segment(
                Segment::new(format!("s{i}.m4s"), 2.0)
                    .map(init)
                    .discontinuity(i == 4 || i == 15)
                    .program_date_time(at_ms(i * 2000)),
            )
            .unwrap();
    }
    playlist
}

#[test]
fn delta_update_skips_old_segments() {
    let playlist = skip_fixture();
    let full = playlist.render();
    let delta = playlist.render_delta();
    check_text(&full);
    check_text(&delta);
    assert_eq!(tag(&delta, "#EXT-X-SKIP"), Some("SKIPPED-SEGMENTS=13"));
    assert_eq!(tag(&delta, "#EXT-X-VERSION"), Some("9"));
    assert_eq!(tag(&full, "#EXT-X-VERSION"), Some("6"));
    assert!(tag(&full, "#EXT-X-SKIP").is_none());
    assert_eq!(
        uris(&delta),
        (13..20).map(|k| format!("s{k}.m4s")).collect::<Vec<_>>()
    );
    // Same sequence numbers as the full playlist.
    assert_eq!(
        tag(&delta, "#EXT-X-MEDIA-SEQUENCE"),
        tag(&full, "#EXT-X-MEDIA-SEQUENCE")
    );
    assert_eq!(
        tag(&delta, "#EXT-X-DISCONTINUITY-SEQUENCE"),
        tag(&full, "#EXT-X-DISCONTINUITY-SEQUENCE")
    );
    // The skipped discontinuity (4) is gone with its segment; 15's stays.
    assert_eq!(full.matches("#EXT-X-DISCONTINUITY\n").count(), 2);
    assert_eq!(delta.matches("#EXT-X-DISCONTINUITY\n").count(), 1);
    // The skip tag comes after the playlist tags and before the first
    // segment's, and that segment has its map and date again.
    assert!(delta.contains(
        "#EXT-X-SKIP:SKIPPED-SEGMENTS=13\n\
         #EXT-X-MAP:URI=\"init0.mp4\"\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:26.000Z\n\
         #EXTINF:2.000,\n\
         s13.m4s\n"
    ));
    // m3u8-rs reads both.
    assert_eq!(parse_media(&full).segments.len(), 20);
    assert_eq!(parse_media(&delta).segments.len(), 7);
}

#[test]
fn delta_update_after_a_discontinuity_left_the_window() {
    let mut playlist = skip_fixture();
    // Slide: 5 more segments push s0..s4 out, s4 with its discontinuity.
    for i in 20..25u64 {
        playlist
            .push_segment(Segment::new(format!("s{i}.m4s"), 2.0).map("init1.mp4"))
            .unwrap();
    }
    assert_eq!(playlist.media_sequence(), 5);
    assert_eq!(playlist.discontinuity_sequence(), 1);
    let delta = playlist.render_delta();
    assert_eq!(tag(&delta, "#EXT-X-DISCONTINUITY-SEQUENCE"), Some("1"));
    assert_eq!(tag(&delta, "#EXT-X-MEDIA-SEQUENCE"), Some("5"));
    assert_eq!(tag(&delta, "#EXT-X-SKIP"), Some("SKIPPED-SEGMENTS=13"));
    // s5..s17 skipped; s18.. shown; discontinuity before s15 was skipped.
    assert_eq!(uris(&delta)[0], "s18.m4s");
    assert!(!delta.contains("#EXT-X-DISCONTINUITY\n"));
    assert!(delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=13\n#EXT-X-MAP:URI=\"init1.mp4\"\n"));
    let parsed = parse_media(&delta);
    assert_eq!(parsed.discontinuity_sequence, 1);
    assert_eq!(parsed.media_sequence, 5);
}

#[test]
fn no_skip_tag_when_nothing_is_old_enough_or_skip_is_off() {
    let mut playlist = low_latency(20, 2.0, 0.5);
    for i in 0..6 {
        playlist
            .push_segment(Segment::new(format!("s{i}.ts"), 2.0))
            .unwrap();
    }
    // 12 s in all: nothing ends more than 12 s before the end.
    assert_eq!(playlist.render_delta(), playlist.render());
    // 14 s: segment 0 ends 12 s before the end, not more.
    playlist.push_segment(Segment::new("s6.ts", 2.0)).unwrap();
    assert_eq!(playlist.render_delta(), playlist.render());
    playlist.push_segment(Segment::new("s7.ts", 2.0)).unwrap();
    assert_eq!(
        tag(&playlist.render_delta(), "#EXT-X-SKIP"),
        Some("SKIPPED-SEGMENTS=1")
    );

    let mut off = MediaPlaylist::new(
        MediaPlaylistOptions::new(PlaylistKind::Live { window: 20 }, 2.0)
            .low_latency(LowLatencyOptions::new(0.5).delta_updates(false)),
    )
    .unwrap();
    for i in 0..20 {
        off.push_segment(Segment::new(format!("s{i}.ts"), 2.0))
            .unwrap();
    }
    let text = off.render();
    assert_eq!(
        tag(&text, "#EXT-X-SERVER-CONTROL"),
        Some("CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500")
    );
    assert_eq!(off.render_delta(), text);
    let request = ReloadRequest::parse("_HLS_skip=YES").unwrap();
    assert_eq!(off.answer(&request), ReloadAnswer::Ready(text));
}

#[test]
fn can_skip_until_follows_a_raised_target() {
    let mut playlist = low_latency(20, 2.0, 0.5);
    playlist.push_segment(Segment::new("long.ts", 3.6)).unwrap();
    let text = playlist.render();
    assert_eq!(tag(&text, "#EXT-X-TARGETDURATION"), Some("4"));
    let control = tag(&text, "#EXT-X-SERVER-CONTROL").unwrap();
    assert_eq!(attr(control, "CAN-SKIP-UNTIL"), Some("24.000"));
    assert_eq!(attr(control, "PART-HOLD-BACK"), Some("1.500"));
}

// ---------------------------------------------------------------- blocking reload

/// Segments 0..=3 complete, four parts of 0.5 s each; window 10.
fn reload_fixture() -> MediaPlaylist {
    let mut playlist = low_latency(10, 2.0, 0.5);
    for s in 0..4 {
        for k in 0..4 {
            playlist
                .push_part(Part::new(format!("p{s}.{k}.ts"), 0.5).independent(k == 0))
                .unwrap();
        }
        playlist
            .push_segment(Segment::new(format!("s{s}.ts"), 2.0))
            .unwrap();
    }
    playlist
}

fn ask(playlist: &MediaPlaylist, query: &str) -> ReloadAnswer {
    playlist.answer_query(query)
}

fn is_ready(answer: &ReloadAnswer) -> bool {
    matches!(answer, ReloadAnswer::Ready(_))
}

#[test]
fn blocking_reload_for_segments() {
    let playlist = reload_fixture();
    assert_eq!(playlist.next_msn(), 4);
    assert_eq!(playlist.next_part(), 0);
    assert_eq!(
        playlist
            .last_segment()
            .map(|(msn, s)| (msn, s.uri.as_str())),
        Some((3, "s3.ts"))
    );
    assert_eq!(
        ask(&playlist, "_HLS_msn=2"),
        ReloadAnswer::Ready(playlist.render())
    );
    assert!(is_ready(&ask(&playlist, "_HLS_msn=3")));
    assert_eq!(ask(&playlist, "_HLS_msn=4"), ReloadAnswer::Wait);
    // Last segment is 3: 3 + 2 = 5 may wait, 6 is too far.
    assert_eq!(ask(&playlist, "_HLS_msn=5"), ReloadAnswer::Wait);
    assert!(matches!(
        ask(&playlist, "_HLS_msn=6"),
        ReloadAnswer::BadRequest(_)
    ));
    assert!(matches!(
        ask(&playlist, "_HLS_part=1"),
        ReloadAnswer::BadRequest("_HLS_part without _HLS_msn")
    ));
    // No directives: the playlist as it is.
    assert!(is_ready(&ask(&playlist, "")));
    assert!(is_ready(&ask(&playlist, "foo=bar")));
    assert_eq!(playlist.blocking_timeout(), Duration::from_secs(6));
}

#[test]
fn blocking_reload_for_parts() {
    let mut playlist = reload_fixture();
    let request = ReloadRequest::parse("_HLS_msn=4&_HLS_part=1").unwrap();
    assert_eq!(playlist.answer(&request), ReloadAnswer::Wait);
    let generation = playlist.generation();
    playlist.push_part(Part::new("p4.0.ts", 0.5)).unwrap();
    assert_ne!(playlist.generation(), generation);
    assert_eq!(playlist.answer(&request), ReloadAnswer::Wait);
    assert!(is_ready(&ask(&playlist, "_HLS_msn=4&_HLS_part=0")));
    playlist.push_part(Part::new("p4.1.ts", 0.5)).unwrap();
    let ReloadAnswer::Ready(text) = playlist.answer(&request) else {
        panic!("not ready");
    };
    assert!(text.contains("URI=\"p4.1.ts\""));
    // A part of a complete segment is there.
    assert!(is_ready(&ask(&playlist, "_HLS_msn=3&_HLS_part=3")));
    // Past the last part of segment 3 means part 0 of segment 4 (there)...
    assert!(is_ready(&ask(&playlist, "_HLS_msn=3&_HLS_part=4")));
    // ...and past the last of segment 4 would be part 0 of 5 (not yet).
    playlist.push_part(Part::new("p4.2.ts", 0.5)).unwrap();
    playlist.push_part(Part::new("p4.3.ts", 0.5)).unwrap();
    playlist.push_segment(Segment::new("s4.ts", 2.0)).unwrap();
    assert_eq!(ask(&playlist, "_HLS_msn=4&_HLS_part=4"), ReloadAnswer::Wait);
    assert_eq!(ask(&playlist, "_HLS_msn=5&_HLS_part=0"), ReloadAnswer::Wait);
    playlist.push_part(Part::new("p5.0.ts", 0.5)).unwrap();
    assert!(is_ready(&ask(&playlist, "_HLS_msn=4&_HLS_part=4")));
    assert!(is_ready(&ask(&playlist, "_HLS_msn=5&_HLS_part=0")));
}

#[test]
fn advance_part_limit() {
    // Part target 0.5 s: the limit is 3 / 0.5 = 6 parts past the last one.
    let playlist = reload_fixture();
    // No part of segment 4 yet: part 5 is 6 past, part 6 is 7 past.
    assert_eq!(ask(&playlist, "_HLS_msn=4&_HLS_part=5"), ReloadAnswer::Wait);
    assert!(matches!(
        ask(&playlist, "_HLS_msn=4&_HLS_part=6"),
        ReloadAnswer::BadRequest(_)
    ));
    // In segment 5, part N is at least N + 1 past.
    assert_eq!(ask(&playlist, "_HLS_msn=5&_HLS_part=5"), ReloadAnswer::Wait);
    assert!(matches!(
        ask(&playlist, "_HLS_msn=5&_HLS_part=6"),
        ReloadAnswer::BadRequest(_)
    ));
    // A part target of a second or more: the limit is 3.
    let mut slow = low_latency(5, 4.0, 2.0);
    slow.push_part(Part::new("a.ts", 2.0)).unwrap();
    assert_eq!(ask(&slow, "_HLS_msn=0&_HLS_part=3"), ReloadAnswer::Wait);
    assert!(matches!(
        ask(&slow, "_HLS_msn=0&_HLS_part=4"),
        ReloadAnswer::BadRequest(_)
    ));
}

#[test]
fn blocking_reload_edge_cases() {
    // A segment that left the window: the whole playlist at once.
    let mut playlist = low_latency(2, 2.0, 0.5);
    for s in 0..5 {
        playlist
            .push_segment(Segment::new(format!("s{s}.ts"), 2.0))
            .unwrap();
    }
    assert!(is_ready(&ask(&playlist, "_HLS_msn=0")));
    assert!(is_ready(&ask(&playlist, "_HLS_msn=0&_HLS_part=9")));
    // An empty playlist: the first segment is 0; 1 may wait, 2 may not.
    let empty = low_latency(2, 2.0, 0.5);
    assert_eq!(ask(&empty, "_HLS_msn=0"), ReloadAnswer::Wait);
    assert_eq!(ask(&empty, "_HLS_msn=1"), ReloadAnswer::Wait);
    assert!(matches!(
        ask(&empty, "_HLS_msn=2"),
        ReloadAnswer::BadRequest(_)
    ));
    // Ended: directives are ignored (but _HLS_part alone is still 400).
    playlist.end();
    assert_eq!(
        ask(&playlist, "_HLS_msn=99&_HLS_part=3&_HLS_skip=YES"),
        ReloadAnswer::Ready(playlist.render())
    );
    assert!(matches!(
        ask(&playlist, "_HLS_part=3"),
        ReloadAnswer::BadRequest(_)
    ));
    // Without Low-Latency HLS nothing blocks.
    let mut plain = live(3, 2.0);
    plain.push_segment(Segment::new("a.ts", 2.0)).unwrap();
    assert_eq!(
        ask(&plain, "_HLS_msn=99&_HLS_skip=YES"),
        ReloadAnswer::Ready(plain.render())
    );
    // Unreadable queries.
    for bad in [
        "_HLS_msn=abc",
        "_HLS_msn=-1",
        "_HLS_msn=+1",
        "_HLS_msn=",
        "_HLS_msn=1&_HLS_msn=2",
        "_HLS_msn=1&_HLS_part=x",
        "_HLS_skip=yes",
        "_HLS_msn=123456789012345678901",
    ] {
        assert!(
            matches!(ask(&empty, bad), ReloadAnswer::BadRequest(_)),
            "{bad}"
        );
    }
}

#[test]
fn blocking_reload_with_skip_answers_a_delta() {
    let mut playlist = skip_fixture();
    playlist.push_part(Part::new("p20.0.m4s", 0.5)).unwrap();
    let answer = ask(&playlist, "_HLS_msn=20&_HLS_part=0&_HLS_skip=YES");
    assert_eq!(answer, ReloadAnswer::Ready(playlist.render_delta()));
    let ReloadAnswer::Ready(text) = answer else {
        unreachable!()
    };
    assert!(text.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS="));
    assert!(text.contains("p20.0.m4s"));
    assert_eq!(
        ask(&playlist, "_HLS_msn=20&_HLS_part=0&_HLS_skip=v2"),
        ReloadAnswer::Ready(playlist.render_delta())
    );
    assert_eq!(
        ask(&playlist, "_HLS_msn=20&_HLS_part=0"),
        ReloadAnswer::Ready(playlist.render())
    );
    assert_eq!(
        ask(&playlist, "_HLS_skip=YES"),
        ReloadAnswer::Ready(playlist.render_delta())
    );
}

#[test]
fn query_parsing() {
    let parsed = |q: &str| ReloadRequest::parse(q).unwrap();
    assert_eq!(parsed(""), ReloadRequest::default());
    let r = parsed("?_HLS_msn=7");
    assert_eq!((r.msn, r.part, r.skip), (Some(7), None, None));
    let r = parsed("/live/a.m3u8?token=x&_HLS_part=2&_HLS_msn=10#frag");
    assert_eq!((r.msn, r.part), (Some(10), Some(2)));
    assert_eq!(parsed("_HLS_skip=v2").skip, Some(SkipRequest::V2));
    assert_eq!(parsed("_HLS_skip=YES").skip, Some(SkipRequest::Yes));
    assert_eq!(parsed("_HLS_part=1").part, Some(1));
    assert_eq!(
        ReloadRequest::parse("_HLS_skip=NO"),
        Err(PlaylistError::BadQuery("_HLS_skip is not YES or v2"))
    );
}

#[test]
fn generation_moves_on_every_visible_change() {
    let mut playlist = low_latency(3, 2.0, 0.5);
    let mut seen = vec![playlist.generation()];
    playlist.push_part(Part::new("p0.ts", 0.5)).unwrap();
    seen.push(playlist.generation());
    playlist.set_preload_hint(Some("p1.ts".into())).unwrap();
    seen.push(playlist.generation());
    // Same hint again: nothing visible changed.
    playlist.set_preload_hint(Some("p1.ts".into())).unwrap();
    assert_eq!(playlist.generation(), *seen.last().unwrap());
    playlist.push_segment(Segment::new("s0.ts", 0.5)).unwrap();
    seen.push(playlist.generation());
    playlist.end();
    seen.push(playlist.generation());
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    /// A random Low-Latency stream: every state keeps the text rules, parts
    /// only near the end, and a request for what was just published is
    /// ready while one for the next part waits.
    #[test]
    fn low_latency_states(
        segments in prop::collection::vec(prop::collection::vec(0.05f64..=0.5, 1..8), 1..25),
        window in 1usize..10,
    ) {
        let mut playlist = low_latency(window, 2.0, 0.5);
        for (s, parts) in segments.iter().enumerate() {
            let mut total = 0.0;
            for (k, &duration) in parts.iter().enumerate() {
                playlist.push_part(Part::new(format!("p{s}.{k}.ts"), duration).independent(k == 0)).unwrap();
                total += duration;
                let msn = playlist.next_msn();
                prop_assert_eq!(msn, s as u64);
                prop_assert_eq!(playlist.next_part(), k as u64 + 1);
                let ready = playlist.answer_query(&format!("_HLS_msn={msn}&_HLS_part={k}"));
                prop_assert!(is_ready(&ready));
                let next = format!("_HLS_msn={}&_HLS_part={}", msn, k + 1);
                prop_assert_eq!(playlist.answer_query(&next), ReloadAnswer::Wait);
                check_text(&playlist.render());
            }
            playlist.push_segment(Segment::new(format!("s{s}.ts"), total)).unwrap();
            let text = playlist.render();
            check_text(&text);
            let delta = playlist.render_delta();
            check_text(&delta);
            let parsed = parse_media(&text);
            prop_assert_eq!(parsed.segments.len(), (s + 1).min(window));
            let delta_parsed = parse_media(&delta);
            let skipped: usize = tag(&delta, "#EXT-X-SKIP")
                .map_or(0, |v| v.trim_start_matches("SKIPPED-SEGMENTS=").parse().unwrap());
            prop_assert_eq!(delta_parsed.segments.len() + skipped, parsed.segments.len());
            // Parts only on segments starting within 3 target durations of
            // the end. The target rises with a segment of 2.5 s or more, but
            // parts that left never come back: they are surely there only
            // within 3 of the configured target (6 s).
            let keep = 3.0 * playlist.target_duration() as f64;
            let mut from_end = 0.0;
            for (k, segment) in parsed.segments.iter().enumerate().rev() {
                from_end += f64::from(segment.duration);
                let msn = parsed.media_sequence as usize + k;
                let has_parts = text.contains(&format!("URI=\"p{msn}.0.ts\""));
                if from_end > keep + 1e-3 {
                    prop_assert!(!has_parts, "segment {} keeps parts {} s from the end", msn, from_end);
                } else if from_end < 6.0 - 1e-3 {
                    prop_assert!(has_parts, "segment {} lost parts {} s from the end", msn, from_end);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- multivariant

#[test]
fn multivariant_exact_text_and_parse() {
    let mut playlist = MultivariantPlaylist::new();
    playlist
        .push(
            Variant::new("1080p/index.m3u8", 6_000_000)
                .average_bandwidth(4_500_000)
                .codecs("avc1.640028,mp4a.40.2")
                .resolution(1920, 1080)
                .frame_rate(30_000.0 / 1001.0),
        )
        .unwrap();
    playlist
        .push(Variant::new("audio/index.m3u8", 130_000).codecs("mp4a.40.2"))
        .unwrap();
    let text = playlist.render();
    assert_eq!(
        text,
        "#EXTM3U\n\
         #EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=4500000,\
         CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=29.970\n\
         1080p/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=130000,CODECS=\"mp4a.40.2\"\n\
         audio/index.m3u8\n"
    );
    let parsed = parse_master(&text);
    assert!(parsed.independent_segments);
    assert_eq!(parsed.variants.len(), 2);
    let first = &parsed.variants[0];
    assert_eq!(first.uri, "1080p/index.m3u8");
    assert_eq!(first.bandwidth, 6_000_000);
    assert_eq!(first.average_bandwidth, Some(4_500_000));
    assert_eq!(first.codecs.as_deref(), Some("avc1.640028,mp4a.40.2"));
    let resolution = first.resolution.unwrap();
    assert_eq!((resolution.width, resolution.height), (1920, 1080));
    assert!((first.frame_rate.unwrap() - 29.97).abs() < 1e-9);
    assert_eq!(parsed.variants[1].resolution, None);
    assert_eq!(
        playlist.clone().independent_segments(false).render().lines().nth(1),
        Some("#EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=4500000,CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=29.970")
    );
}

#[test]
fn multivariant_refuses_what_it_cannot_write() {
    let mut playlist = MultivariantPlaylist::new();
    assert!(playlist.push(Variant::new("a\nb.m3u8", 1)).is_err());
    assert!(playlist
        .push(Variant::new("a.m3u8", 1).codecs("avc1\"x"))
        .is_err());
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
        assert!(playlist
            .push(Variant::new("a.m3u8", 1).frame_rate(rate))
            .is_err());
    }
    assert!(playlist.variants().is_empty());
}

#[test]
fn closed_captions_are_declared_and_named_by_their_variants() {
    let mut playlist = MultivariantPlaylist::new();
    playlist
        .push_captions(ClosedCaptions::cea608("cc", 1))
        .unwrap();
    let mut second = ClosedCaptions::cea608("cc", 3);
    second.language = Some("es".into());
    playlist.push_captions(second).unwrap();
    playlist
        .push(Variant::new("a/index.m3u8", 1_000_000).closed_captions("cc"))
        .unwrap();
    let text = playlist.render();
    assert_eq!(
        text,
        "#EXTM3U\n\
         #EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",DEFAULT=YES,AUTOSELECT=YES,INSTREAM-ID=\"CC1\"\n\
         #EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC3\",LANGUAGE=\"es\",DEFAULT=NO,AUTOSELECT=NO,INSTREAM-ID=\"CC3\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=1000000,CLOSED-CAPTIONS=\"cc\"\n\
         a/index.m3u8\n"
    );
    let parsed = parse_master(&text);
    assert_eq!(parsed.alternatives.len(), 2);
    let first = &parsed.alternatives[0];
    assert_eq!(
        first.media_type,
        m3u8_rs::AlternativeMediaType::ClosedCaptions
    );
    assert_eq!(first.instream_id, Some(m3u8_rs::InstreamId::CC(1)));
    assert_eq!(
        parsed.variants[0].closed_captions,
        Some(m3u8_rs::ClosedCaptionGroupId::GroupId("cc".into()))
    );
    let mut bad = ClosedCaptions::cea608("c\"c", 1);
    assert!(playlist.push_captions(bad.clone()).is_err());
    bad.group_id = String::new();
    assert!(playlist.push_captions(bad).is_err());
    assert!(playlist
        .push(Variant::new("b.m3u8", 1).closed_captions("x\"y"))
        .is_err());
}

#[test]
fn audio_renditions_are_declared_and_named_by_their_variants() {
    let mut playlist = MultivariantPlaylist::new();
    let main = AudioRendition::new("aud", "Track 0", None)
        .channels(2)
        .default(true);
    playlist.push_audio(main).unwrap();
    let second =
        AudioRendition::new("aud", "Track 1", Some("cam/audio1/index.m3u8".into())).language("es");
    playlist.push_audio(second).unwrap();
    playlist
        .push(Variant::new("cam/index.m3u8", 1_000_000).audio("aud"))
        .unwrap();
    let text = playlist.render();
    assert_eq!(
        text,
        "#EXTM3U\n\
         #EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Track 0\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\"\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Track 1\",LANGUAGE=\"es\",DEFAULT=NO,AUTOSELECT=YES,URI=\"cam/audio1/index.m3u8\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=1000000,AUDIO=\"aud\"\n\
         cam/index.m3u8\n"
    );
    let parsed = parse_master(&text);
    assert_eq!(parsed.alternatives.len(), 2);
    assert_eq!(
        parsed.alternatives[0].media_type,
        m3u8_rs::AlternativeMediaType::Audio
    );
    assert_eq!(parsed.alternatives[0].uri, None);
    assert!(parsed.alternatives[0].default);
    assert_eq!(
        parsed.alternatives[1].uri.as_deref(),
        Some("cam/audio1/index.m3u8")
    );
    assert_eq!(parsed.alternatives[1].language.as_deref(), Some("es"));
    assert_eq!(parsed.variants[0].audio.as_deref(), Some("aud"));
    assert!(playlist
        .push_audio(AudioRendition::new("aud", "a\"b", None))
        .is_err());
    assert!(playlist
        .push_audio(AudioRendition::new("aud", "x", Some("a\nb".into())))
        .is_err());
    assert!(playlist.push(Variant::new("b.m3u8", 1).audio("")).is_err());
}

#[test]
fn bandwidth_measurement() {
    // 250 kB in 2 s = 1 Mbit/s; 750 kB in 2 s = 3 Mbit/s; 0 s left out.
    let measured = Bandwidth::measure([(250_000, 2.0), (750_000, 2.0), (9_999, 0.0)]).unwrap();
    assert_eq!(measured.peak, 3_000_000);
    assert_eq!(measured.average, 2_000_000);
    assert_eq!(Bandwidth::measure([(1, 0.0)]), None);
    assert_eq!(Bandwidth::measure(std::iter::empty()), None);
    // Rounded up: 1 byte over 3 ms = 2666.67 bit/s.
    assert_eq!(Bandwidth::measure([(1, 0.003)]).unwrap().peak, 2667);

    // The media playlist measures every segment ever pushed, also those
    // that left the window.
    let mut playlist = live(1, 2.0);
    assert_eq!(playlist.bandwidth(), None);
    playlist
        .push_segment(Segment::new("a.ts", 2.0).bytes(750_000))
        .unwrap();
    playlist
        .push_segment(Segment::new("b.ts", 2.0).bytes(250_000))
        .unwrap();
    let measured = playlist.bandwidth().unwrap();
    assert_eq!((measured.peak, measured.average), (3_000_000, 2_000_000));
    let variant = Variant::measured("a.m3u8", measured);
    assert_eq!(
        (variant.bandwidth, variant.average_bandwidth),
        (3_000_000, Some(2_000_000))
    );
}

// ---------------------------------------------------------------- hostile queries

/// A Low-Latency playlist with `segments` complete segments of four 0.5 s
/// parts and `open_parts` parts of the next one.
fn ll_with(segments: u64, open_parts: u64) -> MediaPlaylist {
    let mut playlist = low_latency(4, 2.0, 0.5);
    for s in 0..segments {
        for k in 0..4 {
            playlist
                .push_part(Part::new(format!("p{s}.{k}.m4s"), 0.5).independent(k == 0))
                .unwrap();
        }
        playlist
            .push_segment(Segment::new(format!("s{s}.m4s"), 2.0))
            .unwrap();
    }
    for k in 0..open_parts {
        playlist
            .push_part(Part::new(format!("p{segments}.{k}.m4s"), 0.5).independent(k == 0))
            .unwrap();
    }
    playlist
}

#[test]
fn a_part_number_that_would_wrap_is_a_bad_request() {
    // `part + 1` wrapped to 0 here: the request looked like one for a part
    // already published and was answered 200 (or waited) instead of 400.
    for open_parts in 0..3 {
        let playlist = ll_with(2, open_parts);
        let next = playlist.next_msn();
        for part in [u64::MAX, u64::MAX - 1, u64::MAX / 2, 1 << 40] {
            for msn in [next, next + 1] {
                let answer = playlist.answer_query(&format!("_HLS_msn={msn}&_HLS_part={part}"));
                assert!(
                    matches!(answer, ReloadAnswer::BadRequest(_)),
                    "msn {msn} part {part}: {answer:?}"
                );
            }
        }
        let answer = playlist.answer_query(&format!("_HLS_msn={}", u64::MAX));
        assert!(matches!(answer, ReloadAnswer::BadRequest(_)), "{answer:?}");
    }
}

/// A directive value: a u64 written in decimal (valid), or something that
/// is not a decimal-integer (never `?`, `&` or `#`, which would change where
/// the query starts or ends rather than the value).
fn directive_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|v| v.to_string()),
        (0u64..12).prop_map(|v| v.to_string()),
        (u64::MAX - 8..=u64::MAX).prop_map(|v| v.to_string()),
        Just(String::new()),
        Just("18446744073709551616".to_owned()),
        Just("000000000000000000001".to_owned()),
        Just("-1".to_owned()),
        Just("+1".to_owned()),
        Just("1e3".to_owned()),
        Just(" 1".to_owned()),
        "[^&#?]{0,12}",
    ]
}

fn skip_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("YES".to_owned()),
        Just("v2".to_owned()),
        Just("yes".to_owned()),
        Just("V2".to_owned()),
        "[^&#?]{0,8}",
    ]
}

proptest! {
    /// Any `_HLS_msn`, `_HLS_part` and `_HLS_skip`, valid or not, in any
    /// state: no panic, a garbage value is 400, and a request is held
    /// (`Wait`) only when what it asks for can come soon: at most two
    /// segments after the last complete one, and at most the Advance Part
    /// Limit of parts past the last published part. Anything further is
    /// 400, never a wait that only the 503 timeout ends.
    #[test]
    fn any_directive_gets_a_consistent_answer(
        msn in prop::option::of(directive_value()),
        part in prop::option::of(directive_value()),
        skip in prop::option::of(skip_value()),
        segments in 0u64..6,
        open_parts in 0u64..4,
        ended in any::<bool>(),
    ) {
        let mut playlist = ll_with(segments, open_parts);
        if ended {
            playlist.end();
        }
        let mut query = Vec::new();
        for (key, value) in [("_HLS_msn", &msn), ("_HLS_part", &part), ("_HLS_skip", &skip)] {
            if let Some(value) = value {
                query.push(format!("{key}={value}"));
            }
        }
        let query = query.join("&");
        let answer = playlist.answer_query(&query);
        let parsed = ReloadRequest::parse(&query);
        let Ok(request) = parsed else {
            prop_assert!(matches!(answer, ReloadAnswer::BadRequest(_)), "{}: {:?}", query, answer);
            return Ok(());
        };
        // What parsed is what was sent.
        prop_assert_eq!(request.msn, msn.as_deref().and_then(|v| v.parse().ok()));
        if request.part.is_some() && request.msn.is_none() {
            prop_assert!(matches!(answer, ReloadAnswer::BadRequest(_)));
            return Ok(());
        }
        if ended {
            prop_assert!(matches!(answer, ReloadAnswer::Ready(_)), "{}: {:?}", query, answer);
            return Ok(());
        }
        let next = playlist.next_msn();
        let next_part = playlist.next_part();
        // Part target 0.5 s: the Advance Part Limit is 3 / 0.5 = 6 parts.
        let limit = 6u64;
        if let Some(m) = request.msn {
            if m > next + 1 {
                prop_assert!(matches!(answer, ReloadAnswer::BadRequest(_)), "{}: {:?}", query, answer);
            }
        }
        if answer == ReloadAnswer::Wait {
            let m = request.msn.unwrap_or(0);
            prop_assert!(m <= next + 1, "{}: waits for msn {} (next {})", query, m, next);
            if let Some(p) = request.part {
                let soon = m < next
                    || (m == next && p < next_part + limit)
                    || (m == next + 1 && p < limit);
                prop_assert!(soon, "{}: waits for part {} of {} (next {}.{})", query, p, m, next, next_part);
            }
        }
    }
}

#[test]
fn cache_ages_follow_the_delivery_guidance() {
    let blocking = ReloadRequest::parse("_HLS_msn=3&_HLS_part=1").unwrap();
    let plain = ReloadRequest::parse("").unwrap();
    let ll = low_latency(3, 2.0, 0.5);
    assert_eq!(ll.cache_max_age(&blocking), Some(Duration::from_secs(1)));
    assert_eq!(ll.cache_max_age(&plain), None);
    let classic = live(3, 6.0);
    assert_eq!(classic.cache_max_age(&plain), Some(Duration::from_secs(3)));
    // Directives mean nothing without Low-Latency HLS.
    assert_eq!(
        classic.cache_max_age(&blocking),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        live(3, 1.0).cache_max_age(&plain),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn every_encrypted_segment_has_its_key_and_iv_and_no_key_covers_an_init_segment() {
    let mut playlist = live(5, 2.0);
    let head = |map: &str, key: Option<&str>, discontinuity: bool| {
        let head = SegmentHead::new().map(map).discontinuity(discontinuity);
        match key {
            Some(key) => head.key(key),
            None => head,
        }
    };
    for (uri, head) in [
        ("s0.m4s", head("init0.mp4", Some("key0.key"), false)),
        ("s1.m4s", head("init0.mp4", Some("key0.key"), false)),
        ("s2.m4s", head("init1.mp4", Some("key0.key"), true)),
        ("s3.m4s", head("init1.mp4", Some("key1.key"), false)),
        ("s4.m4s", head("init1.mp4", None, false)),
    ] {
        playlist
            .push_segment(Segment::new(uri, 2.0).head(head))
            .unwrap();
    }
    let text = playlist.render();
    let body = &text[text.find("#EXT-X-MAP").unwrap()..];
    assert_eq!(
        body,
        "#EXT-X-MAP:URI=\"init0.mp4\"\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"key0.key\",IV=0x00000000000000000000000000000000\n\
         #EXTINF:2.000,\ns0.m4s\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"key0.key\",IV=0x00000000000000000000000000000001\n\
         #EXTINF:2.000,\ns1.m4s\n\
         #EXT-X-DISCONTINUITY\n\
         #EXT-X-KEY:METHOD=NONE\n\
         #EXT-X-MAP:URI=\"init1.mp4\"\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"key0.key\",IV=0x00000000000000000000000000000002\n\
         #EXTINF:2.000,\ns2.m4s\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"key1.key\",IV=0x00000000000000000000000000000003\n\
         #EXTINF:2.000,\ns3.m4s\n\
         #EXT-X-KEY:METHOD=NONE\n\
         #EXTINF:2.000,\ns4.m4s\n"
    );
    check_text(&text);
}

#[test]
fn a_delta_update_keeps_the_date_ranges_of_the_segments_it_skips() {
    let mut playlist = low_latency(20, 2.0, 0.5);
    for i in 0..20u64 {
        let mut head = SegmentHead::new().program_date_time(at_ms(i * 2000));
        if i == 2 {
            head.date_ranges
                .push(DateRange::new("break-1", at_ms(4000)));
        }
        playlist
            .push_segment(Segment::new(format!("s{i}.m4s"), 2.0).head(head))
            .unwrap();
    }
    let delta = playlist.render_delta();
    check_text(&delta);
    assert_eq!(tag(&delta, "#EXT-X-SKIP"), Some("SKIPPED-SEGMENTS=13"));
    assert!(!delta.contains("s2.m4s"));
    let skip = delta.find("#EXT-X-SKIP").unwrap();
    let range = delta.find("#EXT-X-DATERANGE:ID=\"break-1\"").expect("kept");
    assert!(range > skip, "{delta}");
}
