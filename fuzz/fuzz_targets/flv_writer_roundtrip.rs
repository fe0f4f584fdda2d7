//! `flv::Writer` against `flv::Reader`: the input is read as an FLV file
//! (lenient, with or without a header); every tag read is written back and
//! must read back identical (type, timestamp, stream id, filter bit, body),
//! and every media event the frame view finds that the writer accepts must
//! come back as the same event. Neither side may panic.
#![no_main]

use bytes::{Bytes, BytesMut};
use flv::{
    FrameEvent, FrameReader, MediaEvent, ReadEvent, ReaderOptions, Tag, Writer, WriterOptions,
};
use libfuzzer_sys::fuzz_target;

fn tags(data: Bytes, options: ReaderOptions) -> Vec<Tag> {
    flv::read_all_with(data, options)
        .map_while(Result::ok)
        .filter_map(|e| match e {
            ReadEvent::Tag(tag) => Some(tag),
            _ => None,
        })
        .collect()
}

/// A timestamp as a reader of the written tag alone sees it: the writer
/// writes 64-bit timestamps modulo 2^32 (documented), and a lone tag's is
/// placed as is.
fn wrap(ts: i64) -> i64 {
    ts.rem_euclid(1 << 32)
}

/// Drops the input offset, which differs between the input and the output,
/// and wraps the timestamps.
fn without_offset(event: MediaEvent) -> MediaEvent {
    match event {
        MediaEvent::Frame(mut f) => {
            f.offset = 0;
            f.pts = f.pts.wrapping_sub(f.dts).wrapping_add(wrap(f.dts));
            f.dts = wrap(f.dts);
            MediaEvent::Frame(f)
        }
        MediaEvent::Config(mut c) => {
            c.offset = 0;
            c.dts = wrap(c.dts);
            MediaEvent::Config(c)
        }
        MediaEvent::EndOfSequence {
            media,
            codec,
            track,
            dts,
            ..
        } => MediaEvent::EndOfSequence {
            media,
            codec,
            track,
            dts: wrap(dts),
            offset: 0,
        },
        MediaEvent::VideoMetadata {
            codec,
            track,
            dts,
            data,
            ..
        } => MediaEvent::VideoMetadata {
            codec,
            track,
            dts: wrap(dts),
            data,
            offset: 0,
        },
        MediaEvent::Channels {
            codec,
            track,
            dts,
            config,
            ..
        } => MediaEvent::Channels {
            codec,
            track,
            dts: wrap(dts),
            config,
            offset: 0,
        },
        MediaEvent::Command { command, dts, .. } => MediaEvent::Command {
            command,
            dts: wrap(dts),
            offset: 0,
        },
        other => other,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = Bytes::copy_from_slice(rest);
    let options = ReaderOptions::default().expect_header(mode & 1 == 0);

    // Tags: written back, read back identical.
    let original = tags(input.clone(), options);
    let mut writer = Writer::new(WriterOptions::default().keyframe_index(mode & 2 != 0));
    let mut out = BytesMut::new();
    for tag in &original {
        writer
            .write_tag(tag, &mut out)
            .expect("a tag read can be written");
    }
    assert_eq!(writer.position(), out.len() as u64);
    let again = tags(out.freeze(), ReaderOptions::default().expect_header(false));
    assert_eq!(again.len(), original.len());
    for (a, b) in original.iter().zip(&again) {
        assert_eq!(
            (a.tag_type, a.timestamp, a.stream_id, a.encrypted, &a.body),
            (b.tag_type, b.timestamp, b.stream_id, b.encrypted, &b.body)
        );
    }
    let _ = writer.finish(None);

    // Media events: each one the writer accepts comes back as itself.
    let form = match mode >> 2 & 3 {
        0 => flv::BodyForm::Auto,
        1 => flv::BodyForm::Legacy,
        _ => flv::BodyForm::Enhanced,
    };
    let mut writer = Writer::new(WriterOptions::default().form(form));
    for event in FrameReader::with_options(input, options).take(256) {
        let Ok(FrameEvent::Media(event)) = event else {
            continue;
        };
        let mut out = BytesMut::new();
        let before = writer.position();
        match writer.write_media_event(&event, &mut out) {
            Ok(_) => {
                let back: Vec<_> = FrameReader::with_options(
                    out.freeze(),
                    ReaderOptions::default().expect_header(false),
                )
                .collect();
                let expected = without_offset(event);
                let got: Vec<MediaEvent> = back
                    .into_iter()
                    .map(|e| match e.expect("written tag reads") {
                        FrameEvent::Media(m) => without_offset(m),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                assert_eq!(got, vec![expected]);
            }
            Err(_) => assert_eq!(writer.position(), before),
        }
    }
});
