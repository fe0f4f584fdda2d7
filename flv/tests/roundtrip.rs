//! Demux → mux → demux round trips on real files: the committed fixtures
//! (FFmpeg 9 remuxes, `tests/data/make.sh`) and, when present, the whole peer
//! corpus (`../shared/peers/make-corpus.sh`, FFmpeg 9 encodes).
//!
//! Two levels:
//! - **Tags**: every tag read is written back with [`Writer::write_tag`]; the
//!   output must be the input, byte for byte (FFmpeg writes PreviousTagSize
//!   as 11 + data size, stream id 0 and a 9-byte header, as this writer does),
//!   so reading it back gives identical tags.
//! - **Frames**: every media event of [`FrameReader`] is written back with
//!   [`Writer::write_media_event`] (`BodyForm::Auto`: FFmpeg 9's choice of
//!   legacy or Enhanced per codec), script tags as they are: the tag bodies
//!   must be FFmpeg's, byte for byte.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use flv::{
    read_all, FrameEvent, FrameReader, MediaEvent, Pieces, ReadEvent, Tag, Writer, WriterOptions,
};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    flv_files(&dir)
}

fn flv_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "flv"));
    files.sort();
    files
}

fn tags(data: Bytes) -> Vec<Tag> {
    read_all(data)
        .filter_map(|e| match e.expect("read") {
            ReadEvent::Tag(tag) => Some(tag),
            _ => None,
        })
        .collect()
}

/// Writes every tag back; returns the output.
fn remux_tags(data: &Bytes) -> Bytes {
    let mut writer = Writer::new(WriterOptions::default());
    let mut out = BytesMut::new();
    for event in read_all(data.clone()) {
        match event.expect("read") {
            ReadEvent::Header(header) => writer.write_header(&header, &mut out),
            ReadEvent::Tag(tag) => {
                writer.write_tag(&tag, &mut out).expect("write tag");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(writer.position(), out.len() as u64);
    out.freeze()
}

/// Writes every media event back from the frame view; returns the output.
fn remux_frames(data: &Bytes, out: &mut impl flv::Output) -> u64 {
    let mut writer = Writer::new(WriterOptions::default());
    for event in FrameReader::new(data.clone()) {
        match event.expect("read") {
            FrameEvent::Header(header) => writer.write_header(&header, out),
            FrameEvent::Media(event) => {
                writer
                    .write_media_event(&event, out)
                    .unwrap_or_else(|e| panic!("{e} writing {event:?}"));
            }
            FrameEvent::Script(tag) | FrameEvent::Other(tag) => {
                writer.write_tag(&tag, out).expect("write tag");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    writer.position()
}

/// The checks on one file; returns a one-line summary.
fn check(path: &Path) -> String {
    let data = Bytes::from(std::fs::read(path).expect("read file"));
    let name = path.file_name().unwrap().to_string_lossy();
    let original = tags(data.clone());

    let by_tags = remux_tags(&data);
    let again = tags(by_tags.clone());
    assert_eq!(again.len(), original.len(), "{name}: tag count");
    for (a, b) in original.iter().zip(&again) {
        assert_eq!(
            (a.tag_type, a.timestamp, a.raw_timestamp, &a.body),
            (b.tag_type, b.timestamp, b.raw_timestamp, &b.body),
            "{name}: tag at {}",
            a.offset
        );
    }
    assert!(by_tags == data, "{name}: tag remux is not byte-identical");

    let mut flat = BytesMut::new();
    let written = remux_frames(&data, &mut flat);
    assert_eq!(written, flat.len() as u64);
    let mut pieces = Pieces::new();
    remux_frames(&data, &mut pieces);
    let joined: Vec<u8> = pieces.take().concat();
    assert!(joined == flat[..], "{name}: Pieces and BytesMut differ");

    // The frame view drops what carries no event (empty frames, unknown
    // packet types); everything else must come back as FFmpeg wrote it.
    let by_frames = tags(flat.freeze());
    let kept: Vec<&Tag> = original.iter().filter(|t| has_event(t)).collect();
    assert_eq!(by_frames.len(), kept.len(), "{name}: tag count (frames)");
    for (a, b) in kept.iter().zip(&by_frames) {
        assert_eq!(
            (a.tag_type, a.timestamp, &a.body),
            (b.tag_type, b.timestamp, &b.body),
            "{name}: tag at {} rebuilt from its media event",
            a.offset
        );
    }
    let frames_identical = by_frames.len() == original.len() && joined == data[..];
    if kept.len() == original.len() {
        assert!(
            frames_identical,
            "{name}: frame remux is not byte-identical"
        );
    }
    format!(
        "{name}: {} tags byte-identical; {} rebuilt from frames identical ({} without an event)",
        original.len(),
        kept.len(),
        original.len() - kept.len()
    )
}

fn has_event(tag: &Tag) -> bool {
    match tag.tag_type {
        flv::TagType::Audio | flv::TagType::Video => flv::media_events(tag).next().is_some(),
        _ => true,
    }
}

#[test]
fn fixtures_round_trip() {
    let files = fixtures();
    assert!(files.len() >= 8, "fixtures missing");
    for path in files {
        eprintln!("{}", check(&path));
    }
}

#[test]
#[ignore = "needs the peer corpus (../shared/peers/make-corpus.sh /tmp/peers/corpus)"]
fn corpus_round_trip() {
    let dir = PathBuf::from(std::env::var("FLV_CORPUS").unwrap_or("/tmp/peers/corpus".into()));
    let files = flv_files(&dir);
    assert!(files.len() >= 15, "corpus missing at {}", dir.display());
    for path in files {
        eprintln!("{}", check(&path));
    }
}

/// The fixtures exercise every kind of event the writer rebuilds (the check
/// above compares them), here the Opus file's.
#[test]
fn fixtures_have_every_event_kind() {
    let data = Bytes::from(
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h264_opus.flv"))
            .unwrap(),
    );
    let mut kinds = std::collections::BTreeSet::new();
    for event in FrameReader::new(data) {
        if let FrameEvent::Media(event) = event.unwrap() {
            kinds.insert(match event {
                MediaEvent::Frame(_) => "frame",
                MediaEvent::Config(_) => "config",
                MediaEvent::EndOfSequence { .. } => "end",
                MediaEvent::Channels { .. } => "channels",
                _ => "other",
            });
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["channels", "config", "end", "frame"]
    );
}
