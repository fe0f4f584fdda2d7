//! The reader on real files cut, split, corrupted and misdescribed.

mod common;

use bytes::{BufMut, Bytes, BytesMut};
use common::{fixture, tags, FIXTURES};
use flv::{Error, ReadEvent, Reader, ReaderOptions, SkipReason, Tag, TagType};
use proptest::prelude::*;

/// Every event (errors as the last element) of `data` pushed in pieces cut at `cuts`.
fn pushed(data: &[u8], cuts: &[usize], options: ReaderOptions) -> (Vec<ReadEvent>, Option<Error>) {
    let mut reader = Reader::new(options);
    let mut events = Vec::new();
    let mut start = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(data.len());
    for end in bounds {
        reader.push(&data[start..end]);
        start = end;
        loop {
            match reader.next_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(error) => return (events, Some(error)),
            }
        }
    }
    reader.finish();
    loop {
        match reader.next_event() {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return (events, None),
            Err(error) => return (events, Some(error)),
        }
    }
}

fn whole(data: &Bytes, options: ReaderOptions) -> (Vec<ReadEvent>, Option<Error>) {
    let mut events = Vec::new();
    for event in flv::read_all_with(data.clone(), options) {
        match event {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

fn tag_offsets(events: &[ReadEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Tag(t) => Some(t.offset),
            _ => None,
        })
        .collect()
}

#[test]
fn whole_files_read_cleanly_in_every_mode() {
    for name in FIXTURES {
        let data = fixture(name);
        let lenient = whole(&data, ReaderOptions::default());
        assert_eq!(lenient.1, None, "{name}");
        for options in [
            ReaderOptions::default().strict(true),
            ReaderOptions::default().resync(true),
            ReaderOptions::default().strict(true).resync(true),
        ] {
            assert_eq!(whole(&data, options), lenient, "{name} {options:?}");
        }
        // The last tag ends exactly at the end of the file.
        let last = tags(&data).pop().unwrap();
        assert_eq!(
            last.body_offset() + last.body.len() as u64 + 4,
            data.len() as u64
        );
    }
}

#[test]
fn truncation_gives_every_complete_tag_then_the_offset() {
    let data = fixture("h264_aac.flv");
    let all = tags(&data);
    for cut in
        (0..data.len())
            .step_by(97)
            .chain([9, 12, 13, 14, 24, data.len() - 1, data.len() - 4])
    {
        let (events, error) = whole(&data.slice(..cut), ReaderOptions::default());
        let complete: Vec<&Tag> = all
            .iter()
            .filter(|t| t.body_offset() + t.body.len() as u64 <= cut as u64)
            .collect();
        assert_eq!(
            tag_offsets(&events),
            complete.iter().map(|t| t.offset).collect::<Vec<_>>(),
            "cut {cut}"
        );
        let boundary = complete
            .last()
            .map_or(13, |t| t.body_offset() + t.body.len() as u64 + 4);
        match error {
            // A cut at a tag boundary (or only inside the last PreviousTagSize) is a clean end.
            None => assert!(
                cut as u64 >= boundary - 4 && cut as u64 <= boundary || cut == 13,
                "cut {cut}"
            ),
            Some(Error::Truncated { offset, what, .. }) => {
                let expected = if cut < 9 {
                    0
                } else if cut < 13 {
                    9
                } else {
                    boundary
                };
                assert_eq!(offset, expected, "cut {cut}: {what}");
            }
            Some(other) => panic!("cut {cut}: {other}"),
        }
    }
}

#[test]
fn truncated_error_names_the_partial_tag() {
    let data = fixture("hevc_aac.flv");
    let all = tags(&data);
    let victim = &all[5];
    let cut = victim.body_offset() as usize + 10;
    let (events, error) = whole(&data.slice(..cut), ReaderOptions::default());
    assert_eq!(tag_offsets(&events).len(), 5);
    let error = error.unwrap();
    assert_eq!(
        error,
        Error::Truncated {
            what: "tag body",
            offset: victim.offset,
            needed: victim.body.len() as u64 - 10
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "input ends inside the tag body at offset {}: {} more bytes needed",
            victim.offset,
            victim.body.len() - 10
        )
    );
}

#[test]
fn previous_tag_size_lenient_by_default_strict_on_request() {
    let data = fixture("h264_aac.flv");
    let all = tags(&data);
    let pts_at = (all[3].body_offset() + all[3].body.len() as u64) as usize;
    let mut broken = BytesMut::from(&data[..]);
    broken[pts_at..pts_at + 4].copy_from_slice(&[0, 0, 0, 0]);
    let broken = broken.freeze();
    let (events, error) = whole(&broken, ReaderOptions::default());
    assert_eq!((tag_offsets(&events).len(), error), (all.len(), None));
    // Resync without strict: the next header is fine, so the tag is kept.
    let (events, error) = whole(&broken, ReaderOptions::default().resync(true));
    assert_eq!((tag_offsets(&events).len(), error), (all.len(), None));
    let (events, error) = whole(&broken, ReaderOptions::default().strict(true));
    assert_eq!(tag_offsets(&events).len(), 3);
    assert_eq!(
        error,
        Some(Error::PreviousTagSize {
            offset: pts_at as u64,
            expected: all[3].body.len() as u32 + 11,
            found: 0
        })
    );
}

#[test]
fn resync_skips_a_corrupt_tag_and_reports_the_range() {
    let data = fixture("h264_aac.flv");
    let all = tags(&data);
    // Tag 6's size field claims 200 bytes too many: its PreviousTagSize and the
    // next header are then garbage.
    let victim = &all[6];
    let mut broken = BytesMut::from(&data[..]);
    let at = victim.offset as usize;
    let size = victim.body.len() as u32 + 200;
    broken[at + 1..at + 4].copy_from_slice(&size.to_be_bytes()[1..]);
    let broken = broken.freeze();

    let (events, error) = whole(&broken, ReaderOptions::default().resync(true));
    assert_eq!(error, None);
    let skipped: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, ReadEvent::Skipped { .. }))
        .collect();
    assert_eq!(
        skipped,
        [&ReadEvent::Skipped {
            offset: victim.offset,
            len: all[7].offset - victim.offset,
            reason: SkipReason::PreviousTagSizeMismatch
        }]
    );
    let mut expected: Vec<u64> = all.iter().map(|t| t.offset).collect();
    expected.remove(6);
    assert_eq!(tag_offsets(&events), expected);
    // Without resync the same file is read as written (a wrong tag, then an error or garbage).
    let (_, error) = whole(&broken, ReaderOptions::default().strict(true));
    assert!(
        matches!(error, Some(Error::PreviousTagSize { .. })),
        "{error:?}"
    );
}

