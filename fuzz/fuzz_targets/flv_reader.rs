//! Arbitrary bytes through `flv::Reader` in arbitrary pieces, with and without
//! strict mode and resync: no panic, no hang, the same events as reading the
//! whole input at once, and every tag's media events parse without panicking.
#![no_main]

use bytes::Bytes;
use flv::{ReadEvent, Reader, ReaderOptions};

fn drain(reader: &mut Reader, out: &mut Vec<Result<ReadEvent, flv::Error>>) -> bool {
    loop {
        match reader.next_event() {
            Ok(Some(event)) => out.push(Ok(event)),
            Ok(None) => return true,
            Err(error) => {
                out.push(Err(error));
                return false;
            }
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let Some((&split_seed, rest)) = rest.split_first() else { return };
    let options = ReaderOptions::default()
        .strict(control & 1 != 0)
        .resync(control & 2 != 0)
        .expect_header(control & 4 == 0)
        .max_tag_size(if control & 8 != 0 { 64 } else { 1 << 20 });
    // Most inputs get a valid signature so the fuzzer reaches the tags.
    let mut input = rest.to_vec();
    if control & 16 == 0 && input.len() >= 3 && options.is_expect_header() {
        input[..3].copy_from_slice(b"FLV");
    }
    let input = Bytes::from(input);

    let whole: Vec<_> = flv::read_all_with(input.clone(), options).collect();

    let mut pieces = Vec::new();
    let mut reader = Reader::new(options);
    let mut pos = 0;
    let mut step = usize::from(split_seed % 37) + 1;
    let mut ok = true;
    while pos < input.len() && ok {
        let end = (pos + step).min(input.len());
        if step % 2 == 0 {
            reader.push_bytes(input.slice(pos..end));
        } else {
            reader.push(&input[pos..end]);
        }
        pos = end;
        step = step * 7 % 41 + 1;
        ok = drain(&mut reader, &mut pieces);
    }
    if ok {
        reader.finish();
        drain(&mut reader, &mut pieces);
    }
    assert_eq!(whole, pieces);

    for event in whole.into_iter().flatten() {
        if let ReadEvent::Tag(tag) = event {
            for media in flv::media_events(&tag) {
                if let Err(error) = media {
                    assert!(error.offset() >= tag.body_offset());
                }
            }
        }
    }
});
