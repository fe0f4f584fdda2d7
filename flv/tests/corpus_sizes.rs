//! Frame sizes and timestamps against FFmpeg 9's framemd5 of the peer corpus
//! (`../shared/peers/make-corpus.sh`), when it is there.

use std::collections::HashMap;
use std::path::PathBuf;

use md5::Digest as _;

use flv::{FrameEvent, FrameReader, MediaEvent, MediaType};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var("FLV_CORPUS").unwrap_or("/tmp/peers/corpus".into()));
    dir.join("MANIFEST.tsv").exists().then_some(dir)
}

type Packet = (i64, i64, usize, String);

/// Per media type: (dts, pts, size, md5) of each packet, as framemd5 lists them.
fn framemd5(text: &str) -> HashMap<MediaType, Vec<Packet>> {
    let mut media = HashMap::new();
    let mut out: HashMap<MediaType, Vec<_>> = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#media_type ") {
            let (index, kind) = rest.split_once(": ").unwrap();
            let kind = if kind == "video" {
                MediaType::Video
            } else {
                MediaType::Audio
            };
            media.insert(index.to_string(), kind);
        } else if !line.starts_with('#') {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let kind = media[f[0]];
            out.entry(kind).or_default().push((
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].to_string(),
            ));
        }
    }
    out
}

#[test]
#[ignore = "needs the peer corpus (../shared/peers/make-corpus.sh /tmp/peers/corpus)"]
fn frame_sizes_match_ffmpeg() {
    let Some(dir) = corpus() else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "flv") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path.with_extension("framemd5")) else {
            continue;
        };
        let expected = framemd5(&text);
        let data = bytes::Bytes::from(std::fs::read(&path).unwrap());
        let mut ours: HashMap<MediaType, Vec<Packet>> = HashMap::new();
        for event in FrameReader::new(data) {
            if let FrameEvent::Media(MediaEvent::Frame(frame)) = event.unwrap() {
                let md5 = format!("{:x}", md5::Md5::digest(&frame.data));
                ours.entry(frame.media).or_default().push((
                    frame.dts,
                    frame.pts,
                    frame.data.len(),
                    md5,
                ));
            }
        }
        for (media, list) in &expected {
            let got = ours.remove(media).unwrap_or_default();
            let sums = |l: &[Packet]| l.iter().map(|p| (p.2, p.3.clone())).collect::<Vec<_>>();
            assert_eq!(
                sums(&got),
                sums(list),
                "{} {media:?} sizes and MD5s",
                path.display()
            );
            // framemd5 without -copyts shifts every timestamp by one constant; the
            // FFmpeg CLI also clamps DTS that go backwards, so compare monotonic streams only.
            if got.windows(2).all(|w| w[0].0 <= w[1].0) {
                let shift = if std::env::var_os("FLV_COPYTS").is_some() {
                    0
                } else {
                    list[0].0 - got[0].0
                };
                for (a, b) in got.iter().zip(list) {
                    assert_eq!(
                        (a.0 + shift, a.1 + shift),
                        (b.0, b.1),
                        "{} {media:?} timestamps",
                        path.display()
                    );
                }
            }
        }
        assert!(
            ours.is_empty(),
            "{}: streams FFmpeg does not see",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} corpus files");
}