#[test]
fn resync_skips_garbage_between_tags() {
    let data = fixture("h264_opus.flv");
    let all = tags(&data);
    let at = all[4].offset as usize;
    // 1000 bytes of a video payload (plausible-looking garbage) inserted before tag 4.
    let biggest = all.iter().max_by_key(|t| t.body.len()).unwrap();
    let garbage = biggest.body.slice(..1000);
    let mut broken = BytesMut::from(&data[..at]);
    broken.put_slice(&garbage);
    broken.put_slice(&data[at..]);
    let broken = broken.freeze();
    let (events, error) = whole(&broken, ReaderOptions::default().resync(true));
    assert_eq!(error, None);
    assert!(events.contains(&ReadEvent::Skipped {
        offset: at as u64,
        len: 1000,
        reason: SkipReason::InvalidTagHeader
    }));
    let bodies: Vec<Bytes> = events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Tag(t) => Some(t.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        all.iter().map(|t| t.body.clone()).collect::<Vec<_>>()
    );
    // Without resync: an error naming where the garbage starts.
    let (events, error) = whole(&broken, ReaderOptions::default());
    assert_eq!(tag_offsets(&events).len(), 4);
    assert_eq!(error.unwrap().offset(), at as u64);
}

#[test]
fn resync_gives_up_at_the_end_with_one_skip() {
    let data = fixture("h264_mp3.flv");
    let all = tags(&data);
    let at = all[2].offset as usize;
    let mut broken = BytesMut::from(&data[..at]);
    broken.put_slice(&[0xEE; 5000]);
    let (events, error) = whole(&broken.freeze(), ReaderOptions::default().resync(true));
    assert_eq!(error, None);
    assert_eq!(tag_offsets(&events).len(), 2);
    assert_eq!(
        events.last(),
        Some(&ReadEvent::Skipped {
            offset: at as u64,
            len: 5000,
            reason: SkipReason::InvalidTagHeader
        })
    );
}

#[test]
fn header_flags_are_not_trusted() {
    // An upload whose header says "no audio, no video": the tags are read all the same.
    let data = fixture("h264_aac.flv");
    let mut lying = BytesMut::from(&data[..]);
    lying[4] = 0;
    let (events, error) = whole(&lying.freeze(), ReaderOptions::default().strict(true));
    assert_eq!(error, None);
    let ReadEvent::Header(header) = &events[0] else {
        panic!()
    };
    assert!(!header.has_audio && !header.has_video);
    assert_eq!(tag_offsets(&events).len(), tags(&data).len());
}

#[test]
fn data_offset_is_honoured_and_checked() {
    let data = fixture("h264_mp3.flv");
    // A 12-byte header: 3 extra bytes before PreviousTagSize0.
    let mut longer = BytesMut::from(&b"FLV\x01\x05\x00\x00\x00\x0cxyz"[..]);
    longer.put_slice(&data[9..]);
    let (events, error) = whole(&longer.freeze(), ReaderOptions::default());
    assert_eq!(error, None);
    assert_eq!(tag_offsets(&events)[0], 16);
    // A data offset below 9: assumed 9, or an error in strict mode.
    let mut short = BytesMut::from(&data[..]);
    short[8] = 5;
    let short = short.freeze();
    assert_eq!(whole(&short, ReaderOptions::default()).1, None);
    assert_eq!(
        whole(&short, ReaderOptions::default().strict(true)).1,
        Some(Error::DataOffset {
            offset: 5,
            data_offset: 5
        })
    );
}

#[test]
fn not_flv_and_empty() {
    let (_, error) = whole(
        &Bytes::from_static(b"\x00\x00\x00\x20ftypisom"),
        ReaderOptions::default(),
    );
    assert_eq!(
        error,
        Some(Error::NotFlv {
            offset: 0,
            found: [0, 0, 0]
        })
    );
    let (_, error) = whole(&Bytes::from_static(b"GI"), ReaderOptions::default());
    assert!(matches!(error, Some(Error::NotFlv { .. })));
    let (_, error) = whole(&Bytes::new(), ReaderOptions::default());
    assert!(matches!(error, Some(Error::Truncated { offset: 0, .. })));
    // A header and PreviousTagSize0 alone: an empty file, no error.
    let (events, error) = whole(
        &Bytes::from_static(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"),
        ReaderOptions::default(),
    );
    assert_eq!((events.len(), error), (1, None));
}

#[test]
fn unknown_tag_types_and_limits() {
    let data = fixture("h264_mp3.flv");
    let all = tags(&data);
    let mut odd = BytesMut::from(&data[..]);
    odd[all[1].offset as usize] = 0x0F; // type 15
    let odd = odd.freeze();
    let (events, error) = whole(&odd, ReaderOptions::default());
    assert_eq!(error, None);
    assert!(events
        .iter()
        .any(|e| matches!(e, ReadEvent::Tag(t) if t.tag_type == TagType::Other(15))));
    assert_eq!(
        whole(&odd, ReaderOptions::default().strict(true)).1,
        Some(Error::InvalidTagHeader {
            offset: all[1].offset,
            first_byte: 0x0F
        })
    );
    let (events, error) = whole(&odd, ReaderOptions::default().resync(true));
    assert_eq!(error, None);
    assert_eq!(tag_offsets(&events).len(), all.len() - 1);

    let big = all.iter().map(|t| t.body.len()).max().unwrap() as u32;
    let (events, error) = whole(&data, ReaderOptions::default().max_tag_size(big - 1));
    let at = all
        .iter()
        .find(|t| t.body.len() as u32 == big)
        .unwrap()
        .offset;
    assert_eq!(
        error,
        Some(Error::TagTooLarge {
            offset: at,
            size: big,
            limit: big - 1
        })
    );
    assert!(tag_offsets(&events).iter().all(|&o| o < at));
}

#[test]
fn headerless_stream_of_tags() {
    let data = fixture("h264_aac.flv");
    let (events, error) = whole(
        &data.slice(13..),
        ReaderOptions::default().expect_header(false),
    );
    assert_eq!(error, None);
    let offsets = tag_offsets(&events);
    let expected: Vec<u64> = tags(&data).iter().map(|t| t.offset - 13).collect();
    assert_eq!(offsets, expected);
}

fn tag_bytes(tag_type: u8, ts: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag_type];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&ts.to_be_bytes()[1..]);
    out.push((ts >> 24) as u8);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(body);
    out.extend_from_slice(&(body.len() as u32 + 11).to_be_bytes());
    out
}

#[test]
fn timestamps_unwrap_across_the_32_bit_wrap() {
    let mut file = b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    let raw = [
        0xFFFF_FF00u32,
        0xFFFF_FFE0,
        0x0000_0010,
        0xFFFF_FFF0,
        0x0000_0100,
        0x7000_0200,
    ];
    for ts in raw {
        file.extend(tag_bytes(9, ts, b"\x27\x01\x00\x00\x00\x01"));
    }
    let ts: Vec<i64> = tags(&Bytes::from(file))
        .iter()
        .map(|t| t.timestamp)
        .collect();
    let wrap = 1i64 << 32;
    assert_eq!(
        ts,
        [
            0xFFFF_FF00,
            0xFFFF_FFE0,
            wrap + 0x10,
            0xFFFF_FFF0,
            wrap + 0x100,
            wrap + 0x7000_0200
        ]
    );
}

#[test]
fn push_bytes_is_zero_copy() {
    let data = fixture("h264_aac.flv");
    let mut reader = Reader::new(ReaderOptions::default());
    reader.push_bytes(data.clone());
    reader.finish();
    let range = data.as_ptr_range();
    while let Some(event) = reader.next_event().unwrap() {
        if let ReadEvent::Tag(tag) = event {
            assert!(range.contains(&tag.body.as_ptr()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any split of the input gives the same events as the whole.
    #[test]
    fn splits_do_not_matter(file in 0..FIXTURES.len(), cuts in prop::collection::vec(any::<usize>(), 0..40), resync in any::<bool>()) {
        let data = fixture(FIXTURES[file]);
        let options = ReaderOptions::default().resync(resync);
        prop_assert_eq!(pushed(&data, &cuts, options), whole(&data, options));
    }

    /// Splits of a corrupted file too, in every mode.
    #[test]
    fn splits_of_corrupt_input(file in 0..FIXTURES.len(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
                               cuts in prop::collection::vec(any::<usize>(), 0..20), strict in any::<bool>(), resync in any::<bool>()) {
        let data = fixture(FIXTURES[file]);
        let mut broken = data.to_vec();
        for (at, value) in flips {
            let n = broken.len();
            broken[at % n] = value;
        }
        let options = ReaderOptions::default().strict(strict).resync(resync);
        let broken = Bytes::from(broken);
        prop_assert_eq!(pushed(&broken, &cuts, options), whole(&broken, options));
    }

    /// Arbitrary bytes never panic and always end.
    #[test]
    fn arbitrary_input(mut data in prop::collection::vec(any::<u8>(), 0..2000), resync in any::<bool>(), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        if data.len() > 13 { data[..3].copy_from_slice(b"FLV"); }
        let options = ReaderOptions::default().resync(resync).max_tag_size(1000);
        let data = Bytes::from(data);
        prop_assert_eq!(pushed(&data, &cuts, options), whole(&data, options));
    }
}
